"""A marked box whose tick or cross is struck through: one or two straight lines drawn level with the row across
the box and on past both its sides, the way a person takes an answer back. With nothing else in the row it was
read as that answer at confidence 1.0, unflagged (a find-only pass, 2026-12-07: strike lines running 1-3 mm past
each side, 36 of 36 such rows; 0.3-1 mm, 172 of 177; 3-6 mm, 37 of 177, the rest flagged by ``stains``).

A person's own tick or cross leaves its box past one side, or past two corners (a cross drawn large), slanting;
a strike crosses the box level with the row, in one straight stroke, and leaves it past the left and the right
border both. So a straight line is looked for whose ends, at the box's left and right borders, lie between its
top and bottom borders, no steeper than ``MOST_SLANT_DEGREES``, along which ink runs without a break from
inside the box out past both borders (``strike_past_mm``); how far past is measured against the border's own
ink at the rows beside the line, so a blurred photo's thick border is not a strike. Other ink must be in the
box besides the line: the mark struck through (a lone dash through a box is a mark of its own).

Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Page
from formkit.records import FieldValue

from . import placement
from .beside_ink import print_masks, within_window
from .ink import INK_CONTRAST, closed_paper, darker_than
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

REACH_MM = 8.0  # past each side of the box, as far as a strike is followed; one that runs on further is no
#                 strike of the box's but a crease, a ruler's line or a line drawn along the row (``stains``)
PAPER_WIDTH_MM = 2.0  # the closing that gives the paper a stroke lies on: wider than a strike or a border
OWN_BORDER_MM = 0.5  # either side of the box's outline: its border and the blur of it
CLEAR_OF_BORDER_MM = 0.7  # the ends of the line at the box's sides, and where inside it ink is looked for
MOST_SLANT_DEGREES = 25.0  # a strike drawn across the row; a cross's arm through a box's corners is at 45
ALONG_SHARE = 0.9  # of the line inside the box, inked: one stroke along it, not a tick's or cross's arm across
COARSE_STEP = 4  # the columns a line is first followed at (``_lines_along``): a speed-up, the same lines found
GAP_PX = 1  # along the line, a break this long is the stroke's grain, not its end
# ink inside the box further than this from the line is the mark struck through: a 0.55 mm pen's stroke, blurred,
# lies within 0.5 mm of its middle; a progress scale's 4.2 mm box leaves 1.4 mm either side of the line's middle
BESIDE_LINE_MM = 0.6
MARK_LEFT_MM2 = 0.4  # of such ink: a tick's arm 1 mm long
BORDER_ROWS_MM = 1.0  # the border's own reach is measured at rows at least this far from the line
# past both borders (beyond the border's own reach at the rows beside the line): a strike drawn 0.3 mm past the
# box with a 0.35 mm pen reaches 0.3-0.5 mm past its border's ink. Measured 2026-12-07 (see module doc)
LEAST_PAST_MM = 0.3
SEEN_STATES = ("marked",)  # a heavy or filled box is a fill (its spill is no strike); the fill convention decides
RAW_STRUCK_THROUGH = "struck_through"


def flag_struck_through(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                        px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged choice value of ``values`` read as an answer whose marked box holds a
    straight stroke across it that runs ``LEAST_PAST_MM`` or more past both its left and right borders
    (``strike_past_mm``). ``raw[RAW_STRUCK_THROUGH]`` holds each such option with how far past (mm, left and
    right). ``page``: the registered page (2-D uint8 grey); the boxes are looked for where the field's
    reading found them."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        states = value.raw.get("states", [])
        if not isinstance(f, ChoiceField) or not value.value or value.needs_review or len(states) != len(f.options):
            continue
        struck: dict[str, list[float]] = {}
        for option, box, state in zip(f.options, placement.found_boxes(f, value), states, strict=True):
            if state not in SEEN_STATES:
                continue
            past = strike_past_mm(page, layout_page, box, px_per_mm)
            if past is not None and min(past) >= LEAST_PAST_MM:
                struck[str(option.value)] = [round(v, 2) for v in past]
        if struck:
            value.raw[RAW_STRUCK_THROUGH] = struck
            options = ", ".join(struck)
            flag_for_review(value, f"the mark in option(s) {options} is struck through with a line across the box: "
                                   "taken back?")


def strike_past_mm(page: np.ndarray, layout_page: Page, box: Box, px_per_mm: float = WARP_PX_PER_MM
                   ) -> tuple[float, float] | None:
    """How far (mm, left and right) a straight stroke through ``box`` level with its row runs on past its
    left and right borders, for the line that runs furthest past the nearer of them; ``None`` when no such
    line is inked along ``ALONG_SHARE`` of the box's inside, when the box holds no other ink
    (``MARK_LEFT_MM2``), or when the stroke runs on to ``REACH_MM`` on either side."""
    rows, cols = box_slices(box, REACH_MM, page.shape, px_per_mm)
    rows = box_slices(box, CLEAR_OF_BORDER_MM, page.shape, px_per_mm)[0]
    region = page[rows, cols]
    if region.size == 0:
        return None
    left, top = box.x_mm * px_per_mm - cols.start, box.y_mm * px_per_mm - rows.start
    right, bottom = left + box.w_mm * px_per_mm, top + box.h_mm * px_per_mm
    # Most marked boxes hold no line along their inside: asked first of ink against the window's brightest
    # level, which holds all the ink below (paper closed over a stroke is never brighter than that), at a
    # fraction of the cost of the paper's closing and the print's masks (2026-12-07: 5.6 ms a filled page)
    brightest = np.full_like(region, region.max())
    if not _lines_along(_steps_joined(darker_than(region, brightest, INK_CONTRAST)),
                        (top, bottom, left, right), px_per_mm):
        return None
    ink = darker_than(region, closed_paper(region, PAPER_WIDTH_MM, px_per_mm), INK_CONTRAST)
    ink &= ~_other_print(layout_page, box, page.shape[:2], (rows, cols), px_per_mm)
    near = _steps_joined(ink)
    lines = _lines_along(near, (top, bottom, left, right), px_per_mm)
    best: tuple[float, float] | None = None
    for y_left, y_right in lines:
        left_px = _run_out(near, (left, y_left), (right, y_right), left, -1, px_per_mm)
        right_px = _run_out(near, (left, y_left), (right, y_right), right, +1, px_per_mm)
        if left_px is None or right_px is None:
            continue  # runs on to the window's edge: a crease or a ruler's line, not a strike
        border = _border_reach_px(ink, (top, bottom, left, right), (y_left, y_right), px_per_mm)
        past = ((left_px - border[0]) / px_per_mm, (right_px - border[1]) / px_per_mm)
        if (best is None or min(past) > min(best)) \
                and _mark_beside_line(ink, (top, bottom, left, right), (y_left, y_right), px_per_mm):
            best = past
    return best


def _steps_joined(ink: np.ndarray) -> np.ndarray:
    """``ink`` with each pixel's neighbours above and below: a slanting stroke's steps joined along it."""
    return cv2.dilate(ink.astype(np.uint8), np.ones((3, 1), np.uint8)).astype(bool)


def _other_print(layout_page: Page, box: Box, shape: tuple[int, int], window: tuple[slice, slice],
                 px_per_mm: float) -> np.ndarray:
    """The page's print in ``window`` but for ``box``'s own border (``OWN_BORDER_MM`` either side of it):
    printed words and rules, other boxes' borders. A strike crosses its box's border; the row's rule or a
    neighbour's border is no strike (on a progress scale the boxes lie 1.5 mm apart)."""
    rows, cols = window
    printed = print_masks(layout_page, shape, px_per_mm)[0][rows, cols].copy()
    border = np.zeros(printed.shape, bool)
    border[within_window(box, rows, cols, shape, px_per_mm, OWN_BORDER_MM)] = True
    border[within_window(box, rows, cols, shape, px_per_mm, -OWN_BORDER_MM)] = False
    return printed & ~border


