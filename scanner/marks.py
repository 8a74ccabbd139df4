"""Measure the ink in each printed choice box, relative to that box's own paper and printed border.

Following the measurements in docs/design.md: a pixel's darkness is normalised between the paper white around the
box and the black of its printed border, so a photocopy, a shadow or pencil do not move the scale;
then the page's empty boxes (most boxes) give the baseline that is subtracted.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Page
from formkit.records import FieldValue

from .creases import runs_on
from .register import WARP_PX_PER_MM, box_slices

INNER_INSET_MM = 0.7  # inside the printed line, with room for registration error
BORDER_BAND_MM = 0.35
RING_MM = (0.9, 1.7)
INK_LEVEL = 0.5  # normalised darkness from which a pixel counts as ink
WEAK_LEVEL = 0.25  # a trace of ink: smooth shadows stay below it, erased pencil does not
LEAST_CONTRAST = 40.0  # grey levels, paper to border, a box is measured against: a washed-out box's grain is no ink
GREY_LEVELS = np.arange(256, dtype=np.float32)
# The edge of a shadow across a box darkens part of it like ink. Where the paper around a box differs from
# side to side by more than this share of the contrast, the box is measured against its darkest side's
# paper. Measured 2026-12-03 (benchmarks/respondent_styles.py): soft shadows, uneven light and the printed
# rules beside the boxes, blurred over a side in 3 MP photos, stepped up to 0.21 (all boxes of sixty 12 MP
# pages) and 0.24 (one dark 3 MP page); a shadow's edge that made an empty box read as marked or faint
# stepped 0.33 and more.
SHADOW_EDGE_STEP = 0.3
SHADE_SPREAD = 0.1  # of the shaded paper's contrast: how much darker than its ring side a shade may lie in a box
# Under a shadow the printed border still shows against the shaded paper (at the shade's share of the box's
# contrast, over half); under a finger, a note or a clip it does not. A side of the border showing less than
# this share of the contrast is covered there: what the box holds cannot be seen.
COVERED_SIDE = 0.25
SIDE_WHITE_PERCENTILE = 90  # a mark running into the ring covers less of a side than this leaves
# An over-exposed photo clips the paper to white, and every light mark towards it by however far over white the
# paper was, which the image cannot tell: at 1.8 times the exposure, whole pages answered in pencil read blank at
# confidence 0.9-1.0 (2026-12-06), their ticks' pixels all under WEAK_LEVEL. Clipping takes the paper's grain and
# noise with it, so where the paper round a box is clipped (its white at CLIPPED_PAPER or more) a trace half as
# dark stands above nothing: over CLIPPED_FAINT of the box, it is a faint mark (flagged), not an empty box.
# Measured 2026-12-06 (40 pages each of over-exposed photos, glare, 1-bit copies): empty boxes on clipped paper
# at most 0.005 of the box; pencil ticks read blank without a flag 0.006-0.037.
CLIPPED_PAPER = 254.0
CLIPPED_TRACE_LEVEL = WEAK_LEVEL / 2
CLIPPED_FAINT = 0.01
# ... counted in pieces light throughout or this long or more: on a 1-bit copy the paper is always clipped, and
# black specks of toner or dust (0.1-0.3 mm) over a hundredth of an empty box flagged 4 of 44 rows at 0.1 %
# speckle (2026-12-06); a clipped pencil tick may lie in light crumbs shorter than that
CLIPPED_STROKE_MM = 0.5


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
# A heavy box (neither hole nor coverage decide) may be a cross that blur, a faded print or a messenger's JPEG
# thickened, or a box filled in (cancelled). A cross, drawn corner to corner, leaves paper in the four triangles
# between its arms, against the middle of each side; a fill darkens them all. The ink there is measured against
# the box's own darkest ink (its 2nd percentile), not the printed border, which a faded print makes lighter than
# any pen. Measured 2026-12-07 (benchmarks/scan_accuracy.py pages, 40 of each of 16 capture conditions with one
# field in two corrected by a fill, and 20 each of photo3faded, photo2msg, photo3shadowedge, photo3wobble): the
# second darkest side's middle (depth a quarter of the inside, the middle 0.4 of its length) of 1,532 pen fills
# read as filled or heavy 0.785 at the least (a scanner app's hollowed fill; 0.818 glare, 0.825 and more in
# 2-3 MP photos, faded or not); of the 31 crosses read as heavy 0.29-0.72 (27 under 0.6), scribbles 0.55-0.69.
# Under CROSS_SIDE_INK a heavy box is read as a mark; a fill leaving paper along at most one side is not.
CROSS_SIDE_DEPTH = 0.25  # of the inside's height (or width), in from the side
CROSS_SIDE_SPAN = 0.4  # of the side's length, about its middle
CROSS_SIDE_INK = 0.6
CROSS_INK_PERCENTILE = 2
CROSS_CONFIDENCE = 0.8


@dataclass(frozen=True)
class BoxMeasure:
    coverage: float  # fraction of inner pixels that are ink, before the page baseline
    darkness: float  # mean normalised darkness of the inner pixels
    contrast: float  # paper white minus border black, grey levels: low means a washed-out image
    hole: float  # the largest connected area of paper inside the box, as a fraction of it (0 below MARKED_FROM)
    weak: float  # fraction of inner pixels with at least a trace of ink (erased or faint pencil)
    paper_step: float = 0.0  # side_whites' brightest less darkest, over the contrast; 0 where no trace of ink
    trace_below: float = 0.0  # grey level under which a pixel counts towards ``weak`` (the shadow's edge allowed for)
    peak: float = 0.0  # the darkness (as ``darkness``) the darkest 5 % of inner pixels reach; 0 where no trace of ink
    white: float = 255.0  # the paper white around the box, grey level (``local_references``)
    # where one side of the paper round the box is darker and that shade reaches inside the box (a shadow's
    # edge, a highlighter stripe or a finger over part of it), taken for paper: the box's ink that is darker
    # than that shade too; else 0
    unshaded: float = 0.0
    covered: bool = False  # one side of its printed border does not show: a finger, a note, a clip over it
    line_across: bool = False  # its ink is one straight line across it: its own border, measured off its place?
    clipped_trace: float = 0.0  # where the paper round it is clipped white: inner pixels at CLIPPED_TRACE_LEVEL
    # where ``unshaded`` is measured, the share of the box WEAK_LEVEL of the contrast darker than the paper level
    # with it (``lit_paper``), not the darkest side's: a mark in the lit part may be lighter than the shade
    lit_trace: float = 0.0
    # the middle of its sides' ink against its own darkest ink, the second darkest side (``sides_ink``): a cross
    # leaves paper there, a fill does not; 1 where not measured (under MARKED_FROM, or a hole a mark leaves)
    side_ink: float = 1.0
    # ... and of the lightest side (``sides_ink``): a fill darkens all four, a scribble's turns leave paper at two
    lightest_side_ink: float = 1.0


def local_references(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> tuple[float, float]:
    """(paper white, ink black) grey levels around ``box``: the 80th percentile of the ring outside it, the
    10th of its printed border (``boxes_references`` of one box)."""
    return boxes_references(page, [box], px_per_mm)[0]


def boxes_references(page: np.ndarray, boxes: list[Box], px_per_mm: float = WARP_PX_PER_MM
                     ) -> list[tuple[float, float]]:
    """(paper white, ink black) grey levels around each of ``boxes`` (one field's, or the pieces of its
    print): the 80th percentile of the ring outside it, 255 where the ring is off the page, and the 10th of
    its printed border; their levels found together: NumPy's cost a call, most of the cost of finding them,
    is paid once a field."""
    ring_px, band_px = _ring_width_px(px_per_mm), max(1, int(round(2 * BORDER_BAND_MM * px_per_mm)))
    frames = [_frame_histogram(page[box_slices(box, margin_mm, page.shape, px_per_mm)], width_px)
              for box in boxes for margin_mm, width_px in ((RING_MM[1], ring_px), (BORDER_BAND_MM, band_px))]
    levels = _percentiles_of_levels(np.array([counts for counts, _ in frames]).astype(np.int64),
                                    [total for _, total in frames], [80, 10] * len(boxes))
    return [(white if ring_total else 255.0, black)
            for white, black, (_, ring_total) in zip(levels[::2], levels[1::2], frames[::2], strict=True)]


def side_whites(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> list[float]:
    """The paper white (``SIDE_WHITE_PERCENTILE``) of each side of the ring around ``box`` (top, bottom,
    left, right, as ``_frame_sides`` gives them), in grey levels: alike on paper lit evenly or by a smooth
    gradient, while the edge of a shadow across the box sets one side apart."""
    outer = page[box_slices(box, RING_MM[1], page.shape, px_per_mm)]
    return [percentile_of_levels(np.bincount(side.ravel(), minlength=256), side.size, SIDE_WHITE_PERCENTILE)
            for side in _frame_sides(outer, _ring_width_px(px_per_mm)) if side.size]


def least_side_contrast(page: np.ndarray, box: Box, whites: list[float], px_per_mm: float = WARP_PX_PER_MM
                         ) -> float:
    """The least, over the box's four sides, of the paper there (``whites``, from ``side_whites``) less its
    printed border there (its darkest tenth), grey levels: low where something opaque lies over a side."""
    band = _frame_sides(page[box_slices(box, BORDER_BAND_MM, page.shape, px_per_mm)],
                        max(1, int(round(2 * BORDER_BAND_MM * px_per_mm))))
    if len(whites) != 4 or len(band) != 4:
        return 255.0
    return min(white - float(np.percentile(border, 10)) for white, border in zip(whites, band, strict=True))


def _shade_inside(inner: np.ndarray, whites: list[float]) -> bool:
    """Whether the shade of the box's darkest side (``whites``, from ``side_whites``) reaches inside it
    (``inner``, the box's inside, grey): the inside's outermost row of pixels along that side is, by its
    median (a stroke across it does not count), at least as near that side's paper as the brightest
    side's. A shadow's edge across the box darkens it; a highlighter stripe over the row below, or a pen
    line ruled along a side, lies outside the box and does not."""
    if len(whites) != 4 or min(inner.shape) < 3:
        return True
    side = int(np.argmin(whites))
    edge = (inner[0], inner[-1], inner[:, 0], inner[:, -1])[side]
    return float(np.median(edge)) <= (max(whites) + whites[side]) / 2


# A box's paper level with each of its rows (or columns) is read from the ring's strips along its sides: the
# SIDE_WHITE_PERCENTILE of the strip over rows this far either way, then the least such level this far either way
# (a pen stroke across a strip is dropped, a shadow's edge kept where it lies), the darker of the two strips.
LIT_PAPER_REACH_MM = 0.4
# ... where opposite sides' paper differs by this share of the lit paper or more: a shade lighter than that hides
# no mark (a mark in the lit part lighter than it would be a trace of 15 %), while a faded print's sides, in a
# 3 MP photo, differed by 0.34 of its contrast (38 grey levels) and 6 % of its paper, and its blurred border
# traced 0.04 of the box (2026-12-07)
LIT_EDGE_SHARE = 0.15


def _lit_trace(page: np.ndarray, box: Box, inner: np.ndarray, whites: list[float], black: float, contrast: float,
               px_per_mm: float = WARP_PX_PER_MM) -> float:
    """The share of the inside of ``box`` (``inner``, as ``measure_box`` cuts it) at least WEAK_LEVEL of the
    contrast darker than the paper level with it (``lit_paper``): a mark in the lit part of a box that a
    shadow's edge crosses, lighter than the shaded paper the box is otherwise measured against. ``whites``:
    ``side_whites``; ``black``: the border's grey level; ``contrast``: the box's, grey levels. 0 where neither
    opposite sides' paper differs by SHADOW_EDGE_STEP of the contrast and LIT_EDGE_SHARE of the paper: no edge
    crosses the box, though its sides differ (in a blurred 2 MP photo the rules above and below a row darken its
    top and bottom alike, and a box's own blurred border its inside), or the shade is too light for a mark to
    hide under it."""
    edge = max(abs(whites[0] - whites[1]), abs(whites[2] - whites[3])) if len(whites) == 4 else 0.0
    if edge < SHADOW_EDGE_STEP * contrast or edge < LIT_EDGE_SHARE * max(whites):
        return 0.0
    paper = lit_paper(page, box, whites, px_per_mm)
    if paper is None:
        return 0.0
    darkness = (paper - inner.astype(np.float32)) / np.maximum(paper - black, LEAST_CONTRAST)
    return float(np.count_nonzero(darkness > WEAK_LEVEL) / inner.size)


def lit_paper(page: np.ndarray, box: Box, whites: list[float], px_per_mm: float = WARP_PX_PER_MM
              ) -> np.ndarray | None:
    """The paper's grey level at each pixel of the inside of ``box`` (as ``box_slices`` cuts it at
    -INNER_INSET_MM), float32, read from the ring round it: level with each row from the left and right
    strips where the top and bottom sides' paper (``whites``) differ more than the left and right, as a
    shadow's edge across the rows makes them; else level with each column from the top and bottom strips.
    Where the two strips differ (a slanted edge between them) the darker is taken, so shade is never read as
    ink. ``None`` where the ring lies partly off the page."""
    outer_rows, outer_columns = box_slices(box, RING_MM[1], page.shape, px_per_mm)
    inner_rows, inner_columns = box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)
    width_px = _ring_width_px(px_per_mm)
    outer = page[outer_rows, outer_columns]
    off_page = (outer_rows.start == 0 or outer_columns.start == 0 or outer_rows.stop == page.shape[0]
                or outer_columns.stop == page.shape[1])
    if len(whites) != 4 or off_page or 2 * width_px >= min(outer.shape):
        return None
    across_rows = abs(whites[0] - whites[1]) >= abs(whites[2] - whites[3])
    if across_rows:  # the shade changes from row to row: each row's paper from the left and right strips
        strips = (outer[:, :width_px], outer[:, -width_px:])
        span = slice(inner_rows.start - outer_rows.start, inner_rows.stop - outer_rows.start)
    else:
        strips = (outer[:width_px].T, outer[-width_px:].T)
        span = slice(inner_columns.start - outer_columns.start, inner_columns.stop - outer_columns.start)
    reach = max(1, int(round(LIT_PAPER_REACH_MM * px_per_mm)))
    levels = np.minimum(*(_strip_levels(strip, reach) for strip in strips))[span]
    return levels[:, None] if across_rows else levels[None, :]


def _strip_levels(strip: np.ndarray, reach: int) -> np.ndarray:
    """Along a strip (rows of grey levels), each row's paper: the SIDE_WHITE_PERCENTILE of the rows within
    ``reach`` of it, then the least of those within ``reach`` (float32, one a row)."""
    padded = np.pad(strip, ((reach, reach), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * reach + 1, strip.shape[1]))
    bright = np.percentile(windows.reshape(strip.shape[0], -1), SIDE_WHITE_PERCENTILE, axis=1)
    return cv2.erode(bright.astype(np.float32)[:, None], np.ones((2 * reach + 1, 1), np.uint8),
                     borderType=cv2.BORDER_REPLICATE)[:, 0]


def _ring_width_px(px_per_mm: float) -> int:
    return int(round((RING_MM[1] - RING_MM[0]) * px_per_mm))


def _frame_sides(region: np.ndarray, width_px: int) -> list[np.ndarray]:
    """The four strips of ``region`` within ``width_px`` of its edge (top, bottom, left, right; corners in
    the top and bottom ones), or the whole region when it has no inside."""
    rows, columns = region.shape
    if 2 * width_px >= min(rows, columns):
        return [region]
    middle = region[width_px:rows - width_px]
    return [region[:width_px], region[rows - width_px:], middle[:, :width_px], middle[:, columns - width_px:]]


def _frame_histogram(region: np.ndarray, width_px: int) -> tuple[np.ndarray, int]:
    """How many pixels of each grey level lie within ``width_px`` of the edge of ``region`` (uint8), as
    float32 (exact up to 2**24 pixels), and how many in all: its four strips only (``_frame_sides``),
    counted by OpenCV through a mask of them, in one call where NumPy took six: the same counts (a page
    counts some 200 frames; a field's ``boxes_references`` took 1.26 M instructions, now 1.01 M, callgrind,
    2026-12-06)."""
    mask, total = _frame_mask(region.shape, width_px)
    return cv2.calcHist([region], [0], mask, [256], [0, 256]).reshape(256), total


@lru_cache(maxsize=64)
def _frame_mask(shape: tuple[int, int], width_px: int) -> tuple[np.ndarray, int]:
    """1 on ``_frame_sides``' strips of a region of ``shape`` (uint8, read-only: one mask serves every
    region of that size), and how many pixels they hold. A page's boxes come in a few sizes (more only where
    the page's edge cuts them)."""
    mask = np.zeros(shape, np.uint8)
    for side in _frame_sides(mask, width_px):
        side[...] = 1
    mask.flags.writeable = False
    return mask, int(np.count_nonzero(mask))


