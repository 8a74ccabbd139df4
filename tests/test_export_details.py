"""Everyday details of printing and export: several --codes files, values waiting for review, serials as
printed, text-pack forms without a pack, ';' and tab separated inputs, file permissions, and --help."""

from __future__ import annotations

import csv
import os
import random
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode, InputError
from formkit.export import export, read_codes
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.serial import format_serial, new_serial
from formkit.store import Store
from formkit.template import resolve_template
from formkit_cli import main

SERIALS = [new_serial(random.Random(n)) for n in range(4)]  # as the QR and the store hold them: K7M3QX9C


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def k10_values(answer: int, date: str = "", flagged: tuple[str, ...] = ()) -> list[FieldValue]:
    values = [FieldValue(f"k10_{i:02d}", "choice", str(answer), 0.98765, False) for i in range(1, 11)]
    values.append(FieldValue("date_completed", "date", date, 0.91234, False))
    for value in values:
        if value.field in flagged:
            value.needs_review, value.reason, value.confidence = True, "unsure", 0.41
    return values


def make_store(tmp_path: Path, forms: dict[str, list[FieldValue]], form: str = "k10") -> Path:
    """A store holding one read page per serial, as the scanner would leave it."""
    db = tmp_path / "s.sqlite"
    store = Store(db)
    for index, (serial, values) in enumerate(forms.items()):
        name = f"/scans/{index}.png"
        input_id, _ = store.add_input(InputFile(name, f"sha{index}", 100, 1))
        store.save_page(input_id, 0, PageResult(name, 1, f"sha{index}", PageState.READ, form=form, version=1,
                                                variant="N", form_page=1, serial=serial, values=values))
    store.close()
    return db


# 1. several --codes files --------------------------------------------------------------------------------

def test_codes_from_several_print_runs_are_all_used_and_forms_without_a_code_are_counted(tmp_path):
    db = make_store(tmp_path, {SERIALS[0]: k10_values(2, "2026-01-10"), SERIALS[1]: k10_values(3, "2026-03-01"),
                               SERIALS[2]: k10_values(1)})
    first, second = tmp_path / "run1.csv", tmp_path / "run2.csv"
    # the first run's manifest as generate writes it (serial as printed); the second typed by hand, with
    # semicolons and the serial without its dash; a row without a code gives none
    first.write_text(f"serial,pdf_page,code\n{format_serial(SERIALS[0])},1,P01\n{SERIALS[3]},2,\n", encoding="utf-8")
    second.write_text(f"name;serial;code\nA. Person;{SERIALS[1]};P01\n", encoding="utf-8")
    result = cli("export", "--db", db, "--out", tmp_path / "out", "--codes", first, "--codes", second)
    assert result.exit_code == 0, result.output
    wide = {r["serial"]: r for r in read(tmp_path / "out" / "k10.csv")}
    assert [wide[format_serial(s)]["person_code"] for s in SERIALS[:3]] == ["P01", "P01", ""]
    assert "1 form has no person code (k10: 1)" in result.stdout
    change = read(tmp_path / "out" / "k10_change.csv")
    assert [(c["person_code"], c["first_serial"], c["latest_serial"], c["change"]) for c in change] == [
        ("P01", format_serial(SERIALS[0]), format_serial(SERIALS[1]), "10")]


def test_a_serial_given_two_codes_is_an_error_naming_both_files(tmp_path):
    db = make_store(tmp_path, {SERIALS[0]: k10_values(2)})
    first, second = tmp_path / "run1.csv", tmp_path / "run2.csv"
    first.write_text(f"serial,code\n{format_serial(SERIALS[0])},P01\n", encoding="utf-8")
    second.write_text(f"serial\tcode\n{SERIALS[0].lower()}\tP02\n", encoding="utf-8")
    result = cli("export", "--db", db, "--out", tmp_path / "out", "--codes", first, "--codes", second)
    assert result.exit_code == ExitCode.INPUT
    assert f"{first}:2" in result.stderr and f"{second}:2" in result.stderr and "P01" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing written
    # the same code twice (a two-page form lists its serial on two rows; a run given twice) is fine
    assert read_codes(first, first) == {SERIALS[0]: "P01"}


