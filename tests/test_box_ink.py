"""How a digit box's handwriting is cut out (scanner.digits.box_ink): at the usual contrast, or for a
digit written faintly, at half the darkness of its own darkest strokes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box
from scanner import digits

PX_PER_MM = 8.0
PAPER = 220
BOX = Box(5.0, 5.0, 6.0, 8.0)


def _page() -> np.ndarray:
    """A page with one printed box (``BOX``), nothing written in it."""
    page = np.full((int(18 * PX_PER_MM), int(16 * PX_PER_MM)), PAPER, np.uint8)
    corner = (int(BOX.x_mm * PX_PER_MM), int(BOX.y_mm * PX_PER_MM))
    far = (int((BOX.x_mm + BOX.w_mm) * PX_PER_MM), int((BOX.y_mm + BOX.h_mm) * PX_PER_MM))
    cv2.rectangle(page, corner, far, 40, 2)
    return page


def _stroke(page: np.ndarray, start_mm: tuple[float, float], end_mm: tuple[float, float], darkness: float) -> None:
    """A 0.4 mm stroke ``darkness`` (0..1) darker than the paper, from and to (x, y) in mm."""
    start = tuple(int(round(v * PX_PER_MM)) for v in start_mm)
    end = tuple(int(round(v * PX_PER_MM)) for v in end_mm)
    cv2.line(page, start, end, int(round(PAPER * (1 - darkness))), 3)


def _written_px(soft: np.ndarray, start_mm: tuple[float, float], end_mm: tuple[float, float]) -> float:
    """The share of the pixels along a stroke's centre line that the cut-out ``soft`` keeps as ink."""
    margin_x = digits.side_margin_mm([BOX])
    origin = ((BOX.x_mm - margin_x) * PX_PER_MM, (BOX.y_mm - digits.MARGIN_MM) * PX_PER_MM)
    points = np.linspace(start_mm, end_mm, 20) * PX_PER_MM - origin
    rows, cols = np.round(points[:, 1]).astype(int), np.round(points[:, 0]).astype(int)
    return float(np.mean(soft[rows, cols] > 0.3))


FIRM, LIGHTER = ((6.5, 6.5), (9.5, 6.5)), ((9.5, 9.0), (6.5, 11.5))  # a "7"'s bar, then its stem


def test_a_digit_written_faintly_is_cut_out_whole():
    page = _page()
    _stroke(page, *FIRM, darkness=0.32)  # a pencil digit's darkest stroke
    _stroke(page, (9.5, 6.5), (9.5, 9.0), darkness=0.32)
    _stroke(page, *LIGHTER, darkness=0.18)  # lighter than the usual cut (0.2), more than half the darkest
    soft = digits.box_ink(page, BOX, PX_PER_MM).soft
    assert _written_px(soft, *FIRM) == 1.0
    assert _written_px(soft, *LIGHTER) == 1.0


def test_a_firmly_written_box_keeps_the_usual_cut():
    page = _page()
    _stroke(page, *FIRM, darkness=0.85)
    _stroke(page, (9.5, 6.5), (9.5, 9.0), darkness=0.85)
    _stroke(page, *LIGHTER, darkness=0.18)  # a smudge beside firm ink is not part of the digit
    soft = digits.box_ink(page, BOX, PX_PER_MM).soft
    assert _written_px(soft, *FIRM) == 1.0
    assert _written_px(soft, *LIGHTER) == 0.0


def test_an_empty_box_with_faint_marks_lets_no_noise_in():
    page = _page()
    _stroke(page, *LIGHTER, darkness=0.18)  # faint as a written pencil stroke, but alone in the box
    ink = digits.box_ink(page, BOX, PX_PER_MM)
    assert ink.ink_mm2 == 0.0
    assert not ink.soft.any()


def test_the_faint_cut_is_half_the_darkest_strokes_within_its_limits():
    inside = np.zeros((40, 30), np.float32)
    inside[:, :3] = 0.3  # a tenth of the inside: its darkest 1 %
    assert digits.ink_contrast(inside) == pytest.approx(0.15)
    inside[:, :3] = 0.9
    assert digits.ink_contrast(inside) == digits.INK_CONTRAST
    inside[:, :3] = 0.15
    assert digits.ink_contrast(inside) == digits.FAINT_FLOOR
    assert digits.ink_contrast(np.zeros((0, 0), np.float32)) == digits.INK_CONTRAST