def percentile_of_levels(counts: np.ndarray, total: int, q: float) -> float:
    """``ink.percentile`` (NumPy's linear interpolation) of the grey levels counted in ``counts``: the same
    number, from a histogram, without sorting pixels (most of a box's time went to the sorting)."""
    position = (total - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, total - 1)
    below, above = np.searchsorted(np.cumsum(counts), (low + 1, high + 1)).astype(np.float32)
    return float(below + (above - below) * (position - low))


def _percentiles_of_levels(counts: np.ndarray, totals: list[int], qs: list[float]) -> list[float]:
    """``percentile_of_levels`` of each row of ``counts`` (histograms of 256 levels), of ``totals`` pixels, at
    ``qs`` (Python numbers, as callers pass them: NumPy scalars would turn the single one's float32 arithmetic
    into float64): the same numbers, found for all the rows at once (half the cost, for a row of five boxes)."""
    positions = [(total - 1) * q / 100.0 for total, q in zip(totals, qs, strict=True)]
    lows = [int(position) for position in positions]
    highs = [min(low + 1, total - 1) for low, total in zip(lows, totals, strict=True)]
    running = np.cumsum(counts, axis=1)
    # the level at each rank, as np.searchsorted(running, rank + 1) finds it: how many levels have at most
    # that many pixels at or below them
    below = (running <= np.array(lows)[:, None]).sum(axis=1).astype(np.float32)
    above = (running <= np.array(highs)[:, None]).sum(axis=1).astype(np.float32)
    fractions = np.array([position - low for position, low in zip(positions, lows, strict=True)], np.float32)
    return (below + (above - below) * fractions).tolist()


