"""Handwriting round a field, off the page's print: what ``beside`` judges the marks round a choice's, digit
field's or line's boxes by, and ``labels`` the marks on a choice's printed words.

Ink counts when it is handwriting (``areas.handwriting_mask``: strokes, not a shadow's edge, nor straight
runs near the print's rules), lies off the page's print (``identify.expected_print``, widened for
descenders and registration), is no fold (``creases.runs_on``, or a thin straight line running across the
part of the page registered round the field, or ``FOLD_MIN_MM`` out of it) nor a printed line that a bent
page moved, and comes within ``BESIDE_MM`` of the rectangle round this field's boxes (a digit field's
widened by ``register.BOXES_SIDE_MM`` each side; a line's by ``LINE_BAND_MM`` above and below), its centre
nearer them than any other field's (a line's: not ``LINE_SHARED`` times further than another's). A quick
count of dark pixels first spares the fields where no such ink can be (``dark_pixels``). Pixels are those of
the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from formkit.layout.blocks import BOX_LINE_MM
from formkit.layout.model import (
    Box,
    BoxesField,
    ChoiceField,
    Field,
    LineField,
    Page,
    TextRun,
    bounding_box,
    field_box,
    field_boxes,
)
from formkit.layout.text import MM_PER_PT, letters_box

from . import areas, creases, overprint
from .identify import common_print, expected_print
from .ink import INK_CONTRAST, below
from .register import FIELD_MARGIN_MM, WARP_PX_PER_MM, box_slices, field_window

T = TypeVar("T")
BESIDE_MM = 4.0  # round the rectangle of a field's boxes: a loop round a 5 mm box, a tick beside it
REACH_MM = FIELD_MARGIN_MM - BESIDE_MM  # further out, as far as the registered page is drawn, so that a
#                                        mark crossing into the zone is seen whole
TEXT_MARGIN_MM = 1.0  # around printed text: anti-aliasing, a page registered 0.5 mm off, descenders (beside
#                        boxes; near a line, DESCENT as well)
DESCENT = 0.25  # of the size, below the baseline: the font's descenders (g, y, brackets, an underscore)
# around printed boxes and rules, whose ink the handwriting mask mostly takes out already: wider, and it
# would cover the 1.2 mm between a goal card's boxes, where a tick astride two of them lies
LINE_MARGIN_MM = 0.3  # at 8 px/mm, 2 px each way
LINE_NEAR_MM = 1.0  # a bent or crumpled page moves its rules up to 0.75 mm from where registration puts them
ON_PRINTED_LINE_SHARE = 0.8  # of a straight piece of ink within LINE_NEAR_MM of a printed line: that line,
# if it runs within 10 degrees of across or down the page, as rules and borders do (an arc of a loop round a
# goal-card box, cut by the print round it, may be as straight and as near a border, at 45 degrees)
PRINTED_LINE_COS = float(np.cos(np.deg2rad(10.0)))
# a straight upright piece of ink near a box's side is that side moved unless, along this share of its rows, the
# side shows where found and paper lies between (``_beside_its_line``): a "1" written in the 1.0-1.7 mm gap
# between two digit boxes lies within LINE_NEAR_MM of both sides, and such a field read blank, unflagged
# (irregular_digits *straddle*, seeds 24 and 26 of 40, 2026-12-08)
SEPARATE_ROWS_SHARE = 0.6
PAPER_PERCENTILE = 90  # of the window round a field: its paper
BESIDE_INK_MM2 = 0.75  # a short pencil tick (6 mm of a 0.25 mm line is 1.5 mm²) is well over this
# straight as a printed line or a crease: their pixels spread 0.05-0.15 mm across it, a tick's (its long arm
# with its short one) 0.3 mm, a quarter of a loop round a box 0.35 mm
STRAIGHT_MAX_SPREAD_MM = 0.2
# a straight line running out of the window is a fold when it crosses it (two of its sides) or is this long
# (a slash beside a box is shorter): what lies past the window is not drawn (register.warp_fields)
FOLD_MIN_MM = 8.0
BRIDGE_MM = 0.5  # a printed border and its margin cut a stroke crossing it by less than twice this
STRADDLE_MM2 = 0.25  # of ink in the next box, reached across the gap: a goal card's boxes are 1.2 mm apart
# a stroke this near a box reaches it: its border and the margin cut from the ink round it (LINE_MARGIN_MM, half
# BOX_LINE_MM) hide a tick's low point laid on the border
TOUCH_MM = 0.6
APART_SHARE = 0.5
LEVEL_SHARE = 0.5  # of a piece beside the boxes, level with them: a letter; the end of a long stroke from
#                    another row (a long tick's tail from the row below reaches 2-4 mm past a box) is not
LINE_BAND_MM = 1.0  # a number written under a line: its top 3-5 mm below it
# writing between two lines is either's, unless one is this much nearer: a number written under a line, as
# near the next (whose own number would be flagged anyway)
LINE_SHARED = 1.5
PRINT_CACHE_PAGES = 4  # an A4 page's three masks take 12 MB


class PerLayout:
    """Values worked out from a page's layout, kept for the last ``size`` layouts, as a batch reads the same
    few again and again. Keyed by the layout's id (hashing a page's whole geometry costs more than the rest),
    the layout kept with its value so that its id is no other's while cached; safe across threads (a Dask
    worker reads pages on several)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple[Page, object]] = OrderedDict()

    def get(self, layout_page: Page, key: tuple, make: Callable[[], T]) -> T:
        key = (id(layout_page), *key)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key][1]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._kept[key] = (layout_page, value)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value


