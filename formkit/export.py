"""Export what the store holds, in the formats researchers use. The tables are built once, as pandas
DataFrames (``formkit.exports.frames``), and each format writes them (``formkit.exports``):

- ``csv`` (the default): per form ``<form>.csv`` (a row per printed form, its answers and scores),
  ``<form>_long.csv`` (a row per value, with its confidence, review flag and source) and, when the form has
  change scores, ``<form>_change.csv`` (first and latest occasion per person);
- ``xlsx``: ``export.xlsx``, a sheet per table and a codebook sheet;
- ``sav`` and ``dta``: an SPSS and a Stata file per table, with variable and value labels and missing values
  that keep apart "not answered", "invalid" and "waiting for review";
- ``redcap``: ``<form>_redcap.csv`` import files and the ``redcap_dictionary.csv`` they match.

``codebook.csv`` describes every column of every CSV, SPSS and Stata file written. Reads only from the store;
writes every file atomically, all or none.

One rule for values still waiting for review, whatever their kind: ``<form>.csv`` leaves them empty (its
``needs_review`` column counts them, and no score is computed from them), ``<form>_long.csv`` keeps the
machine's guess with ``needs_review=1``. Serials are written as printed on the form, ``K7M3-QX9C``."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import codebook
from .atomic import atomic_outputs
from .catalogue import Catalogue, shipped_catalogue
from .csvinput import check_code, dict_reader
from .errors import InputError, OutputError
from .exports import redcap
from .exports.frames import (
    LONG_COLUMNS,
    NUMBER,
    FormTables,
    Table,
    codebook_entries,
    codebook_table,
    frame,
    known_columns,
    safe_cell,
    scales,
    scored_tables,
    shown_serial,
)
from .pairs import codebook_rows as pair_codebook_rows
from .pairs import pair_tables
from .serial import is_valid_serial, normalise_serial

__all__ = ["FORMATS", "LONG_COLUMNS", "NUMBER", "Exported", "FormTables", "FormatError", "Table", "export",
           "is_export_file", "parse_formats", "read_codes", "safe_cell", "scales", "scored_tables", "shown_serial",
           "write_csv"]

FORMATS = ("csv", "xlsx", "sav", "dta", "redcap")
EXCEL_CELL_CHARACTERS = 32_767  # the most an Excel cell holds
EXCEL_ROWS = 1_048_576  # the most rows an Excel sheet holds, its header among them

# The names export gives its files, kept in one place so that the files an earlier export left in the folder can
# be told from the ones written now. Per form, by extension, what follows the form id: its tables
# (formkit.exports.frames names them <form>, <form>_long, <form>_change), its client and worker pairs
# (formkit.pairs) and its REDCap import file (formkit.exports.redcap). A form id holds no '_', so the split is
# never in doubt; a test checks that every file a whole export writes matches these.
CODEBOOK_FILE, WORKBOOK_FILE, REDCAP_DICTIONARY_FILE = "codebook.csv", "export.xlsx", "redcap_dictionary.csv"
FORM_FILE_SUFFIXES = {"csv": ("", "_long", "_change", "_pairs", "_redcap"), "sav": ("", "_long", "_change"),
                      "dta": ("", "_long", "_change")}


def read_codes(*paths: Path) -> Codes:
    """Serial -> person code from CSV files with 'serial' and 'code' columns (the manifest ``formkit generate``
    writes has both; every print run writes its own, so several may be given). Serials are accepted as
    printed (``K7M3-QX9C``) or without the dash, and keyed without it. A row without a code gives none; a
    serial given two different codes and a code that is not a pseudonymous code (``csvinput.check_code``)
    are errors naming the place; a serial formkit never prints (a typing slip) is kept, with a warning in
    ``typos``. Other columns, names among them, are
    not read. Columns may be separated by commas, semicolons or tabs."""
    found: dict[str, tuple[str, str]] = {}  # serial -> (code, file:line it came from)
    typos: list[str] = []
    for path in paths:
        reader = dict_reader(path, "codes file")  # refuses a stray quote, which would make up a code
        columns = {c.strip().lower(): c for c in reader.fieldnames or []}
        if "serial" not in columns or "code" not in columns:
            raise InputError(f"{path}: needs 'serial' and 'code' columns (found: {', '.join(columns) or 'none'})")
        for row in reader:
            typed = (row[columns["serial"]] or "").strip()
            serial = normalise_serial(typed)
            # composed (NFC), as the review app stores what is typed: 'Zoë' saved decomposed by a Mac's
            # spreadsheet and 'Zoë' typed were two people in the export, and one in the reports
            code = unicodedata.normalize("NFC", (row[columns["code"]] or "").strip())
            if not serial or not code:
                continue
            where = f"{path}:{reader.line_num}"
            if not is_valid_serial(serial):  # a typing slip: the form it was meant for would lose its code
                typos.append(f"{where}: serial {typed!r} is not one formkit prints (its last character checks the "
                             "others): a typing slip? No form can match it")
            check_code(code, where, printed=False)
            known = found.setdefault(serial, (code, where))
            if known[0] != code:
                raise InputError(f"serial {shown_serial(serial)} has two codes: {known[0]!r} in {known[1]} and "
                                 f"{code!r} in {where}; correct one of the files")
    return Codes({serial: code for serial, (code, _) in found.items()}, typos)


class Codes(dict[str, str]):
    """Serial -> person code (``read_codes``), with ``typos``: a warning for each row whose serial formkit
    never prints, for the command to show."""

    def __init__(self, codes: dict[str, str], typos: list[str]) -> None:
        super().__init__(codes)
        self.typos = typos


class FormatError(InputError):
    """``--format`` names no format, or one that is not in ``FORMATS``. ``problem`` says which without the
    option's name, for the command line, which names the option itself."""

    def __init__(self, problem: str, named: str = "") -> None:
        super().__init__(f"--format {named}: {problem}" if named else f"--format: {problem}")
        self.problem = f"{named}: {problem}" if named else problem


