import csv
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from click.testing import CliRunner

from formkit import markers
from formkit.errors import InputError
from formkit.layout import build_layout
from formkit.qrpayload import decode
from formkit.serial import format_serial, is_valid_serial
from formkit.template import resolve_template, shipped_templates
from formkit_cli import main
from scanner.locate import read_qr_codes

from .conftest import rasterise

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("generate")

PT_PER_MM = 72 / 25.4


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Every shipped template, two copies each, with its manifest (text-pack forms with placeholders)."""
    out = tmp_path_factory.mktemp("generated")
    made = {}
    for name in shipped_templates():
        pdf, manifest = out / f"{name}.pdf", out / f"{name}.csv"
        result = run_cli("generate", name, "--placeholders", "--count", "2", "--out", str(pdf), "--manifest",
                         str(manifest))
        assert result.exit_code == 0, result.output
        made[name] = (pdf, manifest)
    return made


@pytest.mark.parametrize("name", sorted(shipped_templates()))
def test_pdf_is_valid_embeds_its_fonts_and_has_exact_page_sizes(generated, name):
    pdf, _ = generated[name]
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = fonts.strip().splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    sizes = [tuple(float(v) / PT_PER_MM for v in m) for m in re.findall(r"size:\s+([\d.]+) x ([\d.]+)", info)]
    page = build_layout(resolve_template(name)).pages[0]
    assert sizes and all(abs(w - page.width_mm) < 0.1 and abs(h - page.height_mm) < 0.1 for w, h in sizes)


@pytest.mark.parametrize("name", sorted(shipped_templates()))
def test_markers_and_qr_decode_at_150_dpi(generated, name, tmp_path):
    pdf, manifest = generated[name]
    rows = list(csv.DictReader(manifest.open()))
    images = rasterise(pdf, 150, tmp_path)
    assert len(images) == len(rows)
    detector = cv2.aruco.ArucoDetector(markers.dictionary(), cv2.aruco.DetectorParameters())
    layout = build_layout(resolve_template(name))
    for image, row in zip(images, rows, strict=True):
        corners, ids, _ = detector.detectMarkers(image)
        assert ids is not None and sorted(ids.ravel().tolist()) == [0, 1, 2, 3]
        page = layout.page(int(row["form_page"]))
        px_per_mm = 150 / 25.4
        for marker_corners, marker_id in zip(corners, ids.ravel(), strict=True):
            expected = next(m for m in page.markers if m.id == marker_id)
            top_left = marker_corners[0][0] / px_per_mm
            assert np.allclose(top_left, (expected.x_mm, expected.y_mm), atol=0.5)
        # The scanner's own QR reader (zxing-cpp); OpenCV's detector misses some random serials at 150 dpi.
        payload = next((p for p in (decode(r.text) for r in read_qr_codes(image)) if p), None)
        assert payload is not None, f"QR unreadable on {name} page {row['form_page']}"
        assert row["serial"] == format_serial(payload.serial) and payload.page == int(row["form_page"])
        assert (payload.form, payload.version, payload.layout) == (name, 1, page.fingerprint)
        assert is_valid_serial(payload.serial)


def test_a_100_mm_line_measures_100_mm_on_the_printed_page(generated, tmp_path):
    pdf, _ = generated["vas-4line"]
    image = rasterise(pdf, 300, tmp_path)[0]
    line = next(f for f in build_layout(resolve_template("vas-4line")).pages[0].fields if f.kind == "line")
    px_per_mm = 300 / 25.4
    row = int(round(line.y1_mm * px_per_mm))
    dark = image[row - 1:row + 2].min(axis=0) < 128
    # The run of ink through the middle of the line, from end tick to end tick.
    left = right = int((line.x1_mm + line.x2_mm) / 2 * px_per_mm)
    while dark[left - 1]:
        left -= 1
    while dark[right + 1]:
        right += 1
    length_mm = (right - left + 1) / px_per_mm
    # The ink includes the end ticks' stroke width (0.35 mm) beyond each end.
    assert abs(length_mm - 100.35) < 0.2, length_mm


def test_manifest_lists_every_printed_form_page_with_unique_serials(generated):
    _, manifest = generated["goal-card"]
    rows = list(csv.DictReader(manifest.open()))
    assert [(r["pdf_page"], r["form_page"]) for r in rows] == [("1", "1"), ("2", "2"), ("3", "1"), ("4", "2")]
    assert rows[0]["serial"] == rows[1]["serial"] != rows[2]["serial"]


def test_roster_prints_codes_never_names(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,code\nAlice Example,C-101\nBob Example,\n", encoding="utf-8")
    pdf, manifest = tmp_path / "cards.pdf", tmp_path / "cards.csv"
    result = run_cli("generate", "goal-card", "--roster", str(roster), "--out", str(pdf), "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(manifest.open()))
    assert [r["code"] for r in rows] == ["C-101", "C-101", "", ""]
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Code: C-101" in text and "Alice" not in text and "Bob" not in text


def test_a_code_of_sixteen_wide_characters_ends_before_the_qr_code_and_every_qr_reads(tmp_path):
    """On a large-print goal card "Code: MMMMMMMMMMMMMMMM" ran 28 mm into the QR code, which did not read on half
    the pages at 150 dpi. A code is printed as large as it ends before the QR's quiet zone."""
    from formkit.layout import build_layout
    from formkit.layout.text import width_mm
    from formkit.render.pdf import code_line
    from formkit.template import resolve_template

    roster = tmp_path / "roster.csv"
    roster.write_text("code\nMMMMMMMMMMMMMMMM\nCLIENT-2024-0042\n", encoding="utf-8")
    pdf = tmp_path / "cards.pdf"
    result = run_cli("generate", "goal-card", "--large-print", "--roster", str(roster), "--out", str(pdf))
    assert result.exit_code == 0, result.output
    images = rasterise(pdf, 150, tmp_path)
    assert all(any(decode(b.text) for b in zxingcpp.read_barcodes(image)) for image in images)
    page = build_layout(resolve_template("goal-card"), large_print=True).pages[0]
    for code in ("MMMMMMMMMMMMMMMM", "CLIENT-2024-0042", "C-1"):
        run, text = code_line(page, code)
        assert run.x_mm + width_mm(text, run.size_pt, run.bold) <= page.qr.x_mm - page.qr.quiet_mm
    assert code_line(page, "C-1") == (page.code_text, "Code: C-1")  # a short code as the layout places it


