"""Client and worker forms in pairs: which forms pair, how a pair is found, and what is compared.

Two shipped forms have a worker's version: ``goal-card`` (``goal-review-worker``) and ``alliance-check``
(``alliance-check-worker``). ``formkit generate goal-card --pair`` prints both with ONE serial: the two
halves of a pair carry the same code under their QR (the store keys a page by form and serial, so the two
never clash), which is the pair id. Nothing about the person is in it, and pages printed before pairs
existed read and decode as ever: the QR payload is unchanged.

How a client's form and a worker's form are linked (``link``):

1. the same serial (printed together with ``--pair``): ``linked_by`` is ``serial``;
2. else the same person code (from ``--codes`` files) and the same date written on both forms (the
   forms' occasion date fields), when exactly one form of each side has them: ``person-date``. Dates still
   waiting for review are not used; several forms of one side for one person and date link none of them.
3. a form left over is ``unpaired``: the other half has not come back (or could not be told).

What is compared (the scoring vocabulary of a template reads one form, so these rules live here):

- goal card: for each review #1-#4 both rated, the client's progress rating minus the worker's
  (``progress_N_diff``) and whether they agree within one point (``progress_N_agree``, 1 or 0); per goal,
  the same at the latest review both rated (``latest_diff``, ``latest_agree``); and per person and
  occasion (a person's goal pairs with the same date set), the goal-consensus share: of their goals with a
  comparison, the share whose latest ratings agree within one point (``consensus_share``, 0 to 1).
- alliance check: the alliance gap, client minus worker, of the total and of each subscale (goals, tasks,
  bond), each score computed by its own template's rules (``ac_total_gap`` ...).

Each form is read from the export's own tables (``exports.frames.scored_tables``), so a pair holds what
``<form>.csv`` holds. One rule for values waiting for review, the export's: such a value is empty here, and
nothing is computed from it: the comparison's status says ``pending-review``. An answer of a page never read
(not scanned, or voided) is not a blank answer: a score reading it is ``invalid: not read``, as in the export.
A row's ``status`` is ``unpaired`` when one half is missing, else ``pending-review`` while a value the row uses
(dates, texts shown, ratings, inputs of the compared scores) waits for review on either side, else
``complete``.

``pair_tables(rows, codes, catalogue)`` gives ``<client form>_pairs.csv`` for every pairing in use (the
store holds at least one worker's form of it), with a codebook description of each column; the export hands
it the tables it made (``forms``), so each form is tabled once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Generic, TypeVar

from .catalogue import Catalogue, shipped_catalogue
from .exports.frames import INVALID as FOUND_ILLEGIBLE
from .exports.frames import NOT_READ, WAITING, FormTables, scored_tables
from .scoring import COMPLETE, INVALID, PENDING, PRORATED, Answer, ScoreResult, score_form
from .scoring.compute import format_number
from .scoring.rules import scales
from .serial import SERIAL_LENGTH, format_serial, normalise_serial

UNPAIRED = "unpaired"
BY_SERIAL, BY_PERSON_DATE = "serial", "person-date"


@dataclass(frozen=True)
class PairSpec:
    """A client's form and its worker's version. ``ratings`` are compared one by one (the same field id on
    both forms) within ``tolerance``; ``gaps`` are scores (the same score id on both) compared as client
    minus worker; ``client_texts`` and ``worker_texts`` are fields shown beside them."""

    client: str
    worker: str
    date_field: str
    ratings: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    client_texts: tuple[str, ...] = ()
    worker_texts: tuple[str, ...] = ()
    tolerance: float = 1.0

    @property
    def file_name(self) -> str:
        return f"{self.client}_pairs.csv"


PAIRS: dict[str, PairSpec] = {
    "goal-card": PairSpec("goal-card", "goal-review-worker", "date_set",
                          ratings=("progress_1", "progress_2", "progress_3", "progress_4"),
                          client_texts=("goal",), worker_texts=("goal", "goal_match")),
    "alliance-check": PairSpec("alliance-check", "alliance-check-worker", "date_completed",
                               gaps=("ac_total", "ac_goal", "ac_task", "ac_bond")),
}
WORKER_FORMS: dict[str, PairSpec] = {spec.worker: spec for spec in PAIRS.values()}


def worker_form(client_form: str) -> str | None:
    """The form id of the worker's version of ``client_form``, or ``None`` when it has none."""
    spec = PAIRS.get(client_form)
    return spec.worker if spec else None