def measure_boxes(page: np.ndarray, boxes: list[Box], px_per_mm: float = WARP_PX_PER_MM,
                  references: list[tuple[float, float]] | None = None) -> list[BoxMeasure]:
    """``measure_box`` of each of one field's ``boxes``, their paper and borders counted together
    (``boxes_references``), or as given in ``references`` (counted already by the caller, which uses them
    too)."""
    if references is None:
        references = boxes_references(page, boxes, px_per_mm)
    return [measure_box(page, box, px_per_mm, r) for box, r in zip(boxes, references, strict=True)]


def measure_box(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM,
                references: tuple[float, float] | None = None) -> BoxMeasure:
    """The ink in one printed choice box.

    ``page``: the registered page, 2-D uint8 grey (0 black, 255 white), ``px_per_mm`` pixels per mm
    (8 after ``register.warp_page``); ``box``: the box's outer edge in mm from the page's top-left
    corner, as the layout gives it. Returns fractions of the box's inside (0..1) and the contrast in
    grey levels (see ``BoxMeasure``); ``classify`` turns them into a state. ``references``: the box's
    ``local_references``, when already counted.
    """
    white, black = references or local_references(page, box, px_per_mm)
    contrast = max(white - black, LEAST_CONTRAST)
    inner = page[box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)]
    counts = np.bincount(inner.ravel(), minlength=256)
    paper_white, paper_contrast = white, contrast
    darkness_of_level = np.clip((white - GREY_LEVELS) / contrast, 0.0, 1.0)
    weak = float(counts[darkness_of_level > WEAK_LEVEL].sum() / inner.size)
    step = peak = unshaded = lit_trace = 0.0
    covered = False
    if weak > 0:  # only a box with a trace of ink can be darkened by a shadow's edge (most boxes have none)
        whites = side_whites(page, box, px_per_mm)
        brightest, darkest = (max(whites), min(whites)) if whites else (255.0, 255.0)
        step = (brightest - darkest) / contrast
        if step > SHADOW_EDGE_STEP and _shade_inside(inner, whites):
            # a shadow's edge: the shaded part of the box is paper, not ink
            # ... but what is darker than that shade is not shade: ink the rule below would take for paper
            darker_than_shade = darkest - SHADE_SPREAD * max(darkest - black, LEAST_CONTRAST) > GREY_LEVELS
            unshaded = float(counts[(darkness_of_level > INK_LEVEL) & darker_than_shade].sum() / inner.size)
            covered = least_side_contrast(page, box, whites, px_per_mm) < COVERED_SIDE * contrast
            lit_trace = _lit_trace(page, box, inner, whites, black, contrast, px_per_mm)
            paper_white = min(white, darkest)
            paper_contrast = max(paper_white - black, LEAST_CONTRAST)
            darkness_of_level = np.clip((paper_white - GREY_LEVELS) / paper_contrast, 0.0, 1.0)
            weak = float(counts[darkness_of_level > WEAK_LEVEL].sum() / inner.size)
        peak = float(darkness_of_level[int(percentile_of_levels(counts, inner.size, 5))])
    coverage = float(counts[darkness_of_level > INK_LEVEL].sum() / inner.size)
    darkness = darkness_of_level[inner]
    clipped_trace = 0.0
    # (the trace counted only round clipped paper: this runs for every box of every page)
    if paper_white >= CLIPPED_PAPER and counts[darkness_of_level > CLIPPED_TRACE_LEVEL].sum() >= \
            CLIPPED_FAINT * inner.size:
        beyond = darkness - border_blur(darkness, CLIPPED_TRACE_LEVEL, px_per_mm) if coverage < MARKED_FROM \
            else darkness
        clipped_trace = _stroke_share(beyond > CLIPPED_TRACE_LEVEL, beyond > INK_LEVEL, CLIPPED_STROKE_MM * px_per_mm)
    if coverage < MARKED_FROM and weak >= FAINT_WEAK:  # faint, or near it: less the border's blur (``border_blur``)
        beyond = darkness - border_blur(darkness, WEAK_LEVEL, px_per_mm)
        weak = float(np.count_nonzero(beyond > WEAK_LEVEL) / inner.size)
        coverage = float(np.count_nonzero(beyond > INK_LEVEL) / inner.size)
    # the largest hole tells marks from fills, which only boxes with this much ink can be (see classify)
    hole = _largest_hole(darkness > INK_LEVEL) if coverage >= MARKED_FROM else 0.0
    across = _printed_line_across(darkness > INK_LEVEL, px_per_mm) if coverage >= MARKED_FROM else False
    # only what may be heavy or filled: a few boxes a page
    sides = sides_ink(inner, counts, white) if coverage >= MARKED_FROM and hole < MARKED_MIN_HOLE else [1.0] * 4
    return BoxMeasure(coverage, float(darkness.mean()), white - black, hole, weak, step,
                      paper_white - WEAK_LEVEL * paper_contrast, peak, white, unshaded, covered, across, clipped_trace,
                      lit_trace, sides[-2], sides[0])


