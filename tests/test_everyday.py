"""Everyday work on a store of real scans: voiding a file scanned by mistake (and restoring it), assigning and
reassigning pages (from the review page and the command), reading stored pages again after an upgrade,
``formkit status`` and the review page's landing, questions and pre-filled answers."""

from __future__ import annotations

import csv
import random
import re
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from formkit.catalogue import shipped_catalogue
from formkit.conventions import ANSWER, CANCEL
from formkit.export import export
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.layout.model import Box, BoxesField
from formkit.records import InputFile
from formkit.review import queue as decisions
from formkit.review.app import create_app
from formkit.serial import format_serial, new_serial
from formkit.store import SCHEMA_VERSION, Store
from formkit.template import resolve_template
from formkit_cli import main
from scanner.batch import scan
from scanner.reread import rank_layouts, read_checked
from tests.shared_pages import copy_store, stain_qr
from tests.synthetic import PENS, degrade_scan, draw_mark, load_digits, render_pdf, write_digits
from tests.test_conventions import choice_value, lone_fill, page, states

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("everyday")

DPI = 200
ROOT = Path(__file__).resolve().parent.parent
K10 = build_layout(resolve_template("k10"))
# the answers written on every return: (style, option) per row; k10_02 is double-marked (flagged), k10_04 faint
RETURN_MARKS = {"k10_01": [("tick", 3)], "k10_02": [("tick", 2), ("cross", 4)], "k10_03": [("cross", 1)],
                "k10_04": [("light", 2)], "k10_05": [("cross", 2)], "k10_06": [("tick", 1)],
                "k10_07": [("tick", 4)], "k10_08": [("tick", 5)], "k10_09": [("cross", 3)], "k10_10": [("tick", 2)]}


def option_box(field_id: str, value: int) -> Box:
    field = next(f for f in K10.pages[0].fields if f.id == field_id)
    return next(o.box for o in field.options if o.value == value)


def print_run(tmp: Path, copies: int, seed: int) -> tuple[Path, list[str]]:
    """A K10 print run: the PDF and the serials printed."""
    pdf = tmp / f"k10-print-{seed}.pdf"
    rows = generate(K10, make_copies(copies, None, seed), pdf)
    return pdf, [str(r["serial"]) for r in rows]


def filled(pdf: Path, rng: random.Random, marks: dict = RETURN_MARKS) -> list[np.ndarray]:
    """The printed pages of ``pdf`` with ``marks`` on each, as RGB images."""
    images = render_pdf(pdf, DPI)
    for image in images:
        for field_id, field_marks in marks.items():
            for style, value in field_marks:
                draw_mark(image, DPI, option_box(field_id, value), style, rng, "black")
    return images