def test_a_code_written_decomposed_is_the_code_typed_composed(tmp_path):
    """A codes file saved by a Mac keeps 'Zoë' as 'Zoe' and a combining diaeresis: the review app stores what is
    typed composed, so the export held two people where the reports found one."""
    decomposed, composed = "Zoe\u0308-1", "Zo\u00eb-1"
    first, second = tmp_path / "run1.csv", tmp_path / "run2.csv"
    first.write_text(f"serial,code\n{format_serial(SERIALS[0])},{decomposed}\n", encoding="utf-8")
    second.write_text(f"serial,code\n{format_serial(SERIALS[0])},{composed}\n{format_serial(SERIALS[1])},{composed}\n",
                      encoding="utf-8")
    assert read_codes(first, second) == {SERIALS[0]: composed, SERIALS[1]: composed}


# 2. a value waiting for review ----------------------------------------------------------------------------

def _row(serial: str, field: str, kind: str, value: str, review: bool = False, status: str = "read",
         source: str = "a.png") -> dict[str, object]:
    return {"page_id": 1, "status": status, "form": "goal-card", "version": 1, "variant": "N", "form_page": 1,
            "serial": serial, "conflict_of": None, "source_file": source, "source_page": 1, "field": field,
            "kind": kind, "value": value, "confidence": 0.5 if review else 0.987654, "needs_review": int(review),
            "reason": "unsure" if review else "", "review": "", "reviewed_by": ""}


def test_a_value_waiting_for_review_is_empty_in_the_wide_file_whatever_its_kind(tmp_path):
    serial = SERIALS[0]
    rows = [_row(serial, "goal", "text", "Walk to the shop", review=True),
            _row(serial, "why", "text", "I like it"),
            _row(serial, "date_set", "date", "2026-02-03", review=True),
            _row(serial, "progress_1", "choice", "4"),
            _row(serial, "progress_2", "choice", "6", review=True),
            _row(serial, "progress_3", "choice", ""), _row(serial, "progress_4", "choice", ""),
            _row(serial, "helper", "text", "Sam"),
            # a second, different image of the page: the value is flagged as a conflict
            _row(serial, "helper", "text", "Pam", status="conflict", source="b.png")]
    export(rows, tmp_path)
    [wide] = read(tmp_path / "goal-card.csv")
    assert [wide[f] for f in ("goal", "why", "date_set", "progress_1", "progress_2", "helper")] == \
        ["", "I like it", "", "4", "", ""]
    assert wide["needs_review"] == "4"
    assert wide["progress_latest"] == "" and wide["progress_latest_status"].startswith("pending-review")
    assert wide["progress_change"] == "" and wide["progress_change_status"].startswith("pending-review")
    long = {r["field"]: r for r in read(tmp_path / "goal-card_long.csv")}
    guesses = {f: (long[f]["value"], long[f]["needs_review"]) for f in ("goal", "date_set", "progress_2", "helper")}
    assert guesses == {"goal": ("Walk to the shop", "1"), "date_set": ("2026-02-03", "1"),
                       "progress_2": ("6", "1"), "helper": ("Sam", "1")}
    assert long["why"]["confidence"] == "0.988" and long["goal"]["confidence"] == "0.500"
    book = {(r["file"], r["variable"]): r for r in read(tmp_path / "codebook.csv")}
    assert "leaves each of them empty" in book[("goal-card.csv", "needs_review")]["label"]
    assert "waiting for review" in book[("goal-card.csv", "date_set")]["allowed_values"]
    assert "machine's guess" in book[("goal-card_long.csv", "value")]["label"]


# 3. serials as printed ------------------------------------------------------------------------------------

def test_serials_are_written_as_printed_in_every_csv(tmp_path):
    manifest = tmp_path / "k10.csv"
    result = cli("generate", "k10", "--count", "2", "--seed", "3", "--out", tmp_path / "k10.pdf",
                 "--manifest", manifest)
    assert result.exit_code == 0, result.output
    printed = [r["serial"] for r in read(manifest)]
    assert all(len(s) == 9 and s[4] == "-" for s in printed)
    db = make_store(tmp_path, {s.replace("-", ""): k10_values(2, f"2026-0{i + 1}-01") for i, s in enumerate(printed)})
    # the manifest itself links the forms (no code printed: write one in, as a roster would have)
    codes = tmp_path / "codes.csv"
    codes.write_text("serial,code\n" + "".join(f"{s},P07\n" for s in printed), encoding="utf-8")
    assert cli("export", "--db", db, "--out", tmp_path / "out", "--codes", codes).exit_code == 0
    out = tmp_path / "out"
    assert sorted(r["serial"] for r in read(out / "k10.csv")) == sorted(printed)
    assert {r["serial"] for r in read(out / "k10_long.csv")} == set(printed)
    [change] = read(out / "k10_change.csv")
    assert (change["first_serial"], change["latest_serial"]) == tuple(printed)


