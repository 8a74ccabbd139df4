"""Review decisions on the store: the queue of uncertain values, a person's decision on one, undo, and
pages a person identifies by hand.

Every decision is one transaction: the value changes only if nobody decided on it first (two reviewers
on one store never overwrite each other), and the audit log gets the field, old and new value, who and
when. The value as the machine read it is kept beside the reviewed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..qrpayload import PagePayload
from ..records import PageResult, PageState
from ..store import Store

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


@dataclass(frozen=True)
class SourcePage:
    """What a stored page was read from: the file (when still there, unchanged, it is read again) and
    the reduced image the store kept."""

    path: str
    sha256: str
    page_index: int  # 0-based
    stored_jpeg: bytes | None


# reads a stored page as the page a person says it is; the scanner supplies it (formkit never imports it)
PageReader = Callable[[SourcePage, PagePayload], PageResult]


def queue(store: Store, reviewer: str = "", limit: int = -1) -> list[Pending]:
    """Values waiting for review (at most ``limit``); values another reviewer has open come last."""
    return [Pending(**dict(r)) for r in store.review_queue(reviewer, limit)]


def pending(store: Store, value_id: int) -> Pending | None:
    row = store.waiting_value(value_id)
    return Pending(**dict(row)) if row else None


def claim(store: Store, value_id: int, reviewer: str) -> None:
    store.claim(value_id, reviewer, CLAIM_SECONDS)


def progress(store: Store) -> tuple[int, int]:
    """(values reviewed, values that needed review in all)."""
    return store.review_progress()


def decide(store: Store, value_id: int, action: str, new_value: str, reviewer: str, seen_value: str) -> str:
    """Record a decision; returns '' or why it was not recorded (someone else decided first, or the value
    changed since it was shown)."""
    if action not in ACTIONS:
        raise ValueError(action)
    return store.decide(value_id, action, new_value, reviewer, seen_value)


def undo(store: Store, reviewer: str) -> str:
    """Take back ``reviewer``'s latest decision that still stands; returns the field's name, or ''."""
    return store.undo(reviewer)


def batch_summary(store: Store) -> list[dict[str, Any]]:
    """Per folder of scanned files: pages by state, values flagged and values reviewed."""
    batches: dict[str, dict[str, Any]] = {}
    for r in store.page_counts():
        folder = str(Path(r["path"]).parent)
        b = batches.setdefault(folder, {"batch": folder, "pages": 0, "read": 0, "unreadable": 0, "flagged": 0,
                                        "reviewed": 0})
        b["pages"] += 1
        b["read" if PageState(r["status"]).was_read else "unreadable"] += 1
        b["flagged"] += r["flagged"]
        b["reviewed"] += r["reviewed"]
    return sorted(batches.values(), key=lambda b: b["batch"])


def unread_pages(store: Store) -> list[dict[str, Any]]:
    """Pages the scanner could not identify or read, with why: a person may say which form page each is."""
    return [dict(r) for r in store.unread_pages()]


def assign_page(store: Store, page_id: int, payload: PagePayload, reviewer: str, read_as: PageReader) -> str:
    """Read an unread page again as ``payload`` says it is; returns '' or why that failed."""
    row = store.page_source(page_id)
    if row is None or PageState(row["status"]) not in (PageState.UNIDENTIFIED, PageState.REJECTED):
        return "that page is not waiting to be identified"
    result = read_as(SourcePage(row["path"], row["sha256"], row["page_index"], row["image"]), payload)
    if result.status != PageState.READ:
        return f"read as {payload.form} page {payload.page}, the page could not be read: {result.reason}"
    store.replace_page(page_id, result, reviewer)
    return ""
