"""Which pixels are ink, judged against the paper right around them, so shadows and light gradients
across a photographed page are not mistaken for pen strokes."""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

STROKE_MAX_MM = 1.5  # wider than any pen stroke or printed rule; narrower than a shadow's edge
INK_CONTRAST = 0.3  # a pixel is ink when it is this much darker than the paper around it
# a printed line is as thick as it is along the thinnest fifth of its length: a stroke lying along it over
# up to four fifths (a 7's bar on a digit box's top border) is not taken for the line and removed with it
LINE_THICKNESS_PERCENTILE = 20


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) for a flat array, by partial sort: the same
    number at a tenth of the cost on the small arrays of a box, where NumPy's overhead dominates."""
    position = (values.size - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, values.size - 1)
    part = np.partition(values, (low, high))
    return float(part[low] + (part[high] - part[low]) * (position - low))


def paper(region: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The paper's brightness under each pixel: a max filter wipes out strokes thinner than
    ``STROKE_MAX_MM`` and keeps slow changes of light."""
    size = _filter_size(STROKE_MAX_MM, px_per_mm)
    return cv2.blur(_max_filtered(region, size), (size, size))


def _filter_size(width_mm: float, px_per_mm: float) -> int:
    return max(3, int(round(width_mm * px_per_mm)) | 1)


def _max_filtered(region: np.ndarray, size: int) -> np.ndarray:
    return cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))


def stroke_ink(region: np.ndarray, px_per_mm: float, contrast: float = INK_CONTRAST) -> np.ndarray:
    """``ink_mask`` and, of those pixels, the ones darker by ``contrast`` than ``closed_paper`` ``STROKE_MAX_MM``
    wide too (ink with paper on both sides, ``areas.stroke_mask``): both from one max filter, which the
    closing begins with, where each computed its own (the same pixels: 0.77 ms against 0.99 for a comment-sized
    region, 1,300 x 300 px, measured 2026-12-07)."""
    if region.size == 0:
        return np.zeros(region.shape, bool)
    size = _filter_size(STROKE_MAX_MM, px_per_mm)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    widest = cv2.dilate(region, kernel)
    # a closing is this max filter then the min filter of the same kernel (OpenCV's MORPH_CLOSE, the same
    # borders); and as each level's limit grows with the level, a pixel under both limits is under the
    # limit of the lesser reference
    reference = cv2.min(cv2.blur(widest, (size, size)), cv2.erode(widest, kernel))
    return darker_than(region, reference, contrast)


def closed_paper(region: np.ndarray, width_mm: float, px_per_mm: float) -> np.ndarray:
    """``region`` (uint8 grey) with every dark feature narrower than ``width_mm`` filled in from both sides (a
    morphological closing: a max filter, then a min filter): the paper a stroke lies on. Unlike ``paper``, a
    step in brightness stays where it is, however sharp: a stroke has paper on both sides, a shadow's edge
    only on one."""
    size = _filter_size(width_mm, px_per_mm)
    return cv2.morphologyEx(region, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))


def ink_mask(region: np.ndarray, px_per_mm: float, contrast: float = INK_CONTRAST) -> np.ndarray:
    """True where ``region`` (uint8 grey) is darker than its local paper by ``contrast`` of it."""
    if region.size == 0:
        return np.zeros(region.shape, bool)
    return darker_than(region, paper(region, px_per_mm), contrast)


def below(image: np.ndarray, level: float) -> np.ndarray:
    """``image < level`` for an integer ``image`` (uint8 grey): compared with the least integer not below
    ``level``, the same test, where NumPy would first turn every pixel into a float64 to compare it with a
    float (three times the cost: 35 us against 12 for a row of choice boxes' window, measured 2026-12-05)."""
    return image < math.ceil(level)


def darker_than(region: np.ndarray, reference: np.ndarray, contrast: float) -> np.ndarray:
    """True where ``region`` is darker than ``reference`` (both uint8, same shape) by ``contrast`` of it:
    ``region < reference * (1 - contrast)`` computed in float32, to the last pixel, by looking up each
    reference level's limit instead of converting both images to float: 0.09 ms against 0.28 for a
    comment-sized region (1,360 x 240 px), measured 2026-12-03 with the scan's buffer setting on."""
    return region < cv2.LUT(reference, _limits(contrast))


@cache
def _limits(contrast: float) -> np.ndarray:
    """Per grey level ``b``, the least integer not below ``b * (1 - contrast)`` in float32: for integer
    ``r``, ``r < b * (1 - contrast)`` exactly when ``r`` is below it."""
    return np.ceil(np.arange(256, dtype=np.float32) * np.float32(1.0 - contrast)).astype(np.uint8)


def without_printed_lines(ink: np.ndarray, rows: tuple[float, ...], columns: tuple[float, ...], px_per_mm: float,
                          slack_mm: float = 0.6) -> np.ndarray:
    """``ink`` (bool) less the printed lines the layout puts near ``rows`` (horizontal) and ``columns``
    (vertical), in pixels of ``ink``, each found within ``slack_mm`` of where it should be.

    A line's extent (how thick it is) is measured where nothing touches it, and it is removed column by
    column (row by row for vertical lines) to that extent only: a stroke lying along the line, thicker
    than it, keeps what sticks out (the base of a low "2"; letters resting on a writing line). Where
    handwriting crosses the line (ink beyond its extent on both sides) the line's pixels are kept, so
    strokes stay whole. Where two lines meet, the corner goes. A straight written stroke away from the
    lines is never taken for one.
    """
    across = [band for row in rows if (band := _line_extent(ink, row, px_per_mm, slack_mm))]
    down = [band for column in columns if (band := _line_extent(ink.T, column, px_per_mm, slack_mm))]
    in_rows, in_columns = np.zeros(ink.shape[0], bool), np.zeros(ink.shape[1], bool)
    for start, stop in across:
        in_rows[start:stop] = True
    for start, stop in down:
        in_columns[start:stop] = True
    printed = in_rows[:, None] & in_columns[None, :]
    # each line judged with the lines across it blanked, or every corner would look like a crossing
    without_down, without_across = ink & ~in_columns[None, :], (ink & ~in_rows[:, None]).T
    for start, stop in across:
        printed[start:stop] |= _uncrossed(without_down, (start, stop))
    for start, stop in down:
        printed[:, start:stop] |= _uncrossed(without_across, (start, stop)).T
    return ink & ~printed


def _line_extent(ink: np.ndarray, expected_row: float, px_per_mm: float, slack_mm: float) -> tuple[int, int] | None:
    """Rows [start, stop) of the horizontal printed line expected at ``expected_row`` of ``ink`` (pass a
    transposed mask for vertical lines), its anti-aliased edge and a pixel of slack included, as thick as
    it is where no handwriting touches it; ``None`` if no line shows.

    Of the rows within ``slack_mm`` that ink mostly covers, the line is on the one closest to where it
    should be, so a neighbouring box's border at the edge of a cut-out is not taken for this box's.
    """
    search = int(round(slack_mm * px_per_mm)) + 1
    lo, hi = max(0, int(expected_row) - search), min(ink.shape[0], int(expected_row) + search + 1)
    if hi <= lo:
        return None
    profile = ink[lo:hi].sum(axis=1).tolist()  # a dozen rows: quicker in plain Python than in NumPy
    strongest = max(profile)
    if strongest == 0 or strongest < 0.3 * ink.shape[1]:
        return None
    centre = min((row for row, count in enumerate(profile, lo) if count >= 0.8 * strongest),
                 key=lambda row: abs(row - float(expected_row)))
    top, bottom = max(0, centre - 1), min(ink.shape[0], centre + 2)
    up, down = _beyond(ink, top, bottom, limit=int(0.5 * px_per_mm))  # a printed line is under 1 mm thick
    on_line = ink[top:bottom].any(axis=0)
    usual_up, usual_down = (int(percentile(side[on_line], LINE_THICKNESS_PERCENTILE)) for side in (up, down))
    return max(0, top - usual_up - 1), min(ink.shape[0], bottom + usual_down + 1)


def _beyond(ink: np.ndarray, top: int, bottom: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Per column: how many rows of ink run on, unbroken, above row ``top`` and below row ``bottom - 1``
    (each counted only if that edge row is ink), up to ``limit``."""
    above = _run_length(ink[max(0, top - limit):top][::-1]) * ink[top]
    below = _run_length(ink[bottom:bottom + limit]) * ink[bottom - 1]
    return above, below


def _uncrossed(ink: np.ndarray, band: tuple[int, int]) -> np.ndarray:
    """The pixels of the horizontal line in rows ``band`` of ``ink`` where no handwriting crosses it, as rows
    ``band`` of ``ink``. Crossed is where ink runs on two rows past the band on both sides: the columns between
    where a stroke meets the band on one side and where it leaves on the other, up to the band's thickness
    further along (a stroke slanting across the line, as the round of a 6 or a 9 across a box's foot, leaves
    it to one side of where it met it; counted straight down, its part beyond the line came apart)."""
    start, stop = band
    if start < 2 or stop + 2 > ink.shape[0]:
        return ink[start:stop].copy()
    # the rows where a stroke meets the band above it and leaves it below (uint8, 0 or 1)
    sides = np.stack((ink[start - 2] & ink[start - 1], ink[stop] & ink[stop + 1])).view(np.uint8)
    reach = stop - start
    # per column, whether either row is set there or within ``reach`` before it (after it): a max filter along
    # the rows anchored at its last (first) pixel, both rows at once, where NumPy took four passes of six
    # calls (1 ms a page of handwritten digits and comments)
    kernel = np.ones((1, reach + 1), np.uint8)
    before, after = (cv2.dilate(sides, kernel, anchor=(anchor, 0)) for anchor in (reach, 0))
    crossed = (before[0] & after[1]) | (after[0] & before[1])
    return ink[start:stop] & ~crossed.view(bool)


def _run_length(stack: np.ndarray) -> np.ndarray:
    """Per column of ``stack`` (bool, nearest row first): how many rows from the first are all ink."""
    if stack.shape[0] == 0:
        return np.zeros(stack.shape[1], int)
    return np.logical_and.accumulate(stack, axis=0).sum(axis=0)


def runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of ``True`` in the 1-D ``flags`` begins, and where it ends (one past its last)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], np.asarray(flags, np.int8), [0]))))
    return edges[::2], edges[1::2]