def parse_formats(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Formats from ``csv,xlsx`` (or a list of such), in ``FORMATS`` order, each once."""
    parts = [spec] if isinstance(spec, str) else list(spec)
    wanted = {p.strip().lower() for part in parts for p in part.split(",") if p.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise FormatError(f"not a format; choose from {', '.join(FORMATS)}", ", ".join(unknown))
    if not wanted:
        raise FormatError(f"name at least one of {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in wanted)


def is_export_file(name: str, forms: Collection[str]) -> bool:
    """Whether a file name is one ``export`` writes, for one of ``forms``."""
    if name in (CODEBOOK_FILE, WORKBOOK_FILE, REDCAP_DICTIONARY_FILE):
        return True
    stem, _, extension = name.rpartition(".")
    form, underscore, rest = stem.partition("_")
    return form in forms and underscore + rest in FORM_FILE_SUFFIXES.get(extension, ())


def leftover_files(out_dir: Path, written: Iterable[Path], forms: Iterable[str],
                   inputs: Mapping[Path, str] | None = None) -> list[Path]:
    """The files in ``out_dir`` named as ``export`` names the files of ``forms`` (those installed and those
    read: a user's own ``notes.csv`` is not taken for a form's table) that are not among ``written`` (nor an
    input of the export): an earlier export left them, and they may hold data since voided or changed."""
    if not out_dir.is_dir():
        return []
    kept = {path.name for path in written}
    sources = {Path(path).resolve() for path in inputs or {}}
    forms = set(forms)
    return sorted(path for path in out_dir.iterdir() if path.name not in kept and is_export_file(path.name, forms)
                  and path.is_file() and path.resolve() not in sources)


class Exported(list[Path]):
    """The files written (a list of their paths), how many forms have no person code, by form, notes for the
    user (what to set up in REDCap, say), and the files of an earlier export left in the folder."""

    def __init__(self, paths: list[Path], without_code: dict[str, int] | None = None,
                 notes: list[str] | None = None, leftovers: list[Path] | None = None) -> None:
        super().__init__(paths)
        self.without_code = without_code or {}
        self.notes = notes or []
        self.leftovers = leftovers or []


Writer = Callable[[Path], Any]


def export(rows: list[Any], out_dir: Path, codes: dict[str, str] | None = None,
           band_choice: dict[str, str] | None = None, bom: bool = False,
           catalogue: Catalogue | None = None, formats: Sequence[str] = ("csv",),
           inputs: Mapping[Path, str] | None = None) -> Exported:
    """Write the files of ``formats`` for every form in ``rows`` (``Store.values()``), scored by the templates
    of ``catalogue`` (the shipped ones when ``None``); returns their paths (with ``without_code``: per form,
    the forms whose person code is neither in ``codes`` nor written on the form). ``bom`` starts the CSV
    files (not REDCap's) with a byte-order mark, for Excel. ``inputs`` (path -> what it is: "codes file") are
    files the export was made from: none of them is ever written over. Files an earlier export left in
    ``out_dir`` are not deleted, only named in ``leftovers``."""
    formats = parse_formats(formats)
    catalogue = catalogue or shipped_catalogue()
    forms = scored_tables(rows, codes, band_choice, catalogue)
    # a score with no band sets at all is refused too: choosing bands for it would change nothing, unsaid
    banded = {score for tables in forms.values() for score, rule in tables.rules.items() if rule.band_sets}
    unknown = set(band_choice or {}) - banded
    if unknown:
        raise InputError(f"--bands names score(s) without band sets here: {', '.join(sorted(unknown))} (scores with "
                         f"band sets: {', '.join(sorted(banded)) or 'none'})")
    known = {form for form, _, _ in catalogue.installed_forms()} | set(forms)
    if not forms:
        return Exported([], leftovers=leftover_files(out_dir, [], known, inputs))
    pairs = pair_tables(rows, codes, catalogue, forms)  # client and worker: from these tables, not made again
    outputs: list[tuple[Path, Writer]] = []
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    if "csv" in formats:
        for tables in forms.values():
            for table in tables.tables:
                outputs.append((out_dir / f"{table.name}.csv", _csv_writer(table, bom)))
            entries += codebook_entries(tables, {t.name: f"{t.name}.csv" for t in tables.tables})
        for name, columns, pair_rows, described in pairs:
            table = Table(name.removesuffix(".csv"), "pairs", frame(columns, pair_rows), described)
            outputs.append((out_dir / name, _csv_writer(table, bom)))
            entries += pair_codebook_rows((name, columns, pair_rows, described))
    statistical = [f for f in ("sav", "dta") if f in formats]
    later: list[tuple[Path, Writer]] = []
    for fmt in statistical:
        entries_, outputs_ = _statistical(fmt, forms, out_dir)
        entries += entries_
        later += outputs_
    if "csv" in formats or statistical:
        outputs.append((out_dir / CODEBOOK_FILE, _csv_writer(codebook_table(entries), bom)))
    if "xlsx" in formats:
        _check_fits_in_excel(forms)
        outputs.append((out_dir / WORKBOOK_FILE, _xlsx_writer(forms)))
    outputs += later
    notes += _not_installed(forms, "redcap" in formats)
    if "redcap" in formats:
        made, redcap_notes = _redcap(forms, out_dir)
        outputs += made
        notes += redcap_notes
    if "csv" not in formats:
        notes += [f"{name}: client and worker pairs are written as CSV only: add csv to --format"
                  for name, *_ in pairs]
    if "xlsx" in formats:
        notes += _cut_in_excel(forms)
    if set(formats) - {"csv"}:
        notes += [f"{form}: its questions are labelled with placeholders such as [key]: give --text-pack with "
                  "its wording" for form, tables in forms.items()
                  if any(t and t.licence == "text-pack" and t.text_pack is None for t in tables.templates.values())]
    without_code = {}
    for form, tables in forms.items():
        missing = sum(not person for person in tables.wide.frame["person_code"])
        if missing:
            without_code[form] = missing
    with atomic_outputs(*(path for path, _ in outputs), inputs=inputs) as temps:
        for temp, (path, write) in zip(temps, outputs, strict=True):
            _write(write, temp, path)
    written = [path for path, _ in outputs]
    return Exported(written, without_code, notes, leftover_files(out_dir, written, known, inputs))


def _write(write: Writer, temp: Path, path: Path) -> None:
    """Run one writer into its temporary file; a writer library's own error names the output."""
    try:
        write(temp)
    except OSError:
        raise
    except Exception as exc:  # pyreadstat's and openpyxl's own errors
        if type(exc).__module__.split(".")[0] in ("pyreadstat", "openpyxl"):
            raise OutputError(f"cannot write {path}: {exc}; nothing was written") from exc
        raise


def write_csv(table: Table, path: Path, bom: bool = False, safe: bool = True) -> None:
    """Write ``table`` as CSV: a header, then its rows; text cells made formula-safe unless ``safe`` is off
    (REDCap's import files hold the values as REDCap should store them)."""
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        for row in table.frame.itertuples(index=False, name=None):
            writer.writerow([safe_cell(v) for v in row] if safe else row)


def _csv_writer(table: Table, bom: bool, safe: bool = True) -> Writer:
    return lambda temp: write_csv(table, temp, bom, safe)


def _not_installed(forms: dict[str, FormTables], redcap_too: bool) -> list[str]:
    """A note per form read with a version whose template is not installed: without it nothing says how to
    score those forms, so their score columns and change file are missing, and the user should know why."""
    notes = []
    for form, tables in forms.items():
        missing = [str(version) for version, template in tables.templates.items() if template is None]
        if len(missing) == len(tables.templates):
            lost = "scores, change file or REDCap file" if redcap_too else "scores or change file"
            notes.append(f"{form}: no installed template, so no {lost} (give --templates with the folder of your "
                         "own templates)")
        elif missing:
            notes.append(f"{form} version{'s' if len(missing) > 1 else ''} {', '.join(missing)}: no installed "
                         "template, so these forms are not scored (give --templates with the folder of your own "
                         "templates)")
    return notes


def _cut_in_excel(forms: dict[str, FormTables]) -> list[str]:
    """A note for each table with text longer than an Excel cell holds (openpyxl cuts it without a word)."""
    notes = []
    for tables in forms.values():
        for table in tables.tables:
            long = sum(isinstance(cell, str) and len(cell) > EXCEL_CELL_CHARACTERS
                       for column in table.frame.columns for cell in table.frame[column])
            if long:
                notes.append(f"{table.name}: {long} text cell(s) longer than Excel's {EXCEL_CELL_CHARACTERS:,} "
                             "characters are cut in export.xlsx; the CSV, SPSS and Stata files keep them whole")
    return notes


def _check_fits_in_excel(forms: dict[str, FormTables]) -> None:
    """Refuse, before anything is written, a table with more rows than a sheet holds (a long table of some
    100,000 forms): openpyxl stops at the first row too many with a bare ValueError, a traceback."""
    for tables in forms.values():
        for table in tables.tables:
            if len(table.frame) + 1 > EXCEL_ROWS:
                raise OutputError(f"cannot write {WORKBOOK_FILE}: {table.name} has {len(table.frame):,} rows, more "
                                  f"than an Excel sheet holds ({EXCEL_ROWS - 1:,} below its header); leave xlsx out "
                                  "of --format and use csv, sav or dta; nothing was written")


def _xlsx_writer(forms: dict[str, FormTables]) -> Writer:
    from .exports import xlsx

    sheets = xlsx.sheet_names(forms)
    entries = []
    for tables in forms.values():
        entries += codebook_entries(tables, {t.name: sheets[t.name] for t in tables.tables})
    book = codebook_table(entries)
    book.frame = book.frame.rename(columns={"file": "sheet"})
    return lambda temp: xlsx.write(forms, book, temp)


def _statistical(fmt: str, forms: dict[str, FormTables], out_dir: Path) -> tuple[list[dict[str, Any]],
                                                                                   list[tuple[Path, Writer]]]:
    """Codebook rows and writers of the SPSS (``sav``) or Stata (``dta``) files."""
    from .exports import spss, stata

    module: Any = spss if fmt == "sav" else stata
    entries: list[dict[str, Any]] = []
    outputs: list[tuple[Path, Writer]] = []
    for tables in forms.values():
        versions = ";".join(str(v) for v, t in tables.templates.items() if t)
        known = known_columns(tables)
        for table in tables.tables:
            name = f"{table.name}.{fmt}"
            for column in module.columns(tables, table):
                label, kind, allowed, *words = (known.get(column.source) if table.kind == "wide" else None) \
                    or table.described.get(column.source) or ("", "text", "")
                rule = words[0] if words else ""
                if column.option is not None:
                    kind, allowed = "0/1", "1 chosen, 0 not chosen"
                    rule = f"option {column.option.value} ({column.option.label}) of {column.source}"
                elif column.name != column.source:
                    rule = "; ".join(filter(None, [f"column {column.source} of {table.name}.csv", rule]))
                if column.as_text:  # the codebook says what the file holds, not what the template would type
                    kind, allowed = "text", (f"held as text, as in {table.name}.csv: some values are not of its "
                                             f"type ({kind}: {allowed})")
                if column.codes:  # the file codes why an answer is empty: it is never just empty
                    allowed = allowed.replace(f"; {codebook.EMPTY_FIELD}", "")
                allowed = "; ".join(filter(None, [allowed, module.missing_words(column)]))
                entries.append({"file": name, "variable": column.name, "label": column.label, "type": kind,
                                "allowed_values": allowed, "rule": rule, "template": tables.form,
                                "versions": versions})
            outputs.append((out_dir / name, _statistical_writer(module, tables, table)))
    return entries, outputs


def _statistical_writer(module: Any, tables: FormTables, table: Table) -> Writer:
    return lambda temp: module.write(tables, table, temp)


def _redcap(forms: dict[str, FormTables], out_dir: Path) -> tuple[list[tuple[Path, Writer]], list[str]]:
    """The REDCap import file of each form whose template is installed, and the dictionary they match (a form
    without a template has its note from ``_not_installed``)."""
    templates = [t for tables in forms.values() for t in tables.templates.values() if t]
    instruments = redcap.instruments(templates)
    outputs: list[tuple[Path, Writer]] = []
    notes = []
    for form, tables in forms.items():
        if form not in instruments:
            continue
        table = redcap.import_table(tables, instruments[form])
        left_out = len(tables.wide.frame) - len(table.frame)
        if left_out:
            notes.append(f"{form}: {left_out} form(s) of a version whose template is not installed are left out of "
                         f"{table.name}.csv (their coding is unknown; give --templates)")
        outputs.append((out_dir / f"{table.name}.csv", _csv_writer(table, False, safe=False)))
        if redcap.REPEAT_COLUMNS[0] in table.columns:
            notes.append(f"{form}: some people have several forms: make the instrument {redcap.form_name(form)} "
                         "repeating in REDCap before importing")
    if instruments:
        dictionary = Table(REDCAP_DICTIONARY_FILE.removesuffix(".csv"), "redcap", redcap.dictionary(instruments), {})
        outputs.append((out_dir / REDCAP_DICTIONARY_FILE, _csv_writer(dictionary, False, safe=False)))
    return outputs, notes
