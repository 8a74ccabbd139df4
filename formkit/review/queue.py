"""Review decisions on the store: the queue of uncertain values, a person's decision on one, undo, pages a
person identifies or reassigns by hand (and takes back: ``unassign``), and pages voided and restored.

Every decision is one transaction: the value changes only if nobody decided on it first (two reviewers
on one store never overwrite each other), and the audit log gets the field, old and new value, who and
when. The value as the machine read it is kept beside the reviewed one.

Image work (reading a page as the form page a person names, ranking layouts by how well they fit a
page's ink) is the scanner's: the command hands it in as ``PageReader`` and ``PageRanker``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..catalogue import Catalogue
from ..layout.model import BoxesField, ChoiceField, Field
from ..qrpayload import PagePayload
from ..records import PageResult, PageState, first_few
from ..serial import format_serial, is_valid_serial, normalise_serial
from ..store import StateChange, Store, Undone
from ..store.reviewing import Assigned
from ..template.schema import FieldItem, MatrixItem, Template

ACTIONS = ("accepted", "corrected", "blank", "illegible")
CLAIM_SECONDS = 120  # a field shown to one reviewer is not shown to another for this long
SHA_PREFIX = 8  # hex digits of a content hash that name an input by it (``find_input``)


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
    # where the page lies in its image when the image held several (4 corners in pixels), else None
    region_px: tuple[tuple[float, float], ...] | None = None
    regions: int = 1  # how many pages its image held, when known (1: one, or not known)

    @staticmethod
    def region_of(quality_json: str | None) -> tuple[tuple[float, float], ...] | None:
        """The region recorded in a page's quality JSON, when its image held several pages."""
        quality = json.loads(quality_json or "{}")
        corners = quality.get("region_px") if quality.get("region_of", 1) > 1 else None
        return tuple((float(x), float(y)) for x, y in corners) if corners else None

    @classmethod
    def stored(cls, path: str, sha256: str, page_index: int, image: bytes | None,
               quality_json: str | None) -> SourcePage:
        """A stored page's source, with its region and how many pages its image held from its quality JSON."""
        regions = int(json.loads(quality_json or "{}").get("region_of", 1))
        return cls(path, sha256, page_index, image, cls.region_of(quality_json), regions)

    def outline(self) -> dict[str, Any]:
        """What a reading of this page keeps in its quality to be found again in its image: its region
        (``region_px``) and how many pages the image held (``region_of``), each when known; else nothing."""
        outline: dict[str, Any] = {"region_of": self.regions} if self.regions > 1 else {}
        if self.region_px is not None:
            outline["region_px"] = [list(corner) for corner in self.region_px]
        return outline


@dataclass(frozen=True)
class LayoutFit:
    """How well one installed layout page fits a page's ink: ``match`` is 0..1 (F1 of the ink seen and the
    print expected, as the scanner's identification measures it)."""

    form: str
    version: int
    variant: str
    page: int
    match: float

    def describe(self) -> str:
        large = " (large print)" if self.variant == "L" else ""
        return f"{self.form} page {self.page}{large}"


# reads a stored page as the page a person says it is; the scanner supplies it (formkit never imports it).
# A reading refused because the page's ink does not fit that layout is rejected with quality["misfit"] set.
PageReader = Callable[[SourcePage, PagePayload], PageResult]
# the installed layouts that fit a stored page, best first; the scanner supplies it
PageRanker = Callable[[SourcePage], list[LayoutFit]]


def queue(store: Store, reviewer: str = "", limit: int = -1) -> list[Pending]:
    """Values waiting for review (at most ``limit``); values another reviewer has open come last."""
    return [Pending(**dict(r)) for r in store.review_queue(reviewer, limit)]


def pending(store: Store, value_id: int) -> Pending | None:
    row = store.waiting_value(value_id)
    return Pending(**dict(row)) if row else None


