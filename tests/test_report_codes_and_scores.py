"""The person report finds a person by their code however it was typed (another Unicode form of the same
letters, full-width digits), and shows every score of an organisation's own form, not its first five."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.store import Store
from formkit_cli import main

LABELS = ("Sleep", "Food", "Walks", "Friends", "Work", "Worry", "Energy")  # seven scores, one item each
ZOE = "Zoe\u0308-7"  # 'Zoë-7' with the diaeresis as a second character (NFD), as a Mac may write the codes file


def diary_store(folder: Path, codes: dict[str, str]) -> tuple[Path, Path, Path]:
    """A store with one form of an organisation's own template 'diary' (seven scores) for each serial of
    ``codes``: (store, codes file, templates folder)."""
    templates = folder / "templates"
    templates.mkdir()
    rows = ", ".join(f"{{id: d_{i}, text: Item {i}.}}" for i in range(1, len(LABELS) + 1))
    scores = "".join(f"    - {{id: s_{i}, label: {label}, method: sum, items: [d_{i}]}}\n"
                     for i, label in enumerate(LABELS, start=1))
    (templates / "diary.yaml").write_text(
        "form: diary\nversion: 1\ntitle: Diary check\nlicence: shippable\n"
        "scales:\n  five: [{value: 1, label: Never}, {value: 2, label: Rarely}, {value: 3, label: Sometimes}, "
        "{value: 4, label: Often}, {value: 5, label: Always}]\n"
        f"items:\n  - {{kind: matrix, scale: five, rows: [{rows}]}}\n"
        "  - {kind: date, id: visit_date, text: Date}\n"
        f"scoring:\n  occasion_date: visit_date\n  scores:\n{scores}", encoding="utf-8")
    db = folder / "diary.sqlite"
    store = Store(db)
    for index, serial in enumerate(codes):
        input_id, _ = store.add_input(InputFile(f"/scans/d{index}.png", f"sha{index}", 100, 1))
        values = [FieldValue(f"d_{i}", "choice", str(1 + (i + index) % 5), 0.99, False)
                  for i in range(1, len(LABELS) + 1)]
        store.save_page(input_id, 0, PageResult(
            f"/scans/d{index}.png", 1, f"sha{index}", PageState.READ, form="diary", version=1, variant="N",
            form_page=1, serial=serial.replace("-", ""),
            values=[*values, FieldValue("visit_date", "date", f"2026-0{index + 1}-10", 0.99, False)]))
    store.close()
    codes_file = folder / "codes.csv"
    codes_file.write_text("serial,code\n" + "".join(f"{s},{c}\n" for s, c in codes.items()), encoding="utf-8")
    return db, codes_file, templates


def report_text(pdf: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())


@pytest.mark.parametrize(("typed", "found"), [
    (unicodedata.normalize("NFC", ZOE), ZOE),  # typed on a keyboard: the composed 'ë'
    ("P\uff11", "P1"),  # full-width digit one, as an East Asian keyboard types it
])
def test_a_person_code_typed_in_another_unicode_form_finds_the_persons_forms(tmp_path, typed, found):
    """'--person Zoë-7' found no form of the code 'Zoë-7' written decomposed in the codes file, nor '--person P１'
    the forms of P1: "no returned form has this code", though the code listed looked the same."""
    db, codes, templates = diary_store(tmp_path, {"DIAA-AAA1": ZOE, "DIAB-BBB2": "P1"})
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes), "--person", typed,
                                       "--templates", str(templates), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = unicodedata.normalize("NFC", report_text(out))
    assert f"Code: {unicodedata.normalize('NFC', found)}" in text, text


def test_a_code_typed_that_is_two_codes_written_alike_is_refused_naming_both(tmp_path):
    from formkit.errors import InputError
    from formkit.export import read_codes
    from formkit.report.data import known_code, load_forms

    db, codes, templates = diary_store(tmp_path, {"DIAA-AAA1": "P\uff11", "DIAB-BBB2": "P\U0001d7cf"})  # P１, P𝟏
    from formkit.catalogue import Catalogue

    store = Store(db, readonly=True)
    try:
        forms = load_forms(store.values(), store.scan_dates(), read_codes(codes), catalogue=Catalogue([templates]))
    finally:
        store.close()
    with pytest.raises(InputError, match="each of the codes 'P１', 'P𝟏'"):
        known_code(forms, "P1")
    assert known_code(forms, "P\uff11") == "P\uff11"  # each still found as written


@pytest.mark.parametrize("large_print", [False, True])
def test_an_organisations_own_form_shows_every_score_in_the_person_report(tmp_path, large_print):
    """Only the first five of a form's scores were shown; the rest were left out without a word."""
    db, codes, templates = diary_store(tmp_path, {"DIAA-AAA1": "P1", "DIAB-BBB2": "P1"})
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes), "--person", "P1",
                                       "--templates", str(templates), "--out", str(out),
                                       *(["--large-print"] if large_print else [])])
    assert result.exit_code == 0, result.output
    text = report_text(out)
    assert all(label in text for label in LABELS), text
