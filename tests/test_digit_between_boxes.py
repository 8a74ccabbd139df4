"""A digit written wholly in the gap between two digit boxes. The gap is 1.0-1.7 mm wide, so an upright "1" there lies
within a millimetre of both boxes' sides, and it was taken for a side that a bent page moved off its place. Such a
field read blank at 0.99, unflagged (``irregular_digits.py`` *straddle*, a 300 dpi scan, 2026-12-08). A stroke with
paper between it and a side that shows where it is printed is writing."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from formkit.layout.model import Box
from formkit.records import PageResult
from tests.synthetic import draw_digit, load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
irregular_digits = pytest.importorskip("irregular_digits")

HELDOUT = Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"


def _read_visits(sample: int | None, seed: int = 24) -> object:
    """The visits field of the benchmark's own form, held-back MNIST 1 number ``sample`` (``samples/handwriting``)
    written in blue in the gap between its two boxes (None: nothing written), scanned at 300 dpi."""
    page, printed = irregular_digits.blank_page("N")
    image = printed.copy()
    field = next(f for f in page.fields if f.id == "visits")
    left, right = field.boxes
    if sample is not None:
        gap = Box(left.x_mm + left.w_mm, left.y_mm, right.x_mm - left.x_mm - left.w_mm, left.h_mm)
        draw_digit(image, irregular_digits.DPI, gap, load_digits(HELDOUT)[1][sample], random.Random(seed), "blue",
                   place="centre")
    scanned = irregular_digits.degrade_scan(image, irregular_digits.DPI, random.Random(24))
    grey = scanned.min(axis=2) if scanned.ndim == 3 else scanned
    results = irregular_digits.read_image(grey, PageResult("test", 1, "", ""), irregular_digits.catalogue())
    return next(v for r in results for v in r.values if v.field == "visits")


@pytest.mark.parametrize("sample", [0, 1, 3, 7])
def test_a_one_written_in_the_gap_between_two_digit_boxes_is_flagged(sample):
    """Before 2026-12-08 each read blank at 0.99, unflagged: 1 and 7 for the 0.4-0.6 mm² the print's margins leave of
    them (``beside.GAP_WRITING_MM2``), 0 and 3 taken for a box's side moved (``beside_ink._beside_its_line``)."""
    value = _read_visits(sample)
    assert value.value == "" and value.needs_review, value
    assert "writing beside or across them" in value.reason, value.reason


def test_the_same_field_left_blank_is_read_blank():
    value = _read_visits(None)
    assert value.value == "" and not value.needs_review, value
