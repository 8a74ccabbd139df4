"""Change across occasions: a person's first and latest valid score on a form, linked by their
pseudonymous code (printed from a roster, or written on the form). Names never reach this code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .compute import COMPLETE, PENDING, PRORATED, format_number

CHANGE_COLUMNS = ["person_code", "score", "occasions", "first_serial", "first_date", "first_value", "latest_serial",
                  "latest_date", "latest_value", "change", "status"]
USABLE = (COMPLETE, PRORATED)
T = TypeVar("T")


@dataclass(frozen=True)
class Occasion:
    person: str
    serial: str
    date: str  # ISO date, or '' when unknown
    order: int  # scan order, used when dates are missing
    value: float | None
    status: str
    date_waiting: bool = False  # the date written on the form waits for review: where it goes is not known
    # the person code written on the form waits for review (``person`` is ''): whose occasion it is is not known
    person_waiting: bool = False
    scored_as: int = 0  # the first template version whose rule for this score is this occasion's: alike, comparable


def in_order(occasions: Sequence[T], date: Callable[[T], str], order: Callable[[T], int]) -> list[T]:
    """A person's ``occasions`` in order: by the date written on the form (``date``, ISO, '' when none);
    one without a date goes after every occasion scanned before it (``order``), ties by scan order."""
    keys: dict[int, tuple[str, int]] = {}
    latest_before = ""
    for o in sorted(occasions, key=order):
        latest_before = max(latest_before, date(o))
        keys[id(o)] = (date(o) or latest_before, order(o))
    return sorted(occasions, key=lambda o: keys[id(o)])


def ends_settled(statuses: Sequence[str], dates_waiting: Sequence[bool]) -> tuple[bool, bool]:
    """Whether a person's first and latest usable occasions are known, their occasions' score statuses and
    whether each one's date waits for review given in order (``in_order``): not while an occasion waiting for
    review lies before the first usable one (or after the latest), nor while a usable or waiting occasion's
    date, and so its place, is unchecked."""
    usable = [i for i, s in enumerate(statuses) if s in USABLE]
    waiting = [i for i, s in enumerate(statuses) if s == PENDING]
    if any(d and (s in USABLE or s == PENDING) for s, d in zip(statuses, dates_waiting, strict=True)):
        return False, False
    if not waiting:
        return True, True
    if not usable:
        return False, False
    return waiting[0] > usable[0], waiting[-1] < usable[-1]


def ends_settled_among(own: Sequence[T], anyones: Sequence[T], date: Callable[[T], str], order: Callable[[T], int],
                       status: Callable[[T], str], date_waiting: Callable[[T], bool]) -> tuple[bool, bool]:
    """``ends_settled`` for a person's ``own`` occasions among ``anyones``: occasions whose written person code
    waits for review, so that each may be this person's; they count as waiting for review wherever they fall
    (``in_order``). An end is not settled either while an anyone's date moves which of the person's own usable
    occasions comes first or latest (an undated occasion goes after the dates scanned before it, theirs too).
    ``date``, ``order``, ``status`` and ``date_waiting`` read an occasion. The one rule for the export's change
    file and the report."""
    anyone = {id(o) for o in anyones}
    ordered = in_order([*own, *anyones], date, order)
    statuses = [PENDING if id(o) in anyone else status(o) for o in ordered]
    first, latest = ends_settled(statuses, [date_waiting(o) for o in ordered])
    among = [id(o) for o in ordered if id(o) not in anyone and status(o) in USABLE]
    alone = [id(o) for o in in_order(list(own), date, order) if status(o) in USABLE]
    return first and among[:1] == alone[:1], latest and among[-1:] == alone[-1:]


def change_rows(score_id: str, occasions: list[Occasion], decimals: int | None) -> list[dict[str, object]]:
    """One row per person with at least one occasion: first and latest usable values and their difference.
    Occasions are ordered by ``in_order`` (an undated one by scan order, and the status says so); the change
    waits for review while an occasion that could be the first or latest usable one does (``ends_settled``).
    An occasion whose written person code waits for review may be anyone's: it counts as waiting for review in
    every person's (and in no one's count of occasions) until a person reads the code."""
    by_person: dict[str, list[Occasion]] = {}
    for o in occasions:
        if o.person:
            by_person.setdefault(o.person, []).append(o)
    anyones = [o for o in occasions
               if not o.person and o.person_waiting and (o.status in USABLE or o.status == PENDING)]
    rows = []
    for person, unordered in sorted(by_person.items()):
        own = in_order(unordered, lambda o: o.date, lambda o: o.order)
        usable = [o for o in own if o.status in USABLE and o.value is not None]
        row: dict[str, object] = {"person_code": person, "score": score_id, "occasions": len(own)}
        notes = []
        if any(not o.date for o in own):
            notes.append("undated occasion(s) ordered by scan order")
        skipped = len(own) - len(usable)
        if not all(ends_settled([o.status for o in own], [o.date_waiting for o in own])):
            status = "pending-review: an occasion that may be the first or latest, or its date, awaits review"
        elif not all(ends_settled_among(own, anyones, lambda o: o.date, lambda o: o.order, lambda o: o.status,
                                        lambda o: o.date_waiting)):
            serials = ", ".join(o.serial for o in anyones)
            status = (f"pending-review: the person code of {serials} awaits review; that form may be this "
                      "person's first or latest")
        elif len(usable) < 2:
            status = f"invalid: {len(usable)} usable occasion(s); change needs two"
        elif usable[0].scored_as != usable[-1].scored_as:
            status = (f"invalid: the first and latest occasions are of template versions that compute {score_id} "
                      f"otherwise (as version {usable[0].scored_as} and as version {usable[-1].scored_as})")
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
