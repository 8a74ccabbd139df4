"""Marks beside a choice field's boxes: a circled box, a tick next to one, a tick between two, a circled
label. Such a row has no box marked, so it read blank with full confidence and the answer was lost without
a word; or its one marked box holds the end of a stroke that lies mostly elsewhere. Either is flagged, for
a person to read.

Ink counts when it is handwriting (``areas.handwriting_mask``: strokes, not printed rules nor a shadow's
edge), lies off the page's print (``identify.expected_print``, widened for descenders and registration),
is no fold (``creases.runs_on``, or a thin straight line running out of the part of the page registered
around the field) nor a printed line that a bent page moved, and comes within ``BESIDE_MM`` of this
field's boxes, its centre nearer them than any other field's. Pixels are those of the registered page
(``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Page, field_box
from formkit.records import FieldValue

from . import areas, creases
from .identify import expected_print
from .register import WARP_PX_PER_MM, box_slices
from .resolve import REVIEW_CONFIDENCE

BESIDE_MM = 4.0  # around a field's boxes: a circle round a 5 mm box, a tick beside it, a circled label
REACH_MM = 1.0  # further out, so that a mark crossing into the zone is seen whole (the page is warped
#                only 5 mm round each field: register.FIELD_MARGIN_MM)
TEXT_MARGIN_MM = 1.0  # around printed text: descenders, anti-aliasing, a page registered 0.5 mm off
# around printed boxes and rules, whose ink the handwriting mask mostly takes out already: wider, and it
# would cover the 1.2 mm between a goal card's boxes, where a tick astride two of them lies
LINE_MARGIN_MM = 0.3
LINE_NEAR_MM = 1.0  # a bent or crumpled page moves its rules up to 0.75 mm from where registration puts them
ON_PRINTED_LINE_SHARE = 0.8  # of a straight piece of ink within LINE_NEAR_MM of a printed line: that line
BESIDE_INK_MM2 = 0.75  # a short pencil tick (6 mm of a 0.25 mm line is 1.5 mm²) is well over this
OUTSIDE_SHARE = 2.0  # a tick twice the box's size has as much ink beside it as in it; one astride two
#                     boxes has most of its ink between them
# straight as a printed line or a crease: their pixels spread 0.05-0.15 mm across it, a tick's (its long arm
# with its short one) 0.3 mm, a quarter of a loop round a box 0.35 mm
STRAIGHT_MAX_SPREAD_MM = 0.2
BRIDGE_MM = 0.5  # a printed border and its margin cut a stroke crossing it by less than twice this
STRADDLE_MM2 = 0.25  # of ink in the next box, reached across the gap: a goal card's boxes are 1.2 mm apart
PRINT_CACHE_PAGES = 4  # an A4 page's two masks take 8 MB
_PRINT_CACHE: OrderedDict[tuple, tuple[Page, tuple[np.ndarray, np.ndarray]]] = OrderedDict()


@dataclass(frozen=True)
class InkBeside:
    """Handwriting around a choice field's boxes that belongs to it rather than to another field."""

    area_mm2: float  # off the print, outside the field's boxes, within BESIDE_MM of them
    whole_mm2: float  # the same pieces of ink with their parts inside the boxes (a tick between two)
    centre_mm: tuple[float, float]  # (x, y) of that ink; the boxes' centre when there is none
    inside_mm2: tuple[float, ...]  # within each option's box, off its printed border
    joined: frozenset[tuple[int, int]]  # options (a < b) that one piece of ink runs into, STRADDLE_MM2 in each


