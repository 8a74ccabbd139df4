"""Digit and date boxes written as people do, not as the boxes ask: two digits squeezed into one box, a
digit struck through, written faintly all over, between two boxes or mostly below its box, and a day or
month written in the first of its two boxes. Each is read right or sent to review, never read wrong unflagged."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box, BoxesField
from scanner import digits, handwriting
from tests.synthetic import load_digits

PX_PER_MM = 8.0
PAPER = 225
HELDOUT = Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"


@pytest.fixture(scope="module")
def samples():
    return load_digits(HELDOUT)


def _page(boxes: list[Box]) -> np.ndarray:
    """A registered page (``PX_PER_MM``) with ``boxes`` printed on it, nothing written."""
    page = np.full((int(40 * PX_PER_MM), int(40 * PX_PER_MM)), PAPER, np.uint8)
    for b in boxes:
        cv2.rectangle(page, (int(round(b.x_mm * PX_PER_MM)), int(round(b.y_mm * PX_PER_MM))),
                      (int(round((b.x_mm + b.w_mm) * PX_PER_MM)), int(round((b.y_mm + b.h_mm) * PX_PER_MM))), 40, 2)
    return page


def _write(page: np.ndarray, digit: np.ndarray, x_mm: float | None, y_mm: float, h_mm: float, darkness: float = 0.85,
           centre_x_mm: float | None = None) -> None:
    """A held-back MNIST ``digit`` written with its ink's top-left corner at (x, y) mm (or its middle at
    ``centre_x_mm``), ``h_mm`` tall."""
    ys, xs = np.nonzero(digit > 30)
    piece = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255
    h = int(round(h_mm * PX_PER_MM))
    w = max(2, int(round(piece.shape[1] / piece.shape[0] * h)))
    ink = cv2.resize(piece, (w, h), interpolation=cv2.INTER_AREA)
    x = int(round(centre_x_mm * PX_PER_MM - w / 2)) if centre_x_mm is not None else int(round(x_mm * PX_PER_MM))
    y = int(round(y_mm * PX_PER_MM))
    region = page[y:y + h, x:x + w].astype(np.float32)
    page[y:y + h, x:x + w] = np.minimum(region, PAPER * (1 - darkness * ink)).astype(np.uint8)


def _line(page: np.ndarray, start_mm: tuple[float, float], end_mm: tuple[float, float], darkness: float = 0.85,
          width_px: int = 3) -> None:
    start = tuple(int(round(v * PX_PER_MM)) for v in start_mm)
    end = tuple(int(round(v * PX_PER_MM)) for v in end_mm)
    cv2.line(page, start, end, int(round(PAPER * (1 - darkness))), width_px, cv2.LINE_AA)


def _read(page: np.ndarray, field: BoxesField):
    return handwriting.read_boxes_fields(page, [field], PX_PER_MM)[field.id]


WEIGHT = BoxesField("weight", "digits", (Box(10.0, 10.0, 6.0, 8.0),), 1, 9)
RATING = BoxesField("rating", "digits", (Box(10.0, 10.0, 5.0, 7.0), Box(16.2, 10.0, 5.0, 7.0)), 1, 10)


def test_two_digits_squeezed_into_one_box_go_to_review(samples):
    """'10' written small in the first box of a 1-10 field, the second left empty: read as one digit (a 6,
    sure of it) it would be a wrong rating. Two pieces of ink side by side are two characters."""
    page = _page(list(RATING.boxes))
    _write(page, samples[1][0], 10.6, 11.0, 5.0)
    _write(page, samples[0][1], 12.4, 12.6, 3.4)  # not touching the 1: touching digits are not told apart
    value = _read(page, RATING)
    assert value.needs_review and "more than one character" in value.reason, value
    assert value.raw["boxes"][0]["side_by_side"] == 2


def test_a_digit_with_a_faint_slip_of_the_pen_beside_it_is_one_character(samples):
    page = _page(list(WEIGHT.boxes))
    _write(page, samples[4][0], 11.5, 11.0, 6.0)
    _line(page, (15.3, 12.5), (15.5, 15.0), darkness=0.3, width_px=1)
    ink = digits.box_ink(page, WEIGHT.boxes[0], PX_PER_MM, digits.side_margin_mm(WEIGHT.boxes))
    assert ink.side_by_side == 1


def test_a_digit_struck_through_across_its_box_goes_to_review(samples):
    """A 3 crossed out with a stroke across the whole box (the right digit written elsewhere): no digit
    the networks are sure of."""
    page = _page(list(WEIGHT.boxes))
    _write(page, samples[3][0], 11.5, 11.0, 6.0)
    _line(page, (9.2, 16.5), (16.8, 11.5))
    value = _read(page, WEIGHT)
    assert value.needs_review, value


def test_a_digit_written_fainter_than_the_usual_cut_all_over_is_not_a_blank_box(samples):
    """A hard-pencil 7, every stroke lighter than the usual cut: no ink at that cut, but a digit's worth at
    the faint one. A blank weight would be a silent error: the box goes to review."""
    page = _page(list(WEIGHT.boxes))
    _write(page, samples[7][0], 11.5, 11.0, 6.0, darkness=0.17)
    value = _read(page, WEIGHT)
    assert value.needs_review and "faint" in value.reason, value
    assert value.raw["boxes"][0]["faint_mm2"] >= 0.5


def test_an_empty_box_is_still_blank_and_unflagged():
    value = _read(_page(list(WEIGHT.boxes)), WEIGHT)
    assert value.value == "" and not value.needs_review


def test_a_digit_written_between_two_boxes_goes_to_review():
    """A felt-pen 1 written over the gap between a field's two boxes, reaching half a millimetre into each:
    each box sees it as mostly outside itself, so both read blank; the field is not blank."""
    page = _page(list(RATING.boxes))
    _line(page, (16.3, 11.2), (14.9, 15.8), width_px=12)  # the gap: 15.0-16.2 mm
    value = _read(page, RATING)
    assert value.needs_review and "outside box" in value.reason, value


def test_a_digit_written_mostly_below_its_box_goes_to_review(samples):
    """A 7 whose top reaches into the box and the rest hangs below it: left out of the box's digit, it
    would leave the weight blank."""
    page = _page(list(WEIGHT.boxes))
    _write(page, samples[7][5], 11.3, 16.4, 6.5)
    value = _read(page, WEIGHT)
    assert value.needs_review and "outside box" in value.reason, value


def test_a_digit_beside_a_written_neighbour_is_that_neighbours(samples):
    """A digit crossing into the next box, which is written: that box's digit, nothing to flag."""
    ink = {"digit": 4, "p": 0.999, "ink_mm2": 3.0, "probs": [0.0001] * 4 + [0.999] + [0.0001] * 5}
    boxes = [dict(ink, right_mm2=1.2), dict(ink, left_mm2=0.8)]
    assert handwriting._stray_ink(boxes) == []
    assert handwriting._stray_ink([dict(ink, right_mm2=1.2), {"digit": None, "p": 1.0, "ink_mm2": 0.0,
                                                              "state": "blank"}])


