"""A tick in light pencil, under a trace of ink, in a row read blank: the row goes to review, not read blank at
confidence 1.0. Rows left blank, on a scan or in a shaded photo, flag nothing."""

from __future__ import annotations

import random

import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.template import resolve_template
from tests.synthetic import degrade_photo, degrade_scan, draw_mark
from tests.test_light_marks import tick, values_of
from tests.test_scan import DPI, option_box, printed, read

K10 = build_layout(resolve_template("k10")).pages[0]


def k10_image(tmp_path, light: dict[str, tuple[int, int]], blank: tuple[str, ...] = ()) -> np.ndarray:
    """A K10 page ticked in black pen, one box a row; each row of ``light`` (value, grey) ticked in pencil that
    light instead, each row of ``blank`` left blank."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(4)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        if field in light:
            value, grey = light[field]
            tick(image, option_box(K10, field, value), (grey, grey, grey + 2))
        elif field not in blank:
            draw_mark(image, DPI, option_box(K10, field, 1 + k % 5), "tick", rng, "black")
    return image


@pytest.mark.parametrize("grey", [195, 200, 205])
def test_a_tick_in_light_pencil_in_a_row_read_blank_goes_to_review(tmp_path, grey):
    image = k10_image(tmp_path, {"k10_03": (4, grey), "k10_08": (2, grey)}, blank=("k10_05",))
    values = values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))
    for field, option in (("k10_03", "4"), ("k10_08", "2")):
        value = values[field]
        assert value.needs_review, (field, value.value, value.confidence, value.raw.get("darkness"))
        if not value.value:  # read blank: the reason names the box (a faint mark, or a very light stroke)
            assert f"in option(s) {option}" in value.reason, value.reason
    assert values["k10_05"].value == "" and not values["k10_05"].needs_review


@pytest.mark.parametrize("capture", ["scan", "photo"])
def test_rows_left_blank_flag_nothing(tmp_path, capture):
    blank = tuple(f"k10_{k:02d}" for k in (2, 4, 5, 7, 9))
    image = k10_image(tmp_path, {}, blank=blank)
    rng = random.Random(8)
    # a 12 MP photo: under 5 px/mm (an A4 page's 2-3 MP photo) strokes this light are not looked for
    captured = degrade_scan(image, DPI, rng, out_dpi=DPI) if capture == "scan" else degrade_photo(
        image, rng, frame_px=(4000, 3000))
    values = values_of(read(captured))
    for field in blank:
        assert values[field].value == "" and not values[field].needs_review, (field, values[field].reason)
