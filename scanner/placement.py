"""Where each printed box of a field lies on the registered page, and how clearly its outline shows there.

Registration is exact at the markers, in the page's corners; a curled or bent page (a photo of a page that does
not lie flat) moves the boxes between them by up to a millimetre or so, a phone's rolling shutter (each row of
the photo shifted sideways, the markers too) by up to 2 mm, which puts printed border inside the area
measured for ink. So each field's boxes are looked for around where registration puts them
(``placed_boxes``), the offsets found are kept with the field's value (``record_offsets``) and every later
reader measures the boxes there (``found_boxes``). Pixels are those of the registered page (``px_per_mm``, 8
after ``register.warp_page``); offsets are in mm.
"""

from __future__ import annotations

import statistics
from functools import cache

import cv2
import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, field_boxes
from formkit.records import FieldValue

from .marks import percentile_of_levels
from .register import WARP_PX_PER_MM

SNAP_MM = 1.0  # how far a field's boxes are looked for
SNAP_GAIN = 0.15  # a place is taken only if it lays this much more border on dark pixels than registration's
SNAP_BOX_PX = 3  # how far each box may then lie from its field's place
# A phone's rolling shutter shifts each row of the photo sideways (3 px in scan_accuracy.py's photo3wobble, 1.2
# mm on a page 2.5 px/mm across in a 3 MP photo) and the markers with them, so registration may put a field
# 2.1 mm off its printed boxes: over the 1 mm searched, a field moved along its row still lays the top and
# bottom of each box on their lines, a plateau with no peak, and its boxes' sides were read as marks (measured
# 2026-12-07 on photo3wobble's first 20 pages: 40 fields on 4 pages 1.1-2.1 mm off, or boxes of a row shifted
# unevenly by up to 1.25 mm along a page photographed sideways). Such a field is looked for again this far:
# under half the 5 mm of a box, since a digit field's boxes touch, and a field moved by half a box lays no
# side on a line.
WIDE_SNAP_MM = 2.5
# A field is taken as maybe off its outlines, and looked for that far, where its place lies at the edge of the
# 1 mm search, or its median box's weakest side shows under SIDES_MISSING of that box's strongest, or any box's
# under SIDE_MISSING. Measured 2026-12-07 on 597 fields found in place (photo3wobble 20 pages; photos 3 and
# 12 MP, bent, crumpled, faded, over-exposed, distorted, 2 MP messenger, 300 dpi scans, 8 pages each): 31
# (5 %) looked for again (9 at the edge, 18 by the median box, 13 by one box); of the 40 fields off, 36 (the
# other 4 were 2 px off at most, within a box's own search).
SIDES_MISSING = 0.4
SIDE_MISSING = 0.1
# A row stretched unevenly (a lens's barrel distortion, a phone's rolling shutter) can leave boxes far from
# its field's place: a box whose outline lies there this much weaker than the field's boxes' outlines show at
# their clearest (the median box's best place within the reach) is looked for alone over the whole reach,
# and moved where its outline lies nearly as clearly (measured 2026-12 on photos with 3 % barrel distortion:
# box 1 of a K10 row 0.75 mm off its outline, its border read as a mark at confidence 1.0)
WEAK_OUTLINE = 0.6
CLEAR_OUTLINE = 0.8
# Placed where its outline lies this weakly (for the print's contrast there), a box is taken as off its outline
# whatever its ink looks like. Boxes ticked on 2 MP and bent 3 MP photos come down to 0.41 (their ticks cover
# part of the outline's paper), boxes measured off their outline lay at 0.43-0.57: those are told by their
# ink instead (``marks._printed_line_across``).
OFF_OUTLINE = 0.3
# The print's black near a box, what its outline's clearness is judged against: the 8th percentile of the band
# the outline may lie in (the search's reach and ring round the box's edges, 2 px more in), about a tenth of
# which is outline. Its middle is left out: a pen mark there, twice as dark as faded print, stood for it, and
# marked boxes were taken as measured off their outline (33 of 358 fields of 3 MP photos of faded print)
PRINT_INSET_PX = 2
PRINT_PERCENTILE = 8
LINE_PX = 1.0  # distance from a box's edge, in pixels, that its printed line (0.3 mm) covers
RING_PX = (2.0, 3.0)  # the paper either side of the line


