"""A question mark written in a box. A respondent unsure of an answer may write "?" in a box instead of
ticking it: its ink makes the box read as marked, and the row read as that answer at full confidence. A "?"
is a hook with a dot under it; a tick, a cross, a slash or a dot is one piece, a fill one blob, and a tick
broken by a skipping pen leaves pieces side by side, not a dot alone under the rest.

A box holds one (``hook_and_dot``) when its handwriting (``box_pieces``: ``areas.handwriting_mask``, inside
the border where the box was found) is two or three pieces: the largest ``HOOK_MIN_MM2`` or more and
``HOOK_MIN_MM`` tall, and under it, within ``DOT_GAP_MAX_MM``, a dot (at most ``DOT_MAX_MM2``, ``DOT_MIN_MM``
to ``DOT_MAX_MM`` across, roundish, not a stroke going on past the border) lower than every other piece
(``writing_in_box`` flags a single-choice row whose one marked box holds one). Pixels are those of the
registered page (``px_per_mm``, 8 after ``register.warp_page``).

The handwriting mask misses a "?" two ways, and ``faint_hook_and_dot`` looks again at the box's grey: in a
3 MP photo (about 4 px/mm) the dot, blurred, is too faint to be ink while its hook is, and a hook a thick pen
drew solid, wider than a stroke, is cut by the mask into slivers down its edges. There the box's inside is cut
at a darkness between the paper's and the ink's, from half the ink's contrast down (``SECOND_LOOK_SHARES``),
and its pieces looked at as above. In a photo the box's printed border blurs into its inside, and a cut in the grey
holds strips of it along the sides, or the hook joined to them: ``without_border`` clears them first, here and in
``hook_alone``.

In a 3 MP photo (under ``marks.LOW_RES_PX_PER_MM`` along the page) most dots blur into their hooks or fade out
altogether, and the "?" is one piece: ``hook_alone`` tells it by its shape, cut at half its ink's contrast.
Its topmost and lowest ink lie about the middle of its width (a tick's top is its long arm's end, to the
right; a slash's ends and a cross's corners lie to the sides), its lower left is nearly empty (a hook curves
open to the lower left, a tick's vertex and short arm lie there), and its lower third is narrower than its
top (a stem under a curve). A blot so blurred it has no inside (a dot, a blurred pencil hook) must be clearly
taller than wide and narrow below, which a dot is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import cv2
import numpy as np

from formkit.layout.blocks import BOX_LINE_MM
from formkit.layout.model import Box

from . import areas
from .register import WARP_PX_PER_MM, box_slices

INSET_MM = BOX_LINE_MM + 0.05  # inside the printed border, where the box was found
AROUND_MM = 2.0  # round the box, where its handwriting is told from the print's rules
BEYOND_MM = 0.6  # outside the border, where a stroke that reaches it from inside goes on
HOOK_MIN_MM2 = 1.1  # a "?" 3 mm tall in a 0.3 mm pen is 1.2 mm² or more; measured 1.19-2.8 in 5 mm boxes; a
#                    faint cross on a patterned cloth left a piece of 0.95 mm² with an arm's end under it
HOOK_MIN_MM = 1.6  # tall (measured 1.75-2.9); a small digit written in the box, its foot broken off, 1.4-1.5
DOT_GAP_MAX_MM = 1.2  # between the hook's foot and the dot's top (measured 0.1-0.4 in a font; by hand, more)
DOT_MAX_MM2 = 0.6  # its dot: 0.1-0.5 mm² measured
# and at least this: in 12 MP photos and 1-bit copies most dots of a 0.3-0.5 mm pen came out under the 0.1 mm² of a
# speck (unusual_marks.py *question*, 2026-12-06: 16 and 11 of 145 "?"s missed for it); kept as the dot only
DOT_LEAST_MM2 = 0.04
DOT_MAX_MM = 1.0  # across, each way
DOT_MIN_MM = 0.25  # and at least this (2 px at 8 px/mm): a sliver a pixel thin is a stroke's edge cut by the print
DOT_ASPECT_MAX = 2.5  # roundish, not a dash
LEVEL_MM = 0.1  # the dot's top may reach this far above the foot of every other piece
UNDER_MM = 0.3  # its middle within the hook's width, give or take this
MAX_PIECES = 3  # the hook may break once where the pen lifts
# the second look: the inside cut at these shares of the ink's contrast over the paper (the paper the 90th
# percentile of the inside, the ink its darkest pixel), the darkest first. Measured 2026-12-07 on the pieces of
# unusual_marks.py's *question* rows the first look missed (20 pages a capture: 5 / 15 / 68 / 6 of 145 in
# flatbed, 1-bit copy, 3 MP and 12 MP photos): 0.5 and 0.3 found 5 / 11 / 30 / 6, down to 0.15 5 / 14 / 42 / 6
SECOND_LOOK_SHARES = (0.5, 0.4, 0.3, 0.25, 0.2, 0.15)
SECOND_LOOK_MIN_CONTRAST = 40  # grey levels: under this the inside holds no ink to cut
# and no cut nearer the paper than this: in an underexposed 7 MP photo (scan_accuracy.py's photo7dim, paper 63,
# ink 9) a tick cut 11 levels under the paper left a speck of noise under it for a dot; the "?"s were found at
# 30-102 levels under it
SECOND_LOOK_MIN_DEPTH = 20
# a hook alone, in images under marks.LOW_RES_PX_PER_MM (measured 2026-12-07 on the largest piece at half the
# contrast: 26 "?"s unusual_marks.py's 3 MP photos still read as an answer after the second look, 20 pages; and
# 1,355 boxes marked the usual ways, respondent_styles.py's forms, 30 a capture, and scan_accuracy.py's photo3,
# photo3bent, photo2msg, photo3wobble, photo3shadowedge, photo7dim, scan300, scan200bw and its streaks, photo12,
# 10 pages each). Thin hooks, 10: topmost and lowest ink 0.37-0.50 and 0.39-0.63 of the width from its left,
# 0.00-0.18 of the ink in the lower-left quarter, the lower third's width 0.22-0.50 of the top's; in the low-
# resolution photos ticks had 0.24-0.56 of their ink lower left and the lower third 0.88 of the top or more,
# crosses 0.16-0.43 and 0.78, slashes (the one most like: its lowest ink at 0.94). Blots (over
# HOOK_BLOT_FILL of their bounding box inked), 16: lower third 0.54-1.00 of the top, 1.20-1.57 times as tall
# as wide; dots 0.92-1.27 and 0.74-1.23 (one dot in a flatbed scan: 0.82 and 1.09)
HOOK_MIDDLE = (0.3, 0.6)  # of the width: where its topmost ink lies
HOOK_FOOT = (0.3, 0.7)  # and its lowest
HOOK_TALL_MM = (1.5, 3.5)
HOOK_BLOT_FILL = 0.6
HOOK_LOWER_LEFT = 0.2  # share of its ink, at most (a blot 0.26)
HOOK_BLOT_LOWER_LEFT = 0.26
HOOK_STEM_RATIO = 0.6  # its lower third's width to its top third's, at most (a blot 0.85)
HOOK_BLOT_STEM_RATIO = 0.85
HOOK_BLOT_TALL = 1.3  # a blot's height to its width, at least
# and a hook's: a faint pencil tick in a 3 MP photo (respondent_styles.py --forms 30, seed 1), its long arm
# alone at half the contrast, 0.58 as tall as wide; the hooks found 1.31-1.62 (one, 0.76, lost to this)
HOOK_TALL = 1.0
# the box's border blurred in a photo (measured 2026-12-08 on unusual_marks.py's *question* rows of 3 MP photos at
# 2.6-5.1 px/mm a page, 10 pages): cut at the second look's shares or at half the contrast, the inside's outermost
# 0.1-0.6 mm held strips of the border along its sides (0.1-0.6 mm² each, or a whole side joined to the hook), which
# were taken for more pieces, or pieces lower than the dot, or part of the hook. Lines along a side within
# BORDER_BLUR_MM of it, inked over BORDER_LINE_SHARE of their length, are cleared from the side in while they are so
# inked; then pieces against a side or the top lying wholly within BORDER_BLUR_MM of it are left out (not against
# the foot, where a "?" 3.6 mm tall in a goal card's 4.2 mm box leaves its dot: 3 such rows of 145 lost in flatbed
# scans and 1-bit copies when they were). A "?" 2.8 mm tall or more reaches out of that band
BORDER_BLUR_MM = 0.7
BORDER_LINE_SHARE = 0.5


class Piece(NamedTuple):
    area_mm2: float
    x_mm: float  # left, top, width and height, in the box
    y_mm: float
    w_mm: float
    h_mm: float
    cut: bool = False  # runs on past the box's border: a stroke crossing it, cut there


def hook_and_dot(pieces: list[Piece]) -> bool:
    """Whether ``pieces`` (of one box's handwriting, ``box_pieces``) are a hook and a dot under it, as the module
    says. Pieces under ``areas.SPECK_MM2`` are specks but for the dot, one at a time: a dot blurred in a photo or
    thinned in a 1-bit copy keeps ``DOT_LEAST_MM2`` to that."""
    marks = [p for p in pieces if p.area_mm2 >= areas.SPECK_MM2]
    return _hook_and_dot(marks) or any(_hook_and_dot([*marks, p]) for p in pieces if p.area_mm2 < areas.SPECK_MM2)


def _hook_and_dot(pieces: list[Piece]) -> bool:
    if not 2 <= len(pieces) <= MAX_PIECES:
        return False
    hook = max(pieces, key=lambda p: p.area_mm2)
    if hook.area_mm2 < HOOK_MIN_MM2 or hook.h_mm < HOOK_MIN_MM:
        return False
    for dot in pieces:
        longer, shorter = max(dot.w_mm, dot.h_mm), min(dot.w_mm, dot.h_mm)
        if dot is hook or dot.cut or dot.area_mm2 > DOT_MAX_MM2 or longer > DOT_MAX_MM or shorter < DOT_MIN_MM \
                or longer > DOT_ASPECT_MAX * shorter:
            continue
        under_hook = hook.x_mm - UNDER_MM <= dot.x_mm + dot.w_mm / 2 <= hook.x_mm + hook.w_mm + UNDER_MM
        lowest = all(p.y_mm + p.h_mm <= dot.y_mm + LEVEL_MM for p in pieces if p is not dot)
        if under_hook and lowest and dot.y_mm - (hook.y_mm + hook.h_mm) <= DOT_GAP_MAX_MM:
            return True
    return False


class Cut(NamedTuple):
    """A box's inside cut in the grey at one share of ``SECOND_LOOK_SHARES`` (``second_look``)."""

    first: bool  # the darkest cut
    inside: np.ndarray  # the inside's grey
    stats: np.ndarray  # the cut's pieces' stats (OpenCV's, the first the background)
    lightest: float  # the grey of the lightest cut
    pieces: list[Piece]  # ``_pieces_of``, the border's blur left out


def faint_hook_and_dot(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM,
                       cuts: Iterable[Cut] | None = None) -> bool:
    """Whether the inside of ``box``'s printed border on ``page``, cut at a share of its ink's darkness
    (``SECOND_LOOK_SHARES``), holds a hook and a dot under it (``hook_and_dot``), as the module says. Pieces
    reaching the inside's edge are taken as cut there (not the dot), and small ones against its sides or top
    left out, as in ``box_pieces``. ``cuts``: ``second_look``'s, where another look has them already."""
    for cut in second_look(page, box, px_per_mm) if cuts is None else cuts:
        if cut.first and not _ink_under_largest(cut.inside, cut.stats, cut.lightest, px_per_mm):
            return False  # a tick's vertex, a cross's legs: nothing under them at the lightest cut (most marks)
        if hook_and_dot(cut.pieces):
            return True
    return False


def second_look(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> Iterator[Cut]:
    """The inside of ``box``'s printed border on ``page`` cut at each share of ``SECOND_LOOK_SHARES`` of its ink's
    contrast deep enough (``SECOND_LOOK_MIN_DEPTH``) in turn, the darkest first, the border's blur left out
    (``without_border``); made as it is asked for."""
    seen = _inside_levels(page, box, px_per_mm)
    if seen is None:
        return
    inside, paper, ink = seen
    shares = [s for s in SECOND_LOOK_SHARES if s * (paper - ink) >= SECOND_LOOK_MIN_DEPTH]
    for share in shares:
        mask, cleared = without_border((inside < paper - share * (paper - ink)).astype(np.uint8), px_per_mm)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        yield Cut(share == shares[0], inside, stats, paper - shares[-1] * (paper - ink), _pieces_of(
            stats, mask.shape, px_per_mm, lambda x, y, w, h, at_side: at_side, cleared))


def _inside_levels(page: np.ndarray, box: Box, px_per_mm: float) -> tuple[np.ndarray, float, float] | None:
    """``page`` inside ``box``'s printed border (``INSET_MM`` in), with its paper's and ink's grey
    (``_paper_and_ink``); ``None`` where it is empty or they lie under ``SECOND_LOOK_MIN_CONTRAST`` apart (nothing
    written there to cut again)."""
    rows, cols = box_slices(box, -INSET_MM, page.shape, px_per_mm)
    inside = page[rows, cols]
    if inside.size == 0:
        return None
    paper, ink = _paper_and_ink(inside)
    return (inside, paper, ink) if paper - ink >= SECOND_LOOK_MIN_CONTRAST else None


def _paper_and_ink(inside: np.ndarray) -> tuple[float, float]:
    """The paper's grey (the 90th percentile of ``inside``) and the ink's (its darkest pixel)."""
    flat = inside.ravel()
    at = min(flat.size - 1, int(0.9 * flat.size))
    return float(np.partition(flat, at)[at]), float(flat.min())


def _ink_under_largest(inside: np.ndarray, stats: np.ndarray, darker_than: float, px_per_mm: float) -> bool:
    """Whether any pixel of ``inside`` under the largest piece of ``stats`` (within its dot's reach, below its
    foot and its width give or take ``UNDER_MM``) is ``darker_than``."""
    if len(stats) < 2:
        return False
    x, y, w, h, _ = (int(v) for v in stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
    pad, reach = round(UNDER_MM * px_per_mm), round((DOT_GAP_MAX_MM + DOT_MAX_MM) * px_per_mm)
    under = inside[y + h:y + h + reach, max(0, x - pad):x + w + pad]
    return under.size > 0 and float(under.min()) < darker_than


def hook_alone(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> bool:
    """Whether the largest piece of ink inside ``box``'s printed border on ``page``, cut at half its contrast
    over the paper, is shaped as a "?" without its dot, as the module says (``HOOK_MIDDLE`` and after)."""
    seen = _inside_levels(page, box, px_per_mm)
    if seen is None:
        return False
    inside, paper, ink = seen
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        without_border((inside < (paper + ink) / 2).astype(np.uint8), px_per_mm)[0], connectivity=8)
    if count < 2:
        return False
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, area = (int(v) for v in stats[k])
    if not HOOK_TALL_MM[0] <= h / px_per_mm <= HOOK_TALL_MM[1] or area / px_per_mm ** 2 < HOOK_MIN_MM2:
        return False
    piece = labels[y:y + h, x:x + w] == k
    top_x = np.flatnonzero(piece[:2].any(axis=0)).mean() / w
    foot_x = np.flatnonzero(piece[-2:].any(axis=0)).mean() / w
    lower_left = piece[h // 2:, :w // 2].sum() / area
    stem_ratio = piece[2 * h // 3:].any(axis=0).sum() / max(1, piece[:h // 3].any(axis=0).sum())
    if not (HOOK_MIDDLE[0] <= top_x <= HOOK_MIDDLE[1] and HOOK_FOOT[0] <= foot_x <= HOOK_FOOT[1]):
        return False
    if area / (w * h) <= HOOK_BLOT_FILL:
        return lower_left <= HOOK_LOWER_LEFT and stem_ratio <= HOOK_STEM_RATIO and h >= HOOK_TALL * w
    return lower_left <= HOOK_BLOT_LOWER_LEFT and stem_ratio <= HOOK_BLOT_STEM_RATIO and h >= HOOK_BLOT_TALL * w


def without_border(mask: np.ndarray, px_per_mm: float = WARP_PX_PER_MM) -> tuple[np.ndarray, tuple[int, ...]]:
    """``mask`` (a box's inside cut at a darkness, 0/1 uint8) without the remnants of the box's blurred border, as
    ``BORDER_BLUR_MM`` says: lines along each side inked over ``BORDER_LINE_SHARE`` cleared from the side in, then
    pieces against a side or the top (not the foot, where a dot may lie) wholly within the band. A new array, and
    how many lines were cleared at its top, foot, left and right (where the inside now ends, for ``_pieces_of``)."""
    mask = mask.copy()
    band = max(1, round(BORDER_BLUR_MM * px_per_mm))
    width = mask.shape[1]
    cleared = []
    for lines in (mask, mask[::-1], mask.T, mask.T[::-1]):  # views: top, foot, left, right, cleared in place
        k = 0
        while k < min(band, len(lines)) and np.count_nonzero(lines[k]) > BORDER_LINE_SHARE * lines.shape[1]:
            lines[k] = 0  # (counted: a mean costs 5 times as much)
            k += 1
        cleared.append(k)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for k in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[k])
        if y == 0 and h <= band or x == 0 and w <= band or x + w == width and w <= band:  # a dot may lie on the foot
            mask[labels == k] = 0
    return mask, tuple(cleared)


def box_pieces(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM) -> list[Piece]:
    """The pieces of handwriting inside ``box``'s printed border on ``page``, down to ``DOT_LEAST_MM2``; those
    under ``areas.SPECK_MM2`` only clear of its sides and top."""
    # the mask is made with the border round the box, where it is a rule to take out: cut tight, a stroke
    # from the box's top to its foot, as a "?" runs, would run on past the cut and be taken for a rule
    rows, cols = box_slices(box, AROUND_MM, page.shape, px_per_mm)
    around = areas.handwriting_mask(page[rows, cols], px_per_mm)
    inside_rows, inside_cols = box_slices(box, -INSET_MM, page.shape, px_per_mm)
    top, left = inside_rows.start - rows.start, inside_cols.start - cols.start
    mask = around[top:inside_rows.stop - rows.start, left:inside_cols.stop - cols.start].astype(np.uint8)
    if mask.size == 0:
        return []
    outer_rows, outer_cols = box_slices(box, 0.0, page.shape, px_per_mm)
    outer = (outer_rows.start - rows.start, outer_rows.stop - rows.start,
             outer_cols.start - cols.start, outer_cols.stop - cols.start)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return _pieces_of(stats, mask.shape, px_per_mm, lambda x, y, w, h, _: _runs_out(
        around, (top + y, top + y + h, left + x, left + x + w), outer, mask.shape, (top, left), px_per_mm))


def _pieces_of(stats: np.ndarray, shape_px: tuple[int, ...], px_per_mm: float,
               cut: Callable[[int, int, int, int, bool], bool], cleared: tuple[int, ...] = (0, 0, 0, 0)
               ) -> list[Piece]:
    """The pieces of a box's inside (of ``shape_px``, rows and columns) whose connected pieces' ``stats``
    (OpenCV's, the first the background) are given, down to ``DOT_LEAST_MM2``: a speck, or, against a side or the
    top, what the print's removal left of the border (a dot may lie on the box's foot), is left out. ``cut(x, y, w, h,
    at_side)``, in pixels: whether a piece runs on past the border. ``cleared``: lines of the border's blur cleared
    at the top, foot, left and right (``without_border``): a speck against where the sides now lie is what the
    clearing left of the border (a tick's foot corner in a 3 MP photo, taken for a dot under it, 2026-12-08), and
    left out too; ``at_side`` stays the inside's own edges (letters against the cleared lines are no strokes cut
    by the border). At the foot only where lines were cleared there: a tick's foot in a 3 MP photo under a
    highlighter (desk_hazards.py) left a speck against them; a goal card's "?" in a flatbed scan rests its dot on
    the uncleared foot."""
    pieces = []
    height_px, width_px = shape_px[:2]
    for k in range(1, len(stats)):
        x, y, w, h, area = (int(v) for v in stats[k])
        area_mm2 = area / px_per_mm ** 2
        at_side = x == 0 or y == 0 or x + w == width_px
        near_side = x <= cleared[2] or y <= cleared[0] or x + w >= width_px - cleared[3] \
            or cleared[1] > 0 and y + h >= height_px - cleared[1]  # the foot too, where its blur was cleared
        if area_mm2 < DOT_LEAST_MM2 or area_mm2 < areas.SPECK_MM2 and near_side:
            continue
        pieces.append(Piece(area_mm2, x / px_per_mm, y / px_per_mm, w / px_per_mm, h / px_per_mm,
                            cut(x, y, w, h, at_side)))
    return pieces


def _runs_out(around: np.ndarray, piece: tuple[int, int, int, int], outer: tuple[int, int, int, int],
              inside_shape: tuple[int, ...], inside_at: tuple[int, int], px_per_mm: float) -> bool:
    """Whether a piece (its rows and columns from, to, in ``around``) that reaches the edge of the box's inside
    (``inside_shape``, at ``inside_at``) goes on past the box's border there (``outer``: the box's rows and
    columns from, to): ink within ``BEYOND_MM`` outside it, along the piece's side."""
    y0, y1, x0, x1 = piece
    top, left = inside_at
    beyond, pad = max(1, round(BEYOND_MM * px_per_mm)), max(1, round(0.25 * px_per_mm))
    sides = []
    if y0 == top:
        sides.append(around[max(0, outer[0] - beyond):outer[0], max(0, x0 - pad):x1 + pad])
    if y1 == top + inside_shape[0]:
        sides.append(around[outer[1]:outer[1] + beyond, max(0, x0 - pad):x1 + pad])
    if x0 == left:
        sides.append(around[max(0, y0 - pad):y1 + pad, max(0, outer[2] - beyond):outer[2]])
    if x1 == left + inside_shape[1]:
        sides.append(around[max(0, y0 - pad):y1 + pad, outer[3]:outer[3] + beyond])
    return any(side.any() for side in sides)
