"""Find the four registration markers and read the QR code of a page image.

Following the measurements in docs/design.md: no pre-processing before ArUco detection, a dictionary of
only the four printed ids with a high error-correction rate, detection at reduced resolution with corners
scaled back and refined in the full image, and zxing-cpp for the QR (reads ~2.5 px per module, where OpenCV
needs ~3.7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import zxingcpp

from formkit import markers
from formkit.catalogue import Frame
from formkit.layout.engine import QR_QUIET_MODULES

from . import hollow
from .binarised import looks_binarised

DETECT_LONG_SIDE_PX = 1600


@dataclass(frozen=True)
class Markers:
    """Detected marker corners in full-resolution pixels, by id (corner order as printed: TL TR BR BL)."""

    corners: dict[int, np.ndarray]  # id -> (4, 2) float32

    @property
    def count(self) -> int:
        return len(self.corners)


@cache
def _detector(thresholds: tuple[int, int]) -> cv2.aruco.ArucoDetector:
    """ArUco with the four-id dictionary, thresholding with windows from ``thresholds[0]`` to ``[1]`` px in
    steps of 10. No corner refinement here: ``refine_corners`` does it in the full image."""
    params = cv2.aruco.DetectorParameters()
    params.errorCorrectionRate = 0.9
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    params.adaptiveThreshWinSizeMin, params.adaptiveThreshWinSizeMax = thresholds
    return cv2.aruco.ArucoDetector(markers.dictionary(), params)


ALL_THRESHOLDS = (3, 23)  # OpenCV's default: windows of 3, 13 and 23 px, three thresholding passes
FAST_THRESHOLDS = (13, 13)  # one thresholding pass of the three: a page's four markers in 10 ms, not 26


def reduced(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """The image at most ``DETECT_LONG_SIDE_PX`` on its long side, and the scale applied."""
    scale = min(1.0, DETECT_LONG_SIDE_PX / max(grey.shape))
    if scale >= 1.0:
        return grey, 1.0
    # Halving with a Gaussian pyramid (which averages every pixel in: no aliasing of thin edges), then a
    # bilinear step of less than 2x: 2-3 ms for a 300 dpi A4 page, where one INTER_AREA resize by a
    # fractional factor took 10-15 ms. Corners found in this image are refined in the full one.
    image, remaining = grey, scale
    while remaining <= 0.5:
        image, remaining = cv2.pyrDown(image), remaining * 2
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), scale


def find_markers(grey: np.ndarray, small: tuple[np.ndarray, float] | None = None) -> Markers:
    """Markers at reduced resolution first (fast); at full resolution when fewer than four are found.
    Two markers with one id (a second form in the picture): the larger is kept."""
    return largest_per_id(find_all_markers(grey, small))


def largest_per_id(detections: list[tuple[int, np.ndarray]]) -> Markers:
    """One marker per id, the largest where an id was seen twice."""
    found: dict[int, np.ndarray] = {}
    for marker_id, quad in detections:
        if marker_id not in found or cv2.contourArea(quad) > cv2.contourArea(found[marker_id]):
            found[marker_id] = quad
    return Markers(found)


def find_all_markers(grey: np.ndarray, small: tuple[np.ndarray, float] | None = None,
                     thorough: bool = False) -> list[tuple[int, np.ndarray]]:
    """Every marker in the image, however many pages it holds (``MarkerSearch.detections``)."""
    return MarkerSearch(grey, small).detections(thorough)


class MarkerSearch:
    """The markers of one image, each detection pass run and refined at most once: an image searched
    quickly and then, when it turns out to hold several pages, thoroughly, does no work twice."""

    def __init__(self, grey: np.ndarray, small: tuple[np.ndarray, float] | None = None,
                 thresholded: bool | None = None):
        """``thresholded``: whether ``grey`` is a thresholded page (``binarised.looks_binarised``), when the
        caller has told it already."""
        self.grey = grey
        self._thresholded = thresholded
        self.image, self.scale = small or reduced(grey)
        self._passes: dict[str, list[tuple[int, np.ndarray]]] = {}
        self._candidates: dict[str, list[np.ndarray]] = {}
        self._refined: dict[str, list[tuple[int, np.ndarray]]] = {}
        self.used_outlines = False  # some markers were read from a small-window threshold's outlines

    @property
    def thresholded(self) -> bool:
        if self._thresholded is None:
            self._thresholded = looks_binarised(self.grey)
        return self._thresholded

    def _found(self, name: str) -> list[tuple[int, np.ndarray]]:
        """The markers of pass ``name`` ("fast": one thresholding pass at reduced size, "every": all three,
        "full": all three at full size, "outlines": those of "every" and the markers among the quads it could
        not decode that a small-window threshold hollowed), corners unrefined."""
        if name == "outlines" and name not in self._passes:
            # all kept: ArUco may take a hollowed box for a marker (three correction bits), and the printed
            # marker of that id, larger, wins (``largest_per_id``)
            hollowed = [(i, (quad / self.scale).astype(np.float32)) for i, quad in
                        hollow.markers_from_outlines(self.image, self._candidates["every"])]
            self._passes[name] = self._found("every") + hollowed
        elif name not in self._passes:
            thresholds = FAST_THRESHOLDS if name == "fast" else ALL_THRESHOLDS
            image, scale = (self.grey, 1.0) if name == "full" else (self.image, self.scale)
            self._passes[name], self._candidates[name] = _detect(image, scale, thresholds)
        return self._passes[name]

    def detections(self, thorough: bool = False) -> list[tuple[int, np.ndarray]]:
        """Every marker: (id, (4, 2) float32 corners in full-resolution pixels), each corner refined in the
        full image. Found at reduced resolution: first with one thresholding pass (unless ``thorough``),
        which is enough when it gives one page's four markers; else with all three passes (blur, small or
        many markers); at full resolution when that finds fewer distinct ids than four; and in a binarised
        image still short of four, from the outlines of quads none of those could decode (``hollow``). Pass
        ``thorough`` when the image is known to hold several pages."""
        chosen = "" if thorough else "fast"
        found = self._found(chosen) if chosen else []
        if sorted(i for i, _ in found) != list(range(len(markers.CORNER_IDS))):
            if len({i for i, _ in self._found("every")}) >= len({i for i, _ in found}):
                chosen, found = "every", self._found("every")
            if len({i for i, _ in found}) < 4 and self.scale < 1.0 and \
                    len({i for i, _ in self._found("full")}) > len({i for i, _ in found}):
                chosen = "full"
            if len({i for i, _ in self._found(chosen)}) < 4 and self.thresholded and \
                    len(self._found("outlines")) > len(self._found("every")):
                chosen = "outlines"
        self.used_outlines = self.used_outlines or chosen == "outlines"
        if chosen not in self._refined:
            self._refined[chosen] = [(i, refine_corners(self.grey, quad)) for i, quad in self._found(chosen)]
        return self._refined[chosen]


REFINE_CELL_SHARE = 0.45  # the refinement window's half-width, as a share of the marker's cell
REFINE_MAX_SHIFT_CELLS = 0.5  # a corner moved further than this by refinement keeps its coarse place


def refine_corners(grey: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """A marker's four corners ``quad`` (as found, perhaps in a reduced image and scaled back) refined to
    sub-pixel in the full image ``grey``, each in a window under a cell across, so only the marker's own
    outer edges are in it: not its inner cells (a cell in), nor what lies beyond its white margin (a cell
    out). Measured on scans and photos: the page's registration error fell by half or more (2026-12). A
    corner that refinement moves by more than half a cell keeps its place as found."""
    side = float(np.mean(np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)))
    cell = side / markers.CELLS
    half = max(1, int(round(REFINE_CELL_SHARE * cell)))
    points = quad.reshape(-1, 1, 2).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    refined = cv2.cornerSubPix(grey, points.copy(), (half, half), (-1, -1), criteria).reshape(4, 2)
    shift = np.linalg.norm(refined - quad, axis=1)
    return np.where((shift <= REFINE_MAX_SHIFT_CELLS * cell)[:, None], refined, quad).astype(np.float32)


def _detect(image: np.ndarray, scale: float, thresholds: tuple[int, int] = ALL_THRESHOLDS
            ) -> tuple[list[tuple[int, np.ndarray]], list[np.ndarray]]:
    """Markers in ``image``, which is the page scaled by ``scale``, corners in page pixels, unrefined; and
    the quads ArUco found but could not decode, in ``image``'s own pixels."""
    corners, ids, rejected = _detector(thresholds).detectMarkers(image)
    candidates = [quad.reshape(4, 2) for quad in rejected]
    if ids is None:
        return [], candidates
    return [(int(marker_id), (quad.reshape(4, 2) / scale).astype(np.float32))
            for quad, marker_id in zip(corners, ids.ravel(), strict=True)], candidates


