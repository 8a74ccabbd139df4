"""A tick or cross in one box, then an arrow drawn from it along the row to another box: the mind changed. The
arrow's straight shaft was taken out of the ink as a rule would be, and the first box read as the answer at
confidence 1.0, unflagged (2026-12-07). Such a row goes to review, the arrow's place kept; ticks that overshoot
their box, crosses drawn large, a ruler's line under a row and a line struck through a box are read as before."""

from __future__ import annotations

import json
import random

import pytest

from formkit.layout import build_layout
from formkit.template import resolve_template
from scanner.arrows import RAW_ARROW
from tests.synthetic import _Pen, degrade_scan, draw_mark, draw_mark_beside
from tests.test_light_marks import values_of
from tests.test_scan import DPI, option_box, printed, read

K10 = build_layout(resolve_template("k10")).pages[0]
GOAL_CARD = build_layout(resolve_template("goal-card")).pages[1]


def arrow(image, field: str, first: int, target: int, *, from_mark: bool, arched: bool = False,
          short_mm: float = 0.8, pen: str = "black", page=K10) -> None:
    """An arrow in ``field``'s row (of ``page``) from the box of ``first`` (from its middle, or from its border) to
    ``short_mm`` before the box of ``target``: a straight level shaft, or arched 2 mm over the boxes; its head a V
    of 1.5 mm."""
    a, b = option_box(page, field, first), option_box(page, field, target)
    way = 1 if b.x_mm > a.x_mm else -1
    y = a.y_mm + a.h_mm / 2
    x0 = a.x_mm + a.w_mm / 2 if from_mark else a.x_mm + a.w_mm * (way > 0)
    x1 = (b.x_mm if way > 0 else b.x_mm + b.w_mm) - way * short_mm
    p = _Pen(image, DPI, pen, 0.4)
    if arched:
        rise = a.h_mm / 2 + 2.0
        points = [(x0 + (x1 - x0) * t, y - rise * 4 * t * (1 - t)) for t in [k / 20 for k in range(21)]]
    else:
        points = [(x0, y), (x1, y + 0.2)]
    p.stroke(points)
    tip = points[-1]
    back = -way * 1.5
    p.stroke([(tip[0] + back * 0.8, tip[1] - 0.9), tip, (tip[0] + back * 0.8, tip[1] + 0.9)])


