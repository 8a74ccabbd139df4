"""The export's tables, built once from the store's rows as pandas DataFrames. Every format is written from
these frames: CSV, Excel, SPSS, Stata and REDCap read the same cells, so they cannot disagree.

Per form: the wide table (a row per printed form: its answers and scores), the long table (a row per value,
with its provenance) and, when the form has change scores, the change table (first and latest occasion per
person). Cells are kept as the CSV writes them: text, or a number the store holds ('' when empty).

One rule for values still waiting for review, whatever their kind: the wide table leaves them empty (its
``needs_review`` column counts them, and no score is computed from them), the long table keeps the machine's
guess with ``needs_review=1``. Beside the wide table, ``FormTables.empty`` says why each empty answer or score
cell is empty (not answered, invalid, waiting for review, or not read at all), for the formats that keep
those apart (SPSS and Stata missing values, REDCap's form status)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from .. import codebook
from ..catalogue import Catalogue, shipped_catalogue
from ..errors import InputError
from ..scoring import PENDING, Answer, ScoreRule, Scoring, read_scoring, score_form
from ..scoring.occasions import CHANGE_COLUMNS, Occasion, change_rows
from ..scoring.rules import NUMBER, scales, score_columns
from ..serial import SERIAL_LENGTH, format_serial, normalise_serial
from ..template.schema import WIDE_LEAD_COLUMNS, WIDE_TAIL_COLUMNS, Template

LONG_COLUMNS = ["serial", "form", "version", "form_page", "field", "value", "confidence", "needs_review", "reason",
                "review", "reviewed_by", "reviewed_at", "machine_value", "source_file", "source_page",
                "source_region", "page_id"]

# Why a cell of the wide table is empty (``FormTables.empty``); '' when it holds a value.
HAS_VALUE = ""
NOT_ANSWERED = "not answered"  # read, and left blank (or a reviewer decided it is blank)
INVALID = "invalid"  # a reviewer found it illegible; for a score: it cannot be computed
WAITING = "waiting for review"  # the machine's guess waits for a person: never exported as if final
NOT_READ = "not read"  # no such value: that page was not scanned, or the form's version has no such field
MISSING_KINDS = (NOT_ANSWERED, INVALID, WAITING)


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula; numbers such as -2 stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.match(value):
        return "'" + value
    return value


def shown_serial(serial: str) -> str:
    """A serial as printed on the form (``K7M3-QX9C``), however it was written; anything that is not a
    serial's length is left as it is."""
    bare = normalise_serial(serial)
    return format_serial(bare) if len(bare) == SERIAL_LENGTH else serial


@dataclass
class Table:
    """One export table: ``name`` is its file name without the extension (``k10``, ``k10_long``,
    ``k10_change``, ``codebook``); ``frame`` holds its cells as the CSV writes them (object columns, ''
    where empty); ``described`` gives the codebook's words for the columns that are not fields or scores."""

    name: str
    kind: str  # wide | long | change | codebook
    frame: pd.DataFrame
    described: Mapping[str, tuple[str, str, str]]

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts (column -> cell)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.frame.itertuples(index=False, name=None)]


