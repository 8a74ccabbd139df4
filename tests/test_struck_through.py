"""A tick or cross struck through with a straight line across its box, running on past both sides, and nothing
else in the row: an answer taken back, read as that answer at confidence 1.0 unflagged (a find-only pass,
2026-12-07). Such a row goes to review; ticks and crosses that overshoot their box, crosses drawn large and
marks struck through beside another box ticked are read as before."""

from __future__ import annotations

import random

import pytest

from formkit.layout import build_layout
from formkit.template import resolve_template
from scanner.struck_through import RAW_STRUCK_THROUGH
from tests.synthetic import _Pen, degrade_scan, draw_mark
from tests.test_light_marks import values_of
from tests.test_scan import DPI, option_box, printed, read

K10 = build_layout(resolve_template("k10")).pages[0]


def strike(image, field: str, value: int, past_mm: float, lines: int = 1, slant_mm: float = 0.3) -> None:
    """One or two straight lines through the box of ``field``'s ``value``, level with the row, from
    ``past_mm`` left of it to ``past_mm`` right of it, its right end ``slant_mm`` lower."""
    box = option_box(K10, field, value)
    pen = _Pen(image, DPI, "black", 0.4)
    for k in range(lines):
        y = box.y_mm + box.h_mm * 0.5 + (k - 0.5) * 1.2 * (lines == 2)
        pen.stroke([(box.x_mm - past_mm, y), (box.x_mm + box.w_mm + past_mm, y + slant_mm)])


def big_cross(image, field: str, value: int, past_mm: float) -> None:
    """A cross drawn large over the box of ``field``'s ``value``: its arms ``past_mm`` past two corners each."""
    box = option_box(K10, field, value)
    pen = _Pen(image, DPI, "black", 0.45)
    x0, y0 = box.x_mm - past_mm, box.y_mm - past_mm
    x1, y1 = box.x_mm + box.w_mm + past_mm, box.y_mm + box.h_mm + past_mm
    pen.stroke([(x0, y0), (x1, y1)])
    pen.stroke([(x1, y0), (x0, y1)])


def k10_page(tmp_path, marks: dict[str, tuple[int, str]], struck: dict[str, tuple[int, float, int]], seed: int = 4,
             crossed: dict[str, tuple[int, float]] | None = None, also: dict[str, int] | None = None):
    """A K10 page: each row ticked or crossed (``marks``: value and style, else a tick in a row's own box), and
    the rows of ``struck`` (value, how far past the box, lines) struck through there."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(seed)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        value, style = marks.get(field, (1 + k % 5, rng.choice(["tick", "cross"])))
        draw_mark(image, DPI, option_box(K10, field, value), style, rng)
    for field, (value, past_mm, lines) in struck.items():
        strike(image, field, value, past_mm, lines)
    for field, (value, past_mm) in (crossed or {}).items():
        big_cross(image, field, value, past_mm)
    for field, value in (also or {}).items():  # the answer given instead
        draw_mark(image, DPI, option_box(K10, field, value), "tick", rng)
    return values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))


@pytest.mark.parametrize(("past_mm", "lines"), [(0.5, 1), (1.5, 1), (3.0, 1), (0.5, 2), (2.0, 2)])
def test_a_tick_or_cross_struck_through_alone_in_its_row_goes_to_review(tmp_path, past_mm, lines):
    values = k10_page(tmp_path, {"k10_03": (4, "tick"), "k10_07": (2, "cross")},
                      {"k10_03": (4, past_mm, lines), "k10_07": (2, past_mm, lines)})
    for field, option in (("k10_03", "4"), ("k10_07", "2")):
        value = values[field]
        assert value.needs_review, (field, value.value, value.confidence)
        if RAW_STRUCK_THROUGH in value.raw:
            assert "struck through" in value.reason
            assert min(value.raw[RAW_STRUCK_THROUGH][option]) > 0
    for k in (1, 2, 4, 5, 6, 8, 9, 10):
        assert not values[f"k10_{k:02d}"].needs_review, values[f"k10_{k:02d}"].reason


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_ticks_and_crosses_overshooting_their_boxes_are_read_as_before(tmp_path, seed):
    values = k10_page(tmp_path, {}, {}, seed=seed)
    for k in range(1, 11):
        value = values[f"k10_{k:02d}"]
        assert value.value == str(1 + k % 5) and RAW_STRUCK_THROUGH not in value.raw, (k, value.reason)


@pytest.mark.parametrize("past_mm", [0.3, 0.8, 1.5])
def test_a_cross_drawn_large_past_the_box_s_corners_is_no_strike(tmp_path, past_mm):
    """Over a row's tick (an answer crossed out) or alone: an X is a mark of its own, not a line struck through."""
    values = k10_page(tmp_path, {"k10_05": (3, "tick")}, {},
                      crossed={"k10_05": (3, past_mm), "k10_08": (1 + 8 % 5, past_mm)})
    for k in range(1, 11):
        assert RAW_STRUCK_THROUGH not in values[f"k10_{k:02d}"].raw, (k, values[f"k10_{k:02d}"].reason)


def test_a_strike_through_beside_another_box_ticked_is_still_flagged(tmp_path):
    """The answer changed: a tick struck through, another box ticked. Flagged as before (two marks in the row)."""
    values = k10_page(tmp_path, {"k10_03": (4, "tick")}, {"k10_03": (4, 1.5, 1)}, also={"k10_03": 2})
    assert values["k10_03"].needs_review, (values["k10_03"].value, values["k10_03"].confidence)