_PRINT_MASKS = PerLayout(PRINT_CACHE_PAGES)


@dataclass(frozen=True)
class InkBeside:
    """Handwriting around a field's boxes (a choice's options, a digit field's boxes, a line) that belongs to
    it rather than to another field."""

    area_mm2: float  # off the print, outside the field's boxes, in pieces within BESIDE_MM of their rectangle
    whole_mm2: float  # the same pieces of ink with their parts inside the boxes (a tick between two)
    centre_mm: tuple[float, float]  # (x, y) of that ink; the boxes' centre when there is none
    inside_mm2: tuple[float, ...]  # within each box, off its printed border
    joined: frozenset[tuple[int, int]]  # boxes (a < b) that one piece of ink runs into, STRADDLE_MM2 in each
    apart_mm2: float = 0.0  # of the pieces beside the boxes, those with APART_SHARE of their ink outside them
    # of the ink beside the boxes, what lies level with them (between their tops and feet): (mm², x_mm from, to)
    # a piece
    level: tuple[tuple[float, float, float], ...] = ()
    # boxes that a piece with BESIDE_INK_MM2 of its ink beside them reaches (a speck or more in or within
    # TOUCH_MM of it), one box a piece: a tick whose low point lies on a box's corner, the rest over the gap above
    touched: frozenset[int] = frozenset()
    touching_mm2: float = 0.0  # of ``whole_mm2``, the pieces that reach one of the boxes or more (as ``touched``)


def nearer_another(centre_mm: tuple[float, float], own_mm: float, others: list[Box], shared: float = 1.0) -> bool:
    """Whether a piece of ink centred at ``centre_mm``, ``own_mm`` from the field weighed, belongs to one of
    ``others`` (where the other fields are answered): ``shared`` times nearer it."""
    return any(distance_mm(*centre_mm, box) < own_mm / shared for box in others)


def with_descent(run: TextRun) -> Box:
    """``letters_box`` of ``run`` with its descenders (``DESCENT``)."""
    box = letters_box(run)
    return Box(box.x_mm, box.y_mm, box.w_mm, box.h_mm + DESCENT * run.size_pt * MM_PER_PT)


