"""A mind changed by an arrow: a tick or cross in one box of a row, then an arrow drawn from it (from the mark or
from the box's border) along the row to another box, straight and level with the boxes or arched over or under
those between. The straight shaft is as long and level as a rule, so ``areas.handwriting_mask`` takes it out of the
ink ``beside`` weighs, and the marked box was read as the answer at confidence 1.0, unflagged: 164 of 925 such
rows in a throwaway pass (2026-12-06), 158 of 1,148 in ``unusual_marks.py``'s *moved* (2026-12-07; 40 with this
rule). Which box is meant (the first, or the one the arrow points to?) is for a person: the row is flagged, the
arrow's place kept.

A person's tick leaves its box upwards, slanting, and stays within a few millimetres of it; a cross reaches past
its corners, both ways; a fold, a ruler's line or a line struck through runs on past both sides of the box. An
arrow leaves the box past one side only and runs along the row, much further than it rises or falls. So the ink
off the page's print round the row (straight runs kept) is cut into pieces, joined again across the print they
cross (``BRIDGE_MM`` along the row, ``BRIDGE_ACROSS_MM`` up and down); a piece that reaches the marked box
(``NEAR_MM``) and leaves it is followed on across wider print (an arc under the boxes through their printed
numbers, along a printed rule, over the instructions) to the next piece ahead the way it runs (``CHAIN_MM``, the
straight way between them on the print), and is an arrow when its ink outside the box runs ``LEAST_ALONG_MM`` or
more past one of its sides towards another box of the row, ``LEVEL_RATIO`` times further than it spans up and
down ``OTHER_SIDE_MM`` or more out (clear of the mark's own overshoot), and ends on that box, within ``TARGET_MM``
of it or past the middle of the gap before it; not when it reaches more than ``OTHER_SIDE_MM`` past the box's
other side, or the window's ends (2 mm past the row's end boxes), nor when it is one thin straight line that
goes on along its axis through the far half of the box and past its other side (``THROUGH_MM``): a fold or a
ruler's line cut into pieces by the borders' print.

Where the next box is ``GAP_MM`` or less away (a goal card's row, its boxes 1.24 mm apart), an arrow to it has no
shaft to measure: a stroke across the gap and a head at or in that box, or an arc dipping between the two boxes'
printed numbers. A piece that reaches the marked box is such an arrow when ``GAP_INK_MM2`` or more of it lies in
the gap's middle band (``MIDDLE_MM`` up and down from the row's middle, from ``GAP_CLEAR_MM`` past the box's side)
or ``UNDER_INK_MM2`` or more under the gap (``UNDER_MM`` below the boxes or lower): a tick leaves its box higher
and a cross at its corners, neither so far down; the next box must be read empty (a box filled in to cancel it
runs over its side into the gap). An arrow further along the row is looked for first.

Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Page, bounding_box
from formkit.records import FieldValue

from . import creases, placement
from .beside_ink import ON_PRINTED_LINE_SHARE, box_outlines, print_masks, within_window
from .ink import INK_CONTRAST, below, stroke_ink
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

RAW_ARROW = "arrow"
ARC_MM = 4.5  # above and below the row: an arrow arched over the boxes between rises 1.5-3 mm clear of them
SIDE_MM = 2.0  # before the row's first box and after its last
BRIDGE_MM = 0.5  # a printed border and its margin cut a shaft crossing another box by less than twice this
# up and down: a row's printed rule and its margin cut an arched arrow crossing it at a slant by up to 1 mm, and a
# pencil stroke's edges are lost beside it (2026-12-07: a pencil arc under an alliance-check row, cut in two)
BRIDGE_ACROSS_MM = 0.8
NEAR_MM = 0.8  # of the marked box: a shaft begun at its border, the border's print margin between them
OWN_MM = 0.5  # round the marked box, its own mark and border's blur: not the arrow
LEAST_ALONG_MM = 3.0  # past the marked box's side; a tick twice its box's size overshoots 2.5 mm, slanting
OTHER_SIDE_MM = 1.5  # past its other side: a cross drawn large; a fold or a ruler's line runs on
TARGET_MM = 2.5  # the arrow's far end, from another box of the row: its head 0-1.5 mm before it, or past the
#                  middle of the gap before that box
LEVEL_RATIO = 2.0  # along the row, against up and down: a long tick's tail rises as far as it runs
SEEN_STATES = ("marked",)
THROUGH_MM = 3.0  # past the marked box's other side, where a fold or ruler's line goes on and an arrow does not
THROUGH_SHARE = 0.5
QUICK_RING_MM = 1.5  # round the marked box, where an arrow's first millimetre lies
# in that ring off the print: a pencil line (0.25 mm) across half of it. A goal card's ring is nearly all print (the
# 1.24 mm gaps, the numbers under the boxes): an arc leaving a box there showed 12-15 px (0.19-0.23 mm2) of the
# 16 first asked for (2026-12-07)
QUICK_INK_MM2 = 0.125
# An arrow to the next box of a row whose boxes are close (a goal card's, 1.24 mm apart) has no shaft to see: a
# stroke across the gap and a head at (or in) the next box. 2026-12-07, goal cards, 30 pages in each of
# unusual_marks' four captures, the arrow to the next box: 111-114 of 120 rows a capture read as the first box
# unflagged. Ink off the print in the gap's middle band (MIDDLE_MM up and down, from GAP_CLEAR_MM past the marked
# box's side to the next box): arrows 0.25-0.31 mm2 (median), 0.15 or more in 63-66 % of them; ticks (282 rows)
# and crosses (292) beside a neighbour 0.11 mm2 at most (a 1-bit copy's tick), nearly all 0.
GAP_MM = 2.0  # between the marked box and its neighbour, at most
GAP_CLEAR_MM = 0.5  # past the marked box's side: a tick's start or a cross's arm reaches 0.4-0.65 mm out
MIDDLE_MM = 1.2  # up and down from the row's middle: a level arrow's shaft and head; a tick's tail leaves its box
#                 higher (1.2-1.5 mm above the middle and rising), a cross's arms at the corners
GAP_INK_MM2 = 0.15
# Arched under the row (three in ten of unusual_marks' arrows), it dips between the two boxes' printed numbers:
# 1.1-2.1 mm2 of ink 1 mm or more below the boxes in 21 % of the next-box arrows still read unflagged by the gap's
# band; ticks and crosses none, and a tick twice its box's size on the row below 0.42 at most (unjoined to the box).
# Over the row a tick's tail rises as an arc does: not looked at.
UNDER_MM = 1.0  # below the boxes: a cross's arm or a tick's foot reaches 0.4-0.8 mm
UNDER_SIDE_MM = 1.0  # either side of the gap: the numbers printed under the boxes hide the rest
UNDER_INK_MM2 = 0.5
# An arc under or over the row crosses the boxes' printed numbers, the instructions or a printed rule, whose masks
# (text 1 mm round) cut it into pieces 3.6-3.7 mm apart (a goal card's numbers, 2026-12-07): a piece leaving the
# marked box is followed on across the print to the next piece ahead, the way it runs.
CHAIN_MM = 4.5
CHAIN_BACK_MM = 1.5  # the piece's end, its way measured over this
CHAIN_TURN_DEG = 45.0
_CHAIN_TURN_COS = float(np.cos(np.deg2rad(CHAIN_TURN_DEG)))
CHAIN_PRINT_SHARE = 0.8  # of the straight way between the two pieces on the print
CHAIN_LINKS = 6


def flag_arrows(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged single-choice value of ``values`` read as one marked box from which an
    arrow runs along the row towards another box (``arrow_from``). ``raw[RAW_ARROW]`` holds the two options and
    the arrow's far end (x, y mm on the registered page). ``page``: the registered page (2-D uint8 grey); the
    boxes are looked for where the field's reading found them."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        states = value.raw.get("states", [])
        if not isinstance(f, ChoiceField) or f.multiple or not value.value or value.needs_review \
                or len(states) != len(f.options) or sum(state in SEEN_STATES for state in states) != 1:
            continue
        marked = next(k for k, state in enumerate(states) if state in SEEN_STATES)
        found = arrow_from(page, layout_page, placement.found_boxes(f, value), marked, px_per_mm,
                           empty={k for k, state in enumerate(states) if state == "empty"})
        if found is None:
            continue
        towards, end_mm = found
        first, other = str(f.options[marked].value), str(f.options[towards].value)
        value.raw[RAW_ARROW] = {"from": first, "towards": other, "end_mm": [round(v, 1) for v in end_mm]}
        flag_for_review(value, f"an arrow from option {first} towards option {other}: which answer?")


def arrow_from(page: np.ndarray, layout_page: Page, boxes: list[Box], marked: int,
               px_per_mm: float = WARP_PX_PER_MM, empty: Collection[int] = ()
               ) -> tuple[int, tuple[float, float]] | None:
    """The box of ``boxes`` (a row, where found) that an arrow from ``boxes[marked]`` points to, and the arrow's
    far end (x, y mm); ``None`` when no piece of ink leaves the marked box as an arrow (see the module's text).
    ``empty``: the boxes read empty, which an arrow to the next box may point to."""
    box = boxes[marked]
    printed = print_masks(layout_page, page.shape[:2], px_per_mm)[0]
    if not _ink_round(page, printed, box, px_per_mm):
        return None
    hull = bounding_box(boxes)
    rows, cols = box_slices(Box(hull.x_mm - SIDE_MM, hull.y_mm - ARC_MM, hull.w_mm + 2 * SIDE_MM,
                                hull.h_mm + 2 * ARC_MM), 0.0, page.shape, px_per_mm)
    ink = stroke_ink(page[rows, cols], px_per_mm, INK_CONTRAST) & ~printed[rows, cols]
    kernel = np.ones((2 * int(round(BRIDGE_ACROSS_MM * px_per_mm)) + 1, 2 * int(round(BRIDGE_MM * px_per_mm)) + 1),
                     np.uint8)
    labels = cv2.connectedComponents(cv2.dilate(ink.astype(np.uint8), kernel), connectivity=8)[1]
    labels[~ink] = 0
    near = labels[within_window(box, rows, cols, page.shape, px_per_mm, NEAR_MM)]
    # a bent page's box borders lie beside the print's mask, joined into a run along the row (a 3 MP photo of a
    # goal card: its bottom borders read as an arrow from a tick, 2026-12-07)
    outlines = box_outlines(boxes, rows, cols, page.shape, px_per_mm)
    own = np.zeros(ink.shape, bool)
    own[within_window(box, rows, cols, page.shape, px_per_mm, OWN_MM)] = True
    left, right = box.x_mm * px_per_mm - cols.start, (box.x_mm + box.w_mm) * px_per_mm - cols.start
    neighbour: tuple[float, int, tuple[float, float]] | None = None  # the most ink in a gap, its box and where
    for label in np.unique(near[near > 0]):
        ys, xs = np.nonzero((labels == label) & ~own)
        if len(xs) == 0 or xs.min() == 0 or xs.max() == ink.shape[1] - 1:
            continue  # runs on past the row's ends: a fold, a ruler's line
        if np.mean(outlines[ys, xs]) >= ON_PRINTED_LINE_SHARE:
            continue  # the boxes' own borders
        in_gap = _in_gap(boxes, marked, empty, ys + rows.start, xs + cols.start, px_per_mm)
        if in_gap is not None and (neighbour is None or in_gap[0] > neighbour[0]):
            neighbour = in_gap
        past_right, past_left = (xs.max() + 1 - right) / px_per_mm, (left - xs.min()) / px_per_mm
        step = 1 if past_right >= past_left else -1
        if max(past_right, past_left) > OWN_MM:
            ys, xs = _chained(labels, printed[rows, cols], label, ys, xs, step, px_per_mm)
            if xs.min() == 0 or xs.max() == ink.shape[1] - 1:
                continue
            past_right, past_left = (xs.max() + 1 - right) / px_per_mm, (left - xs.min()) / px_per_mm
        along, other = max(past_right, past_left), min(past_right, past_left)
        if along < LEAST_ALONG_MM or other > OTHER_SIDE_MM:
            continue
        beyond = xs > right if step > 0 else xs < left
        # up and down, where the mark's own overshoot is left behind (a tick's tail leaves its box 1-2 mm up)
        away = (xs - right > OTHER_SIDE_MM * px_per_mm) if step > 0 else (left - xs > OTHER_SIDE_MM * px_per_mm)
        if along < LEVEL_RATIO * (ys[away].max() + 1 - ys[away].min()) / px_per_mm:
            continue
        end_x = float(xs.max() + 1 if step > 0 else xs.min()) / px_per_mm + cols.start / px_per_mm
        end_y = float(ys[xs == (xs.max() if step > 0 else xs.min())].mean() + rows.start) / px_per_mm
        towards = _target(boxes, marked, step, end_x)
        if towards is None:
            continue
        if _runs_through(ink, printed[rows, cols], xs[beyond], ys[beyond], (left, right), step, px_per_mm):
            continue
        return towards, (end_x, end_y)
    return None if neighbour is None else neighbour[1:]


def _in_gap(boxes: list[Box], marked: int, empty: Collection[int], ys: np.ndarray, xs: np.ndarray,
            px_per_mm: float) -> tuple[float, int, tuple[float, float]] | None:
    """Of a piece of ink (``ys``, ``xs``: its pixels on the page) by ``boxes[marked]``, the most that lies on the way
    to a neighbour ``GAP_MM`` or less away: in the middle band of the gap (``MIDDLE_MM`` up and down, from
    ``GAP_CLEAR_MM`` past the box's side), ``GAP_INK_MM2`` or more, or under the gap (``UNDER_MM`` below the boxes
    and lower, ``UNDER_SIDE_MM`` either side), ``UNDER_INK_MM2`` or more, the neighbour one of ``empty`` (read
    empty): (that ink in mm2, the neighbour, its end nearest the neighbour (x, y mm)); else ``None``. An arrow
    to the next box of a goal card's row crosses there; a tick or cross stays clear."""
    box = boxes[marked]
    y_mm = (ys + 0.5) / px_per_mm
    level = np.abs(y_mm - (box.y_mm + box.h_mm / 2)) <= MIDDLE_MM
    under = y_mm >= box.y_mm + box.h_mm + UNDER_MM
    best = None
    for step in (-1, 1):
        ahead = [k for k, other in enumerate(boxes) if (other.x_mm - box.x_mm) * step > 0]
        if not ahead:
            continue
        k = min(ahead, key=lambda j: abs(boxes[j].x_mm - box.x_mm))
        side_mm = box.x_mm + box.w_mm if step > 0 else box.x_mm
        gap_mm = ((boxes[k].x_mm if step > 0 else boxes[k].x_mm + boxes[k].w_mm) - side_mm) * step
        if gap_mm > GAP_MM or k not in empty:  # not empty: filled in to cancel it (its fill over the side into
            continue  # the gap) or marked, its own ink
        past_mm = ((xs + 0.5) / px_per_mm - side_mm) * step
        across = level & (past_mm >= GAP_CLEAR_MM) & (past_mm <= gap_mm)
        below = under & (past_mm >= -UNDER_SIDE_MM) & (past_mm <= gap_mm + UNDER_SIDE_MM)
        for inside, least_mm2 in ((across, GAP_INK_MM2), (below, UNDER_INK_MM2)):
            ink_mm2 = np.count_nonzero(inside) / px_per_mm ** 2
            if ink_mm2 >= least_mm2 and (best is None or ink_mm2 > best[0]):
                end = np.flatnonzero(inside)[np.argmax(past_mm[inside])]
                best = (ink_mm2, k, (float(xs[end] + 0.5) / px_per_mm, float(y_mm[end])))
    return best


def _chained(labels: np.ndarray, printed: np.ndarray, label: int, ys: np.ndarray, xs: np.ndarray, step: int,
             px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The piece ``ys``, ``xs`` (of ``labels``' ``label``, leaving the marked box towards ``step``) with the pieces
    it leads on to across the print: from its far end, the nearest piece ahead within ``CHAIN_MM``, no more than
    ``CHAIN_TURN_DEG`` off the way the piece's last ``CHAIN_BACK_MM`` runs, the straight way to it lying on the
    print (``printed``, the window's) at ``CHAIN_PRINT_SHARE`` or more; that piece's ink ahead of the end joined,
    and so on (``CHAIN_LINKS`` at most). Pixels in the window's rows and columns."""
    used, reach = {label}, CHAIN_MM * px_per_mm
    for _ in range(CHAIN_LINKS):
        far = xs.max() if step > 0 else xs.min()
        end_x, end_y = float(far), float(ys[xs == far].mean())
        last = np.abs(xs - far) <= CHAIN_BACK_MM * px_per_mm
        way = np.array([end_x - xs[last].mean(), end_y - ys[last].mean()])
        if way[0] * step <= 0:
            break
        way /= np.hypot(*way)
        r0, c0 = max(0, int(end_y - reach)), max(0, int(end_x - reach))
        around = labels[r0:int(end_y + reach) + 1, c0:int(end_x + reach) + 1]
        best: tuple[float, int] | None = None  # the nearest piece: its distance, its label
        for other in np.unique(around[around > 0]):
            if other in used:
                continue
            oy, ox = np.nonzero(around == other)
            oy, ox = oy + r0 - end_y, ox + c0 - end_x
            ahead = ox * step > 0
            if not ahead.any():
                continue
            distance = np.hypot(ox[ahead], oy[ahead])
            k = int(np.argmin(distance))
            d = float(distance[k])
            if d > reach or (ox[ahead][k] * way[0] + oy[ahead][k] * way[1]) < d * _CHAIN_TURN_COS:
                continue
            samples = np.linspace(0.0, 1.0, max(3, int(d)))[1:-1]
            on_print = printed[np.rint(end_y + samples * oy[ahead][k]).astype(int),
                               np.rint(end_x + samples * ox[ahead][k]).astype(int)]
            if np.mean(on_print) >= CHAIN_PRINT_SHARE and (best is None or d < best[0]):
                best = (d, int(other))
        if best is None:
            break
        used.add(best[1])
        more_y, more_x = np.nonzero(labels == best[1])
        keep = (more_x - end_x) * step > 0
        ys, xs = np.concatenate([ys, more_y[keep]]), np.concatenate([xs, more_x[keep]])
    return ys, xs


def _runs_through(ink: np.ndarray, printed: np.ndarray, xs: np.ndarray, ys: np.ndarray, sides_px: tuple[float, float],
                  step: int, px_per_mm: float) -> bool:
    """Whether the ink at ``xs``, ``ys`` (a piece's pixels past the marked box's side, towards ``step``), when it
    is one thin straight line, goes on along its axis through the far half of the box and ``THROUGH_MM`` past
    its other side (``sides_px``: its left and right, in the window's columns): inked at ``THROUGH_SHARE`` of the
    columns there off the print. A fold or a ruler's line level with the row is cut into pieces by the borders'
    print; an arrow's shaft begins at the mark or the border."""
    axis = creases.thin_line(np.stack([xs, ys], axis=1), px_per_mm)
    if axis is None or abs(axis.direction[0]) < 1e-6:
        return False
    left, right = sides_px
    middle = (left + right) / 2
    span = (middle, left - THROUGH_MM * px_per_mm) if step > 0 else (middle, right + THROUGH_MM * px_per_mm)
    columns = np.arange(int(round(min(span))), int(round(max(span))) + 1)
    columns = columns[(columns >= 0) & (columns < ink.shape[1])]
    on_axis = np.rint(axis.centre[1] + (columns - axis.centre[0]) * axis.direction[1] / axis.direction[0]).astype(int)
    inside = (on_axis >= 1) & (on_axis < ink.shape[0] - 1)
    columns, on_axis = columns[inside], on_axis[inside]
    free = ~printed[on_axis, columns]
    if np.count_nonzero(free) < THROUGH_MM * px_per_mm / 2:
        return False
    inked = ink[on_axis - 1, columns] | ink[on_axis, columns] | ink[on_axis + 1, columns]
    return bool(np.mean(inked[free]) >= THROUGH_SHARE)


def _ink_round(page: np.ndarray, printed: np.ndarray, box: Box, px_per_mm: float) -> bool:
    """Whether any dark pixel off the print lies in the ring ``QUICK_RING_MM`` wide round ``box`` clear of its
    own ink (``OWN_MM``), ``QUICK_INK_MM2`` or more: where an arrow begins. Most marked boxes have none (spared
    the pieces' analysis)."""
    rows, cols = box_slices(box, QUICK_RING_MM, page.shape, px_per_mm)
    window = page[rows, cols]
    dark = below(window, float(window.max()) * (1 - INK_CONTRAST)) & ~printed[rows, cols]
    dark[within_window(box, rows, cols, page.shape, px_per_mm, OWN_MM)] = False
    return bool(np.count_nonzero(dark) >= QUICK_INK_MM2 * px_per_mm ** 2)


def _target(boxes: list[Box], marked: int, step: int, end_x_mm: float) -> int | None:
    """The box of the row past ``boxes[marked]`` on the side ``step`` (+1 right, -1 left) that an arrow ending at
    ``end_x_mm`` points to: the one the end lies on, or the nearest there to the end, when the end lies within
    ``TARGET_MM`` of it or past the middle of the gap before it (a shaft cut by the words it crosses ends short of
    its head); else ``None``."""
    ahead = sorted((k for k, other in enumerate(boxes) if (other.x_mm - boxes[marked].x_mm) * step > 0),
                   key=lambda k: boxes[k].x_mm * step)
    for k in ahead:  # its head on a box (an arc coming down onto it, past the gap before it on a goal card)
        if boxes[k].x_mm <= end_x_mm <= boxes[k].x_mm + boxes[k].w_mm:
            return k
    behind = boxes[marked]
    for k in ahead:
        other = boxes[k]
        near_side = other.x_mm if step > 0 else other.x_mm + other.w_mm
        far_side = other.x_mm + other.w_mm if step > 0 else other.x_mm
        behind_side = behind.x_mm + behind.w_mm if step > 0 else behind.x_mm
        if (end_x_mm - far_side) * step <= TARGET_MM or k == ahead[-1]:
            short_mm = (near_side - end_x_mm) * step  # > 0: the end is before the box
            if short_mm <= TARGET_MM or short_mm <= (near_side - behind_side) * step / 2:
                return k
            return None
        behind = other
    return None