def box_offsets_mm(page: np.ndarray, boxes: list[Box], px_per_mm: float = WARP_PX_PER_MM
                   ) -> list[tuple[float, float]]:
    """``placed_boxes``' offsets alone (the print's contrast round each box, which only the strengths need,
    not measured)."""
    return placed_boxes(page, boxes, px_per_mm, strengths=False)[0]


def placed_boxes(page: np.ndarray, boxes: list[Box], px_per_mm: float = WARP_PX_PER_MM, strengths: bool = True
                 ) -> tuple[list[tuple[float, float]], list[float]]:
    """Per box of one field, the (dx, dy) in mm that lays its printed border best on ``page`` (the
    registered page, 2-D uint8 grey): (0, 0) where registration's place is as good, nearly, or no border
    shows (a field at the page's edge, a washed-out image).

    The field's boxes are first looked for together, within ``SNAP_MM``, in whole pixels: a line darker
    than the paper either side of it, over the outline of every box, so a mark inside one box or a shadow
    across the row moves nothing. Each box is then placed within ``SNAP_BOX_PX`` of that: a bent page
    moves the ends of a long row by different amounts; a box whose outline lies far weaker there than its
    field's others is looked for alone over the whole reach (``WEAK_OUTLINE``). A field whose place lies at
    the edge of that search, or whose boxes do not show their sides there (``_side_shares``), is looked for
    again within ``WIDE_SNAP_MM`` (a phone's rolling shutter shifts rows further than a bent page does), and
    moved where that finds it inside the reach with its boxes' sides showing.

    And per box, how clearly its outline lies where it is placed, as a share of the field's boxes' outlines
    at their clearest (1.0 where that cannot be told): under ``OFF_OUTLINE``, the box is taken as measured
    off its outline, with its own border inside the area read for ink; all 1.0 unless ``strengths``."""
    reach = int(round(SNAP_MM * px_per_mm))
    placed = _placed_within(page, boxes, reach, px_per_mm, strengths)
    if placed is None:
        return [(0.0, 0.0)] * len(boxes), [1.0] * len(boxes)
    offsets, clearness, at_edge = placed
    shares = _side_shares(page, boxes, offsets, px_per_mm)
    if shares and (at_edge or statistics.median(shares) < SIDES_MISSING or min(shares) < SIDE_MISSING):
        wide = _placed_within(page, boxes, int(round(WIDE_SNAP_MM * px_per_mm)), px_per_mm, strengths)
        # taken only where the boxes' sides show: a note over most of a row left none there, and the wide
        # search laid its boxes on the note's edge, 2.5 mm off (tests/test_hidden_parts.py, 2026-12-07)
        if wide is not None and not wide[2]:
            wide_shares = _side_shares(page, boxes, wide[0], px_per_mm)
            if wide_shares and statistics.median(wide_shares) >= SIDES_MISSING:
                offsets, clearness = wide[0], wide[1]
    return offsets, clearness


def _placed_within(page: np.ndarray, boxes: list[Box], reach: int, px_per_mm: float, strengths: bool
                   ) -> tuple[list[tuple[float, float]], list[float], bool] | None:
    """``placed_boxes``' offsets and strengths searched within ``reach`` pixels, and whether the field's place
    lies at the edge of that search; ``None`` where the search runs off the page."""
    found = [_border_scores(page, box, reach, px_per_mm, strengths) for box in boxes]
    if not found or any(f is None for f in found):
        return None
    scores, spreads = [f[0] for f in found], [f[1] for f in found]
    centre = _best_place(sum(scores), (reach, reach), reach)
    at_edge = max(abs(centre[0] - reach), abs(centre[1] - reach)) >= reach
    places = [_best_place(s, centre, SNAP_BOX_PX) for s in scores]
    clearest_here = [s.max() for s in scores]  # each box's outline where it lies clearest
    typical = float(statistics.median(clearest_here))  # an outline as clear as a box's can show anywhere near
    for k, (s, place) in enumerate(zip(scores, places, strict=True)):
        if typical > 0 and s[place] < WEAK_OUTLINE * typical:
            alone = np.unravel_index(int(np.argmax(s)), s.shape)
            if s[alone] >= CLEAR_OUTLINE * typical:
                places[k] = (int(alone[0]), int(alone[1]))
    offsets = [((column - reach) / px_per_mm, (row - reach) / px_per_mm) for row, column in places]
    if not strengths:
        return offsets, [1.0] * len(boxes), at_edge
    # how clearly each outline lies where it is placed, for the print's contrast there (glare over one box lowers
    # its outline's score as much as its print: that box is in place, and says so)
    clearest = float(statistics.median([best / spread for best, spread in zip(clearest_here, spreads, strict=True)]))
    return offsets, [round(float(s[place]) / spread / clearest, 3) if clearest > 0 else 1.0
                     for s, place, spread in zip(scores, places, spreads, strict=True)], at_edge