def answer_area(f: Field) -> Box:
    """Where ``f`` is answered, to tell which field a piece of ink is nearest: the rectangle round its boxes,
    its writing area, or its line itself (a box round it, as ``field_box`` gives, would take the ink beside a
    neighbouring line for its own)."""
    if isinstance(f, LineField):
        return Box(f.x1_mm, f.y1_mm, f.x2_mm - f.x1_mm, 0.0)
    return field_box(f)


def _zone(f: Field, hull: Box) -> Box:
    """Where ink within ``BESIDE_MM`` belongs to ``f`` (answered in ``hull``): round a digit field's boxes
    wider, for a number written on after them (``register.field_window``); round a line, ``LINE_BAND_MM``
    each side of it, for a number written under it, among its anchor words; round a choice's boxes
    themselves (``hull``: ink further along its row is no mark beside a box)."""
    if isinstance(f, LineField):
        return Box(hull.x_mm, hull.y_mm - LINE_BAND_MM, hull.w_mm, 2 * LINE_BAND_MM)
    return hull if isinstance(f, ChoiceField) else field_window(f, hull)


def dark_pixels(page: np.ndarray, layout_page: Page, f: ChoiceField | BoxesField, boxes: list[Box],
                px_per_mm: float, contrast: float = INK_CONTRAST) -> tuple[int, list[int]]:
    """Dark pixels off the print in the window round ``f``'s ``boxes`` (where found): beside every field's
    boxes, and in each of ``boxes``. Dark is under ``1 - contrast`` of the window's lightest pixel, so
    every pixel that ``ink_beside`` takes for ink at ``contrast`` (that much darker than the paper around it)
    is dark; at a faint contrast, what lies within ``LINE_NEAR_MM`` of the print's lines is left out, as
    ``ink_beside`` leaves it."""
    rows, cols = _window(f, bounding_box(boxes), page.shape, px_per_mm)
    window = page[rows, cols]
    printed, near_lines, in_boxes = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    dark = _dark_off_print(window, printed, contrast)
    if contrast < INK_CONTRAST:
        dark &= ~near_lines

    def within(box: Box) -> tuple[slice, slice]:
        return within_window(box, rows, cols, page.shape, px_per_mm)

    found = [within(box) for box in boxes]
    inside = [int(np.count_nonzero(dark[box])) for box in found]
    # a neighbouring row's tick lies in its own box: its ink there is that row's; this row's boxes are
    # where its reading found them, up to 1.4 mm from where the layout puts them (found where laid out, as
    # on most pages, they are every box's inside as printed)
    others_boxes = in_boxes
    if boxes != field_boxes(f):
        others_boxes = in_boxes.copy()
        for box in field_boxes(f):
            others_boxes[within(box)] = False
        for box in found:
            others_boxes[box] = True
    return int(np.count_nonzero(dark & ~others_boxes)), inside