# --- Linking -------------------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Link(Generic[T]):
    """A client's form and a worker's form that go together (one of them ``None`` when unpaired)."""

    client: T | None
    worker: T | None
    linked_by: str  # 'serial', 'person-date' or '' (unpaired)
    note: str = ""  # why it is unpaired

    @property
    def paired(self) -> bool:
        return self.client is not None and self.worker is not None


def link(clients: Sequence[T], workers: Sequence[T], ends: Callable[[T], tuple[str, str, str]]) -> list[Link[T]]:
    """Pairs of ``clients`` and ``workers`` (forms of one pairing), and each form left over. ``ends`` gives a
    form's serial, person code and date ('' when unknown or waiting for review)."""
    links: list[Link[T]] = []
    by_serial = {normalise_serial(ends(w)[0]): w for w in workers}
    used: set[int] = set()
    rest: list[T] = []
    for c in clients:
        w = by_serial.get(normalise_serial(ends(c)[0]))
        if w is not None and id(w) not in used:
            used.add(id(w))
            links.append(Link(c, w, BY_SERIAL))
        else:
            rest.append(c)
    rest_workers = [w for w in workers if id(w) not in used]
    groups: dict[tuple[str, str], tuple[list[T], list[T]]] = defaultdict(lambda: ([], []))
    for side, forms in enumerate((rest, rest_workers)):
        for f in forms:
            _, person, day = ends(f)
            if person and day:
                groups[(person, day)][side].append(f)
    notes: dict[int, str] = {}
    for (person, day), (cs, ws) in groups.items():
        if len(cs) == 1 and len(ws) == 1:
            used.add(id(cs[0]))
            used.add(id(ws[0]))
            links.append(Link(cs[0], ws[0], BY_PERSON_DATE))
        elif cs and ws:
            note = (f"{len(cs)} client and {len(ws)} worker forms of {person} dated {day}: cannot tell which go "
                    "together (print them with --pair)")
            notes.update({id(f): note for f in cs + ws})
    for c in rest:
        if id(c) not in used:
            links.append(Link(c, None, "", notes.get(id(c), "the worker's form has not come back" +
                                                     _undated(ends(c)))))
    for w in rest_workers:
        if id(w) not in used:
            links.append(Link(None, w, "", notes.get(id(w), "the client's form has not come back" +
                                                     _undated(ends(w)))))
    return links


def _undated(ends: tuple[str, str, str]) -> str:
    _, person, day = ends
    if not person:
        return " (no person code to link by: give --codes)"
    return "" if day else " (no date to link by, or it waits for review)"


# --- One returned form, from the export's tables --------------------------------------------------------

@dataclass
class Side:
    """One returned form as the export's wide table has it: its values ('' while waiting for review, or when
    its page was not read), which of them wait and which were never read, its person code, and its scores."""

    form: str
    version: int
    serial: str  # without the dash
    order: int
    values: dict[str, str] = field(default_factory=dict)
    waiting: set[str] = field(default_factory=set)
    unread: set[str] = field(default_factory=set)  # fields of a page not scanned, or voided
    needs_review: int = 0  # the export's needs_review: values of the form waiting for review
    person: str = ""
    scores: dict[str, ScoreResult] = field(default_factory=dict)
    decimals: dict[str, int | None] = field(default_factory=dict)
    rule_inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def value(self, field_id: str) -> str:
        return "" if field_id in self.waiting else self.values.get(field_id, "")


