"""A respondent who writes the option's number in the chosen box instead of ticking it: a "1" written in box 1
is one straight stroke across the box, as the box's own border lies in it when the box is measured off its
place. Where the box's outline shows clearly where it was measured, the stroke is read as the mark."""

from __future__ import annotations

import random

import pytest

from formkit.layout import build_layout
from formkit.layout.model import ChoiceField
from formkit.template import resolve_template
from scanner.marks import BoxMeasure, Mark
from scanner.resolve import resolve_choice
from tests.synthetic import degrade_scan, draw_digit, load_digits
from tests.test_handwriting import DIGITS
from tests.test_scan import DPI, option_box, printed, read


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_one_written_in_box_one_reads_as_option_one(tmp_path, seed):
    """K10 rows 1-5 answered by writing the option's number in its box (1, 2, 3, 4, 5 in rows 1-5), scanned
    at 300 dpi. Before 2026-12-07 row 1 was flagged: "option(s) 1 not measured on the printed box (a bent or
    distorted photo?)" (30 of 430 fields of the fifth pass's inbox pages). It reads 1, unflagged."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    digits = load_digits(DIGITS)
    rng = random.Random(seed)
    for row in range(1, 6):
        draw_digit(image, DPI, option_box(page, f"k10_{row:02d}", row), rng.choice(digits[row]), rng, "black",
                   height=(0.7, 1.0), place="centre")
    result = read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI))
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    for row in range(1, 6):
        field = values[f"k10_{row:02d}"]
        assert field.value == str(row) and not field.needs_review, field


def _line_only(field: ChoiceField, on_outlines: bool):
    """``field``'s first option read as marked, its ink one straight line across the box; the rest empty."""
    line = BoxMeasure(coverage=0.15, darkness=0.15, contrast=180.0, hole=0.5, weak=0.2, line_across=True)
    empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=180.0, hole=0.0, weak=0.0)
    rest = len(field.options) - 1
    return resolve_choice(field, [(Mark.MARKED, 1.0)] + [(Mark.EMPTY, 1.0)] * rest, [line] + [empty] * rest,
                          on_outlines=on_outlines)


def test_a_line_across_a_box_is_its_border_unless_the_box_lies_on_its_outline():
    """Only a straight line across the box: flagged (its own border, the box measured off its place?) unless
    every box of its field shows its outline all round where it was measured (``on_outlines``)."""
    field = next(f for f in build_layout(resolve_template("k10")).pages[0].fields if isinstance(f, ChoiceField))
    flagged = _line_only(field, on_outlines=False)
    assert flagged.needs_review and flagged.raw["off_outline"] == [str(field.options[0].value)]
    read_as_mark = _line_only(field, on_outlines=True)
    assert read_as_mark.value == str(field.options[0].value) and not read_as_mark.needs_review
