"""Find the four registration markers and read the QR code of a page image.

Following the measured notes: no pre-processing before ArUco detection, a dictionary of only the
four printed ids with a high error-correction rate, detection at reduced resolution with corners
scaled back, and zxing-cpp for the QR (reads ~2.5 px per module, where OpenCV needs ~3.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import zxingcpp

from formkit import markers

DETECT_LONG_SIDE_PX = 1600


@dataclass(frozen=True)
class Markers:
    """Detected marker corners in full-resolution pixels, by id (corner order as printed: TL TR BR BL)."""

    corners: dict[int, np.ndarray]  # id -> (4, 2) float32

    @property
    def count(self) -> int:
        return len(self.corners)


@cache
def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.errorCorrectionRate = 0.9
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(markers.dictionary(), params)


def find_markers(grey: np.ndarray) -> Markers:
    """Markers at reduced resolution first (fast); at full resolution when fewer than four are found."""
    scale = min(1.0, DETECT_LONG_SIDE_PX / max(grey.shape))
    found = _detect(grey, scale)
    if len(found) < 4 and scale < 1.0:
        full = _detect(grey, 1.0)
        if len(full) > len(found):
            found = full
    return Markers(found)


def _detect(grey: np.ndarray, scale: float) -> dict[int, np.ndarray]:
    image = grey if scale >= 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    corners, ids, _ = _detector().detectMarkers(image)
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        quad = quad.reshape(4, 2) / scale
        area = cv2.contourArea(quad.astype(np.float32))
        # Two markers with one id (a second form in the picture): keep the larger.
        if marker_id not in found or area > cv2.contourArea(found[marker_id]):
            found[int(marker_id)] = quad.astype(np.float32)
    return found


@dataclass(frozen=True)
class QrRead:
    text: str
    corners: np.ndarray  # (4, 2) pixels: top-left, top-right, bottom-right, bottom-left of the symbol


def read_qr_codes(grey: np.ndarray) -> list[QrRead]:
    """Every QR code zxing-cpp finds in ``grey``."""
    found = []
    for code in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode):
        p = code.position
        corners = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                            [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float32)
        found.append(QrRead(code.text, corners))
    return found


def qr_near_top_right_marker(grey: np.ndarray, found: Markers) -> list[QrRead]:
    """Second chance for a QR the whole-image read missed: rectify the area left of the top-right
    marker (where every layout puts the QR), enlarge it and read again."""
    if 1 not in found.corners:
        return []
    unit_px = 48  # pixels per marker side in the rectified crop
    # The crop spans 4.6 marker sides to the left of the marker and 3.2 down, in marker units.
    left, top, right, bottom = -4.6, -0.3, 0.0, 3.2
    marker_unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    to_image = cv2.getPerspectiveTransform(marker_unit, found.corners[1])
    size = (int((right - left) * unit_px), int((bottom - top) * unit_px))
    crop_to_unit = np.array([[1 / unit_px, 0, left], [0, 1 / unit_px, top], [0, 0, 1]])
    crop_to_image = to_image @ crop_to_unit
    crop = cv2.warpPerspective(grey, crop_to_image, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                               borderValue=255)
    reads = read_qr_codes(crop)
    if not reads:
        return []
    out = []
    for read in reads:
        pts = cv2.perspectiveTransform(read.corners.reshape(-1, 1, 2).astype(np.float64), crop_to_image)
        out.append(QrRead(read.text, pts.reshape(4, 2).astype(np.float32)))
    return out
