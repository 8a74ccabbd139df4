"""Review decisions on the store: the queue of uncertain values, a person's decision on one, undo.

Every decision is one transaction: the value changes only if nobody decided on it first (two reviewers
on one store never overwrite each other), and the audit log gets the field, old and new value, who and
when. The value as the machine read it is kept beside the reviewed one.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formkit.qrpayload import PagePayload

from .ingest import PageLoadError, file_sha256, load_page
from .pipeline import read_page_as
from .results import PageResult
from .store import Store, now

ACTIONS = ("accepted", "corrected", "blank", "illegible")
CLAIM_SECONDS = 120  # a field shown to one reviewer is not shown to another for this long


@dataclass(frozen=True)
class Pending:
    value_id: int
    page_id: int
    field: str
    kind: str
    value: str
    confidence: float
    reason: str
    form: str
    version: int
    variant: str
    form_page: int
    serial: str
    source_file: str
    source_page: int


QUEUE_SQL = (
    "SELECT v.id AS value_id, p.id AS page_id, v.field, v.kind, v.value, v.confidence, v.reason, p.form,"
    " p.version, p.variant, p.form_page, p.serial, i.path AS source_file, p.page_index + 1 AS source_page"
    " FROM field_values v JOIN pages p ON p.id=v.page_id JOIN inputs i ON i.id=p.input_id"
    " WHERE v.needs_review=1 AND v.review='' AND p.status='read'")


def queue(store: Store, reviewer: str = "", limit: int = -1) -> list[Pending]:
    """Values waiting for review (at most ``limit``), page by page in the order they were read; values
    another reviewer has open right now come last."""
    rows = store.db.execute(
        QUEUE_SQL + " ORDER BY (SELECT COUNT(*) FROM claims c WHERE c.value_id=v.id AND c.reviewer<>? AND c.until>?),"
        " p.id, v.id LIMIT ?", (reviewer, now(), limit)).fetchall()
    return [Pending(**dict(r)) for r in rows]


def pending(store: Store, value_id: int) -> Pending | None:
    row = store.db.execute(QUEUE_SQL + " AND v.id=?", (value_id,)).fetchone()
    return Pending(**dict(row)) if row else None


def claim(store: Store, value_id: int, reviewer: str) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS)).isoformat(timespec="seconds")
    with store.db:
        store.db.execute("INSERT OR REPLACE INTO claims (value_id, reviewer, until) VALUES (?,?,?)",
                         (value_id, reviewer, until))


def progress(store: Store) -> tuple[int, int]:
    """(values reviewed, values that needed review in all)."""
    done, left = store.db.execute(
        "SELECT SUM(v.review<>''), SUM(v.needs_review=1 AND v.review='') FROM field_values v"
        " JOIN pages p ON p.id=v.page_id WHERE p.status='read'").fetchone()
    return int(done or 0), int(done or 0) + int(left or 0)


def decide(store: Store, value_id: int, action: str, new_value: str, reviewer: str, seen_value: str) -> str:
    """Record a decision; returns '' or why it was not recorded (someone else decided first, or the value
    changed since it was shown)."""
    if action not in ACTIONS:
        raise ValueError(action)
    with store.db:
        row = store.db.execute("SELECT page_id, field, value, review, reviewed_by FROM field_values WHERE id=?",
                               (value_id,)).fetchone()
        if row is None:
            return "no such value"
        if row["review"]:
            return f"already reviewed by {row['reviewed_by']}"
        if row["value"] != seen_value:
            return "the value changed since it was shown"
        changed = store.db.execute(
            "UPDATE field_values SET machine_value=COALESCE(machine_value, value), value=?, needs_review=0,"
            " review=?, reviewed_by=?, reviewed_at=? WHERE id=? AND review=''",
            (new_value, action, reviewer, now(), value_id)).rowcount
        if changed != 1:
            return "already reviewed"
        store.db.execute("DELETE FROM claims WHERE value_id=?", (value_id,))
        store.audit(reviewer, f"review:{action}", row["page_id"], row["field"], row["value"], new_value,
                    json.dumps({"value_id": value_id}))
    return ""


def undo(store: Store, reviewer: str) -> str:
    """Take back ``reviewer``'s latest decision that still stands; returns the field's name, or ''."""
    with store.db:
        undone = {json.loads(r["detail"]).get("audit_id") for r in store.db.execute(
            "SELECT detail FROM audit WHERE actor=? AND action='undo'", (reviewer,))}
        for entry in store.db.execute("SELECT * FROM audit WHERE actor=? AND action LIKE 'review:%' ORDER BY id DESC",
                                      (reviewer,)).fetchall():
            if entry["id"] in undone:
                continue
            value_id = json.loads(entry["detail"])["value_id"]
            restored = store.db.execute(
                "UPDATE field_values SET value=?, needs_review=1, review='', reviewed_by='', reviewed_at=''"
                " WHERE id=? AND reviewed_by=? AND value=?",
                (entry["old_value"], value_id, reviewer, entry["new_value"])).rowcount
            if restored:
                store.audit(reviewer, "undo", entry["page_id"], entry["field"], entry["new_value"],
                            entry["old_value"], json.dumps({"audit_id": entry["id"], "value_id": value_id}))
                return str(entry["field"])
    return ""


def batch_summary(store: Store) -> list[dict[str, Any]]:
    """Per folder of scanned files: pages by status, values flagged and values reviewed."""
    rows = store.db.execute(
        "SELECT i.path, p.status, (SELECT COUNT(*) FROM field_values v WHERE v.page_id=p.id AND"
        " (v.needs_review=1 OR v.review<>'')) AS flagged, (SELECT COUNT(*) FROM field_values v WHERE"
        " v.page_id=p.id AND v.review<>'') AS reviewed FROM pages p JOIN inputs i ON i.id=p.input_id").fetchall()
    batches: dict[str, dict[str, Any]] = {}
    for r in rows:
        folder = str(Path(r["path"]).parent)
        b = batches.setdefault(folder, {"batch": folder, "pages": 0, "read": 0, "unreadable": 0, "flagged": 0,
                                        "reviewed": 0})
        b["pages"] += 1
        b["read" if r["status"] in ("read", "conflict") else "unreadable"] += 1
        b["flagged"] += r["flagged"]
        b["reviewed"] += r["reviewed"]
    return sorted(batches.values(), key=lambda b: b["batch"])


def unread_pages(store: Store) -> list[dict[str, Any]]:
    """Pages the scanner could not identify or read, with why: a person may say which form page each is."""
    return [dict(r) for r in store.db.execute(
        "SELECT p.id, i.path, p.page_index + 1 AS source_page, p.status, p.reason FROM pages p"
        " JOIN inputs i ON i.id=p.input_id WHERE p.status IN ('unidentified', 'rejected') AND p.image IS NOT NULL"
        " ORDER BY p.id")]


def assign_page(store: Store, page_id: int, payload: PagePayload, reviewer: str) -> str:
    """Read an unread page again as ``payload`` says it is; returns '' or why that failed. The source file
    is read again when it is still there unchanged, else the reduced image the store kept."""
    row = store.db.execute("SELECT p.status, p.page_index, p.image, i.path, i.sha256 FROM pages p"
                           " JOIN inputs i ON i.id=p.input_id WHERE p.id=?", (page_id,)).fetchone()
    if row is None or row["status"] not in ("unidentified", "rejected"):
        return "that page is not waiting to be identified"
    path = Path(row["path"])
    grey = None
    if path.is_file() and file_sha256(path) == row["sha256"]:
        with contextlib.suppress(PageLoadError):
            grey, _ = load_page(path, row["page_index"])
    if grey is None:
        grey = cv2.imdecode(np.frombuffer(row["image"], np.uint8), cv2.IMREAD_GRAYSCALE)
    result = read_page_as(grey, payload, PageResult(str(path), row["page_index"] + 1, row["sha256"], ""))
    if result.status != "read":
        return f"read as {payload.form} page {payload.page}, the page could not be read: {result.reason}"
    store.replace_page(page_id, result, reviewer)
    return ""
