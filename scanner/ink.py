"""Which pixels are ink, judged against the paper right around them, so shadows and light gradients
across a photographed page are not mistaken for pen strokes."""

from __future__ import annotations

import cv2
import numpy as np

STROKE_MAX_MM = 1.5  # wider than any pen stroke or printed rule; narrower than a shadow's edge
INK_CONTRAST = 0.3  # a pixel is ink when it is this much darker than the paper around it


def paper(region: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The paper's brightness under each pixel: a max filter wipes out strokes thinner than
    ``STROKE_MAX_MM`` and keeps slow changes of light."""
    size = max(3, int(round(STROKE_MAX_MM * px_per_mm)) | 1)
    background = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    return cv2.blur(background, (size, size))


def ink_mask(region: np.ndarray, px_per_mm: float, contrast: float = INK_CONTRAST) -> np.ndarray:
    """True where ``region`` (uint8 grey) is darker than its local paper by ``contrast`` of it."""
    if region.size == 0:
        return np.zeros(region.shape, bool)
    background = paper(region, px_per_mm).astype(np.float32)
    return region.astype(np.float32) < background * (1.0 - contrast)
