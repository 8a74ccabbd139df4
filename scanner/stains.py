"""Marks that run on far past their box: the edge of a coffee ring, a paper clip's wire, a line drawn along
the row. Each crosses a box like a slash and so reads as marked; a person's tick, cross or slash stays
within a few millimetres of the box it answers, while these run on for centimetres. A marked box whose
ink runs on ``BOTH_WAYS_MM`` past it on opposite sides, or ``ONE_WAY_MM`` past it one way, is flagged.

Folds and creases (thin straight lines, ``creases``) are read as empty before this; a coffee ring's edge
is a band up to 2.5 mm wide, soft and curved, and a clip's wire bends, so neither is taken for one.

The band is looked for as ``areas.stroke_mask`` looks for a stroke, with a closing ``BAND_MAX_MM`` wide
(dark on both sides, not a shadow's step), at half the darkness of the box's own ink (a faint copy of the
back page or a blurred rule beside a pen cross does not join it), off the page's print, its pieces joined
across the printed rules it crosses; how far it runs is measured on its pixels away from the rules and
borders (``LINE_NEAR_MM``), so a blurred rule's remnants beside a cross do not count. The page is looked at
``REACH_MM`` round the box each way: along a row as far as the row's window is drawn (5 mm past its end
options), and up and down into the rows above and below, whose boxes a band running down the page crosses.
Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Page
from formkit.records import RAW_INTO_QUESTION, RAW_RUNS_PAST_BOX, FieldValue

from . import placement
from .beside_ink import print_masks
from .ink import below, closed_paper
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

BOTH_WAYS_MM = 4.0  # past the box on opposite sides: a cross 13 mm across over a 5 mm box reaches it
ONE_WAY_MM = 7.0  # past the box one way; a tick overshoots by 5 at most
REACH_MM = ONE_WAY_MM + 0.75  # how far round the box the page is looked at
BAND_MAX_MM = 4.0  # a coffee ring's edge is 0.8-2.5 mm wide; a shadow is wider
LEAST_DARKNESS = 0.15  # of the paper, the least a pixel of the band is darker
OWN_INK_SHARE = 0.5  # of the darkness of the box's own ink (its 75th percentile), the least the band has
BRIDGE_MM = 1.2  # a printed rule and its margin cut a band crossing it by 0.9 mm
NOISE_BLUR_MM = 0.15  # a band or wire is 0.8 mm wide or more
INSET_MM = 0.7  # the inside of a box, clear of its printed border (marks.INNER_INSET_MM)
LEAST_INSIDE_MM2 = 0.25  # of the band inside the box
SEEN_STATES = ("marked", "heavy", "filled")
_BandPieces = tuple[np.ndarray, np.ndarray, np.ndarray] | None  # ``_band_pieces``' answer
_Pieces = dict[tuple[float, ...], _BandPieces]
FILLS = ("heavy", "filled")  # a lone fill may be read as the answer (``formkit.conventions``), flagged or not


def flag_marks_running_on(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                          px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each choice value of ``values`` with a box read as marked, heavy or filled whose ink
    runs on far past it (``runs_on_mm``): an unflagged answer, or a field with a filled box that the
    respondent's fill convention may turn into one (``RAW_RUNS_PAST_BOX`` keeps it flagged whatever the
    convention). ``raw[RAW_RUNS_PAST_BOX]`` holds each such option with how far (mm, both ways and one way).
    ``page``: the registered page (2-D uint8 grey); the boxes are looked for where the field's reading
    found them."""
    fields = {f.id: f for f in layout_page.fields}
    every_seen = [(value.field, option, box) for value in values
                  if isinstance(f := fields.get(value.field), ChoiceField) for option, box in _seen_boxes(f, value)]
    for value, seen in marked_boxes(layout_page, values):
        running: dict[str, list[float]] = {}
        into: dict[str, list[str]] = {}
        others = [b for b in every_seen if b[0] != value.field]
        for option, box in seen:
            pieces: _Pieces = {}  # a box's band, when both looks need it (a tenth of them, 2026-12-07)
            both_mm, one_mm = runs_on_mm(page, layout_page, box, px_per_mm, pieces)
            if both_mm >= BOTH_WAYS_MM or one_mm >= ONE_WAY_MM:
                running[option] = [round(both_mm, 1), round(one_mm, 1)]
            other = into_other_question(page, layout_page, box, others, px_per_mm, pieces)
            if other:
                into[option] = list(other)
        if running:
            value.raw[RAW_RUNS_PAST_BOX] = running
            flag_for_review(value, f"the mark in option(s) {', '.join(running)} runs on far past the box (a coffee "
                                   "ring's edge, a paper clip, a line drawn along the row?): an answer, or not?")
        if into:
            value.raw[RAW_INTO_QUESTION] = into
            option, (field_id, other_option) = next(iter(into.items()))
            flag_for_review(value, f"the mark in option {option} runs into option {other_option} of {field_id} (a tall "
                                   "tick, or one mark across two questions): which question did it answer?")


