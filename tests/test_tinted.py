"""A box coloured over with a highlighter as the answer, scanned by an office scanner's greyscale mode (brightness,
not the darkest colour channel): the tint is under a trace of ink in every pixel, and the row read blank at 1.0
(a find-only pass, 2026-12-07). Such a row goes to review; a highlighter drawn along a row, over several boxes,
and rows read as before are left alone."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.template import resolve_template
from tests.synthetic import degrade_scan, draw_mark
from tests.test_light_marks import values_of
from tests.test_scan import DPI, option_box, printed, read

K10 = build_layout(resolve_template("k10")).pages[0]
YELLOW, GREEN = (255, 245, 90), (176, 247, 146)  # (a green highlighter drawn lightly)


def highlight(image: np.ndarray, x_mm: float, y_mm: float, w_mm: float, h_mm: float, colour: tuple) -> None:
    """A highlighter's transparent band over ``image`` (RGB, at ``DPI``): its colour multiplied by ``colour``."""
    px = DPI / 25.4
    rows = slice(int(y_mm * px), int((y_mm + h_mm) * px))
    cols = slice(int(x_mm * px), int((x_mm + w_mm) * px))
    image[rows, cols] = (image[rows, cols].astype(np.float32) * np.array(colour, np.float32) / 255).astype(np.uint8)


def grey_scan(image: np.ndarray) -> np.ndarray:
    """The page through an office scanner's greyscale mode: luminance, then a flatbed scan."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return degrade_scan(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB), DPI, random.Random(6), out_dpi=DPI)


def k10_page(tmp_path) -> np.ndarray:
    """A K10 page (RGB) with rows 1-5 ticked, rows 6-10 left for the test."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(4)
    for k in range(1, 6):
        draw_mark(image, DPI, option_box(K10, f"k10_{k:02d}", 1 + k % 5), "tick", rng)
    return image


@pytest.mark.parametrize("colour", [YELLOW, GREEN])
def test_a_box_highlighted_as_the_answer_in_a_grey_scan_goes_to_review(tmp_path, colour):
    image = k10_page(tmp_path)
    for k, value in ((6, 2), (7, 4), (8, 5)):
        box = option_box(K10, f"k10_{k:02d}", value)
        highlight(image, box.x_mm - 0.6, box.y_mm - 0.4, box.w_mm + 1.2, box.h_mm + 0.8, colour)
    values = values_of(read(grey_scan(image)))
    for k, value in ((6, 2), (7, 4), (8, 5)):
        v = values[f"k10_{k:02d}"]
        assert v.needs_review and v.raw.get("tinted") == str(value), (k, v.value, v.confidence, v.reason)
    for k in (9, 10):  # blank rows stay blank, unflagged
        v = values[f"k10_{k:02d}"]
        assert v.value == "" and not v.needs_review, (k, v.reason)
    for k in range(1, 6):  # ticked rows read as before
        assert values[f"k10_{k:02d}"].value == str(1 + k % 5) and not values[f"k10_{k:02d}"].needs_review


def test_a_highlighter_drawn_along_a_row_flags_nothing(tmp_path):
    """A band over the whole of a blank row (a member of staff marking a question): every box tinted alike."""
    image = k10_page(tmp_path)
    first, last = option_box(K10, "k10_06", 1), option_box(K10, "k10_06", 5)
    highlight(image, first.x_mm - 10, first.y_mm - 0.5, last.x_mm + last.w_mm - first.x_mm + 20, first.h_mm + 1, YELLOW)
    v = values_of(read(grey_scan(image)))["k10_06"]
    assert v.value == "" and not v.needs_review and "tinted" not in v.raw, v.reason
