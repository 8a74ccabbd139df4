"""Fit the page: a homography from layout millimetres to image pixels, from every marker corner found.

ArUco reports each marker's corners in the marker's own orientation, so a page scanned upside down or
sideways needs no special case: the fit maps the layout onto the image whatever the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formkit.layout.model import Box, Page

from .locate import Markers

WARP_PX_PER_MM = 8.0  # the canonical image the readers work on (about 203 dpi)
MAX_ERROR_MM = 1.2  # worse than this and boxes could be misread: the page is refused
REVIEW_ERROR_MM = 0.75


@dataclass(frozen=True)
class Registration:
    mm_to_px: np.ndarray  # 3x3 homography: layout mm -> source image pixels
    error_mm: float  # worst marker-corner reprojection error
    markers_used: int
    px_per_mm: float  # source image resolution along the page, about


def marker_points_mm(page: Page, marker_id: int) -> np.ndarray:
    return np.array(next(m for m in page.markers if m.id == marker_id).corners_mm(), np.float64)


def register(page: Page, found: Markers) -> Registration | None:
    """The fit from at least two markers (eight corners); ``None`` with fewer."""
    ids = sorted(found.corners)
    if len(ids) < 2:
        return None
    mm = np.concatenate([marker_points_mm(page, i) for i in ids])
    px = np.concatenate([found.corners[i] for i in ids]).astype(np.float64)
    mm_to_px, _ = cv2.findHomography(mm, px, 0)
    if mm_to_px is None:
        return None
    back = cv2.perspectiveTransform(px.reshape(-1, 1, 2), np.linalg.inv(mm_to_px)).reshape(-1, 2)
    error = float(np.max(np.linalg.norm(back - mm, axis=1)))
    side_px = np.mean([np.linalg.norm(found.corners[i][1] - found.corners[i][0]) for i in ids])
    size_mm = page.markers[0].size_mm
    return Registration(mm_to_px, error, len(ids), float(side_px / size_mm))


def warp_page(grey: np.ndarray, page: Page, reg: Registration, px_per_mm: float = WARP_PX_PER_MM) -> np.ndarray:
    """The page as if scanned flat and upright at ``px_per_mm``; outside the source is white."""
    canonical_to_mm = np.diag([1 / px_per_mm, 1 / px_per_mm, 1.0])
    size = (int(round(page.width_mm * px_per_mm)), int(round(page.height_mm * px_per_mm)))
    # Shrinking a large photo by more than 2x aliases thin pen strokes: blur it first.
    if reg.px_per_mm > 2 * px_per_mm:
        sigma = 0.4 * reg.px_per_mm / px_per_mm
        grey = cv2.GaussianBlur(grey, (0, 0), sigma)
    return cv2.warpPerspective(grey, reg.mm_to_px @ canonical_to_mm, size,
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255)


def box_slices(box: Box, margin_mm: float, shape: tuple[int, ...],
               px_per_mm: float = WARP_PX_PER_MM) -> tuple[slice, slice]:
    """Row and column slices of ``box`` grown by ``margin_mm`` (shrunk when negative) in the canonical
    image, clipped to ``shape`` and never empty."""
    x0 = max(0, int(round((box.x_mm - margin_mm) * px_per_mm)))
    y0 = max(0, int(round((box.y_mm - margin_mm) * px_per_mm)))
    x1 = min(shape[1], int(round((box.x_mm + box.w_mm + margin_mm) * px_per_mm)))
    y1 = min(shape[0], int(round((box.y_mm + box.h_mm + margin_mm) * px_per_mm)))
    return slice(y0, max(y0 + 1, y1)), slice(x0, max(x0 + 1, x1))