@dataclass(frozen=True)
class QrRead:
    text: str
    corners: np.ndarray  # (4, 2) pixels: top-left, top-right, bottom-right, bottom-left of the symbol


def read_qr_codes(grey: np.ndarray, scale: float = 1.0) -> list[QrRead]:
    """Every QR code zxing-cpp finds in ``grey`` (the page scaled by ``scale``); corners in page pixels."""
    found = []
    for code in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode):
        p = code.position
        corners = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                            [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float32)
        found.append(QrRead(code.text, corners / scale))
    return found


# of the QR region's width (code and quiet zone): about four modules of formkit's codes
QR_LOCAL_BLOCK_SHARE = 0.11
QR_LOCAL_OFFSET = 5  # grey levels under the neighbourhood's weighted mean that count as dark


def _smoothed_threshold(crop: np.ndarray) -> np.ndarray:
    """``crop`` smoothed over a pixel and thresholded as a whole (Otsu)."""
    return cv2.threshold(cv2.GaussianBlur(crop, (0, 0), 1.0), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


def qr_local_threshold(crop: np.ndarray) -> np.ndarray:
    """``crop`` (uint8 grey, the QR region rectified) black where it is darker than its neighbourhood of
    about four modules. A blurred, JPEG-compressed photo under uneven light (a messenger's copy of a phone
    photo) leaves the modules' contrast local: one threshold for the whole region merges them."""
    block = 2 * int(QR_LOCAL_BLOCK_SHARE * crop.shape[1] / 2) + 1
    return cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, max(block, 3),
                                 QR_LOCAL_OFFSET)