def read_sides(tables: FormTables | None) -> list[Side]:
    """Every returned form of one form's export tables (``exports.frames.scored_tables``), so that a pair
    reads what ``<form>.csv`` holds: the first reading of a page counts, a value that another image reads
    otherwise waits until a person decides it, and an answer of a page never read is not a blank answer
    (``FormTables.empty`` tells each apart). Scores are computed from the same answers the export scores."""
    if tables is None:
        return []
    sides = []
    for order, (row, why) in enumerate(zip(tables.wide.rows, tables.empty.to_dict("records"), strict=True)):
        version = int(row["version"])
        side = Side(tables.form, version, normalise_serial(str(row["serial"])), order,
                    values={f: str(row.get(f, "")) for f in tables.fields},
                    waiting={f for f in tables.fields if why[f] == WAITING},
                    unread={f for f in tables.fields if why[f] == NOT_READ},
                    needs_review=int(row["needs_review"]), person=str(row["person_code"]))
        template, scoring = tables.templates.get(version), tables.scorings.get(version)
        if template is not None and scoring is not None:
            answers = {f: Answer(side.values[f], f in side.waiting, f not in side.unread, why[f] == FOUND_ILLEGIBLE)
                       for f in tables.fields}
            side.scores = score_form(scoring, answers, scales(template))
            inputs = {r.id: r.inputs() for r in scoring.scores}
            side.decimals = {rule.id: rule.decimals for rule in scoring.scores}
            side.rule_inputs = {rule.id: _fields_read(rule.id, inputs) for rule in scoring.scores}
        sides.append(side)
    return sides


