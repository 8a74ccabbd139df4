"""Found by an adversarial pass over generate, layout, templates, redcap and report (2026-12-07): each test
holds a fix, and failed before it."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
from pathlib import Path

from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.render.qr import qr_matrices
from formkit.store import Store
from formkit_cli import main

ROOT = Path(__file__).resolve().parents[1]
WAI_PACK = ROOT / "samples" / "text-packs" / "wai-sr-example.yaml"


def _run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def _pack_without(tmp_path: Path, key: str) -> Path:
    """The example WAI-SR text pack with the line of ``key`` taken out."""
    pack = tmp_path / "partial.yaml"
    pack.write_text("".join(line for line in WAI_PACK.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.strip().startswith(f"{key}:")), encoding="utf-8")
    return pack


def test_a_text_pack_without_some_of_the_forms_keys_is_refused_for_printing_not_printed_as_placeholders(tmp_path):
    pack = _pack_without(tmp_path, "wai_05")
    out = tmp_path / "wai.pdf"
    result = _run("generate", "wai-sr", "--count", "1", "--text-pack", pack, "--out", out)
    assert result.exit_code == ExitCode.TEMPLATE, result.output
    assert "partial.yaml" in result.output and "wai_05" in result.output
    assert not out.exists()
    # asked for, they are printed, with a warning naming the key
    result = _run("generate", "wai-sr", "--count", "1", "--text-pack", pack, "--out", out, "--placeholders")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "wai_05" in result.output
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    assert "[wai_05]" in text and "[wai_04]" not in text
    # layout, a template's final check, says so too
    result = _run("layout", "wai-sr", "--text-pack", pack)
    assert result.exit_code == ExitCode.TEMPLATE and "wai_05" in result.output, result.output


def test_a_shippable_template_taking_wording_from_a_pack_is_not_printed_with_placeholders_unasked(write_template,
                                                                                                  tmp_path):
    template = write_template("form: own\nversion: 1\ntitle: Own form\nlicence: shippable\nitems:\n"
                              "  - {kind: paragraph, text: {pack: intro}}\n")
    result = _run("generate", template, "--count", "1", "--out", tmp_path / "own.pdf")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "--text-pack" in result.output and not (tmp_path / "own.pdf").exists()


def test_a_redcap_dictionary_from_a_partial_text_pack_warns_of_its_placeholder_labels(tmp_path):
    pack = _pack_without(tmp_path, "wai_05")
    result = _run("redcap", "dictionary", "wai-sr", "--text-pack", pack, "--out", tmp_path / "dd.csv")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "wai_05" in result.output
    assert "[wai_05]" in (tmp_path / "dd.csv").read_text(encoding="utf-8-sig")


def test_option_values_that_would_be_stored_alike_are_refused(write_template):
    head = "form: own\nversion: 1\ntitle: Own form\nlicence: shippable\nitems:\n"
    # 1 and '1' are both stored as the text 1; 'a;b' as a and b both marked; ' a' as a once read back
    for options, shown in (("[{value: 1, label: One}, {value: '1', label: Also one}]", "1"),
                           ("[{value: 'a;b', label: Both}, {value: a, label: A}, {value: b, label: B}]", "'a;b'"),
                           ("[{value: ' a', label: A}, {value: a, label: Also A}]", "' a'")):
        template = write_template(head + f"  - {{kind: choice, id: q, text: Q, multiple: true, options: {options}}}\n")
        result = _run("layout", template)
        assert result.exit_code == ExitCode.TEMPLATE, (options, result.output)
        assert "form.yaml:6" in result.output and shown in result.output


def test_layout_refuses_wording_the_font_cannot_print_as_generate_does(write_template, tmp_path):
    template = write_template("form: own\nversion: 1\ntitle: Own form\nlicence: shippable\nitems:\n"
                              "  - {kind: paragraph, text: Hello}\n  - {kind: paragraph, text: '你好'}\n")
    printed = _run("generate", template, "--count", "1", "--out", tmp_path / "own.pdf")
    checked = _run("layout", template)
    assert printed.exit_code == checked.exit_code == ExitCode.LAYOUT, checked.output
    assert "form.yaml:7" in checked.output and "你好" in checked.output


def test_a_title_too_long_for_the_page_is_named_not_the_first_item_with_negative_room(write_template):
    template = write_template("form: own\nversion: 1\nlicence: shippable\ntitle: " + "Many words " * 200 + "\n"
                              "items:\n  - {kind: heading, text: About you}\n")
    result = _run("layout", template)
    assert result.exit_code == ExitCode.LAYOUT, result.output
    assert "(item 'title')" in result.output and "shorten the title" in result.output
    assert "-" not in result.output.split("):", 1)[1].split("mm")[0]  # no negative room


def test_a_text_pack_naming_another_form_is_refused_for_printing(tmp_path):
    # scan finds a pack by the form it names: wai-sr forms printed with a pack saying 'form: k10' could not be read
    pack = tmp_path / "pack.yaml"
    pack.write_text(WAI_PACK.read_text(encoding="utf-8").replace("form: wai-sr", "form: k10"), encoding="utf-8")
    out = tmp_path / "wai.pdf"
    result = _run("generate", "wai-sr", "--count", "1", "--text-pack", pack, "--out", out)
    assert result.exit_code == ExitCode.TEMPLATE, result.output
    assert "pack.yaml" in result.output and "'k10'" in result.output and not out.exists()


def test_a_redcap_dictionary_never_replaces_the_template_or_text_pack_it_is_made_from(tmp_path):
    template = tmp_path / "mine.yaml"
    template.write_bytes((ROOT / "templates" / "k10.yaml").read_bytes())
    pack = tmp_path / "pack.yaml"
    pack.write_bytes(WAI_PACK.read_bytes())
    for args, kept in ((["redcap", "dictionary", template, "--out", template], template),
                       (["redcap", "dictionary", "wai-sr", "--text-pack", pack, "--out", pack], pack)):
        before = kept.read_bytes()
        result = _run(*args)
        assert result.exit_code == ExitCode.OUTPUT, result.output
        assert str(kept) in result.output and kept.read_bytes() == before


def _store_with_goal_card(db: Path, texts: dict[str, str], serial: str = "9R6E7NME", code: str = "P01",
                          pages: tuple[int, ...] = (1, 2)) -> Path:
    """A store holding a goal card's ``pages`` (1: its words; 2: date and progress), read as made up here (no
    image is read), and a codes file linking it to ``code`` (added to the store and codes file there may be)."""
    card = {1: {"goal": "", "why": "", "steps": "", "helper": "", **texts},
            2: {"date_set": "2026-03-02", **{f"progress_{n}": "" for n in range(1, 5)}, "progress_1": "3",
                "progress_2": "5"}}
    store = Store(db)
    try:
        for number, values in {n: read for n, read in card.items() if n in pages}.items():
            name = f"card-{serial}-{number}.jpg"
            info = InputFile(name, hashlib.sha256(name.encode()).hexdigest(), 1000, 1)
            input_id, _ = store.add_input(info)
            read = [FieldValue(field, "text" if number == 1 else "digits", value, 0.99, False, "", {}, b"crop")
                    for field, value in values.items()]
            store.save_page(input_id, 0, PageResult(
                info.path, 1, info.sha256, PageState.READ, "", "goal-card", 1, "N", number, serial,
                [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.2, {"markers": 4}, b"\xff\xd8 page", read))
    finally:
        store.close()
    codes = db.parent / "codes.csv"
    listed = codes.read_text(encoding="utf-8") if codes.exists() else "serial,code\n"
    codes.write_text(f"{listed}{serial},{code}\n", encoding="utf-8")
    return codes


def test_a_goal_longer_than_a_page_goes_on_over_the_next_page_not_a_traceback(tmp_path):
    # a reviewer may type a goal's words in full, and a reading of four lines of small writing may be long
    words = " ".join(f"word{i}" for i in range(700))
    codes = _store_with_goal_card(tmp_path / "forms.sqlite", {"goal": words, "why": words, "steps": words})
    out = tmp_path / "P01.pdf"
    result = _run("report", "person", "--db", tmp_path / "forms.sqlite", "--codes", codes, "--person", "P01",
                  "--large-print", "--out", out)
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    assert len(re.findall(r"\bword699\b", text)) == 3  # every word of the three, none cut off


def test_an_item_a_fraction_of_a_millimetre_too_tall_is_not_said_to_need_what_the_page_has(write_template):
    # eleven long options on a landscape A7 need 39.4 mm of the 38.9 mm a page has: "needs 39 mm but a page has
    # only 39 mm" left the author nothing to do
    options = ", ".join(f"{{value: {i}, label: 'long label words {i}'}}" for i in range(11))
    template = write_template("form: own\nversion: 1\ntitle: T\nlicence: shippable\n"
                              "page: {size: A7, orientation: landscape}\nitems:\n"
                              f"  - {{kind: choice, id: q, text: 'How are you', options: [{options}]}}\n")
    result = _run("layout", template)
    assert result.exit_code == ExitCode.LAYOUT, result.output
    need, room = map(int, re.findall(r"(\d+) mm", result.output)[:2])
    assert need > room, result.output


def test_a_folder_named_as_a_shipped_form_where_the_command_runs_does_not_hide_the_form(tmp_path, monkeypatch):
    # a service keeping its scans in a folder per form: 'formkit generate k10' in their parent folder said "k10: no
    # such template file, and not a shipped template (..., k10, ...)"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k10").mkdir()
    (tmp_path / "scans").mkdir()
    assert _run("generate", "k10", "--count", "1", "--out", "k10.pdf").exit_code == 0
    assert _run("layout", "k10").exit_code == 0
    assert _run("redcap", "dictionary", "k10", "--out", "dd.csv").exit_code == 0
    result = _run("layout", "scans")
    assert result.exit_code == ExitCode.INPUT and "scans: is a folder" in result.output


def test_reports_for_everyone_coded_in_cyrillic_are_written_each_under_its_code(tmp_path):
    # the forms print Cyrillic and Greek; a codes file may too: every such letter was made '_', so that
    # 'Ж-1' and 'Д-1' both wanted '_-1.pdf' and --all wrote no report at all
    db = tmp_path / "forms.sqlite"
    _store_with_goal_card(db, {"goal": "Walk"}, "9R6E7NME", "Ж-1")
    codes = _store_with_goal_card(db, {"goal": "Read"}, "NUJC7N3Q", "Д-1")
    result = _run("report", "person", "--db", db, "--codes", codes, "--all", "--out", tmp_path / "reports")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["Д-1.pdf", "Ж-1.pdf"]


def test_a_goal_card_whose_back_was_not_scanned_says_so_instead_of_an_empty_chart_and_no_date_written(tmp_path):
    db = tmp_path / "forms.sqlite"
    codes = _store_with_goal_card(db, {"goal": "Walk to the shops"}, pages=(1,))
    out = tmp_path / "P01.pdf"
    result = _run("report", "person", "--db", db, "--codes", codes, "--person", "P01", "--out", out)
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "No progress shown: a page of this form was not scanned." in text
    # the date is on the page not scanned: whether one is written there is not known
    assert "No date was written on this form" not in text
    assert "The page of this form that holds its date has not been scanned" in text


def test_a_person_report_is_refused_for_a_code_its_font_cannot_print_rather_than_show_whose_it_is_as_boxes(tmp_path):
    # '你好' and '再见' both printed as two empty boxes: two reports that could not be told apart
    db = tmp_path / "forms.sqlite"
    _store_with_goal_card(db, {"goal": "Walk"}, "9R6E7NME", "\u4f60\u597d")
    codes = _store_with_goal_card(db, {"goal": "Read"}, "NUJC7N3Q", "\u518d\u89c1")
    for how in (["--all", "--out", tmp_path / "reports"], ["--person", "\u4f60\u597d", "--out", tmp_path / "a.pdf"]):
        result = _run("report", "person", "--db", db, "--codes", codes, *how)
        assert result.exit_code == ExitCode.INPUT, result.output
        assert "\u4f60\u597d" in result.output and "cannot print" in result.output
    assert not (tmp_path / "reports").exists() and not (tmp_path / "a.pdf").exists()


def test_goal_words_the_report_cannot_print_are_said_to_be_on_the_form_not_shown_as_empty_boxes(tmp_path):
    db = tmp_path / "forms.sqlite"
    codes = _store_with_goal_card(db, {"goal": "\u6563\u6b65", "why": "Fresh air"})  # 'a walk', typed in review
    out = tmp_path / "P01.pdf"
    assert _run("report", "person", "--db", db, "--codes", codes, "--person", "P01", "--out", out).exit_code == 0
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert text.count("cannot be printed in this summary: read them on the form itself") == 1  # the goal's, only
    assert "Fresh air" in text


def test_a_roster_longer_than_the_most_copies_a_run_prints_is_refused_before_anything_is_drawn(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("code\n" + "".join(f"C{i}\n" for i in range(100_001)), encoding="utf-8")
    result = _run("generate", "k10", "--roster", roster, "--out", tmp_path / "k10.pdf")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "roster.csv" in result.output and "100,000" in result.output and not (tmp_path / "k10.pdf").exists()


def test_the_qr_workers_of_a_long_run_leave_sigterm_and_ctrl_c_to_the_command():
    # 'kill -TERM -PGID', 'timeout' or Ctrl+C reach the workers too: one ended by SIGTERM broke the pool while the
    # command was stopping, and Python's pool printed a traceback under "formkit: stopped (terminated)"
    made = qr_matrices([("K10*1*1*N*K7M3QX9C*C3A4", 25)] * 400, workers=2)
    first = next(made)  # the pool's workers are running
    workers = [int(pid) for pid in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()]
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
    assert list(made) == [first] * 399  # the command decides when they stop; every code is still made


def test_a_redcap_dictionary_given_two_files_of_one_form_version_names_both_instead_of_dropping_one(tmp_path):
    own = tmp_path / "k10.yaml"  # one's own k10 v1, worded otherwise: the dictionary kept the shipped one unsaid
    own.write_text((ROOT / "templates" / "k10.yaml").read_text(encoding="utf-8").replace(
        "title: How you have been feeling (K10)", "title: Our K10"), encoding="utf-8")
    result = _run("redcap", "dictionary", "k10", own, "--out", tmp_path / "dd.csv")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "k10 version 1" in result.output and str(own) in result.output and not (tmp_path / "dd.csv").exists()
    assert _run("redcap", "dictionary", "k10", "k10", "--out", tmp_path / "dd.csv").exit_code == 0  # one file, twice


def test_a_value_python_reads_as_nan_or_infinity_is_not_scored_as_a_number(tmp_path):
    # a text answer 'inf' (or a choice valued 'nan'): float() read it, the score was "complete" at inf or nan, and
    # the service report stopped with a traceback
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "num.yaml").write_text(
        "form: num\nversion: 1\ntitle: Numbers\nlicence: shippable\n"
        "scales:\n  s: [{value: 1, label: One}, {value: nan, label: Odd}]\n"
        "items:\n  - {kind: choice, id: q1, text: Q1, scale: s}\n  - {kind: text, id: t1, text: How many?, lines: 1}\n"
        "scoring:\n  scores:\n    - {id: total, method: sum, items: [q1, t1], change: true}\n", encoding="utf-8")
    db = tmp_path / "forms.sqlite"
    store = Store(db)
    try:
        for serial, (q1, t1) in (("9R6E7NME", ("1", "inf")), ("NUJC7N3Q", ("nan", "2"))):
            info = InputFile(f"{serial}.jpg", hashlib.sha256(serial.encode()).hexdigest(), 1000, 1)
            input_id, _ = store.add_input(info)
            store.save_page(input_id, 0, PageResult(
                info.path, 1, info.sha256, PageState.READ, "", "num", 1, "N", 1, serial,
                [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.2, {"markers": 4}, b"\xff\xd8 page",
                [FieldValue("q1", "choice", q1, 0.99, False, "", {}, b"crop"),
                 FieldValue("t1", "text", t1, 0.99, False, "", {}, b"crop")]))
    finally:
        store.close()
    codes = tmp_path / "codes.csv"
    codes.write_text("serial,code\n9R6E7NME,P01\nNUJC7N3Q,P01\n", encoding="utf-8")
    result = _run("report", "service", "--db", db, "--codes", codes, "--templates", templates,
                  "--out", tmp_path / "service.pdf")
    assert result.exit_code == 0, result.output
    assert _run("export", "--db", db, "--templates", templates, "--out", tmp_path / "csv").exit_code == 0
    statuses = re.findall(r"invalid: \w+ is not a single number \('(\w+)'\)",
                          (tmp_path / "csv" / "num.csv").read_text(encoding="utf-8-sig"))
    assert sorted(statuses) == ["inf", "nan"]


def test_the_service_reports_counts_of_many_forms_are_never_broken_over_two_lines(tmp_path):
    # ten forms, 15000 of each: in columns too narrow '15000' wrapped as '1500' over '0', a count that is not
    # the store's
    from formkit.report.data import FormSummary, ServiceData
    from formkit.report.service import service_pdf

    forms = [f"form-{i:02d}" for i in range(10)]
    data = ServiceData(None, None, {}, [FormSummary(f, f, 15000, 15000, 10, 150000, 150000, 0, 0, 15000)
                                        for f in forms], {"2026-01": dict.fromkeys(forms, 15000)}, [], [], [], 900)
    (tmp_path / "service.pdf").write_bytes(service_pdf(data))
    words = subprocess.run(["pdftotext", str(tmp_path / "service.pdf"), "-"], check=True, capture_output=True,
                           text=True).stdout.split()
    assert "1500" not in words
    assert words.count("15000") >= 2 * len(forms)  # each form's month and total, whole


def test_a_share_is_never_said_to_be_all_while_one_value_still_waits_for_review(tmp_path):
    from formkit.report.data import FormSummary, ServiceData
    from formkit.report.service import service_pdf

    # 199 values of 200 reviewed, and 199 forms of 200 with nothing waiting: both said "100 %"
    data = ServiceData(None, None, {}, [FormSummary("k10", "K10", 200, 200, 10, 2000, 2000, 1, 199, 199)],
                       {"2026-01": {"k10": 200}}, [], [], [], 200)
    (tmp_path / "service.pdf").write_bytes(service_pdf(data))
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "service.pdf"), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "100 %" in text  # items answered: 2000 of 2000
    assert "199 (> 99 %)" in text and text.count("> 99 %") == 2
