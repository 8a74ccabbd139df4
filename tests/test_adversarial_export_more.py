"""An adversarial pass over ``formkit export``: each test here failed before the fix it names."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode, InputError
from formkit.export import export
from formkit.serial import new_serial
from formkit_cli import main

SERIALS = [new_serial(random.Random(seed)) for seed in range(1, 6)]


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def value_row(serial: str, field: str, kind: str, value: str, form: str = "k10", version: int = 1,
              page_id: int = 1, review: bool = False) -> dict[str, Any]:
    """One row as ``Store.values()`` gives it: a value of a page read."""
    return {"page_id": page_id, "status": "read", "form": form, "version": version, "variant": "N", "form_page": 1,
            "serial": serial, "conflict_of": None, "source_file": f"/scans/{page_id}.png", "source_page": 1,
            "field": field, "kind": kind, "value": value, "confidence": 0.9, "needs_review": int(review),
            "reason": "unsure" if review else "", "review": "", "reviewed_by": ""}


def k10_rows(serial: str, answer: str, version: int = 1, page_id: int = 1) -> list[dict[str, Any]]:
    return [value_row(serial, f"k10_{i:02d}", "choice", answer, version=version, page_id=page_id)
            for i in range(1, 11)]


def goal_card_rows(serial: str) -> list[dict[str, Any]]:
    return [value_row(serial, "goal", "text", "Walk to the shop", form="goal-card"),
            value_row(serial, "progress_1", "choice", "4", form="goal-card")]


# 1. --bands for a score that has no bands ------------------------------------------------------------------

def test_bands_for_a_score_without_band_sets_is_refused_not_ignored(tmp_path):
    # progress_latest has no band sets: asking for some changed nothing, and nothing said so
    with pytest.raises(InputError, match="progress_latest"):
        export(goal_card_rows(SERIALS[0]), tmp_path / "out", band_choice={"progress_latest": "four-level"})
    assert not (tmp_path / "out").exists()


def test_bands_for_a_score_without_band_sets_exits_5_on_the_command_line(tmp_path):
    from formkit.records import FieldValue
    from tests.test_export_leftovers import make_store

    db = make_store(tmp_path / "s.sqlite", [("goal-card", 1, [FieldValue("progress_1", "choice", "4", 0.99, False)])])
    result = cli("export", "--db", db, "--out", tmp_path / "out", "--bands", "progress_latest=four-level")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "progress_latest" in result.output + result.stderr
    assert not (tmp_path / "out").exists()


# 2. a version whose template is not installed ----------------------------------------------------------------

def mixed_versions() -> list[dict[str, Any]]:
    """k10 version 1 (installed) and version 2 (not installed: its coding unknown), answered 2 and 0."""
    return k10_rows(SERIALS[0], "2") + k10_rows(SERIALS[1], "0", version=2, page_id=2)


def test_answers_of_a_version_not_installed_get_no_value_labels_of_another_version(tmp_path):
    import pyreadstat

    export(mixed_versions(), tmp_path, formats=("sav", "dta"))
    for read in (pyreadstat.read_sav, pyreadstat.read_dta):
        frame, meta = read(str(tmp_path / f"k10.{'sav' if read is pyreadstat.read_sav else 'dta'}"))
        labels = meta.variable_value_labels.get("k10_01", {})
        # version 1's "A little of the time" would be false of a version-2 value (its coding is unknown)
        assert not set(labels.values()) & {"None of the time", "A little of the time"}, labels
        assert "not installed" in meta.column_names_to_labels["k10_01"]
        assert frame["k10_01"].tolist() == [2, 0]


def test_forms_of_a_version_not_installed_are_left_out_of_the_redcap_import_and_said_so(tmp_path):
    import csv

    written = export(mixed_versions(), tmp_path, formats=("redcap",))
    with (tmp_path / "k10_redcap.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # version 2's 0 would be imported into version 1's radio field (coded 1 to 5) as if coded alike
    assert [row["k10_formkit_serial"] for row in rows] == [rows[0]["record_id"]]
    assert rows[0]["k10_01"] == "2"
    assert any("left out of k10_redcap.csv" in note for note in written.notes)


@pytest.mark.parametrize("written", ["nan", "inf", "1_000", "1e3"])
def test_a_cell_that_is_not_a_number_as_formkit_writes_one_stays_text_in_spss_and_excel(tmp_path, written):
    import openpyxl
    import pyreadstat

    # version 2 is not installed: its answers may be anything, and float() would take these as numbers
    # ('nan' a missing value, '1_000' a thousand)
    rows = k10_rows(SERIALS[0], "2") + k10_rows(SERIALS[1], written, version=2, page_id=2)
    export(rows, tmp_path, formats=("sav", "xlsx"))
    frame, _ = pyreadstat.read_sav(str(tmp_path / "k10.sav"))
    assert frame["k10_01"].tolist() == ["2", written]
    sheet = openpyxl.load_workbook(tmp_path / "export.xlsx")["k10"]
    column = [c.value for c in sheet[1]].index("k10_01") + 1
    assert sheet.cell(row=3, column=column).value == written


# 3. REDCap: digits without a range are a code ------------------------------------------------------------

def test_digits_without_a_range_are_plain_text_in_the_redcap_dictionary_and_keep_their_zeros(tmp_path):
    import csv

    from formkit.catalogue import Catalogue
    from tests.test_exports import HABITS

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "habits.yaml").write_text(HABITS.replace("QUESTION", "How?"), encoding="utf-8")
    rows = [value_row(SERIALS[0], "client_code", "digits", "0042", form="habits"),
            value_row(SERIALS[0], "a_very_long_field_identifier_number_one", "digits", "07", form="habits")]
    export(rows, tmp_path / "out", catalogue=Catalogue([folder]), formats=("redcap",))
    with (tmp_path / "out" / "redcap_dictionary.csv").open(encoding="utf-8") as handle:
        fields = {f["Variable / Field Name"]: f for f in csv.DictReader(handle)}
    validation = "Text Validation Type OR Show Slider Number"
    # an integer-validated field reaches SPSS, Stata and R from REDCap as a number: 0042 would be 42
    assert fields["habits_client_code"]["Field Type"] == "text"
    assert fields["habits_client_code"][validation] == ""
    assert "leading zeros kept" in fields["habits_client_code"]["Field Note"]
    ranged = fields["habits_a_very_long_field_identifier_number_one"]
    assert (ranged[validation], ranged["Text Validation Min"], ranged["Text Validation Max"]) == ("integer", "0", "99")
    with (tmp_path / "out" / "habits_redcap.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["habits_client_code"] == "0042"


def test_the_codebook_says_text_where_a_typed_column_is_held_as_text(tmp_path):
    import csv

    import pyreadstat

    # 'x' is no number: k10_01 is held as text in the SPSS and Stata files, and the codebook must say so, not
    # "choice" with numeric codes a researcher would then look for
    rows = k10_rows(SERIALS[0], "2") + k10_rows(SERIALS[1], "x", version=2, page_id=2)
    export(rows, tmp_path, formats=("csv", "sav", "dta"))
    _, meta = pyreadstat.read_sav(str(tmp_path / "k10.sav"))
    assert meta.readstat_variable_types["k10_01"] == "string"
    with (tmp_path / "codebook.csv").open(encoding="utf-8") as handle:
        book = {(r["file"], r["variable"]): r for r in csv.DictReader(handle)}
    for name in ("k10.sav", "k10.dta"):
        assert book[(name, "k10_01")]["type"] == "text"
        assert "held as text" in book[(name, "k10_01")]["allowed_values"]
    assert book[("k10.csv", "k10_01")]["type"] == "choice"


# 4. Excel's row limit ------------------------------------------------------------------------------------

def test_a_table_longer_than_an_excel_sheet_is_refused_as_exit_6_before_anything_is_written(tmp_path, monkeypatch):
    import formkit.export

    # a sheet holds 1,048,576 rows: a long table of some 100,000 K10 forms is longer. Made small here; openpyxl
    # itself refuses row 1,048,577 with a bare ValueError (a traceback, exit 1) after other files were made
    monkeypatch.setattr(formkit.export, "EXCEL_ROWS", 10)  # 10 rows and a header: one too many
    db = tmp_path / "s.sqlite"
    from formkit.records import FieldValue
    from tests.test_export_leftovers import make_store

    make_store(db, [("k10", 1, [FieldValue(f"k10_{i:02d}", "choice", "2", 0.98, False) for i in range(1, 11)])])
    out = tmp_path / "out"
    result = cli("export", "--db", db, "--out", out, "--format", "csv,xlsx")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "k10_long has 10 rows" in result.stderr and "csv, sav or dta" in result.stderr
    assert not out.exists() or not list(out.iterdir())
    assert cli("export", "--db", db, "--out", out, "--format", "csv").exit_code == 0


# 5. digits with more figures than a number holds exactly ---------------------------------------------------

LONG_DIGITS = """
form: refs
version: 1
title: References
licence: shippable
items:
  - {kind: digits, id: reference, text: Reference number, count: 18, min: 0}
  - {kind: digits, id: visits, text: Visits, count: 2, min: 0, max: 99}
