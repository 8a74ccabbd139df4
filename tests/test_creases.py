"""A fold or crease of the paper (a card kept in a pocket, a crumpled page) runs straight across boxes and
lines and far beyond them: it is never read as an answer. A person's marks, even long straight ones, still
are; a line struck through a whole row is flagged."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.template import resolve_template
from scanner.creases import runs_on
from tests.synthetic import degrade_scan, draw_crease, draw_line_mark
from tests.test_light_marks import page_of, values_of
from tests.test_scan import DPI, option_box, printed, read


def _through(box: Box, degrees: float, half_mm: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ends of a line ``2 * half_mm`` long through the middle of ``box``, ``degrees`` from upright."""
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    dx, dy = np.sin(np.deg2rad(degrees)) * half_mm, np.cos(np.deg2rad(degrees)) * half_mm
    return (cx - dx, cy - dy), (cx + dx, cy + dy)


def crease_through(field: str, value: int, degrees: float = 35.0, half_mm: float = 14.0, darkness: float = 0.35):
    """A ``page_of`` shade: a fold through the middle of one box of ``field``."""
    def shade(image, page):
        start, end = _through(option_box(page, field, value), degrees, half_mm)
        draw_crease(image, DPI, start, end, darkness=darkness, width_mm=0.35)
    return shade


@pytest.mark.parametrize("darkness", [0.35, 0.55])  # read as a faint mark, and as a tick, before
def test_a_fold_across_an_empty_row_is_no_answer(tmp_path, darkness):
    result = page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, crease_through("k10_04", 2, darkness=darkness))
    values = values_of(result)
    row = values["k10_04"]
    assert row.value == "" and row.needs_review and "fold" in row.reason
    assert row.raw["creases"] == ["2"]
    for k in (1, 2, 3, 5, 6, 7, 8, 9, 10):  # the rows it does not cross read as before
        assert values[f"k10_{k:02d}"].value == str(1 + k % 5) and not values[f"k10_{k:02d}"].needs_review


def test_a_fold_beside_a_tick_leaves_the_tick_the_answer(tmp_path):
    result = page_of(tmp_path, "black", {"k10_04": (4, (25, 25, 35), 1.0)}, crease_through("k10_04", 2))
    row = values_of(result)["k10_04"]
    assert (row.value, row.needs_review) == ("4", False)
    assert row.raw["creases"] == ["2"] and row.confidence <= 0.8


def test_a_long_pen_line_beside_a_tick_is_flagged(tmp_path):
    """A second answer drawn as a long straight pen line, far beyond its box both ways: as dark as the tick
    in the same row, so it may be a mark, not a fold: two marks, neither taken."""
    result = page_of(tmp_path, "black", {"k10_04": (4, (25, 25, 35), 1.0)},
                     crease_through("k10_04", 2, darkness=0.85))
    row = values_of(result)["k10_04"]
    assert row.needs_review and "two or more marks" in row.reason and "creases" not in row.raw


def test_a_faint_fold_is_no_light_mark(tmp_path):
    """On a page of a light hand, a faint crease across an empty row is no light tick (session 16's rule)."""
    result = page_of(tmp_path, "pencil", {"k10_04": (0, (0, 0, 0), 0.0)},
                     crease_through("k10_04", 3, degrees=60, darkness=0.4))
    row = values_of(result)["k10_04"]
    assert row.value == "" and row.needs_review and row.raw["creases"] == ["3"]


def test_a_long_slash_within_its_box_is_an_answer(tmp_path):
    """A person's straight stroke from corner to corner, over the border by a millimetre: a mark."""
    def slash(image, page):
        box = option_box(page, "k10_04", 2)
        start, end = (box.x_mm - 1.0, box.y_mm + box.h_mm + 1.0), (box.x_mm + box.w_mm + 1.0, box.y_mm - 1.0)
        scale = DPI / 25.4
        cv2.line(image, (int(start[0] * scale), int(start[1] * scale)), (int(end[0] * scale), int(end[1] * scale)),
                 (25, 25, 35), max(1, round(0.4 * scale)), cv2.LINE_AA)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, slash))["k10_04"]
    assert (row.value, row.needs_review) == ("2", False) and "creases" not in row.raw


def test_a_row_struck_through_is_flagged(tmp_path):
    """A pen line through all five boxes of a row (the row crossed out) is neither blank nor an answer."""
    def strike(image, page):
        first, last = option_box(page, "k10_04", 1), option_box(page, "k10_04", 5)
        y = first.y_mm + first.h_mm / 2
        draw_crease(image, DPI, (first.x_mm - 8, y - 0.5), (last.x_mm + last.w_mm + 8, y + 0.5),
                    darkness=0.8, width_mm=0.4, blur_mm=0.05)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, strike))["k10_04"]
    assert row.needs_review and row.value == ""


def _vas(tmp_path, mark_mm: float | None, crease_mm: float):
    image = printed("vas-4line", tmp_path)[0][0]
    line = next(f for f in build_layout(resolve_template("vas-4line")).pages[0].fields if f.id == "line_2")
    if mark_mm is not None:
        draw_line_mark(image, DPI, line, mark_mm, random.Random(2))
    x = line.x1_mm + crease_mm
    draw_crease(image, DPI, (x - 6, line.y1_mm - 25), (x + 6, line.y1_mm + 25), darkness=0.45)
    result = read(degrade_scan(image, DPI, random.Random(3), out_dpi=DPI))
    return values_of(result)["line_2"]


def test_a_fold_across_a_blank_line_is_no_mark(tmp_path):
    value = _vas(tmp_path, None, 30.0)
    assert value.value == "" and value.needs_review and "fold" in value.reason
    assert abs(value.raw["creases_mm"][0] - 30.0) < 1.5


def test_a_mark_on_a_folded_line_is_read(tmp_path):
    value = _vas(tmp_path, 70.0, 30.0)
    assert not value.needs_review and abs(float(value.value) - 7.0) <= 0.1
    assert len(value.raw["creases_mm"]) == 1 and value.confidence < 0.95


def test_a_line_that_runs_on_is_a_crease_and_a_short_one_is_not():
    page = np.full((400, 400), 230, np.uint8)
    yy, xx = np.mgrid[0:400, 0:400]
    page[np.abs(xx - (200 + 0.3 * (yy - 200))) < 1.5] = 150  # a thin line across the page
    points = np.argwhere((page < 200) & (np.abs(yy - 200) < 20))[:, ::-1]  # its ink near the middle, as (x, y)
    assert runs_on(page, points, 8.0)
    page[:, :] = 230
    page[(np.abs(xx - (200 + 0.3 * (yy - 200))) < 1.5) & (np.abs(yy - 200) < 20)] = 150  # only that piece
    assert not runs_on(page, points, 8.0)
    assert not runs_on(page, points[:2], 8.0)  # too little ink to follow
