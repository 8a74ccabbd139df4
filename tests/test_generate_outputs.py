"""What `formkit generate` refuses to write over, and which rows of a roster it prints."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode, OutputError
from formkit.store import Store
from formkit_cli import main
from formkit_cli.reporting import _write as write_reports


def run_cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_an_existing_manifest_is_never_replaced(tmp_path):
    """The manifest was replaced without a word by a second run to the same name: the serials of the forms
    printed first, the one link from their returns to people, were lost."""
    manifest, pdf = tmp_path / "run.csv", tmp_path / "run.pdf"
    first = run_cli("generate", "k10", "--count", 2, "--out", pdf, "--manifest", manifest)
    assert first.exit_code == 0, first.output
    kept, printed = manifest.read_bytes(), pdf.read_bytes()
    again = run_cli("generate", "k10", "--count", 2, "--out", tmp_path / "again.pdf", "--manifest", manifest)
    assert again.exit_code == ExitCode.OUTPUT
    assert f"{manifest}: already exists" in again.output
    assert manifest.read_bytes() == kept and pdf.read_bytes() == printed and not (tmp_path / "again.pdf").exists()


def test_a_file_that_is_no_pdf_is_never_printed_over_but_a_pdf_is(tmp_path):
    """'--out forms.sqlite' by a slip replaced the store with a PDF: every page read and the audit log gone."""
    store = tmp_path / "forms.sqlite"
    store.write_bytes(b"SQLite format 3\x00" + bytes(4080))
    refused = run_cli("generate", "k10", "--count", 1, "--out", store)
    assert refused.exit_code == ExitCode.OUTPUT and "already exists and is not a PDF" in refused.output
    assert store.read_bytes().startswith(b"SQLite format 3")
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(b"")  # an empty file (mktemp's) holds nothing to lose
    for _ in range(2):  # printed again under the same name: replaced, as before
        assert run_cli("generate", "k10", "--count", 1, "--out", pdf).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_rows_with_every_cell_empty_print_nothing(tmp_path):
    """A spreadsheet saved as CSV ends with rows of empty cells where cells were once used; each printed a
    copy with no code."""
    roster = tmp_path / "roster.csv"
    roster.write_text("code,note\nC-1,first\n,\n  ,  \n,,\nC-2,\n", encoding="utf-8")
    manifest = tmp_path / "printed.csv"
    result = run_cli("generate", "k10", "--roster", roster, "--out", tmp_path / "k10.pdf", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert [r["code"] for r in csv.DictReader(manifest.open(encoding="utf-8"))] == ["C-1", "C-2"]


def test_an_output_under_a_file_names_what_was_asked_for(tmp_path):
    """The message named the temporary file formkit makes beside an output (".x.pdf.62d4bfdd.part")."""
    (tmp_path / "notes.csv").write_text("a file, not a folder\n", encoding="utf-8")
    out = tmp_path / "notes.csv" / "x.pdf"
    result = run_cli("generate", "k10", "--count", 1, "--out", out)
    assert result.exit_code == ExitCode.OUTPUT
    assert f"cannot write {out}: {tmp_path / 'notes.csv'} is a file, not a folder" in result.output
    assert ".part" not in result.output


def test_a_long_print_run_shows_it_is_going_on(tmp_path, monkeypatch):
    """100,000 copies took minutes with nothing on the screen, and over one more at a full bar."""
    from formkit_cli import printing

    quiet = CliRunner().invoke(main, ["generate", "k10", "--count", "2", "--out", str(tmp_path / "a.pdf")])
    assert quiet.exit_code == 0 and "Drawing pages" not in quiet.stderr
    monkeypatch.setattr(printing, "PROGRESS_FROM_PAGES", 2)
    shown = CliRunner().invoke(main, ["generate", "k10", "--count", "2", "--out", str(tmp_path / "b.pdf")])
    assert shown.exit_code == 0 and "Drawing pages" in shown.stderr
    # then the PDF is put together and written, an eighth of the time: the bar says so, not standing at 100 %
    assert shown.stderr.index("Writing the PDF") > shown.stderr.index("Drawing pages")


def test_no_command_writes_an_output_over_a_store_or_a_manifest(tmp_path):
    """'formkit redcap dictionary k10 --out forms.sqlite' (or --out cards.csv), 'report service --out
    other-site.sqlite' and 'report person --out cards.csv' replaced a store or a print run's manifest with their
    output, exit 0: every page read, or the only link from serials to people, gone. Now each is refused, the
    file kept as it was; a dictionary written before is replaced as ever."""
    store = tmp_path / "forms.sqlite"
    Store(store).close()
    manifest = tmp_path / "cards.csv"
    assert run_cli("generate", "k10", "--count", 1, "--out", tmp_path / "k10.pdf", "--manifest", manifest
                   ).exit_code == 0
    kept = {path: path.read_bytes() for path in (store, manifest)}
    for target in (store, manifest):
        refused = run_cli("redcap", "dictionary", "k10", "--out", target)
        assert refused.exit_code == ExitCode.OUTPUT, refused.output
        assert "which formkit never replaces with an output" in refused.output
        with pytest.raises(OutputError, match="already exists and is not a PDF"):
            write_reports([(target, b"%PDF-1.4 a report")], {})  # another site's store, say
    assert {path: path.read_bytes() for path in kept} == kept
    dictionary = tmp_path / "dd.csv"
    for _ in range(2):
        assert run_cli("redcap", "dictionary", "k10", "--out", dictionary).exit_code == 0