def marked_boxes(layout_page: Page, values: list[FieldValue]) -> Iterator[tuple[FieldValue, list[tuple[str, Box]]]]:
    """Each choice value of ``values`` worth a look for something over or through its ink: an answer not
    flagged, or a field with a heavy or filled box (a fill-to-answer convention may accept it later), with
    its options read as marked, heavy or filled and their boxes where the reading found them."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        states = value.raw.get("states", [])
        if not isinstance(f, ChoiceField) or not (value.value and not value.needs_review
                                                  or any(state in FILLS for state in states)):
            continue
        yield value, _seen_boxes(f, value)


def _seen_boxes(f: ChoiceField, value: FieldValue) -> list[tuple[str, Box]]:
    """``f``'s options read as marked, heavy or filled in ``value``, with their boxes where the reading found
    them."""
    return [(str(option.value), box) for option, box, state in
            zip(f.options, placement.found_boxes(f, value), value.raw.get("states", []), strict=False)
            if state in SEEN_STATES]


def runs_on_mm(page: np.ndarray, layout_page: Page, box: Box, px_per_mm: float = WARP_PX_PER_MM,
               pieces: _Pieces | None = None) -> tuple[float, float]:
    """How far the ink in ``box`` runs on past it, in mm: (the most it reaches past opposite sides, the
    most it reaches past any one side), each 0 when the box holds no such ink, or when no dark pixel off
    the print lies as far out as ``BOTH_WAYS_MM`` on opposite sides or ``ONE_WAY_MM`` on one
    (``_dark_far_enough``: most marked boxes, spared the analysis). Looked at within ``REACH_MM`` of the
    box. ``pieces``: where the box's band (``_band_pieces``) is kept for ``into_other_question``, or found."""
    rows, cols = box_slices(box, REACH_MM, page.shape, px_per_mm)
    printed, near_lines, in_boxes = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    left, top = box.x_mm * px_per_mm - cols.start, box.y_mm * px_per_mm - rows.start
    right, bottom = left + box.w_mm * px_per_mm, top + box.h_mm * px_per_mm
    if not _dark_far_enough(page[rows, cols], printed | near_lines, in_boxes, (top, bottom, left, right),
                            px_per_mm):
        return 0.0, 0.0
    found = _kept_band_pieces(pieces, page[rows, cols], printed, (top, bottom, left, right), px_per_mm)
    if found is None:
        return 0.0, 0.0
    labels, band, counts = found
    least_px = LEAST_INSIDE_MM2 * px_per_mm ** 2
    both_mm = one_mm = 0.0
    for label in np.flatnonzero(counts >= least_px):
        if label == 0:
            continue
        ys, xs = np.nonzero((labels == label) & band & ~near_lines)
        if not len(ys):
            continue
        past = np.array([top - ys.min(), ys.max() - bottom, left - xs.min(), xs.max() - right]) / px_per_mm
        both_mm = max(both_mm, min(past[0], past[1]), min(past[2], past[3]))
        one_mm = max(one_mm, float(past.max()))
    return float(both_mm), float(one_mm)