def _fields_read(score_id: str, inputs: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The fields a score reads, through the scores it reads."""
    out: list[str] = []
    for item in inputs.get(score_id, ()):
        out += _fields_read(item, inputs) if item in inputs else [item]
    return tuple(dict.fromkeys(out))


def _number(text: Any) -> float | None:
    try:
        return float(text) if str(text).strip() != "" else None
    except (TypeError, ValueError):
        return None


def _round(value: float, decimals: int | None) -> str:
    if decimals is None:
        return format_number(value, None)
    return format_number(float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)),
                         decimals)


def shown(serial: str) -> str:
    """A serial as printed (``K7M3-QX9C``)."""
    bare = normalise_serial(serial)
    return format_serial(bare) if len(bare) == SERIAL_LENGTH else serial


# --- The pairs file -------------------------------------------------------------------------------------

def pair_tables(rows: Iterable[Any], codes: Mapping[str, str] | None = None,
                catalogue: Catalogue | None = None, forms: Mapping[str, FormTables] | None = None
                ) -> list[tuple[str, list[str], list[dict[str, Any]], dict[str, tuple[str, str, str, str]]]]:
    """``(file name, columns, rows, column descriptions)`` of ``<client form>_pairs.csv`` for each pairing
    in use in ``rows`` (``Store.values()``): a row per pair, and per form whose other half is missing.
    ``codes`` maps serials to person codes (``export.read_codes``); descriptions are ``(label, type,
    allowed values, rule)`` per column, for the codebook. Values are as the export writes them (serials as
    printed); cells are not yet made safe for spreadsheets (the export does that when writing). ``forms``:
    the tables ``scored_tables`` made of these ``rows``, ``codes`` and ``catalogue``, when the caller has
    them (the export), used as they are instead of made again; their band sets do not matter, as a pair
    reads the fields and scores them itself."""
    paired_forms = {f for spec in PAIRS.values() for f in (spec.client, spec.worker)}
    rows = [r for r in rows if r["form"] in paired_forms]
    present = {r["form"] for r in rows if r["status"] == "read"}
    if not any(spec.worker in present for spec in PAIRS.values()):
        return []
    if forms is None:
        forms = scored_tables(rows, codes, catalogue=catalogue or shipped_catalogue())
    tables = []
    for spec in sorted(PAIRS.values(), key=lambda s: s.client):
        if spec.worker not in present:
            continue
        clients, workers = read_sides(forms.get(spec.client)), read_sides(forms.get(spec.worker))
        links = link(clients, workers, lambda s, spec=spec: (s.serial, s.person, s.value(spec.date_field)))
        columns, described = pair_columns(spec)
        out = [pair_row(spec, lk) for lk in links]
        if spec.ratings:
            _add_consensus(out)
        out.sort(key=lambda r: (r["status"].startswith(UNPAIRED), r["person_code"] == "", r["person_code"],
                                r["occasion_date"] or "9999", r["client_serial"] or r["worker_serial"]))
        tables.append((spec.file_name, columns, out, described))
    return tables


STATUS_WORDS = ("complete | pending-review: what waits for review | unpaired: why (one half has not come back, "
                "or could not be told)")
SCORE_STATUS = ("complete | prorated (a side's score was prorated) | invalid: why | pending-review: an input waits "
                "for review (no value until then) | unpaired")


def pair_columns(spec: PairSpec) -> tuple[list[str], dict[str, tuple[str, str, str, str]]]:
    """The columns of a pairing's file and what each means: (label, type, allowed values, rule)."""
    d: dict[str, tuple[str, str, str, str]] = {
        "pair_id": ("The pair: the serial both halves carry (printed with --pair), else client and worker serials "
                    "joined by '+'; empty when unpaired", "text", "", ""),
        "linked_by": ("How the two forms were linked", "text", "serial | person-date | empty (unpaired)",
                      "serial: the same serial on both (printed with --pair); person-date: the same person code "
                      "and the same date written on both, with one form of each side for them"),
        "person_code": ("Pseudonymous person code (from --codes)", "text", "", ""),
        "occasion_date": (f"The occasion: {spec.date_field} of the client's form, else of the worker's", "date",
                          "YYYY-MM-DD or empty", ""),
        "client_serial": (f"Serial of the client's form ({spec.client}), as printed", "text", "", ""),
        "worker_serial": (f"Serial of the worker's form ({spec.worker}), as printed", "text", "", ""),
        "client_version": (f"Template version of the client's form ({spec.client})", "integer", "", ""),
        "worker_version": (f"Template version of the worker's form ({spec.worker})", "integer", "", ""),
        "client_date": (f"{spec.date_field} written on the client's form", "date", "YYYY-MM-DD; empty when blank "
                        "or waiting for review", ""),
        "worker_date": (f"{spec.date_field} written on the worker's form", "date", "YYYY-MM-DD; empty when blank "
                        "or waiting for review", ""),
    }
    empty = "; empty when blank or waiting for review"
    for f in spec.client_texts:
        d[f"client_{f}"] = (f"{f} on the client's form", "text", f"as read or reviewed{empty}", "")
    for f in spec.worker_texts:
        d[f"worker_{f}"] = (f"{f} on the worker's form", "text", f"as read or reviewed{empty}", "")
    tol = format_number(spec.tolerance, None)
    for number, item in enumerate(spec.ratings, start=1):
        d[f"client_{item}"] = (f"The client's rating {item} (review #{number})", "number", f"as on the form{empty}",
                               "")
        d[f"worker_{item}"] = (f"The worker's rating {item} (review #{number})", "number", f"as on the form{empty}",
                               "")
        d[f"{item}_diff"] = (f"Client minus worker, {item}", "number", "empty unless both rated it",
                             f"client_{item} - worker_{item}")
        d[f"{item}_agree"] = (f"Client and worker agree on {item}", "integer", "1 | 0 | empty unless both rated it",
                              f"1 when |{item}_diff| <= {tol}, else 0")
    if spec.ratings:
        d.update({
            "latest_review": ("The latest review both rated (its number)", "integer",
                              f"1-{len(spec.ratings)} or empty", ""),
            "latest_diff": ("Per goal: client minus worker at the latest review both rated", "number", "",
                            f"the last of {', '.join(spec.ratings)} rated on both forms: client - worker"),
            "latest_agree": ("Per goal: client and worker agree on progress at the latest review both rated",
                             "integer", "1 | 0 | empty", f"1 when |latest_diff| <= {tol}, else 0"),
            "latest_status": ("Status of the per-goal comparison", "text", SCORE_STATUS,
                              "pending-review while any rating of either form waits for review"),
            "consensus_share": ("Goal-consensus share of this person and occasion", "number", "0 to 1, three "
                                "decimals", "of the person's goal pairs with this occasion_date (the pair alone "
                                "without a person code or date) that have latest_agree, the share with "
                                "latest_agree = 1"),
            "consensus_goals": ("Goals in the consensus share", "integer", "0 or more", ""),
            "consensus_status": ("Status of consensus_share", "text", SCORE_STATUS,
                                 "pending-review while a goal of the person and occasion is pending-review"),
        })
    for score in spec.gaps:
        d[f"client_{score}"] = (f"The client's {score}, by {spec.client}'s scoring rule", "number",
                                "empty unless complete or prorated", "")
        d[f"worker_{score}"] = (f"The worker's {score}, by {spec.worker}'s scoring rule", "number",
                                "empty unless complete or prorated", "")
        d[f"{score}_gap"] = (f"Alliance gap, {score}: client minus worker", "number", "empty unless both scored",
                             f"client_{score} - worker_{score}")
        d[f"{score}_gap_status"] = (f"Status of {score}_gap", "text", SCORE_STATUS,
                                    "pending-review or invalid when either side's score is; prorated when either "
                                    "was prorated")
    d.update({
        "client_needs_review": ("Values of the client's form still waiting for review (all of its fields)", "integer",
                                "0 or more", ""),
        "worker_needs_review": ("Values of the worker's form still waiting for review (all of its fields)", "integer",
                                "0 or more", ""),
        "status": ("Status of the pair", "text", STATUS_WORDS,
                   "unpaired when one half is missing; else pending-review while a value this row uses waits for "
                   "review on either form; else complete"),
    })
    return list(d), d


def pair_row(spec: PairSpec, lk: Link[Side]) -> dict[str, Any]:
    """One row of the pairs file."""
    c, w = lk.client, lk.worker
    row: dict[str, Any] = {
        "pair_id": "", "linked_by": lk.linked_by, "person_code": (c.person if c else "") or (w.person if w else ""),
        "client_serial": shown(c.serial) if c else "", "worker_serial": shown(w.serial) if w else "",
        "client_version": c.version if c else "", "worker_version": w.version if w else "",
        "client_date": c.value(spec.date_field) if c else "", "worker_date": w.value(spec.date_field) if w else "",
    }
    if lk.linked_by == BY_SERIAL:
        row["pair_id"] = row["client_serial"]
    elif lk.linked_by == BY_PERSON_DATE:
        row["pair_id"] = f"{row['client_serial']}+{row['worker_serial']}"
    row["occasion_date"] = row["client_date"] or row["worker_date"]
    row.update({f"client_{f}": c.value(f) if c else "" for f in spec.client_texts})
    row.update({f"worker_{f}": w.value(f) if w else "" for f in spec.worker_texts})
    used_c = {spec.date_field, *spec.client_texts, *spec.ratings}
    used_w = {spec.date_field, *spec.worker_texts, *spec.ratings}
    if spec.ratings:
        row.update(_ratings(spec, c, w))
    for score in spec.gaps:
        row.update(_gap(score, c, w))
        used_c |= set(c.rule_inputs.get(score, ())) if c else set()
        used_w |= set(w.rule_inputs.get(score, ())) if w else set()
    row["client_needs_review"] = c.needs_review if c else ""
    row["worker_needs_review"] = w.needs_review if w else ""
    waiting = [f"{who} {', '.join(sorted(s.waiting & used))}" for who, s, used in
               (("client", c, used_c), ("worker", w, used_w)) if s and s.waiting & used]
    if not lk.paired:
        row["status"] = f"{UNPAIRED}: {lk.note}"
    elif waiting:
        row["status"] = f"{PENDING}: waiting for review: {'; '.join(waiting)}"
    else:
        row["status"] = COMPLETE
    return row


def _ratings(spec: PairSpec, c: Side | None, w: Side | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    latest: tuple[int, float] | None = None
    for number, item in enumerate(spec.ratings, start=1):
        a, b = (_number(c.value(item)) if c else None), (_number(w.value(item)) if w else None)
        out[f"client_{item}"] = c.value(item) if c else ""
        out[f"worker_{item}"] = w.value(item) if w else ""
        out[f"{item}_diff"] = out[f"{item}_agree"] = ""
        if a is not None and b is not None:
            out[f"{item}_diff"] = format_number(a - b, None)
            out[f"{item}_agree"] = int(abs(a - b) <= spec.tolerance)
            latest = (number, a - b)
    out.update(latest_review="", latest_diff="", latest_agree="")
    pending = [f"{who} {i}" for who, s in (("client", c), ("worker", w)) if s for i in spec.ratings if i in s.waiting]
    if c is None or w is None:
        out["latest_status"] = UNPAIRED
    elif pending:
        out["latest_status"] = f"{PENDING}: waiting for review of {', '.join(pending)}"
    elif latest is None:
        out["latest_status"] = f"{INVALID}: no review rated on both forms"
    else:
        out.update(latest_review=latest[0], latest_diff=format_number(latest[1], None),
                   latest_agree=int(abs(latest[1]) <= spec.tolerance), latest_status=COMPLETE)
    return out


def _add_consensus(rows: list[dict[str, Any]]) -> None:
    """The goal-consensus share of each person and occasion, on each of their rows."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row["latest_status"] == UNPAIRED:
            row.update(consensus_share="", consensus_goals="", consensus_status=UNPAIRED)
            continue
        key = (row["person_code"], row["occasion_date"]) if row["person_code"] and row["occasion_date"] else i
        groups[key].append(row)
    for group in groups.values():
        rated = [r["latest_agree"] for r in group if r["latest_status"] == COMPLETE]
        pending = sum(r["latest_status"].startswith(PENDING) for r in group)
        share, status = "", COMPLETE
        if pending:
            status = f"{PENDING}: {pending} goal(s) of this person and occasion wait for review"
        elif not rated:
            status = f"{INVALID}: no goal compared"
        else:
            share = _round(sum(rated) / len(rated), 3)
        for r in group:
            r.update(consensus_share=share, consensus_goals=len(rated) if not pending else "",
                     consensus_status=status)


def _gap(score: str, c: Side | None, w: Side | None) -> dict[str, Any]:
    a = c.scores.get(score) if c else None
    b = w.scores.get(score) if w else None
    out: dict[str, Any] = {
        f"client_{score}": _score_text(a, c.decimals.get(score) if c else None),
        f"worker_{score}": _score_text(b, w.decimals.get(score) if w else None),
        f"{score}_gap": "",
    }
    if c is None or w is None:
        out[f"{score}_gap_status"] = UNPAIRED
        return out
    if a is None or b is None:
        out[f"{score}_gap_status"] = f"{INVALID}: {'client' if a is None else 'worker'} form has no {score} score"
        return out
    for status in (PENDING, INVALID):
        bad = [f"{who}: {r.reason}" if r.reason else who for who, r in (("client", a), ("worker", b))
               if r.status == status]
        if bad:
            out[f"{score}_gap_status"] = f"{status}: {'; '.join(bad)}"
            return out
    assert a.value is not None and b.value is not None
    decimals = max((d for d in (c.decimals.get(score), w.decimals.get(score)) if d is not None), default=None)
    out[f"{score}_gap"] = _round(a.value - b.value, decimals)
    out[f"{score}_gap_status"] = PRORATED if PRORATED in (a.status, b.status) else COMPLETE
    return out


def _score_text(result: ScoreResult | None, decimals: int | None) -> str:
    if result is None or result.value is None or result.status not in (COMPLETE, PRORATED):
        return ""
    return result.text(decimals)


def codebook_rows(table: tuple[str, list[str], list[dict[str, Any]], Mapping[str, tuple[str, str, str, str]]]
                  ) -> list[dict[str, Any]]:
    """Rows of ``codebook.csv`` (file, variable, label, type, allowed_values, rule, template, versions) for
    one table of ``pair_tables``."""
    name, columns, rows, described = table
    spec = next(s for s in PAIRS.values() if s.file_name == name)
    versions = "; ".join(f"{form} {';'.join(sorted({str(r[key]) for r in rows if r[key] != ''}))}"
                         for form, key in ((spec.client, "client_version"), (spec.worker, "worker_version")))
    return [{"file": name, "variable": column, "label": described[column][0], "type": described[column][1],
             "allowed_values": described[column][2], "rule": described[column][3],
             "template": f"{spec.client};{spec.worker}", "versions": versions} for column in columns]
