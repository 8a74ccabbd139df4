"""The quicker ways of reading a page (2026-12-05) give what the ways they replaced gave, to the last bit: each
replaced way is kept here as first written (or, where it stays in use, called) and compared on random pages
of printed boxes, ink and noise."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box, ChoiceField, bounding_box, field_boxes
from formkit.template import resolve_template
from scanner import areas, beside, beside_ink, marks, placement, stains, washout
from scanner.ink import (
    INK_CONTRAST,
    LINE_THICKNESS_PERCENTILE,
    STROKE_MAX_MM,
    _beyond,
    below,
    percentile,
    stroke_ink,
    without_printed_lines,
)
from scanner.register import box_slices

PX_PER_MM = 8.0


def _page(seed: int, shape: tuple[int, int] = (200, 260)) -> tuple[np.ndarray, list[Box]]:
    """Uneven paper with noise, printed boxes (some over the page's edge), strokes, and grey patches laid over
    parts of them; and the boxes, in mm."""
    rng = np.random.default_rng(seed)
    paper = 200 + 40 * np.indices(shape)[0] / shape[0] + rng.normal(0, 6, shape)  # lighter towards the bottom
    page = np.clip(paper, 0, 255).astype(np.uint8)
    boxes = []
    for _ in range(12):
        w_mm, h_mm = rng.choice([rng.uniform(2, 8), 0.0]), rng.uniform(2, 8)
        x_mm, y_mm = rng.uniform(-2, shape[1] / PX_PER_MM - 2), rng.uniform(-2, shape[0] / PX_PER_MM - 2)
        boxes.append(Box(float(x_mm), float(y_mm), float(w_mm), float(h_mm)))
        corners = [int(round(v * PX_PER_MM)) for v in (x_mm, y_mm, x_mm + w_mm, y_mm + h_mm)]
        cv2.rectangle(page, corners[:2], corners[2:], int(rng.integers(0, 120)), int(rng.integers(1, 3)))
    for _ in range(6):
        start, end = rng.integers(0, shape[1], 2), rng.integers(0, shape[0], 2)
        cv2.line(page, (int(start[0]), int(end[0])), (int(start[1]), int(end[1])), int(rng.integers(0, 200)),
                 int(rng.integers(1, 4)))
    for _ in range(3):  # a note or a finger over part of the print
        x, y = rng.integers(0, shape[1]), rng.integers(0, shape[0])
        page[y:y + rng.integers(10, 60), x:x + rng.integers(10, 60)] = rng.integers(150, 256)
    return page, boxes


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("px_per_mm", [8.0, 3.0, 0.5])
def test_the_boxes_of_a_field_have_the_paper_and_border_levels_each_had_alone(seed, px_per_mm):
    page, boxes = _page(seed)
    assert marks.boxes_references(page, boxes, px_per_mm) == [_local_references(page, box, px_per_mm)
                                                               for box in boxes]


def _local_references(page: np.ndarray, box: Box, px_per_mm: float) -> tuple[float, float]:
    """``marks.local_references`` as first written, one box at a time."""
    outer = page[box_slices(box, marks.RING_MM[1], page.shape, px_per_mm)]
    ring, ring_size = marks._frame_histogram(outer, marks._ring_width_px(px_per_mm))
    white = marks.percentile_of_levels(ring, ring_size, 80) if ring_size else 255.0
    band = page[box_slices(box, marks.BORDER_BAND_MM, page.shape, px_per_mm)]
    edge, edge_size = marks._frame_histogram(band, max(1, int(round(2 * marks.BORDER_BAND_MM * px_per_mm))))
    return white, marks.percentile_of_levels(edge, edge_size, 10)


def test_percentiles_of_several_histograms_are_each_ones():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 4, (40, 256)) * (rng.random((40, 256)) < 0.2)
    counts[:2] = 0
    counts[1, 17] = 1  # one pixel
    totals = [int(c.sum()) for c in counts]
    qs = [int(q) for q in rng.choice([5, 10, 20, 80, 90], 40)]  # Python numbers, as the callers pass
    found = marks._percentiles_of_levels(counts, totals, qs)
    assert found[2:] == [marks.percentile_of_levels(c, n, q)
                         for c, n, q in zip(counts[2:], totals[2:], qs[2:], strict=True)]
    assert found[1] == 17.0


def test_below_is_numpys_comparison_with_the_float():
    image = np.arange(256, dtype=np.uint8).reshape(16, 16)
    levels = list(np.random.default_rng(5).uniform(-20, 280, 500)) + [0.0, 0.5, 178.5, 255.0, 255.5, 256.0, -0.5]
    for level in levels:
        assert np.array_equal(below(image, float(level)), image < float(level)), level


def _hidden_stretch_as_before(page: np.ndarray, part: Box, reference: float, px_per_mm: float):
    reach = max(1, int(round(washout.PARTLY_HIDDEN_REACH_MM * px_per_mm)))
    longest = (0, 0, 0.0)
    for image, across, start, stop in washout._outline_sides(page, part, px_per_mm):
        r, c0 = int(round(across)), max(0, int(round(start)))
        strip = image[max(0, r - reach):min(image.shape[0], r + reach + 1), c0:min(image.shape[1], int(round(stop)))]
        if strip.shape[0] < 2 or strip.shape[1] < 1:
            continue
        hidden = (strip.max(axis=0).astype(np.int16) - strip.min(axis=0)) < washout.PARTLY_HIDDEN_SHARE * reference
        if not hidden.any():
            continue
        run = washout._longest_run(hidden)
        if run[1] - run[0] > longest[1] - longest[0]:
            longest = (*run, c0 - start)
    first, last, shift = longest
    if (last - first) / px_per_mm < washout.PARTLY_HIDDEN_MM:
        return None
    return (first + shift) / px_per_mm, (last + shift) / px_per_mm


@pytest.mark.parametrize("seed", range(12))
def test_print_hidden_along_a_fields_outlines_is_found_as_part_by_part(seed):
    page, boxes = _page(seed)
    hidden_somewhere = 0
    for reference in (40.0, 150.0, 400.0, 1200.0):
        stretches = [washout.hidden_stretch(page, box, reference, PX_PER_MM) for box in boxes]
        assert stretches == [_hidden_stretch_as_before(page, box, reference, PX_PER_MM) for box in boxes]
        for parts in (boxes[:5], boxes[5:], boxes[:1], []):
            anywhere = washout._hidden_anywhere(page, parts, reference, PX_PER_MM)
            assert anywhere == any(
                (washout._print_hidden(strip, reference)).any()
                for part in parts for strip, _ in washout.outline_strips(page, part, PX_PER_MM))
            # nothing hidden anywhere: no part has a hidden stretch
            assert anywhere or all(_hidden_stretch_as_before(page, part, reference, PX_PER_MM) is None
                                   for part in parts)
            hidden_somewhere += anywhere
    assert hidden_somewhere  # both cases seen


def _dark_far_enough_as_before(region, ignored, in_boxes, edges_px, px_per_mm) -> bool:
    dark = (region < (1 - stains.LEAST_DARKNESS) * float(region.max())) & ~ignored
    top, bottom, left, right = edges_px
    slack_px = 3 * stains.NOISE_BLUR_MM * px_per_mm
    both, one = stains.BOTH_WAYS_MM * px_per_mm - slack_px, stains.ONE_WAY_MM * px_per_mm - slack_px
    column = slice(max(0, int(left - both)), max(0, int(right + both) + 1))
    ys, _ = np.nonzero(dark[:, column])
    if (ys <= top - both).any() and (ys >= bottom + both).any():
        return True
    _, xs = np.nonzero(dark & ~in_boxes)
    return bool(((xs <= left - both).any() and (xs >= right + both).any())
                or (xs <= left - one).any() or (xs >= right + one).any())


@pytest.mark.parametrize("seed", range(40))
def test_the_quick_look_for_a_band_past_a_box_sees_what_it_saw(seed):
    rng = np.random.default_rng(seed)
    region = np.full((124, 124), 230, np.uint8)
    for _ in range(rng.integers(0, 5)):
        x, y = rng.integers(0, 124, 2)
        region[y:y + rng.integers(1, 40), x:x + rng.integers(1, 40)] = rng.integers(0, 256)
    ignored, in_boxes = rng.random(region.shape) < 0.3, rng.random(region.shape) < 0.3
    edges = tuple(float(v) for v in rng.uniform(40, 80, 4))
    assert stains._dark_far_enough(region, ignored, in_boxes, edges, PX_PER_MM) == \
        _dark_far_enough_as_before(region, ignored, in_boxes, edges, PX_PER_MM)


def _without_printed_lines_as_before(ink, rows, columns, px_per_mm, slack_mm=0.6):
    def line_extent(ink, expected_row):
        search = int(round(slack_mm * px_per_mm)) + 1
        lo, hi = max(0, int(expected_row) - search), min(ink.shape[0], int(expected_row) + search + 1)
        if hi <= lo:
            return None
        profile = ink[lo:hi].sum(axis=1)
        strongest = int(profile.max())
        if strongest == 0 or strongest < 0.3 * ink.shape[1]:
            return None
        candidates = np.nonzero(profile >= 0.8 * strongest)[0] + lo
        centre = int(candidates[np.argmin(np.abs(candidates - expected_row))])
        top, bottom = max(0, centre - 1), min(ink.shape[0], centre + 2)
        up, down = _beyond(ink, top, bottom, limit=int(0.5 * px_per_mm))
        on_line = ink[top:bottom].any(axis=0)
        usual_up, usual_down = (int(percentile(side[on_line], LINE_THICKNESS_PERCENTILE)) for side in (up, down))
        return max(0, top - usual_up - 1), min(ink.shape[0], bottom + usual_down + 1)

    def uncrossed(ink, band):  # the crossing rule of 2026-12-06 (strokes slanting across a line too), plainly
        start, stop = band
        out = np.zeros_like(ink)
        out[start:stop] = ink[start:stop]
        if start < 2 or stop + 2 > ink.shape[0]:
            return out
        above = [c for c in range(ink.shape[1]) if ink[start - 2, c] and ink[start - 1, c]]
        below = [c for c in range(ink.shape[1]) if ink[stop, c] and ink[stop + 1, c]]
        reach = stop - start
        for c in range(ink.shape[1]):
            down_right = any(c - reach <= a <= c for a in above) and any(c <= b <= c + reach for b in below)
            down_left = any(c <= a <= c + reach for a in above) and any(c - reach <= b <= c for b in below)
            if down_right or down_left:
                out[start:stop, c] = False
        return out

    across = [band for row in rows if (band := line_extent(ink, row))]
    down = [band for column in columns if (band := line_extent(ink.T, column))]
    in_rows, in_columns = np.zeros(ink.shape[0], bool), np.zeros(ink.shape[1], bool)
    for start, stop in across:
        in_rows[start:stop] = True
    for start, stop in down:
        in_columns[start:stop] = True
    printed = in_rows[:, None] & in_columns[None, :]
    without_down, without_across = ink & ~in_columns[None, :], (ink & ~in_rows[:, None]).T
    for band in across:
        printed |= uncrossed(without_down, band)
    for band in down:
        printed |= uncrossed(without_across, band).T
    return ink & ~printed


@pytest.mark.parametrize("seed", range(40))
def test_printed_lines_come_out_of_ink_as_they_did(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(20, 90, 2))
    ink = rng.random(shape) < rng.uniform(0.0, 0.15)
    rows = tuple(float(v) for v in rng.uniform(-3, shape[0] + 3, rng.integers(1, 4)))
    columns = tuple(float(v) for v in rng.uniform(-3, shape[1] + 3, rng.integers(1, 4)))
    for row in rows:  # lines 1-4 px thick, some near the cut-out's edge
        r = int(row)
        ink[max(0, r):max(0, r + rng.integers(1, 5)), :] |= rng.random(shape[1]) < 0.9
    for column in columns:
        c = int(column)
        ink[:, max(0, c):max(0, c + rng.integers(1, 5))] |= (rng.random(shape[0]) < 0.9)[:, None]
    assert np.array_equal(without_printed_lines(ink, rows, columns, PX_PER_MM),
                          _without_printed_lines_as_before(ink, rows, columns, PX_PER_MM))


@pytest.mark.parametrize("seed", range(10))
def test_a_writing_areas_ink_has_the_area_it_had(seed):
    page, _ = _page(seed, (300, 600))
    box, lines = Box(3.0, 4.0, 65.0, 30.0), (10.0, 20.0, 30.0)
    inner = Box(box.x_mm + 0.5, box.y_mm + 0.5, box.w_mm - 1.0, box.h_mm - 1.0)
    mask = areas.handwriting_mask(areas.crop(page, inner))
    for y_mm in lines:
        row, band = (y_mm - inner.y_mm) * PX_PER_MM, areas.RULED_LINE_BAND_MM * PX_PER_MM
        mask[max(0, int(row - band)):max(0, int(np.ceil(row + band)) + 1)] = False
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    pieces = stats[1:, cv2.CC_STAT_AREA] / PX_PER_MM ** 2
    assert areas.ink_area_mm2(page, box, ruled_lines_y_mm=lines) == float(pieces[pieces >= areas.SPECK_MM2].sum())


def _dark_pixels_as_before(page, layout_page, f, boxes, px_per_mm, contrast):
    rows, cols = beside_ink._window(f, bounding_box(boxes), page.shape, px_per_mm)  # not under test here
    window = page[rows, cols]
    masks = beside_ink.print_masks(layout_page, page.shape[:2], px_per_mm)
    printed, near_lines, in_boxes = (m[rows, cols] for m in masks)
    dark = (window < float(window.max()) * (1 - contrast)) & ~printed
    if contrast < INK_CONTRAST:
        dark &= ~near_lines

    def within(box):
        return beside_ink.within_window(box, rows, cols, page.shape, px_per_mm)

    inside = [int(np.count_nonzero(dark[within(box)])) for box in boxes]
    others_boxes = in_boxes.copy()
    for box in field_boxes(f):
        others_boxes[within(box)] = False
    for box in boxes:
        others_boxes[within(box)] = True
    return int(np.count_nonzero(dark & ~others_boxes)), inside


@pytest.mark.parametrize("seed", range(4))
def test_the_dark_pixels_beside_a_rows_boxes_are_counted_as_they_were(seed):
    layout_page = build_layout(resolve_template("k10")).pages[0]
    rng = np.random.default_rng(seed)
    shape = (round(layout_page.height_mm * PX_PER_MM), round(layout_page.width_mm * PX_PER_MM))
    page = np.clip(rng.normal(225, 20, shape), 0, 255).astype(np.uint8)
    for f in [f for f in layout_page.fields if isinstance(f, ChoiceField)][:4]:
        for offset_mm in ((0.0, 0.0), (-1.0, 0.375)):
            boxes = [placement.moved(box, offset_mm) for box in field_boxes(f)]
            for contrast in (INK_CONTRAST, beside.FAINT_INK_CONTRAST):
                assert beside_ink.dark_pixels(page, layout_page, f, boxes, PX_PER_MM, contrast) == \
                    _dark_pixels_as_before(page, layout_page, f, boxes, PX_PER_MM, contrast)


def _stroke_ink_as_before(region, px_per_mm, contrast):
    """``areas.handwriting_mask``'s ink as first written: ``ink_mask`` (a max filter, blurred) and
    ``stroke_mask`` (a closing of its own) each computed, and both taken."""
    size = max(3, int(round(STROKE_MAX_MM * px_per_mm)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    paper = cv2.blur(cv2.dilate(region, kernel), (size, size))
    closed = cv2.morphologyEx(region, cv2.MORPH_CLOSE, kernel)
    scale = np.float32(1.0 - contrast)
    return (region.astype(np.float32) < paper.astype(np.float32) * scale) & \
        (region.astype(np.float32) < closed.astype(np.float32) * scale)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("px_per_mm", [8.0, 4.0, 11.8, 1.0])
def test_strokes_ink_is_what_the_ink_and_the_stroke_masks_gave_together(seed, px_per_mm):
    page, _ = _page(seed, (120 + 17 * seed, 90 + 31 * seed))
    for contrast in (INK_CONTRAST, 0.15, 0.5):
        assert np.array_equal(stroke_ink(page, px_per_mm, contrast), _stroke_ink_as_before(page, px_per_mm, contrast))