def frame(columns: list[str], rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A table's frame: the cells of ``rows`` in ``columns`` order, kept as the Python values they are (a
    key a row lacks is '')."""
    return pd.DataFrame([[row.get(c, "") for c in columns] for row in rows], columns=columns, dtype=object)


@dataclass
class FormTables:
    """The tables of one form, and what the typed formats need to know about them."""

    form: str
    wide: Table
    long: Table
    change: Table | None
    templates: dict[int, Template | None]  # by version found in the store (None: not installed)
    scorings: dict[int, Scoring]
    rules: dict[str, ScoreRule]  # every score of every version, first version's rule first
    chosen_sets: dict[str, str]  # band set used, by score id
    fields: list[str]  # the field columns of the wide table, in order
    empty: pd.DataFrame  # why each field and score cell of the wide table is empty (see MISSING_KINDS)
    order: list[tuple[str, int]]  # per wide row: its occasion date (or '') and scan order (its first page's id)
    # per score id, per version: the first version scored alike (``scored_alike``)
    scored_as: dict[str, dict[int, int]] = field(default_factory=dict)

    @property
    def tables(self) -> list[Table]:
        return [self.wide, self.long, *([self.change] if self.change is not None else [])]

    def title(self) -> str:
        return next((t.title for t in self.templates.values() if t), self.form)


def scored_tables(rows: list[Any], codes: Mapping[str, str] | None = None,
                  band_choice: Mapping[str, str] | None = None,
                  catalogue: Catalogue | None = None) -> dict[str, FormTables]:
    """The tables ``formkit export`` writes, by form (sorted), from ``rows`` (``Store.values()``), scored by
    the templates of ``catalogue`` (the shipped ones when ``None``), with ``codes`` (serial -> person code,
    serials with or without the dash) and ``band_choice`` (score id -> band set; one that names a score no
    form here has is left for the caller to judge)."""
    catalogue = catalogue or shipped_catalogue()
    codes = {normalise_serial(serial): code for serial, code in (codes or {}).items()}
    by_form: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_form[row["form"]].append(row)
    return {form: _form_tables(form, form_rows, codes, dict(band_choice or {}), catalogue)
            for form, form_rows in sorted(by_form.items())}


def _form_tables(form: str, rows: list[Any], codes: dict[str, str], band_choice: dict[str, str],
                 catalogue: Catalogue) -> FormTables:
    wide, long, seen_fields = _answers(form, rows)
    versions = sorted({r["version"] for r in wide.values()})
    templates = {v: catalogue.find_template(form, v) for v in versions}
    scorings = {v: read_scoring(t) if t else Scoring() for v, t in templates.items()}
    version_scales = {v: scales(t) for v, t in templates.items()}
    scored_as = scored_alike(scorings, {v: _options_by_field(t) for v, t in templates.items()})
    fields = _field_order([t for t in templates.values() if t], seen_fields)
    rules: dict[str, ScoreRule] = {}
    for v in versions:
        for rule in scorings[v].scores:
            rules.setdefault(rule.id, rule)
    chosen_sets = {}
    for score_id, rule in rules.items():
        chosen = band_choice.get(score_id, rule.default_bands)
        if rule.band_sets and chosen not in rule.band_sets:
            raise InputError(f"--bands {score_id}={chosen}: the sets are {', '.join(rule.band_sets)}")
        chosen_sets[score_id] = chosen
    occasions: dict[str, list[Occasion]] = defaultdict(list)
    empty: list[dict[str, str]] = []
    order: list[tuple[str, int]] = []
    for row in wide.values():
        version = row["version"]
        scoring = scorings[version]
        person = codes.get(normalise_serial(row["serial"]), "")
        person_waiting = False
        if not person and scoring.person_field:
            person = row.get(scoring.person_field, "")
            person_waiting = scoring.person_field in row["_review"]
        row["person_code"] = person
        answers = {f: Answer(row.get(f, ""), f in row["_review"], f in row, f in row["_illegible"]) for f in fields}
        results = score_form(scoring, answers, version_scales[version], chosen_sets)
        why = {f: _why_empty(row, f) for f in fields}
        date = row.get(scoring.occasion_date_field, "") if scoring.occasion_date_field else ""
        order.append((date, row["_scanned"]))
        for rule in scoring.scores:
            result = results[rule.id]
            row[rule.id] = result.text(rule.decimals)
            row[f"{rule.id}_status"] = f"{result.status}: {result.reason}" if result.reason else result.status
            if rule.band_sets:
                row[f"{rule.id}_band"] = result.band
            if rule.change:
                occasions[rule.id].append(Occasion(person, row["serial"], date, row["_scanned"], result.value,
                                                   result.status, scoring.occasion_date_field in row["_review"],
                                                   person_waiting, scored_as[rule.id][version]))
            why[rule.id] = HAS_VALUE if result.value is not None else WAITING if result.status == PENDING \
                else INVALID
        if templates[version] is None:  # another version's scores: none for this one, and why
            for score_id in rules:
                row[f"{score_id}_status"] = f"{INVALID}: version {version} of {form} is not installed (--templates)"
                why[score_id] = INVALID
        why.update({score_id: NOT_READ for score_id in rules if score_id not in why})
        empty.append(why)
    columns = [*WIDE_LEAD_COLUMNS, *fields, *(c for r in rules.values() for c in score_columns(r)),
               *WIDE_TAIL_COLUMNS]
    wide_table = Table(form, "wide", frame(columns, list(wide.values())), codebook.ROW_COLUMNS)
    long_table = Table(f"{form}_long", "long", frame(LONG_COLUMNS, long),
                       {**codebook.ROW_COLUMNS, **codebook.LONG_FILE})
    change_table = None
    if any(rule.change for rule in rules.values()):
        change = [row for rule in rules.values() if rule.change
                  for row in change_rows(rule.id, occasions[rule.id], rule.decimals)]
        change_table = Table(f"{form}_change", "change", frame(CHANGE_COLUMNS, change), codebook.CHANGE_FILE)
    return FormTables(form, wide_table, long_table, change_table, templates, scorings, rules, chosen_sets, fields,
                      pd.DataFrame(empty, columns=[*fields, *rules], dtype=object), order, scored_as)


def _options_by_field(template: Template | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each choice field's options as (value, wording), the wording's case and spacing aside."""
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for item in template.items if template else ():
        options = getattr(item, "options", None)
        if options:
            coded = tuple((str(o.value), " ".join(str(o.label).lower().split())) for o in options)
            for field_id in [r.id for r in getattr(item, "rows", ())] or [item.id]:
                out[field_id] = coded
    return out