def not_waiting(store: Store, value_id: int, waiting_elsewhere: bool) -> str:
    """Why the value shown as ``value_id`` takes no decision now, in words for the page: it was decided,
    its page voided or read again meanwhile (``waiting_elsewhere``: the id now names a value of another page
    or field, which is not the one shown)."""
    row = store.value(value_id)
    if waiting_elsewhere:
        return "its page was read again meanwhile (assigned to another form page, or re-read)"
    if row is None:
        return "there is no such value now (its page may have been read again or assigned meanwhile)"
    if row["review"]:
        return f"it was reviewed meanwhile by {row['reviewed_by']}" if row["reviewed_by"] else "it was reviewed"
    if row["page_status"] == PageState.VOIDED:
        return "its page was voided meanwhile"
    if row["page_status"] == PageState.CONFLICT:
        return "its page is now a second image of a page read before: the first one's values are reviewed"
    return "it is not flagged (read surely, or read again since)"


def own_decision(store: Store, value_id: int, reviewer: str) -> str:
    """A word for ``reviewer`` on a value that ``reviewer`` decided and that no longer waits (a second press
    of Enter, Back to it): it is saved, as what; '' when someone else decided it, or no one."""
    row = store.value(value_id)
    if row is None or not row["review"] or row["reviewed_by"] != reviewer:
        return ""
    shown = f"'{row['value']}'" if row["value"] else "(blank)"
    # "saved" alone said nothing of a page voided since: the decision is in no export until it is restored
    voided = "; its page has been voided since, so it is in no export unless the page is restored" \
        if row["page_status"] == PageState.VOIDED else ""
    return f"Saved already: you decided {row['field']} as {shown} ({row['review']}){voided}."


def claim(store: Store, value_id: int, reviewer: str) -> str:
    """Hold the value for ``reviewer`` (``CLAIM_SECONDS``) unless another reviewer holds it; returns who
    does ('' when no one else)."""
    return store.claim(value_id, reviewer, CLAIM_SECONDS)


def progress(store: Store) -> tuple[int, int]:
    """(values reviewed, values that needed review in all)."""
    return store.review_progress()


def decide(store: Store, value_id: int, action: str, new_value: str, reviewer: str, seen_value: str) -> str:
    """Record a decision; returns '' or why it was not recorded (someone else decided first, or the value
    changed since it was shown)."""
    if action not in ACTIONS:
        raise ValueError(action)
    return store.decide(value_id, action, new_value, reviewer, seen_value)


def undo(store: Store, reviewer: str, read_as: PageReader | None = None,
         catalogue: Catalogue | None = None) -> Undone | Unassigned:
    """Take back ``reviewer``'s latest decision that still stands: a value decided (returns its field and
    value id, empty when there was none), or a page assigned by hand, put back as it was before (returns
    what ``unassign`` did; it needs ``read_as`` and ``catalogue`` to read a page again as the form page it
    was). An assignment is a decision too: pressing undo just after one took back an older decision on
    another page instead, and left the page assigned."""
    assigned = store.own_standing_assignment(reviewer)
    undone = store.undo(reviewer, after=assigned.audit_id if assigned else 0)
    if undone.field or assigned is None:
        return undone
    return unassign(store, assigned.page_id, assigned.audit_id, reviewer, read_as, catalogue)


def batch_summary(store: Store) -> list[dict[str, Any]]:
    """Per folder of scanned files: pages by state, values flagged and values reviewed (voided pages are
    counted apart, their values not at all)."""
    batches: dict[str, dict[str, Any]] = {}
    for r in store.page_counts():
        folder = str(Path(r["path"]).parent)
        b = batches.setdefault(folder, {"batch": folder, "pages": 0, "read": 0, "unreadable": 0, "voided": 0,
                                        "flagged": 0, "reviewed": 0})
        b["pages"] += 1
        state = PageState(r["status"])
        if state is PageState.VOIDED:
            b["voided"] += 1
            continue
        b["read" if state.was_read else "unreadable"] += 1
        b["flagged"] += r["flagged"]
        b["reviewed"] += r["reviewed"]
    return sorted(batches.values(), key=lambda b: b["batch"])


def unread_pages(store: Store) -> list[dict[str, Any]]:
    """Pages the scanner could not identify or read, with why: a person may say which form page each is."""
    return [dict(r) for r in store.unread_pages()]


def source_page(store: Store, page_id: int) -> SourcePage | None:
    row = store.page_source(page_id)
    if row is None:
        return None
    return SourcePage(row["path"], row["sha256"], row["page_index"], row["image"], SourcePage.region_of(row["quality"]))