"""


def test_digits_longer_than_a_number_holds_exactly_are_kept_whole_in_excel_spss_stata_and_redcap(tmp_path):
    import csv

    import openpyxl
    import pyreadstat

    from formkit.catalogue import Catalogue

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "refs.yaml").write_text(LONG_DIGITS, encoding="utf-8")
    written = "123456789012345678"  # as a double: 123456789012345680
    rows = [value_row(SERIALS[0], "reference", "digits", written, form="refs"),
            value_row(SERIALS[0], "visits", "digits", "07", form="refs")]
    export(rows, tmp_path / "out", catalogue=Catalogue([folder]), formats=("xlsx", "sav", "dta", "redcap"))
    for read, name in ((pyreadstat.read_sav, "refs.sav"), (pyreadstat.read_dta, "refs.dta")):
        frame, _ = read(str(tmp_path / "out" / name))
        assert str(frame["reference"][0]) == written, name
        assert frame["visits"][0] == 7  # a count within a number's reach stays a number
    sheet = openpyxl.load_workbook(tmp_path / "out" / "export.xlsx")["refs"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("reference") + 1).value == written
    assert sheet.cell(row=2, column=header.index("visits") + 1).value == 7
    with (tmp_path / "out" / "redcap_dictionary.csv").open(encoding="utf-8") as handle:
        fields = {f["Variable / Field Name"]: f for f in csv.DictReader(handle)}
    # REDCap's own exports would read an integer-validated reference as a number, rounded as above
    assert fields["refs_reference"]["Text Validation Type OR Show Slider Number"] == ""
    assert fields["refs_visits"]["Text Validation Type OR Show Slider Number"] == "integer"


# 6. the codebook's words for a digits field's range ----------------------------------------------------------

def test_the_codebook_gives_a_digits_range_with_one_end_as_that_end_not_as_none(tmp_path):
    import csv

    from formkit.catalogue import Catalogue

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "ends.yaml").write_text("""
form: ends
version: 1
title: Ends
licence: shippable
items:
  - {kind: digits, id: from_five, text: From five, count: 2, min: 5}
  - {kind: digits, id: up_to_fifty, text: Up to fifty, count: 2, max: 50}
  - {kind: digits, id: both, text: Both, count: 2, min: 1, max: 9}
""", encoding="utf-8")
    rows = [value_row(SERIALS[0], field, "digits", "7", form="ends") for field in ("from_five", "up_to_fifty", "both")]
    export(rows, tmp_path / "out", catalogue=Catalogue([folder]))
    with (tmp_path / "out" / "codebook.csv").open(encoding="utf-8") as handle:
        allowed = {r["variable"]: r["allowed_values"] for r in csv.DictReader(handle) if r["file"] == "ends.csv"}
    assert "at least 5" in allowed["from_five"] and "None" not in allowed["from_five"]
    assert "at most 50" in allowed["up_to_fifty"]
    assert "1 to 9" in allowed["both"]
