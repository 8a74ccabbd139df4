"""Measure the ink in each printed choice box, relative to that box's own paper and printed border.

Following the measurements in docs/design.md: a pixel's darkness is normalised between the paper white around the
box and the black of its printed border, so a photocopy, a shadow or pencil do not move the scale;
then the page's empty boxes (most boxes) give the baseline that is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from formkit.layout.model import Box

from .register import WARP_PX_PER_MM, box_slices

INNER_INSET_MM = 0.7  # inside the printed line, with room for registration error
BORDER_BAND_MM = 0.35
RING_MM = (0.9, 1.7)
INK_LEVEL = 0.5  # normalised darkness from which a pixel counts as ink
WEAK_LEVEL = 0.25  # a trace of ink: smooth shadows stay below it, erased pencil does not
GREY_LEVELS = np.arange(256, dtype=np.float32)


class Mark(Enum):
    EMPTY = "empty"
    FAINT = "faint"  # too little to call: a stray dot, an erased mark, a very light tick
    MARKED = "marked"  # tick, cross, scribble
    HEAVY = "heavy"  # between a heavy cross and a filled box
    FILLED = "filled"  # filled in completely: the printed convention for "cancelled"


# Thresholds on coverage above the page baseline (fraction of the inner box that is ink) and on the
# largest paper hole left inside the box. Measured on synthetic marks (benchmarks/scan_accuracy.py):
# pen-filled boxes left holes of at most 0.041 of the box, ticks, crosses and scribbles at least 0.08.
FAINT_FROM = 0.02
MARKED_FROM = 0.05
FILLED_MIN_COVERAGE = 0.6
FILLED_MAX_HOLE = 0.05
MARKED_MIN_HOLE = 0.075
FAINT_WEAK = 0.04  # traces of ink over this much of the box, with almost no coverage, hint at a mark
# Below ~5 px/mm in the source (an A4 page in a 3 MP photo) blur closes a scribble's gaps, so a box
# counts as filled (cancelled) without review only when unmistakable. Measured in such photos: pen fills
# >= 0.995 coverage, the densest scribbles 0.956, crosses 0.873.
LOW_RES_PX_PER_MM = 5.0
LOW_RES_FILLED_COVERAGE = 0.98
LOW_RES_FILLED_HOLE = 0.01


@dataclass(frozen=True)
class BoxMeasure:
    coverage: float  # fraction of inner pixels that are ink, before the page baseline
    darkness: float  # mean normalised darkness of the inner pixels
    contrast: float  # paper white minus border black, grey levels: low means a washed-out image
    hole: float  # the largest connected area of paper inside the box, as a fraction of it (0 below MARKED_FROM)
    weak: float  # fraction of inner pixels with at least a trace of ink (erased or faint pencil)


def local_references(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> tuple[float, float]:
    """(paper white, ink black) grey levels around ``box``: the ring outside it and its printed border."""
    outer = page[box_slices(box, RING_MM[1], page.shape, px_per_mm)]
    inner_pad = int(round((RING_MM[1] - RING_MM[0]) * px_per_mm))
    ring, ring_size = _frame_histogram(outer, inner_pad)
    white = _percentile_of_levels(ring, ring_size, 80) if ring_size else 255.0
    band = page[box_slices(box, BORDER_BAND_MM, page.shape, px_per_mm)]
    edge, edge_size = _frame_histogram(band, max(1, int(round(2 * BORDER_BAND_MM * px_per_mm))))
    return white, _percentile_of_levels(edge, edge_size, 10)


def _frame_histogram(region: np.ndarray, width_px: int) -> tuple[np.ndarray, int]:
    """How many pixels of each grey level lie within ``width_px`` of the edge of ``region`` (uint8), and
    how many in all."""
    inside = region[width_px:-width_px or None, width_px:-width_px or None]
    counts = np.bincount(region.ravel(), minlength=256) - np.bincount(inside.ravel(), minlength=256)
    return counts, region.size - inside.size


def _percentile_of_levels(counts: np.ndarray, total: int, q: float) -> float:
    """``ink.percentile`` (NumPy's linear interpolation) of the grey levels counted in ``counts``: the same
    number, from a histogram, without sorting pixels (most of a box's time went to the sorting)."""
    position = (total - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, total - 1)
    below, above = np.searchsorted(np.cumsum(counts), (low + 1, high + 1)).astype(np.float32)
    return float(below + (above - below) * (position - low))


def measure_box(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> BoxMeasure:
    """The ink in one printed choice box.

    ``page``: the registered page, 2-D uint8 grey (0 black, 255 white), ``px_per_mm`` pixels per mm
    (8 after ``register.warp_page``); ``box``: the box's outer edge in mm from the page's top-left
    corner, as the layout gives it. Returns fractions of the box's inside (0..1) and the contrast in
    grey levels (see ``BoxMeasure``); ``classify`` turns them into a state.
    """
    white, black = local_references(page, box, px_per_mm)
    contrast = max(white - black, 40.0)
    inner = page[box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)]
    darkness_of_level = np.clip((white - GREY_LEVELS) / contrast, 0.0, 1.0)
    counts = np.bincount(inner.ravel(), minlength=256)
    coverage = float(counts[darkness_of_level > INK_LEVEL].sum() / inner.size)
    weak = float(counts[darkness_of_level > WEAK_LEVEL].sum() / inner.size)
    darkness = darkness_of_level[inner]
    # the largest hole tells marks from fills, which only boxes with this much ink can be (see classify)
    hole = _largest_hole(darkness > INK_LEVEL) if coverage >= MARKED_FROM else 0.0
    return BoxMeasure(coverage, float(darkness.mean()), white - black, hole, weak)


def _largest_hole(ink: np.ndarray) -> float:
    """A cross leaves four open triangles of paper; a filled box leaves only specks."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((~ink).astype(np.uint8), connectivity=4)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max() / ink.size)


@dataclass(frozen=True)
class Baseline:
    coverage: float
    weak: float


def page_baseline(measures: list[BoxMeasure]) -> Baseline:
    """What an empty box reads on this page: the median of all boxes, since most boxes are empty.
    With few boxes, or a median that is itself inked, no baseline is assumed."""
    if len(measures) < 6:
        return Baseline(0.0, 0.0)
    coverage = float(np.median([m.coverage for m in measures]))
    weak = float(np.median([m.weak for m in measures]))
    if coverage > FAINT_FROM:
        return Baseline(0.0, 0.0)
    return Baseline(coverage, weak)


def classify(measure: BoxMeasure, baseline: Baseline, source_px_per_mm: float = 8.0) -> tuple[Mark, float]:
    """The box's state and a confidence in [0, 1] that grows with the distance from the nearest threshold.
    ``source_px_per_mm`` is the resolution of the original image along the page."""
    c = max(0.0, measure.coverage - baseline.coverage)
    w = max(0.0, measure.weak - baseline.weak)
    if c < FAINT_FROM:
        if w >= FAINT_WEAK:
            return Mark.FAINT, 0.4
        return Mark.EMPTY, _confidence(min(FAINT_FROM - c, FAINT_WEAK - w), FAINT_FROM)
    if c < MARKED_FROM:
        return Mark.FAINT, 0.3
    if measure.hole >= MARKED_MIN_HOLE:
        return Mark.MARKED, _confidence(min(c - MARKED_FROM, measure.hole - MARKED_MIN_HOLE), 0.05)
    if measure.hole < FILLED_MAX_HOLE and c >= FILLED_MIN_COVERAGE:
        if source_px_per_mm < LOW_RES_PX_PER_MM and (c < LOW_RES_FILLED_COVERAGE or measure.hole > LOW_RES_FILLED_HOLE):
            return Mark.HEAVY, 0.3
        return Mark.FILLED, _confidence(min(FILLED_MAX_HOLE - measure.hole, c - FILLED_MIN_COVERAGE), 0.05)
    return Mark.HEAVY, 0.3


def _confidence(margin: float, scale: float) -> float:
    """0.75 at a threshold, rising to 1.0 at ``scale`` away from it."""
    return round(0.75 + 0.25 * min(1.0, margin / scale), 3)