def write_scans(folder: Path, images: list[np.ndarray], rng: random.Random, prefix: str = "return") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, image in enumerate(images):
        path = folder / f"{prefix}-{n}.png"
        cv2.imwrite(str(path), cv2.cvtColor(degrade_scan(image, DPI, rng, out_dpi=DPI), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def faint_stroke(image: np.ndarray, box: Box, length_mm: float) -> None:
    """A short, thin pencil stroke across the middle of ``box``: too little ink to call a mark."""
    scale = DPI / 25.4
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    cv2.line(image, (int((cx - length_mm / 2) * scale), int(cy * scale)),
             (int((cx + length_mm / 2) * scale), int((cy + 0.3) * scale)), PENS["pencil"], 2, cv2.LINE_AA)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def states_by_page(db: Path) -> dict[int, str]:
    store = Store(db, readonly=True)
    try:
        return {int(r["id"]): r["status"] for r in store.pages()}
    finally:
        store.close()


def exported(db: Path, out: Path) -> tuple[dict[str, dict], list[dict]]:
    """The wide rows by serial as printed, and the long rows, as ``formkit export`` writes them."""
    store = Store(db, readonly=True)
    try:
        export(store.values(), out)
    finally:
        store.close()
    wide = {r["serial"]: r for r in csv.DictReader((out / "k10.csv").open(encoding="utf-8"))}
    return wide, list(csv.DictReader((out / "k10_long.csv").open(encoding="utf-8")))


def reviewer_app(db: Path, with_scanner_checks: bool = True):
    """The review app as ``formkit review`` wires it, signed in as ann with CSRF token 't'."""
    catalogue = shipped_catalogue()
    app = create_app(db, catalogue, lambda source, payload: read_checked(source, payload, catalogue),
                     rank=(lambda source: rank_layouts(source, catalogue)) if with_scanner_checks else None)
    client = app.test_client()
    with client.session_transaction() as s:
        s["reviewer"], s["csrf"] = "ann", "t"
    return client


# 1. Void and restore


@pytest.fixture(scope="module")
def blank_run_store(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """The blank print PDF scanned by mistake, then the two real returns of the same serials: scanned once."""
    tmp = tmp_path_factory.mktemp("blank-run")
    pdf, serials = print_run(tmp, 2, seed=7)
    rng = random.Random(3)
    write_scans(tmp / "returns", filled(pdf, rng), rng)
    db = tmp / "store.sqlite"
    store = Store(db)
    scan([pdf], store, jobs=1)
    scan([tmp / "returns"], store, jobs=1)
    store.close()
    return db, pdf, serials


@pytest.fixture
def blank_run_scanned_first(blank_run_store, tmp_path) -> tuple[Path, Path, list[str]]:
    """The store of ``blank_run_store``, a copy of this test's own."""
    db, pdf, serials = blank_run_store
    return copy_store(db, tmp_path), pdf, serials


def test_voiding_a_blank_print_run_scanned_first_makes_the_returns_the_reading_and_undo_brings_it_back(
        blank_run_scanned_first, tmp_path):
    db, pdf, serials = blank_run_scanned_first
    before = states_by_page(db)
    assert sorted(before.values()) == ["conflict", "conflict", "read", "read"]
    wide, long = exported(db, tmp_path / "before")
    serial = format_serial(serials[0])
    assert wide[serial]["k10_01"] == ""  # the blank copy is the reading ...
    answered = [r for r in long if r["serial"] == serial and r["field"] in ("k10_01", "k10_03", "k10_10")]
    assert all(r["needs_review"] == "1" and "conflict:" in r["reason"] for r in answered)  # ... every answer flagged
    code, out = run("status", "--db", db)
    assert re.search(r"page id \d+\); 9 values differ from it", out)  # all but the double mark and the faint one

    code, out = run("void", "--db", db, "--input", pdf, "--why", "the blank print run was scanned by mistake",
                    "--by", "ann")
    assert code == 0, out
    assert out.count("read -> voided") == 2 and out.count("conflict -> read") == 2
    assert f"formkit void --undo --db {db} --input {pdf}" in out
    after = states_by_page(db)
    blank_ids = [i for i, s in before.items() if s == "read"]
    assert all(after[i] == "voided" for i in blank_ids)
    assert sorted(after.values()) == ["read", "read", "voided", "voided"]
    wide, long = exported(db, tmp_path / "after")
    assert [wide[serial][f] for f in ("k10_01", "k10_03", "k10_05", "k10_10")] == ["3", "1", "2", "2"]
    assert not any("conflict:" in r["reason"] for r in long)  # resolved without scanning anything again
    assert {int(r["page_id"]) for r in long}.isdisjoint(blank_ids)
    store = Store(db)
    assert {p.page_id for p in decisions.queue(store)}.isdisjoint(blank_ids)
    assert {p.field for p in decisions.queue(store)} >= {"k10_02"}  # the returns' own flags are now in the queue
    promoted = [i for i in after if i not in blank_ids]
    assert all(store.page(i)["reason"] == "" and store.page(i)["conflict_of"] is None for i in promoted)
    audit = store.audit_rows()
    assert [(r["actor"], r["new_value"]) for r in audit if r["action"] == "void-page"] == [("ann", "voided")] * 2
    assert sum(r["action"] == "page-state" for r in audit) == 2
    assert all("the blank print run" in r["detail"] for r in audit if r["action"] == "void-page")
    store.close()
    code, out = run("status", "--db", db, "--state", "voided")
    assert "voided: the blank print run was scanned by mistake" in out and out.count("k10-print-7.pdf") == 2

    code, out = run("void", "--db", db, "--undo", "--input", pdf)
    assert code == 0, out
    assert out.count("voided -> read") == 2 and out.count("read -> conflict") == 2
    assert states_by_page(db) == before
    wide, long = exported(db, tmp_path / "undone")
    assert wide[serial]["k10_01"] == "" and any("conflict:" in r["reason"] for r in long)
    code, out = run("void", "--db", db, "--undo", "--input", pdf)
    assert code == 0 and "Nothing changed" in out


def test_a_page_or_an_input_is_named_by_id_path_or_hash_and_mistakes_are_explained(blank_run_scanned_first):
    db, pdf, _ = blank_run_scanned_first
    store = Store(db)
    sha = next(i["sha256"] for i in store.inputs() if i["path"] == str(pdf))
    blanks = sorted(int(r["id"]) for r in store.pages() if r["status"] == "read")
    blank = blanks[0]
    # the returns are conflicts of the blank copies: each answer they read waits for a person on the copy
    waiting = decisions.queue(store)
    assert {p.page_id for p in waiting} == set(blanks) and all(p.value == "" for p in waiting)
    assert all("another image of this page reads '" in p.reason and "return-" in p.reason for p in waiting)
    store.close()
    code, out = run("void", "--db", db, "--page", blank, "--why", "the blank copy", "--by", "bob")
    assert code == 0 and "read -> voided" in out and "conflict -> read" in out
    store = Store(db)
    [taken_over] = [p for p in store.pages() if p["status"] == "read" and p["path"].endswith("return-0.png")]
    # its own flags, now for review; the other blank copy's answers still wait
    assert {p.page_id for p in decisions.queue(store)} == {taken_over["id"], blanks[1]}
    store.close()
    code, out = run("void", "--db", db, "--input", sha[:10], "--why", "blank run")
    assert code == 0 and out.count("read -> voided") == 1 and out.count("conflict -> read") == 1
    assert run("void", "--db", db, "--input", sha, "--why", "again")[1].startswith("Nothing changed")
    again = run("void", "--db", db, "--page", blank, "--why", "again")[1]
    assert again.startswith(f"Nothing changed: page id {blank} is voided already"), again
    code, out = run("void", "--db", db, "--undo", "--page", blank)
    assert code == 0 and "voided -> read" in out and "read -> conflict" in out
    assert decisions.queue(Store(db)) and all(p.page_id != taken_over["id"] for p in decisions.queue(Store(db)))
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--page", "1"])
    assert result.exit_code == 2 and "--why" in result.output
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--page", "1", "--input", sha, "--why", "x"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--input", "nosuch.pdf", "--why", "x"])
    assert result.exit_code == 5 and "no such input" in result.output
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--page", "999", "--why", "x"])
    assert result.exit_code == 5 and "no page with id 999" in result.output


def test_a_voided_page_leaves_the_fill_convention_decision(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    input_id, _ = store.add_input(InputFile("f.png", "sha", 1, 2))
    store.save_page(input_id, 0, page("K7M3QX9C", 1, [lone_fill(f"a{i}", i % 5) for i in range(4)]))
    store.save_page(input_id, 1, page("K7M3QX9C", 2, [choice_value("b1", states("0:filled", "3:marked"), "4")]))
    values = {v["field"]: v for v in store.values()}
    assert values["a1"]["needs_review"]  # a correction on page 2: this person fills to cancel
    second = next(r["id"] for r in store.pages() if r["form_page"] == 2)
    store.void_pages([second], "another respondent's page", "ann")
    values = {v["field"]: v for v in store.values()}
    assert "b1" not in values
    assert values["a1"]["value"] == "2" and not values["a1"]["needs_review"]
    store.restore_pages([second], "ann")
    assert {v["field"]: v for v in store.values()}["a1"]["needs_review"]
    decided = [r["new_value"] for r in store.audit_rows() if r["action"] == "fill-convention"]
    assert decided == [ANSWER, CANCEL, ANSWER, CANCEL]


def test_a_store_from_before_voiding_is_upgraded(blank_run_scanned_first):
    db, pdf, _ = blank_run_scanned_first
    old = sqlite3.connect(db)  # schema 2: no columns for a voided page's state
    old.execute("ALTER TABLE pages DROP COLUMN voided_status")
    old.execute("ALTER TABLE pages DROP COLUMN voided_reason")
    old.execute("DROP TRIGGER audit_no_replace")
    old.execute("UPDATE meta SET value='2' WHERE key='schema'")
    old.commit()
    old.close()
    code, out = run("void", "--db", db, "--input", pdf, "--why", "blank run")
    assert code == 0 and out.count("read -> voided") == 2, out
    assert run("void", "--db", db, "--undo", "--input", pdf)[0] == 0
    upgraded = sqlite3.connect(db)
    assert upgraded.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == str(SCHEMA_VERSION)


# 2. Assign and reassign


@pytest.fixture(scope="module")
def stained_and_read_store(tmp_path_factory) -> tuple[Path, list[str], int, int]:
    """Two K10 copies: the first with its QR stained (unidentified), the second read; scanned once."""
    tmp = tmp_path_factory.mktemp("stained")
    pdf, serials = print_run(tmp, 2, seed=31)
    images = filled(pdf, random.Random(4))
    stain_qr(images[0], K10.pages[0])
    folder = tmp / "batch"
    folder.mkdir()
    cv2.imwrite(str(folder / "stained.png"), cv2.cvtColor(images[0], cv2.COLOR_RGB2BGR))
    write_scans(folder, images[1:], random.Random(5), prefix="clean")
    db = tmp / "store.sqlite"
    store = Store(db)
    scan([folder], store, jobs=1)
    rows = {Path(r["path"]).name: r for r in store.pages()}
    store.close()
    assert rows["stained.png"]["status"] == "unidentified" and rows["clean-0.png"]["status"] == "read"
    return db, serials, int(rows["stained.png"]["id"]), int(rows["clean-0.png"]["id"])


@pytest.fixture
def stained_and_read(stained_and_read_store, tmp_path) -> tuple[Path, list[str], int, int]:
    """The store of ``stained_and_read_store``, a copy of this test's own."""
    db, *rest = stained_and_read_store
    return copy_store(db, tmp_path), *rest


def test_the_review_page_starts_at_the_scanners_guess_and_refuses_a_form_that_clearly_does_not_fit(stained_and_read):
    db, serials, stained, _ = stained_and_read
    client = reviewer_app(db)
    listing = client.get("/pages").get_data(as_text=True)
    assert re.search(r'<option value="k10:1" selected>', listing)
    assert "best guess: <strong>k10 page 1</strong>" in listing
    wrong = client.post(f"/assign/{stained}", data={"csrf": "t", "form": "alliance-check:1", "page": "1",
                                                    "serial": serials[0]}, follow_redirects=True)
    text = wrong.get_data(as_text=True)
    assert "does not look like alliance-check page 1" in text and "k10 page 1" in text
    assert states_by_page(db)[stained] == "unidentified"
    large = client.post(f"/assign/{stained}", data={"csrf": "t", "form": "k10:1", "page": "1", "large_print": "on",
                                                    "serial": serials[0]}, follow_redirects=True)
    assert "does not look like k10 page 1 (large print)" in large.get_data(as_text=True)
    typed = serials[0][:4].lower() + "-" + serials[0][4:].lower()  # as printed, in lower case
    client.post(f"/assign/{stained}", data={"csrf": "t", "form": "k10:1", "page": "1", "serial": typed})
    store = Store(db)
    row = store.page(stained)
    assert (row["status"], row["form"], row["serial"]) == ("read", "k10", serials[0])
    assert [(r["actor"], r["action"]) for r in store.audit_rows() if r["action"] == "assign-page"] == \
        [("ann", "assign-page")]
    store.close()
    # the landing page no longer has a page waiting
    assert "pages-waiting" not in client.get("/summary").get_data(as_text=True)


def test_a_read_page_is_reassigned_from_the_review_page_and_the_command_audited_both_ways(stained_and_read):
    db, serials, stained, read = stained_and_read
    client = reviewer_app(db)
    shown = client.get(f"/pages/{read}").get_data(as_text=True)
    assert re.search(r'<option value="k10:1" selected>', shown) and f'value="{format_serial(serials[1])}"' in shown
    other = new_serial(random.Random(9))
    client.post(f"/assign/{read}", data={"csrf": "t", "form": "k10:1", "page": "1", "serial": other,
                                         "back": "page"})
    store = Store(db)
    assert store.page(read)["serial"] == other
    [entry] = [r for r in store.audit_rows() if r["action"] == "assign-page"]
    assert entry["old_value"] == f"k10 v1 page 1 {format_serial(serials[1])}: read"
    assert entry["new_value"] == f"k10 v1 page 1 {format_serial(other)}: read"
    store.close()

    # the stained page said to be the copy already read as `other`: a conflict with it, never a second reading
    code, out = run("assign", "--db", db, "--page", stained, "--form", "k10", "--page-no", 1,
                    "--serial", format_serial(other), "--by", "bob")
    assert code == 0, out
    assert states_by_page(db)[stained] == "conflict"
    # the first page moved back to its own serial: the stained page is the reading of `other` now
    code, out = run("assign", "--db", db, "--page", read, "--form", "k10:1", "--page-no", 1, "--serial",
                    serials[1].lower(), "--by", "bob")
    assert code == 0 and format_serial(serials[1]) in out
    assert states_by_page(db) == {stained: "read", read: "read"}
    store = Store(db)
    entries = [r for r in store.audit_rows() if r["action"] in ("assign-page", "page-state")]
    assert [(r["actor"], r["action"]) for r in entries][-3:] == [("bob", "assign-page"), ("bob", "assign-page"),
                                                                 ("bob", "page-state")]
    assert '"serial": "' + serials[1] + '"' in entries[-2]["detail"]  # old and new, in full
    store.close()
    code, out = CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(read), "--form", "alliance-check",
                                          "--page-no", "1", "--serial", serials[1]]).exit_code, ""
    assert code == 5
    result = CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(read), "--form", "alliance-check",
                                       "--page-no", "1", "--serial", serials[1]])
    assert "does not look like alliance-check page 1" in result.output
    result = CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(read), "--form", "k10",
                                       "--page-no", "1", "--serial", "AAAA-AAAA"])
    assert result.exit_code == 5 and "not a valid serial" in result.output
    assert run("void", "--db", db, "--page", read, "--why", "test")[0] == 0
    result = CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(read), "--form", "k10",
                                       "--page-no", "1", "--serial", serials[1]])
    assert result.exit_code == 5 and "voided" in result.output