def into_other_question(page: np.ndarray, layout_page: Page, box: Box, others: list[tuple[str, str, Box]],
                        px_per_mm: float = WARP_PX_PER_MM, pieces: _Pieces | None = None
                        ) -> tuple[str, str] | None:
    """The other question's option (field id, option) into whose box the ink in ``box`` (a marked box, where
    found) runs, ``LEAST_INSIDE_MM2`` of one piece of its band (``_band_pieces``) inside each, clear of their
    borders: a tick twice as tall as the rows are apart, or one cross over two questions, read as an answer
    to each (an adversarial pass, 2026-12-06: the row above a tall tick read as its option at 0.82-0.93, 13
    to 19 rows of 74 a capture). ``others``: (field id, option, box where found) of the boxes of the page's
    other choice fields read as marked (a blurred photo's border remnants join a mark to an empty box above
    it); looked at within ``REACH_MM`` of ``box``. ``None`` when there is none. ``pieces``: as ``runs_on_mm``
    takes it."""
    rows, cols = box_slices(box, REACH_MM, page.shape, px_per_mm)
    inset = INSET_MM * px_per_mm
    least_px = LEAST_INSIDE_MM2 * px_per_mm ** 2

    def inside(b: Box) -> tuple[slice, slice]:
        top, left = b.y_mm * px_per_mm - rows.start + inset, b.x_mm * px_per_mm - cols.start + inset
        bottom, right = top + b.h_mm * px_per_mm - 2 * inset, left + b.w_mm * px_per_mm - 2 * inset
        return (slice(max(0, int(top)), max(0, int(bottom))), slice(max(0, int(left)), max(0, int(right))))

    def pixels_in_window(where: tuple[slice, slice]) -> int:
        (top, bottom), (left, right) = ((min(s.start, n), min(s.stop, n)) for s, n in
                                        zip(where, (rows.stop - rows.start, cols.stop - cols.start), strict=True))
        return max(0, bottom - top) * max(0, right - left)

    # only the boxes whose inside lies in the window over as many pixels as must be inked there: the others
    # (most, 2026-12-07: other questions' marked boxes are mostly further than REACH_MM) can hold no such ink
    within = [(field_id, option, b, where) for field_id, option, b in others
              if pixels_in_window(where := inside(b)) >= least_px]
    if not within:
        return None
    region = page[rows, cols]
    printed = print_masks(layout_page, page.shape[:2], px_per_mm)[0][rows, cols]
    dark = below(region, (1 - LEAST_DARKNESS) * float(region.max())) & ~printed
    # a quick look first: ink in another question's box within reach (most marked boxes have none)
    near = [(field_id, option, b) for field_id, option, b, where in within if np.count_nonzero(dark[where]) >= least_px]
    if not near:
        return None
    left, top = box.x_mm * px_per_mm - cols.start, box.y_mm * px_per_mm - rows.start
    found = _kept_band_pieces(pieces, region, printed,
                              (top, top + box.h_mm * px_per_mm, left, left + box.w_mm * px_per_mm), px_per_mm)
    if found is None:
        return None
    labels, band, counts = found
    own = [label for label in np.flatnonzero(counts >= least_px) if label]
    for field_id, option, b in near:
        there = labels[inside(b)][band[inside(b)]]
        for label in own:
            if np.count_nonzero(there == label) >= least_px \
                    and _across_the_gap((labels == label) & band, printed, box, b, (rows.start, cols.start), px_per_mm):
                return field_id, option
    return None


def _across_the_gap(piece: np.ndarray, printed: np.ndarray, box: Box, other: Box, origin: tuple[int, int],
                    px_per_mm: float) -> bool:
    """Whether ``piece`` (bool, a window at ``origin`` (row, column) of the registered page) has ink in every
    line of pixels across the paper between ``box`` and ``other`` (rows between them, or columns when they
    lie side by side), where they overlap, that the print does not wholly cover: one stroke from one to the
    other. On a bent page a printed border lies off where the print is left out, and its remnants, joined
    across the print like a stroke, ran along the borders from a cross in one box to a tick in the box
    below (two photos of `scan_accuracy.py`); they cross the paper only along it."""
    rows_mm = (min(box.y_mm + box.h_mm, other.y_mm + other.h_mm), max(box.y_mm, other.y_mm))
    cols_mm = (max(box.x_mm, other.x_mm), min(box.x_mm + box.w_mm, other.x_mm + other.w_mm))
    if rows_mm[1] <= rows_mm[0]:  # side by side: across the columns between them, where their rows overlap
        rows_mm, cols_mm = ((max(box.y_mm, other.y_mm), min(box.y_mm + box.h_mm, other.y_mm + other.h_mm)),
                            (min(box.x_mm + box.w_mm, other.x_mm + other.w_mm), max(box.x_mm, other.x_mm)))
        piece, printed, rows_mm, cols_mm, origin = piece.T, printed.T, cols_mm, rows_mm, origin[::-1]
    top, bottom = (int(round(v * px_per_mm)) - origin[0] for v in rows_mm)
    left, right = (int(round(v * px_per_mm)) - origin[1] for v in cols_mm)
    top, left = max(top, 0), max(left, 0)
    if bottom <= top or right <= left:
        return True  # they touch: nothing between them to cross
    open_paper = ~printed[top:bottom, left:right].all(axis=1)
    return bool(piece[top:bottom, left:right].any(axis=1)[open_paper].all())