def ink_beside(page: np.ndarray, layout_page: Page, f: ChoiceField | BoxesField, boxes: list[Box] | None = None,
               px_per_mm: float = WARP_PX_PER_MM, contrast: float = INK_CONTRAST, words: bool = False,
               reach_mm: float = BESIDE_MM) -> InkBeside:
    """The handwriting around ``f``'s boxes (``boxes``, one an option or a digit, where the page shows them;
    the layout's by default) on ``page`` (the registered page, 2-D uint8 grey): a piece of ink beside them is
    ``f``'s when it comes within ``BESIDE_MM`` of the rectangle round them (``_zone``), its centre is nearer
    them than any other field (a line: ``LINE_SHARED``), and it is neither a printed line moved nor a fold (see
    the module's text). Ink is ``contrast`` darker than the paper. ``words``: ``boxes`` are the words printed
    under a choice's boxes (``labels_under``), where a straight stroke is a line drawn under one, not a rule.
    ``reach_mm``: further than ``BESIDE_MM`` (a number written on along a choice's row, ``beside``), as far as
    the window (``_window``) reaches."""
    boxes = boxes or field_boxes(f)
    hull = bounding_box(boxes)
    zone = _zone(f, hull)
    rows, cols = _window(f, hull, page.shape, px_per_mm)
    printed, near_lines, any_box = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    in_box = np.full(printed.shape, -1, np.int16)  # which of the boxes a pixel is in
    # the boxes' outlines where they were found: their sides are rules too (printed words have no outline)
    borders = np.zeros(printed.shape, np.uint8) if words else box_borders(boxes, rows, cols, page.shape, px_per_mm)
    near_box = np.full(printed.shape, -1, np.int16)  # which box a pixel lies in or within TOUCH_MM of
    for k, box in enumerate(boxes):
        box_rows, box_cols = within_window(box, rows, cols, page.shape, px_per_mm)
        in_box[box_rows, box_cols] = k
        near_box[within_window(box, rows, cols, page.shape, px_per_mm, TOUCH_MM)] = k
    # beside digits and lines, straight runs are rules only near the print's (a crease is a fold, below): an
    # upright 1 written beside a date's boxes is writing. Beside choice boxes, where people tick, anywhere.
    rules_near = None if isinstance(f, ChoiceField) and not words \
        else near_lines | _widened(borders, LINE_NEAR_MM, px_per_mm)
    ink = areas.handwriting_mask(page[rows, cols], px_per_mm, rules_near=rules_near, contrast=contrast) & ~printed
    if isinstance(f, LineField):
        ink &= ~_descenders(layout_page, rows, cols, px_per_mm)
    if contrast < INK_CONTRAST:  # a blurred border's edges, moved, show as faint strokes along it
        ink &= ~(near_lines | _widened(borders, LINE_NEAR_MM, px_per_mm))
    inside_mm2 = np.bincount(in_box[ink & (in_box >= 0)], minlength=len(boxes)) / px_per_mm ** 2
    on_outlines = _widened(borders, BOX_LINE_MM / 2 + LINE_MARGIN_MM, px_per_mm)  # as ``box_outlines``
    others = [answer_area(g) for g in layout_page.fields if g is not f]
    origin = (rows.start, cols.start)
    joined: set[tuple[int, int]] = set()
    touched: set[int] = set()
    speck_px = areas.SPECK_MM2 * px_per_mm ** 2
    boxed = not words and isinstance(f, ChoiceField)  # boxes a tick can reach (``touched``)
    candidates: list[tuple[np.ndarray, np.ndarray, int, tuple[float, float], np.ndarray]] = []
    total_px, whole_px, apart_px, touching_px, weighted = 0, 0, 0, 0, np.zeros(2)
    level: list[tuple[float, float, float]] = []
    level_rows = (round(hull.y_mm * px_per_mm) - rows.start, round((hull.y_mm + hull.h_mm) * px_per_mm) - rows.start)
    moved_mm, shared = 0.0, LINE_SHARED if isinstance(f, LineField) else 1.0  # writing between two lines
    if isinstance(f, BoxesField):  # a stroke across a border is cut at the border laid out and at the one found
        moved_mm = max(max(abs(b.x_mm - p.x_mm), abs(b.y_mm - p.y_mm)) for b, p in zip(boxes, f.boxes, strict=True))
    for ys, xs in ink_pieces(ink, px_per_mm, BRIDGE_MM + moved_mm / 2):
        in_which = in_box[ys, xs]
        in_each = np.bincount(in_which[in_which >= 0], minlength=len(boxes))
        reached = np.flatnonzero(in_each >= STRADDLE_MM2 * px_per_mm ** 2)
        if len(reached) > 1 and not is_fold(page, ys, xs, origin, ink.shape, px_per_mm):
            joined.update((int(a), int(b)) for a in reached for b in reached if a < b)
        beside_ys, beside_xs = ys[in_which < 0], xs[in_which < 0]
        if len(beside_xs) < areas.SPECK_MM2 * px_per_mm ** 2:
            continue
        centre_mm = ((beside_xs.mean() + cols.start) / px_per_mm, (beside_ys.mean() + rows.start) / px_per_mm)
        own = distance_mm(*centre_mm, hull)
        nearest_mm = np.min(distance_mm((beside_xs + cols.start + 0.5) / px_per_mm,
                                         (beside_ys + rows.start + 0.5) / px_per_mm, zone))
        near_which = near_box[ys, xs]
        entered = np.flatnonzero(np.bincount(near_which[near_which >= 0], minlength=len(boxes)) >= speck_px)
        axis = creases.ink_axis(np.stack([beside_xs, beside_ys], axis=1))
        straight = axis is not None and axis.spread_px <= STRAIGHT_MAX_SPREAD_MM * px_per_mm
        if straight and axis.ends_px[1] - axis.ends_px[0] >= FOLD_MIN_MM * px_per_mm:
            entered = entered[:0]  # a long straight line reaching a box: a fold, not a tick's arm
        # a stroke that reaches one of these boxes and into no other field's is this field's, however much
        # nearer another it lies, unless centred within another's boxes: a tick whose low point is in a box's
        # corner, its arms over the gap to the row above (nearer that row's boxes, it was given to that row and
        # this row read blank at 1.0, 2026-12-07); a loop round a box of the row above that touches this row's
        # box is still that row's
        ours = boxed and len(entered) > 0 and np.count_nonzero(any_box[beside_ys, beside_xs]) < speck_px \
            and not any(distance_mm(*centre_mm, other) == 0.0 for other in others)
        if nearest_mm > reach_mm or not ours and nearer_another(centre_mm, own, others, shared):
            continue
        if straight and max(abs(axis.direction)) >= PRINTED_LINE_COS \
                and np.mean(near_lines[beside_ys, beside_xs]) >= ON_PRINTED_LINE_SHARE \
                and not _beside_its_line(page[rows, cols], beside_ys, beside_xs, borders, axis, px_per_mm, contrast):
            continue  # a printed rule or border that a bent page moved off its place, or a dash of it
        if np.mean(on_outlines[beside_ys, beside_xs]) >= ON_PRINTED_LINE_SHARE:
            continue  # a piece of a box's own outline where it was found: a bent page moves it past the print's
        candidates.append((beside_ys, beside_xs, len(xs), centre_mm, entered))
    # folds are looked for only where they could matter: a tick's overshoot beside its box is not enough
    worth_it = sum(candidate[2] for candidate in candidates) >= BESIDE_INK_MM2 * px_per_mm ** 2
    for beside_ys, beside_xs, whole, centre_mm, entered in candidates:
        if worth_it and is_fold(page, beside_ys, beside_xs, origin, ink.shape, px_per_mm):
            continue
        touching_px += whole if boxed and len(entered) else 0
        if boxed and len(entered) == 1 and len(beside_xs) >= BESIDE_INK_MM2 * px_per_mm ** 2:  # (two: ``joined``)
            touched.add(int(entered[0]))
        total_px += len(beside_xs)
        whole_px += whole
        apart_px += len(beside_xs) if len(beside_xs) >= APART_SHARE * whole else 0
        level_xs = beside_xs[(beside_ys >= level_rows[0]) & (beside_ys < level_rows[1])]
        if len(level_xs) and len(level_xs) >= LEVEL_SHARE * len(beside_xs):
            level.append((len(level_xs) / px_per_mm ** 2, (level_xs.min() + cols.start) / px_per_mm,
                          (level_xs.max() + 1 + cols.start) / px_per_mm))
        weighted += len(beside_xs) * np.array(centre_mm)
    centre = weighted / total_px if total_px else (hull.x_mm + hull.w_mm / 2, hull.y_mm + hull.h_mm / 2)
    return InkBeside(total_px / px_per_mm ** 2, whole_px / px_per_mm ** 2, (float(centre[0]), float(centre[1])),
                     tuple(float(a) for a in inside_mm2), frozenset(joined), apart_px / px_per_mm ** 2,
                     tuple((float(a), float(x0), float(x1)) for a, x0, x1 in level), frozenset(touched),
                     touching_px / px_per_mm ** 2)


