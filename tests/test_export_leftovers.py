"""What export says beyond the files it writes: files an earlier export left in --out (named, never deleted),
why nothing was exported when every page was voided, forms whose template is not installed (no scores), and
the exit codes of a wrong --format or a missing --codes file, and a codes file checked as a roster is."""

from __future__ import annotations

import random
from pathlib import Path

from click.testing import CliRunner

from formkit.catalogue import shipped_catalogue
from formkit.errors import ExitCode
from formkit.export import export, is_export_file
from formkit.pairs import PAIRS
from formkit.records import FILES_NAMED, FieldValue, InputFile, PageResult, PageState
from formkit.serial import format_serial, new_serial
from formkit.store import Store
from formkit_cli import main

ROOT = Path(__file__).resolve().parents[1]
ALL = "csv,xlsx,sav,dta,redcap"


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def k10_values(answer: int) -> list[FieldValue]:
    return [FieldValue(f"k10_{i:02d}", "choice", str(answer), 0.98, False) for i in range(1, 11)]


def make_store(db: Path, pages: list[tuple[str, int, list[FieldValue]]]) -> Path:
    """A store holding one read page per (form, version, values), each with its own serial, as the scanner
    would leave it."""
    store = Store(db)
    for index, (form, version, values) in enumerate(pages):
        name = f"/scans/{index}.png"
        input_id, _ = store.add_input(InputFile(name, f"sha{index}", 100, 1))
        store.save_page(input_id, 0, PageResult(name, 1, f"sha{index}", PageState.READ, form=form, version=version,
                                                variant="N", form_page=1, serial=new_serial(random.Random(index)),
                                                values=values))
    store.close()
    return db


def void(db: Path, form: str | None = None) -> None:
    store = Store(db)
    store.void_pages([p["id"] for p in store.pages() if form is None or p["form"] == form], "test", "tester")
    store.close()


def leftovers_named(stderr: str) -> tuple[int, set[str]]:
    """How many files the left-over warning counts, and those it names (0 and none when there is none)."""
    warning = next((line for line in stderr.splitlines() if "left from an earlier export" in line), "")
    if not warning:
        return 0, set()
    count = int(warning.partition(": ")[2].partition(" file(s)")[0].rpartition(" ")[2])
    listed = warning.partition("voided): ")[2].partition("; delete")[0].partition(" and ")[0]
    return count, set(listed.split(", "))


def test_files_of_an_earlier_export_are_named_and_kept(tmp_path):
    db = make_store(tmp_path / "s.sqlite", [("k10", 1, k10_values(2)), ("vas-4line", 1, [
        FieldValue("line_1", "line", "20.0", 0.99, False)])])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    (out / "manifest.csv").write_text("mine\n", encoding="utf-8")  # named as a form's table, but no form's
    # named as an installed form's table that this store's export never writes, but an input of the export:
    # never an export's leftover
    codes = out / "alliance-check.csv"
    codes.write_text("serial,code\n", encoding="utf-8")

    first = cli("export", "--db", db, "--out", out, "--format", ALL, "--codes", codes)
    assert first.exit_code == 0, first.output
    assert "left from an earlier export" not in first.stderr
    before = {p.name for p in out.iterdir()}

    void(db, "vas-4line")
    second = cli("export", "--db", db, "--out", out, "--codes", codes)
    assert second.exit_code == 0, second.output
    written = {Path(line).name for line in second.stdout.splitlines() if line.startswith(str(out))}
    assert written == {"k10.csv", "k10_long.csv", "k10_change.csv", "codebook.csv"}
    assert "formkit: warning:" in second.stderr and "delete them or export to a new folder" in second.stderr
    count, named = leftovers_named(second.stderr)
    left = before - written - {"notes.txt", "alliance-check.csv", "manifest.csv"}
    assert {"vas-4line.csv", "vas-4line_long.csv", "vas-4line.sav", "k10.sav", "k10_redcap.csv", "export.xlsx",
            "redcap_dictionary.csv"} <= left
    assert count == len(left) and len(named) == FILES_NAMED and named <= left
    assert {p.name for p in out.iterdir()} == before  # named, never deleted

    void(db)  # every page voided: pages were read, so "not read yet" would be untrue
    third = cli("export", "--db", db, "--out", out, "--codes", codes)
    assert third.exit_code == 0, third.output
    assert "No read pages to export (2 voided)" in third.stdout and "read yet" not in third.stdout
    count, named = leftovers_named(third.stderr)
    mine = {"notes.txt", "alliance-check.csv", "manifest.csv"}
    assert count == len(before - mine) and not mine & named
    assert {p.name for p in out.iterdir()} == before