def qr_in_known_frames(grey: np.ndarray, found: Markers, frames: list[Frame]) -> list[QrRead]:
    """Second chance for a QR the whole-image read missed. ``frames`` are the page geometries in use
    (``Catalogue.known_frames``). For each geometry the markers fit well, the QR region is rectified at a
    generous resolution and read again: as it is, smoothed and thresholded as a whole, thresholded against
    its own neighbourhood (``qr_local_threshold``), and module by module, as a small-window threshold may
    have hollowed it (``hollow``)."""
    px_per_mm = 10.0
    tried: list[QrRead] = []
    for marker_mm, (x_mm, y_mm, w_mm, h_mm), modules in frames:
        ids = [i for i in sorted(found.corners) if i in marker_mm]
        if len(ids) < 2:
            continue
        mm = np.concatenate([marker_mm[i] for i in ids])
        px = np.concatenate([found.corners[i] for i in ids]).astype(np.float64)
        mm_to_px, _ = cv2.findHomography(mm, px, 0)
        if mm_to_px is None:
            continue
        back = cv2.perspectiveTransform(px.reshape(-1, 1, 2), np.linalg.inv(mm_to_px)).reshape(-1, 2)
        if np.max(np.linalg.norm(back - mm, axis=1)) > 1.5:
            continue  # the markers do not sit where this page size puts them
        crop_to_mm = np.array([[1 / px_per_mm, 0, x_mm], [0, 1 / px_per_mm, y_mm], [0, 0, 1]])
        crop_to_px = mm_to_px @ crop_to_mm
        size = (int(w_mm * px_per_mm), int(h_mm * px_per_mm))
        crop = cv2.warpPerspective(grey, crop_to_px, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                   borderValue=255)
        for image, scale in _qr_readings(crop, modules):
            reads = read_qr_codes(image, scale)
            if reads:
                for read in reads:
                    pts = cv2.perspectiveTransform(read.corners.reshape(-1, 1, 2).astype(np.float64), crop_to_px)
                    tried.append(QrRead(read.text, pts.reshape(4, 2).astype(np.float32)))
                return tried
    return tried


def _qr_readings(crop: np.ndarray, modules: int) -> Iterator[tuple[np.ndarray, float]]:
    """The rectified QR region ``crop`` prepared each way ``qr_in_known_frames`` reads it, cheapest first, with
    the scale from ``crop`` to each image."""
    for prepare in (None, _smoothed_threshold, qr_local_threshold):
        yield (crop if prepare is None else prepare(crop)), 1.0
    image = hollow.qr_image_from_outlines(crop, QR_QUIET_MODULES, modules)
    yield image, image.shape[1] / crop.shape[1]
