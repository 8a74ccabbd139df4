"""Print faded in a band of a page copied in black and white: a mark in the band is dropped whole, and the
row read blank, sure of it (an adversarial pass, 2026-12-07: a K10-like page copied on a copier low on toner,
then as a 1-bit copy). Rows with a box in the band go to review; a 1-bit copy printed well, and the faded copy
scanned in grey (its marks still there), flag nothing for it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scanner.faded_print import RAW_FADED
from tests.synthetic import degrade_scan, draw_mark
from tests.test_fainter_marks import K10
from tests.test_light_marks import values_of
from tests.test_scan import DPI, option_box, printed, read

# of the darkness left in the band's middle: the print stays (just) under the copier's threshold, the ticks not
FADE = 0.48
BAND_ROWS = ("k10_02", "k10_05", "k10_08")  # ticked in the faded column; the other rows ticked outside it


def k10_copy(tmp_path, fade: float, one_bit: bool, seed: int = 5):
    """A K10 page ticked in blue ballpoint, the column of option 2 faded to ``fade`` of its darkness (a copier
    low on toner: a soft band down the page), scanned in grey or as a 1-bit copy."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(seed)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        draw_mark(image, DPI, option_box(K10, field, 2 if field in BAND_ROWS else 4 + k % 2), "tick", rng, "blue")
    column = option_box(K10, "k10_01", 2)
    centre_px = (column.x_mm + column.w_mm / 2) * DPI / 25.4
    xs = np.arange(image.shape[1], dtype=np.float32)
    left = 1 - (1 - fade) * np.exp(-(((xs - centre_px) / (6 * DPI / 25.4)) ** 2))
    image = (255 - (255 - image.astype(np.float32)) * left[None, :, None]).clip(0, 255).astype(np.uint8)
    return values_of(read(degrade_scan(image, DPI, random.Random(seed), out_dpi=DPI, one_bit=one_bit)))


def test_rows_whose_box_lies_in_a_faded_band_of_a_1_bit_copy_go_to_review(tmp_path):
    values = k10_copy(tmp_path, FADE, one_bit=True)
    for field in BAND_ROWS:
        value = values[field]
        assert value.needs_review and value.value in ("", "2"), (field, value.value, value.reason)
    faded = [f for f, v in values.items() if RAW_FADED in v.raw]
    assert set(BAND_ROWS) <= set(faded), faded
    assert any("faded" in values[f].reason for f in BAND_ROWS)


@pytest.mark.parametrize(("fade", "one_bit"), [(1.0, True), (FADE, False)])
def test_a_1_bit_copy_printed_well_and_a_faded_copy_in_grey_flag_nothing_for_it(tmp_path, fade, one_bit):
    values = k10_copy(tmp_path, fade, one_bit)
    assert not [f for f, v in values.items() if RAW_FADED in v.raw]
    for field in BAND_ROWS:
        assert values[field].value == "2", (field, values[field].value, values[field].reason)