def _lines_along(near: np.ndarray, edges_px: tuple[float, float, float, float], px_per_mm: float
                 ) -> list[tuple[int, int]]:
    """The straight lines (their rows at the box's left and right sides, each between its top and bottom
    borders, ``CLEAR_OF_BORDER_MM`` clear) no steeper than ``MOST_SLANT_DEGREES`` along which ``near`` is
    inked at ``ALONG_SHARE`` of the columns inside the box."""
    top, bottom, left, right = edges_px
    clear = CLEAR_OF_BORDER_MM * px_per_mm
    ends = np.arange(int(np.ceil(top + clear)), int(np.floor(bottom - clear)) + 1)
    xs = np.arange(int(np.ceil(left + clear)), int(np.floor(right - clear)) + 1)
    if len(ends) == 0 or len(xs) < 2:
        return []
    # every pair of ends (meshgrid's, "ij"), by NumPy's plain calls: most of the cost was its cost a call
    y_left, y_right = np.repeat(ends, len(ends)), np.tile(ends, len(ends))
    steep = np.abs(y_right - y_left) <= np.tan(np.deg2rad(MOST_SLANT_DEGREES)) * (right - left)
    y_left, y_right = y_left[steep], y_right[steep]
    share = (xs - left) / (right - left)
    # Each line is first followed at every COARSE_STEP-th column alone: one with more breaks there than the whole
    # line may have cannot be inked at ALONG_SHARE, and the rest are followed at every column, as before. Most
    # marked boxes hold no line along them, and 96 % of the 600-800 lines a box has break at once (2026-12-07,
    # 240 marked boxes of 20 throughput pages): the same lines found at about half the cost
    inked_least = next(k for k in range(len(xs) + 1) if k / len(xs) >= ALONG_SHARE)
    coarse = slice(None, None, COARSE_STEP)
    coarse_xs = xs[coarse]
    breaks = len(coarse_xs) - _along(near, y_left, y_right, coarse_xs, share[coarse]).sum(axis=1)
    maybe = breaks <= len(xs) - inked_least
    y_left, y_right = y_left[maybe], y_right[maybe]
    keep = _along(near, y_left, y_right, xs, share).mean(axis=1) >= ALONG_SHARE
    return list(zip(y_left[keep].tolist(), y_right[keep].tolist(), strict=True))


