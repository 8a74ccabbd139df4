"""A pen fill's stripes leave a little paper between them once a 2-7 MP photo blurs them, so a correction (a box
filled in, a tick or cross in another) had its fill read as "heavy" and went to review as "heavy mark: a cross or a
filled (cancelled) box?", though the tick was plainly the answer. A heavy box dark at the middle of all four of its
sides beside one pen mark is now a correction; a scribble, whose turns leave paper at two sides, beside a tick is
still flagged (a scribble is an answer: the row may hold two)."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box, ChoiceBox, ChoiceField
from scanner import marks
from scanner.marks import BoxMeasure, Mark
from scanner.resolve import resolve_choice
from tests.synthetic import draw_mark

PX_PER_MM = 8.0  # a registered page
LOW_RES_SOURCE = 4.0  # px/mm: an A4 page in a 2-3 MP photo
FIELD = ChoiceField("q", False, tuple(ChoiceBox(str(k + 1), str(k + 1), Box(5.0 + 10 * k, 5.0, 5.0, 5.0))
                                      for k in range(3)))


def _heavy(side: float, lightest: float) -> BoxMeasure:
    return BoxMeasure(0.92, 0.85, 200.0, 0.02, 0.95, side_ink=side, lightest_side_ink=lightest)


def _read(heavy: BoxMeasure, mark_coverage: float = 0.3):
    states = [(Mark.HEAVY, 0.3), (Mark.EMPTY, 1.0), (Mark.MARKED, 0.9)]
    measures = [heavy, BoxMeasure(0.0, 0.0, 200.0, 0.0, 0.0), BoxMeasure(mark_coverage, 0.3, 200.0, 0.3, 0.35)]
    return resolve_choice(FIELD, states, measures)


@pytest.mark.parametrize(("side", "lightest"), [(0.92, 0.72), (0.82, 0.77), (0.99, 0.81)])
def test_a_heavy_fill_beside_a_tick_is_a_correction(side, lightest):
    """The heavy fills of 3 MP, wobbled and distorted photos (scan_accuracy.py's corrections, 2026-12-08)."""
    value = _read(_heavy(side, lightest))
    assert value.value == "3" and not value.needs_review and value.confidence == 0.8, value


@pytest.mark.parametrize(("side", "lightest", "mark_coverage"), [
    (0.80, 0.42, 0.3),  # a scribble: paper between its turns at two sides
    (0.72, 0.47, 0.3),
    (0.92, 0.72, 0.8),  # beside a mark as heavy as a felt pen's: two felt crosses?
    (1.0, 1.0, 0.3),  # sides not measured: too light to tell
])
def test_a_heavy_box_that_may_be_a_mark_still_goes_to_review(side, lightest, mark_coverage):
    value = _read(_heavy(side, lightest), mark_coverage)
    assert value.needs_review and "heavy mark" in value.reason, value


def _captured(style: str, seed: int, blur_mm: float) -> np.ndarray:
    """A registered page of ``FIELD``'s three boxes, ``style`` drawn in box 1 and a tick in box 3 in black pen,
    blurred by ``blur_mm`` as a small photo is."""
    rng = random.Random(seed)
    image = np.full((120, 300, 3), 235, np.uint8)
    for option in FIELD.options:
        b = option.box
        cv2.rectangle(image, (int(b.x_mm * PX_PER_MM), int(b.y_mm * PX_PER_MM)),
                      (int((b.x_mm + b.w_mm) * PX_PER_MM), int((b.y_mm + b.h_mm) * PX_PER_MM)), (60, 60, 60), 2)
    draw_mark(image, PX_PER_MM * 25.4, FIELD.options[0].box, style, rng, "black")
    draw_mark(image, PX_PER_MM * 25.4, FIELD.options[2].box, "tick", rng, "black")
    return cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (0, 0), blur_mm * PX_PER_MM)


@pytest.mark.parametrize("blur_mm", [0.35, 0.45])
def test_a_scribble_read_heavy_beside_a_tick_is_never_a_correction(blur_mm):
    """Scribbles (an answer) drawn and blurred as in a 2-3 MP photo: those read heavy, some as dark at their second
    darkest side as a fill (0.80), stay flagged beside a tick: the row may hold two answers."""
    heavy = 0
    for seed in range(30):
        page = _captured("scribble", seed, blur_mm)
        measures = [marks.measure_box(page, option.box) for option in FIELD.options]
        states = [marks.classify(m, marks.Baseline(0.0, 0.0), LOW_RES_SOURCE) for m in measures]
        if states[0][0] is not Mark.HEAVY:
            continue
        heavy += 1
        value = resolve_choice(FIELD, states, measures)
        assert value.needs_review, (seed, measures[0])
    assert heavy >= 4  # the drawing still makes heavy scribbles
