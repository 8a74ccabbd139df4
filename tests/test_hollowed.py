"""Pages a phone scanner app thresholded over a small window: solid black comes out as its outline, so the
markers and the QR code are read from their outlines (``scanner.hollow``), and the speckle the threshold
makes of paper grain is cleared before the marks are read (``scanner.binarised``)."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from formkit import markers
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.qrpayload import PagePayload
from formkit.records import PageResult
from formkit.render.qr import qr_matrix
from formkit.template import resolve_template
from scanner import hollow
from scanner.binarised import despeckled, looks_binarised
from scanner.locate import read_qr_codes
from scanner.pipeline import read_image, read_page_as
from tests.synthetic import (
    degrade_scan,
    draw_mark,
    lay_cards,
    one_bit_copy,
    render_pdf,
    scanner_app_black_and_white,
)
from tests.test_scan import DPI, K10_MARKS, marked_k10, option_box, printed, read


@pytest.fixture(scope="module")
def k10(tmp_path_factory):
    image, _, serial = marked_k10(tmp_path_factory.mktemp("k10"))
    return image, serial


# before: rejected at 1.3 and 2.6 mm ("no formkit markers or QR code"); at 4.3 mm read as now
@pytest.mark.parametrize(("window_mm", "upside_down"), [(1.3, False), (2.6, True)])
def test_a_scanner_apps_black_and_white_page_is_placed_and_its_choices_checked(k10, window_mm, upside_down):
    """Markers and QR code read from their outlines: the page is identified and placed, and every choice field
    goes to review with its reading, because so small a window leaves a box filled in looking like an empty
    box or a tick (see ``test_filled_boxes_after_a_small_window_are_never_read_unflagged``)."""
    image, serial = k10
    app = scanner_app_black_and_white(image, DPI, random.Random(2), out_dpi=300, upside_down=upside_down,
                                      window_mm=window_mm)
    assert looks_binarised(app)
    result = read(app)
    assert result.status == "read", result.reason
    assert result.serial == serial and result.form == "k10"
    assert result.quality["markers_from_outlines"]
    values = {v.field: v for v in result.values}
    for field, (_, expected, flagged) in K10_MARKS.items():
        assert values[field].needs_review, (field, values[field])
        assert flagged or field == "k10_05" or values[field].value == expected, (field, values[field])


def test_a_wide_window_page_reads_as_a_scan_but_looks_at_its_marks_for_rings(k10):
    """At 4.3 mm ArUco reads the markers itself, but they are hollow: the rows read as on a scan, except that
    a chosen box whose ink closes paper in or runs along all four sides goes to review (a fill comes out as
    such a ring): the correction (box 1 filled in, box 2 ticked), and perhaps a heavy cross; never a wrong
    value."""
    image, serial = k10
    app = scanner_app_black_and_white(image, DPI, random.Random(2), out_dpi=300, window_mm=4.3)
    result = read(app)
    assert result.status == "read" and result.serial == serial
    assert result.quality["markers_hollow"] and "markers_from_outlines" not in result.quality
    values = {v.field: v for v in result.values}
    assert values["k10_05"].needs_review and values["k10_04"].needs_review
    unflagged = [f for f in K10_MARKS if not values[f].needs_review]
    assert all(values[f].value == K10_MARKS[f][1] for f in unflagged)
    assert len(unflagged) >= 7, [values[f] for f in K10_MARKS if f not in unflagged]


def test_a_lone_fill_among_ticks_is_not_read_as_a_tick_after_a_wide_window(tmp_path):
    """A respondent who ticks most answers and fills a few: a scan flags each lone fill (cancelled, or the
    answer?); after a 4.3 mm window the fill is a ring, and was read as a tick with no flag."""
    images, rows = printed("k10", tmp_path)
    page = build_layout(resolve_template("k10")).pages[0]
    image = images[0].copy()
    rng = random.Random(7)
    fills = {"k10_02": 4, "k10_06": 2, "k10_09": 5}
    for i in range(1, 11):
        field = f"k10_{i:02d}"
        style = "fill" if field in fills else "tick"
        draw_mark(image, DPI, option_box(page, field, fills.get(field, 1 + i % 5)), style, rng, "black")
    # a threshold whose markers ArUco reads (with another, it needs their outlines and flags every choice)
    result = read(scanner_app_black_and_white(image, DPI, random.Random(10), window_mm=4.3))
    assert result.status == "read", result.reason
    assert result.quality["markers_hollow"] and "markers_from_outlines" not in result.quality
    values = {v.field: v for v in result.values}
    assert all(values[field].needs_review for field in fills), [values[f] for f in fills]  # before: none
    assert not [f for f in values if f.startswith("k10") and f not in fills and values[f].needs_review]


@pytest.mark.parametrize("window_mm", [1.3, 1.8, 2.6, 4.3])
def test_filled_boxes_after_a_small_window_are_never_read_unflagged(tmp_path, window_mm):
    """A respondent who answers by filling boxes in: after a small window a fill looks like an empty box (its
    outline on the printed border) or like strokes; before the check, up to 22 of 77 such fields were read
    blank or as ticks with no flag."""
    images, rows = printed("k10", tmp_path)
    page = build_layout(resolve_template("k10")).pages[0]
    image = images[0].copy()
    rng = random.Random(3)
    answers = {f"k10_{i:02d}": 1 + (i * 2) % 5 for i in range(1, 11)}
    for field, value in answers.items():
        draw_mark(image, DPI, option_box(page, field, value), "fill", rng, "black")
    result = read(scanner_app_black_and_white(image, DPI, random.Random(4), window_mm=window_mm))
    assert result.status == "read", result.reason
    for value in result.values:
        if value.field in answers:
            assert value.needs_review or value.value == str(answers[value.field]), value


def _hollowed(black: np.ndarray, px: int, window_px: int) -> np.ndarray:
    """``black`` (bool cells) drawn ``px`` a cell with four cells of paper around, thresholded over a Gaussian
    window of ``window_px`` as a scanner app does."""
    image = np.kron(np.pad(~black, 4, constant_values=True).astype(np.uint8) * 215 + 20, np.ones((px, px), np.uint8))
    return cv2.adaptiveThreshold(cv2.GaussianBlur(image, (0, 0), 1.0), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, window_px, 10)


@pytest.mark.parametrize("marker_id", sorted(markers.CORNER_IDS.values()))
@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_each_marker_is_read_from_its_outline_whichever_way_round(marker_id, turns):
    cell_px = 20
    image = np.ascontiguousarray(np.rot90(_hollowed(markers.marker_cells(marker_id), cell_px, 31), turns))
    detector = cv2.aruco.ArucoDetector(markers.dictionary(), cv2.aruco.DetectorParameters())
    ids = detector.detectMarkers(image)[1]
    assert ids is None or len(ids) == 0  # ArUco cannot read it: the hollows are real
    lo, hi = 4 * cell_px, (4 + markers.CELLS) * cell_px
    square = np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])  # clockwise from the image's top-left
    found = hollow.marker_from_outline(image, square)
    assert found is not None
    got_id, corners = found
    # the printed top-left corner, turned with the image (np.rot90 turns anticlockwise)
    printed_top_left = square[[0, 3, 2, 1][turns]]
    assert got_id == marker_id
    np.testing.assert_allclose(corners[0], printed_top_left)


@pytest.mark.parametrize("what", ["an empty box", "a solid square", "a filled box hollowed"])
def test_a_square_that_is_no_marker_is_not_taken_for_one(what):
    cells = np.zeros((markers.CELLS, markers.CELLS), bool)
    if what == "an empty box":
        cells[[0, -1], :] = cells[:, [0, -1]] = True
    else:
        cells[:] = True
    window = 201 if what == "a solid square" else 31
    image = _hollowed(cells, 20, window)
    lo, hi = 80, 80 + markers.CELLS * 20
    assert hollow.marker_from_outline(image, np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])) is None


@pytest.mark.parametrize("modules", [25, 29])  # the sizes formkit's payloads take
def test_a_hollowed_qr_code_is_read_module_by_module(modules):
    payload = "FK1/K10/1/1/N/G9JU46QJ/" + "X" * (modules - 25)
    code = np.array(qr_matrix(payload, modules))
    assert (hollow.with_function_patterns(code) == code).all()  # a real code's patterns stay as they are
    quiet = 4
    crop = _hollowed(code, 10, 41)
    assert not read_qr_codes(crop)  # the finder patterns are hollow: zxing finds no code
    clean = hollow.qr_image_from_outlines(crop, quiet, modules)
    assert [r.text for r in read_qr_codes(clean)] == [payload]


def test_a_thresholded_page_is_told_from_a_grey_one(k10):
    image, _ = k10
    grey_scan = cv2.cvtColor(degrade_scan(image, DPI, random.Random(1), out_dpi=DPI), cv2.COLOR_RGB2GRAY)
    assert not looks_binarised(grey_scan)
    assert looks_binarised(one_bit_copy(grey_scan))
    app = scanner_app_black_and_white(image, DPI, random.Random(1), window_mm=2.6)
    assert looks_binarised(app)
    # resampled since (a PDF rendered at another resolution): the edges of strokes grey
    assert looks_binarised(cv2.resize(app, None, fx=0.66, fy=0.66, interpolation=cv2.INTER_AREA))
    assert not looks_binarised(np.full((400, 300), 255, np.uint8))  # white paper alone


def test_a_speckled_page_is_cleared_of_its_specks_and_keeps_a_dot():
    page = np.full((100, 100), 255, np.uint8)
    page[70::6, ::6] = 0  # grain thresholded: lone black pixels, 1.4 % of the page
    page[5, 5] = 0  # one pixel
    page[10, 10:14] = 0  # four in a row
    page[20:22, 20:22] = 0  # four in a square
    page[30, 30:35] = 0  # five: kept
    cv2.circle(page, (45, 45), 3, 0, -1)  # a pen's dot 0.5 mm across at 300 dpi
    cleared = despeckled(page)
    assert (cleared[:25] == 255).all() and (cleared[60:] == 255).all()
    assert (cleared[30, 30:35] == 0).all() and (cleared[42:49, 42:49] == page[42:49, 42:49]).all()


def test_a_page_with_few_lone_pixels_is_left_as_it_is():
    page = np.full((100, 100), 255, np.uint8)
    page[50, 50] = page[10, 10:14] = 0  # two specks: the edges of print leave a few such on any copy
    assert despeckled(page) is page


def test_every_card_on_a_thresholded_sheet_is_found_and_its_choices_checked(tmp_path):
    """Four goal cards on a scanner's glass through a scanner app's black-and-white mode: each card's markers
    are read from their outlines (the search stopped at the first four ids, and three cards were left out
    without a word), and each card inherits what the image says, so its choice fields go to review."""
    layout = build_layout(resolve_template("goal-card"))
    pdf = tmp_path / "cards.pdf"
    rows = generate(layout, make_copies(4, None, 5), pdf)
    backs = [image for image, row in zip(render_pdf(pdf, DPI), rows, strict=True) if int(row["form_page"]) == 2]
    glass = lay_cards(backs, [0, 180, 0, 180], [1.5, -2.0, 0.5, -1.0], gap_px=40)
    pages = read_image(scanner_app_black_and_white(glass, DPI, random.Random(6), window_mm=1.8),
                       PageResult("test", 1, "sha", ""))
    assert sorted(p.serial for p in pages if p.status == "read") == sorted({r["serial"] for r in rows})
    for page in pages:
        assert page.quality["markers_from_outlines"] and page.quality["thresholded"]
        choices = [v for v in page.values if v.kind == "choice"]
        assert choices and all(v.needs_review for v in choices)


def test_a_thresholded_page_assigned_by_hand_has_its_choices_checked(k10):
    """A page a person names by hand (its QR unreadable) is read as that page the same way: speckle cleared,
    markers from their outlines, and so its choice fields to review."""
    image, serial = k10
    app = scanner_app_black_and_white(image, DPI, random.Random(2), window_mm=1.3)
    layout = build_layout(resolve_template("k10"))
    payload = PagePayload("k10", layout.version, 1, "N", serial, layout.page(1).fingerprint)
    result = read_page_as(app, payload, PageResult("test", 1, "sha", ""))
    assert result.status == "read", result.reason
    assert result.quality["markers_from_outlines"] and result.quality["thresholded"]
    choices = [v for v in result.values if v.kind == "choice"]
    assert choices and all(v.needs_review for v in choices)