def sides_ink(inner: np.ndarray, counts: np.ndarray, white: float) -> list[float]:
    """How dark the middle of each side of a box's inside (``inner``, grey; ``counts``, its histogram of 256
    levels) is, 0 (the paper, ``white``) to 1 (the box's own darkest ink, its CROSS_INK_PERCENTILE), lightest
    first: each the mean over CROSS_SIDE_DEPTH of the inside in from it, along the middle CROSS_SIDE_SPAN of its
    length. A cross leaves paper there, between its arms, at three sides or four; a fill leaves none
    (``BoxMeasure.side_ink`` is the second darkest, ``lightest_side_ink`` the lightest). All 1 where the box's ink
    lies within LEAST_CONTRAST of the paper: too light to tell."""
    ink = percentile_of_levels(counts, inner.size, CROSS_INK_PERCENTILE)
    if white - ink < LEAST_CONTRAST or min(inner.shape) < 4:
        return [1.0] * 4
    relative = np.clip((white - inner.astype(np.float32)) / (white - ink), 0.0, 1.0)
    means = []
    for side in _sides_as_top(relative):
        rows, columns = side.shape
        depth = max(1, round(CROSS_SIDE_DEPTH * rows))
        start, stop = round((0.5 - CROSS_SIDE_SPAN / 2) * columns), round((0.5 + CROSS_SIDE_SPAN / 2) * columns)
        means.append(float(side[:depth, start:stop].mean()))
    return sorted(means)


