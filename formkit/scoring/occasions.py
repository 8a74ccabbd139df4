"""Change across occasions: a person's first and latest valid score on a form, linked by their
pseudonymous code (printed from a roster, or written on the form). Names never reach this code."""

from __future__ import annotations

from dataclasses import dataclass

from .compute import COMPLETE, PENDING, PRORATED, format_number

CHANGE_COLUMNS = ["person_code", "score", "occasions", "first_serial", "first_date", "first_value", "latest_serial",
                  "latest_date", "latest_value", "change", "status"]


@dataclass(frozen=True)
class Occasion:
    person: str
    serial: str
    date: str  # ISO date, or '' when unknown
    order: int  # scan order, used when dates are missing
    value: float | None
    status: str


def change_rows(score_id: str, occasions: list[Occasion], decimals: int | None) -> list[dict[str, object]]:
    """One row per person with at least one occasion: first and latest usable values and their difference.
    Occasions are ordered by date, then by scan order; an undated occasion is ordered by scan order alone and
    the status says so."""
    by_person: dict[str, list[Occasion]] = {}
    for o in occasions:
        if o.person:
            by_person.setdefault(o.person, []).append(o)
    rows = []
    for person, own in sorted(by_person.items()):
        own.sort(key=lambda o: (o.date or "9999", o.order))
        usable = [o for o in own if o.status in (COMPLETE, PRORATED) and o.value is not None]
        row: dict[str, object] = {"person_code": person, "score": score_id, "occasions": len(own)}
        notes = []
        if any(not o.date for o in own):
            notes.append("undated occasion(s) ordered by scan order")
        skipped = len(own) - len(usable)
        if own[-1].status == PENDING or (usable and own[0] is not usable[0] and own[0].status == PENDING):
            status = "pending-review: the first or latest occasion awaits review"
        elif len(usable) < 2:
            status = f"invalid: {len(usable)} usable occasion(s); change needs two"
        else:
            first, latest = usable[0], usable[-1]
            assert first.value is not None and latest.value is not None
            row.update(first_serial=first.serial, first_date=first.date,
                       first_value=format_number(first.value, decimals), latest_serial=latest.serial,
                       latest_date=latest.date, latest_value=format_number(latest.value, decimals),
                       change=format_number(latest.value - first.value, decimals))
            status = "complete"
            if skipped:
                notes.append(f"{skipped} occasion(s) without a usable score left out")
        row["status"] = "; ".join([status, *notes])
        rows.append(row)
    return rows