def k10_page(tmp_path, arrows: dict[str, tuple[int, int, bool, bool]], seed: int = 4, extra=None):
    """A K10 page, each row ticked or crossed (row k in box 1 + k % 5, or the first box of ``arrows``' rows), and
    the arrows of ``arrows`` (first box, target, from the mark, arched) drawn; ``extra(image)`` draws more."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(seed)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        value = arrows[field][0] if field in arrows else 1 + k % 5
        draw_mark(image, DPI, option_box(K10, field, value), rng.choice(["tick", "cross"]), rng)
    for field, (first, target, from_mark, arched) in arrows.items():
        arrow(image, field, first, target, from_mark=from_mark, arched=arched)
    if extra is not None:
        extra(image)
    return values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))


@pytest.mark.parametrize(("from_mark", "arched"), [(False, False), (True, True)])
def test_a_mark_with_an_arrow_to_another_box_of_its_row_goes_to_review(tmp_path, from_mark, arched):
    values = k10_page(tmp_path, {"k10_03": (2, 4, from_mark, arched), "k10_07": (5, 4, from_mark, arched),
                                 "k10_09": (4, 1, from_mark, arched)})
    for field, first, target in (("k10_03", "2", "4"), ("k10_07", "5", "4"), ("k10_09", "4", "1")):
        value = values[field]
        assert value.needs_review, (field, value.value, value.confidence)
        if RAW_ARROW in value.raw:  # (or flagged already for the arrow's head at the other box)
            assert value.raw[RAW_ARROW]["from"] == first and value.raw[RAW_ARROW]["towards"] == target
            assert json.loads(json.dumps(value.raw[RAW_ARROW]))["end_mm"] == value.raw[RAW_ARROW]["end_mm"]
            assert f"an arrow from option {first} towards option {target}" in value.reason
    assert any(RAW_ARROW in values[field].raw for field in ("k10_03", "k10_07", "k10_09"))
    for k in (1, 2, 4, 5, 6, 8, 10):
        assert not values[f"k10_{k:02d}"].needs_review, (k, values[f"k10_{k:02d}"].reason)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_ticks_and_crosses_are_no_arrows(tmp_path, seed):
    values = k10_page(tmp_path, {}, seed=seed)
    for k in range(1, 11):
        value = values[f"k10_{k:02d}"]
        assert value.value == str(1 + k % 5) and not value.needs_review, (k, value.reason)


def test_long_ticks_a_ruler_s_line_under_a_row_and_a_fold_along_one_are_no_arrows(tmp_path):
    def more(image):
        rng = random.Random(9)
        for k in (2, 5):  # a tick twice its box's size, its tail far out
            draw_mark_beside(image, DPI, option_box(K10, f"k10_{k:02d}", 1 + k % 5), "long", rng)
        first, last = option_box(K10, "k10_06", 1), option_box(K10, "k10_06", 5)
        _Pen(image, DPI, "blue", 0.35).stroke([(first.x_mm - 8, first.y_mm + first.h_mm + 0.4),
                                               (last.x_mm + last.w_mm + 6, last.y_mm + last.h_mm + 0.7)])
        first, last = option_box(K10, "k10_09", 1), option_box(K10, "k10_09", 5)
        _Pen(image, DPI, "pencil", 0.3).stroke([(first.x_mm - 3, first.y_mm + 2.4), (last.x_mm + 9, last.y_mm + 2.6)])
    values = k10_page(tmp_path, {}, extra=more)
    for k in range(1, 11):
        assert RAW_ARROW not in values[f"k10_{k:02d}"].raw, (k, values[f"k10_{k:02d}"].reason)


def test_an_arrow_to_the_next_box_of_a_goal_card_s_row_goes_to_review(tmp_path):
    """A goal card's boxes are 1.24 mm apart: an arrow to the next box is a stroke across the gap and a head, with
    no shaft to see, or an arc dipping between the boxes' printed numbers, and the row was read as the first box
    unflagged (2026-12-07: 111-114 of 120 such rows a capture). A tick twice its box's size and a cross beside a
    neighbour are read as before."""
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    rng = random.Random(5)
    draw_mark(image, DPI, option_box(GOAL_CARD, "progress_1", 3), "tick", rng)
    arrow(image, "progress_1", 3, 4, from_mark=False, short_mm=0.2, page=GOAL_CARD)
    a, b = option_box(GOAL_CARD, "progress_2", 7), option_box(GOAL_CARD, "progress_2", 6)
    draw_mark(image, DPI, a, "cross", rng)
    # from the box's left side down, 2.5 mm under the boxes between their numbers, and up onto 6's bottom
    (x0, y0), (x1, y1), deep = (a.x_mm - 0.2, a.y_mm + 2.4), (b.x_mm + 2.1, b.y_mm + b.h_mm + 0.3), 2.5
    control = ((x0 + x1) / 2, 2 * (a.y_mm + a.h_mm + deep) - (y0 + y1) / 2)
    pen = _Pen(image, DPI, "black", 0.4)
    pen.stroke([((1 - t) ** 2 * x0 + 2 * t * (1 - t) * control[0] + t * t * x1,
                 (1 - t) ** 2 * y0 + 2 * t * (1 - t) * control[1] + t * t * y1) for t in [k / 20 for k in range(21)]])
    pen.stroke([(x1 - 0.8, y1 + 1.2), (x1, y1), (x1 + 0.8, y1 + 1.2)])
    draw_mark_beside(image, DPI, option_box(GOAL_CARD, "progress_3", 5), "long", rng)
    draw_mark(image, DPI, option_box(GOAL_CARD, "progress_4", 2), "cross", rng)
    values = values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))
    for field, first, target in (("progress_1", "3", "4"), ("progress_2", "7", "6")):
        value = values[field]
        assert value.needs_review and RAW_ARROW in value.raw, (field, value.value, value.reason)
        assert value.raw[RAW_ARROW]["from"] == first and value.raw[RAW_ARROW]["towards"] == target
    for field, meant in (("progress_3", "5"), ("progress_4", "2")):
        assert values[field].value == meant and not values[field].needs_review, (field, values[field].reason)


@pytest.mark.parametrize("depth_mm", [3.0, 4.0])
def test_an_arc_under_a_goal_card_s_row_through_its_printed_numbers_goes_to_review(tmp_path, depth_mm):
    """An arc from a cross in the last box under the boxes between to the box meant, 4 boxes back: the printed
    numbers under the boxes and their margins cut it into pieces 3.4-3.7 mm apart, none long enough alone, and the
    row was read as the first box unflagged (2026-12-07, unusual_marks.py *moved*: seed 27's progress_4 in each
    capture). The piece leaving the box is followed on across the print, the way it runs."""
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    a, b = option_box(GOAL_CARD, "progress_4", 10), option_box(GOAL_CARD, "progress_4", 6)
    draw_mark(image, DPI, a, "cross", random.Random(5))
    (x0, y0), (x1, y1) = (a.x_mm + a.w_mm / 2, a.y_mm + a.h_mm / 2), (b.x_mm + b.w_mm / 2, b.y_mm + b.h_mm + 0.3)
    control = ((x0 + x1) / 2, 2 * (a.y_mm + a.h_mm + depth_mm) - (y0 + y1) / 2)
    pen = _Pen(image, DPI, "black", 0.4)
    pen.stroke([((1 - t) ** 2 * x0 + 2 * t * (1 - t) * control[0] + t * t * x1,
                 (1 - t) ** 2 * y0 + 2 * t * (1 - t) * control[1] + t * t * y1) for t in [k / 23 for k in range(24)]])
    pen.stroke([(x1 - 0.8, y1 + 1.2), (x1, y1), (x1 + 0.8, y1 + 1.2)])
    value = values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))["progress_4"]
    assert value.needs_review and RAW_ARROW in value.raw, (value.value, value.reason)
    assert value.raw[RAW_ARROW]["from"] == "10" and value.raw[RAW_ARROW]["towards"] == "6"
