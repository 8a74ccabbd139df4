"""Changes to pages already stored: assigning, voiding and restoring, re-reading, and judging each printed
form again (its respondent's fill convention, its dates across pages); a part of ``Store``
(``formkit/store/__init__.py``).

Pages read of one printed page. Among the pages read of one (form, serial, form page), exactly one is
``read`` and the others are ``conflict`` with it (``conflict_of``): the first read stays ``read``; when it
leaves (voided, or assigned to another form page), the earliest of its conflicts becomes ``read`` in its
place (``_settle``), and the respondent's fill convention is decided again.

Voiding. A person takes a page, or every page of an input, out of every export, queue, conflict and
fill-convention decision with ``void_pages``; nothing is deleted. A voided page has the state
``PageState.VOIDED``, its reason says why, and the columns ``voided_status`` and ``voided_reason`` keep the
state and reason it had, so ``restore_pages`` puts it back as it was (a page that was ``read`` is ``read``
again, and the page that took its place is a ``conflict`` again). A value the page in its place reads
otherwise than a person decided on the page voided waits for review, saying so. Every query that serves
export, review or the fill convention selects pages by state (``read``, or ``read`` and ``conflict``), so a
voided page is in none of them. Both are audited (``void-page``, ``restore-page``, and ``page-state`` for
each page whose state follows), in one transaction.

Reassigning. ``replace_page`` reads any page that is not voided as the form page a person names: its old
and new form, page and serial go to the audit log (``assign-page``), and both printed pages are settled.
A review decision on the page stands when its field is still a field of the same form and the new reading
passes the re-reading's rule (``decision_stands``); the others are dropped, and the log names both and
keeps the dropped ones whole (``decisions_dropped``): when the page is assigned back to the form page they
were made on, those that pass the same rule come back (a mistaken assignment undone loses nothing).

Re-reading. ``reread_page`` puts a new reading of a page read in place of the old one, value by value: a
reviewed value keeps its decision when the machine reads what it read before (or what the reviewer
decided, ``decision_stands``); otherwise it is flagged again, saying what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from .. import conventions
from ..records import PageResult, PageState, flagged
from ..serial import format_serial
from .decisions import (
    decision_record,
    decision_stands,
    dropped_when_it_left,
    keep_decision,
    read_at_decision,
    restore_decision,
    shown,
    why_overtaken,
)
from .schema import CONFLICT_REASON, READ_STATES, now


@dataclass(frozen=True)
class StateChange:
    """A page whose state changed, and from and to what."""

    page_id: int
    old: PageState
    new: PageState


@dataclass(frozen=True)
class Reassigned:
    """What assigning a page to a form page did: the pages whose state changed, and the fields whose review
    decision was kept or dropped (each with the value the reviewer decided)."""

    changes: list[StateChange]
    kept: dict[str, str]
    dropped: dict[str, str]
    restored: dict[str, str] = field(default_factory=dict)  # dropped when the page last left this form page


@dataclass
class RereadOutcome:
    """What re-reading one page changed: values that took a new reading, reviewed values whose decision
    stands, reviewed values flagged again because the machine now reads something else."""

    page_id: int
    changed: int = 0
    kept: int = 0
    flagged_again: int = 0


class PageChanges:
    """``Store``'s changes to pages already stored. It works through the store's connection (``db``), its
    write transaction (``_writing``), its audit log (``audit``) and ``_insert_values``."""

    db: Any

    def replace_page(self, page_id: int, result: PageResult, actor: str) -> Reassigned:
        """Put a new reading in place of a page a person said is another form page (an unidentified page,
        or one read as the wrong form, page or serial): the page keeps its id and source; its values are
        replaced, except that a review decision stands when its field is a field of the same form again and
        the new reading passes ``decision_stands`` (a page assigned to a wrong serial by mistake and then
        back keeps what people decided about its ink; a decision on another form's field, or another page
        number's, is never carried over); where the field is read otherwise now, its new reading goes to
        review, as a re-read's does. Decisions dropped when the page last left the form page it is now
        assigned to come back by the same rule (``dropped_when_it_left``). Its old and new form, page and
        serial, and the decisions kept, dropped (whole) and brought back, go to the audit log. A page read of a
        printed page already read becomes a conflict with it; the printed page it leaves gets another reading
        as its ``read`` one if it has any. Returns the pages whose state changed and the decisions kept,
        dropped and brought back. A voided page is refused
        (``ValueError``): restore it first. A page that was one of several in its image keeps its outline
        there (``region_of``, ``region_px`` in its quality) where the new reading does not give it: it is
        still that part of that image, to be read or assigned again on its own."""
        changes: list[StateChange] = []
        with self._writing() as db:
            old = db.execute("SELECT * FROM pages WHERE id=?", (page_id,)).fetchone()
            if old is None:
                raise ValueError(f"no page {page_id}")
            if old["status"] == PageState.VOIDED:
                raise ValueError(f"page {page_id} is voided")
            outline = {k: v for k, v in json.loads(old["quality"] or "{}").items() if k in ("region_of", "region_px")}
            quality = {**outline, **result.quality}
            state, reason, conflict_of = PageState(result.status), result.reason, None
            if state is PageState.READ:
                first = db.execute(
                    "SELECT id FROM pages WHERE form=? AND serial=? AND form_page=? AND status=? AND id<>?"
                    " ORDER BY id LIMIT 1",
                    (result.form, result.serial, result.form_page, PageState.READ.value, page_id)).fetchone()
                if first is not None:
                    state, conflict_of = PageState.CONFLICT, int(first[0])
                    reason = CONFLICT_REASON.format(conflict_of)
            db.execute(
                "UPDATE pages SET status=?, reason=?, form=?, version=?, variant=?, form_page=?, serial=?, transform=?,"
                " error_mm=?, quality=?, image=COALESCE(?, image), conflict_of=?, read_at=? WHERE id=?",
                (state.value, reason, result.form, result.version, result.variant,
                 result.form_page, result.serial, json.dumps(result.transform) if result.transform else None,
                 result.error_mm, json.dumps(quality, default=str), result.image_jpeg, conflict_of, now(),
                 page_id))
            old_values = db.execute("SELECT * FROM field_values WHERE page_id=?", (page_id,)).fetchall()
            reviewed = [r for r in old_values if r["review"]]
            new_readings = {v.field: v for v in result.values}
            # a field id names a question only within its form: another form's field of that name is another one
            readings = new_readings if old["form"] == result.form else {}
            standing = [r for r in reviewed
                        if r["field"] in readings and decision_stands(r, readings[r["field"]].value)]
            kept = {r["field"]: r["value"] for r in standing}
            dropped_rows = [r for r in reviewed if r["field"] not in kept]
            dropped = {r["field"]: r["value"] for r in dropped_rows}
            # decisions dropped when the page last left this very form page (assigned elsewhere by mistake)
            # (a decision made since on the same question, kept or not, is the newer one)
            decided_since = {r["field"] for r in reviewed if r["field"] in readings}
            earlier = [r for r in dropped_when_it_left(db, page_id, result.form, result.form_page)
                       if r["field"] in new_readings and r["field"] not in decided_since]
            back = [r for r in earlier if decision_stands(r, new_readings[r["field"]].value)]
            restored = {r["field"]: r["value"] for r in back}
            db.execute("DELETE FROM claims WHERE value_id IN (SELECT id FROM field_values WHERE page_id=?)", (page_id,))
            db.executemany("DELETE FROM field_values WHERE id=?",
                           [(r["id"],) for r in old_values if r["field"] not in kept])
            for row in standing:
                keep_decision(db, row, readings[row["field"]])
            for row in back:
                restore_decision(db, page_id, row, new_readings[row["field"]])
            # a decision overtaken on the same question sends its new reading to review, as a re-read does
            overtaken = {r["field"]: r for r in earlier if r["field"] not in restored}
            overtaken |= {r["field"]: r for r in reviewed if r["field"] in readings and r["field"] not in kept}
            values = [replace(v, needs_review=True, reason=why_overtaken(overtaken[v.field], v, "assigned"))
                      if v.field in overtaken else v for v in result.values if v.field not in kept | restored]
            self._insert_values(page_id, replace(result, values=values))
            before = {k: old[k] for k in ("status", "reason", "form", "version", "variant", "form_page", "serial")}
            after = {"status": state.value, "reason": reason, "form": result.form, "version": result.version,
                     "variant": result.variant, "form_page": result.form_page, "serial": result.serial}
            self.audit(actor, "assign-page", page_id, old=_identity(before), new=_identity(after),
                       detail=json.dumps({"old": before, "new": after, "values": len(result.values),
                                          "reviews_kept": kept, "reviews_restored": restored,
                                          "reviews_dropped": dropped,
                                          "decisions_dropped": [decision_record(r) for r in dropped_rows]}))
            if PageState(old["status"]).was_read:
                self._settle(old["form"], old["serial"], old["form_page"], actor, changes)
                self._judge_form_again(old["form"], old["serial"], actor)
            if state is PageState.CONFLICT and (old["form"], old["serial"], old["form_page"]) != (
                    result.form, result.serial, result.form_page):
                self._flag_decisions_before_image(conflict_of, page_id, actor)
            if state.was_read:
                self._judge_form_again(result.form, result.serial, actor)
            if state.value != old["status"]:
                changes.insert(0, StateChange(page_id, PageState(old["status"]), state))
        return Reassigned(changes, kept, dropped, restored)

    def void_pages(self, page_ids: list[int], why: str, actor: str) -> list[StateChange]:
        """Take pages out of every export, queue, conflict and fill-convention decision, keeping them (and
        the state each had) for ``restore_pages``; pages already voided are left alone. A page read that
        leaves has its earliest conflict read in its place, its values that a person decided otherwise on the
        page that left waiting for review (``_flag_decisions_left``, through ``_decide_fill_convention``).
        Returns every page whose state changed."""
        changes: list[StateChange] = []
        with self._writing() as db:
            touched: dict[tuple[str, str, int], None] = {}
            for page_id in page_ids:
                row = db.execute("SELECT id, status, reason, form, serial, form_page FROM pages WHERE id=?",
                                 (page_id,)).fetchone()
                if row is None or row["status"] == PageState.VOIDED:
                    continue
                db.execute("UPDATE pages SET status=?, reason=?, voided_status=?, voided_reason=? WHERE id=?",
                           (PageState.VOIDED.value, f"voided: {why}", row["status"], row["reason"], page_id))
                self.audit(actor, "void-page", page_id, old=f"{row['status']}: {row['reason']}".rstrip(": "),
                           new=PageState.VOIDED.value, detail=json.dumps({"why": why}))
                changes.append(StateChange(page_id, PageState(row["status"]), PageState.VOIDED))
                if PageState(row["status"]).was_read:
                    touched[(row["form"], row["serial"], row["form_page"])] = None
            self._settle_all(touched, actor, changes)
        return changes

    def _flag_overtaken_decisions(self, form: str, serial: str, actor: str) -> None:
        """A value decided on the page read of ``form`` and ``serial`` that another image of its page carries a
        later decision on, otherwise (made while this page was voided or assigned away, before it came back),
        waits for review again, saying both: the export carried the earlier decision while the later one sat
        unseen on a conflict. The earlier decision is cleared (kept whole in the ``flag-value`` entry; undo
        passes over it); the value shown is the one it decided. Inside the caller's transaction."""
        rows = self.db.execute(
            "SELECT v.id, v.page_id, v.field, v.value, v.review, v.reviewed_by, v.reviewed_at, c.id AS later_page,"
            " o.value AS later_value, o.review AS later_review, o.reviewed_by AS later_by, o.reviewed_at AS later_at"
            " FROM pages p JOIN field_values v ON v.page_id=p.id JOIN pages c ON c.form=p.form AND c.serial=p.serial"
            " AND c.form_page=p.form_page AND c.status=? JOIN field_values o ON o.page_id=c.id AND o.field=v.field"
            " WHERE p.form=? AND p.serial=? AND p.status=? AND v.review<>'' AND o.review<>''"
            " AND o.reviewed_at>v.reviewed_at ORDER BY v.id, o.reviewed_at DESC",
            (PageState.CONFLICT.value, form, serial, PageState.READ.value)).fetchall()
        flagged: set[int] = set()
        for r in rows:
            if _same_decision(r["value"], r["review"], r["later_value"], r["later_review"]) or r["id"] in flagged:
                continue
            flagged.add(r["id"])
            why = (f"{r['later_by']} decided {_decided(r['later_value'], r['later_review'])} on page "
                   f"{r['later_page']}, another image of this page, after {r['reviewed_by']} decided "
                   f"{_decided(r['value'], r['review'])} on this one")
            later = {"value": r["later_value"], "review": r["later_review"], "reviewed_by": r["later_by"],
                     "reviewed_at": r["later_at"]}
            self._reopen_decision(r, int(r["page_id"]), why, actor, later_on=int(r["later_page"]), later=later)

    def _reopen_decision(self, r: Any, page_id: int, why: str, actor: str, **about: Any) -> None:
        """Value ``r`` (its id, field, value and decision) of page ``page_id`` waits for review again, ``why``;
        its decision is cleared, kept whole in the ``flag-value`` entry with ``about`` (undo passes over it)."""
        self.db.execute("UPDATE field_values SET needs_review=1, reason=?, review='', reviewed_by='',"
                        " reviewed_at='' WHERE id=?", (why, r["id"]))
        cleared = {"review": r["review"], "reviewed_by": r["reviewed_by"], "reviewed_at": r["reviewed_at"]}
        self.audit(actor, "flag-value", page_id, r["field"], r["value"], r["value"],
                   detail=json.dumps({"reason": why, "decision_cleared": cleared, **about}))

    def _flag_decisions_before_image(self, read_id: int, image_id: int, actor: str) -> None:
        """Page ``image_id`` has just come in (scanned, or assigned) as another image of the printed page read
        as ``read_id``: each value a person decided on ``read_id`` that it reads otherwise waits for review
        again, saying both. The decision was made on an image that disagreed with nothing, and the export
        carried it past an image nobody had seen (a second scan reading 5 where the person accepted 3); one made
        once this image is in (the value's reason names it) stands. The decision is cleared as
        ``_flag_overtaken_decisions`` clears one; the value shown is the one it decided. Inside the caller's
        transaction."""
        rows = self.db.execute(
            "SELECT v.id, v.field, v.value, v.review, v.reviewed_by, v.reviewed_at, o.value AS other_value"
            " FROM field_values v JOIN field_values o ON o.page_id=? AND o.field=v.field"
            " WHERE v.page_id=? AND v.review<>'' ORDER BY v.id", (image_id, read_id)).fetchall()
        printed = self.db.execute("SELECT form, serial, form_page FROM pages WHERE id=?", (read_id,)).fetchone()
        for r in rows:
            if _same_decision(r["value"], r["review"], r["other_value"], "") or _was_image_of(
                    self.db, image_id, (printed["form"], printed["serial"], printed["form_page"]), r["reviewed_at"]):
                continue
            why = (f"{r['reviewed_by']} decided {_decided(r['value'], r['review'])} on this image before another "
                   f"image of this page came in (page {image_id}), which reads {shown(r['other_value'])}")
            self._reopen_decision(r, read_id, why, actor, other_image=image_id, other_value=r["other_value"])

    def _voided_and_read(self, form: str, serial: str) -> list[tuple[int, int]]:
        """(page voided while it was the one read, the page read now) of each form page of ``form`` and
        ``serial`` that has both."""
        return [(int(r["voided_id"]), int(r["read_id"])) for r in self.db.execute(
            "SELECT o.id AS voided_id, r.id AS read_id FROM pages r JOIN pages o ON o.form=r.form"
            " AND o.serial=r.serial AND o.form_page=r.form_page WHERE r.form=? AND r.serial=? AND r.status=?"
            " AND o.status=? AND o.voided_status=? ORDER BY o.id",
            (form, serial, PageState.READ.value, PageState.VOIDED.value, PageState.READ.value))]

    def _decisions_left(self, left_id: int, read_id: int) -> list[tuple[Any, str, str]]:
        """Each value of page ``read_id`` not reviewed that a person decided otherwise on page ``left_id``,
        voided: (the value's row, why it waits for review, the value decided)."""
        decided = {r["field"]: r for r in self.db.execute(
            "SELECT field, value, review, reviewed_by FROM field_values WHERE page_id=? AND review<>''", (left_id,))}
        if not decided:
            return []
        found = []
        for row in self.db.execute("SELECT id, field, value, needs_review, reason, review FROM field_values"
                                   " WHERE page_id=?", (read_id,)).fetchall():
            made = decided.get(row["field"])
            if made is None or row["review"] or _same_decision(row["value"], "", made["value"], made["review"]):
                continue  # not decided there, decided here too, or the same value
            what = _decided(made["value"], made["review"])
            found.append((row, f"{made['reviewed_by']} decided {what} on page {left_id}, voided since; this image "
                               f"reads {shown(row['value'])}", made["value"]))
        return found

    def _flag_decisions_left(self, left_id: int, read_id: int, actor: str) -> None:
        """Values a person decided on page ``left_id``, voided, that the image read in its place (``read_id``)
        reads otherwise wait for review, saying what was decided. Two images of a page were shown side by side
        where they disagreed: the image left alone read 5 at full confidence where the person, seeing both,
        decided 4, and was exported as 5 unflagged. Inside the caller's transaction; each flag audited."""
        for row, why, decided in self._decisions_left(left_id, read_id):
            if row["needs_review"] and why in row["reason"]:
                continue  # flagged so already (when the page was voided, or since)
            reason = f"{row['reason']}; {why}" if row["needs_review"] and row["reason"] else why
            self.db.execute("UPDATE field_values SET needs_review=1, reason=? WHERE id=?", (reason, row["id"]))
            self.audit(actor, "flag-value", read_id, row["field"], row["value"], row["value"],
                       detail=json.dumps({"decided_on": left_id, "decided": decided, "reason": why}))

    def make_read(self, page_id: int, actor: str) -> list[StateChange]:
        """Make page ``page_id``, a conflict, the page read of its printed page, and the page read now a conflict
        with it (``_settle``, audited): an assignment taken back puts a page that was the one read back as that,
        not as a conflict with the image read in its place meanwhile, whose readings the export would carry
        while the decisions on this one waited unseen. A page not a conflict is left alone. Returns the pages
        whose state changed."""
        changes: list[StateChange] = []
        with self._writing() as db:
            row = db.execute("SELECT status, form, serial, form_page FROM pages WHERE id=?", (page_id,)).fetchone()
            if row is not None and row["status"] == PageState.CONFLICT:
                self._settle_all({(row["form"], row["serial"], row["form_page"]): page_id}, actor, changes)
        return changes

    def restore_pages(self, page_ids: list[int], actor: str) -> list[StateChange]:
        """Undo ``void_pages``: each voided page gets back the state and reason it had; a page that was the
        ``read`` one of its printed page is again, and the page read in its place is a conflict again."""
        changes: list[StateChange] = []
        with self._writing() as db:
            touched: dict[tuple[str, str, int], int | None] = {}
            for page_id in page_ids:
                row = db.execute("SELECT id, reason, form, serial, form_page, voided_status, voided_reason FROM pages"
                                 " WHERE id=? AND status=?", (page_id, PageState.VOIDED.value)).fetchone()
                if row is None:
                    continue
                state = PageState(row["voided_status"])
                db.execute("UPDATE pages SET status=?, reason=?, voided_status='', voided_reason='' WHERE id=?",
                           (state.value, row["voided_reason"], page_id))
                self.audit(actor, "restore-page", page_id, old=row["reason"],
                           new=f"{state.value}: {row['voided_reason']}".rstrip(": "))
                changes.append(StateChange(page_id, PageState.VOIDED, state))
                if state.was_read:
                    key = (row["form"], row["serial"], row["form_page"])
                    touched[key] = page_id if state is PageState.READ else touched.get(key)
            self._settle_all(touched, actor, changes)
        return changes

    def _settle_all(self, keys: dict[tuple[str, str, int], int | None], actor: str,
                    changes: list[StateChange]) -> None:
        """``_settle`` each printed page (with the page preferred as its reading, if any), then judge each
        printed form again (``_judge_form_again``). Inside the caller's transaction."""
        for (form, serial, form_page), preferred in keys.items():
            self._settle(form, serial, form_page, actor, changes, preferred)
        for form, serial in dict.fromkeys((form, serial) for form, serial, _ in keys):
            self._judge_form_again(form, serial, actor)

    def _settle(self, form: str, serial: str, form_page: int, actor: str, changes: list[StateChange],
                preferred: int | None = None) -> None:
        """Make exactly one page read of this printed page ``read``, the others conflicts with it: the
        ``preferred`` page if given, else the one ``read`` now, else the earliest. Inside the caller's
        transaction; each page whose state changes is audited and added to ``changes``."""
        rows = self.db.execute(
            "SELECT id, status, reason, conflict_of FROM pages WHERE form=? AND serial=? AND form_page=?"
            " AND status IN (?, ?) ORDER BY id", (form, serial, form_page, *READ_STATES)).fetchall()
        if not rows:
            return
        ids = [int(r["id"]) for r in rows]
        primary = preferred if preferred in ids else \
            next((int(r["id"]) for r in rows if r["status"] == PageState.READ), ids[0])
        for row in rows:
            if row["id"] == primary:
                state, conflict_of = PageState.READ, None
                reason = row["reason"] if row["status"] == PageState.READ else ""
            else:
                state, conflict_of, reason = PageState.CONFLICT, primary, CONFLICT_REASON.format(primary)
            if (row["status"], row["conflict_of"]) == (state.value, conflict_of):
                continue
            self.db.execute("UPDATE pages SET status=?, reason=?, conflict_of=? WHERE id=?",
                            (state.value, reason, conflict_of, row["id"]))
            self.audit(actor, "page-state", int(row["id"]), old=f"{row['status']}: {row['reason']}".rstrip(": "),
                       new=f"{state.value}: {reason}".rstrip(": "),
                       detail=json.dumps({"form": form, "serial": serial, "form_page": form_page}))
            if state.value != row["status"]:
                changes.append(StateChange(int(row["id"]), PageState(row["status"]), state))

    def reread_page(self, page_id: int, result: PageResult, actor: str = "scanner") -> RereadOutcome | None:
        """Put a new reading of a page read (the same form, page and serial) in place of the old one, in one
        transaction, value by value: values keep their ids; a value a person reviewed keeps the decision
        when the machine now reads what it read before or what the person decided, and is otherwise flagged
        again ("re-read: the value changed from X to Y after review"); any other value takes the new
        reading. Every value that changes is audited (``reread-value``), the page too (``reread-page``).
        ``None`` when the page is no longer a page read as that form page (voided or reassigned since)."""
        outcome = RereadOutcome(page_id)
        with self._writing() as db:
            page = db.execute("SELECT status, form, version, variant, form_page, serial FROM pages WHERE id=?",
                              (page_id,)).fetchone()
            if page is None or page["status"] not in READ_STATES or \
                    (page["form"], page["serial"], page["form_page"]) != (result.form, result.serial,
                                                                          result.form_page):
                return None
            db.execute("UPDATE pages SET version=?, variant=?, transform=?, error_mm=?, quality=?,"
                       " image=COALESCE(?, image), read_at=? WHERE id=?",
                       (result.version, result.variant, json.dumps(result.transform) if result.transform else None,
                        result.error_mm, json.dumps(result.quality, default=str), result.image_jpeg, now(), page_id))
            old = {r["field"]: r for r in db.execute("SELECT * FROM field_values WHERE page_id=?", (page_id,))}
            for v in result.values:
                raw = json.dumps(v.raw, default=float)
                row = old.pop(v.field, None)
                if row is None:
                    self._insert_values(page_id, PageResult("", 0, "", PageState.READ, values=[v]))
                    self.audit(actor, "reread-value", page_id, v.field, None, v.value)
                    outcome.changed += 1
                    continue
                if row["review"]:
                    if decision_stands(row, v.value):
                        keep_decision(db, row, v)
                        outcome.kept += 1
                        continue
                    seen = read_at_decision(row)
                    reason = why_overtaken(row, v, "re-read")
                    db.execute("UPDATE field_values SET kind=?, value=?, confidence=?, needs_review=1, reason=?,"
                               " raw=?, crop=COALESCE(?, crop), machine_value=NULL, review='', reviewed_by='',"
                               " reviewed_at='' WHERE id=?",
                               (v.kind, v.value, v.confidence, reason, raw, v.crop_jpeg, row["id"]))
                    self.audit(actor, "reread-value", page_id, v.field, row["value"], v.value, json.dumps(
                        {"value_id": row["id"], "review": row["review"], "reviewed_by": row["reviewed_by"],
                         "machine_value_before": seen, "flagged": True}))
                    outcome.flagged_again += 1
                    continue
                db.execute("UPDATE field_values SET kind=?, value=?, confidence=?, needs_review=?, reason=?, raw=?,"
                           " crop=COALESCE(?, crop), machine_value=NULL WHERE id=?",
                           (v.kind, v.value, v.confidence, int(v.needs_review), v.reason, raw, v.crop_jpeg, row["id"]))
                if (row["value"], bool(row["needs_review"])) != (v.value, v.needs_review):
                    self.audit(actor, "reread-value", page_id, v.field, row["value"], v.value, json.dumps(
                        {"value_id": row["id"], "needs_review": v.needs_review, "reason": v.reason}))
                    outcome.changed += 1
            for name, row in old.items():  # fields the layout no longer has
                db.execute("DELETE FROM claims WHERE value_id=?", (row["id"],))
                db.execute("DELETE FROM field_values WHERE id=?", (row["id"],))
                self.audit(actor, "reread-value", page_id, name, row["value"], None,
                           json.dumps({"value_id": row["id"], "removed": True}))
                outcome.changed += 1
            self.audit(actor, "reread-page", page_id, detail=json.dumps(
                {"values": len(result.values), "changed": outcome.changed, "reviews_kept": outcome.kept,
                 "flagged_again": outcome.flagged_again}))
            if page["status"] == PageState.READ:
                self._judge_form_again(result.form, result.serial, actor)
        return outcome

    def _judge_form_again(self, form: str, serial: str, actor: str = "scanner") -> None:
        """Decide again what hangs on every page read of this printed form together: its respondent's fill
        convention (with the decisions it leaves waiting) and its dates across pages. It runs wherever the pages
        read of a printed form, or their values, changed. Inside the caller's transaction."""
        self._decide_fill_convention(form, serial, actor)
        self._judge_dates_across_pages(form, serial)

    def _decide_fill_convention(self, form: str, serial: str, actor: str = "scanner") -> None:
        """Decide again, from every page read of this printed form, what a lone filled box means for its
        respondent, and read its lone fills that way (never one a person has reviewed); then flag again what a
        person decided otherwise on a page voided since (``_flag_decisions_left``, audited under ``actor``) or on
        another image after this page's own decision (``_flag_overtaken_decisions``). Part of
        ``_judge_form_again``; inside the caller's transaction."""
        rows = self.db.execute(
            "SELECT v.id, v.value, v.confidence, v.needs_review, v.reason, v.raw, v.review, p.quality"
            " FROM field_values v JOIN pages p ON p.id=v.page_id WHERE p.form=? AND p.serial=? AND p.status=?"
            " AND v.kind='choice' ORDER BY p.id, v.id", (form, serial, PageState.READ.value)).fetchall()
        raws = [json.loads(r["raw"]) for r in rows]
        fields = [conventions.ChoiceStates(tuple(raw["states"]), raw.get("multiple", False)) if "states" in raw
                  else None for raw in raws]
        fill_means = json.loads(rows[-1]["quality"]).get("fill_means", "infer") if rows else "infer"
        convention = conventions.decide([f for f in fields if f is not None], fill_means)
        evidence = json.dumps(vars(convention.evidence))
        before = self.db.execute("SELECT decision, evidence FROM respondents WHERE form=? AND serial=?",
                                 (form, serial)).fetchone()
        if before is None or (before["decision"], before["evidence"]) != (convention.decision, evidence):
            self.db.execute("DELETE FROM respondents WHERE form=? AND serial=?", (form, serial))
            self.db.execute("INSERT INTO respondents (form, serial, fill_means, decision, evidence, decided_at)"
                            " VALUES (?,?,?,?,?,?)", (form, serial, fill_means, convention.decision, evidence, now()))
            self.audit("scanner", "fill-convention", field=serial, old=before["decision"] if before else None,
                       new=convention.decision,
                       detail=json.dumps({"form": form, "evidence": vars(convention.evidence)}))
        # values waiting because a person decided otherwise on a page voided since: the convention reading the
        # same value again keeps them waiting (one read otherwise is flagged again below, saying so)
        voided_and_read = self._voided_and_read(form, serial)
        flagged = {int(row["id"]) for voided_id, read_id in voided_and_read
                   for row, why, _ in self._decisions_left(voided_id, read_id)
                   if row["needs_review"] and why in row["reason"]}
        for row, raw, states in zip(rows, raws, fields, strict=True):
            if states is None or "as_scanned" not in raw or row["review"]:
                continue
            reading = conventions.apply(convention, states, raw["options"],
                                        conventions.Reading(*raw["as_scanned"]), conventions.flagged_otherwise(raw))
            if int(row["id"]) in flagged and reading.value == row["value"]:
                continue
            current = (row["value"], row["confidence"], bool(row["needs_review"]), row["reason"])
            if current != (reading.value, reading.confidence, reading.needs_review, reading.reason):
                self.db.execute("UPDATE field_values SET value=?, confidence=?, needs_review=?, reason=? WHERE id=?",
                                (reading.value, reading.confidence, int(reading.needs_review), reading.reason,
                                 row["id"]))
        # what a person decided on a page voided while it was the one read, set again wherever the values of the
        # page read in its place were read again since (a re-read, an assignment there and back put the machine's
        # reading back unflagged), and, of three images, kept for the third read in place of the second
        for voided_id, read_id in voided_and_read:
            self._flag_decisions_left(voided_id, read_id, actor)
        self._flag_overtaken_decisions(form, serial, actor)

    def _judge_dates_across_pages(self, form: str, serial: str) -> None:
        """A date on one page of this printed form written month first sends each date on its other pages that
        may be read the other way round to review (``conventions.month_first_reasons``); one that no longer has
        such a page beside it (voided, read again) gets back its flag and reason as the scanner gave them. Never a
        value a person has reviewed. Inside the caller's transaction."""
        rows = self.db.execute(
            "SELECT v.id, v.page_id, v.field, v.value, v.confidence, v.needs_review, v.reason, v.raw, v.review,"
            " p.form_page FROM field_values v JOIN pages p ON p.id=v.page_id WHERE p.form=? AND p.serial=?"
            " AND p.status=? AND v.kind='date' ORDER BY p.id, v.id", (form, serial, PageState.READ.value)).fetchall()
        raws = [json.loads(r["raw"]) for r in rows]
        wanted = conventions.month_first_reasons([(int(r["form_page"]), r["field"], r["value"], raw)
                                                 for r, raw in zip(rows, raws, strict=True)])
        for index, (row, raw) in enumerate(zip(rows, raws, strict=True)):
            added = raw.get(conventions.RAW_MONTH_FIRST_ELSEWHERE)
            if row["review"] or (added or {}).get("reason", "") == wanted[index]:
                continue
            confidence, needs_review, reason = added["before"] if added else \
                (row["confidence"], bool(row["needs_review"]), row["reason"])
            raw.pop(conventions.RAW_MONTH_FIRST_ELSEWHERE, None)
            if wanted[index]:
                raw[conventions.RAW_MONTH_FIRST_ELSEWHERE] = {"reason": wanted[index],
                                                              "before": [confidence, needs_review, reason]}
                (confidence, reason), needs_review = flagged(confidence, reason, wanted[index]), True
            self.db.execute("UPDATE field_values SET confidence=?, needs_review=?, reason=?, raw=? WHERE id=?",
                            (confidence, int(needs_review), reason, json.dumps(raw, default=float), row["id"]))


def _was_image_of(db: Any, image_id: int, printed: tuple[str, str, int], when: str) -> bool:
    """Whether page ``image_id`` was read as the ``printed`` page (form, serial, form page) at ``when`` (a decision's
    time), by its assignments in the audit log: a decision made then had it in view (its reason named it), as
    when the image is assigned away by mistake and back. Before its first assignment a page is what that
    assignment's entry says it was; to the second, as the log keeps times, a decision in the second of an
    assignment is taken as made before it."""
    identity = None
    for entry in db.execute("SELECT at, detail FROM audit WHERE page_id=? AND action='assign-page' ORDER BY id",
                            (image_id,)).fetchall():
        detail = json.loads(entry["detail"] or "{}")
        if identity is None:
            identity = detail.get("old", {})
        if entry["at"] >= when:
            break
        identity = detail.get("new", {})
    return identity is not None and identity.get("status") in READ_STATES and (
        identity.get("form"), identity.get("serial"), identity.get("form_page")) == printed


def _same_decision(value: str, review: str, other_value: str, other_review: str) -> bool:
    """Whether a value (``review``: '' for the machine's reading) says what another image's decision says.
    Illegible is stored as no value, as blank is: told apart by the decision (this image reading nothing would
    export as not answered)."""
    return value == other_value and (review == "illegible") == (other_review == "illegible")


def _decided(value: str, review: str) -> str:
    """A person's decision in a message: "it was illegible", or the value and how ('4' (corrected))."""
    return "it was illegible" if review == "illegible" else f"{shown(value)} ({review})"


def _identity(page: dict[str, Any]) -> str:
    """A page as the audit log names it: form, version, page and printed serial, and its state."""
    if not page["form"]:
        return f"{page['status']}: {page['reason']}".rstrip(": ")
    serial = format_serial(page["serial"]) if page["serial"] else ""
    return f"{page['form']} v{page['version']} page {page['form_page']} {serial}: {page['status']}"
