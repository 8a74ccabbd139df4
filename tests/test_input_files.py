"""The files a command reads are read as written and never written over: a stray quote in a roster or codes
file is refused with its file and line (it would drop rows or make up a code); no output may be one of the
command's inputs; and no form id may take a file name export writes for itself."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.atomic import atomic_outputs
from formkit.errors import ExitCode, InputError, OutputError, TemplateError
from formkit.export import read_codes
from formkit.generate import read_roster
from formkit.template import load_template
from formkit.template.jsonschema import template_json_schema
from formkit.template.schema import FORM_ID
from formkit_cli import main

from .conftest import MINIMAL


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


# 1. a stray quote in a roster or codes file ------------------------------------------------------------------

STRAY_QUOTES = {
    "a quote in the wrong place": ('name,code\n"Ann" Lee,C-1\nBob,C-2\n', 2, "a quote in the wrong place"),
    "a quote never closed": ('name,code\nAnn,C-1\nBob,C-2\n"Cid,C-3\nDee,C-4\nEve,C-5\n', 4, "never closed"),
    "a quote closed by a later one": ('name,code\nAnn,C-1\n"Cid,C-3\nDee",C-4\nEve,C-5\n', 3, "several lines"),
    "a line break typed in a cell": ('name,code\n"Ann\nLee",C-1\nBob,C-2\n', 2, "several lines"),
}


@pytest.mark.parametrize(("text", "line", "words"), STRAY_QUOTES.values(), ids=STRAY_QUOTES)
def test_a_stray_quote_in_a_roster_is_refused_naming_its_line_and_nothing_is_printed(tmp_path, text, line, words):
    roster = tmp_path / "r10.csv"
    roster.write_text(text, encoding="utf-8")
    pdf, manifest = tmp_path / "j.pdf", tmp_path / "j.csv"
    result = cli("generate", "k10", "--roster", roster, "--out", pdf, "--manifest", manifest)
    assert result.exit_code == ExitCode.INPUT, result.output
    assert f"{roster}:{line}: " in result.output and words in result.output
    assert not pdf.exists() and not manifest.exists()


@pytest.mark.parametrize(("text", "line"), [
    ('serial,code\nQUHA-QUCT,"C-1\nYDAH-WNA4,C-2\n', 2),  # read leniently: one code 'C-1\nYDAH-WNA4,C-2\n'
    ('serial;code\nQUHA-QUCT;C-1\n"YDAH-WNA4" ;C-2\n', 3),  # read leniently: serial 'YDAH-WNA4 '
])
def test_a_stray_quote_in_a_codes_file_is_refused_not_made_into_a_code(tmp_path, text, line):
    codes = tmp_path / "codes.csv"
    codes.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{codes}:{line}: ")) as error:
        read_codes(codes)
    assert error.value.exit_code == ExitCode.INPUT


WELL_FORMED = {
    "quoted cells with commas and quotes": 'name,code\n"Lee, Ann",C-1\n"Bob ""B"" Ng","C-2"\n',
    "a byte-order mark and Windows line ends": "\ufeffname,code\r\nAnn,C-1\r\nBob,C-2\r\n",
    "semicolons": 'name;code\n"Lee; Ann";C-1\nBob;C-2\n',
    "tabs": "name\tcode\nAnn Lee\tC-1\n\"Bob\"\tC-2\n",
    "blank lines and a short row": "name,code\n\nAnn,C-1\n\nBob,C-2\nCid\n",
    "no final line end": "name,code\nAnn,C-1\nBob,C-2",
}


@pytest.mark.parametrize("text", WELL_FORMED.values(), ids=WELL_FORMED)
def test_every_row_of_a_well_formed_roster_is_read(tmp_path, text):
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8", newline="")
    expected = ["C-1", "C-2", None] if "Cid" in text else ["C-1", "C-2"]
    assert read_roster(roster) == expected


def test_every_row_of_a_well_formed_codes_file_is_read(tmp_path):
    codes = tmp_path / "codes.csv"
    codes.write_text('\ufeffserial,name,code\n"QUHA-QUCT","Lee, Ann",C-1\nYDAH-WNA4,"Bob ""B""",C-2\n'
                     "YDAH-WNA5\n", encoding="utf-8")
    assert read_codes(codes) == {"QUHAQUCT": "C-1", "YDAHWNA4": "C-2"}


# 2. an output that is one of the command's inputs ------------------------------------------------------------

@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "my.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return path


@pytest.mark.parametrize("option", ["--out", "--manifest"])
def test_generate_never_writes_over_its_template(tmp_path, template, option):
    other = "--manifest" if option == "--out" else "--out"
    result = cli("generate", template, "--count", "1", option, template, other, tmp_path / "other.x")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert f"{template}: is the template this command reads" in result.output
    assert template.read_text(encoding="utf-8") == MINIMAL and not (tmp_path / "other.x").exists()


