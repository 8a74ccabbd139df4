"""A fold or crease of the paper through a digit or date box: a thin straight line down the box and on over
the page beyond it. Through an empty box it looks like a written "1" (a one-digit box for 1-9 read "1" at
0.994-0.999, unflagged, in 8 of 10 such boxes on blank pages, 2026-12-07); through a written digit it becomes
part of the digit. Either way the field goes to review saying so; a written "1", which stops within its
box or a little past it, is read as before."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box, BoxesField
from formkit.records import PageResult
from scanner import digits
from scanner.pipeline import read_page
from tests.synthetic import degrade_scan, draw_crease, draw_digit, load_digits, write_digits
from tests.test_handwriting import _grey, _printed

DPI = 200
DIGITS = Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"
WEIGHTS = ("weight_1", "weight_2", "weight_3", "weight_4")  # gas-followup's first page: one box each, 1-9, in a column


@pytest.fixture(scope="module")
def gas(tmp_path_factory):
    """The GAS follow-up's first page, blank, and its layout page."""
    layout, images, rows = _printed("gas-followup", tmp_path_factory.mktemp("gas"), seed=4)
    return layout.page(int(rows[0]["form_page"])), images[0]


@pytest.fixture(scope="module")
def samples():
    return load_digits(DIGITS)


def _field(page, field_id: str) -> BoxesField:
    return next(f for f in page.fields if f.id == field_id)


def _crease_down(image: np.ndarray, box: Box, darkness: float, off_mm: float = 0.0) -> None:
    """A fold from the page's top edge to its bottom, through the middle of ``box`` (``off_mm`` beside it)."""
    x = box.x_mm + box.w_mm / 2 + off_mm
    draw_crease(image, DPI, (x, 0.0), (x + 0.2, image.shape[0] / DPI * 25.4), darkness=darkness)


def _read(image: np.ndarray, seed: int) -> dict:
    scan = degrade_scan(image, DPI, random.Random(seed), out_dpi=300)
    result = read_page(_grey(scan), PageResult("x.png", 1, "", ""))
    assert result.status == "read", result.reason
    return {v.field: v for v in result.values}


@pytest.mark.parametrize("darkness, off_mm", [(0.3, -0.2), (0.5, 0.4)])
def test_a_crease_through_empty_one_digit_boxes_is_flagged_not_read_as_one(gas, darkness, off_mm):
    """One crease down the page through the four empty weight boxes: none is read "1" unflagged, each is
    flagged saying a line runs through its box and beyond."""
    page, blank = gas
    image = blank.copy()
    _crease_down(image, _field(page, "weight_1").boxes[0], darkness, off_mm)
    values = _read(image, seed=7)
    for field_id in WEIGHTS:
        v = values[field_id]
        assert v.value == "" or v.needs_review, (field_id, v.value, v.confidence, v.raw)
        if v.value:
            assert "a line runs through box 1 and beyond: a fold or crease?" in v.reason, (field_id, v.reason)


def test_a_crease_through_a_written_digit_is_not_read_silently_as_another(gas, samples):
    """A written 7 and 4 with the crease through them: flagged (or read right), never another digit unflagged."""
    page, blank = gas
    image = blank.copy()
    rng = random.Random(5)
    written = {"weight_1": "7", "weight_2": "4", "weight_3": "7", "weight_4": "4"}
    for field_id, text in written.items():
        write_digits(image, DPI, _field(page, field_id).boxes, text, samples, rng, "black")
    _crease_down(image, _field(page, "weight_1").boxes[0], 0.4)
    values = _read(image, seed=3)
    for field_id, text in written.items():
        v = values[field_id]
        assert v.value == text or v.needs_review, (field_id, v.value, v.raw)


def test_a_written_one_is_read_as_before(gas, samples):
    """Written "1"s, MNIST's and a pen's straight stroke a millimetre past the box's top and bottom: read,
    no crease said, the empty boxes of the page blank."""
    page, blank = gas
    image = blank.copy()
    rng = random.Random(11)
    ones = [s for s in samples[1]][:3]
    for field_id, sample in zip(("weight_1", "weight_2", "weight_3"), ones, strict=True):
        draw_digit(image, DPI, _field(page, field_id).boxes[0], sample, rng, "black")
    box, scale = _field(page, "weight_4").boxes[0], DPI / 25.4
    x = box.x_mm + box.w_mm / 2
    cv2.line(image, (round(x * scale), round((box.y_mm - 1.0) * scale)),
             (round((x - 0.5) * scale), round((box.y_mm + box.h_mm + 1.0) * scale)), (25, 25, 35),
             max(1, round(0.4 * scale)), cv2.LINE_AA)
    values = _read(image, seed=2)
    for field_id in WEIGHTS:
        v = values[field_id]
        assert "crease" not in v.reason, (field_id, v.reason)
        assert v.value == "1", (field_id, v.value, v.raw)
    assert sum(not values[f].needs_review for f in WEIGHTS) >= 3


def test_a_digit_across_its_boxs_side_is_no_crease():
    """A "0" written over its box's right side, by the next box (a GAS date's first box on a 3 MP photo,
    registered; the page round it cut out, box at 10, 9.94 mm): what of it lies beyond the border is a short
    upright stroke, and the printed borders go on along it, but it does not run through the box. Read as a
    crease once, 2026-12-07."""
    page = cv2.imread(str(Path(__file__).parent / "data" / "zero_across_side.png"), cv2.IMREAD_GRAYSCALE)
    box = Box(10.0, 9.94, 6.0, 8.0)  # date_completed's boxes, 1.5 mm apart
    ink = digits.box_ink(page, box, 8.0, digits.side_margin_mm([box, Box(17.5, 9.94, 6.0, 8.0)]))
    assert ink.ink_mm2 > 5 and not ink.crease


def test_only_a_line_reaching_the_box_border_both_ways_can_be_a_crease():
    """A crease through an empty box is cut only by the box's border; a written "1" stops short of it. In JPEG
    quality 18-35 photos the ringing past a slanted "1"'s ends looked like a line running on (2 of 286 fields
    flagged as creases, 2026-12-07)."""
    from scanner.creases import ink_axis

    px = 8.0
    box = (100.0, 100.0, 140.0, 156.0)  # a 5 x 7 mm box, page pixels

    def stroke(x_a, y_a, x_b, y_b):
        t = np.linspace(0.0, 1.0, 60)[:, None]
        return ink_axis(np.array([x_a, y_a]) + t * np.array([x_b - x_a, y_b - y_a]))

    assert digits._border_to_border(stroke(120, 103, 121, 153), box, px)  # top to bottom, cut by the border
    assert digits._border_to_border(stroke(103, 104, 137, 152), box, px)  # a slanted one, corner to corner
    assert not digits._border_to_border(stroke(124, 112, 112, 140), box, px)  # a slanted "1", inside the box
    assert not digits._border_to_border(stroke(120, 103, 121, 135), box, px)  # stops 2.6 mm above the border
