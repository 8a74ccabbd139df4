"""A cross that blur, a faded print or a messenger's JPEG thickens leaves too little paper in its box for the hole
between its arms to tell it from a fill, and went to review as "heavy mark: a cross or a filled (cancelled) box?".
A cross leaves paper against the middle of three sides or four, between its arms; a fill leaves none there, so
such a box is read as the mark it is, while a fill, whole, striped or leaving paper along one side, is never
read as a mark (a filled box means "cancelled")."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box
from scanner import marks

PX_PER_MM = 8.0  # a registered page
LOW_RES_SOURCE = 4.0  # px/mm: an A4 page in a 2-3 MP photo
BOX = Box(5.0, 5.0, 5.0, 5.0)


def _px(x_mm: float, y_mm: float) -> tuple[int, int]:
    return int(round(x_mm * PX_PER_MM * 4)), int(round(y_mm * PX_PER_MM * 4))


def captured(draw, blur_mm: float, border: int = 128) -> np.ndarray:
    """A registered page holding ``BOX`` printed faded (its border at grey ``border``), ``draw`` (drawing on it in
    pen) done, blurred by ``blur_mm`` as a small photo is."""
    page = np.full((120, 120), 235, np.uint8)
    cv2.rectangle(page, _px(BOX.x_mm, BOX.y_mm), _px(BOX.x_mm + BOX.w_mm, BOX.y_mm + BOX.h_mm), border,
                  round(0.3 * PX_PER_MM), cv2.LINE_AA, shift=2)
    draw(page)
    return cv2.GaussianBlur(page, (0, 0), blur_mm * PX_PER_MM)


def cross(pen_mm: float):
    def draw(page: np.ndarray) -> None:
        c, s, width = 7.5, 2.3, round(pen_mm * PX_PER_MM)
        cv2.line(page, _px(c - s, c - s), _px(c + s, c + s), 20, width, cv2.LINE_AA, shift=2)
        cv2.line(page, _px(c + s, c - s), _px(c - s, c + s), 20, width, cv2.LINE_AA, shift=2)
    return draw


def fill(right_mm: float = 9.9, stripes_mm: float = 0.0):
    """Filled in from the box's left edge to ``right_mm``; with ``stripes_mm``, as strokes that far apart, the
    paper showing between them."""
    def draw(page: np.ndarray) -> None:
        cv2.rectangle(page, _px(5.1, 5.1), _px(right_mm, 9.9), 20, -1, cv2.LINE_AA, shift=2)
        if stripes_mm:
            for y_mm in np.arange(5.4, 9.9, stripes_mm):
                cv2.line(page, _px(5.1, y_mm), _px(right_mm, y_mm), 235, 1)
    return draw


def state(page: np.ndarray) -> tuple[marks.Mark, marks.BoxMeasure]:
    measure = marks.measure_box(page, BOX)
    return marks.classify(measure, marks.Baseline(0.0, 0.0), LOW_RES_SOURCE)[0], measure


@pytest.mark.parametrize("pen_mm", [0.6, 0.8])
@pytest.mark.parametrize("blur_mm", [0.35, 0.45])
def test_a_thick_blurred_cross_is_a_mark_not_a_heavy_box(pen_mm, blur_mm):
    mark, measure = state(captured(cross(pen_mm), blur_mm))
    assert measure.hole < marks.MARKED_MIN_HOLE  # too little paper left for the hole to tell
    assert mark is marks.Mark.MARKED, measure


@pytest.mark.parametrize("blur_mm", [0.25, 0.35, 0.45])
@pytest.mark.parametrize("drawn", ["whole", "striped", "paper along one side"])
def test_a_fill_is_never_read_as_a_mark(blur_mm, drawn):
    draw = {"whole": fill(), "striped": fill(stripes_mm=0.6), "paper along one side": fill(right_mm=9.0)}[drawn]
    mark, measure = state(captured(draw, blur_mm))
    assert mark in (marks.Mark.FILLED, marks.Mark.HEAVY), measure
