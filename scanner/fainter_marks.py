"""Marks far fainter than the person's other marks on the page: what a rubber left of an answer taken back, or
a light mark. A pencil tick rubbed out to a third of its darkness reads as a light tick, and a row left blank
after it was read as that answer at confidence 0.8-1.0 (an adversarial pass, 2026-12-07); nothing in the box
tells the two apart, the person's other marks do."""

from __future__ import annotations

import statistics

from formkit.records import FieldValue

from .marks import BoxMeasure, Mark
from .resolve import flag_for_review

# Of the median darkness (``BoxMeasure.peak``) of the darkest marked box of the page's other fields with a mark.
# Measured 2026-12-07 on 1,000 pages (20 conditions of scan_accuracy.py, 30 pages each; ten adversarial
# conditions, 40 each): what a rubber left, 0.52-0.57; of 3,075 ticks and crosses read unflagged, one under 0.7
# (0.697, a 3 MP photo with rolling-shutter wobble) and none under 0.65 but for a pen that skips over half its
# strokes (4), beside 13 under 0.65 flagged already for something else; light pencil ticks on pages of pen
# marks, most under 0.7, most of them flagged as faint already
FAINTER_SHARE = 0.65
# other fields with a mark to judge by: one, as a page may be mostly rubbed out (a K10 page of eight rows
# rubbed out had one other row marked: two ticks, a double mark)
FAINTER_MIN_FIELDS = 1

RAW_FAINTER = "fainter"


def flag_fainter_marks(values: list[FieldValue], states: list[list[tuple[Mark, float]]],
                       measures: list[list[BoxMeasure]]) -> None:
    """Flag each choice value, in place, whose answer's marked boxes are under ``FAINTER_SHARE`` as dark as
    the person's marks in the page's other fields. ``values``, ``states`` (as resolved, light marks read as
    marks) and ``measures``: the page's choice fields in view, in one order."""
    darkest = [_darkest_mark(s, m) for s, m in zip(states, measures, strict=True)]
    for k, (value, field_states, field_measures) in enumerate(zip(values, states, measures, strict=True)):
        others = [peak for j, peak in enumerate(darkest) if j != k and peak is not None]
        if len(others) < FAINTER_MIN_FIELDS or not value.value:
            continue
        reference = statistics.median(others)
        chosen = [m.peak for (state, _), m in zip(field_states, field_measures, strict=True) if state is Mark.MARKED]
        if chosen and min(chosen) < FAINTER_SHARE * reference:
            value.raw[RAW_FAINTER] = {"peak": round(min(chosen), 3), "others": round(reference, 3)}
            if not value.needs_review:
                flag_for_review(value, "marked far more faintly than the other answers on the page: rubbed out, "
                                       "or a light mark?")


def _darkest_mark(states: list[tuple[Mark, float]], measures: list[BoxMeasure]) -> float | None:
    peaks = [m.peak for (state, _), m in zip(states, measures, strict=True) if state is Mark.MARKED]
    return max(peaks) if peaks else None
