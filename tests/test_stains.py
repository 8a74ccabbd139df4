"""Things that cross a box like a slash but run on far past it (the edge of a coffee ring, a paper clip's
wire) are flagged, not read as the answer; a person's cross or tick that overshoots its box is still read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formkit.conventions import flagged_otherwise
from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.records import RAW_INTO_QUESTION, RAW_RUNS_PAST_BOX
from formkit.template import resolve_template
from scanner import stains
from tests.test_light_marks import page_of, values_of
from tests.test_scan import DPI, option_box

MM = DPI / 25.4


def coffee_ring(centre_mm: tuple[float, float], radius_mm: float, width_mm: float = 1.5, rim: float = 0.55):
    """A ``page_of`` shade: the edge of a coffee ring, a soft brown band, and the faint stain inside it."""
    def shade(image, page):
        stain = np.zeros(image.shape[:2], np.float32)
        centre = (int(centre_mm[0] * MM), int(centre_mm[1] * MM))
        cv2.circle(stain, centre, int(radius_mm * MM), 0.12, -1)
        cv2.circle(stain, centre, int(radius_mm * MM), rim, max(2, int(width_mm * MM)), cv2.LINE_AA)
        stain = cv2.GaussianBlur(stain, (0, 0), 0.4 * MM)
        brown = np.float32([150, 95, 50]) / 255
        image[...] = np.clip(image * (1 - stain[..., None] * (1 - brown)), 0, 255).astype(np.uint8)
    return shade


def ring_through(box: Box, radius_mm: float = 35.0, degrees: float = 45.0, rim: float = 0.55):
    """A ring whose edge runs through the middle of ``box`` at ``degrees`` from upright."""
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    angle = np.deg2rad(degrees)
    return coffee_ring((cx + radius_mm * np.cos(angle), cy + radius_mm * np.sin(angle)), radius_mm, rim=rim)


def test_a_coffee_ring_through_an_empty_box_is_flagged_not_read(tmp_path):
    def shade(image, page):
        ring_through(option_box(page, "k10_04", 2))(image, page)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, shade))["k10_04"]
    assert row.needs_review and "runs on far past the box" in row.reason
    assert list(row.raw[RAW_RUNS_PAST_BOX]) == ["2"]


@pytest.mark.parametrize("degrees", [0, 15, 30])
def test_a_wire_down_a_column_of_boxes_is_flagged(tmp_path, degrees):
    """A clip's wire running down the page crosses the boxes of the rows above and below, and little paper
    between them clear of their borders: upright, it was missed, the blank row read as answered (a second
    read's find)."""
    def wire(image, page):
        box = option_box(page, "k10_05", 3)
        cx, cy, half = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2, 16.0
        dx, dy = half * np.sin(np.deg2rad(degrees)), half * np.cos(np.deg2rad(degrees))
        cv2.line(image, (int((cx - dx) * MM), int((cy - dy) * MM)), (int((cx + dx) * MM), int((cy + dy) * MM)),
                 (105, 105, 110), max(2, int(0.8 * MM)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_05": (0, (0, 0, 0), 0.0)}, wire))["k10_05"]
    # a wire this straight may be taken for a fold (``creases``) first: flagged either way, never an answer
    assert row.needs_review and row.value == ""
    assert list(row.raw.get(RAW_RUNS_PAST_BOX, [])) == ["3"] or row.raw.get("creases") == ["3"]


def test_a_wire_over_a_filled_box_is_noted_whatever_the_fill_convention(tmp_path):
    """A lone filled box may be read as the answer of a respondent who fills (``formkit.conventions``): the
    wire across it is kept in its readings, so it stays flagged."""
    def fill_and_wire(image, page):
        box = option_box(page, "k10_04", 2)
        corners = [(box.x_mm + 0.6, box.y_mm + 0.6), (box.x_mm + box.w_mm - 0.6, box.y_mm + box.h_mm - 0.6)]
        cv2.rectangle(image, *[(int(x * MM), int(y * MM)) for x, y in corners], (30, 30, 40), -1)
        x = int((box.x_mm + box.w_mm / 2) * MM)
        cv2.line(image, (x, int((box.y_mm - 14) * MM)), (x + int(1 * MM), int((box.y_mm + 19) * MM)), (95, 95, 100),
                 max(2, int(0.8 * MM)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, fill_and_wire))["k10_04"]
    assert row.raw["states"][1] in ("filled", "heavy") and list(row.raw[RAW_RUNS_PAST_BOX]) == ["2"]
    assert flagged_otherwise(row.raw)


def test_a_paper_clips_wire_over_an_empty_box_is_flagged(tmp_path):
    def clip(image, page):
        box = option_box(page, "k10_06", 3)
        centre = (int((box.x_mm + box.w_mm / 2 + 4.5) * MM), int((box.y_mm + box.h_mm / 2) * MM))
        for axes_mm in ((4.5, 16.0), (3.0, 11.0)):  # two nested loops of wire, upright: their sides cross the box
            cv2.ellipse(image, centre, (int(axes_mm[0] * MM), int(axes_mm[1] * MM)), 0, 0, 360, (95, 95, 100),
                        max(2, int(0.8 * MM)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_06": (0, (0, 0, 0), 0.0)}, clip))["k10_06"]
    assert row.needs_review and RAW_RUNS_PAST_BOX in row.raw


def test_a_big_cross_over_its_box_is_still_the_answer(tmp_path):
    """A cross 12 mm across over a 5 mm box reaches 3.5 mm past it each way: a person's answer."""
    def cross(image, page):
        box = option_box(page, "k10_04", 4)
        cx, cy, half = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2, 6.0 / np.sqrt(2) * 1.4
        for (x1, y1), (x2, y2) in (((cx - half, cy - half), (cx + half, cy + half)),
                                   ((cx - half, cy + half), (cx + half, cy - half))):
            cv2.line(image, (int(x1 * MM), int(y1 * MM)), (int(x2 * MM), int(y2 * MM)), (25, 25, 35),
                     max(1, round(0.4 * MM)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, cross))["k10_04"]
    assert (row.value, row.needs_review) == ("4", False) and RAW_RUNS_PAST_BOX not in row.raw


def test_a_box_without_ink_runs_on_nowhere():
    page = build_layout(resolve_template("k10")).pages[0]
    blank = np.full((int(page.height_mm * 8), int(page.width_mm * 8)), 245, np.uint8)
    box = option_box(page, "k10_04", 2)
    assert stains.runs_on_mm(blank, page, box) == (0.0, 0.0)
    # a band across the paper well away from the box, and a dot in it: the dot runs on nowhere
    blank[int((box.y_mm - 6) * 8):int((box.y_mm - 4.5) * 8), :] = 120
    cv2.circle(blank, (int((box.x_mm + 2.5) * 8), int((box.y_mm + 2.5) * 8)), 6, 40, -1)
    assert stains.runs_on_mm(blank, page, box) == (0.0, 0.0)


@pytest.mark.parametrize(("column", "up_to"), [(3, 3), (5, 5), (2, 2)])
def test_a_tick_as_tall_as_two_questions_flags_both_not_the_row_above_as_answered(tmp_path, column, up_to):
    """A tick in row 5 whose long stroke runs up into the box of row 4 above it, row 4 left blank: row 4 read
    as that option at 0.82-0.93, unflagged (an adversarial pass: 13-19 rows of 74 a capture). One stroke in
    two questions' boxes answers one of them: both are flagged, naming the other."""
    def tall_tick(image, page):
        low, high = option_box(page, "k10_05", column), option_box(page, "k10_04", up_to)
        cx, cy, s = low.x_mm + low.w_mm / 2, low.y_mm + low.h_mm / 2, low.w_mm * 0.4
        top = (high.x_mm + 0.6 * high.w_mm, high.y_mm + 0.6 * high.h_mm)
        points = [(cx - s * 0.7, cy), (cx - s * 0.15, cy + s * 0.7), top]
        cv2.polylines(image, [np.int32([(x * MM, y * MM) for x, y in points])], False, (150, 60, 20),
                      max(1, round(0.45 * MM)), cv2.LINE_AA)
    values = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0), "k10_05": (0, (0, 0, 0), 0.0)},
                               tall_tick))
    above, below = values["k10_04"], values["k10_05"]
    assert above.needs_review and "k10_05" in above.reason, above
    assert below.needs_review and below.value == str(column) and "k10_04" in below.reason, below
    assert below.raw[RAW_INTO_QUESTION] == {str(column): ["k10_04", str(up_to)]}
    assert flagged_otherwise(below.raw)


def test_a_box_both_looks_need_is_cut_into_pieces_once_with_the_same_answers(monkeypatch):
    """A stroke through a marked box, far up into the box of the row above and on down the page: how far it runs
    on and which other question it runs into are both measured on the box's band, found once for the two."""
    page = build_layout(resolve_template("k10")).pages[0]
    image = np.full((int(page.height_mm * 8), int(page.width_mm * 8)), 240, np.uint8)
    box, above = option_box(page, "k10_05", 3), option_box(page, "k10_04", 3)
    for b in (box, above):  # the printed borders
        corners = [int(v * 8) for v in (b.x_mm, b.y_mm, b.x_mm + b.w_mm, b.y_mm + b.h_mm)]
        cv2.rectangle(image, corners[:2], corners[2:], 30, 2)
    centre = (int((box.x_mm + box.w_mm / 2) * 8), int((box.y_mm + box.h_mm / 2) * 8))
    cv2.line(image, centre, (centre[0] + 4, int((above.y_mm + above.h_mm / 2) * 8)), 40, 4)
    cv2.line(image, centre, (centre[0] - 4, int((box.y_mm + box.h_mm + 6) * 8)), 40, 4)  # and on down the page
    others = [("k10_04", "3", above)]
    found = []
    band_pieces = stains._band_pieces
    monkeypatch.setattr(stains, "_band_pieces", lambda *args: found.append(args) or band_pieces(*args))
    alone = (stains.runs_on_mm(image, page, box), stains.into_other_question(image, page, box, others))
    assert len(found) == 2  # each look needs the band
    pieces: dict = {}
    together = (stains.runs_on_mm(image, page, box, pieces=pieces),
                stains.into_other_question(image, page, box, others, pieces=pieces))
    assert together == alone and together[1] == ("k10_04", "3")
    assert len(found) == 3 and len(pieces) == 1
