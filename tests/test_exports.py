"""Exports for the tools researchers use: every format is read back and compared with the store and the CSV.

A small store of real scanned forms (two K10s, a GAS follow-up, a four-line VAS) covers the three reasons an
answer or score is empty: left blank (not answered), found illegible by a reviewer (invalid), and still
waiting for review. A second, hand-made store of a form of our own covers what the shipped forms do not have:
a multiple choice with values that are not simple codes, text options, long and reserved field ids, and a
line whose range holds -7.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from formkit.catalogue import Catalogue
from formkit.errors import ExitCode, InputError, OutputError
from formkit.export import export, read_codes, safe_cell
from formkit.exports import redcap, spss, stata
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.serial import format_serial, new_serial
from formkit.store import Store
from formkit_cli import main
from tests.shared_pages import Return, print_and_fill, scan_and_review

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("exports")

ROOT = Path(__file__).resolve().parents[1]
ALL = ("csv", "xlsx", "sav", "dta", "redcap")
SAV_CODES = {"not answered": -7.0, "invalid": -8.0, "waiting for review": -9.0}
DTA_CODES = {"not answered": "a", "invalid": "b", "waiting for review": "c"}

# REDCap's documented rules for a data dictionary
REDCAP_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
REDCAP_FIELD_TYPES = {"text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "calc", "file", "slider",
                      "descriptive", "sql"}
REDCAP_VALIDATIONS = {"date_dmy", "date_mdy", "date_ymd", "datetime_dmy", "datetime_mdy", "datetime_ymd",
                      "datetime_seconds_dmy", "datetime_seconds_mdy", "datetime_seconds_ymd", "email", "integer",
                      "alpha_only", "number", "number_1dp", "number_2dp", "number_3dp", "number_4dp", "phone",
                      "time", "time_mm_ss", "zipcode"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --- a store of scanned forms ----------------------------------------------------------------------------

def _k10(*values: int | None) -> dict[str, int]:
    return {f"k10_{i:02d}": v for i, v in enumerate(values, start=1) if v is not None}


# the forms handed back: answers (option values, digits, text, line positions in mm), the date written (DDMMYYYY),
# fields marked twice (left waiting for review unless the reviewer below decides them), person code
PLAN = [
    Return("k10", _k10(2, None, None, 3, 4, 2, 1, 2, 3, 4), "12012026", person="P01"),  # two blanks: total invalid
    Return("k10", _k10(3, 3, 3, 3, 3, 3, 3, 3, 3, 3), "16022026", ("k10_04", "k10_05"), "P01"),
    Return("gas-followup", {"gas_1": -2, "weight_1": "3", "gas_2": 1, "weight_2": "5", "goal_1": "Walk daily"},
           "20012026"),
    Return("vas-4line", {"line_1": 20.0, "line_2": 55.0, "line_3": 80.0}, person="P02"),
]
ILLEGIBLE = "k10_05"  # the reviewer cannot tell which box of this double mark was meant


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """Print, fill in, scan and partly review the forms of PLAN; returns (store path, codes file)."""
    tmp = tmp_path_factory.mktemp("exports")
    printed = print_and_fill(tmp, PLAN, random.Random(3))
    codes_file = tmp / "codes.csv"
    codes = [f"{format_serial(serial)},{r.person}" for serial, r in printed.items() if r.person]
    codes_file.write_text("serial,code\n" + "\n".join(codes) + "\n", encoding="utf-8")

    def review(row: dict) -> tuple[str, str] | None:
        if row["kind"] == "date":  # a reviewer types in the dates the digit reader was unsure of
            day = printed[row["serial"]].day
            return "corrected", f"{day[4:]}-{day[2:4]}-{day[:2]}"
        return ("illegible", "") if row["field"] == ILLEGIBLE else None

    return scan_and_review(tmp / "scans", tmp / "forms.sqlite", review), codes_file


@pytest.fixture(scope="module")
def exported(scanned, tmp_path_factory):
    """Every format of the scanned store, once, in one folder: (folder, the store's rows, the files written,
    the person codes)."""
    db, codes_file = scanned
    out = tmp_path_factory.mktemp("all-formats")
    store = Store(db, readonly=True)
    rows = store.values()
    store.close()
    codes = read_codes(codes_file)
    return out, rows, export(rows, out, codes, formats=ALL), codes


def _why(rows, serial: str, field: str) -> str:
    """Why the store says a field of a printed form has no final value ('' when it has one)."""
    [row] = [r for r in rows if format_serial(r["serial"]) == serial and r["field"] == field and r["status"] == "read"]
    if row["needs_review"] and not row["review"]:
        return "waiting for review"
    if row["review"] == "illegible":
        return "invalid"
    return "" if row["value"] else "not answered"


def test_csv_stays_as_it_was_beside_the_other_formats(exported, tmp_path):
    out, rows, written, codes = exported
    alone = export(rows, tmp_path, codes)
    assert [p.name for p in alone] == [p.name for p in written if p.suffix == ".csv" and "redcap" not in p.name]
    for path in alone:
        if path.name != "codebook.csv":
            assert path.read_bytes() == (out / path.name).read_bytes(), path.name
    # the codebook describes the SPSS and Stata files too; its rows for the CSV files are the same
    csv_rows = [r for r in read_csv(out / "codebook.csv") if r["file"].endswith(".csv")]
    assert csv_rows == read_csv(tmp_path / "codebook.csv")
    assert {r["file"].rsplit(".", 1)[1] for r in read_csv(out / "codebook.csv")} == {"csv", "sav", "dta"}


def test_every_reason_for_an_empty_answer_or_score_is_covered(exported):
    out, rows, _, _ = exported
    k10 = read_csv(out / "k10.csv")
    reasons = {_why(rows, r["serial"], f"k10_{i:02d}") for r in k10 for i in range(1, 11)}
    assert reasons == {"", "not answered", "invalid", "waiting for review"}
    statuses = {r["k10_total_status"].split(":")[0] for r in k10}
    assert statuses == {"invalid", "pending-review"}


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_files_hold_the_csv_values_and_code_why_a_value_is_empty(exported, fmt):
    out, rows, _, _ = exported
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    codes = SAV_CODES if fmt == "sav" else DTA_CODES
    seen = set()
    for form in ("k10", "gas-followup", "vas-4line"):
        wide = read_csv(out / f"{form}.csv")
        data, meta = reader(str(out / f"{form}.{fmt}"), user_missing=True)
        assert list(data.columns) == list(wide[0])  # names valid in both formats already: kept
        assert len(data) == len(wide)
        for got, want in zip(data.to_dict("records"), wide, strict=True):
            for column, cell in want.items():
                value = got[column]
                kind = meta.readstat_variable_types[column]
                if kind == "string":
                    assert value == ("" if cell == "" else _unsafe(cell)), (form, column)
                elif cell != "":
                    if meta.original_variable_types[column] in ("DATE11", "%td"):
                        assert value == dt.date.fromisoformat(cell), (form, column)
                    else:
                        assert value == pytest.approx(float(cell)), (form, column)
                else:
                    why = _score_why(want, column) if f"{column}_status" in want else _why(rows, want["serial"], column)
                    expected = codes[why]
                    if fmt == "sav" and meta.original_variable_types[column] == "DATE11":
                        # dates: the codes are days before SPSS's day zero (14 Oct 1582)
                        expected = dt.date(1582, 10, 14) + dt.timedelta(days=int(codes[why]))
                    assert value == expected, (form, want["serial"], column, why)
                    assert expected in (meta.missing_user_values.get(column, []) if fmt == "dta" else
                                        [m["lo"] for m in meta.missing_ranges[column]])
                    seen.add(why)
        # read without user_missing, every coded value is missing
        plain, _ = reader(str(out / f"{form}.{fmt}"))
        numeric = [c for c in plain.columns if meta.readstat_variable_types[c] != "string"]
        assert not any(isinstance(v, str) or v in (-7, -8, -9) for c in numeric for v in plain[c])
        assert plain[numeric].isna().sum().sum() == sum(
            1 for c in numeric for v in data[c] if v is None or isinstance(v, str) or v != v
            or v in (-7, -8, -9) or (isinstance(v, dt.date) and v.year == 1582))
    assert seen == {"not answered", "invalid", "waiting for review"}


def _unsafe(cell: str) -> str:
    """A CSV text cell without the ' that keeps a spreadsheet from running it."""
    return cell[1:] if cell.startswith("'") and safe_cell(cell[1:]) == cell else cell