# 3. Re-read


def test_rereading_keeps_unchanged_decisions_flags_changed_ones_and_reads_from_the_stored_image(tmp_path):
    pdf, serials = print_run(tmp_path, 3, seed=21)
    rng = random.Random(2)
    sources = write_scans(tmp_path / "batch", filled(pdf, rng), rng)
    db = tmp_path / "store.sqlite"
    store = Store(db)
    scan([tmp_path / "batch"], store, jobs=1)
    pages = {Path(r["path"]).name: int(r["id"]) for r in store.pages()}
    first, second, third = (pages[p.name] for p in sources)
    double = next(p for p in decisions.queue(store) if p.page_id == first and p.field == "k10_02")
    assert decisions.decide(store, double.value_id, "corrected", "4", "ann", double.value) == ""
    store.close()
    # a reading by an older model that a reviewer accepted: 5 where the respondent ticked 3
    old = sqlite3.connect(db)
    old.execute("UPDATE field_values SET value='5', needs_review=1 WHERE page_id=? AND field='k10_01'", (second,))
    old.commit()
    old.close()
    store = Store(db)
    stale = next(p for p in decisions.queue(store) if p.page_id == second and p.field == "k10_01")
    assert decisions.decide(store, stale.value_id, "accepted", "5", "bob", stale.value) == ""
    before = {(v["page_id"], v["field"]): v["value"] for v in store.values()}
    store.close()
    sources[2].unlink()  # the third page's file is gone: it is read from the image the store kept

    code, out = run("scan", "--reread", "--db", db, "--jobs", 2)
    assert code == 0, out
    assert "Pages read again: 3" in out and "review decisions kept: 1" in out and "flagged again" in out
    store = Store(db)
    values = {(v["page_id"], v["field"]): v for v in store.values()}
    kept = values[(first, "k10_02")]
    assert (kept["value"], kept["review"], kept["reviewed_by"], kept["needs_review"]) == ("4", "corrected", "ann", 0)
    changed = values[(second, "k10_01")]
    assert (changed["value"], changed["review"], changed["needs_review"]) == ("3", "", 1)
    assert changed["reason"].startswith("re-read: the value changed from '5' to '3' after review")
    assert changed["value_id"] == stale.value_id  # the same value, so its history in the audit log still applies
    assert {k: v["value"] for k, v in values.items() if k[0] == third} == \
        {k: v for k, v in before.items() if k[0] == third}
    assert stale.value_id in {p.value_id for p in decisions.queue(store)}
    audit = store.audit_rows()
    assert [(r["field"], r["old_value"], r["new_value"]) for r in audit if r["action"] == "reread-value"] == \
        [("k10_01", "5", "3")]
    assert sorted(r["page_id"] for r in audit if r["action"] == "reread-page") == sorted([first, second, third])
    store.close()
    code, out = run("scan", "--reread", "--db", db, "--form", "alliance-check")
    assert code == 0 and "Pages read again: 0" in out
    assert CliRunner().invoke(main, ["scan", "--db", str(db)]).exit_code == 2  # neither files nor --reread
    assert CliRunner().invoke(main, ["scan", "--db", str(db), "--form", "k10", str(sources[0])]).exit_code == 2