def dark_off_print(page: np.ndarray, layout_page: Page, box: Box, px_per_mm: float, contrast: float = INK_CONTRAST
                   ) -> int:
    """Dark pixels off the print in ``box`` of ``page`` (the registered page), dark as ``dark_pixels`` counts
    them: a quick test before ``ink_beside`` is asked about a strip of a row."""
    rows, cols = box_slices(box, 0.0, page.shape, px_per_mm)
    window = page[rows, cols]
    if not window.size:
        return 0
    printed = print_masks(layout_page, page.shape[:2], px_per_mm)[0][rows, cols]
    return int(np.count_nonzero(_dark_off_print(window, printed, contrast)))


def _dark_off_print(window: np.ndarray, printed: np.ndarray, contrast: float) -> np.ndarray:
    """Pixels of ``window`` under ``1 - contrast`` of its lightest pixel, off the print (``printed``): every
    pixel ``ink_beside`` can take for ink at ``contrast`` is one."""
    return below(window, float(window.max()) * (1 - contrast)) & ~printed


def _window(f: Field, hull: Box, shape: tuple[int, ...], px_per_mm: float) -> tuple[slice, slice]:
    """Where the ink beside ``f`` (answered in ``hull``) is looked at: its zone (``_zone``) and what is drawn
    for it (``register.field_window``), ``BESIDE_MM + REACH_MM`` round them, as far as the page is drawn: a
    number begun within ``BESIDE_MM`` after a row's last box is seen whole."""
    return box_slices(bounding_box([_zone(f, hull), field_window(f, hull)]), BESIDE_MM + REACH_MM, shape, px_per_mm)