def _why_empty(row: dict[str, Any], field_id: str) -> str:
    if field_id in row["_review"]:
        return WAITING
    if field_id not in row:
        return NOT_READ
    if row[field_id] != "":
        return HAS_VALUE
    return INVALID if field_id in row["_illegible"] else NOT_ANSWERED


def _answers(form: str, rows: list[Any]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Wide rows by serial (first reads; a differing second image flags the value) and long rows. Serials are
    written as printed (``K7M3-QX9C``)."""
    firsts = [r for r in rows if r["status"] == "read"]
    other_reading: dict[tuple[str, int, str], list[Any]] = defaultdict(list)
    for r in rows:
        if r["status"] == "conflict":
            other_reading[(r["serial"], r["form_page"], r["field"])].append(r)
    seen_fields: list[str] = []
    serials: dict[str, dict[str, Any]] = {}
    long: list[dict[str, Any]] = []
    for r in firsts:
        if r["field"] not in seen_fields:
            seen_fields.append(r["field"])
        needs_review, reason = bool(r["needs_review"]), r["reason"]
        for other in other_reading.get((r["serial"], r["form_page"], r["field"]), []):
            if other["value"] != r["value"] and not r["review"]:  # a person's decision settles it
                needs_review = True
                reason = "; ".join(filter(None, [reason, f"conflict: {other['source_file']} page "
                                                          f"{other['source_page']} reads '{other['value']}'"]))
        serial = shown_serial(r["serial"])
        row = serials.setdefault(serial, {"serial": serial, "form": form, "version": r["version"],
                                          "pages": set(), "needs_review": 0, "reviewed": 0,
                                          "source_files": set(), "_review": set(), "_illegible": set(),
                                          "_scanned": r["page_id"]})
        row["_scanned"] = min(row["_scanned"], r["page_id"])  # page ids follow the order pages were read in
        row["pages"].add(r["form_page"])
        row["source_files"].add(r["source_file"])
        # A value waiting for review is never shown here as if it were final: it is left empty, the row's
        # needs_review counts it, and the long file keeps the machine's guess with needs_review=1.
        row[r["field"]] = "" if needs_review else r["value"]
        if needs_review:
            row["needs_review"] += 1
            row["_review"].add(r["field"])
        review = r["review"]
        if review == "illegible":
            row["_illegible"].add(r["field"])
        row["reviewed"] += bool(review)
        long.append({"serial": serial, "form": form, "version": r["version"], "form_page": r["form_page"],
                     "field": r["field"], "value": r["value"], "confidence": _confidence(r["confidence"]),
                     "needs_review": int(needs_review), "reason": reason, "review": review,
                     "reviewed_by": r["reviewed_by"], "reviewed_at": _column(r, "reviewed_at", ""),
                     # what the machine read, where a person's decision stands in its place
                     "machine_value": _column(r, "machine_value", "") if review else "",
                     "source_file": r["source_file"], "source_page": r["source_page"],
                     "source_region": _column(r, "source_region", 1), "page_id": r["page_id"]})
    for row in serials.values():
        row["pages"] = ";".join(str(p) for p in sorted(row["pages"]))
        row["source_files"] = ";".join(sorted(row["source_files"]))
    return serials, long, seen_fields


def _column(row: Any, name: str, default: Any) -> Any:
    """``row[name]``, or ``default`` where the row has no such column (a row from a store before it, or made up
    by a caller); on an sqlite3.Row, ``in`` tests values, hence ``keys()``."""
    return row[name] if name in row.keys() else default  # noqa: SIM118


def _confidence(value: Any) -> str:
    """A confidence to three decimals ('' when there is none)."""
    return "" if value is None or value == "" else f"{float(value):.3f}"


def _field_order(templates: list[Template], seen: list[str]) -> list[str]:
    """Fields in template order, version by version (a field added in version 2 follows version 1's),
    then any the store holds that no installed template knows."""
    ordered: list[str] = []
    for template in templates:
        ordered += [f for f in template.field_ids() if f not in ordered]
    return ordered + [f for f in seen if f not in ordered]


# --- The codebook --------------------------------------------------------------------------------------

def codebook_entries(tables: FormTables, file_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Codebook rows for every column of the form's wide, long and change tables, each named by
    ``file_names[table.name]`` (``k10.csv``, say)."""
    versions = ";".join(str(v) for v, t in tables.templates.items() if t)
    known = known_columns(tables)
    entries = []
    for table in tables.tables:
        for column in table.columns:
            label, kind, allowed, *words = known.get(column) or table.described.get(column) or ("", "text", "")
            entries.append({"file": file_names[table.name], "variable": column, "label": label, "type": kind,
                            "allowed_values": allowed, "rule": words[0] if words else "", "template": tables.form,
                            "versions": versions})
    return entries


def known_columns(tables: FormTables) -> dict[str, tuple[str, ...]]:
    """Label, type, allowed values (and the rule, for scores) of the form's field and score columns: the
    first installed version's label; where versions code a field or compute a score otherwise, each
    version's allowed values or rule, named."""
    per_version = {v: codebook.field_entries(t) for v, t in tables.templates.items() if t}
    known: dict[str, tuple[str, ...]] = {}
    for entries in per_version.values():
        for field_id, entry in entries.items():
            known.setdefault(field_id, entry)
    for field_id, (label, kind, _) in list(known.items()):
        ways = {v: entries[field_id][1:] for v, entries in per_version.items() if field_id in entries}
        if len(set(ways.values())) > 1:
            known[field_id] = (label, kind, "coded differently by version: " + "; ".join(
                f"version {v}: {allowed}" for v, (_, allowed) in ways.items()))
    for rule in tables.rules.values():
        chosen = tables.chosen_sets[rule.id]
        for variable, label, kind, allowed, words in codebook.score_entries(rule, chosen):
            known[variable] = (label, kind, allowed, words)
        if len(set(tables.scored_as.get(rule.id, {}).values())) < 2:
            continue
        # versions that score it otherwise: each version's bands and rule, named
        by_version = {v: {e[0]: e[3:] for e in codebook.score_entries(r, chosen if chosen in r.band_sets else
                                                                          r.default_bands)}
                      for v, s in tables.scorings.items() for r in s.scores if r.id == rule.id}
        columns = (rule.id, f"{rule.id}_status", f"{rule.id}_band")
        for variable, (label, kind, allowed, words) in [(k, v) for k, v in known.items() if k in columns]:
            ways = {v: entries[variable] for v, entries in by_version.items() if variable in entries}
            if len({a for a, _ in ways.values()}) > 1:
                allowed = "; ".join(f"version {v}: {a}" for v, (a, _) in ways.items())
            if variable == rule.id:
                words = "; ".join(f"version {v}: {w}" for v, (_, w) in ways.items()) + (
                    f" (versions {', '.join(map(str, ways))} score it over items coded otherwise or by another rule: "
                    "their values are not comparable, and the change file does not set them against each other)")
            known[variable] = (label, kind, allowed, words)
    return known


def scored_alike(scorings: Mapping[int, Scoring], version_options: Mapping[int, Mapping[str, tuple]]
                 ) -> dict[str, dict[int, int]]:
    """Per score id, per version that has it: the first version whose rule for it is the same (items,
    method, reversals, proration, rounding, rescaling, goals) over items offering the same options (values
    and wording: 5 may be "All of the time" in one version and "None of the time" in another). Values of
    versions scored alike can be compared; of others, not. Bands are not compared: they name values, and
    the codebook gives each version's."""
    out: dict[str, dict[int, int]] = defaultdict(dict)
    seen: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for version in sorted(scorings):
        for rule in scorings[version].scores:
            signature = (replace(rule, label="", line=0, reliable_change=None, band_sets={}, default_bands=""),
                         tuple(version_options[version].get(i) for i in rule.inputs()))
            same = next((v for v, s in seen[rule.id] if s == signature), version)
            if same == version:
                seen[rule.id].append((version, signature))
            out[rule.id][version] = same
    return dict(out)


def codebook_table(entries: list[dict[str, Any]]) -> Table:
    return Table("codebook", "codebook", frame(codebook.CODEBOOK_COLUMNS, entries), {})