def test_a_bad_roster_code_names_file_and_line(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("code\nOK1\nnot ok!\n", encoding="utf-8")
    result = run_cli("generate", "goal-card", "--roster", str(roster), "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == InputError.exit_code
    assert f"{roster}:3" in result.output and not (tmp_path / "x.pdf").exists()


def test_cards_imposed_on_a4_with_backs_mirrored_for_long_edge_duplex(tmp_path):
    pdf, manifest = tmp_path / "sheet.pdf", tmp_path / "sheet.csv"
    result = run_cli("generate", "goal-card", "--count", "5", "--sheet", "A4", "--out", str(pdf),
                     "--manifest", str(manifest), "--seed", "4")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(manifest.open()))
    assert len(rows) == 10 and {r["pdf_page"] for r in rows} == {"1", "2", "3", "4"}
    images = rasterise(pdf, 200, tmp_path)
    assert all(abs(i.shape[1] / 200 * 25.4 - 210) < 0.5 for i in images)
    width = images[0].shape[1]

    def serial_x(image):
        return {decode(b.text).serial: b.position.top_left.x for b in zxingcpp.read_barcodes(image)}

    front_x, back_x = serial_x(images[0]), serial_x(images[1])
    assert set(front_x) == set(back_x) and len(front_x) == 4
    for serial, x in front_x.items():
        # The back of a card on the left half of the sheet lies on the right half.
        assert (x < width / 2) != (back_x[serial] < width / 2)


def test_a_form_of_an_odd_number_of_pages_keeps_a_blank_back_so_every_page_lands_where_the_manifest_says(tmp_path):
    """A6 pages of the three-page K10 imposed on A4: the blank back of each copy's third page was left out, so the
    next copy's first page came one PDF page early (printed on a back), and every later manifest row was off."""
    pdf, manifest = tmp_path / "k10.pdf", tmp_path / "k10.csv"
    result = run_cli("generate", "k10", "--page-size", "A6", "--count", "3", "--sheet", "A4", "--out", str(pdf),
                     "--manifest", str(manifest), "--seed", "7")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(manifest.open()))
    assert [int(r["pdf_page"]) for r in rows] == [1, 2, 3, 5, 6, 7, 9, 10, 11]
    images = rasterise(pdf, 100, tmp_path)
    assert len(images) == 12 and "12 PDF page(s)" in result.output  # the last sheet's blank back too
    on_page = {n: {(decode(b.text).serial, decode(b.text).page) for b in zxingcpp.read_barcodes(image)}
               for n, image in enumerate(images, start=1)}
    for row in rows:
        assert (row["serial"].replace("-", ""), int(row["form_page"])) in on_page[int(row["pdf_page"])]
    assert not on_page[4] and not on_page[8] and not on_page[12]


