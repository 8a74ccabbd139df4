"""Something opaque lying over part of a marked box: a punched hole (showing what lay behind the page), a
fingertip in a photo. Its dark edge over the box reads as a mark, while the rest of the box's border still
shows, so no side of it reads as covered (``marks.BoxMeasure.covered``). A person's mark is strokes inside
the box, or a fill that stops at its border or a millimetre past it; this is a dark area wider than any
stroke that reaches ``BEYOND_MM`` past the box, and under it the printed border does not show (under a
highlighter, which lets the print through, it does: ``_border_hidden``), and no ink darker than it shows in
the box (a tick through a highlighter, or beside a finger, is a mark whatever lies over it). Such a field
is flagged.

Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from formkit.layout.model import Box, Page
from formkit.records import RAW_OVERLAID, FieldValue

from . import marks
from .beside_ink import print_masks
from .ink import below
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review
from .stains import marked_boxes

BEYOND_MM = 2.0  # past the box's outline: a fill spills over its border by a millimetre at most
LOOK_MM = BEYOND_MM + 1.0  # how far round the box the page is looked at
WIDE_MM = 1.5  # an area wider than this is no pen stroke (a felt pen draws 1 mm)
DARK_SHARE = 0.35  # of the box's contrast (paper to printed border), how much darker than the paper it is
BORDER_BAND_MM = 0.2  # each side of the printed border's line
BORDER_PERCENTILE = 20  # the border's darkest under the thing (its line is a third of the band)
AS_DARK_AS_PRINT = 0.25  # of the contrast, over the border's black: dark enough to hide it whatever
MARK_MM2 = 0.3  # of ink darker than the thing by as much, inside the box: a mark that shows


def flag_boxes_under_something(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                               px_per_mm: float = WARP_PX_PER_MM,
                               references: Mapping[Box, tuple[float, float]] | None = None) -> None:
    """Flag, in place, each choice value of ``values`` with a box read as marked, heavy or filled that
    something opaque lies over (``lies_over``): an answer not flagged yet, or a field with a heavy or filled
    box that the respondent's fill convention may turn into one (``RAW_OVERLAID`` keeps it flagged). The
    options go into ``raw[RAW_OVERLAID]``, in the field's order. ``references``: the boxes'
    ``marks.local_references`` on this ``page``, by box where found, as the reading counted them (the others
    are counted here)."""
    references = references or {}
    for value, seen in marked_boxes(layout_page, values):
        under = [option for option, box in seen
                 if lies_over(page, layout_page, box, px_per_mm, references.get(box))]
        if under:
            value.raw[RAW_OVERLAID] = under
            flag_for_review(value, f"something dark lies over part of option(s) {', '.join(under)} and past it (a "
                                   "punched hole, a finger): a mark under it?")


def lies_over(page: np.ndarray, layout_page: Page, box: Box, px_per_mm: float = WARP_PX_PER_MM,
              references: tuple[float, float] | None = None) -> bool:
    """Whether a dark area wider than a stroke (``WIDE_MM``) runs from inside ``box`` to ``BEYOND_MM`` past
    its outline (over paper or printed words), and the box's printed border under it does not show against
    it (``_border_hidden``): it is opaque; and no ink darker than it shows inside the box. ``references``:
    the box's ``marks.local_references``, when already counted."""
    rows, cols = box_slices(box, LOOK_MM, page.shape, px_per_mm)
    region = page[rows, cols]
    white, black = references or marks.local_references(page, box, px_per_mm)
    contrast = max(white - black, 40.0)
    dark = below(region, white - DARK_SHARE * contrast).astype(np.uint8)
    left, top = box.x_mm * px_per_mm - cols.start, box.y_mm * px_per_mm - rows.start
    right, bottom = left + box.w_mm * px_per_mm, top + box.h_mm * px_per_mm
    beyond_px = BEYOND_MM * px_per_mm
    far = np.ones(region.shape, bool)
    far[max(0, int(top - beyond_px)):int(bottom + beyond_px) + 1,
        max(0, int(left - beyond_px)):int(right + beyond_px) + 1] = False
    size = max(3, int(round(WIDE_MM * px_per_mm)) | 1)
    least_px = size * size * np.pi / 4  # a disc as wide as the widest stroke: what lies that far out at least
    printed, near_lines, _ = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    # nothing that wide out there, rules and borders aside (most boxes); a hole may lie over printed words
    if np.count_nonzero(dark[far & ~near_lines]) < least_px:
        return False
    wide = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    outline = np.zeros(region.shape, np.uint8)
    cv2.rectangle(outline, (int(round(left)), int(round(top))), (int(round(right)), int(round(bottom))), 1,
                  max(1, int(round(2 * BORDER_BAND_MM * px_per_mm))))
    inside = np.zeros(region.shape, bool)
    inset = int(round(marks.INNER_INSET_MM * px_per_mm))
    inside[max(0, int(top) + inset):int(bottom) - inset, max(0, int(left) + inset):int(right) - inset] = True
    within = np.zeros(region.shape, bool)
    within[max(0, int(top)):int(bottom) + 1, max(0, int(left)):int(right) + 1] = True
    count, labels = cv2.connectedComponents(wide, connectivity=8)
    for label in range(1, count):
        area = labels == label
        # past the box it may lie over print (a hole over the words above a row): only the print's thin
        # strokes are gone from ``wide``, and no printed area wider than them touches a box
        if not (area & inside).any() or np.count_nonzero(area & far) < least_px:
            continue
        over_border = area & (outline > 0)
        if not over_border.any():
            continue
        beside_border = area & ~(outline > 0) & ~printed & ~within  # outside the box: no mark of the person's
        if not beside_border.any():
            continue
        over = float(np.median(region[beside_border]))
        # ink darker than it inside the box is a person's mark that shows (through a highlighter, or beside
        # a finger): the box is marked whatever lies over it
        if np.count_nonzero(region[inside] < over - AS_DARK_AS_PRINT * contrast) >= MARK_MM2 * px_per_mm ** 2:
            continue
        if _border_hidden(float(np.percentile(region[over_border], BORDER_PERCENTILE)), over, white, black,
                          contrast):
            return True
    return False


def _border_hidden(border: float, over: float, white: float, black: float, contrast: float) -> bool:
    """Whether the printed border does not show under what lies over it: ``border``, the border's darkest
    there (grey), against ``over``, what lies over the box beside it; ``white`` and ``black``, the box's
    paper and border elsewhere. Something as dark as the print hides it whatever (a hole's dark). Through a
    highlighter, which darkens paper and print alike by its share, the border keeps its share of the
    paper's brightness (``black / white``, the same blur as elsewhere in a photo); under an opaque thing it
    is as bright as the thing."""
    if over <= black + AS_DARK_AS_PRINT * contrast:
        return True
    return border / over > (1 + black / max(white, 1.0)) / 2