def _score_why(row: dict[str, str], score: str) -> str:
    status = row[f"{score}_status"].split(":")[0]
    return {"invalid": "invalid", "pending-review": "waiting for review"}[status]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_labels_measures_and_missing_codes_come_from_the_templates(exported, fmt):
    out, _, _, _ = exported
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    _, meta = reader(str(out / f"k10.{fmt}"), user_missing=True, metadataonly=True)
    labels = meta.column_names_to_labels
    assert labels["k10_01"] == "...tired out for no good reason?"
    assert labels["k10_total"] == "K10 total (10-50; higher means more distress)"
    assert labels["date_completed"] == "Today's date"
    items = meta.variable_value_labels["k10_01"]
    frequency = {1: "None of the time", 2: "A little of the time", 3: "Some of the time", 4: "Most of the time",
                 5: "All of the time"}
    missing = {v: k for k, v in (SAV_CODES if fmt == "sav" else DTA_CODES).items()}
    assert items == {**frequency, **missing}
    if fmt == "sav":
        assert meta.variable_measure["k10_01"] == "ordinal"
        assert meta.variable_measure["k10_total"] == meta.variable_measure["date_completed"] == "scale"
        assert meta.variable_measure["serial"] == "nominal"
        assert [m["lo"] for m in meta.missing_ranges["k10_01"]] == [-7, -8, -9]
        assert meta.original_variable_types["date_completed"] == "DATE11"
        assert meta.notes == ["formkit: k10, wide table; scoring rules in codebook.csv"]
    else:
        assert meta.original_variable_types["date_completed"] == "%td"
        assert all(len(label or "") <= 80 for label in meta.column_labels)
    # GAS: options -2..+2 keep their values and labels
    _, gas = reader(str(out / f"gas-followup.{fmt}"), user_missing=True, metadataonly=True)
    attainment = gas.variable_value_labels["gas_1"]
    assert attainment[-2] == "-2 Much less than expected" and attainment[2] == "+2 Much more than expected"


