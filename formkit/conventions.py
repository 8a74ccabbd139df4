"""What a completely filled box means for one respondent: a cancelled answer, as every form's printed
instruction says, or the answer itself, as many people mark boxes.

People keep to one way of marking. So the decision is made per respondent, from the choice fields on
all pages of one printed form (one serial), and whenever a page of that form is added:

- a field with a filled box beside a tick or cross is a correction: this person fills to cancel;
- several fields answered by a lone filled (or heavily marked) box, and no field answered by a tick
  or cross alone, and no correction: this person answers by filling, so a lone fill is the answer;
- both styles, or too little evidence: a lone fill stays flagged for review, with the evidence seen.

A template may fix the meaning instead (``fill_means: cancel | answer``). Only fields whose reading
depends on the convention change, never one a person has reviewed; a page-level flag (poor registration,
a blurry image), or print washed out by glare beside the fill, keeps its field flagged whatever the
convention.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .records import (
    RAW_COVERED,
    RAW_INTO_QUESTION,
    RAW_OVERLAID,
    RAW_PAGE_FLAGGED,
    RAW_RUNS_PAST_BOX,
    RAW_SHADED,
    RAW_UNSEEN,
    iso_day,
)

MIN_FILL_EVIDENCE = 3  # fields answered by a lone fill before filling is taken as this person's way
ANSWER, CANCEL, UNDECIDED = "answer", "cancel", "undecided"


@dataclass(frozen=True)
class ChoiceStates:
    """One choice field's box states as the scanner classified them ('empty', 'faint', 'marked', 'heavy',
    'filled'), and whether it takes several answers."""

    states: tuple[str, ...]
    multiple: bool = False

    def count(self, state: str) -> int:
        return self.states.count(state)

    @property
    def lone_fill(self) -> bool:
        """Answered by filled (or heavily marked) boxes alone: one box on a single choice."""
        fills = self.count("filled") + self.count("heavy")
        if self.count("marked") or self.count("faint") or not fills:
            return False
        return self.multiple or fills == 1

    @property
    def correction(self) -> bool:
        return bool(self.count("filled")) and bool(self.count("marked"))

    @property
    def ticked(self) -> bool:
        return bool(self.count("marked")) and not self.count("filled") and not self.count("heavy")


# the counts ``Evidence.describe`` gives, which change as more pages of a form are read, the reading not
EVIDENCE_COUNTS = re.compile(r"on this form \d+ field\(s\) answered by a filled box alone, \d+ by a tick or cross, "
                             r"\d+ correction\(s\)")


def without_counts(reason: str) -> str:
    """``reason`` with the fill convention's evidence counts left out (``EVIDENCE_COUNTS``)."""
    return EVIDENCE_COUNTS.sub("on this form", reason)


@dataclass(frozen=True)
class Evidence:
    lone_fills: int
    ticked: int
    corrections: int

    def describe(self) -> str:
        return (f"on this form {self.lone_fills} field(s) answered by a filled box alone, {self.ticked} by a tick "
                f"or cross, {self.corrections} correction(s) (a filled box beside a tick or cross)")


@dataclass(frozen=True)
class Convention:
    decision: str  # ANSWER, CANCEL or UNDECIDED
    declared: str  # the template's fill_means: infer, cancel or answer
    evidence: Evidence

    def reason(self) -> str:
        """Why a lone fill was read as it was, for the review page and the long CSV."""
        if self.declared != "infer":
            return f"the form says a filled box means '{self.declared}'"
        what = {ANSWER: "this person answers by filling boxes in", CANCEL: "this person fills a box to cancel it",
                UNDECIDED: "whether this person fills boxes to answer or to cancel is unclear"}[self.decision]
        return f"{what} ({self.evidence.describe()})"


def decide(fields: Iterable[ChoiceStates], fill_means: str = "infer") -> Convention:
    """The convention of one respondent from all their choice fields."""
    fields = list(fields)
    evidence = Evidence(sum(f.lone_fill for f in fields), sum(f.ticked for f in fields),
                        sum(f.correction for f in fields))
    if fill_means in (ANSWER, CANCEL):
        return Convention(fill_means, fill_means, evidence)
    if evidence.corrections:
        decision = CANCEL
    elif evidence.lone_fills >= MIN_FILL_EVIDENCE and not evidence.ticked:
        decision = ANSWER
    else:
        decision = UNDECIDED
    return Convention(decision, fill_means, evidence)


@dataclass(frozen=True)
class Reading:
    value: str
    confidence: float
    needs_review: bool
    reason: str


# raw readings that keep a lone fill flagged
FLAGGED_BY = (*RAW_UNSEEN, RAW_RUNS_PAST_BOX, RAW_INTO_QUESTION, RAW_OVERLAID, RAW_SHADED, RAW_COVERED)


