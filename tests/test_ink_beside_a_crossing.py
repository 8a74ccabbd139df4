"""A mark across a visual-analogue line with other ink joining it where it crosses (a 1-bit copy's speckle of a
stamp, 2026-12-07: its crossing read 2 mm off, unflagged) goes to review; a plain stroke, a cross and a plus sign on
the line, each one mark, read as ever."""

from __future__ import annotations

import random

import pytest

from tests.synthetic import _Pen, draw_line_mark
from tests.test_marks_on_lines import LINES, capture, dot, values_of
from tests.test_scan import DPI, printed


def speckle(image, line, from_mm: float, to_mm: float, rng: random.Random) -> None:
    """Specks 0.3-0.5 mm across 0.7-1.8 mm above and below ``line``, between ``from_mm`` and ``to_mm`` along it."""
    x = from_mm
    while x < to_mm:
        dot(image, line, x, rng.uniform(0.3, 0.5), off_mm=rng.choice((-1, 1)) * rng.uniform(0.7, 1.8))
        x += rng.uniform(0.2, 0.4)


@pytest.mark.parametrize("how", ["scan", "one-bit", "photo"])
def test_specks_joining_a_mark_where_it_crosses_send_the_line_to_review(tmp_path, how):
    image = printed("vas-4line", tmp_path)[0][0]
    rng = random.Random(11)
    draw_line_mark(image, DPI, LINES[0], 36.0, rng)
    speckle(image, LINES[0], 32.8, 35.4, rng)
    draw_line_mark(image, DPI, LINES[1], 64.0, rng)  # nothing beside it
    values = values_of(capture(image, how, random.Random(12)))
    specked = values[LINES[0].id]
    assert specked.needs_review and "joins the mark where it crosses the line" in specked.reason, specked
    assert values[LINES[1].id].value == "6.4" and not values[LINES[1].id].needs_review, values[LINES[1].id].reason


@pytest.mark.parametrize("how", ["scan", "one-bit", "photo"])
def test_a_cross_and_a_plus_on_a_line_read_as_one_mark(tmp_path, how):
    image = printed("vas-4line", tmp_path)[0][0]
    for line, at_mm, shape in ((LINES[0], 27.0, "x"), (LINES[1], 58.0, "+")):
        pen = _Pen(image, DPI, "black", 0.5)
        x, y, half = line.x1_mm + at_mm, line.y1_mm + 0.4, 1.6
        if shape == "x":
            pen.stroke([(x - half, y - half), (x + half, y + half)])
            pen.stroke([(x + half, y - half), (x - half, y + half)])
        else:
            pen.stroke([(x, y - half), (x, y + half)])
            pen.stroke([(x - half, y), (x + half, y)])
    values = values_of(capture(image, how, random.Random(13)))
    for line, expected in ((LINES[0], "2.7"), (LINES[1], "5.8")):
        assert values[line.id].value == expected and not values[line.id].needs_review, (line.id, values[line.id])