def _descenders(layout_page: Page, rows: slice, cols: slice, px_per_mm: float) -> np.ndarray:
    """Each run of ``layout_page``'s print with its descenders (``with_descent``), ``TEXT_MARGIN_MM`` wider,
    in the window ``rows``, ``cols`` of the registered page (bool): an underscore's dash in anchor words,
    moved by a bent page, is no writing near a line. Beside boxes the band under the baseline stays in view,
    where a loop round a box passes under its label."""
    return overprint.boxes_mask([with_descent(run) for run in layout_page.texts if run.text.strip()],
                                TEXT_MARGIN_MM, (rows.start, cols.start), (rows.stop - rows.start,
                                                                          cols.stop - cols.start), px_per_mm)


def is_fold(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, origin: tuple[int, int], shape: tuple[int, ...],
          px_per_mm: float) -> bool:
    """Whether a piece of ink (``ys``, ``xs``: its pixels in a window of ``shape`` at ``origin`` (row,
    column) of ``page``) is a fold: a thin straight line that runs on past both its ends
    (``creases.runs_on``), or that runs out of the window, where the page is not drawn, across it (out of
    two of its sides) or ``FOLD_MIN_MM`` long."""
    points = np.stack([xs + origin[1], ys + origin[0]], axis=1)
    sides = (xs.min() == 0) + (ys.min() == 0) + (xs.max() == shape[1] - 1) + (ys.max() == shape[0] - 1)
    if sides:
        axis = creases.thin_line(points, px_per_mm, STRAIGHT_MAX_SPREAD_MM)
        if axis is not None and (sides > 1 or axis.ends_px[1] - axis.ends_px[0] >= FOLD_MIN_MM * px_per_mm):
            return True
    return creases.runs_on(page, points, px_per_mm)