def _side_shares(page: np.ndarray, boxes: list[Box], offsets_mm: list[tuple[float, float]], px_per_mm: float
                 ) -> list[float]:
    """Per box moved by its offset, its weakest side (against the paper either side of it) as a share of its
    strongest: near 0 or below where the box lies moved along its row; [] near the page's edge."""
    shares = []
    for box, offset in zip(boxes, offsets_mm, strict=True):
        levels = _side_levels(page, box, offset, px_per_mm)
        if levels is None:
            return []
        strongest = float(levels.max())
        shares.append(float(levels.min()) / strongest if strongest > 0 else 0.0)
    return shares


def _best_place(scores: np.ndarray, start: tuple[int, int], within: int) -> tuple[int, int]:
    """The (row, column) of ``scores`` within ``within`` of ``start`` where the border lies best, if it
    lies there clearly (``SNAP_GAIN``) better than at ``start``; else ``start``."""
    top, left = max(0, start[0] - within), max(0, start[1] - within)
    window = scores[top:start[0] + within + 1, left:start[1] + within + 1]
    row, column = np.unravel_index(int(np.argmax(window)), window.shape)
    best, here = float(window[row, column]), float(scores[start])
    if best <= 0 or best - here < SNAP_GAIN * best:
        return start
    return top + int(row), left + int(column)


def moved(box: Box, offset_mm: tuple[float, float]) -> Box:
    """``box`` moved by ``offset_mm`` (dx, dy), as ``box_offsets_mm`` gives it."""
    return Box(box.x_mm + offset_mm[0], box.y_mm + offset_mm[1], box.w_mm, box.h_mm)


def record_offsets(raw: dict, offsets_mm: list[tuple[float, float]]) -> None:
    """Keep a field's box offsets in its ``raw`` measures (``offset_mm``: (dx, dy) a box) when any box was
    found off where registration put it."""
    if any(dx or dy for dx, dy in offsets_mm):
        raw["offset_mm"] = [[round(dx, 3), round(dy, 3)] for dx, dy in offsets_mm]


# A page whose markers disagree by more than register.REVIEW_ERROR_MM has its fields flagged: registration
# may put them a millimetre or so from where they are. A field whose boxes were all measured where their
# printed outlines are (found by box_offsets_mm, or where registration put them) reads as well as on any
# page: ``outlines_found`` tells which. Each side of each box must show its line where the box was measured,
# since a field moved along its row still lays two sides of every box on their lines, and the whole
# outline's score cannot tell that from a blurred outline in place. Measured 2026-12 on 100 synthetic 3 MP
# photos (benchmarks/scan_accuracy.py's pages): boxes in place kept all four sides in 99.7 % of blank boxes
# and 94 % of choice fields (a box filled in darkens the paper inside its outline); boxes measured 0.5 mm
# off kept them in 5 cases of 14,240, 0.75 mm or more off in none of 24,920. 12 MP photos and scans: 100 %
# and 95-96 % kept, none off.
FOUND_SIDE_SHARE = 0.5  # of the page's typical side: each side at least this dark against its paper
# The page's typical side against its boxes' contrast: 0.14 in the most blurred 3 MP photos, 0.76 in scans,
# near 0 were its boxes all off their outlines. Below this, no outline is taken as found.
FOUND_REFERENCE_MIN = 0.1