def flag_marks_beside(page: np.ndarray, layout_page: Page, values: list[FieldValue], px_per_mm: float = WARP_PX_PER_MM
                      ) -> None:
    """Flag, in place, each unflagged choice value of ``values`` whose mark may not be what it reads as:

    - no box marked, and handwriting beside the boxes (``BESIDE_INK_MM2`` or more, what of it lies inside
      them counted): a circled box, a tick beside one or between two;
    - one box ticked or crossed (single choice), and ``OUTSIDE_SHARE`` times more ink beside the boxes than
      in it, or its stroke running across the gap into the next box (``STRADDLE_MM2`` there): a tick
      astride two boxes, or a second answer circled.

    The ink's area (mm²) and the option nearest it go into ``raw["beside"]``. ``page``: the registered page
    (2-D uint8 grey)."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        if not isinstance(f, ChoiceField) or value.needs_review:
            continue
        states = value.raw.get("states", [])
        if value.value and (f.multiple or states.count("marked") != 1):
            continue
        ink = ink_beside(page, layout_page, f, px_per_mm)
        reason = _doubt(ink, f, states)
        if reason:
            nearest = min(f.options, key=lambda o: _distance_mm(ink.centre_mm, o.box)).value
            value.raw["beside"] = {"ink_mm2": round(ink.area_mm2, 2), "nearest": str(nearest)}
            value.needs_review = True
            value.confidence = min(value.confidence, REVIEW_CONFIDENCE)
            value.reason = reason.format(nearest=nearest)


def _doubt(ink: InkBeside, f: ChoiceField, states: list[str]) -> str:
    """Why the reading of ``f`` (its boxes' ``states``, as ``marks.Mark`` values) is in doubt given ``ink``;
    '' if it is not. ``{nearest}`` in the text stands for the option nearest the ink beside the boxes."""
    marked = [k for k, state in enumerate(states) if state == "marked"]
    if not marked:
        if ink.joined:
            a, b = min(ink.joined)
            return (f"no box is marked, but a mark runs across options {f.options[a].value} and "
                    f"{f.options[b].value}: a tick between two answers?")
        if ink.whole_mm2 >= BESIDE_INK_MM2:
            return ("no box is marked, but there is a mark beside the boxes, nearest option {nearest}: a circled "
                    "box or a tick beside it?")
        return ""
    m = marked[0]
    for k in (m - 1, m + 1):  # a filled box beside it is the printed convention: not in doubt here
        if 0 <= k < len(f.options) and states[k] == "empty" and (min(k, m), max(k, m)) in ink.joined:
            return (f"the mark in option {f.options[m].value} runs on into option {f.options[k].value}: a tick "
                    "between two answers?")
    others_empty = all(state == "empty" for k, state in enumerate(states) if k != m)  # a fill's edge spills over
    if others_empty and ink.area_mm2 >= BESIDE_INK_MM2 and ink.area_mm2 >= OUTSIDE_SHARE * ink.inside_mm2[m]:
        return ("most of the mark lies beside the boxes, nearest option {nearest}: a tick between two boxes, or a "
                "box circled?")
    return ""


def ink_beside(page: np.ndarray, layout_page: Page, f: ChoiceField, px_per_mm: float = WARP_PX_PER_MM) -> InkBeside:
    """The handwriting around ``f``'s boxes on ``page`` (the registered page, 2-D uint8 grey): a piece of
    ink beside them is ``f``'s when it comes within ``BESIDE_MM`` of them, its centre is nearer them than
    any other field, and it is neither a printed line moved nor a fold (see the module's text)."""
    hull = field_box(f)
    rows, cols = box_slices(hull, BESIDE_MM + REACH_MM, page.shape, px_per_mm)
    printed, near_lines = (mask[rows, cols] for mask in _print_masks(layout_page, page.shape[:2], px_per_mm))
    ink = areas.handwriting_mask(page[rows, cols], px_per_mm) & ~printed
    in_box = np.full(ink.shape, -1, np.int8)  # which option's box a pixel is in
    for k, option in enumerate(f.options):
        box_rows, box_cols = box_slices(option.box, 0.0, page.shape, px_per_mm)
        in_box[box_rows.start - rows.start:box_rows.stop - rows.start,
               box_cols.start - cols.start:box_cols.stop - cols.start] = k
    inside_mm2 = np.bincount(in_box[ink & (in_box >= 0)], minlength=len(f.options)) / px_per_mm ** 2
    others = [field_box(g) for g in layout_page.fields if g is not f]
    joined: set[tuple[int, int]] = set()
    total_px, weighted = 0, np.zeros(2)
    whole_px = 0
    for ys, xs in _pieces(ink, px_per_mm):
        boxes = in_box[ys, xs]
        size = len(xs)
        reached = np.flatnonzero(np.bincount(boxes[boxes >= 0], minlength=len(f.options))
                                 >= STRADDLE_MM2 * px_per_mm ** 2)
        joined.update((int(a), int(b)) for a in reached for b in reached if a < b)
        ys, xs = ys[boxes < 0], xs[boxes < 0]  # what lies beside the boxes
        if len(xs) < areas.SPECK_MM2 * px_per_mm ** 2:
            continue
        centre_mm = ((xs.mean() + cols.start) / px_per_mm, (ys.mean() + rows.start) / px_per_mm)
        own = _distance_mm(centre_mm, hull)
        if _nearest_mm(xs + cols.start, ys + rows.start, hull, px_per_mm) > BESIDE_MM \
                or any(_distance_mm(centre_mm, box) < own for box in others):
            continue
        points = np.stack([xs + cols.start, ys + rows.start], axis=1)
        axis = creases.ink_axis(points)
        straight = axis is not None and axis.spread_px <= STRAIGHT_MAX_SPREAD_MM * px_per_mm
        if straight and np.mean(near_lines[ys, xs]) >= ON_PRINTED_LINE_SHARE:
            continue  # a printed rule or border that a bent page moved off its place, or a dash of it
        at_edge = xs.min() == 0 or ys.min() == 0 or xs.max() == ink.shape[1] - 1 or ys.max() == ink.shape[0] - 1
        if (at_edge and creases.thin_line(points, px_per_mm, STRAIGHT_MAX_SPREAD_MM) is not None) \
                or creases.runs_on(page, points, px_per_mm):
            continue  # a fold: it runs on past both ends, or out of the part of the page registered
        total_px += len(xs)
        whole_px += size
        weighted += len(xs) * np.array(centre_mm)
    centre = weighted / total_px if total_px else (hull.x_mm + hull.w_mm / 2, hull.y_mm + hull.h_mm / 2)
    return InkBeside(total_px / px_per_mm ** 2, whole_px / px_per_mm ** 2, (float(centre[0]), float(centre[1])),
                     tuple(float(a) for a in inside_mm2), frozenset(joined))


def _pieces(ink: np.ndarray, px_per_mm: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pixels (rows, columns) of each piece of ``ink``: strokes that the print cuts apart (a tick's
    tail across its box's border, a loop across a row's rule) are joined again over ``BRIDGE_MM``, so each
    is judged whole and given to the field it answers."""
    size = 2 * int(round(BRIDGE_MM * px_per_mm)) + 1
    count, labels = cv2.connectedComponents(cv2.dilate(ink.astype(np.uint8), np.ones((size, size), np.uint8)),
                                            connectivity=8)
    ys, xs = np.nonzero(ink)
    of = labels[ys, xs]
    order = np.argsort(of, kind="stable")
    bounds = np.searchsorted(of[order], np.arange(1, count + 1))
    return [(ys[order[bounds[k - 1]:bounds[k]]], xs[order[bounds[k - 1]:bounds[k]]]) for k in range(1, count)]


def _distance_mm(point_mm: tuple[float, float], box: Box) -> float:
    """From a point to the nearest point of ``box`` (0 inside it)."""
    x, y = point_mm
    dx = max(box.x_mm - x, 0.0, x - box.x_mm - box.w_mm)
    dy = max(box.y_mm - y, 0.0, y - box.y_mm - box.h_mm)
    return float(np.hypot(dx, dy))


def _nearest_mm(xs: np.ndarray, ys: np.ndarray, box: Box, px_per_mm: float) -> float:
    """From the nearest of the pixels (``xs``, ``ys``, of the registered page) to ``box`` (0 inside it)."""
    x_mm, y_mm = (xs + 0.5) / px_per_mm, (ys + 0.5) / px_per_mm
    dx = np.maximum(np.maximum(box.x_mm - x_mm, 0.0), x_mm - box.x_mm - box.w_mm)
    dy = np.maximum(np.maximum(box.y_mm - y_mm, 0.0), y_mm - box.y_mm - box.h_mm)
    return float(np.sqrt(np.min(dx * dx + dy * dy)))


def _print_masks(layout_page: Page, shape: tuple[int, int], px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Where ``layout_page`` prints, as bool masks of the registered page (``shape``): its text widened by
    ``TEXT_MARGIN_MM`` and its boxes and rules by ``LINE_MARGIN_MM`` (taken out of the ink), and its boxes
    and rules widened by ``LINE_NEAR_MM`` (a piece of ink nearly all within is a printed line a bent page
    moved). Kept for the last few page layouts, as a batch reads the same few again and again."""
    key = (id(layout_page), shape, px_per_mm)  # hashing a page's whole geometry costs more than the rest
    if key in _PRINT_CACHE:
        _PRINT_CACHE.move_to_end(key)
        return _PRINT_CACHE[key][1]

    def widened(margin_mm: float, **part: bool) -> np.ndarray:
        size = 2 * int(round(margin_mm * px_per_mm)) + 1
        return cv2.dilate(expected_print(layout_page, px_per_mm, shape=shape, **part),
                          np.ones((size, size), np.uint8)).astype(bool)

    masks = (widened(TEXT_MARGIN_MM, lines=False) | widened(LINE_MARGIN_MM, text=False),
             widened(LINE_NEAR_MM, text=False))
    _PRINT_CACHE[key] = (layout_page, masks)  # the page kept, so its id is not another's while cached
    if len(_PRINT_CACHE) > PRINT_CACHE_PAGES:
        _PRINT_CACHE.popitem(last=False)
    return masks
