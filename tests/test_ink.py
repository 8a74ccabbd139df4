"""Printed lines are taken out of a box's ink, handwriting is not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanner.ink import without_printed_lines

PX_PER_MM = 8.0
TOP, BOTTOM, LEFT, RIGHT = 12, 68, 10, 50  # the box's border lines, pixels of an 80 x 60 cut-out


def _box(line_px: int = 2) -> np.ndarray:
    """A printed box border, ``line_px`` thick, centred on the rows and columns above."""
    ink = np.zeros((80, 60), bool)
    lo, hi = -(line_px // 2), line_px - line_px // 2
    ink[TOP + lo:TOP + hi, LEFT:RIGHT + 1] = True
    ink[BOTTOM + lo:BOTTOM + hi, LEFT:RIGHT + 1] = True
    ink[TOP:BOTTOM + 1, LEFT + lo:LEFT + hi] = True
    ink[TOP:BOTTOM + 1, RIGHT + lo:RIGHT + hi] = True
    return ink


def _cleaned(ink: np.ndarray, shift_px: float = 0.0) -> np.ndarray:
    return without_printed_lines(ink, (TOP + shift_px, BOTTOM + shift_px), (LEFT + shift_px, RIGHT + shift_px),
                                 PX_PER_MM)


def test_an_empty_box_leaves_no_ink_not_even_at_its_corners():
    assert not _cleaned(_box()).any()
    assert not _cleaned(_box(line_px=3), shift_px=2.5).any()  # registration a third of a millimetre off


def test_a_stroke_lying_along_the_border_keeps_what_is_thicker_than_the_line():
    ink = _box()
    ink[BOTTOM - 5:BOTTOM + 1, 20:40] = True  # the base of a low "2": 6 px thick, resting on the bottom border
    kept = _cleaned(ink)
    assert kept[BOTTOM - 5:BOTTOM - 2, 20:40].all()  # above the line's own extent: all there
    assert not kept[BOTTOM + 2:, :].any()  # the border beyond the stroke is gone


def test_a_stroke_along_three_quarters_of_the_border_is_not_taken_for_the_line():
    """A 7's bar written on the top border: removed with the line, the 7 was read as a 1 (p 0.998)."""
    ink = _box()
    ink[TOP - 4:TOP + 4, LEFT + 2:LEFT + 33] = True  # 1 mm thick over 31 of the border's 41 columns
    ink[TOP + 4:BOTTOM - 4, LEFT + 30:LEFT + 33] = True  # and its stem
    kept = _cleaned(ink)
    # what sticks out of the line (and its pixel of slack either side) is kept, as for the base of a "2"
    assert kept[TOP - 4:TOP - 2, LEFT + 3:LEFT + 33].all()
    assert not kept[TOP - 1:TOP + 1, LEFT + 36:RIGHT - 1].any()  # the border beyond the bar is gone


def test_a_stroke_crossing_the_border_stays_whole():
    ink = _box()
    ink[2:30, 28:32] = True  # a "7"'s stem reaching up through the top border
    kept = _cleaned(ink)
    assert kept[2:30, 28:32].all()
    assert not kept[TOP - 1:TOP + 1, LEFT + 3:26].any()


@pytest.mark.parametrize("slope", [-1.0, -0.5, 0.5, 1.0])
def test_a_stroke_slanting_across_the_border_stays_whole(slope):
    """The round of a 6 or a 9 crossing a box's foot at a slant: no column holds the stroke on both sides of
    the line, so the line was removed under it and the part below came apart (the scanner then left it out
    as writing below the box, and a 6 was read as a 1)."""
    ink = _box()
    across = int(round(12 / abs(slope) * np.sign(slope)))  # 12 rows down, 12 / |slope| columns across
    x0, y0 = 30 - across // 2, BOTTOM - 6
    x1, y1 = x0 + across, BOTTOM + 6
    stroke = np.zeros(ink.shape, np.uint8)
    cv2.line(stroke, (x0, y0), (x1, y1), 1, 3)
    ink |= stroke.astype(bool)
    kept = _cleaned(ink).astype(np.uint8)
    count, labels = cv2.connectedComponents(kept, connectivity=8)
    assert count == 2, "the stroke is one piece, nothing else is left"
    assert labels[y0, x0] == labels[y1 - 1, x1 - int(np.sign(slope))] == 1
    assert not kept[BOTTOM - 1:BOTTOM + 1, LEFT + 3:min(x0, x1) - 4].any()  # the border beside it is gone
    assert not kept[BOTTOM - 1:BOTTOM + 1, max(x0, x1) + 4:RIGHT - 2].any()


def test_a_straight_stroke_inside_the_box_is_not_taken_for_a_border():
    ink = _box()
    ink[20:60, LEFT + 8:LEFT + 11] = True  # a "1" a millimetre inside the left border
    kept = _cleaned(ink)
    assert kept[20:60, LEFT + 8:LEFT + 11].all()


def test_the_next_box_border_at_the_edge_of_the_cut_out_is_not_taken_for_this_one():
    ink = _box()
    ink[TOP - 3:BOTTOM + 4, 4:6] = True  # the neighbour's right border, taller in the cut-out, so stronger
    kept = _cleaned(ink, shift_px=-2.0)  # registration puts this box's left border between the two
    assert not kept[TOP + 2:BOTTOM - 1, LEFT - 1:LEFT + 2].any()  # this box's own border is what went
    assert kept[TOP + 3:BOTTOM - 3, 4:6].all()  # the neighbour's stays, for the cut-out to drop as outside


def test_a_cut_out_with_no_pixels_is_no_error():
    # a box clipped away at the page's edge
    assert without_printed_lines(np.zeros((10, 0), bool), (3.0,), (0.0,), PX_PER_MM).shape == (10, 0)


@pytest.mark.parametrize(("shape", "width_px"), [((40, 60), 6), ((40, 60), 0), ((7, 60), 4), ((60, 7), 3),
                                                 ((1, 1), 1), ((13, 13), 6)])
def test_a_box_frames_grey_levels_are_those_of_every_pixel_within_its_width_of_the_edge(shape, width_px):
    from scanner.marks import _frame_histogram

    region = np.random.default_rng(7).integers(0, 256, shape).astype(np.uint8)
    rows, columns = np.indices(shape)
    to_edge = np.minimum.reduce([rows, columns, shape[0] - 1 - rows, shape[1] - 1 - columns])
    frame = region[to_edge < width_px]
    counts, size = _frame_histogram(region, width_px)
    assert size == frame.size
    assert np.array_equal(counts, np.bincount(frame, minlength=256))


@pytest.mark.parametrize("contrast", [0.3, 0.15, 0.5])
def test_darker_than_matches_the_float_comparison_at_every_pair_of_grey_levels(contrast):
    from scanner.ink import darker_than

    region, reference = (a.astype(np.uint8) for a in np.meshgrid(np.arange(256), np.arange(256)))
    float_comparison = region.astype(np.float32) < reference.astype(np.float32) * (1.0 - contrast)
    assert np.array_equal(darker_than(region, reference, contrast), float_comparison)
    assert np.array_equal(darker_than(region[::3, 1::2], reference[::3, 1::2], contrast),
                          float_comparison[::3, 1::2])  # views of a larger image, as cut-outs are