def outlines_found(page: np.ndarray, fields: dict[str, tuple[list[Box], list[tuple[float, float]]]],
                   box_contrast: float | None, px_per_mm: float = WARP_PX_PER_MM) -> dict[str, float]:
    """The fields whose every box shows all four sides of its printed outline where it was measured.

    ``page``: the registered page (2-D uint8 grey); ``fields``: per field id, its boxes as the layout places
    them and the (dx, dy) mm each was measured at (``box_offsets_mm``, as ``record_offsets`` keeps them);
    ``box_contrast``: the page's paper white minus border black, grey levels (``BoxMeasure.contrast``'s
    median). Returns, per field found, its weakest side as a share of the page's typical side (the median of
    every side of every box in ``fields``). Not found: a box whose place is at the edge of the search (its
    outline may lie beyond), near the page's edge, or with any side fainter than ``FOUND_SIDE_SHARE``."""
    reach_px = int(round(WIDE_SNAP_MM * px_per_mm))
    sides: dict[str, list[np.ndarray | None]] = {}
    for field_id, (boxes, offsets_mm) in fields.items():
        sides[field_id] = [_side_levels(page, box, offset, px_per_mm)
                           if max(abs(round(d * px_per_mm)) for d in offset) < reach_px else None
                           for box, offset in zip(boxes, offsets_mm, strict=True)]
    levels = [s for per_box in sides.values() for s in per_box if s is not None]
    if not levels or box_contrast is None:
        return {}
    typical = float(np.median(np.concatenate(levels)))
    if typical <= 0 or typical < FOUND_REFERENCE_MIN * box_contrast:
        return {}
    found = {}
    for field_id, per_box in sides.items():
        measured = [s for s in per_box if s is not None]
        if measured and len(measured) == len(per_box):
            weakest = min(float(s.min()) for s in measured) / typical
            if weakest >= FOUND_SIDE_SHARE:
                found[field_id] = round(weakest, 3)
    return found


def recorded_offsets(raw: dict, boxes: int) -> list[tuple[float, float]]:
    """The box offsets ``record_offsets`` kept in ``raw``; (0, 0) each when none were."""
    return [(float(dx), float(dy)) for dx, dy in raw.get("offset_mm", [(0.0, 0.0)] * boxes)]


def found_boxes(f: ChoiceField | BoxesField, value: FieldValue) -> list[Box]:
    """``f``'s boxes where its reading found them (``recorded_offsets``)."""
    printed = field_boxes(f)
    if "offset_mm" not in value.raw:  # found where registration put them: every field of the throughput pages
        return printed  # (the readers after the reading ask 130 times a page; each box moved by 0 cost 1 µs)
    return [moved(box, offset) for box, offset in zip(printed, recorded_offsets(value.raw, len(printed)), strict=True)]


def _side_levels(page: np.ndarray, box: Box, offset_mm: tuple[float, float], px_per_mm: float
                 ) -> np.ndarray | None:
    """Grey levels by which the paper either side of each side of ``box``'s outline (top, bottom, left,
    right), moved by ``offset_mm``, is lighter than the line there; ``None`` near the page's edge."""
    shift = (int(round(offset_mm[0] * px_per_mm)), int(round(offset_mm[1] * px_per_mm)))
    found = _around_box(page, box, px_per_mm, int(RING_PX[1]), shift)
    if found is None:
        return None
    pixels, (w, h) = found
    return _side_weights(w, h) @ pixels.astype(np.float32).ravel()


@cache
def _side_weights(w: int, h: int) -> np.ndarray:
    """(4, pixels of ``_outline_template(w, h)``): per side (top, bottom, left, right), away from the corners
    where two sides meet, weights whose sum over the image is the mean of its paper minus the mean of its
    line, as ``_outline_template`` places them."""
    template = _outline_template(w, h)
    line, paper = template < 0, template > 0
    ring = int(RING_PX[1])
    rows, columns = np.indices(template.shape)
    along_x, along_y = (columns > 2 * ring) & (columns < w), (rows > 2 * ring) & (rows < h)
    sides = [(rows <= 2 * ring) & along_x, (rows >= h) & along_x, (columns <= 2 * ring) & along_y,
             (columns >= w) & along_y]
    weights = [(line & side) * (-1.0 / (line & side).sum()) + (paper & side) * (1.0 / (paper & side).sum())
               for side in sides]
    return np.stack(weights).reshape(4, -1).astype(np.float32)