@dataclass(frozen=True)
class Assignment:
    """What assigning a page did: '' or why it was not done (``problem``), and the fields whose review
    decision was kept or dropped, each with the value the reviewer had decided."""

    problem: str
    kept: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    restored: dict[str, str] = field(default_factory=dict)
    changed: bool = False  # not done because the page changed since it was shown (the problem says to what)

    def decisions(self) -> str:
        """One line on what became of the page's review decisions, so that none is lost unnoticed."""
        if not self.kept and not self.dropped and not self.restored:
            return "Review decisions: none had been made on this page."
        kept = " (the same question, read as before)" if self.kept else ""
        dropped = ""
        if self.dropped:
            listing = first_few([f"{name} was {value or '(blank)'}" for name, value in self.dropped.items()])
            dropped = (f" ({listing}: not a question of this form page, or read differently now; they come back"
                       " if the page is assigned back and reads as before)")
        restored = (f", {len(self.restored)} brought back (made before the page was last assigned away from this"
                    " form page)") if self.restored else ""
        return f"Review decisions: {len(self.kept)} kept{kept}, {len(self.dropped)} dropped{dropped}{restored}."


def assign(store: Store, page_id: int, payload: PagePayload, reviewer: str, read_as: PageReader,
           seen: str | None = None) -> Assignment:
    """Read a page again as ``payload`` says it is, whatever it was read as before (an unidentified page,
    or one read as the wrong form, page or serial); its ``problem`` is '' or why that was not done. The
    page's old and new form, page and serial are audited. A review decision on its old values stands when
    it is on a field of the same form that the machine reads as ``formkit scan --reread`` requires to keep
    one (``Store.replace_page``): a page assigned to a wrong serial by mistake and then back loses none.
    The others are dropped (a field read otherwise now goes to review again), and come back if the page is
    assigned back to the form page they were made on and the machine still reads those questions as then:
    one mistaken assignment loses nothing. All are counted and named in the audit log. With ``seen`` (the
    page as the person saw it, ``page_seen``), a page changed since (another reviewer assigned it, a scan
    read it) is left as it is: the person chose for the page they saw."""
    row = store.page(page_id)
    if row is None:
        return Assignment("there is no such page")
    if seen is not None and seen != page_seen(row):
        return _changed_since(page_id, row, seen)
    if row["status"] == PageState.VOIDED:
        return Assignment(f"page {page_id} is voided: restore it first (formkit void --undo --page {page_id})")
    source = source_page(store, page_id)
    assert source is not None
    result = read_as(source, payload)
    if result.status != PageState.READ:
        if result.quality.get("misfit"):
            return Assignment(f"not assigned: {result.reason}")
        return Assignment(f"read as {payload.form} page {payload.page}, the page could not be read: {result.reason}")
    # reading a page takes a second or so: another reviewer's assignment may have landed meanwhile
    if seen is not None and (row := store.page(page_id)) is not None and seen != page_seen(row):
        return _changed_since(page_id, row, seen)
    try:
        done = store.replace_page(page_id, result, reviewer)
    except ValueError as exc:  # voided by someone else in the meantime
        return Assignment(f"not assigned: {exc}")
    return Assignment("", done.kept, done.dropped, done.restored)


def _changed_since(page_id: int, row: Any, seen: str) -> Assignment:
    """Why an assignment posted from a form showing the page as ``seen`` (``page_seen``) was not made: how the
    page (``row``) changed. A page voided meanwhile was said to be what it still named ("it is k10 page 1,
    9R6E-7NME now"), as the reviewer had seen it, and so was one a scan read again as the same page."""
    if row["status"] == PageState.VOIDED:
        return Assignment(f"not assigned: page {page_id} has been voided since it was shown; to assign it, restore "
                          f"it first (formkit void --undo --page {page_id})", changed=True)
    if seen.rpartition("|")[0] == page_seen(row).rpartition("|")[0]:  # all but when it was read
        how = "it was read again since"
    else:
        how = f"it is {describe_state(dict(row), why=False)} now"
    return Assignment(f"not assigned: page {page_id} changed since it was shown ({how}); look at it again",
                      changed=True)