def ink_pieces(ink: np.ndarray, px_per_mm: float, bridge_mm: float = BRIDGE_MM) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pixels (rows, columns) of each piece of ``ink``: strokes that the print cuts apart (a tick's
    tail across its box's border, a loop across a row's rule) are joined again over ``bridge_mm``, so each
    is judged whole and given to the field it answers."""
    count, labels = cv2.connectedComponents(_widened(ink.astype(np.uint8), bridge_mm, px_per_mm).view(np.uint8),
                                            connectivity=8)
    ys, xs = np.nonzero(ink)
    of = labels[ys, xs]
    order = np.argsort(of, kind="stable")
    bounds = np.searchsorted(of[order], np.arange(1, count + 1))
    return [(ys[order[bounds[k - 1]:bounds[k]]], xs[order[bounds[k - 1]:bounds[k]]]) for k in range(1, count)]


def distance_mm(x_mm: float | np.ndarray, y_mm: float | np.ndarray, box: Box) -> float | np.ndarray:
    """From each point (x, y mm) to the nearest point of ``box`` (0 inside it)."""
    dx = np.maximum(np.maximum(box.x_mm - x_mm, 0.0), x_mm - box.x_mm - box.w_mm)
    dy = np.maximum(np.maximum(box.y_mm - y_mm, 0.0), y_mm - box.y_mm - box.h_mm)
    return np.hypot(dx, dy)


def within_window(box: Box, rows: slice, cols: slice, shape: tuple[int, ...], px_per_mm: float,
                  margin_mm: float = 0.0) -> tuple[slice, slice]:
    """``box`` (grown by ``margin_mm``)'s rows and columns in the window ``rows``, ``cols`` of a page of
    ``shape``, cut at the window's start."""
    box_rows, box_cols = box_slices(box, margin_mm, shape, px_per_mm)
    return (slice(max(0, box_rows.start - rows.start), max(0, box_rows.stop - rows.start)),
            slice(max(0, box_cols.start - cols.start), max(0, box_cols.stop - cols.start)))