def flagged_otherwise(raw: Mapping[str, Any]) -> bool:
    """Whether a choice value's raw readings hold a reason to review it besides its fill: its page flagged
    as a whole (``page_flagged``), its print washed out by glare (``washed_out``: a mark beside the fill
    may not show) or covered (``hidden``), part of it past the image's edge (``outside_image``), or a box's
    ink running on far past it (``runs_past_box``: a stain's edge, a clip's wire), or something opaque over
    part of a box (``overlaid``: a punched hole, a fingertip), a box read as empty under a shade that holds
    darker ink (``shaded``) or a box a side of whose border does not show (``covered``).
    ``apply`` then leaves a lone fill flagged whatever the convention."""
    return bool(raw.get(RAW_PAGE_FLAGGED, False)) or any(key in raw for key in FLAGGED_BY)


def apply(convention: Convention, field: ChoiceStates, options: list[str], as_scanned: Reading,
          flagged: bool) -> Reading:
    """The reading of one choice field under ``convention``: the scanner's own (``as_scanned``, which
    flags a lone fill) unless this respondent answers by filling and nothing else is wrong (``flagged``:
    ``flagged_otherwise``)."""
    if not field.lone_fill:
        return as_scanned
    if convention.decision != ANSWER or flagged:
        reason = "; ".join(filter(None, [as_scanned.reason, convention.reason()]))
        return Reading(as_scanned.value, as_scanned.confidence, as_scanned.needs_review, reason)
    chosen = [v for v, s in zip(options, field.states, strict=True) if s in ("filled", "heavy")]
    return Reading(";".join(chosen), 0.9, False, f"answered by filling the box: {convention.reason()}")


# --- Dates written month first -------------------------------------------------------------------------------
# A respondent who writes one date month first (05/20/2027 in DD MM YYYY boxes: no 20th month) may have written the
# form's other dates so too: each of them whose day and month are both 12 or less is a real date read the other
# way round, and goes to review (the scanner within a page, scanner.dates.judge_dates; the store across the pages of
# one printed form).

# raw key of a date whose digits make no date day first but a real one month first ("05/20/2027"): the date it
# is read month first, in ISO. The other dates of its form are read with that in mind.
RAW_MONTH_FIRST = "month_first"
# raw key of a date the store flagged for a date written month first on another page of its form: the reason added,
# and the date's confidence, flag and reason before (``month_first_reasons``), to take it back when that page goes
RAW_MONTH_FIRST_ELSEWHERE = "month_first_elsewhere"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # not calendar.month_name, which follows the locale the process runs in


def shown(day: dt.date) -> str:
    """``day`` as the form asks for it, DD/MM/YYYY."""
    return day.strftime("%d/%m/%Y")


def spelt(day: dt.date) -> str:
    """``day`` with its month in words (11 March 2026): no reader can take it the other way round."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def swapped(day: dt.date) -> dt.date | None:
    """``day`` with its day and month the other way round, when that is another real date: both 12 or less
    and not equal."""
    if day.day > 12 or day.day == day.month:
        return None
    return dt.date(day.year, day.day, day.month)


def month_first_reason(field: str, written: dt.date, page: int | None = None, *, day: dt.date) -> str:
    """Why ``day`` (read day first) goes to review beside the date of ``field`` (on form page ``page``, when
    another) that is ``written`` month first."""
    where = f"page {page}, " if page is not None else ""
    other_way = swapped(day)
    assert other_way is not None
    return (f"another date on this form is written month first ({where}{field}: {written.month:02d}/{written.day:02d}/"
            f"{written.year}, {spelt(written)}): {shown(day)} may be {spelt(other_way)}")


def month_first_reasons(dates: Sequence[tuple[int | None, str, str, Mapping[str, Any]]]) -> list[str]:
    """The reason each of a form's date values, as (form page, field, value, raw), must carry for a date written
    month first (``RAW_MONTH_FIRST``) elsewhere on the form ('' for none): on another page where pages are given
    (the store: within a page the scanner has judged already), in another field where they are None (the scanner,
    one page)."""
    evidence = [(page, field, dt.date.fromisoformat(raw[RAW_MONTH_FIRST])) for page, field, _, raw in dates
                if RAW_MONTH_FIRST in raw]
    reasons = []
    for page, field, value, _ in dates:
        day = iso_day(value)
        elsewhere = [(f, written, p) for p, f, written in evidence if p != page or (page is None and f != field)]
        reasons.append(month_first_reason(*elsewhere[0], day=day) if elsewhere and day and swapped(day) else "")
    return reasons
