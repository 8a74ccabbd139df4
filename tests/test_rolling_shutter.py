"""A phone's rolling shutter shifts rows of the photo sideways, fields and markers alike, so registration can
put a field's boxes 1-2 mm off their printed outlines, beyond the 1 mm a bent page needs: each box's own
border then lay inside the area read for ink, and every box of such rows read as marked (scan_accuracy.py's
photo3wobble, 2026-12-07). Such a field is looked for again further (``placement.WIDE_SNAP_MM``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box, field_boxes
from scanner import marks, placement
from tests.test_scan import DPI, assert_k10, marked_k10, read


@pytest.mark.parametrize("shift_mm", [(1.75, 0.0), (-2.0, 0.25), (0.0, 1.5)])
def test_a_row_shifted_beyond_the_first_search_is_found(shift_mm):
    """Five boxes drawn 1.5-2 mm from where registration puts them (along the row, or across it on a page
    photographed sideways): found there, all four sides on their lines, and no border inside a box."""
    px_per_mm = 8.0
    page = np.full((240, 900), 235, np.uint8)
    boxes = [Box(10 + 12 * k, 10, 5, 5) for k in range(5)]
    for box in boxes:
        x, y = (box.x_mm + shift_mm[0]) * px_per_mm, (box.y_mm + shift_mm[1]) * px_per_mm
        cv2.rectangle(page, (round(x), round(y)), (round(x + 40), round(y + 40)), 40, 2)
    page = cv2.GaussianBlur(page, (0, 0), 1.0)
    offsets, strengths = placement.placed_boxes(page, boxes, px_per_mm)
    assert all(abs(dx - shift_mm[0]) <= 0.125 and abs(dy - shift_mm[1]) <= 0.125 for dx, dy in offsets), offsets
    assert min(strengths) >= placement.OFF_OUTLINE
    assert "row" in placement.outlines_found(page, {"row": (boxes, offsets)}, box_contrast=190.0)
    measured = marks.measure_boxes(page, [placement.moved(b, o) for b, o in zip(boxes, offsets, strict=True)],
                                   px_per_mm)
    assert all(m.coverage == 0 for m in measured)


def test_rows_shifted_between_the_markers_are_read(tmp_path):
    """A marked K10 page whose rows between its markers lie 1.75 mm to the right, as a phone moving sideways
    while its shutter ran down the page leaves them, its markers where they were: read as an unshifted page is
    (before, the rows' boxes were measured 0.75 mm off at best and their borders read as marks)."""
    image, page, serial = marked_k10(tmp_path)
    px_per_mm = DPI / 25.4
    tops = [b.y_mm for f in page.fields for b in field_boxes(f)]
    bottoms = [b.y_mm + b.h_mm for f in page.fields for b in field_boxes(f)]
    top, bottom = int((min(tops) - 4) * px_per_mm), int((max(bottoms) + 4) * px_per_mm)
    shift = round(1.75 * px_per_mm)
    image = image.copy()
    image[top:bottom, shift:] = image[top:bottom, :-shift].copy()
    assert_k10(read(image), serial)
