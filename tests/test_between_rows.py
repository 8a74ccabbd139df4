"""A tick or a cross placed half a row off, astride the gap between a row's box and the box under it in the next
row, may answer either row: both go to review, the mark's place recorded. Before 2026-12-07 the row meant read
blank, or the other row read the mark, unflagged. A page of ordinary marks, a long tick among them, is not
flagged for it."""

from __future__ import annotations

import random

import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.template import resolve_template
from scanner.between_rows import RAW_BETWEEN_ROWS
from tests.synthetic import draw_mark, draw_mark_beside, draw_mark_between_rows
from tests.test_beside import k10_page, read_values
from tests.test_scan import DPI, option_box, printed


def half_a_row_off(box: Box, other: Box, share: float) -> Box:
    """``box`` moved ``share`` of the way towards ``other``."""
    return Box(box.x_mm + share * (other.x_mm - box.x_mm), box.y_mm + share * (other.y_mm - box.y_mm), box.w_mm,
               box.h_mm)


@pytest.mark.parametrize(("style", "pen", "share", "photo"), [("cross", "black", 0.45, False),
                                                              ("tick", "blue", 0.5, False),
                                                              ("tick", "pencil", 0.4, True)])
def test_a_mark_astride_two_rows_flags_both(tmp_path, style, pen, share, photo):
    """Row 4 answered half a row low, in the fifth column, astride the gap to row 5 (which holds its own tick in
    the first): both rows flagged, the rest not."""
    image, page = k10_page(tmp_path, blank_rows=(4,), pen=pen)
    meant, under = option_box(page, "k10_04", 5), option_box(page, "k10_05", 5)
    draw_mark(image, DPI, half_a_row_off(meant, under, share), style, random.Random(2), pen)
    values = read_values(image, photo)
    for field, other, side in (("k10_04", "k10_05", "below"), ("k10_05", "k10_04", "above")):
        row = values[field]
        assert row.needs_review and f"row {side} ({other})" in row.reason, row
        assert row.raw[RAW_BETWEEN_ROWS][0]["other_field"] == other
        assert row.raw[RAW_BETWEEN_ROWS][0]["option"] == "5", row.raw
        y_mm = row.raw[RAW_BETWEEN_ROWS][0]["at_mm"][1]
        assert meant.y_mm + meant.h_mm / 2 < y_mm < under.y_mm + under.h_mm / 2
    for field in ("k10_02", "k10_03", "k10_06", "k10_07"):
        assert not values[field].needs_review, values[field]


def test_the_last_rows_mark_astride_the_gap_above(tmp_path):
    """The last row's mark half a row high: it and the row above are flagged."""
    image, page = k10_page(tmp_path, blank_rows=(10,))
    draw_mark_between_rows(image, DPI, option_box(page, "k10_10", 2), option_box(page, "k10_09", 2),
                           random.Random(3))
    values = read_values(image)
    for field in ("k10_09", "k10_10"):
        assert values[field].needs_review and RAW_BETWEEN_ROWS in values[field].raw, values[field]


@pytest.mark.parametrize("photo", [False, True])
def test_ordinary_marks_and_a_long_tick_are_not_between_rows(tmp_path, photo):
    """Ticks, crosses and fills in their boxes, their arms over the borders, and a long tick whose tail runs up
    past the row above: none is taken for a mark between rows."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(8)
    for k in range(1, 11):
        box = option_box(page, f"k10_{k:02d}", 1 + k % 5)
        if k == 6:
            draw_mark_beside(image, DPI, box, "long", rng)
        else:
            draw_mark(image, DPI, box, ["tick", "cross", "fill"][k % 3], rng, ["black", "blue", "pencil"][k % 3])
    values = read_values(image, photo)
    assert not [v for v in values.values() if RAW_BETWEEN_ROWS in v.raw]
    assert values["k10_06"].value == "2" and not values["k10_06"].needs_review, values["k10_06"]