def test_large_print_variant_is_named_in_the_qr(tmp_path):
    pdf = tmp_path / "k10-large.pdf"
    assert run_cli("generate", "k10", "--large-print", "--out", str(pdf)).exit_code == 0
    image = rasterise(pdf, 150, tmp_path)[0]
    # The scanner's own reader: OpenCV's detector misses some random serials at 150 dpi (a CI failure).
    payload = next((p for p in (decode(r.text) for r in read_qr_codes(image)) if p), None)
    assert payload is not None and payload.variant == "L"


def test_pair_runs_print_the_workers_half_after_the_clients_with_the_same_serials(tmp_path):
    pdf, manifest = tmp_path / "pairs.pdf", tmp_path / "pairs.csv"
    result = run_cli("generate", "goal-card", "--pair", "--count", "5", "--sheet", "A4", "--out", str(pdf),
                     "--manifest", str(manifest), "--seed", "4")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(manifest.open()))
    cards = [r for r in rows if r["form"] == "goal-card"]
    workers = [r for r in rows if r["form"] == "goal-review-worker"]
    assert len(cards) == 10 and len(workers) == 5 and rows == cards + workers
    assert {r["serial"] for r in cards} == {r["serial"] for r in workers}
    # cards 4-up on sheets 1-4 (fronts and backs), then an A5 worker's form a sheet
    assert {r["pdf_page"] for r in cards} == {"1", "2", "3", "4"}
    assert [r["pdf_page"] for r in workers] == ["5", "6", "7", "8", "9"]
    fifth = subprocess.run(["pdftotext", "-f", "5", "-l", "5", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout
    assert "Goal review (worker)" in fifth and "My goal card" not in fifth
    image = rasterise(pdf, 150, tmp_path)[4]
    payload = next(p for p in (decode(r.text) for r in read_qr_codes(image)) if p)
    layout = build_layout(resolve_template("goal-review-worker"))
    assert (payload.form, payload.page, payload.layout) == ("goal-review-worker", 1, layout.pages[0].fingerprint)
    assert format_serial(payload.serial) == workers[0]["serial"]


@pytest.mark.parametrize("form", ["k10", "goal-review-worker"])
def test_pair_is_refused_for_a_form_without_a_workers_half(tmp_path, form):
    result = run_cli("generate", form, "--pair", "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and not (tmp_path / "x.pdf").exists()
    assert "--pair" in result.output or "goal-card --pair" in result.output


def test_a_credit_card_fits_a_short_form_turned_landscape_and_says_why_a_shipped_one_does_not(tmp_path):
    """The documented example 'generate goal-card --page-size CR80' failed for every shipped form ("too narrow
    for a title beside the QR code"): the docs no longer offer it, the message says what to do, and a short
    form of one's own prints on a card turned landscape."""
    refused = run_cli("generate", "goal-card", "--page-size", "CR80", "--out", str(tmp_path / "card.pdf"))
    assert refused.exit_code == 4 and "print it on a wider page (A7 or larger)" in refused.output
    template = tmp_path / "tiny.yaml"
    template.write_text("form: tiny\nversion: 1\ntitle: Tiny card\nlicence: shippable\n"
                        "page: {size: CR80, orientation: landscape}\nitems:\n"
                        "  - {kind: choice, id: q1, text: How are you?, options: [{value: 1, label: Bad},"
                        " {value: 2, label: Good}]}\n", encoding="utf-8")
    printed = run_cli("generate", str(template), "--count", "1", "--out", str(tmp_path / "tiny.pdf"))
    assert printed.exit_code == 0, printed.output
