"""Things that cross a box like a slash but run on far past it (the edge of a coffee ring, a paper clip's
wire) are flagged, not read as the answer; a person's cross or tick that overshoots its box is still read."""

from __future__ import annotations

import cv2
import numpy as np

from formkit.conventions import flagged_otherwise
from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.records import RAW_RUNS_ON
from formkit.template import resolve_template
from scanner import stains
from tests.test_light_marks import page_of, values_of
from tests.test_scan import DPI, option_box

MM = DPI / 25.4


def coffee_ring(centre_mm: tuple[float, float], radius_mm: float, width_mm: float = 1.5):
    """A ``page_of`` shade: the edge of a coffee ring, a soft brown band, and the faint stain inside it."""
    def shade(image, page):
        stain = np.zeros(image.shape[:2], np.float32)
        centre = (int(centre_mm[0] * MM), int(centre_mm[1] * MM))
        cv2.circle(stain, centre, int(radius_mm * MM), 0.12, -1)
        cv2.circle(stain, centre, int(radius_mm * MM), 0.55, max(2, int(width_mm * MM)), cv2.LINE_AA)
        stain = cv2.GaussianBlur(stain, (0, 0), 0.4 * MM)
        brown = np.float32([150, 95, 50]) / 255
        image[...] = np.clip(image * (1 - stain[..., None] * (1 - brown)), 0, 255).astype(np.uint8)
    return shade


def ring_through(box: Box, radius_mm: float = 35.0):
    """A ring whose edge runs through the middle of ``box``, from above right to below left."""
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    offset = radius_mm / np.sqrt(2)
    return coffee_ring((cx + offset, cy + offset), radius_mm)


def test_a_coffee_ring_through_an_empty_box_is_flagged_not_read(tmp_path):
    def shade(image, page):
        ring_through(option_box(page, "k10_04", 2))(image, page)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, shade))["k10_04"]
    assert row.needs_review and "runs on far past the box" in row.reason
    assert list(row.raw[RAW_RUNS_ON]) == ["2"]


def test_a_paper_clips_wire_over_an_empty_box_is_flagged(tmp_path):
    def clip(image, page):
        box = option_box(page, "k10_06", 3)
        centre = (int((box.x_mm + box.w_mm / 2 + 4.5) * MM), int((box.y_mm + box.h_mm / 2) * MM))
        for axes_mm in ((4.5, 16.0), (3.0, 11.0)):  # two nested loops of wire, upright: their sides cross the box
            cv2.ellipse(image, centre, (int(axes_mm[0] * MM), int(axes_mm[1] * MM)), 0, 0, 360, (95, 95, 100),
                        max(2, int(0.8 * MM)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_06": (0, (0, 0, 0), 0.0)}, clip))["k10_06"]
    assert row.needs_review and RAW_RUNS_ON in row.raw


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
    assert (row.value, row.needs_review) == ("4", False) and RAW_RUNS_ON not in row.raw


def test_ink_running_on_keeps_a_lone_fill_flagged_whatever_the_convention():
    assert flagged_otherwise({RAW_RUNS_ON: {"2": [5.0, 8.6]}})
    assert not flagged_otherwise({"states": ["heavy"]})


def test_a_box_without_ink_runs_on_nowhere():
    page = build_layout(resolve_template("k10")).pages[0]
    blank = np.full((int(page.height_mm * 8), int(page.width_mm * 8)), 245, np.uint8)
    assert stains.runs_on_mm(blank, page, option_box(page, "k10_04", 2)) == (0.0, 0.0)
