"""Two crosses in a felt marker: one fills its small box all but a little paper and is read as filled, so the
row was read as a correction (the fill cancels, the other cross is the answer) at 0.76-0.79, unflagged (a
find-only pass, 2026-12-07). A nearly filled box beside a mark that heavy goes to review; a solid fill beside a
felt mark, and a fill beside a pen tick, are corrections as before."""

from __future__ import annotations

import pytest

from formkit.layout.model import Box, ChoiceBox, ChoiceField
from scanner.marks import BoxMeasure, Mark
from scanner.resolve import resolve_choice

FIELD = ChoiceField("q", False, tuple(ChoiceBox(str(k + 1), str(k + 1), Box(10 + 10 * k, 10, 5, 5)) for k in range(3)))


def _measure(coverage: float, hole: float) -> BoxMeasure:
    return BoxMeasure(coverage, coverage * 0.95, 200.0, hole, coverage)


def _read(fill_coverage: float, mark_coverage: float):
    states = [(Mark.FILLED, 0.9), (Mark.EMPTY, 1.0), (Mark.MARKED, 0.8)]
    measures = [_measure(fill_coverage, 0.01), _measure(0.0, 1.0), _measure(mark_coverage, 0.1)]
    return resolve_choice(FIELD, states, measures)


def test_a_box_nearly_filled_beside_a_heavy_mark_goes_to_review():
    value = _read(0.87, 0.80)  # the measures of the two felt crosses the pass found
    assert value.needs_review and "two answers?" in value.reason, value


@pytest.mark.parametrize(("fill", "mark"), [(1.0, 0.80), (0.9, 0.3), (0.99, 0.7)])
def test_a_fill_and_a_mark_elsewhere_are_still_a_correction(fill, mark):
    """A felt fill (1.0) beside a felt cross; a pen fill beside a pen tick; a fill in a 3 MP photo beside a
    blurred cross (0.7)."""
    value = _read(fill, mark)
    assert value.value == "3" and not value.needs_review, value
