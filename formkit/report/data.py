"""What the reports show, gathered from the store's rows through the export's own scoring.

Every value, score, status and change here is the one ``formkit export`` writes from the same store and
codes files (``<form>.csv``, ``<form>_long.csv``, ``<form>_change.csv``): the tables are built by the
export's own code, then read. What the reports add is derived from those numbers only: counts, shares,
means, histograms, Pearson's r. Names never reach this module: persons are their pseudonymous codes.

Two things the export has no column for, used by the person report only:

- an occasion's date when none is written on the form: the day it was scanned (``Store.scan_dates``);
- a *provisional* score for a score still waiting for review, computed from the machine's guesses: it is
  drawn hollow and labelled "pending", never printed as a number or used in any statistic.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..catalogue import Catalogue, shipped_catalogue
from ..errors import InputError
from ..export import scored_tables
from ..scoring import COMPLETE, INVALID, PENDING, PRORATED, Answer, ScoreRule, read_scoring, score_form
from ..scoring.occasions import ends_settled_among, in_order
from ..scoring.rules import scales as choice_scales
from ..scoring.rules import score_columns
from ..serial import normalise_serial
from ..template.schema import WIDE_LEAD_COLUMNS, WIDE_TAIL_COLUMNS

# Which way is better, for the scores of the shipped forms. A score not listed has no direction.
LOWER_IS_BETTER = {"k10_total"}
HIGHER_IS_BETTER = {"ac_goal", "ac_task", "ac_bond", "ac_total", "ac_mean", "wai_task", "wai_goal", "wai_bond",
                    "wai_total", "wai_mean", "gas_t", "progress_latest", "progress_change"}
MIN_N_FOR_CI = 10
WELLBEING = ("k10", "k10_total")
# Goal achievement and alliance measures set against the change in wellbeing: (form, score, words).
GOAL_MEASURES = (("goal-card", "progress_latest", "Latest goal progress (goal card, 0-10)"),
                 ("gas-followup", "gas_t", "Latest GAS T-score (50 = as expected)"))
ALLIANCE_MEASURES = (("alliance-check", "ac_total", "Latest alliance total (alliance check, 12-60)"),
                     ("wai-sr", "wai_total", "Latest WAI-SR total (12-60)"))


def better(score_id: str) -> str:
    """'lower', 'higher' or '' (no direction known)."""
    return "lower" if score_id in LOWER_IS_BETTER else "higher" if score_id in HIGHER_IS_BETTER else ""


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and len(text.strip()) == 10 else None
    except ValueError:
        return None


def number(text: Any) -> float | None:
    try:
        return float(text) if text not in ("", None) else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Score:
    """One score of one returned form, as the export wrote it."""

    text: str  # the export's cell ('' when there is no value)
    status: str  # complete | prorated | invalid | pending-review
    reason: str = ""
    band: str = ""
    provisional: float | None = None  # pending only: from the machine's guesses; never final

    @property
    def value(self) -> float | None:
        return number(self.text) if self.usable else None

    @property
    def usable(self) -> bool:
        return self.status in (COMPLETE, PRORATED) and self.text != ""

    @property
    def pending(self) -> bool:
        return self.status == PENDING


@dataclass(frozen=True)
class Occasion:
    """One returned form: its row of ``<form>.csv`` and when it was filled in."""

    form: str
    serial: str  # as exported
    person: str
    order: int  # scan order (the export's ``FormTables.order``)
    written_date: str  # the occasion date field as exported ('' when blank or waiting for review)
    day: date | None  # the written date; else the guess when it waits for review; else the scan date
    # 'form', 'pending' (a written date still being checked), 'scan' (none written), 'unread' (the page with the
    # date not scanned, or voided: whether one is written is not known) or ''
    dated_by: str
    scores: dict[str, Score]
    values: dict[str, str]  # the export's field cells ('' for a value waiting for review)
    guesses: dict[str, str]  # the long file's values: the machine's guess where one waits for review
    waiting: frozenset[str]  # fields still waiting for review
    waiting_count: int
    reviewed_count: int


@dataclass
class FormData:
    form: str
    title: str
    rules: dict[str, ScoreRule]
    date_field: str | None
    fields: list[str]
    items: list[str]  # the questions the scores read (fields, not other scores)
    occasions: list[Occasion]
    change: list[dict[str, Any]]  # rows of <form>_change.csv
    ranges: dict[str, tuple[float, float]]  # possible range of each score, where the rule tells it
    person_field: str | None = None  # the field a person code is written in, where the form has one


def load_forms(rows: list[Any], scan_dates: Iterable[Any] = (), codes: Mapping[str, str] | None = None,
               band_choice: Mapping[str, str] | None = None, catalogue: Catalogue | None = None,
               start: date | None = None, end: date | None = None) -> dict[str, FormData]:
    """Every form in ``rows`` (``Store.values()``), scored as ``formkit export`` scores it with ``codes``
    (serial -> person code) and ``band_choice``. With ``start``/``end``, only the forms whose occasion date
    (written on the form, else the scan date) falls in the period, scored as an export of just those."""
    catalogue = catalogue or shipped_catalogue()
    codes = {normalise_serial(serial): code for serial, code in (codes or {}).items()}
    band_choice = dict(band_choice or {})
    scanned = {(r["form"], normalise_serial(r["serial"])): parse_day(r["scanned"]) for r in scan_dates}
    forms = _load(rows, scanned, codes, band_choice, catalogue)
    unknown = set(band_choice) - {rule for f in forms.values() for rule in f.rules}
    if unknown:
        raise InputError(f"--bands names score(s) without that band set: {', '.join(sorted(unknown))}")
    if start is None and end is None:
        return forms
    keep = {(o.form, normalise_serial(o.serial)) for f in forms.values() for o in f.occasions
            if o.day is not None and (start is None or o.day >= start) and (end is None or o.day <= end)}
    kept_rows = [r for r in rows if (r["form"], normalise_serial(r["serial"])) in keep]
    return _load(kept_rows, scanned, codes, band_choice, catalogue)


def _load(rows: list[Any], scanned: dict[tuple[str, str], date | None], codes: dict[str, str],
          band_choice: dict[str, str], catalogue: Catalogue) -> dict[str, FormData]:
    return {form: _form_data(form, tables.wide, tables.long, tables.change, [o for _, o in tables.order], scanned,
                             band_choice, catalogue)
            for form, tables in scored_tables(rows, codes, band_choice, catalogue).items()}


def _form_data(form: str, wide: Any, long: Any, change: Any, scan_order: list[int],
               scanned: dict[tuple[str, str], date | None], band_choice: dict[str, str],
               catalogue: Catalogue) -> FormData:
    versions = sorted({int(r["version"]) for r in wide.rows})
    templates = {v: catalogue.find_template(form, v) for v in versions}
    scorings = {v: read_scoring(t) for v, t in templates.items() if t}
    rules: dict[str, ScoreRule] = {}
    for scoring in scorings.values():
        for rule in scoring.scores:
            rules.setdefault(rule.id, rule)
    date_field = next((s.occasion_date_field for s in scorings.values() if s.occasion_date_field), None)
    person_field = next((s.person_field for s in scorings.values() if s.person_field), None)
    title = next((t.title for t in templates.values() if t), form)
    own_columns = {c for r in rules.values() for c in score_columns(r)}
    fields = [c for c in wide.columns[len(WIDE_LEAD_COLUMNS):] if c not in own_columns
              and c not in WIDE_TAIL_COLUMNS]
    items = [i for r in rules.values() for i in r.inputs() if i not in rules]
    items = list(dict.fromkeys(items))
    guesses: dict[str, dict[str, str]] = defaultdict(dict)
    waiting: dict[str, set[str]] = defaultdict(set)
    illegible: dict[str, set[str]] = defaultdict(set)
    for r in long.rows:
        guesses[r["serial"]][r["field"]] = str(r["value"])
        if r["review"] == "illegible":
            illegible[r["serial"]].add(r["field"])
        if int(r["needs_review"]):
            waiting[r["serial"]].add(r["field"])
    scales = {v: choice_scales(t) for v, t in templates.items()}
    occasions = []
    for order, row in zip(scan_order, wide.rows, strict=True):
        serial = row["serial"]
        scores = {}
        provisional: dict[str, Any] = {}
        version = int(row["version"])
        for rule_id in rules:
            if f"{rule_id}_status" not in row:
                continue
            status, _, reason = str(row[f"{rule_id}_status"]).partition(": ")
            if status == PENDING and not provisional and version in scorings:
                answers = {f: Answer(guesses[serial].get(f, ""), illegible=f in illegible[serial]) for f in fields}
                provisional = score_form(scorings[version], answers, scales[version], band_choice)
            guess = provisional.get(rule_id) if status == PENDING else None
            scores[rule_id] = Score(str(row.get(rule_id, "")), status, reason, str(row.get(f"{rule_id}_band", "")),
                                    guess.value if guess is not None and guess.status in (COMPLETE, PRORATED)
                                    else None)
        written = str(row.get(date_field, "")) if date_field else ""
        day, dated_by = parse_day(written), "form"
        date_waits = bool(date_field) and date_field in waiting[serial]
        if day is None and date_waits:
            day, dated_by = parse_day(guesses[serial].get(date_field, "")), "pending"
        if day is None:  # placed by its scan; a date waiting for review is no date left unwritten
            # every field of a page read has a row, a blank one too: none for a date its version asks, its page
            # was not read
            template = templates.get(version)
            unread = (bool(date_field) and template is not None and date_field in template.field_ids()
                      and date_field not in guesses[serial])
            day, dated_by = (scanned.get((form, normalise_serial(serial))),
                             "pending" if date_waits else "unread" if unread else "scan")
        occasions.append(Occasion(
            form, serial, str(row.get("person_code", "")), order, written if parse_day(written) else "", day,
            dated_by if day else "", scores, {f: str(row.get(f, "")) for f in fields}, guesses[serial],
            frozenset(waiting[serial]), int(row.get("needs_review", 0)), int(row.get("reviewed", 0))))
    ranges = {rule.id: r for rule in rules.values() if (r := _range(rule, scales, rules)) is not None}
    return FormData(form, title, rules, date_field, fields, items, occasions, list(change.rows) if change else [],
                    ranges, person_field)


def _range(rule: ScoreRule, scales: dict[int, dict[str, tuple[float, float]]],
           rules: dict[str, ScoreRule]) -> tuple[float, float] | None:
    """The lowest and highest value a score can take, when its rule tells (else ``None``)."""
    scale: dict[str, tuple[float, float]] = {}
    for per_version in scales.values():
        scale.update(per_version)
    if rule.method == "gas":
        return None
    known = [scale[i] for i in rule.items if i in scale]
    if not known or len(known) < len(rule.items):
        return None
    low, high = min(k[0] for k in known), max(k[1] for k in known)
    if rule.method == "sum":
        low, high = sum(k[0] for k in known), sum(k[1] for k in known)
    elif rule.method == "change":
        low, high = low - high, high - low
    if rule.rescale:
        (a, b), (c, d) = rule.rescale
        low, high = c + (low - a) * (d - c) / (b - a), c + (high - a) * (d - c) / (b - a)
    return low, high


def persons(forms: Mapping[str, FormData]) -> list[str]:
    return sorted({o.person for f in forms.values() for o in f.occasions if o.person})


# --- The person report ---------------------------------------------------------------------------------

@dataclass
class PersonData:
    code: str
    forms: dict[str, FormData]  # every form of the store (for rules and titles)
    occasions: dict[str, list[Occasion]]  # the person's forms, by form, in the export's order (``in_order``)

    def latest_day(self) -> date | None:
        days = [o.day for own in self.occasions.values() for o in own if o.day]
        return max(days) if days else None


def same_code(code: str) -> str:
    """``code`` as it is compared: compatibility-composed (NFKC), so that a code typed with an accent as a second
    character (NFD, as macOS keeps file names) or with full-width digits (an East Asian keyboard) is the code
    it looks like, as the review app takes full-width digits as 0-9."""
    return unicodedata.normalize("NFKC", code)


def known_code(forms: Mapping[str, FormData], code: str) -> str:
    """The person code of ``forms`` that ``code`` (as typed for --person) is: itself, else the one code it is
    in another Unicode form; ``code`` as typed where none is, and an ``InputError`` where several are."""
    known = persons(forms)
    if code in known:
        return code
    alike = [person for person in known if same_code(person) == same_code(code)]
    if len(alike) > 1:
        raise InputError(f"--person {code}: as typed, this is each of the codes {', '.join(map(repr, alike))}, "
                         "written with different characters that look alike; write them differently in the codes "
                         "file")
    return alike[0] if alike else code


def person_data(forms: Mapping[str, FormData], code: str) -> PersonData:
    # in the order the export's change file takes them, so that the report never shows another direction of
    # change: by the written date; one without (none written, or one still being checked) by scan order
    own = {name: in_order([o for o in f.occasions if o.person == code], lambda o: o.written_date, lambda o: o.order)
           for name, f in forms.items()}
    own = {name: occasions for name, occasions in own.items() if occasions}
    if not own:
        known = persons(forms)
        hint = f" (codes found: {', '.join(known[:8])}{' ...' if len(known) > 8 else ''})" if known else \
            " (no form is linked to a code: give --codes with the manifest of the print run)"
        raise InputError(f"--person {code}: no returned form has this code{hint}")
    return PersonData(code, dict(forms), own)


# --- The service report --------------------------------------------------------------------------------

@dataclass
class FormSummary:
    form: str
    title: str
    returned: int  # rows of <form>.csv
    with_code: int  # of them, linked to a person code
    items: int  # questions the scores read, per form
    items_asked: int  # items x returned
    items_answered: int  # cells of those items with an answer in <form>.csv
    waiting: int  # sum of the needs_review column
    reviewed: int  # sum of the reviewed column
    ready: int  # forms with no value waiting for review

    @property
    def completion(self) -> float | None:
        return self.items_answered / self.items_asked if self.items_asked else None

    @property
    def share_reviewed(self) -> float | None:
        flagged = self.waiting + self.reviewed
        return self.reviewed / flagged if flagged else None


@dataclass
class Distribution:
    form: str
    score: str
    label: str
    values: list[float]  # the usable values of the score column of <form>.csv
    pending: int
    invalid: int
    low: float | None
    high: float | None

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None


@dataclass
class ChangeSummary:
    form: str
    score: str
    label: str
    changes: dict[str, float]  # person -> change, from <form>_change.csv rows with a change
    # person -> why no change: WAITS (first or latest waits for review), TOO_FEW (fewer than two usable
    # occasions) or NOT_COMPARABLE (first and latest of template versions that score it otherwise)
    left_out: dict[str, str]
    better: str  # 'lower', 'higher' or ''
    reliable: float | None  # reliable change, in points of the score
    rule: str  # the reliable-change rule in words

    @property
    def n(self) -> int:
        return len(self.changes)

    @property
    def pending(self) -> int:
        return sum(why == WAITS for why in self.left_out.values())

    @property
    def too_few(self) -> int:
        return sum(why == TOO_FEW for why in self.left_out.values())

    @property
    def not_comparable(self) -> int:
        return sum(why == NOT_COMPARABLE for why in self.left_out.values())

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.changes.values()) if self.changes else None

    @property
    def sd(self) -> float | None:
        return statistics.stdev(self.changes.values()) if len(self.changes) > 1 else None

    def improved(self) -> int | None:
        """Persons whose change is a reliable improvement (``None`` without a rule or a direction)."""
        if self.reliable is None or not self.better:
            return None
        sign = -1 if self.better == "lower" else 1
        return sum(sign * c >= self.reliable for c in self.changes.values())

    def worsened(self) -> int | None:
        if self.reliable is None or not self.better:
            return None
        sign = -1 if self.better == "lower" else 1
        return sum(-sign * c >= self.reliable for c in self.changes.values())


@dataclass
class Correlation:
    n: int
    r: float | None
    low: float | None = None  # 95 % confidence interval (Fisher z), only with n >= MIN_N_FOR_CI
    high: float | None = None
    note: str = ""


@dataclass
class Association:
    x_label: str
    y_label: str
    x_form: str
    x_score: str
    pairs: list[tuple[str, float, float]]  # person, x, y
    correlation: Correlation
    left_out: str  # who is not in the plot, and why


@dataclass
class ServiceData:
    start: date | None
    end: date | None
    forms: dict[str, FormData]
    summaries: list[FormSummary]
    months: dict[str, dict[str, int]]  # 'YYYY-MM' (or '' for no written date) -> form -> forms returned
    distributions: list[Distribution]
    changes: list[ChangeSummary]
    associations: list[Association]
    persons: int


def service_data(forms: Mapping[str, FormData], start: date | None = None, end: date | None = None) -> ServiceData:
    summaries, distributions, changes = [], [], []
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, f in forms.items():
        for o in f.occasions:
            months[o.written_date[:7]][name] += 1
        summaries.append(_summary(f))
        for rule in f.rules.values():
            scores = [o.scores[rule.id] for o in f.occasions if rule.id in o.scores]
            low, high = f.ranges.get(rule.id, (None, None))
            values = [s.value for s in scores if s.value is not None]
            distributions.append(Distribution(name, rule.id, rule.label, values, sum(s.pending for s in scores),
                                              sum(s.status == INVALID for s in scores), low, high))
            if rule.change:
                changes.append(_change(f, rule))
    associations = []
    k10 = forms.get(WELLBEING[0])
    change = next((c for c in changes if (c.form, c.score) == WELLBEING), None)
    if k10 is not None and change is not None:
        for form, score, words in GOAL_MEASURES + ALLIANCE_MEASURES:
            if form in forms:
                associations.append(_association(forms[form], score, words, change))
    ordered_months = {m: dict(months[m]) for m in sorted(months, key=lambda m: m or "9999")}
    return ServiceData(start, end, dict(forms), summaries, ordered_months, distributions, changes, associations,
                       len(persons(forms)))


def _summary(f: FormData) -> FormSummary:
    answered = sum(o.values.get(i, "") != "" for o in f.occasions for i in f.items)
    return FormSummary(f.form, f.title, len(f.occasions), sum(bool(o.person) for o in f.occasions), len(f.items),
                       len(f.items) * len(f.occasions), answered, sum(o.waiting_count for o in f.occasions),
                       sum(o.reviewed_count for o in f.occasions), sum(o.waiting_count == 0 for o in f.occasions))


def reliable_change(rule: ScoreRule) -> tuple[float | None, str]:
    """The reliable change of a score (the template's ``reliable_change``) and the rule in words."""
    if rule.reliable_change is not None:
        return rule.reliable_change, (f"reliable change {rule.reliable_change:g} points, as the template defines "
                                      "(reliable_change)")
    return None, "no reliable change is defined for this score: only the mean change is given"


WAITS, TOO_FEW, NOT_COMPARABLE = "waits", "too few", "not comparable"  # why a person has no change


def _change(f: FormData, rule: ScoreRule) -> ChangeSummary:
    rows = [r for r in f.change if r["score"] == rule.id]
    changes = {str(r["person_code"]): float(r["change"]) for r in rows
               if str(r["status"]).startswith("complete") and number(r.get("change")) is not None}
    left_out = {str(r["person_code"]): WAITS if str(r["status"]).startswith(PENDING)
                else NOT_COMPARABLE if "template versions" in str(r["status"]) else TOO_FEW
                for r in rows if str(r["person_code"]) not in changes}
    amount, words = reliable_change(rule)
    return ChangeSummary(f.form, rule.id, rule.label, changes, left_out, better(rule.id), amount, words)


def latest_per_person(f: FormData, score: str) -> tuple[dict[str, float], set[str]]:
    """Each person's latest usable value of ``score``, their occasions ordered as the export orders them for
    change; a person whose latest occasion may be one waiting for review is left out (returned: who), as is one
    whose latest may be a form whose written person code waits for review (it may be anyone's)."""
    own: dict[str, list[Occasion]] = defaultdict(list)
    anyones: list[Occasion] = []
    for o in f.occasions:
        if o.person and score in o.scores:
            own[o.person].append(o)
        elif (not o.person and score in o.scores and f.person_field is not None and f.person_field in o.waiting
              and o.scores[score].status in (COMPLETE, PRORATED, PENDING)):
            anyones.append(o)
    latest: dict[str, float] = {}
    pending: set[str] = set()
    for person, unordered in own.items():
        # as the export's change file: a date waits while the form's date field waits for review, whether or
        # not the machine's guess reads as a date
        if not ends_settled_among(unordered, anyones, lambda o: o.written_date, lambda o: o.order,
                                  lambda o: o.scores[score].status,
                                  lambda o: f.date_field is not None and f.date_field in o.waiting)[1]:
            pending.add(person)
            continue
        occasions = in_order(unordered, lambda o: o.written_date, lambda o: o.order)
        usable = [o.scores[score].value for o in occasions if o.scores[score].value is not None]
        if usable:
            latest[person] = usable[-1]
    return latest, pending


def _association(f: FormData, score: str, words: str, change: ChangeSummary) -> Association:
    latest, pending = latest_per_person(f, score)
    pairs = [(p, latest[p], change.changes[p]) for p in sorted(set(latest) & set(change.changes))]
    # each person of the K10 change file not in the plot, in one note only (the first reason that holds); a
    # person with no K10 at all is in none: they could never be in the plot
    why: dict[str, str] = dict(change.left_out)
    for person in set(change.changes) - set(latest):
        why[person] = "x waits" if person in pending else "no x"
    words_for = {"no x": f"with a K10 change but no usable {f.form} score",
                 "x waits": f"whose latest {f.form} waits for review",
                 WAITS: "whose first or latest K10 waits for review",
                 TOO_FEW: "with fewer than two usable K10 occasions",
                 NOT_COMPARABLE: "whose first and latest K10 are of template versions that score it otherwise"}
    counts = Counter(why.values())
    notes = [f"{counts[reason]} {text}" for reason, text in words_for.items() if counts[reason]]
    y_label = "K10 change, first to latest (negative = less distress)"
    return Association(words, y_label, f.form, score, pairs, pearson([p[1] for p in pairs], [p[2] for p in pairs]),
                       "; ".join(notes))


def pearson(xs: list[float], ys: list[float]) -> Correlation:
    """Pearson's r, and its 95 % confidence interval by Fisher's z when n >= 10."""
    n = len(xs)
    if n < 3:
        return Correlation(n, None, note=f"n = {n}: too few people to compute a correlation (it needs 3 or more)")
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return Correlation(n, None, note=f"n = {n}: no correlation: every person has the same value on one axis")
    r = statistics.correlation(xs, ys)
    if n < MIN_N_FOR_CI:
        return Correlation(n, r, note=f"n = {n}: fewer than {MIN_N_FOR_CI} people, so no confidence interval is "
                                      "given; r describes these people only")
    if abs(r) >= 1:
        return Correlation(n, r, note="r is exactly ±1: no confidence interval by Fisher's z")
    z, se = math.atanh(r), 1 / math.sqrt(n - 3)
    return Correlation(n, r, math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se),
                       "95 % confidence interval by Fisher's z")

