"""Correction fluid or tape over a tick, another box ticked: the row reads as that tick, unflagged, the painted
box kept in ``raw``; a row painted and nothing else ticked, or a box under a note or a label, stays flagged."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.records import FieldValue
from formkit.template import resolve_template
from tests.synthetic import NOTE_COLOURS, degrade_scan, draw_mark
from tests.test_scan import DPI, option_box, printed, read

SCALE = DPI / 25.4


def paint(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], edge_alpha: float) -> None:
    """``mask`` (0-1) laid over ``image`` in ``colour``, its outline darkened by ``edge_alpha`` of black first
    (the raised, slightly grey edge of dried correction fluid or of a sheet's shadow)."""
    edge = cv2.GaussianBlur(cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)), (0, 0), 0.6)
    image[:] = (image * (1 - edge_alpha * edge[..., None])).astype(np.uint8)
    image[:] = (image * (1 - mask[..., None]) + np.array(colour) * mask[..., None]).astype(np.uint8)


def fluid(image: np.ndarray, box: Box, radius_mm: float, rng: random.Random) -> None:
    """A blob of correction fluid (an uneven disc ``radius_mm`` across) over the middle of ``box``."""
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    points = [((cx + radius_mm * (1 + rng.uniform(-0.1, 0.1)) * math.cos(2 * math.pi * k / 24)) * SCALE,
               (cy + radius_mm * (1 + rng.uniform(-0.1, 0.1)) * math.sin(2 * math.pi * k / 24)) * SCALE)
              for k in range(24)]
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.array(points, np.int32)], 1.0)
    paint(image, mask, (250, 250, 250), 0.2)


def patch(image: np.ndarray, x_mm: float, y_mm: float, w_mm: float, h_mm: float, colour: tuple[int, int, int]
          ) -> None:
    """A rectangle laid on the page (a strip of correction tape, a label, a note), its edge a little grey."""
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.rectangle(mask, (int(x_mm * SCALE), int(y_mm * SCALE)), (int((x_mm + w_mm) * SCALE),
                                                                 int((y_mm + h_mm) * SCALE)), 1.0, -1)
    paint(image, mask, colour, 0.2)


def k10_rows(tmp_path, cover, tick_other: bool = True, rest_in_view: bool = True) -> dict[str, FieldValue]:
    """A K10 page, every row ticked (row k in option 1 + k % 5); in row 4, a tick in option 2 that ``cover``
    (image, box of option 2) then covers, and (``tick_other``) option 4 ticked. Scanned at 300 dpi. With
    ``rest_in_view``, the other rows are checked to read right, unflagged."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(4)
    for k in (1, 2, 3, 5, 6, 7, 8, 9, 10):
        draw_mark(image, DPI, option_box(page, f"k10_{k:02d}", 1 + k % 5), "tick", rng, "black")
    covered = option_box(page, "k10_04", 2)
    draw_mark(image, DPI, covered, "tick", rng, "black")
    cover(image, covered)
    if tick_other:
        draw_mark(image, DPI, option_box(page, "k10_04", 4), "tick", rng, "black")
    result = read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI))
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    for k in (1, 2, 3, 5, 6, 7, 8, 9, 10) if rest_in_view else ():
        field = values[f"k10_{k:02d}"]
        assert field.value == str(1 + k % 5) and not field.needs_review, field
    return values


@pytest.mark.parametrize("cover", [
    lambda image, box: fluid(image, box, 4.2, random.Random(1)),
    lambda image, box: patch(image, box.x_mm - 6, box.y_mm + 0.4, 14, 5, (250, 250, 250)),
], ids=["fluid", "tape"])
def test_a_tick_painted_out_and_another_ticked_reads_as_the_other(tmp_path, cover):
    """Before 2026-12-07 the row was flagged ("part of the print of option(s) 2 does not show: a page, a
    note or a finger over it?"): 158 of 429 fields of the fifth pass's whiteout pages so. It reads 4,
    unflagged; the painted box is kept in ``raw``, with what the print rules found."""
    row = k10_rows(tmp_path, cover)["k10_04"]
    assert row.value == "4" and not row.needs_review, row
    assert row.raw["whited_out"] == ["2"]
    assert "2" in row.raw.get("hidden", []) + row.raw.get("washed_out", [])


def test_a_tick_painted_out_and_nothing_else_stays_flagged(tmp_path):
    """Nothing else ticked: the paint may cancel the only answer, or hide it; a reviewer looks."""
    row = k10_rows(tmp_path, lambda image, box: fluid(image, box, 4.2, random.Random(1)), tick_other=False)["k10_04"]
    assert row.value == "" and row.needs_review, row
    assert "whited_out" not in row.raw


@pytest.mark.parametrize("cover", [
    lambda image, box: patch(image, box.x_mm - 20, box.y_mm + 2.0, 24, 24, (250, 250, 250)),  # a white label
    lambda image, box: patch(image, box.x_mm + 2.0, box.y_mm - 30, 38, 38, NOTE_COLOURS["yellow"]),
], ids=["label", "note"])
def test_a_box_under_a_label_or_a_note_stays_flagged_beside_a_tick(tmp_path, cover):
    """A label or a sticky note over part of option 2 (and its tick), option 4 ticked: what lies under the
    cover is not known (a second tick?); the row stays flagged."""
    row = k10_rows(tmp_path, cover, rest_in_view=False)["k10_04"]
    assert row.needs_review, row
    assert "whited_out" not in row.raw


def glare_spot(image: np.ndarray, box: Box, radius_mm: float) -> None:
    """A small spot of a lamp's light over the middle of ``box``: a disc ``radius_mm`` across, its edge soft,
    where 250 grey levels are added, clipped to white, so that a mark and the print under it are all but gone."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (box.x_mm + box.w_mm / 2) * SCALE, (box.y_mm + box.h_mm / 2) * SCALE
    distance_mm = np.hypot(xs - cx, ys - cy) / SCALE
    light = 250 * np.clip((radius_mm + 0.5 - distance_mm) / 1.0, 0, 1)
    image[:] = np.clip(image + light[..., None], 0, 255).astype(np.uint8)


def test_a_small_glare_spot_over_one_box_beside_a_tick_stays_flagged(tmp_path):
    """White like paint and as small (8 mm across), but light: it washed out option 2's print and the tick in it,
    which may be a second mark, as the glare flag says; read as option 4 unflagged, as correction fluid, for an
    hour on 2026-12-07."""
    row = k10_rows(tmp_path, lambda image, box: glare_spot(image, box, 4.0), rest_in_view=False)["k10_04"]
    assert row.needs_review, row
    assert "whited_out" not in row.raw