def _kept_band_pieces(kept: _Pieces | None, region: np.ndarray, printed: np.ndarray,
                      edges_px: tuple[float, float, float, float], px_per_mm: float) -> _BandPieces:
    """``_band_pieces`` of one box's window, from ``kept`` when found there for the same window and edges (its
    arrays are only read), else found and kept in it."""
    if kept is None:
        return _band_pieces(region, printed, edges_px, px_per_mm)
    key = (*edges_px, *region.shape, px_per_mm)
    if key not in kept:
        kept[key] = _band_pieces(region, printed, edges_px, px_per_mm)
    return kept[key]


def _band_pieces(region: np.ndarray, printed: np.ndarray, edges_px: tuple[float, float, float, float],
                 px_per_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The band of ``region`` (grey, round a marked box whose top, bottom, left and right in it are
    ``edges_px``) at least ``OWN_INK_SHARE`` as dark as the box's own ink, off ``printed``, in pieces joined
    across the print (``BRIDGE_MM``): (the pieces' labels, the band, each label's pixels inside the box);
    ``None`` when the box holds too little ink (``LEAST_INSIDE_MM2``)."""
    # a dim photo's sensor noise, joined across the bridges below, would run on as far as any band
    top, bottom, left, right = edges_px
    region = cv2.GaussianBlur(region, (0, 0), NOISE_BLUR_MM * px_per_mm)
    closed = closed_paper(region, BAND_MAX_MM, px_per_mm)
    darkness = 1.0 - region.astype(np.float32) / np.maximum(closed.astype(np.float32), 1.0)
    inset = int(round(INSET_MM * px_per_mm))
    inside = (slice(max(0, int(top) + inset), max(0, int(bottom) - inset)),
              slice(max(0, int(left) + inset), max(0, int(right) - inset)))
    least_px = LEAST_INSIDE_MM2 * px_per_mm ** 2
    own = darkness[inside][darkness[inside] >= LEAST_DARKNESS]
    if own.size < least_px:
        return None
    band = (darkness >= max(LEAST_DARKNESS, OWN_INK_SHARE * float(np.percentile(own, 75)))) & ~printed
    bridge = max(3, int(round(BRIDGE_MM * px_per_mm)) | 1)
    joined = cv2.morphologyEx(band.astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bridge, bridge)))
    _, labels = cv2.connectedComponents(joined, connectivity=8)
    return labels, band, np.bincount(labels[inside].ravel())


def _dark_far_enough(region: np.ndarray, ignored: np.ndarray, in_boxes: np.ndarray,
                     edges_px: tuple[float, float, float, float], px_per_mm: float) -> bool:
    """Whether ``region`` (the window, grey, unblurred) has pixels off ``ignored`` (the print and the band
    along its lines) dark enough to be part of a band (``LEAST_DARKNESS`` under the window's lightest) as far
    past the box (``edges_px``: its top, bottom, left and right in the window) as ``runs_on_mm`` flags, less
    the reach of its blur. Sideways, pixels inside boxes (``in_boxes``: the other rows' ticks) are left out:
    a band that runs that far along the row crosses the paper between its boxes. Up and down, those of the
    boxes above and below in the box's own column count: a band running down the page crosses the next rows'
    boxes, and between them little paper clear of their borders. A quick look that spares most marked boxes
    the closing and the pieces, which cost 8 ms a page of ten ticks."""
    dark = below(region, (1 - LEAST_DARKNESS) * float(region.max())) & ~ignored
    top, bottom, left, right = edges_px
    slack_px = 3 * NOISE_BLUR_MM * px_per_mm
    both, one = BOTH_WAYS_MM * px_per_mm - slack_px, ONE_WAY_MM * px_per_mm - slack_px
    column = slice(max(0, int(left - both)), max(0, int(right + both) + 1))
    # which rows (and below, which columns) hold such a pixel: how far out they lie matters, not how many
    ys = np.flatnonzero(dark[:, column].any(axis=1))
    if (ys <= top - both).any() and (ys >= bottom + both).any():
        return True
    xs = np.flatnonzero((dark & ~in_boxes).any(axis=0))
    return bool(((xs <= left - both).any() and (xs >= right + both).any())
                or (xs <= left - one).any() or (xs >= right + one).any())
