"""Letters level with a row's one marked box, just past its border, too faint or too near it for ``beside_ink``:
the end of a short word begun in the box ("N/A", "n/a", its last letter outside), or a word in pencil running on
from it, in a phone photo whose blur leaves a pencil stroke 0.1-0.25 darker than the paper, where
``beside_ink`` looks for ink 0.2-0.3 darker and, at 0.2, leaves out what lies within a millimetre of a border.

Beside each box of a row, left and right, a strip level with it (``STRIP_MM`` wide, ``STRIP_GAP_MM`` clear of
its border where found, ``STRIP_INSET_MM`` inside its top and foot: a cross's arms leave a box at its corners,
a tick's upwards) holds the strokes ``LETTERS_CONTRAST`` darker than the paper round them (``areas.stroke_mask``),
off the print and the boxes' outlines, in pieces lying mostly level with the box (``LEVEL_SHARE``: a long tick's
tail from the row below crosses the row, a letter lies along it). ``letters_beside``: how much more of such ink
one strip of the marked box holds than the same strips of the row's other boxes hold in the median, where the
print's blur and a border's remnants lie alike; the marked box's strips count only letters about as dark as the
pen in the box (``SAME_PEN_SHARE``: not another page's print showing through beside a black tick). In: the
registered page (2-D uint8 grey, ``px_per_mm``), the row's boxes where found; out: mm².
"""

from __future__ import annotations

import cv2
import numpy as np

from formkit.layout.model import Box, Page

from .beside_ink import box_outlines, print_masks, within_window
from .ink import STROKE_MAX_MM, below, closed_paper, darker_than
from .register import WARP_PX_PER_MM, box_slices

STRIP_GAP_MM = 0.5  # from the border where found: its blur in a 3 MP photo
STRIP_MM = 4.0  # a letter or two
STRIP_MIN_MM = 1.0  # narrower (a goal card's boxes lie 1.2 mm apart), no strip
STRIP_INSET_MM = 0.5
# measured 2026-12-07 on the captured rows of unusual_marks *word* (10 pages a capture; letters beside the box)
# against ticks, crosses, scribbles, fills and corrections (scan_accuracy's 20 conditions x 5 pages, desk_hazards'
# 14 x 5, unusual_marks *long* x 10): at 0.12 the ordinary rows' excess was at most 0.56 mm² (canary-yellow paper
# in a 3 MP photo), 18 of the 26 word rows read unflagged then 0.9 or more (at 0.10 the noise of underexposed
# photos reached 2.2)
LETTERS_CONTRAST = 0.12
LETTERS_MM2 = 0.9
# of a piece, level with the box: letters written on across the row lie wholly level (0.99-1.0 in 3 MP photos);
# a long tick's tail from the row below, cut where it leaves the window, 0.73
LEVEL_SHARE = 0.9
# a piece this large or more: a letter at 3 MP is 1.2-2.9 mm², or a stroke of it; the noise of an underexposed
# photo at LETTERS_CONTRAST comes in specks up to 0.34 mm², a border's remnant beside it 0.3-0.5 mm²
PIECE_MIN_MM2 = 0.5
# of the pen's darkness in the marked box (both at their 90th percentile), the letters beside it: written with the
# same pen, 0.6 or more on unusual_marks *word* rows (3 and 12 MP photos); the mirrored print of a page's back
# showing through beside a black cross, under 0.3 (desk_hazards *bleed*: 3 rows flagged without this, 2026-12-07)
SAME_PEN_SHARE = 0.5
ABOVE_MM = 3.0  # the window round a box reaches this far above and below it: a stroke crossing the row is seen long


