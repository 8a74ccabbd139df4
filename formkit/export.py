"""Export what the store holds. Per form: ``<form>.csv`` (a row per printed form, its answers and scores),
``<form>_long.csv`` (a row per value, with its confidence, review flag and source) and, when the form has
change scores, ``<form>_change.csv`` (first and latest occasion per person); plus ``codebook.csv`` for all
of them. Reads only from the store; writes every file atomically, all or none.

One rule for values still waiting for review, whatever their kind: ``<form>.csv`` leaves them empty (its
``needs_review`` column counts them, and no score is computed from them), ``<form>_long.csv`` keeps the
machine's guess with ``needs_review=1``. Serials are written as printed on the form, ``K7M3-QX9C``."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import codebook
from .atomic import atomic_outputs
from .catalogue import Catalogue, shipped_catalogue
from .csvinput import dict_reader
from .errors import InputError
from .scoring import Answer, Scoring, read_scoring, score_form
from .scoring.occasions import CHANGE_COLUMNS, Occasion, change_rows
from .serial import SERIAL_LENGTH, format_serial, normalise_serial
from .template.schema import ChoiceItem, MatrixItem, Template

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
LONG_COLUMNS = ["serial", "form", "version", "form_page", "field", "value", "confidence", "needs_review", "reason",
                "review", "reviewed_by", "source_file", "source_page", "source_region", "page_id"]


@dataclass
class Table:
    path: Path
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    described: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # non-field columns, for the codebook


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula; numbers such as -2 stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.match(value):
        return "'" + value
    return value


def read_codes(*paths: Path) -> dict[str, str]:
    """Serial -> person code from CSV files with 'serial' and 'code' columns (the manifest ``formkit generate``
    writes has both; every print run writes its own, so several may be given). Serials are accepted as
    printed (``K7M3-QX9C``) or without the dash, and keyed without it. A row without a code gives none; a
    serial given two different codes is an error naming both places. Other columns, names among them, are
    not read. Columns may be separated by commas, semicolons or tabs."""
    found: dict[str, tuple[str, str]] = {}  # serial -> (code, file:line it came from)
    for path in paths:
        try:
            reader = dict_reader(path, "codes file")
            columns = {c.strip().lower(): c for c in reader.fieldnames or []}
            if "serial" not in columns or "code" not in columns:
                raise InputError(f"{path}: needs 'serial' and 'code' columns (found: {', '.join(columns) or 'none'})")
            for row in reader:
                serial = normalise_serial(row[columns["serial"]] or "")
                code = (row[columns["code"]] or "").strip()
                if not serial or not code:
                    continue
                where = f"{path}:{reader.line_num}"
                known = found.setdefault(serial, (code, where))
                if known[0] != code:
                    raise InputError(f"serial {shown_serial(serial)} has two codes: {known[0]!r} in {known[1]} and "
                                     f"{code!r} in {where}; correct one of the files")
        except csv.Error as exc:
            raise InputError(f"{path}: cannot read the codes file ({exc})") from exc
    return {serial: code for serial, (code, _) in found.items()}


def shown_serial(serial: str) -> str:
    """A serial as printed on the form (``K7M3-QX9C``), however it was written; anything that is not a
    serial's length is left as it is."""
    bare = normalise_serial(serial)
    return format_serial(bare) if len(bare) == SERIAL_LENGTH else serial


class Exported(list[Path]):
    """The files written (a list of their paths), and how many forms have no person code, by form."""

    def __init__(self, paths: list[Path], without_code: dict[str, int] | None = None) -> None:
        super().__init__(paths)
        self.without_code = without_code or {}


def export(rows: list[Any], out_dir: Path, codes: dict[str, str] | None = None,
           band_choice: dict[str, str] | None = None, bom: bool = False,
           catalogue: Catalogue | None = None) -> Exported:
    """Write the files for every form in ``rows`` (``Store.values()``), scored by the templates of
    ``catalogue`` (the shipped ones when ``None``); returns their paths (with ``without_code``: per form,
    the forms whose person code is neither in ``codes`` nor written on the form)."""
    catalogue = catalogue or shipped_catalogue()
    codes = {normalise_serial(serial): code for serial, code in (codes or {}).items()}
    by_form: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_form[row["form"]].append(row)
    tables: list[Table] = []
    entries: list[dict[str, Any]] = []
    used_choices: set[str] = set()
    without_code: dict[str, int] = {}
    for form, form_rows in sorted(by_form.items()):
        form_tables, form_entries, chosen = _form_tables(form, form_rows, out_dir, codes, band_choice or {},
                                                            catalogue)
        tables += form_tables
        entries += form_entries
        used_choices |= chosen
        missing = sum(not row["person_code"] for row in form_tables[0].rows)  # the wide file: a row per form
        if missing:
            without_code[form] = missing
    unknown = set(band_choice or {}) - used_choices
    if unknown:
        raise InputError(f"--bands names score(s) without that band set: {', '.join(sorted(unknown))}")
    if not tables:
        return Exported([])
    tables.append(Table(out_dir / "codebook.csv", codebook.CODEBOOK_COLUMNS, entries))
    with atomic_outputs(*(t.path for t in tables)) as temps:
        for temp, table in zip(temps, tables, strict=True):
            with temp.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
                writer = csv.DictWriter(handle, table.columns)
                writer.writeheader()
                writer.writerows({k: safe_cell(v) for k, v in r.items()} for r in table.rows)
    return Exported([t.path for t in tables], without_code)


