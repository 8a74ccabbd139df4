"""Is there handwriting in a digit box, a date box or a free-text area? Decided by ink, not OCR.

Printed rules (box borders, the light writing lines) are long straight runs; they are removed with
a morphological opening before ink is counted, so an empty ruled area reads as empty.
"""

from __future__ import annotations

import cv2
import numpy as np

from formkit.layout.model import Box

from .register import WARP_PX_PER_MM

INK_FRACTION = 0.004  # of the area's pixels, after removing printed rules
RULE_MM = 4.0  # straight runs at least this long are printed rules, not writing


def crop(page: np.ndarray, box: Box, margin_mm: float = 0.0, px_per_mm: float = WARP_PX_PER_MM) -> np.ndarray:
    x0 = max(0, int(round((box.x_mm - margin_mm) * px_per_mm)))
    y0 = max(0, int(round((box.y_mm - margin_mm) * px_per_mm)))
    x1 = min(page.shape[1], int(round((box.x_mm + box.w_mm + margin_mm) * px_per_mm)))
    y1 = min(page.shape[0], int(round((box.y_mm + box.h_mm + margin_mm) * px_per_mm)))
    return page[y0:y1, x0:x1]


def handwriting_mask(region: np.ndarray, px_per_mm: float = WARP_PX_PER_MM) -> np.ndarray:
    """Ink pixels of ``region`` that are not part of long horizontal or vertical printed rules."""
    white = float(np.percentile(region, 90)) if region.size else 255.0
    ink = (region < max(white - 70.0, white * 0.55)).astype(np.uint8)
    rule = max(3, int(RULE_MM * px_per_mm))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (rule, 1)))
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, rule)))
    # The rule's anti-aliased edge stays behind after opening: widen what is removed by a pixel.
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    return (ink & (1 - rules)).astype(bool)


def ink_fraction(page: np.ndarray, box: Box, inset_mm: float = 0.5, px_per_mm: float = WARP_PX_PER_MM) -> float:
    region = crop(page, Box(box.x_mm + inset_mm, box.y_mm + inset_mm, box.w_mm - 2 * inset_mm,
                            box.h_mm - 2 * inset_mm), px_per_mm=px_per_mm)
    if region.size == 0:
        return 0.0
    return float(handwriting_mask(region, px_per_mm).mean())