@dataclass(frozen=True)
class Unassigned:
    """What taking back an assignment by hand did: '' or why it was not done (``problem``); the page (0 when
    none was named), what the assignment had made it and what it is again (``was``, ``now``, as a person
    knows them), and what became of the page's review decisions (``done``)."""

    problem: str
    page_id: int = 0
    was: str = ""
    now: str = ""
    done: Assignment = field(default_factory=lambda: Assignment(""))

    def message(self) -> str:
        """One line for the reviewer: what the page is again, and its review decisions; or why not."""
        if self.problem:
            return f"Not taken back: {self.problem}."
        return (f"Assignment taken back: page {self.page_id} is no longer {self.was}; it is {self.now} again. "
                f"{self.done.decisions()}")


def standing_assignment(store: Store, page_id: int) -> Assigned | None:
    """The assignment by hand that made the page what it is now, if it can be taken back."""
    return store.standing_assignment(page_id)


def recent_assignments(store: Store, limit: int = 20) -> list[Assigned]:
    """The latest assignments by hand that still stand, newest first: where to find a page assigned by
    mistake (it leaves the list of pages to identify)."""
    return store.recent_assignments(limit)


def unassign(store: Store, page_id: int, audit_id: int | None, actor: str, read_as: PageReader | None,
             catalogue: Catalogue | None) -> Unassigned:
    """Take back the assignment by hand that made page ``page_id`` what it is (the one audited as
    ``audit_id``, the one shown; ``None``: whichever stands): the page is again what it was before, an
    unidentified (blank, rejected) page with its old reason, or the form page it was read as, read again as
    it (by ``read_as``, with the layouts of ``catalogue``). Review decisions go as an assignment takes them
    (``assign``): one made on the page since is dropped, kept whole in the audit log, and comes back if the
    page is assigned there again. A page that was the one read of its printed page is again (``make_read``),
    not a conflict with the image read in its place meanwhile. Audited under ``actor`` as an assignment and as
    ``unassign-page``, which names the assignment taken back, so that neither is taken back again. Refused
    when the page changed since (assigned again, taken back, voided) or cannot be read as it was."""
    assigned = store.standing_assignment(page_id)
    if assigned is None and audit_id is None:  # none named (the command): none to take back
        return Unassigned("no assignment by hand that can be taken back made it what it is (never assigned by "
                          "hand, taken back already, voided, or read again since)", page_id)
    if assigned is None or audit_id is not None and assigned.audit_id != audit_id:
        return Unassigned("the page changed since it was shown (assigned again, taken back or voided meanwhile); "
                          "look at it again", page_id)
    old, was = assigned.old, describe_page(assigned.new)
    if PageState(old["status"]).was_read:
        done = _read_again_as(store, page_id, old, actor, read_as, catalogue)
        if done.changed:  # while the page was being read
            return Unassigned("the page changed since it was shown (assigned again or taken back meanwhile); "
                              "look at it again", page_id)
        if done.problem:
            return Unassigned(done.problem.removeprefix("not assigned: "), page_id)
        if old["status"] == PageState.READ:
            # read back, it is a conflict with the image read in its place meanwhile: the one read again, as it was
            store.make_read(page_id, actor)
    else:
        done = _put_back_unread(store, page_id, old, actor)
    row = store.page(page_id)
    assert row is not None
    now_is = describe_state(dict(row), why=False)  # its reason, often long, is on the page's own view
    store.record_taken_back(actor, assigned, store.latest_assignment_entry(page_id), was, now_is)
    return Unassigned("", page_id, was, now_is, done)


def _read_again_as(store: Store, page_id: int, old: dict[str, Any], actor: str, read_as: PageReader | None,
                   catalogue: Catalogue | None) -> Assignment:
    """Assign page ``page_id`` back to the form page it was read as before (``old``: an assignment's entry),
    unless the page changes while it is read (``Assignment.changed``)."""
    row = store.page(page_id)
    if row is None:
        return Assignment("there is no such page")
    if read_as is None or catalogue is None:
        return Assignment("the page would have to be read again as the form page it was, which needs its layouts")
    payload = payload_for(catalogue, old["form"], old["version"], old["form_page"], old["serial"],
                          old["variant"] == "L")
    if isinstance(payload, str):
        return Assignment(f"it cannot be read again as {describe_page(old)}: {payload.rstrip('.')}")
    return assign(store, page_id, payload, actor, read_as, page_seen(row))