def test_generate_never_writes_over_its_template_by_another_name(tmp_path, template):
    os.link(template, tmp_path / "linked.yaml")
    (tmp_path / "sub").mkdir()
    for name in (tmp_path / "linked.yaml", tmp_path / "sub" / ".." / "my.yaml"):
        result = cli("generate", template, "--count", "1", "--out", tmp_path / "k.pdf", "--manifest", name)
        assert result.exit_code == ExitCode.OUTPUT, result.output
        assert f"{name}: is the template this command reads ({template})" in result.output
    assert template.read_text(encoding="utf-8") == MINIMAL and not (tmp_path / "k.pdf").exists()


def test_generate_never_writes_over_its_roster(tmp_path):
    roster = tmp_path / "people.csv"
    roster.write_text("name,code\nAnn,C-1\n", encoding="utf-8")
    result = cli("generate", "k10", "--roster", roster, "--out", tmp_path / "k.pdf", "--manifest", roster)
    assert result.exit_code == ExitCode.OUTPUT and "is the roster this command reads" in result.output
    assert roster.read_text(encoding="utf-8") == "name,code\nAnn,C-1\n" and not (tmp_path / "k.pdf").exists()


def test_export_never_writes_over_its_codes_file_or_its_store(tmp_path):
    from formkit.records import FieldValue, InputFile, PageResult, PageState
    from formkit.store import Store

    db = tmp_path / "s.sqlite"
    store = Store(db)
    info = InputFile("a.png", "a" * 64, 1, 1)
    input_id, _ = store.add_input(info)
    store.save_page(input_id, 0, PageResult("a.png", 1, info.sha256, PageState.READ, "", "k10", 1, "", 1, "AAAAAAA1",
                                            values=[FieldValue("k10_01", "choice", "3", 0.99, False)]))
    store.close()
    out = tmp_path / "out"
    out.mkdir()
    codes = out / "k10.csv"  # where the export would write the K10 table
    codes.write_text("serial,code\nAAAA-AAA1,P01\n", encoding="utf-8")
    result = cli("export", "--db", db, "--out", out, "--codes", codes)
    assert result.exit_code == ExitCode.OUTPUT and "is the codes file this command reads" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["k10.csv"] and "P01" in codes.read_text(encoding="utf-8")
    store_named_like_a_table = tmp_path / "k10.csv"  # the store, where the export would write the K10 table
    store_named_like_a_table.write_bytes(db.read_bytes())
    before = store_named_like_a_table.read_bytes()
    result = cli("export", "--db", store_named_like_a_table, "--out", tmp_path, "--format", "csv")
    assert result.exit_code == ExitCode.OUTPUT and "is the store this command reads" in result.output
    assert store_named_like_a_table.read_bytes() == before


def test_an_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path):
    source = tmp_path / "pack.yaml"
    source.write_text("texts: {}\n", encoding="utf-8")
    with pytest.raises(OutputError, match="is the text pack this command reads"), \
            atomic_outputs(tmp_path / "new.csv", source, inputs={source: "text pack"}):
        pytest.fail("the block ran")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.yaml"]
    with atomic_outputs(tmp_path / "new.csv", inputs={source: "text pack"}) as (temp,):  # another file: written
        temp.write_text("x", encoding="utf-8")
    assert (tmp_path / "new.csv").read_text(encoding="utf-8") == "x"


# 3. form ids that are file names export writes ---------------------------------------------------------------

def test_a_form_id_that_is_an_export_file_name_is_refused_at_its_line(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text("# the codebook form\n" + MINIMAL.replace("form: test-form", "form: codebook"), encoding="utf-8")
    with pytest.raises(TemplateError) as error:
        load_template(path)
    assert error.value.exit_code == ExitCode.TEMPLATE and error.value.line == 2
    assert str(error.value).startswith(f"{path}:2: 'form' must be a form id other than codebook")
    assert re.search(template_json_schema()["properties"]["form"]["pattern"], "codebook") is None  # editors too


@pytest.mark.parametrize("form", ["codebook2", "codebooks", "my-codebook", "k10"])
def test_other_form_ids_with_that_name_in_them_are_allowed(form):
    assert FORM_ID.fullmatch(form) and re.search(template_json_schema()["properties"]["form"]["pattern"], form)


def test_no_form_id_has_an_underscore_so_no_form_file_is_another_forms_long_or_change_file():
    assert not FORM_ID.fullmatch("k10_long") and not FORM_ID.fullmatch("k10_change")