# A box measured off its printed outline (a row a lens or a rolling shutter bent further than its boxes are
# looked for) has its own border inside the area read for ink: a straight line across the box, along a side or
# through it, read as a mark at confidence 1.0 (2026-12). Ink that lies so, and almost nowhere else in the box,
# is flagged.
LINE_BAND_MM = 1.0  # as thick as such a line lies (the printed 0.3 mm, blurred, on a slant)
ACROSS = 0.85  # of the box's width (or height) it runs across
IN_THE_BAND = 0.8  # of the box's ink


# A blurred capture (a 2 MP photo, a messenger's copy, the far side of a photo taken at an angle) spreads each
# box's printed border over the inside of the box: on such pages empty boxes traced (WEAK_LEVEL) 4-18 % of their
# inside, up to 0.6 mm in from its edges and none further, and read as faint marks, whole pages of them
# (2026-12-07). What fades inwards from the border, no further than this, is taken for the border.
BORDER_BLUR_MM = 0.6
# ... along a side traced over this much of its length (a box measured a pixel off its outline traced 0.48 of
# one side, 1 px deep, on a blurred over-exposed page). A mark crosses a side over as much or more (marked boxes
# of scan_accuracy.py, 6 pages each of a 300 dpi scan, a 1-bit copy, 3 and 12 MP photos: the sides they cross
# traced 0.26-0.34 of their length at the median, 0.55-1.0 at most, 2026-12-07): what keeps a faint mark is
# that only its first BORDER_BLUR_MM from such a side, no darker than nearer the side, is taken away
BLURRED_SIDE = 0.3