def test_long_labels_are_cut_to_each_formats_limit(tmp_path):
    long_text = "How much " + "very " * 80 + "much?"
    rows, catalogue = _own_store(tmp_path, question=long_text)
    export(rows, tmp_path / "out", catalogue=catalogue, formats=("sav", "dta"))
    _, sav = pyreadstat.read_sav(str(tmp_path / "out" / "habits.sav"), metadataonly=True)
    _, dta = pyreadstat.read_dta(str(tmp_path / "out" / "habits.dta"), metadataonly=True)
    sav_label, dta_label = sav.column_names_to_labels["rating"], dta.column_names_to_labels["rating"]
    assert len(sav_label.encode()) <= 256 and sav_label.endswith("…") and sav_label.startswith("How much very")
    assert len(dta_label) == 80 and dta_label.endswith("…")
    book = {(r["file"], r["variable"]): r for r in read_csv(tmp_path / "out" / "codebook.csv")}
    assert book[("habits.dta", "rating")]["label"] == long_text  # the codebook keeps it whole


def test_the_workbook_has_a_sheet_per_table_typed_cells_and_a_codebook(exported):
    out, _, _, _ = exported
    book = openpyxl.load_workbook(out / "export.xlsx")
    names = [n for form in ("gas-followup", "k10", "vas-4line") for n in (form, f"{form}_long", f"{form}_change")]
    assert book.sheetnames == [*names, "codebook"]
    for name in names:
        want = read_csv(out / f"{name}.csv")
        sheet = list(book[name].iter_rows(values_only=True))
        with (out / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            assert list(sheet[0]) == next(csv.reader(handle))
        for cells, row in zip(sheet[1:], want, strict=True):
            for value, (column, cell) in zip(cells, row.items(), strict=True):
                if cell == "":
                    assert value is None, (name, column)
                elif isinstance(value, dt.datetime):
                    assert value.date().isoformat() == cell, (name, column)
                elif isinstance(value, int | float):
                    assert value == pytest.approx(float(cell)), (name, column)
                else:
                    assert value == cell, (name, column)  # text as the CSV has it, formula-safe
    k10 = list(book["k10"].iter_rows(min_row=2, values_only=True))
    header = [c.value for c in book["k10"][1]]
    assert all(isinstance(r[header.index("version")], int) for r in k10)
    assert any(isinstance(r[header.index("k10_01")], int) for r in k10)
    assert all(isinstance(r[header.index("date_completed")], dt.datetime) for r in k10)
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[0][0] == "sheet"
    csv_book = [r for r in read_csv(out / "codebook.csv") if r["file"].endswith(".csv")]
    assert [(r[0], r[1], r[2]) for r in codebook[1:]] == [(r["file"][:-4], r["variable"], r["label"])
                                                          for r in csv_book]


def test_the_redcap_dictionary_follows_redcaps_rules(exported):
    out, _, _, _ = exported
    with (out / "redcap_dictionary.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        entries = [dict(zip(header, row, strict=True)) for row in reader]
    assert header == ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                      "Choices, Calculations, OR Slider Labels", "Field Note",
                      "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
                      "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
                      "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation"]
    _check_dictionary(entries)
    assert [e["Form Name"] for e in entries[:1]] == ["gas_followup"]
    forms = [e["Form Name"] for e in entries]
    assert forms == sorted(forms, key=forms.index)  # each form's fields together
    by_name = {e["Variable / Field Name"]: e for e in entries}
    assert by_name["k10_01"]["Field Type"] == "radio" and by_name["k10_01"]["Matrix Group Name"]
    assert by_name["k10_01"]["Choices, Calculations, OR Slider Labels"].startswith("1, None of the time | 2, ")
    assert by_name["k10_date_completed"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    weight = by_name["gas_followup_weight_1"]
    assert (weight["Field Type"], weight["Text Validation Type OR Show Slider Number"],
            weight["Text Validation Min"], weight["Text Validation Max"]) == ("text", "integer", "1", "9")
    assert by_name["gas_followup_goal_1"]["Field Type"] == "notes"
    line = by_name["vas_4line_line_1"]
    assert (line["Text Validation Type OR Show Slider Number"], line["Text Validation Min"],
            line["Text Validation Max"]) == ("number", "0", "10")
    assert by_name["gas_followup_gas_1"]["Choices, Calculations, OR Slider Labels"].startswith(
        "-2, -2 Much less than expected | -1, ")


def _check_dictionary(entries: list[dict[str, str]]) -> None:
    """REDCap's rules: record_id first; names lower-case letters, digits and '_', starting with a letter, at
    most 100 characters, unique; known field types and validations; 'code, label | ...' choices, checkbox codes
    letters and digits only; min/max only where there is a validation."""
    assert entries[0]["Variable / Field Name"] == "record_id"
    names = [e["Variable / Field Name"] for e in entries]
    assert len(set(names)) == len(names)
    for e in entries:
        assert REDCAP_FIELD_NAME.match(e["Variable / Field Name"]), e
        assert REDCAP_FIELD_NAME.match(e["Form Name"]), e
        assert e["Field Type"] in REDCAP_FIELD_TYPES
        validation = e["Text Validation Type OR Show Slider Number"]
        assert validation == "" or (validation in REDCAP_VALIDATIONS and e["Field Type"] == "text")
        if e["Text Validation Min"] or e["Text Validation Max"]:
            assert validation in ("integer", "number")
        choices = e["Choices, Calculations, OR Slider Labels"]
        if e["Field Type"] in ("radio", "checkbox", "dropdown"):
            pairs = [c.split(",", 1) for c in choices.split(" | ")]
            assert all(len(p) == 2 and p[0].strip() and p[1].strip() for p in pairs), choices
            codes = [p[0].strip() for p in pairs]
            assert len(set(codes)) == len(codes)
            pattern = r"^[a-z0-9]+$" if e["Field Type"] == "checkbox" else r"^(-?\d+|[A-Za-z0-9_]+)$"
            assert all(re.match(pattern, c) for c in codes), choices
        else:
            assert choices == ""
        if e["Matrix Group Name"]:
            assert REDCAP_FIELD_NAME.match(e["Matrix Group Name"])


def _dictionary(path: Path) -> dict[str, dict[str, str]]:
    return {r["Variable / Field Name"]: r for r in read_csv(path)}


def test_redcap_import_files_match_the_dictionary_and_the_csv(exported):
    out, rows, _, _ = exported
    fields = _dictionary(out / "redcap_dictionary.csv")
    for form in ("k10", "gas-followup", "vas-4line"):
        name = redcap.form_name(form)
        imported = read_csv(out / f"{form}_redcap.csv")
        wide = read_csv(out / f"{form}.csv")
        assert len(imported) == len(wide)
        columns = list(imported[0])
        assert columns[0] == "record_id" and columns[-1] == f"{name}_complete"
        for column in columns[1:-1]:
            if column.startswith("redcap_repeat_"):
                continue
            field = fields[column.split("___")[0]]
            assert field["Form Name"] == name
        for got, want in zip(imported, wide, strict=True):
            assert got["record_id"] == (want["person_code"] or want["serial"])
            assert got[f"{name}_complete"] == ("1" if int(want["needs_review"]) else "2")
            for column, value in got.items():
                if column not in fields or column == "record_id":
                    continue
                source = "serial" if column == f"{name}_formkit_serial" else \
                    column.removeprefix(f"{name}_") if column not in want else column
                assert value == want[source], (form, column)  # values as the wide CSV has them, empty alike
                rule = fields[column]
                if value and rule["Field Type"] == "radio":
                    codes = [c.split(",")[0] for c in rule["Choices, Calculations, OR Slider Labels"].split(" | ")]
                    assert value in codes
                if value and rule["Text Validation Type OR Show Slider Number"] == "date_ymd":
                    dt.date.fromisoformat(value)
                if value and rule["Text Validation Type OR Show Slider Number"] in ("integer", "number"):
                    low, high = rule["Text Validation Min"], rule["Text Validation Max"]
                    assert (not low or float(low) <= float(value)) and (not high or float(value) <= float(high))
    # P01 returned two K10s: a repeating instrument
    k10 = read_csv(out / "k10_redcap.csv")
    assert sorted((r["record_id"], r["redcap_repeat_instrument"], r["redcap_repeat_instance"]) for r in k10) == \
        [("P01", "k10", "1"), ("P01", "k10", "2")]
    gas = read_csv(out / "gas-followup_redcap.csv")
    assert "redcap_repeat_instrument" not in gas[0]
    assert gas[0]["record_id"] == read_csv(out / "gas-followup.csv")[0]["serial"]  # no person code: the serial


def test_redcap_instances_keep_their_numbers_when_an_earlier_form_arrives_late(exported, tmp_path):
    """Re-importing a later export must not write one form's answers over another's: instances follow the
    order forms were scanned in, so a form dated before the others but scanned after them takes a new one."""
    _, rows, _, codes = exported
    k10 = [dict(r) for r in rows if r["form"] == "k10"]
    first_page = {s: min(r["page_id"] for r in k10 if r["serial"] == s) for s in {r["serial"] for r in k10}}
    late = new_serial()
    copied = [r for r in k10 if r["serial"] == min(first_page, key=first_page.get)]
    latest_page = max(r["page_id"] for r in rows)
    arrived = [{**r, "serial": late, "page_id": latest_page + 1,
                **({"value": "2020-01-02", "needs_review": 0} if r["field"] == "date_completed" else {})}
               for r in copied]
    instances = {}
    for name, batch in (("before", k10), ("after", k10 + arrived)):
        export(batch, tmp_path / name, {**codes, format_serial(late): "P01"}, formats=("redcap",))
        instances[name] = {r["k10_formkit_serial"]: r["redcap_repeat_instance"]
                           for r in read_csv(tmp_path / name / "k10_redcap.csv")}
    assert {format_serial(late): "3"} | instances["before"] == instances["after"]
    assert set(instances["before"]) == {format_serial(s) for s in first_page}


def test_the_dictionary_command_writes_what_the_export_matches(exported, tmp_path):
    out, _, written, _ = exported
    result = CliRunner().invoke(main, ["redcap", "dictionary", "vas-4line", "k10", "gas-followup",  # any order
                                       "--out", str(tmp_path / "dd.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dd.csv").read_bytes() == (out / "redcap_dictionary.csv").read_bytes()
    assert "vas-4line" in result.stderr and "placeholders" in result.stderr
    assert any("make the instrument k10 repeating" in note for note in written.notes)
    assert any(note.startswith("vas-4line: its questions are labelled with placeholders") for note in written.notes)
    pack = ROOT / "samples" / "text-packs" / "wai-sr-example.yaml"
    worded = CliRunner().invoke(main, ["redcap", "dictionary", "wai-sr", "--text-pack", str(pack),
                                       "--out", str(tmp_path / "wai.csv")])
    assert worded.exit_code == 0 and worded.stderr == ""
    first = _dictionary(tmp_path / "wai.csv")["wai_sr_wai_01"]["Field Label"]
    assert first and not first.startswith("[")


def test_export_command_takes_several_formats_and_refuses_an_unknown_one(scanned, tmp_path):
    db, codes_file = scanned
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(tmp_path / "out"), "--codes",
                                       str(codes_file), "--format", "sav, dta"])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".csv"] + [".dta"] * 9 + [".sav"] * 9
    refused = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(tmp_path / "no"), "--format",
                                        "csv,spss"])
    assert refused.exit_code == ExitCode.USAGE and "spss" in refused.stderr and "sav" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_all_files_are_written_or_none(exported, tmp_path, monkeypatch):
    _, rows, _, _ = exported
    out = tmp_path / "out"
    out.mkdir()
    (out / "k10.dta").mkdir()  # not a file: refused before anything is written
    with pytest.raises(OutputError, match="k10.dta"):
        export(rows, out, formats=ALL)
    assert [p.name for p in out.iterdir()] == ["k10.dta"]

    def broken(*args, **kwargs):
        raise pyreadstat.ReadstatError("A provided name is a reserved word")

    monkeypatch.setattr(stata, "write", broken)
    with pytest.raises(OutputError, match=r"gas-followup\.dta: A provided name is a reserved word"):
        export(rows, tmp_path / "second", formats=ALL)
    assert not (tmp_path / "second").exists() or not list((tmp_path / "second").iterdir())