def strips_ink_mm2(page: np.ndarray, layout_page: Page, boxes: list[Box], k: int,
                   px_per_mm: float = WARP_PX_PER_MM, least_mm2: float = 0.0) -> tuple[float | None, float | None]:
    """The ink in the strips left and right of ``boxes[k]`` (see the module's text), mm²; ``None`` for a side
    with no room for a strip before the next box. With ``least_mm2`` (the marked box's strips), (0.0, 0.0) at
    once when neither strip has that much of pixels as dark as the ink against the lightest paper near it
    (``_dark_mm2``: a quick test that spares a ticked row the strokes' analysis, 0.4 ms a row), and a strip's
    ink counts only where it is as dark as the pen's in the box (``SAME_PEN_SHARE``)."""
    box = boxes[k]
    before = boxes[k - 1].x_mm + boxes[k - 1].w_mm + STRIP_GAP_MM if k > 0 else -np.inf
    after = boxes[k + 1].x_mm - STRIP_GAP_MM if k + 1 < len(boxes) else np.inf
    left = (max(box.x_mm - STRIP_GAP_MM - STRIP_MM, before), box.x_mm - STRIP_GAP_MM)
    right = (box.x_mm + box.w_mm + STRIP_GAP_MM, min(box.x_mm + box.w_mm + STRIP_GAP_MM + STRIP_MM, after))
    reach = STRIP_GAP_MM + STRIP_MM
    rows, cols = box_slices(Box(box.x_mm - reach, box.y_mm - ABOVE_MM, box.w_mm + 2 * reach, box.h_mm + 2 * ABOVE_MM),
                            0.0, page.shape, px_per_mm)
    window = page[rows, cols]
    if window.size == 0:
        return None, None
    printed = print_masks(layout_page, page.shape[:2], px_per_mm)[0][rows, cols]
    strip_rows = within_window(Box(box.x_mm, box.y_mm + STRIP_INSET_MM, box.w_mm, box.h_mm - 2 * STRIP_INSET_MM),
                               rows, cols, page.shape, px_per_mm)[0]
    strips_cols = [within_window(Box(x0_mm, box.y_mm, x1_mm - x0_mm, box.h_mm), rows, cols, page.shape, px_per_mm)[1]
                   if x1_mm - x0_mm >= STRIP_MIN_MM else None for x0_mm, x1_mm in (left, right)]
    if least_mm2 > 0 and all(strip_cols is None or _dark_mm2(window, printed, strip_rows, strip_cols, px_per_mm)
                             < least_mm2 for strip_cols in strips_cols):
        return 0.0, 0.0
    paper = closed_paper(window, STROKE_MAX_MM, px_per_mm)  # as ``areas.stroke_mask``
    stroke = darker_than(window, paper, LETTERS_CONTRAST)
    outlines = box_outlines(boxes, rows, cols, page.shape, px_per_mm)
    ink = stroke & ~printed & ~outlines
    for other in boxes:
        ink[within_window(other, rows, cols, page.shape, px_per_mm)] = False
    count, labels = cv2.connectedComponents(ink.view(np.uint8), connectivity=8)
    level = within_window(box, rows, cols, page.shape, px_per_mm)[0]
    whole = np.bincount(labels.ravel(), minlength=count)
    on_level = np.bincount(labels[level].ravel(), minlength=count)
    kept = (on_level >= LEVEL_SHARE * whole) & (whole >= PIECE_MIN_MM2 * px_per_mm ** 2)
    kept[0] = False
    pen = 0.0
    if least_mm2 > 0:  # the pen's darkness: of the strokes in the box, off its outline
        inside = within_window(box, rows, cols, page.shape, px_per_mm)
        pen = _darkness(window[inside], paper[inside], stroke[inside] & ~outlines[inside])
    sides: list[float | None] = []
    for strip_cols in strips_cols:
        if strip_cols is None:
            sides.append(None)
            continue
        letters = kept[labels[strip_rows, strip_cols]]
        if pen and _darkness(window[strip_rows, strip_cols], paper[strip_rows, strip_cols], letters) \
                < SAME_PEN_SHARE * pen:
            sides.append(0.0)
            continue
        sides.append(float(np.count_nonzero(letters)) / px_per_mm ** 2)
    return sides[0], sides[1]


def _darkness(region: np.ndarray, paper: np.ndarray, mask: np.ndarray) -> float:
    """How much darker than ``paper`` the pixels of ``region`` under ``mask`` are, at their 90th percentile (0 for
    none): a pen's stroke at its darkest, less its blurred edges."""
    if not mask.any():
        return 0.0
    shade = 1.0 - region[mask].astype(np.float32) / np.maximum(paper[mask].astype(np.float32), 1.0)
    return float(np.percentile(shade, 90))


def _dark_mm2(window: np.ndarray, printed: np.ndarray, strip_rows: slice, strip_cols: slice, px_per_mm: float) -> float:
    """Pixels of the strip ``strip_rows``, ``strip_cols`` of ``window`` off the print (``printed``) under
    ``1 - LETTERS_CONTRAST`` of the lightest pixel within ``STROKE_MAX_MM`` of it, mm²: every pixel that
    ``areas.stroke_mask`` can take for ink there (its paper, a closing that wide, is no lighter) is one."""
    reach = STROKE_MAX_MM * px_per_mm / 2 + 1
    around = window[max(0, int(strip_rows.start - reach)):int(strip_rows.stop + reach),
                    max(0, int(strip_cols.start - reach)):int(strip_cols.stop + reach)]
    if not around.size:
        return 0.0
    strip = window[strip_rows, strip_cols]
    dark = below(strip, float(around.max()) * (1 - LETTERS_CONTRAST)) & ~printed[strip_rows, strip_cols]
    return float(np.count_nonzero(dark)) / px_per_mm ** 2


def letters_beside(page: np.ndarray, layout_page: Page, boxes: list[Box], marked: int, least_mm2: float,
                   px_per_mm: float = WARP_PX_PER_MM) -> float:
    """How much more ink one strip beside ``boxes[marked]`` holds than the same strips beside the row's other boxes
    in the median (see the module's text), mm²; 0.0 when neither of its strips holds ``least_mm2`` (the others'
    are not measured then: most rows have nothing beside their mark)."""
    own = strips_ink_mm2(page, layout_page, boxes, marked, px_per_mm, least_mm2)
    if not any(side is not None and side >= least_mm2 for side in own):
        return 0.0
    others = [strips_ink_mm2(page, layout_page, boxes, k, px_per_mm) for k in range(len(boxes)) if k != marked]
    excess = 0.0
    for side in (0, 1):
        theirs = [strips[side] for strips in others if strips[side] is not None]
        if own[side] is not None and theirs:
            excess = max(excess, own[side] - float(np.median(theirs)))
    return excess