def _along(near: np.ndarray, y_left: np.ndarray, y_right: np.ndarray, xs: np.ndarray, share: np.ndarray
           ) -> np.ndarray:
    """(lines, columns): ``near`` at each of ``xs`` (``share`` of the way from the box's left to its right) on
    the straight line from row ``y_left`` to row ``y_right``, for each pair; rows past ``near``'s taken at its
    edge."""
    ys = np.rint(y_left[:, None] + (y_right - y_left)[:, None] * share[None, :]).astype(int)
    ys = np.minimum(np.maximum(ys, 0), near.shape[0] - 1)
    return near[ys, xs[None, :]]


def _run_out(near: np.ndarray, start: tuple[float, float], end: tuple[float, float], side_px: float, step: int,
             px_per_mm: float) -> float | None:
    """How far (px) past ``side_px`` (the box's left or right side, in the window's columns) the ink of
    ``near`` runs without a break along the line through ``start`` and ``end`` (x, y), followed from
    ``CLEAR_OF_BORDER_MM`` inside the box outwards (``step``: -1 leftwards, +1 rightwards); 0 when it breaks
    before the side; ``None`` when it runs on to the window's edge."""
    (x0, y0), (x1, y1) = start, end
    slope = (y1 - y0) / (x1 - x0)
    x = int(round(side_px - step * CLEAR_OF_BORDER_MM * px_per_mm))
    last, gap = None, 0
    while 0 <= x < near.shape[1]:
        y = int(round(y0 + slope * (x - x0)))
        if 0 <= y < near.shape[0] and near[y, x]:
            last, gap = x, 0
        else:
            gap += 1
            if gap > GAP_PX:
                break
        x += step
    else:
        return None
    if last is None:
        return 0.0
    return max(0.0, step * (last - side_px))


def _border_reach_px(ink: np.ndarray, edges_px: tuple[float, float, float, float], ends: tuple[int, int],
                     px_per_mm: float) -> tuple[float, float]:
    """How far (px) the ink of the box's left and right borders reaches past its sides (the median over the
    rows between its top and bottom borders at least ``BORDER_ROWS_MM`` from the line's ends ``ends``): the
    border's own width and blur, which a strike must run beyond."""
    top, bottom, left, right = edges_px
    clear = CLEAR_OF_BORDER_MM * px_per_mm
    reach: list[float] = []
    for side, step, end in ((left, -1, ends[0]), (right, +1, ends[1])):
        rows = [y for y in range(int(np.ceil(top + clear)), int(np.floor(bottom - clear)) + 1)
                if abs(y - end) >= BORDER_ROWS_MM * px_per_mm]
        runs = [_run_along_row(ink[y], side, step, px_per_mm) for y in rows]
        reach.append(float(np.median(runs)) if runs else 0.0)
    return reach[0], reach[1]


def _run_along_row(row: np.ndarray, side_px: float, step: int, px_per_mm: float) -> float:
    """How far (px) past ``side_px`` the ink of ``row`` runs unbroken outwards from the border's inner edge."""
    x = int(round(side_px - step * 0.5 * CLEAR_OF_BORDER_MM * px_per_mm))
    last = None
    while 0 <= x < len(row) and (row[x] or last is None and step * (x - side_px) <= 0):
        if row[x]:
            last = x
        x += step
    return max(0.0, step * (last - side_px)) if last is not None else 0.0


def _mark_beside_line(ink: np.ndarray, edges_px: tuple[float, float, float, float], ends: tuple[int, int],
                      px_per_mm: float) -> bool:
    """Whether the box's inside holds ``MARK_LEFT_MM2`` of ink further than ``BESIDE_LINE_MM`` from the line
    through ``ends`` (its rows at the box's left and right sides): the mark the line strikes through."""
    top, bottom, left, right = edges_px
    clear = CLEAR_OF_BORDER_MM * px_per_mm
    y0, y1, x0, x1 = (int(round(v)) for v in (top + clear, bottom - clear, left + clear, right - clear))
    inside = ink[max(0, y0):y1, max(0, x0):x1]
    ys, xs = np.nonzero(inside)
    line_y = ends[0] + (ends[1] - ends[0]) * (xs + max(0, x0) - left) / (right - left)
    apart = np.abs(ys + max(0, y0) - line_y) > BESIDE_LINE_MM * px_per_mm
    return bool(np.count_nonzero(apart) >= MARK_LEFT_MM2 * px_per_mm ** 2)
