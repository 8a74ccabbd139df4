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
print's blur and a border's remnants lie alike. In: the registered page (2-D uint8 grey, ``px_per_mm``), the
row's boxes where found; out: mm².
"""

from __future__ import annotations

import cv2
import numpy as np

from formkit.layout.model import Box, Page

from . import areas
from .beside_ink import box_outlines, print_masks, within_window
from .register import WARP_PX_PER_MM, box_slices

STRIP_GAP_MM = 0.5  # from the border where found: its blur in a 3 MP photo
STRIP_MM = 4.0  # a letter or two
STRIP_MIN_MM = 1.0  # narrower (a goal card's boxes lie 1.2 mm apart), no strip
STRIP_INSET_MM = 0.5
LETTERS_CONTRAST = 0.12
LETTERS_MM2 = 0.9
# of a piece, level with the box: letters written on across the row lie wholly level (0.99-1.0 in 3 MP photos);
# a long tick's tail from the row below, cut where it leaves the window, 0.73
LEVEL_SHARE = 0.9
# a piece this large or more: a letter at 3 MP is 1.2-2.9 mm², or a stroke of it; the noise of an underexposed
# photo at LETTERS_CONTRAST comes in specks up to 0.34 mm², a border's remnant beside it 0.3-0.5 mm²
PIECE_MIN_MM2 = 0.5
ABOVE_MM = 3.0  # the window round a box reaches this far above and below it: a stroke crossing the row is seen long


def strips_ink_mm2(page: np.ndarray, layout_page: Page, boxes: list[Box], k: int,
                   px_per_mm: float = WARP_PX_PER_MM) -> tuple[float | None, float | None]:
    """The ink in the strips left and right of ``boxes[k]`` (see the module's text), mm²; ``None`` for a side
    with no room for a strip before the next box."""
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
    ink = areas.stroke_mask(window, px_per_mm, LETTERS_CONTRAST) & ~printed \
        & ~box_outlines(boxes, rows, cols, page.shape, px_per_mm)
    for other in boxes:
        ink[within_window(other, rows, cols, page.shape, px_per_mm)] = False
    count, labels = cv2.connectedComponents(ink.view(np.uint8), connectivity=8)
    level = within_window(box, rows, cols, page.shape, px_per_mm)[0]
    whole = np.bincount(labels.ravel(), minlength=count)
    on_level = np.bincount(labels[level].ravel(), minlength=count)
    kept = (on_level >= LEVEL_SHARE * whole) & (whole >= PIECE_MIN_MM2 * px_per_mm ** 2)
    kept[0] = False
    strip_rows = within_window(Box(box.x_mm, box.y_mm + STRIP_INSET_MM, box.w_mm, box.h_mm - 2 * STRIP_INSET_MM),
                               rows, cols, page.shape, px_per_mm)[0]
    sides: list[float | None] = []
    for x0_mm, x1_mm in (left, right):
        if x1_mm - x0_mm < STRIP_MIN_MM:
            sides.append(None)
            continue
        strip_cols = within_window(Box(x0_mm, box.y_mm, x1_mm - x0_mm, box.h_mm), rows, cols, page.shape, px_per_mm)[1]
        sides.append(float(np.count_nonzero(kept[labels[strip_rows, strip_cols]])) / px_per_mm ** 2)
    return sides[0], sides[1]


def letters_beside(page: np.ndarray, layout_page: Page, boxes: list[Box], marked: int, least_mm2: float,
                   px_per_mm: float = WARP_PX_PER_MM) -> float:
    """How much more ink one strip beside ``boxes[marked]`` holds than the same strips beside the row's other boxes
    in the median (see the module's text), mm²; 0.0 when neither of its strips holds ``least_mm2`` (the others'
    are not measured then: most rows have nothing beside their mark)."""
    own = strips_ink_mm2(page, layout_page, boxes, marked, px_per_mm)
    if not any(side is not None and side >= least_mm2 for side in own):
        return 0.0
    others = [strips_ink_mm2(page, layout_page, boxes, k, px_per_mm) for k in range(len(boxes)) if k != marked]
    excess = 0.0
    for side in (0, 1):
        theirs = [strips[side] for strips in others if strips[side] is not None]
        if own[side] is not None and theirs:
            excess = max(excess, own[side] - float(np.median(theirs)))
    return excess

