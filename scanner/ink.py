"""Which pixels are ink, judged against the paper right around them, so shadows and light gradients
across a photographed page are not mistaken for pen strokes."""

from __future__ import annotations

import cv2
import numpy as np

STROKE_MAX_MM = 1.5  # wider than any pen stroke or printed rule; narrower than a shadow's edge
INK_CONTRAST = 0.3  # a pixel is ink when it is this much darker than the paper around it


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) for a flat array, by partial sort: the same
    number at a tenth of the cost on the small arrays of a box, where NumPy's overhead dominates."""
    position = (values.size - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, values.size - 1)
    part = np.partition(values, (low, high))
    return float(part[low] + (part[high] - part[low]) * (position - low))


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


def without_printed_lines(ink: np.ndarray, rows: tuple[float, ...], columns: tuple[float, ...], px_per_mm: float,
                          slack_mm: float = 0.6) -> np.ndarray:
    """``ink`` (bool) less the printed lines the layout puts near ``rows`` (horizontal) and ``columns``
    (vertical), in pixels of ``ink``, each found within ``slack_mm`` of where it should be. Where
    handwriting crosses a line (ink just beyond it on both sides) the line's pixels are kept, so
    strokes stay whole; a straight written stroke away from the lines is never taken for one."""
    printed = np.zeros_like(ink)
    for row in rows:
        band = _line_band(ink, row, px_per_mm, slack_mm)
        if band:
            printed[band[0]:band[1]] |= ~_crossings(ink, band)[None, :]
    for column in columns:
        band = _line_band(ink.T, column, px_per_mm, slack_mm)
        if band:
            printed[:, band[0]:band[1]] |= ~_crossings(ink.T, band)[:, None]
    return ink & ~printed


def _line_band(ink: np.ndarray, expected_row: float, px_per_mm: float, slack_mm: float) -> tuple[int, int] | None:
    """Rows [start, stop) of the horizontal printed line within ``slack_mm`` of ``expected_row`` of
    ``ink`` (pass a transposed mask for the sides), its anti-aliased edge included; ``None`` if none shows."""
    search = int(round(slack_mm * px_per_mm)) + 1
    lo, hi = max(0, int(expected_row) - search), min(ink.shape[0], int(expected_row) + search + 1)
    if hi <= lo:
        return None
    profile = ink[lo:hi].sum(axis=1)
    peak = int(profile.argmax())
    if profile[peak] < 0.3 * ink.shape[1]:
        return None
    start, stop = peak, peak + 1
    limit = int(0.5 * px_per_mm)  # a printed border is well under 1 mm thick
    while start > 0 and peak - start < limit and profile[start - 1] >= 0.25 * profile[peak]:
        start -= 1
    while stop < len(profile) and stop - peak < limit and profile[stop] >= 0.25 * profile[peak]:
        stop += 1
    return max(0, lo + start - 1), min(ink.shape[0], lo + stop + 1)


def _crossings(ink: np.ndarray, band: tuple[int, int]) -> np.ndarray:
    """Columns where handwriting crosses the line in ``band``: ink just beyond it on both sides."""
    start, stop = band
    reach = 3
    above = ink[max(0, start - reach):start].any(axis=0) if start > 0 else np.zeros(ink.shape[1], bool)
    below = ink[stop:stop + reach].any(axis=0) if stop < ink.shape[0] else np.zeros(ink.shape[1], bool)
    return above & below