def border_blur(darkness: np.ndarray, trace_level: float, px_per_mm: float = WARP_PX_PER_MM) -> np.ndarray:
    """The darkness that a box's own printed border, blurred inwards, may put at each pixel of its inside.

    ``darkness``: the box's inside (as ``measure_box`` cuts it), normalised 0 (paper) to 1 (the border's
    black). Along a side whose outermost pixels are traced (darker than ``trace_level``) over
    ``BLURRED_SIDE`` of its length or more, the border is blurred inwards: down each row or column from that
    side, to ``BORDER_BLUR_MM`` in, the darkness no greater than anywhere between the pixel and the side is
    taken for the border's. A mark reaching further in keeps its darkness there."""
    h, w = darkness.shape
    depth = min(int(round(BORDER_BLUR_MM * px_per_mm)), h // 2, w // 2)
    blur = np.zeros_like(darkness)
    if depth < 1:
        return blur
    for blur_side, side in zip(_sides_as_top(blur), _sides_as_top(darkness), strict=True):
        if np.count_nonzero(side[0] > trace_level) >= BLURRED_SIDE * side.shape[1]:
            np.maximum(blur_side[:depth], np.minimum.accumulate(side[:depth], axis=0), out=blur_side[:depth])
    # where two sides meet their blur is darkest: in each corner, whatever the sides, what is no darker than
    # anything between it and the corner is the border's
    for blur_corner, corner in ((blur, darkness), (blur[::-1], darkness[::-1]), (blur[:, ::-1], darkness[:, ::-1]),
                                (blur[::-1, ::-1], darkness[::-1, ::-1])):
        fading = np.minimum.accumulate(np.minimum.accumulate(corner[:depth, :depth], axis=0), axis=1)
        np.maximum(blur_corner[:depth, :depth], fading, out=blur_corner[:depth, :depth])
    return blur


def _sides_as_top(box: np.ndarray) -> tuple[np.ndarray, ...]:
    """Four views of a box's inside (rows by columns), each with one of its sides as the top row: top, bottom,
    left, right. Views, not copies: writing to one writes to ``box``."""
    return box, box[::-1], box.T, box.T[::-1]


def _printed_line_across(ink: np.ndarray, px_per_mm: float) -> bool:
    """Whether ``ink`` (the inside of a box, True for ink) is mostly one straight line across it, level or
    upright, as a printed border is."""
    band = max(1, int(round(LINE_BAND_MM * px_per_mm)))
    total = int(ink.sum())
    if total == 0:
        return False
    for rows in (ink, ink.T):  # level lines, then upright ones (as rows of the transposed box)
        if rows.shape[0] < band:
            continue
        per_row = rows.sum(axis=1)
        in_band = np.convolve(per_row, np.ones(band, int), "valid")  # ink in each band of rows
        top = int(np.argmax(in_band))
        if in_band[top] >= IN_THE_BAND * total and rows[top:top + band].any(axis=0).mean() >= ACROSS:
            return True
    return False


CREASED_CONFIDENCE = 0.75  # a box with a crease through it, read as empty: as sure as a box at a threshold
# A fold is fainter than ink: a long straight line nearly as dark as another box's ink in its field may be a
# pen stroke (a second answer drawn far beyond its box), and is left a mark.
CREASE_AS_DARK_AS_INK = 0.75


def creased_boxes(page: np.ndarray, boxes: list[Box], measures: list[BoxMeasure],
                  states: list[tuple[Mark, float]]) -> tuple[int, ...]:
    """Which of one field's ``boxes`` (as ``measure_box`` and ``classify`` found them) hold nothing but a
    crease: a line through the box and far beyond (``creased``), clearly fainter (``peak``) than the ink of
    any other box of the field marked, filled or heavy."""
    lines = [k for k, (box, measure, (state, _)) in enumerate(zip(boxes, measures, states, strict=True))
             if state is not Mark.EMPTY and creased(page, box, measure)]
    inked = [k for k, (state, _) in enumerate(states)
             if state in (Mark.MARKED, Mark.FILLED, Mark.HEAVY) and k not in lines]
    return tuple(k for k in lines
                 if all(measures[k].peak < CREASE_AS_DARK_AS_INK * measures[j].peak for j in inked))


def emptied(states: list[tuple[Mark, float]], boxes: tuple[int, ...]) -> list[tuple[Mark, float]]:
    """``states`` with the boxes at ``boxes`` empty, at ``CREASED_CONFIDENCE``."""
    return [(Mark.EMPTY, CREASED_CONFIDENCE) if k in boxes else s for k, s in enumerate(states)]


def creased(page: np.ndarray, box: Box, measure: BoxMeasure, px_per_mm: float = WARP_PX_PER_MM) -> bool:
    """Whether the ink in ``box`` (a box ``classify`` found ink in; ``measure`` its ``measure_box``) is a fold
    or crease of the paper: one thin straight line that runs on well beyond the box both ways
    (``creases.runs_on``). A tick, a cross, a fill or a slash drawn within the box is not; a line through a
    whole row is (struck through?)."""
    inner_rows, inner_columns = box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)
    ys, xs = np.nonzero(page[inner_rows, inner_columns] < measure.trace_below)
    points = np.stack([xs + inner_columns.start, ys + inner_rows.start], axis=1)
    return runs_on(page, points, px_per_mm)


