"""A digit rubbed out leaves a trace the recogniser reads as sure as any written digit: a GAS weight left
blank after its digit was rubbed out read "3" at p 1.0, unflagged (2026-12-07). A written box whose strokes
are far fainter than the page's other written boxes goes to review; a page written all in pencil, or
written firmly, flags nothing for it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scanner.handwriting import FAINTER_AT_MOST, _mark_fainter
from tests.synthetic import draw_digit
from tests.test_digit_creases import WEIGHTS, _field, _read, gas, samples  # noqa: F401 (fixtures)

RUBBED_OUT = (0.22, 0.3)  # of a digit's usual darkness: what a rubber leaves


def _boxes(*strengths: float | None) -> list[dict]:
    return [{"digit": None} if s is None else {"digit": 3, "strength": s} for s in strengths]


def test_a_box_far_fainter_than_the_pages_others_is_marked():
    readings = {"a": _boxes(0.6, 0.55), "b": _boxes(0.62, None), "c": _boxes(0.2)}
    _mark_fainter(readings)
    assert readings["c"][0].get("fainter") and not any(b.get("fainter") for f in "ab" for b in readings[f])
    pencil = {"a": _boxes(0.3, 0.28), "b": _boxes(0.31, 0.2)}  # all light: 0.2 is two thirds of their median
    _mark_fainter(pencil)
    assert not any(b.get("fainter") for boxes in pencil.values() for b in boxes)
    alone = {"a": _boxes(0.2, None)}  # nothing to judge it by
    _mark_fainter(alone)
    assert not alone["a"][0].get("fainter")
    mostly_rubbed = {"a": _boxes(0.6), "b": _boxes(0.21), "c": _boxes(0.2)}  # their median is a rubbed-out one
    _mark_fainter(mostly_rubbed)
    assert [mostly_rubbed[f][0].get("fainter", False) for f in "abc"] == [False, True, True]
    dark = {"a": _boxes(0.95, 0.95, 0.9, 0.4)}  # faint beside very dark ink, yet no trace a rubber leaves
    _mark_fainter(dark)
    assert FAINTER_AT_MOST < 0.4 and not dark["a"][3].get("fainter")


@pytest.mark.parametrize(("seed", "firm"), [(1, 3), (2, 3), (4, 1)])
def test_a_rubbed_out_digit_on_a_page_of_firm_ones_is_flagged(gas, samples, seed, firm):  # noqa: F811
    """Also where most of the page's digits were rubbed out (one firm weight, three rubbed out)."""
    page, blank = gas
    image = blank.copy()
    rng = random.Random(seed)
    for k, (field_id, digit) in enumerate(zip(WEIGHTS, (5, 2, 8, 3), strict=True)):
        strength = {} if k < firm else {"strength": RUBBED_OUT}
        draw_digit(image, 200, _field(page, field_id).boxes[0], rng.choice(samples[digit]), rng, "black", **strength)
    values = _read(image, seed)
    assert not any("fainter" in values[f].reason for f in WEIGHTS[:firm]), values
    for rubbed in (values[f] for f in WEIGHTS[firm:]):
        assert rubbed.needs_review and "fainter than the page's other digits" in rubbed.reason, rubbed


def test_digits_written_in_pencil_throughout_are_not_taken_for_rubbed_out(gas, samples):  # noqa: F811
    page, blank = gas
    image = blank.copy()
    rng = random.Random(3)
    for field_id, digit in zip(WEIGHTS, (5, 2, 8, 3), strict=True):
        draw_digit(image, 200, _field(page, field_id).boxes[0], rng.choice(samples[digit]), rng, "pencil")
    values = _read(image, 3)
    assert not any("fainter" in values[f].reason for f in WEIGHTS), values
    assert np.mean([bool(values[f].value) for f in WEIGHTS]) == 1.0