def print_masks(layout_page: Page, shape: tuple[int, int], px_per_mm: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``layout_page`` prints, as bool masks of the registered page (``shape``): its text (and the
    markers, QR code and serial every page prints) widened by
    ``TEXT_MARGIN_MM`` and its boxes and rules by ``LINE_MARGIN_MM`` (taken out of the ink), and its boxes
    and rules widened by ``LINE_NEAR_MM`` (a piece of ink nearly all within is a printed line a bent page
    moved), and the inside of every box of its fields. Kept for the last few page layouts, as a batch reads
    the same few again and again."""
    return _PRINT_MASKS.get(layout_page, (shape, px_per_mm), lambda: _print_masks(layout_page, shape, px_per_mm))


def _print_masks(layout_page: Page, shape: tuple[int, int], px_per_mm: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = expected_print(layout_page, px_per_mm, lines=False, shape=shape)
    lines = expected_print(layout_page, px_per_mm, text=False, shape=shape)
    in_boxes = np.zeros(shape, bool)
    for f in layout_page.fields:
        for box in field_boxes(f):
            in_boxes[box_slices(box, 0.0, shape, px_per_mm)] = True
    # the serial printed under the QR code is print too (a goal card's date boxes lie just under it), but
    # what lies within a field's boxes is the field's
    serial = (1 - common_print(layout_page, px_per_mm, shape)).astype(bool) & ~in_boxes
    return (_widened(text, TEXT_MARGIN_MM, px_per_mm) | _widened(lines, LINE_MARGIN_MM, px_per_mm) | serial,
            _widened(lines, LINE_NEAR_MM, px_per_mm), in_boxes)


def _beside_its_line(window: np.ndarray, ys: np.ndarray, xs: np.ndarray, borders: np.ndarray, axis: creases.Axis,
                     px_per_mm: float, contrast: float) -> bool:
    """Whether a straight upright piece of ink (``ys``, ``xs`` in ``window``, the grey round a field) lies beside
    the boxes' sides where found (``borders``, a pixel wide), those sides showing where they are, with paper
    between it and one of them: a "1" written in the gap between two digit boxes, not a border a bent page
    moved (which leaves its place light). Along ``SEPARATE_ROWS_SHARE`` of the piece's rows, each side found
    within ``LINE_NEAR_MM`` of it is ``contrast`` darker than the paper (a pixel either way), and between one of
    them and the piece lies a pixel half that lighter than both."""
    if abs(axis.direction[1]) < PRINTED_LINE_COS:  # across the page: rules, not the gap between two boxes
        return False
    paper = float(np.percentile(window, PAPER_PERCENTILE))
    dark, margin = paper * (1 - contrast), paper * contrast / 2
    reach = int(round(LINE_NEAR_MM * px_per_mm))
    apart, looked = 0, 0
    for y in np.unique(ys):
        row, along = window[y].astype(np.int16), xs[ys == y]
        lines = np.flatnonzero(borders[y])
        sides = [(int(x), int(along.min()) - 1) for x in lines[(lines < along.min()) & (lines >= along.min() - reach)]]
        sides += [(int(x), int(along.max()) + 1) for x in lines[(lines > along.max()) & (lines <= along.max() + reach)]]
        if not sides:
            continue
        looked += 1
        piece = int(row[along].min())
        levels = [_line_and_gap(row, line_x, edge_x) for line_x, edge_x in sides]
        shown = all(line <= dark for line, _ in levels)
        apart += shown and any(gap - max(line, piece) >= margin for line, gap in levels)
    return looked > 0 and apart >= SEPARATE_ROWS_SHARE * looked


def _line_and_gap(row: np.ndarray, line_x: int, edge_x: int) -> tuple[int, int]:
    """Along ``row``, a box's side found at ``line_x``: its darkest level a pixel either way, and the lightest level
    between that darkest pixel and ``edge_x``, the edge of a piece of ink beside it (inclusive); the paper's -1
    where none lies between."""
    near = np.arange(max(0, line_x - 1), min(len(row), line_x + 2))
    darkest = int(near[row[near].argmin()])
    between = row[darkest + 1:edge_x + 1] if edge_x > darkest else row[edge_x:darkest]
    return int(row[darkest]), int(between.max()) if len(between) else -1


def _widened(mask: np.ndarray, margin_mm: float, px_per_mm: float) -> np.ndarray:
    """``mask`` (0/1 uint8) grown by ``margin_mm`` each way, as bool."""
    size = 2 * int(round(margin_mm * px_per_mm)) + 1
    return cv2.dilate(mask, np.ones((size, size), np.uint8)).astype(bool)


def box_borders(boxes: list[Box], rows: slice, cols: slice, page_shape: tuple[int, ...], px_per_mm: float
                ) -> np.ndarray:
    """The outlines of ``boxes`` where found, a pixel wide, in the window ``rows``, ``cols`` of a page of
    ``page_shape`` (0/1 uint8, the window's shape): a bent page moves them up to a millimetre from the print."""
    borders = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.uint8)
    for box in boxes:
        box_rows, box_cols = within_window(box, rows, cols, page_shape, px_per_mm)
        cv2.rectangle(borders, (box_cols.start, box_rows.start), (box_cols.stop - 1, box_rows.stop - 1), 1, 1)
    return borders


def box_outlines(boxes: list[Box], rows: slice, cols: slice, page_shape: tuple[int, ...], px_per_mm: float
                 ) -> np.ndarray:
    """``box_borders`` as wide as a printed border and its blur (``BOX_LINE_MM / 2 + LINE_MARGIN_MM`` each side),
    as bool: a piece of ink mostly on them (``ON_PRINTED_LINE_SHARE``) is a border, which a page registered in
    waves (a 3 MP photo's rolling shutter, a bent page) leaves beside the print's mask in dashes or runs
    (2026-12-07: 10 rows flagged as marks between rows on 10 such pages; a bent goal card's row as an arrow)."""
    return _widened(box_borders(boxes, rows, cols, page_shape, px_per_mm), BOX_LINE_MM / 2 + LINE_MARGIN_MM, px_per_mm)