def _stroke_share(trace: np.ndarray, dark: np.ndarray, least_px: float) -> float:
    """The share of ``trace`` (a box's inside, bool) in pieces that are light throughout (none of ``dark``, as
    a clipped pencil stroke, which may lie in crumbs) or reach ``least_px`` along one side: not the black specks
    of a 1-bit copy or of dust on the glass."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(trace.astype(np.uint8), connectivity=8)
    if count <= 1:
        return 0.0
    long = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= least_px
    speck = np.zeros(count, bool)
    speck[labels[dark & trace]] = True  # each piece with a dark pixel (a label met twice is set twice: no sort)
    kept = (long | ~speck)[1:]
    return float(stats[1:, cv2.CC_STAT_AREA][kept].sum() / trace.size)


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
    coverage = float(statistics.median([m.coverage for m in measures]))
    weak = float(statistics.median([m.weak for m in measures]))
    if coverage > FAINT_FROM:
        return Baseline(0.0, 0.0)
    return Baseline(coverage, weak)


def classify(measure: BoxMeasure, baseline: Baseline, source_px_per_mm: float = 8.0) -> tuple[Mark, float]:
    """The box's state and a confidence in [0, 1] that grows with the distance from the nearest threshold.
    ``source_px_per_mm`` is the resolution of the original image along the page."""
    c = max(0.0, measure.coverage - baseline.coverage)
    w = max(0.0, measure.weak - baseline.weak)
    if c < FAINT_FROM:
        if w >= FAINT_WEAK or measure.clipped_trace - baseline.weak >= CLIPPED_FAINT:
            return Mark.FAINT, 0.4
        return Mark.EMPTY, _confidence(min(FAINT_FROM - c, FAINT_WEAK - w), FAINT_FROM)
    if c < MARKED_FROM:
        return Mark.FAINT, 0.3
    if measure.hole >= MARKED_MIN_HOLE:
        return Mark.MARKED, _confidence(min(c - MARKED_FROM, measure.hole - MARKED_MIN_HOLE), 0.05)
    if measure.hole < FILLED_MAX_HOLE and c >= FILLED_MIN_COVERAGE:
        if source_px_per_mm < LOW_RES_PX_PER_MM and (c < LOW_RES_FILLED_COVERAGE or measure.hole > LOW_RES_FILLED_HOLE):
            return _heavy(measure)
        return Mark.FILLED, _confidence(min(FILLED_MAX_HOLE - measure.hole, c - FILLED_MIN_COVERAGE), 0.05)
    return _heavy(measure)


def _heavy(measure: BoxMeasure) -> tuple[Mark, float]:
    """A box between a mark and a fill: a cross where it leaves paper at the middle of three sides or four
    (``side_ink`` under CROSS_SIDE_INK), else heavy, for review."""
    return (Mark.MARKED, CROSS_CONFIDENCE) if measure.side_ink < CROSS_SIDE_INK else (Mark.HEAVY, 0.3)


# A person's light marks (pencil pressed lightly; in a phone photo its strokes blur under INK_LEVEL) leave a
# trace like their other marks but little ink: measured 2026-12 in 12 MP photos of pencil respondents, ticks
# read as faint had traces over 0.11-0.28 of the box, their marks on the same page 0.11-0.2, empty boxes 0.
OWN_MARKS_MIN = 5  # fields answered by a lone tick or cross on the page, before their trace is taken as the pen's
# of the median trace of those marks; 0.5 until 2026-12-06, when what a rubber left of a mark (a row left blank
# after it) traced 0.55 of the person's marks and was read as that answer, unflagged (4 of 38 such rows of an
# adversarial pass; 0 at 0.6, and one more field of 330 to review on benchmarks/respondent_styles.py's 12 MP
# photos)
LIGHT_MARK_SHARE = 0.6
LIGHT_MARK_MIN_TRACE = 2 * FAINT_WEAK
LIGHT_MARK_CONFIDENCE = 0.8
LIGHT_MARK_MAX_STEP = 0.15  # paper_step: only where the paper around the box is evenly lit (those ticks: <= 0.08)


def own_marks_trace(fields: list[list[tuple[Mark, float]]], measures: list[list[BoxMeasure]],
                    baseline: Baseline) -> float | None:
    """The trace (``BoxMeasure.weak`` above the page's baseline) that this person's pen leaves: the median
    over the fields of one page answered by one marked box and no other ink. ``None`` with fewer than
    ``OWN_MARKS_MIN`` such fields."""
    traces = [ms[lone].weak - baseline.weak for states, ms in zip(fields, measures, strict=True)
              if (lone := _lone_box(states, Mark.MARKED)) is not None]
    return float(statistics.median(traces)) if len(traces) >= OWN_MARKS_MIN else None


def read_light_mark(states: list[tuple[Mark, float]], measures: list[BoxMeasure], baseline: Baseline,
                    own_trace: float | None) -> list[tuple[Mark, float]]:
    """``states`` of one field, with a lone faint box (every other box empty) read as a mark when its trace
    is at least ``LIGHT_MARK_SHARE`` of the trace of this person's marks on the page (``own_marks_trace``):
    the same pen, pressed lightly. A stray dot or a speck leaves less; a faint box beside any other ink, or
    where the paper around it is unevenly lit (a shadow's edge may be what is faint), stays faint."""
    index = _lone_box(states, Mark.FAINT)
    if index is None or own_trace is None or measures[index].paper_step > LIGHT_MARK_MAX_STEP:
        return states
    trace = measures[index].weak - baseline.weak
    if trace < max(LIGHT_MARK_MIN_TRACE, LIGHT_MARK_SHARE * own_trace):
        return states
    return [(Mark.MARKED, LIGHT_MARK_CONFIDENCE) if k == index else s for k, s in enumerate(states)]


def _lone_box(states: list[tuple[Mark, float]], mark: Mark) -> int | None:
    return lone_box([state.value for state, _ in states], mark.value)


def lone_box(states: list[str], state: str) -> int | None:
    """The index of the one box in ``state`` when every other box is empty; states are ``Mark`` values, as a
    field's reading keeps them (``raw["states"]``)."""
    inked = [k for k, s in enumerate(states) if s != Mark.EMPTY.value]
    return inked[0] if len(inked) == 1 and states[inked[0]] == state else None


def lone_marked_rows(layout_page: Page, values: list[FieldValue]) -> Iterator[tuple[ChoiceField, FieldValue, int]]:
    """Each unflagged single-choice value of ``values`` with one box marked and every other empty: its field on
    ``layout_page``, the value, and the marked box's index (what the looks at a row's one mark start from)."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        states = value.raw.get("states", [])
        if value.needs_review or not isinstance(f, ChoiceField) or f.multiple or len(states) != len(f.options):
            continue
        k = lone_box(states, Mark.MARKED.value)
        if k is not None:
            yield f, value, k


def _confidence(margin: float, scale: float) -> float:
    """0.75 at a threshold, rising to 1.0 at ``scale`` away from it."""
    return round(0.75 + 0.25 * min(1.0, margin / scale), 3)


RING_GAP_MM = 0.5  # gaps between a fill's strokes closed up to this before paper closed in is looked for
RING_SIDE_SHARE = 0.15  # of the inside's width: the band along each side looked at
# Of a box's inside: paper closed in by ink all round, or ink along each of its four sides, as a filled box's
# outline runs on a page thresholded over a small window; a tick, a cross or a slash seldom does either
RING_PAPER_SHARE = 0.15
RING_SIDES = 0.4


def ringed(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> bool:
    """Whether the ink inside ``box`` (on the registered ``page``, thresholded black and white) is a ring, as
    a box filled in comes out after a small-window threshold: it closes paper in (``enclosed_paper``) or runs
    along all four sides (``sides_inked``)."""
    ink = page[box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)] < 128
    if ink.size == 0:
        return False
    return enclosed_paper(ink, px_per_mm) >= RING_PAPER_SHARE or sides_inked(ink) >= RING_SIDES


def enclosed_paper(ink: np.ndarray, px_per_mm: float = WARP_PX_PER_MM) -> float:
    """The largest piece of paper inside a box (``ink``: its inside, True for ink) that ink closes in all round,
    as a share of the inside: a box filled in and thresholded over a small window comes out as a ring round
    such paper; a tick or a cross leaves none (its paper reaches the box's sides)."""
    reach = max(1, int(round(RING_GAP_MM * px_per_mm / 2)))
    closed_ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((2 * reach + 1,) * 2, np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((closed_ink == 0).astype(np.uint8), connectivity=4)
    edge = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    closed = [stats[k, cv2.CC_STAT_AREA] for k in range(1, count) if k not in edge]
    return float(max(closed, default=0) / ink.size)


def sides_inked(ink: np.ndarray) -> float:
    """The least share, over the four sides of a box's inside (``ink``, True for ink), of the band along that
    side that holds ink: a box filled in, thresholded over a small window, keeps the outline of its fill along
    every side; a tick or a cross reaches one or two sides, or only the corners."""
    rows = max(1, int(round(RING_SIDE_SHARE * ink.shape[0])))
    columns = max(1, int(round(RING_SIDE_SHARE * ink.shape[1])))
    sides = (ink[:rows].any(axis=0), ink[-rows:].any(axis=0),
             ink[:, :columns].any(axis=1), ink[:, -columns:].any(axis=1))
    return float(min(side.mean() for side in sides))