# --- a form of our own --------------------------------------------------------------------------------

HABITS = """
form: habits
version: 1
title: Habits
licence: shippable
items:
  - {kind: choice, id: transport, text: How do you get about?, multiple: true,
     options: [{value: bus, label: Bus}, {value: car-share, label: Car share}, {value: 3, label: Walk}]}
  - {kind: choice, id: if, text: Do you smoke?, options: [{value: yes, label: Yes}, {value: no, label: No}]}
  - {kind: choice, id: rating, text: "QUESTION", options: [{value: 1, label: Low}, {value: 2, label: High}]}
  - {kind: digits, id: a_very_long_field_identifier_number_one, text: First count, count: 2, min: 0, max: 99}
  - {kind: digits, id: a_very_long_field_identifier_number_two, text: Second count, count: 2, min: 0, max: 99}
  - {kind: digits, id: client_code, text: Client code, count: 4}
  - {kind: line, id: mood, text: Mood, left: Awful, right: Great, min: -10, max: 10}
  - {kind: text, id: notes, text: Anything else?}
  - {kind: date, id: visit, text: Visit date}
"""


def _own_store(tmp_path: Path, question: str = "How would you rate it?") -> tuple[list, Catalogue]:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "habits.yaml").write_text(HABITS.replace("QUESTION", question), encoding="utf-8")
    db = tmp_path / "own.sqlite"
    store = Store(db)
    forms = [
        [("transport", "choice", "bus;3", False), ("if", "choice", "no", False), ("rating", "choice", "2", False),
         ("a_very_long_field_identifier_number_one", "digits", "07", False),
         ("a_very_long_field_identifier_number_two", "digits", "", False), ("client_code", "digits", "0042", False),
         ("mood", "line", "-7.0", False), ("notes", "text", "=HYPERLINK(\"x\")", False),
         ("visit", "date", "2026-05-04", False)],
        [("transport", "choice", "", False), ("if", "choice", "yes", True), ("rating", "choice", "1", True),
         ("a_very_long_field_identifier_number_one", "digits", "12", False),
         ("a_very_long_field_identifier_number_two", "digits", "3", True), ("client_code", "digits", "0042", False),
         ("mood", "line", "", False), ("notes", "text", "", False), ("visit", "date", "2026-06-01", True)],
    ]
    for index, values in enumerate(forms):
        name = f"/scans/{index}.png"
        input_id, _ = store.add_input(InputFile(name, f"sha{index}", 100, 1))
        store.save_page(input_id, 0, PageResult(
            name, 1, f"sha{index}", PageState.READ, form="habits", version=1, variant="N", form_page=1,
            serial=new_serial(random.Random(index)),
            values=[FieldValue(f, kind, value, 0.5 if flag else 0.99, flag, "unsure" if flag else "")
                    for f, kind, value, flag in values]))
    from formkit.review.queue import decide

    for row in store.review_queue():
        if row["field"] == "rating":
            decide(store, row["value_id"], "illegible", "", "tester", row["value"])
    rows = store.values()
    store.close()
    return rows, Catalogue([folder])