def test_rereading_identifies_an_unidentified_page_with_a_template_it_lacked(stained_and_read, tmp_path):
    db, serials, stained, read = stained_and_read
    code, out = run("scan", "--reread", "--db", db, "--jobs", 1)
    assert code == 0 and "Pages read again: 1" in out and "1 still are" in out
    assert states_by_page(db) == {stained: "unidentified", read: "read"}


# 4. Status


def test_status_prints_totals_then_pages_with_filters_and_the_values_waiting(stained_and_read):
    db, serials, stained, read = stained_and_read
    code, out = run("status", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Pages: 2" and re.fullmatch(r"\s+read\s+1", lines[2]) and "Values to review:" in out
    header = next(line for line in lines if line.lstrip().startswith("id"))
    assert header.split() == ["id", "file", "page", "state", "form", "serial", "reason"]
    read_line = next(line for line in lines if line.lstrip().startswith(f"{read} "))
    store = Store(db, readonly=True)
    waiting = store.page(read)["review"]
    store.close()
    assert format_serial(serials[1]) in read_line and f"{waiting} value" in read_line and "to review" in read_line
    assert serials[1] not in out  # always printed with its dash
    # columns sized to their content: every row's state starts where the header's does
    column = header.index("state")
    assert all(line[column - 2:column] == "  " for line in lines if line.lstrip()[:1].isdigit())
    code, out = run("status", "--db", db, "--state", "unidentified")
    assert "Pages: 1 (of 2 in the store)" in out and "stained.png" in out and "clean-0.png" not in out
    code, out = run("status", "--db", db, "--file", "clean")
    assert "clean-0.png" in out and "stained.png" not in out
    none = run("status", "--db", db, "--form", "alliance-check")[1]
    assert "Pages: 0" in none and "state" not in none  # no table header over no rows

    code, out = run("status", "--db", db, "--flagged")
    lines = out.splitlines()
    assert lines[0] == f"Values waiting for review: {waiting}"
    assert lines[1].split() == ["page", "form", "serial", "field", "question", "guess", "confidence", "reason"]
    double = next(line for line in lines if " k10_02 " in line)
    assert double.split()[:4] == [str(read), "k10", "p1", format_serial(serials[1])]
    assert "...nervous?" in double and "(blank)" in double and "0.500" in double and "two or more marks" in double
    elsewhere = run("status", "--db", db, "--flagged", "--form", "gas-followup")[1]
    assert elsewhere.startswith("Values waiting for review: 0")


# 5. The review page


@pytest.fixture(scope="module")
def to_review_store(tmp_path_factory) -> tuple[Path, int, list[str]]:
    """A K10 return with a faint mark and an impossible date (31/02/2026) in real handwriting, and a stained
    page waiting to be identified; scanned once."""
    tmp = tmp_path_factory.mktemp("to-review")
    pdf, serials = print_run(tmp, 2, seed=41)
    images = filled(pdf, random.Random(6), {k: v for k, v in RETURN_MARKS.items() if k != "k10_04"})
    faint_stroke(images[0], option_box("k10_04", 2), 1.4)  # the likelier answer: more ink ...
    faint_stroke(images[0], option_box("k10_04", 4), 0.7)  # ... than a speck in another box
    date_field = next(f for f in K10.pages[0].fields if isinstance(f, BoxesField) and f.kind == "date")
    samples = load_digits(ROOT / "samples" / "handwriting" / "mnist-heldout.npz")
    write_digits(images[0], DPI, date_field.boxes, "31022026", samples, random.Random(1), "black")
    stain_qr(images[1], K10.pages[0])
    folder = tmp / "batch"
    write_scans(folder, images[:1], random.Random(7))
    cv2.imwrite(str(folder / "stained.png"), cv2.cvtColor(images[1], cv2.COLOR_RGB2BGR))
    db = tmp / "store.sqlite"
    store = Store(db)
    scan([folder], store, jobs=1)
    read = next(int(r["id"]) for r in store.pages() if r["status"] == "read")
    store.close()
    return db, read, serials


@pytest.fixture
def to_review(to_review_store, tmp_path) -> tuple[Path, int, list[str]]:
    """The store of ``to_review_store``, a copy of this test's own."""
    db, *rest = to_review_store
    return copy_store(db, tmp_path), *rest


def test_values_show_their_question_and_a_likely_answer_in_the_format_asked(to_review):
    db, read, serials = to_review
    client = reviewer_app(db, with_scanner_checks=False)
    store = Store(db)
    queued = {p.field: p for p in decisions.queue(store)}
    store.close()
    faint = queued["k10_04"]
    assert faint.value == "" and "faint" in faint.reason
    shown = client.get(f"/value/{faint.value_id}").get_data(as_text=True)
    assert '<p class="question" id="question">...hopeless?</p>' in shown
    assert re.search(r'id="value" name="value" value="2"', shown)  # the box with the most ink
    assert "the box with the most ink" in shown
    date = queued["date_completed"]
    assert "not a real date" in date.reason
    shown = client.get(f"/value/{date.value_id}").get_data(as_text=True)
    assert re.search(r'id="value" name="value" value="31/02/2026"', shown)
    assert "Type the date as DD/MM/YYYY" in shown
    double = client.get(f"/value/{queued['k10_02'].value_id}").get_data(as_text=True)
    assert re.search(r'id="value" name="value" value=""', double)  # two marks: never guessed
    assert f'href="/pages/{read}"' in double  # the way to reassign the page
    field = next(f for f in K10.pages[0].fields if f.id == "date_completed")
    assert decisions.prefill(field, "2026-03-05", {}) == "05/03/2026"
    # Enter on the pre-filled answer records it (the page posts what it showed: the field, page and reading)
    shown = client.get(f"/value/{faint.value_id}").get_data(as_text=True)
    seen = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', shown))
    client.post(f"/value/{faint.value_id}", data={"csrf": "t", "value": "2", **seen})
    store = Store(db)
    assert (store.value(faint.value_id)["value"], store.value(faint.value_id)["review"]) == ("2", "corrected")
    store.close()


def test_the_landing_page_counts_the_pages_waiting_for_a_person_and_links_them(to_review):
    db, _, _ = to_review
    client = reviewer_app(db, with_scanner_checks=False)
    assert 'id="pages-waiting-link"' in client.get("/", follow_redirects=True).get_data(as_text=True)
    store = Store(db)
    for item in decisions.queue(store):
        assert decisions.decide(store, item.value_id, "accepted", item.value, "ann", item.value) == ""
    store.close()
    landing = client.get("/").get_data(as_text=True)
    assert "Nothing left to review" not in landing and 'id="all-done"' not in landing
    assert 'id="values-done"' in landing and 'id="pages-waiting"' in landing
    assert "<strong>1 page</strong>" in landing and 'href="/pages"' in landing
    assert "stained.png" in client.get("/pages").get_data(as_text=True)
    store = Store(db)
    [waiting] = decisions.unread_pages(store)
    store.void_pages([waiting["id"]], "a stray page", "ann")
    store.close()
    assert 'id="all-done"' in client.get("/").get_data(as_text=True)
