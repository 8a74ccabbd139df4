"""Review decisions when a page is read again or assigned elsewhere: whether one still answers the new
reading, keeping it, recording a dropped one whole and bringing it back. Each runs inside the caller's
transaction on the store's connection (``db``)."""

from __future__ import annotations

import json
from typing import Any

from ..records import FieldValue


def read_at_decision(row: Any) -> str:
    """What the machine read of a reviewed value (a ``field_values`` row) when the person decided it."""
    return row["machine_value"] if row["machine_value"] is not None else row["value"]


def decision_stands(row: Any, reading: str) -> bool:
    """Whether a person's decision on a value (a reviewed ``field_values`` row) still answers a new machine
    reading of its field: the machine reads what it read when the person decided, or what the person decided.
    Anything else means the ink is read otherwise now, and the decision may be about other ink. The one rule
    for re-reading (``reread_page``) and assigning (``replace_page``)."""
    return reading in (read_at_decision(row), row["value"])


def why_overtaken(row: Any, reading: FieldValue, how: str) -> str:
    """Why a value whose review decision (on ``row``) no longer stands goes to review again: the field,
    read again (``how``: "re-read", "assigned"), now reads otherwise; with the new reading's own reason."""
    seen = read_at_decision(row)
    decided = "" if row["value"] == seen else f" to {shown(row['value'])}"
    reason = (f"{how}: the value changed from {shown(seen)} to {shown(reading.value)} after review"
              f" ({row['review']}{decided} by {row['reviewed_by']})")
    return "; ".join(filter(None, [reason, reading.reason]))


def keep_decision(db: Any, row: Any, reading: FieldValue) -> None:
    """Keep the decision on ``row`` (value, review, machine value, id: undo still finds it), taking only the
    new reading's raw measures and crop, which show the ink as it is read now. Inside the caller's transaction."""
    db.execute("UPDATE field_values SET raw=?, crop=COALESCE(?, crop) WHERE id=?",
               (json.dumps(reading.raw, default=float), reading.crop_jpeg, row["id"]))


DECISION_COLUMNS = ("id", "field", "value", "reason", "machine_value", "review", "reviewed_by", "reviewed_at")


def decision_record(row: Any) -> dict[str, Any]:
    """A reviewed value as the audit log keeps a decision dropped by an assignment: enough to bring it back."""
    return {k: row[k] for k in DECISION_COLUMNS}


def dropped_when_it_left(db: Any, page_id: int, form: str, form_page: int) -> list[dict[str, Any]]:
    """The decisions dropped (``decision_record``) when page ``page_id`` was last assigned away from ``form``
    page ``form_page``: none if it never was, if it has been assigned back there since (they were offered
    back then: one undone since must stay undone), or if that assignment was logged before they were kept."""
    for entry in db.execute("SELECT detail FROM audit WHERE page_id=? AND action='assign-page' ORDER BY id DESC",
                            (page_id,)).fetchall():
        detail = json.loads(entry["detail"] or "{}")
        left, came = detail.get("old", {}), detail.get("new", {})
        if (left.get("form"), left.get("form_page")) == (form, form_page):
            return list(detail.get("decisions_dropped", []))
        if (came.get("form"), came.get("form_page")) == (form, form_page):
            return []
    return []


def restore_decision(db: Any, page_id: int, record: dict[str, Any], reading: FieldValue) -> None:
    """Put a decision dropped by an earlier assignment back on ``reading`` of page ``page_id``, with the
    new reading's kind, confidence, raw measures and crop (as ``keep_decision`` keeps one), under its old
    value id when that is free (so that undo still finds it). Inside the caller's transaction."""
    columns = ("page_id", "field", "kind", "value", "confidence", "needs_review", "reason", "raw", "crop",
               "machine_value", "review", "reviewed_by", "reviewed_at")
    values = (page_id, record["field"], reading.kind, record["value"], reading.confidence, 0, record["reason"],
              json.dumps(reading.raw, default=float), reading.crop_jpeg, record["machine_value"], record["review"],
              record["reviewed_by"], record["reviewed_at"])
    if db.execute("SELECT 1 FROM field_values WHERE id=?", (record["id"],)).fetchone() is None:
        columns, values = ("id", *columns), (record["id"], *values)
    db.execute(f"INSERT INTO field_values ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)


def shown(value: str | None) -> str:
    """A value in a message: quoted, '(blank)' when empty."""
    return f"'{value}'" if value else "(blank)"