def test_a_form_of_our_own_gets_valid_names_dummies_and_codes_outside_its_range(tmp_path):
    rows, catalogue = _own_store(tmp_path)
    out = tmp_path / "out"
    export(rows, out, catalogue=catalogue, formats=ALL)
    wide = read_csv(out / "habits.csv")
    sav, sav_meta = pyreadstat.read_sav(str(out / "habits.sav"), user_missing=True)
    dta, _ = pyreadstat.read_dta(str(out / "habits.dta"), user_missing=True)
    first = [r["serial"] for r in wide].index(format_serial(new_serial(random.Random(0))))
    order = [first, 1 - first]  # rows are in serial order: put the first form stored first

    def both(values) -> list:
        values = list(values)
        return [values[i] for i in order]

    # Stata names: 32 characters at most, none reserved, unique; SPSS keeps the field ids
    assert "a_very_long_field_identifier_number_one" in sav.columns and "if" not in dta.columns
    assert all(len(c) <= 32 and re.match(r"^[A-Za-z][A-Za-z0-9_]*$", c) for c in dta.columns)
    assert len(set(dta.columns)) == len(dta.columns)
    long_names = [c for c in dta.columns if c.startswith("a_very_long")]
    assert len(long_names) == 2 and all(len(c) >= 30 for c in long_names)
    # a multiple choice: a 0/1 column per option; codes 1, 2, 3 (bus, car-share and 3 are not all simple)
    assert [c for c in sav.columns if c.startswith("transport")] == ["transport_1", "transport_2", "transport_3"]
    assert both(sav["transport_1"]) == [1, -7] and both(sav["transport_2"]) == [0, -7]
    assert both(dta["transport_3"]) == [1, "a"]
    assert sav_meta.column_names_to_labels["transport_3"] == "How do you get about?: Walk"
    assert sav_meta.variable_value_labels["transport_1"][1] == "chosen"
    # text options stay text; codes that are text keep their values (and Stata has no string value labels)
    assert both(sav["if"]) == ["no", ""] and sav_meta.readstat_variable_types["if"] == "string"
    # a code typed in digits keeps its leading zeros; a counted number is a number
    assert both(sav["client_code"]) == ["0042", "0042"]
    assert both(sav["a_very_long_field_identifier_number_one"])[0] == 7
    # the line runs from -10 to 10: -7 is a value, so the codes are -97, -98, -99
    assert both(sav["mood"]) == [-7, -97]
    assert [m["lo"] for m in sav_meta.missing_ranges["mood"]] == [-97, -98, -99]
    assert both(sav["rating"]) == [2, -8]  # reviewed as illegible: invalid
    assert both(sav["a_very_long_field_identifier_number_two"])[1] == -9  # waiting for review
    # formula-like text is kept as written in SPSS and Stata, made safe in the CSV (a ') and the workbook (marked
    # as text, as Excel marks a typed ': its value as written, the ' not shown)
    assert both(sav["notes"])[0] == both(dta["notes"])[0] == '=HYPERLINK("x")'
    assert wide[first]["notes"] == "'=HYPERLINK(\"x\")"
    sheet = openpyxl.load_workbook(out / "export.xlsx")["habits"]
    header = [c.value for c in sheet[1]]
    notes = sheet.cell(row=first + 2, column=header.index("notes") + 1)
    assert (notes.value, notes.data_type, notes.quotePrefix) == ('=HYPERLINK("x")', "s", True)
    assert not sheet.cell(row=first + 2, column=header.index("client_code") + 1).quotePrefix
    assert sheet.cell(row=first + 2, column=header.index("client_code") + 1).value == "0042"
    assert sheet.cell(row=first + 2, column=header.index("mood") + 1).value == -7
    # the codebook names every renamed variable's column and says what the codes mean
    book = {(r["file"], r["variable"]): r for r in read_csv(out / "codebook.csv")}
    renamed = book[("habits.dta", long_names[0])]
    assert "column a_very_long_field_identifier_number_one of habits.csv" in renamed["rule"]
    assert ".a not answered" in book[("habits.dta", "mood")]["allowed_values"]
    assert "-97 not answered" in book[("habits.sav", "mood")]["allowed_values"]
    assert book[("habits.sav", "transport_2")]["rule"] == "option car-share (Car share) of transport"
    # REDCap: a checkbox with simple codes and columns field___code; the values the codes stand for annotated
    fields = _dictionary(out / "redcap_dictionary.csv")
    _check_dictionary(list(fields.values()))
    transport = fields["habits_transport"]
    assert transport["Field Type"] == "checkbox"
    assert transport["Choices, Calculations, OR Slider Labels"] == "1, Bus | 2, Car share | 3, Walk"
    assert "1 = bus" in transport["Field Annotation"]
    imported = both(read_csv(out / "habits_redcap.csv"))
    assert [(r["habits_transport___1"], r["habits_transport___2"], r["habits_transport___3"]) for r in imported] == \
        [("1", "0", "1"), ("0", "0", "0")]
    assert [r["habits_if"] for r in imported] == ["no", ""]
    assert [r["habits_complete"] for r in imported] == ["2", "1"]
    assert fields["habits_mood"]["Text Validation Min"] == "-10"


def test_an_unknown_format_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="choose from csv, xlsx, sav, dta, redcap"):
        export([], tmp_path, formats=("pdf",))


def test_stata_and_spss_names_follow_each_formats_rule():
    from formkit.exports.variables import unique_names

    long = "a" * 40
    assert unique_names([long, long + "b", "if", "2nd", "x-y"], 32, stata.RESERVED) == \
        ["a" * 32, "a" * 30 + "_2", "if_2", "v2nd", "x_y"]
    assert unique_names(["with", "ok"], 64, spss.RESERVED) == ["with_2", "ok"]


def test_frames_hold_the_cells_the_csv_writes(exported):
    from formkit.export import scored_tables

    out, rows, _, codes = exported
    tables = scored_tables(rows, codes)
    for form, form_tables in tables.items():
        for table in form_tables.tables:
            assert isinstance(table.frame, pd.DataFrame)
            want = read_csv(out / f"{table.name}.csv")
            assert [{k: _unsafe(str(v)) for k, v in r.items()} for r in table.rows] == \
                [{k: _unsafe(v) for k, v in r.items()} for r in want], form