# 4. text-pack forms without a pack ------------------------------------------------------------------------

def test_a_text_pack_form_without_its_pack_is_refused_unless_placeholders_are_asked_for(tmp_path):
    pdf = tmp_path / "wai.pdf"
    refused = cli("generate", "wai-sr", "--out", pdf)
    assert refused.exit_code == ExitCode.INPUT
    assert "--text-pack" in refused.stderr and "--placeholders" in refused.stderr and not pdf.exists()
    allowed = cli("generate", "wai-sr", "--placeholders", "--out", pdf)
    assert allowed.exit_code == 0, allowed.output
    assert pdf.exists() and "warning" in allowed.stderr and "placeholders" in allowed.stderr
    shippable = cli("generate", "k10", "--placeholders", "--out", tmp_path / "k10.pdf")
    assert shippable.exit_code == 0 and shippable.stderr == ""


# 5. separators ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_a_roster_separated_by_commas_semicolons_or_tabs_keeps_its_codes(tmp_path, separator):
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeff" + "\n".join(separator.join(r) for r in [("name", "code"), ("Alice", "C-101"),
                                                                       ("Bob", "C-102")]) + "\n", encoding="utf-8")
    manifest = tmp_path / "k10.csv"
    result = cli("generate", "k10", "--roster", roster, "--out", tmp_path / "k10.pdf", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert [r["code"] for r in read(manifest)] == ["C-101", "C-102"]


def test_a_file_whose_separator_cannot_be_told_is_refused_with_its_name(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("code;note,more\nC-1;a, b, c\nC-2;d; e\nC-3,x\n", encoding="utf-8")
    result = cli("generate", "k10", "--roster", roster, "--out", tmp_path / "k10.pdf")
    assert result.exit_code == ExitCode.INPUT and str(roster) in result.stderr and "semicolons" in result.stderr
    assert not (tmp_path / "k10.pdf").exists()
    codes = tmp_path / "codes.csv"
    codes.write_text("serial;code,x\nA;1,2\nB,3;4;5\nC;6\n", encoding="utf-8")
    with pytest.raises(InputError, match=str(codes)):
        read_codes(codes)


# 6. permissions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_mode_a_new_file_gets_under_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        layout = build_layout(resolve_template("k10"))
        generate(layout, make_copies(1, None, 1), tmp_path / "k10.pdf", manifest=tmp_path / "manifest.csv")
        written = export([_row(SERIALS[0], "goal", "text", "x")], tmp_path / "out")
    finally:
        os.umask(old)
    for path in [tmp_path / "k10.pdf", tmp_path / "manifest.csv", *written]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert not [p for p in tmp_path.rglob("*.part")]


# 7. help ------------------------------------------------------------------------------------------------

def test_every_option_is_described_and_minus_h_works_on_every_command():
    assert cli("-h").exit_code == 0
    for name, command in main.commands.items():
        result = cli(name, "-h")
        assert result.exit_code == 0 and "Usage:" in result.output, name
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"formkit {name} {param.opts[0]} has no help"
    assert "the default" not in cli("layout", "-h").output


def test_command_summaries_are_whole_sentences():
    text = cli("--help").output
    listing = text[text.index("Commands:"):].splitlines()[1:]
    summaries: dict[str, str] = {}
    name = ""
    for line in listing:
        if line[:3].strip() and not line.startswith("   "):
            name, _, summary = line.strip().partition(" ")
            summaries[name] = summary.strip()
        elif line.strip():
            summaries[name] += " " + line.strip()
    assert set(summaries) == set(main.commands)
    for name, summary in summaries.items():
        assert summary.endswith(".") and not summary.endswith("..."), (name, summary)


def test_text_longer_than_an_excel_cell_is_said_to_be_cut_there(tmp_path):
    serial = SERIALS[0]
    story = "I walked to the shop. " * 1600  # 35,200 characters
    rows = [_row(serial, "goal", "text", story), _row(serial, "why", "text", "short")]
    written = export(rows, tmp_path, formats=("csv", "xlsx"))
    assert any("goal-card: 1 text cell(s) longer than Excel's 32,767" in n for n in written.notes), written.notes
    assert any("goal-card_long: 1 text cell(s)" in n for n in written.notes)
    assert not [n for n in export(rows, tmp_path / "csv", formats=("csv",)).notes if "Excel" in n]