def _border_scores(page: np.ndarray, box: Box, reach: int, px_per_mm: float, contrast: bool = True
                   ) -> tuple[np.ndarray, float] | None:
    """(2 reach + 1, 2 reach + 1): how well the box's outline, moved by (row, column) - reach pixels, lies
    on a dark line with paper either side; and, with ``contrast`` (else 1.0), the print's contrast there: the
    grey levels between the lightest pixel searched and the print's black, the ``PRINT_PERCENTILE`` of the band
    the outline lies in, the box's middle left out (a pen mark darker than faded print must not stand for it).
    ``None`` when the search runs off the page."""
    found = _around_box(page, box, px_per_mm, reach + int(RING_PX[1]))
    if found is None:
        return None
    pixels, (w, h) = found
    scores = cv2.matchTemplate(pixels.astype(np.float32), _outline_template(w, h), cv2.TM_CCORR)
    if not contrast:
        return scores, 1.0
    # the grey levels counted as they are (uint8): OpenCV counts floats at twice the cost
    _, lightest, _, _ = cv2.minMaxLoc(pixels)
    band = _band_mask(pixels.shape, reach + int(RING_PX[1]) + PRINT_INSET_PX)
    counts = cv2.calcHist([pixels], [0], band[0], [256], [0, 256]).ravel()
    return scores, max(lightest - percentile_of_levels(counts, band[1], PRINT_PERCENTILE), 1.0)


def _around_box(page: np.ndarray, box: Box, px_per_mm: float, pad_px: int, shift_px: tuple[int, int] = (0, 0)
                ) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The pixels of ``page`` (uint8, a view) under ``box`` moved by ``shift_px`` (dx, dy) and ``pad_px`` around
    it, with the box's (w, h) in pixels; ``None`` where that runs off the page."""
    x0 = int(round(box.x_mm * px_per_mm)) + shift_px[0]
    y0 = int(round(box.y_mm * px_per_mm)) + shift_px[1]
    w, h = int(round(box.w_mm * px_per_mm)), int(round(box.h_mm * px_per_mm))
    top, left, bottom, right = y0 - pad_px, x0 - pad_px, y0 + h + pad_px + 1, x0 + w + pad_px + 1
    if top < 0 or left < 0 or bottom > page.shape[0] or right > page.shape[1]:
        return None
    return page[top:bottom, left:right], (w, h)


@cache
def _band_mask(shape: tuple[int, ...], inset: int) -> tuple[np.ndarray, int]:
    """A uint8 mask of ``shape``, 1 but for its middle, ``inset`` pixels in from each side (at least one pixel
    of middle is left out), and how many pixels it holds."""
    inset = min(inset, (min(shape) - 1) // 2)
    mask = np.ones(shape, np.uint8)
    mask[inset:shape[0] - inset, inset:shape[1] - inset] = 0
    return mask, int(np.count_nonzero(mask))


@cache
def _outline_template(w: int, h: int) -> np.ndarray:
    """Weights over a box of w x h pixels and ``RING_PX[1]`` around it: -1 on its outline (grey levels are
    low where ink is), positive on the paper either side, summing to 0 (an even shade scores nothing)."""
    ring = int(RING_PX[1])
    outline = np.full((h + 2 * ring + 1, w + 2 * ring + 1), 255, np.uint8)
    cv2.rectangle(outline, (ring, ring), (ring + w, ring + h), 0, 1)
    distance = cv2.distanceTransform(outline, cv2.DIST_L2, 3)
    line, paper = distance <= LINE_PX, (distance >= RING_PX[0]) & (distance <= RING_PX[1])
    return np.where(line, -1.0, np.where(paper, line.sum() / paper.sum(), 0.0)).astype(np.float32)