def _put_back_unread(store: Store, page_id: int, old: dict[str, Any], actor: str) -> Assignment:
    """Make page ``page_id`` again the page not read that it was (``old``: state, reason, what it was said to
    be), with no values: every decision on it is dropped, whole in the audit log."""
    row = store.page(page_id)
    assert row is not None
    again = PageResult(row["path"], int(row["page_index"]) + 1, row["sha256"], PageState(old["status"]),
                       old.get("reason", ""), old.get("form", ""), int(old.get("version") or 0), old.get("variant", ""),
                       int(old.get("form_page") or 0), old.get("serial", ""))
    done = store.replace_page(page_id, again, actor)
    return Assignment("", done.kept, done.dropped, done.restored)


def page_seen(row: Any) -> str:
    """A page's state as a form about it was shown (state, what it was read as, when): an assignment posted
    from a page shown before the page changed (another reviewer assigned it, a scan read it) is refused."""
    return "|".join(str(row[k]) for k in ("status", "form", "version", "variant", "form_page", "serial", "read_at"))


def payload_for(catalogue: Catalogue, form: str, version: int | None, page: int, serial: str,
                large_print: bool = False) -> PagePayload | str:
    """The payload of a form page a person names (the latest installed version when ``version`` is
    ``None``; the serial as printed or without its dash), or what is wrong with it."""
    versions = sorted(v for f, v, _ in catalogue.installed_forms() if f == form)
    if not versions:
        return f"'{form}' is not an installed form"
    if version is None:
        version = versions[-1]
    elif version not in versions:
        return f"version {version} of '{form}' is not installed (installed: {', '.join(map(str, versions))})"
    variant = "L" if large_print else "N"
    layout = catalogue.find_layout(form, version, variant)
    if isinstance(layout, str):
        return layout
    if not 1 <= page <= len(layout.pages):
        return f"'{form}' has no page {page}."
    code = normalise_serial(serial)
    if not is_valid_serial(code):
        return f"'{serial[:40]}' is not a valid serial: check the code printed under the QR."
    return PagePayload(form, version, page, variant, code, layout.page(page).fingerprint)


def misfit_of(fits: list[LayoutFit], payload: PagePayload, min_evidence: float, clear_winner: float) -> str:
    """'' when the page's ink may be the named layout page; else why not: another layout fits the page
    (it explains at least ``min_evidence`` of its print) and fits it clearly better, by the factor
    ``clear_winner`` the scanner asks of a layout it identifies a page by. Nothing can be told (and
    nothing is refused) when no layout fits that well."""
    named = (payload.form, payload.version, payload.variant, payload.page)
    chosen = next((f.match for f in fits if (f.form, f.version, f.variant, f.page) == named), 0.0)
    other = next((f for f in fits if (f.form, f.version, f.variant, f.page) != named), None)
    if other is None or other.match < max(min_evidence, clear_winner * chosen):
        return ""
    shown = LayoutFit(*named, chosen).describe()
    fits_or_not = "" if chosen >= min_evidence else f", less than the {min_evidence:.2f} a page needs"
    return (f"the page does not look like {shown}: that layout's printed boxes and lines match the page's ink "
            f"{chosen:.2f}{fits_or_not}, {other.describe()}'s {other.match:.2f}")


def void(store: Store, page_ids: list[int], why: str, actor: str) -> list[StateChange]:
    """Take pages out of every export and queue (kept, audited, restorable); returns the state changes."""
    return store.void_pages(page_ids, why, actor)


def restore(store: Store, page_ids: list[int], actor: str) -> list[StateChange]:
    """Put voided pages back as they were; returns the state changes."""
    return store.restore_pages(page_ids, actor)