def _box(digit: int | None) -> dict:
    if digit is None:
        return {"digit": None, "p": 1.0, "ink_mm2": 0.0, "state": "blank"}
    probs = [0.0001] * 10
    probs[digit] = 0.9991
    return {"digit": digit, "p": 0.9991, "ink_mm2": 3.0, "probs": probs}


def _date(text: str):
    boxes = [_box(None if c == " " else int(c)) for c in text]
    return handwriting._resolve_date(BoxesField("d", "date", ()), boxes, 0.9, 0.9)


def test_a_day_or_month_in_the_first_of_its_boxes_that_could_begin_two_digits_goes_to_review():
    """'1_' in the day boxes is the 1st, or the 10th-19th with its second digit lost (written below the box,
    too faint): the reader cannot tell. Written in the second box, or a digit no second could follow, it is
    that number."""
    assert _date("1 052025").needs_review
    assert _date("051 2025").needs_review  # January, or October to December?
    assert "day 1, or 10-19" in _date("1 052025").reason
    assert "day 3, or 30-31" in _date("3 052025").reason and "month 1, or 10-12" in _date("051 2025").reason
    for text, iso in ((" 1052025", "2025-05-01"), ("4 052025", "2025-05-04"), ("05 32025", "2025-03-05"),
                      ("05 12025", "2025-01-05"), ("053 2025", "2025-03-05")):
        value = _date(text)
        assert value.value == iso and not value.needs_review, (text, value)


def test_a_zero_alone_in_the_days_first_box_is_no_day_not_a_day_of_0_to_9():
    value = _date("0 052025")
    assert value.needs_review and "not a real date" in value.reason and "day 0, or" not in value.reason, value



def test_a_slanting_stroke_broken_where_it_is_faint_is_one_character():
    """A thin, slanting 1 whose middle is too faint to cut: its two pieces stand in columns apart, but one
    above the other, not level as two characters written side by side are."""
    page = _page(list(WEIGHT.boxes))
    _line(page, (14.2, 11.0), (13.7, 14.0), width_px=2)
    _line(page, (12.9, 14.8), (12.2, 17.2), width_px=2)
    ink = digits.box_ink(page, WEIGHT.boxes[0], PX_PER_MM, digits.side_margin_mm(WEIGHT.boxes))
    assert ink.ink_mm2 > 0 and ink.side_by_side == 1