def test_every_file_an_export_writes_is_told_apart_from_other_files(tmp_path):
    db = make_store(tmp_path / "s.sqlite", [("k10", 1, k10_values(2)), ("k10", 1, k10_values(3))])
    store = Store(db, readonly=True)
    rows = store.values()
    store.close()
    written = export(rows, tmp_path / "out", formats=tuple(ALL.split(",")))
    assert len(written) > 10 and written.leftovers == []
    installed = [form for form, _, _ in shipped_catalogue().installed_forms()]
    assert all(is_export_file(path.name, ["k10"]) for path in written), [p.name for p in written]
    assert all(is_export_file(spec.file_name, installed) for spec in PAIRS.values())
    assert not is_export_file("manifest.csv", ["k10", "goal-card"]) and is_export_file("k10_long.csv", ["k10"])
    assert not any(is_export_file(name, installed) for name in ("notes.txt", "codes_list.csv", "K10.csv",
                                                                "k10_long.xlsx", "k10_redcap.sav", ".k10.csv.tmp",
                                                                "k10.csv.bak"))


def test_forms_whose_template_is_not_installed_say_why_they_have_no_scores(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    k10 = (ROOT / "templates" / "k10.yaml").read_text(encoding="utf-8")
    assert "\nform: k10\n" in k10
    (templates / "my-k10.yaml").write_text(k10.replace("\nform: k10\n", "\nform: my-k10\n"), encoding="utf-8")
    db = make_store(tmp_path / "s.sqlite", [("my-k10", 1, k10_values(2)), ("my-k10", 1, k10_values(3)),
                                            ("k10", 1, k10_values(2)), ("k10", 2, k10_values(3))])

    given = cli("export", "--db", db, "--out", tmp_path / "given", "--templates", templates)
    assert given.exit_code == 0, given.output
    assert "k10_total" in (tmp_path / "given" / "my-k10.csv").read_text(encoding="utf-8").splitlines()[0]
    assert (tmp_path / "given" / "my-k10_change.csv").exists()
    assert "my-k10: no installed template" not in given.output

    bare = cli("export", "--db", db, "--out", tmp_path / "bare")
    assert bare.exit_code == 0, bare.output
    assert "k10_total" not in (tmp_path / "bare" / "my-k10.csv").read_text(encoding="utf-8").splitlines()[0]
    assert not (tmp_path / "bare" / "my-k10_change.csv").exists()
    assert "my-k10: no installed template, so no scores or change file (give --templates" in bare.stdout
    assert "k10 version 2: no installed template, so these forms are not scored" in bare.stdout

    redcap = cli("export", "--db", db, "--out", tmp_path / "redcap", "--format", "csv,redcap")
    assert redcap.exit_code == 0, redcap.output
    said = [line for line in redcap.stdout.splitlines() if line.startswith("my-k10:")]
    assert said == ["my-k10: no installed template, so no scores, change file or REDCap file (give --templates "
                    "with the folder of your own templates)"]


def test_exit_codes_of_a_wrong_format_and_a_missing_codes_file_follow_the_readme(tmp_path):
    db = make_store(tmp_path / "s.sqlite", [("k10", 1, k10_values(2))])
    out = tmp_path / "out"
    missing = cli("export", "--db", db, "--codes", tmp_path / "nosuch.csv", "--out", out)
    assert missing.exit_code == ExitCode.INPUT
    assert f"formkit: error: --codes {tmp_path / 'nosuch.csv'}: no such file" in missing.stderr
    for wrong in ("csv,foo", "", " , "):
        refused = cli("export", "--db", db, "--format", wrong, "--out", out)
        assert refused.exit_code == ExitCode.USAGE, (wrong, refused.output)
        assert "'--format'" in refused.stderr and "csv, xlsx, sav, dta, redcap" in refused.stderr
    assert "foo: not a format" in cli("export", "--db", db, "--format", "csv,foo", "--out", out).stderr
    assert not out.exists()


def test_a_codes_file_is_checked_as_a_roster_is(tmp_path):
    """A code typed as a name, or a serial mistyped, passed without a word: the name went into every export
    and report, the mistyped serial's form lost its code."""
    db = make_store(tmp_path / "s.sqlite", [("k10", 1, k10_values(2))])
    serial = format_serial(new_serial(random.Random(0)))  # the stored page's
    named = tmp_path / "named.csv"
    named.write_text(f"serial,code\n{serial},Zoe Smith\n", encoding="utf-8")
    for command in (["export", "--db", db, "--out", tmp_path / "out"], ["report", "service", "--db", db, "--out",
                                                                          tmp_path / "service.pdf"]):
        refused = cli(*command, "--codes", named)
        assert refused.exit_code == ExitCode.INPUT
        assert f"{named}:2: code 'Zoe Smith' must be 1-32 characters without spaces" in refused.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "service.pdf").exists()
    slip = serial[:-1] + ("A" if serial[-1] != "A" else "B")  # the check character no longer fits
    typed = tmp_path / "typed.csv"
    typed.write_text(f"serial,code\n{slip},P-01\n", encoding="utf-8")
    result = cli("export", "--db", db, "--out", tmp_path / "out", "--codes", typed)
    assert result.exit_code == 0, result.output
    assert f"formkit: warning: {typed}:2: serial '{slip}' is not one formkit prints" in result.stderr
    assert "1 form has no person code" in result.stdout