def _form_tables(form: str, rows: list[Any], out_dir: Path, codes: dict[str, str], band_choice: dict[str, str],
                 catalogue: Catalogue) -> tuple[list[Table], list[dict[str, Any]], set[str]]:
    wide, long, seen_fields = _answers(form, rows)
    versions = sorted({r["version"] for r in wide.values()})
    templates = {v: catalogue.find_template(form, v) for v in versions}
    scorings = {v: read_scoring(t) if t else Scoring() for v, t in templates.items()}
    scales = {v: _scales(t) for v, t in templates.items()}
    fields = _field_order([t for t in templates.values() if t], seen_fields)
    rules = {}
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
    for order, row in enumerate(wide.values()):
        version = row["version"]
        scoring = scorings[version]
        person = codes.get(normalise_serial(row["serial"]), "")
        if not person and scoring.person_field:
            person = row.get(scoring.person_field, "")
        row["person_code"] = person
        answers = {f: Answer(row.get(f, ""), f in row["_review"]) for f in fields}
        results = score_form(scoring, answers, scales[version], chosen_sets)
        for rule in scoring.scores:
            result = results[rule.id]
            row[rule.id] = result.text(rule.decimals)
            row[f"{rule.id}_status"] = f"{result.status}: {result.reason}" if result.reason else result.status
            if rule.band_sets:
                row[f"{rule.id}_band"] = result.band
            if rule.change:
                date = row.get(scoring.occasion_date_field, "") if scoring.occasion_date_field else ""
                occasions[rule.id].append(Occasion(person, row["serial"], date, order, result.value, result.status))
    score_columns = [c for r in rules.values() for c in
                     [r.id, f"{r.id}_status"] + ([f"{r.id}_band"] if r.band_sets else [])]
    columns = ["serial", "form", "version", "person_code", *fields, *score_columns, "pages", "needs_review",
               "reviewed", "source_files"]
    wide_rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in wide.values()]
    tables = [Table(out_dir / f"{form}.csv", columns, wide_rows, codebook.ROW_COLUMNS),
              Table(out_dir / f"{form}_long.csv", LONG_COLUMNS, long, {**codebook.ROW_COLUMNS, **codebook.LONG_FILE})]
    change = [row for rule in rules.values() if rule.change
              for row in change_rows(rule.id, occasions[rule.id], rule.decimals)]
    if any(rule.change for rule in rules.values()):
        tables.append(Table(out_dir / f"{form}_change.csv", CHANGE_COLUMNS, change, codebook.CHANGE_FILE))
    entries = _codebook_rows(form, tables, templates, rules, chosen_sets)
    return tables, entries, {k for k in band_choice if k in rules}


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
            if other["value"] != r["value"]:
                needs_review = True
                reason = "; ".join(filter(None, [reason, f"conflict: {other['source_file']} page "
                                                          f"{other['source_page']} reads '{other['value']}'"]))
        serial = shown_serial(r["serial"])
        row = serials.setdefault(serial, {"serial": serial, "form": form, "version": r["version"],
                                          "pages": set(), "needs_review": 0, "reviewed": 0,
                                          "source_files": set(), "_review": set()})
        row["pages"].add(r["form_page"])
        row["source_files"].add(r["source_file"])
        # A value waiting for review is never shown here as if it were final: it is left empty, the row's
        # needs_review counts it, and the long file keeps the machine's guess with needs_review=1.
        row[r["field"]] = "" if needs_review else r["value"]
        if needs_review:
            row["needs_review"] += 1
            row["_review"].add(r["field"])
        review = r["review"]
        row["reviewed"] += bool(review)
        long.append({"serial": serial, "form": form, "version": r["version"], "form_page": r["form_page"],
                     "field": r["field"], "value": r["value"], "confidence": _confidence(r["confidence"]),
                     "needs_review": int(needs_review), "reason": reason, "review": review,
                     "reviewed_by": r["reviewed_by"], "source_file": r["source_file"],
                     "source_page": r["source_page"],
                     # a row from a store before regions has none; on an sqlite3.Row, `in` tests values
                     "source_region": r["source_region"] if "source_region" in r.keys() else 1,  # noqa: SIM118
                     "page_id": r["page_id"]})
    for row in serials.values():
        row["pages"] = ";".join(str(p) for p in sorted(row["pages"]))
        row["source_files"] = ";".join(sorted(row["source_files"]))
    return serials, long, seen_fields


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


def _scales(template: Template | None) -> dict[str, tuple[float, float]]:
    """Lowest and highest numeric answer of each choice field, for reverse scoring."""
    out: dict[str, tuple[float, float]] = {}
    for item in template.items if template else ():
        options = item.options if isinstance(item, ChoiceItem | MatrixItem) else ()
        values = [float(o.value) for o in options if NUMBER.match(str(o.value))]
        if not values:
            continue
        ids = [r.id for r in item.rows] if isinstance(item, MatrixItem) else [item.id]  # type: ignore[union-attr]
        for field_id in ids:
            out[field_id] = (min(values), max(values))
    return out


def _codebook_rows(form: str, tables: list[Table], templates: dict[int, Template | None], rules: dict[str, Any],
                   chosen_sets: dict[str, str]) -> list[dict[str, Any]]:
    versions = ";".join(str(v) for v, t in templates.items() if t)
    known = {}
    for template in templates.values():
        if template:
            for field_id, entry in codebook.field_entries(template).items():
                known.setdefault(field_id, entry)
    for rule in rules.values():
        for variable, label, kind, allowed, words in codebook.score_entries(rule, chosen_sets[rule.id]):
            known[variable] = (label, kind, allowed, words)
    entries = []
    for table in tables:
        for column in table.columns:
            label, kind, allowed, *words = known.get(column) or table.described.get(column) or ("", "text", "")
            entries.append({"file": table.path.name, "variable": column, "label": label, "type": kind,
                            "allowed_values": allowed, "rule": words[0] if words else "", "template": form,
                            "versions": versions})
    return entries
