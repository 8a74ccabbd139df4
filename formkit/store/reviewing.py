"""The review queue and decisions: which values wait for a person, holding one for a reviewer, recording
a decision and taking it back, and finding the assignment by hand that made a page what it is, to take it
back; a part of ``Store`` (``formkit/store/__init__.py``)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..records import PageState
from .schema import QUEUE_ROWS, WAITING, now

ASSIGNED = "assign-page"  # the audit action of an assignment (``PageChanges.replace_page``)
UNASSIGNED = "unassign-page"  # one taken back: names it (``audit_id``) and the assignment that did it (``made``)
IDENTITY = ("form", "version", "variant", "form_page", "serial")  # what an assignment says a page is


@dataclass(frozen=True)
class Undone:
    """A decision taken back: its field and value (``field`` '' and ``value_id`` 0 when there was none)."""

    field: str = ""
    value_id: int = 0


@dataclass(frozen=True)
class Assigned:
    """An assignment by hand that still makes its page what it is: its audit entry (``audit_id``), who made
    it and when, and the page before and after it (``old`` and ``new``: status, reason, form, version,
    variant, form_page, serial, as the entry keeps them)."""

    audit_id: int
    page_id: int
    actor: str
    at: str
    old: dict[str, Any]
    new: dict[str, Any]


class Reviewing:
    """``Store``'s review queue and decisions, through the store's connection (``db``), write transaction
    (``_writing``) and audit log (``audit``)."""

    db: Any

    def review_queue(self, reviewer: str = "", limit: int = -1) -> list[sqlite3.Row]:
        """Values waiting for review (at most ``limit``), page by page in the order they were read; values
        another reviewer has open right now come last."""
        order = (" ORDER BY (SELECT COUNT(*) FROM claims c WHERE c.value_id=v.id AND c.reviewer<>? AND c.until>?),"
                 " p.id, v.id")
        if limit < 0:
            return self.db.execute(QUEUE_ROWS + order, (reviewer, now())).fetchall()
        return self.db.execute(QUEUE_ROWS + order + " LIMIT ?", (reviewer, now(), limit)).fetchall()

    def waiting_value(self, value_id: int) -> sqlite3.Row | None:
        """The value ``value_id`` if it is waiting for review."""
        return self.db.execute(QUEUE_ROWS + " AND v.id=?", (value_id,)).fetchone()

    def review_secret(self) -> bytes:
        """The key the review page signs its browser sessions with, made on first use and kept in the store:
        a page opened before ``formkit review`` was restarted still saves what was typed on it (each start
        drew a key of its own, and the value was lost). Whoever can read the store can read the key; they
        can change the store itself too."""
        query = "SELECT value FROM meta WHERE key='review-secret'"
        if (row := self.db.execute(query).fetchone()) is not None:  # no write lock to wait for, once made
            return bytes.fromhex(row[0])
        with self._writing() as db:
            if (row := db.execute(query).fetchone()) is not None:  # another server made it meanwhile
                return bytes.fromhex(row[0])
            key = secrets.token_hex(32)
            db.execute("INSERT INTO meta (key, value) VALUES ('review-secret', ?)", (key,))
            return bytes.fromhex(key)

    def claim(self, value_id: int, reviewer: str, seconds: int) -> str:
        """Hold a value for ``reviewer`` for ``seconds``: it is shown to others only after the rest. A value
        another reviewer holds stays theirs (they opened it first; their hold runs out unless they open it
        again): returns who that is, '' when the value is ``reviewer``'s now."""
        until = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")
        with self._writing() as db:
            held = db.execute("SELECT reviewer FROM claims WHERE value_id=? AND reviewer<>? AND until>?",
                              (value_id, reviewer, now())).fetchone()
            if held is not None:
                return str(held["reviewer"])
            db.execute("DELETE FROM claims WHERE value_id=?", (value_id,))
            db.execute("INSERT INTO claims (value_id, reviewer, until) VALUES (?,?,?)", (value_id, reviewer, until))
        return ""

    def review_progress(self) -> tuple[int, int]:
        """(values reviewed, values that needed review in all) on pages read."""
        done, left = self.db.execute(
            "SELECT SUM(CASE WHEN v.review<>'' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {WAITING} THEN 1 ELSE 0 END) FROM field_values v"
            " JOIN pages p ON p.id=v.page_id WHERE p.status=?", (PageState.READ.value,)).fetchone()
        return int(done or 0), int(done or 0) + int(left or 0)

    def decide(self, value_id: int, action: str, new_value: str, reviewer: str, seen_value: str) -> str:
        """Record a decision in one transaction; returns '' or why it was not recorded (someone else decided
        first, or the value changed since it was shown)."""
        with self._writing() as db:
            row = db.execute("SELECT page_id, field, value, needs_review, reason, review, reviewed_by FROM field_values"
                             " WHERE id=?", (value_id,)).fetchone()
            if row is None:
                return "no such value"
            if row["review"]:
                return f"already reviewed by {row['reviewed_by']}"
            if row["value"] != seen_value:
                return "the value changed since it was shown"
            changed = db.execute(
                "UPDATE field_values SET machine_value=COALESCE(machine_value, value), value=?, needs_review=0,"
                " review=?, reviewed_by=?, reviewed_at=? WHERE id=? AND review=''",
                (new_value, action, reviewer, now(), value_id)).rowcount
            if changed != 1:
                return "already reviewed"
            db.execute("DELETE FROM claims WHERE value_id=?", (value_id,))
            # what undo puts back: a value waiting only because another image reads it otherwise was not flagged
            self.audit(reviewer, f"review:{action}", row["page_id"], row["field"], row["value"], new_value,
                       json.dumps({"value_id": value_id, "needs_review": int(row["needs_review"]),
                                   "reason": row["reason"]}))
        return ""

    def undo(self, reviewer: str, after: int = 0) -> Undone:
        """Take back ``reviewer``'s latest decision that still stands on a page read now, of those audited
        after the audit entry ``after`` (0: any); returns which (empty when none). A decision on a page voided
        or superseded by another image since is passed over: taking it back would change nothing the reviewer
        can see, while the decision they meant stayed; it can be undone once the page is restored."""
        with self._writing() as db:
            undone = {json.loads(r["detail"]).get("audit_id") for r in db.execute(
                "SELECT detail FROM audit WHERE actor=? AND action='undo'", (reviewer,))}
            for entry in db.execute("SELECT * FROM audit WHERE actor=? AND action LIKE 'review:%' AND id>?"
                                    " ORDER BY id DESC", (reviewer, after)).fetchall():
                if entry["id"] in undone:
                    continue
                decided = json.loads(entry["detail"])
                value_id = decided["value_id"]
                restored = db.execute(
                    # the value is the machine's reading again, flagged as it was (decisions recorded before
                    # 2026-12-04 do not say: flagged); no record of the decision is left behind
                    # the same field of the same page too: an assignment brings a decision back under its old
                    # value id, which SQLite may have given another field meanwhile
                    "UPDATE field_values SET value=?, needs_review=?, reason=COALESCE(?, reason), machine_value=NULL,"
                    " review='', reviewed_by='', reviewed_at='' WHERE id=? AND reviewed_by=? AND value=?"
                    " AND page_id=? AND field=? AND page_id IN (SELECT id FROM pages WHERE status=?)",
                    (entry["old_value"], decided.get("needs_review", 1), decided.get("reason"), value_id, reviewer,
                     entry["new_value"], entry["page_id"], entry["field"], PageState.READ.value)).rowcount
                if restored:
                    self.audit(reviewer, "undo", entry["page_id"], entry["field"], entry["new_value"],
                               entry["old_value"], json.dumps({"audit_id": entry["id"], "value_id": value_id}))
                    return Undone(str(entry["field"]), int(value_id))
        return Undone()

    def standing_assignment(self, page_id: int, passed: set[int] | None = None) -> Assigned | None:
        """The assignment by hand that made page ``page_id`` what it is now, for a person to take back: the
        latest one on it neither taken back nor made by taking one back (``passed``, when the caller has them),
        while the page is not voided and is still the form page and serial it made (read, or a conflict);
        else ``None`` (never assigned, voided, or changed since by other means)."""
        page = self.db.execute("SELECT status, form, version, variant, form_page, serial FROM pages WHERE id=?",
                               (page_id,)).fetchone()
        if page is None or page["status"] == PageState.VOIDED:
            return None
        passed = self._assignments_taken_back() if passed is None else passed
        for entry in self.db.execute("SELECT id, actor, at, detail FROM audit WHERE page_id=? AND action=?"
                                     " ORDER BY id DESC", (page_id, ASSIGNED)).fetchall():
            if entry["id"] in passed:
                continue
            detail = json.loads(entry["detail"] or "{}")
            old, new = detail.get("old", {}), detail.get("new", {})
            # read or conflict: which of two images is the reading changes when the other is voided or assigned
            same_state = PageState(page["status"]).was_read and new.get("status") in ("read", "conflict")
            if not same_state or any(page[k] != new.get(k) for k in IDENTITY):
                return None
            return Assigned(int(entry["id"]), page_id, str(entry["actor"]), str(entry["at"]), old, new)
        return None

    def own_standing_assignment(self, reviewer: str) -> Assigned | None:
        """``reviewer``'s latest assignment by hand that still stands (``standing_assignment``), or ``None``."""
        passed = self._assignments_taken_back()
        for entry in self.db.execute("SELECT id, page_id FROM audit WHERE actor=? AND action=? ORDER BY id DESC",
                                     (reviewer, ASSIGNED)).fetchall():
            if entry["id"] in passed or entry["page_id"] is None:
                continue
            found = self.standing_assignment(int(entry["page_id"]), passed)
            if found is not None and found.audit_id == entry["id"]:
                return found
        return None

    def recent_assignments(self, limit: int) -> list[Assigned]:
        """The latest ``limit`` assignments by hand that still stand, newest first, one a page."""
        found: list[Assigned] = []
        seen: set[int] = set()
        passed = self._assignments_taken_back()
        for entry in self.db.execute("SELECT page_id FROM audit WHERE action=? AND page_id IS NOT NULL"
                                     " ORDER BY id DESC", (ASSIGNED,)).fetchall():
            if len(found) >= limit:
                break
            if entry["page_id"] in seen:
                continue
            seen.add(entry["page_id"])
            if (assigned := self.standing_assignment(int(entry["page_id"]), passed)) is not None:
                found.append(assigned)
        return found

    def record_taken_back(self, actor: str, assigned: Assigned, made: int | None, was: str, now_is: str) -> None:
        """Audit that ``actor`` took back the assignment ``assigned`` (``unassign-page``), naming the entry of
        the assignment that put the page back (``made``; ``None`` when none was logged): neither is taken
        back again by undo or offered as the page's assignment. ``was`` and ``now_is``: the page as the
        assignment made it, and as it is again."""
        with self._writing():
            self.audit(actor, UNASSIGNED, assigned.page_id, old=was, new=now_is,
                       detail=json.dumps({"audit_id": assigned.audit_id, "made": made, "by": assigned.actor}))

    def latest_assignment_entry(self, page_id: int) -> int | None:
        """The id of the latest assignment entry in the audit log for page ``page_id``."""
        row = self.db.execute("SELECT MAX(id) FROM audit WHERE page_id=? AND action=?", (page_id, ASSIGNED)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def _assignments_taken_back(self) -> set[int]:
        """Ids of assignment entries taken back, or made by taking one back: neither is one to take back."""
        marks: set[int] = set()
        for row in self.db.execute("SELECT detail FROM audit WHERE action=?", (UNASSIGNED,)):
            detail = json.loads(row["detail"] or "{}")
            marks.update(int(i) for i in (detail.get("audit_id"), detail.get("made")) if i)
        return marks