def find_input(store: Store, text: str, content_sha256: str | None = None) -> list[dict[str, Any]]:
    """The inputs ``text`` names: the file with content ``content_sha256`` (when ``text`` is a file that is
    still there), a path as it was scanned (or the same file by its absolute path), or a content hash or
    its first ``SHA_PREFIX`` or more hex digits."""
    inputs = [dict(r) for r in store.inputs()]
    if content_sha256:
        found = [i for i in inputs if i["sha256"] == content_sha256]
        if found:
            return found
    by_path = [i for i in inputs if i["path"] == text or _absolute(i["path"]) == _absolute(text)]
    if by_path:
        return by_path
    digits = text.strip().lower()
    if len(digits) >= SHA_PREFIX and is_hex(digits):
        return [i for i in inputs if i["sha256"].startswith(digits)]
    return []


def is_hex(text: str) -> bool:
    """Whether ``text`` (lower case) could be the start of a content hash: hex digits only, at least one."""
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def _absolute(path: str) -> str:
    try:
        return str(Path(path).expanduser().resolve())
    except (OSError, RuntimeError, ValueError):
        return path


def question_text(catalogue: Catalogue, form: str, version: int, field_id: str) -> str:
    """The question printed with a field (its item's or matrix row's text), or '' when it has none."""
    template = catalogue.find_template(form, version)
    return _questions(template).get(field_id, "") if template else ""


@cache
def _questions(template: Template) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in template.items:
        if isinstance(item, MatrixItem):
            out.update((row.id, " ".join(row.text.split())) for row in item.rows)
        elif isinstance(item, FieldItem):
            out[item.id] = " ".join(item.text.split())
    return out


def prefill(f: Field | None, value: str, raw: dict[str, Any]) -> str:
    """What the review page's input starts with for a value: the machine's guess, written as the prompt
    asks for it (a date as DD/MM/YYYY), and for a faint mark left unread, the option whose box has the
    most ink."""
    if isinstance(f, ChoiceField):
        return _likely_choice(f, value, raw)
    if isinstance(f, BoxesField) and f.kind == "date":
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y") if value else _date_digits(raw)
        except ValueError:
            return value
    return value


def _likely_choice(f: ChoiceField, value: str, raw: dict[str, Any]) -> str:
    states, coverage = raw.get("states") or [], raw.get("coverage") or []
    darkness = raw.get("darkness") or [0.0] * len(coverage)
    if "faint" not in states or len(states) != len(f.options) or len(coverage) != len(states):
        return value
    chosen = [v for v in value.split(";") if v]
    if chosen and not f.multiple:
        return value
    faint = [i for i, s in enumerate(states) if s == "faint"]
    best = max(faint, key=lambda i: (coverage[i], darkness[i] if i < len(darkness) else 0.0))
    chosen.append(str(f.options[best].value))
    return ";".join(str(o.value) for o in f.options if str(o.value) in chosen)


def _date_digits(raw: dict[str, Any]) -> str:
    """DD/MM/YYYY from a date's boxes when every box holds a digit (not a real date, or unsure); else ''."""
    digits = [b.get("digit") for b in raw.get("boxes") or []]
    if len(digits) != 8 or any(d is None for d in digits):
        return ""
    text = "".join(str(d) for d in digits)
    return f"{text[:2]}/{text[2:4]}/{text[4:]}"


def waiting_pages(store: Store) -> int:
    """Pages waiting for a person to say which form page they are (unidentified or rejected)."""
    return len(store.unread_pages())


def describe_page(row: Any) -> str:
    """A page as a person knows it: its form, page and printed serial, or its state."""
    if row["form"]:
        large = " large print" if row["variant"] == "L" else ""
        return f"{row['form']} page {row['form_page']}{large}, {format_serial(row['serial'])}"
    return str(row["status"])


def describe_state(row: dict[str, Any], why: bool = True) -> str:
    """A page (a dict of its columns, or an assignment's ``old``) as a person knows it, whatever its state: its
    form, page and serial when it was read, else its state, and with ``why`` the reason (a page rejected may
    have a form page, which it was not read as)."""
    if PageState(row["status"]).was_read:
        return describe_page(row)
    return f"{row['status']} ({row['reason']})" if why and row.get("reason") else str(row["status"])


def quality(row: Any) -> dict[str, Any]:
    try:
        found = json.loads(row["quality"] or "{}")
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
