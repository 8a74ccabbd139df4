"""Fit the page: a homography from layout millimetres to image pixels, from every marker corner found.

ArUco reports each marker's corners in the marker's own orientation, so a page scanned upside down or
sideways needs no special case: the fit maps the layout onto the image whatever the rotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from formkit import markers
from formkit.layout.model import Box, BoxesField, ChoiceField, Field, Page, field_box

from .locate import Markers

WARP_PX_PER_MM = 8.0  # the canonical image the readers work on (about 203 dpi)
MAX_ERROR_MM = 1.2  # worse than this and boxes could be misread: the page is refused
REVIEW_ERROR_MM = 0.75
OUTSIDE_LEAST = 0.001  # a share of a field past the image's edge below this is rounding, not a cut


@dataclass(frozen=True)
class Registration:
    mm_to_px: np.ndarray  # 3x3 homography: layout mm -> source image pixels
    error_mm: float  # worst marker-corner reprojection error
    markers_used: int
    px_per_mm: float  # source image resolution along the page, about
    left_out: tuple[int, ...] = ()  # markers found but not used: not square (covered in part, or damaged)


def marker_points_mm(page: Page, marker_id: int) -> np.ndarray:
    return np.array(next(m for m in page.markers if m.id == marker_id).corners_mm(), np.float64)


# A printed marker's four corners, as found, fit a parallelogram (an affine image of its square) to within
# 0.005 cell on scans, 0.02 on 12 MP and 0.11 on 3 MP photos (2026-12, 1,000 markers). One partly covered
# by a neighbouring card on a scanner's glass was off by 0.13-0.23 cell, and put its card 0.8 mm out.
NOT_SQUARE_CELLS = 0.12
NOT_SQUARE_MARGIN = 3.0  # and this many times further off than the next worst marker


def register(page: Page, found: Markers) -> Registration | None:
    """The fit from at least two markers (eight corners); ``None`` with fewer. When the fit of all of them is
    poor enough to flag the page but not to refuse it, and one marker is not the square it was printed
    (partly covered or torn: its own corners disagree, where the others' do not), the fit of the others is
    taken if at least three remain and they agree: nothing about the page's shape is given up, only a
    marker that cannot be trusted on its own account."""
    fit = _fit(page, found, sorted(found.corners))
    if fit is None or not REVIEW_ERROR_MM < fit.error_mm <= MAX_ERROR_MM or found.count < 4:
        return fit
    shape = {i: _not_square_cells(found.corners[i]) for i in found.corners}
    worst, *others = sorted(shape, key=lambda i: -shape[i])
    if shape[worst] <= NOT_SQUARE_CELLS or shape[worst] < NOT_SQUARE_MARGIN * shape[others[0]]:
        return fit  # square enough, or no worse than the others (a blurred photo: all of them a little off)
    rest = _fit(page, found, sorted(i for i in found.corners if i != worst))
    if rest is None or rest.error_mm > REVIEW_ERROR_MM:
        return fit
    return Registration(rest.mm_to_px, rest.error_mm, rest.markers_used, rest.px_per_mm, (worst,))


def _fit(page: Page, found: Markers, ids: list[int]) -> Registration | None:
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


def _not_square_cells(quad: np.ndarray) -> float:
    """How far ``quad`` (a marker's corners in pixels) is from a parallelogram, in the marker's cells: the
    largest miss of the best affine image of its printed square."""
    cells = markers.CELLS
    square = np.array([[0, 0, 1], [cells, 0, 1], [cells, cells, 1], [0, cells, 1]], np.float64)
    affine, *_ = np.linalg.lstsq(square, quad.astype(np.float64), rcond=None)
    cell_px = np.sqrt(abs(np.linalg.det(affine[:2])))
    if cell_px == 0:
        return float("inf")
    return float(np.linalg.norm(square @ affine - quad, axis=1).max() / cell_px)


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


FIELD_MARGIN_MM = 5.0  # the readers look at most 4 mm beyond a field (a line's crossing bands), crops 2 mm
# and further to either side of a digit or date field's boxes: a number written just after them is seen whole
# (scanner.beside)
BOXES_SIDE_MM = 5.0


def field_window(f: Field, box: Box | None = None) -> Box:
    """What of the page is drawn for ``f`` before ``FIELD_MARGIN_MM`` round it: its box (``field_box``, or
    ``box``: its boxes where they were found), ``BOXES_SIDE_MM`` wider each side for a choice, digit or date
    field, so that a number written just after its boxes is seen whole (``scanner.beside``; a choice's row read
    blank where the drawing ended in the middle of such a number, 2026-12-06)."""
    box = box or field_box(f)
    if isinstance(f, ChoiceField | BoxesField):
        return Box(box.x_mm - BOXES_SIDE_MM, box.y_mm, box.w_mm + 2 * BOXES_SIDE_MM, box.h_mm)
    return box


def warp_fields(grey: np.ndarray, page: Page, reg: Registration, px_per_mm: float = WARP_PX_PER_MM,
                margin_mm: float = FIELD_MARGIN_MM, also: Iterable[Box] = ()) -> np.ndarray:
    """``warp_page`` where the readers look: each field and ``margin_mm`` around it, and round each rectangle
    of ``also`` (mm: where the words printed under a choice's boxes are looked at, ``labels.label_regions``),
    the rest left white.
    The same pixels there as ``warp_page`` gives (each region is warped with the same map, shifted, and a
    source shrunk more than 2x is blurred only around each region, as far as the blur reaches), at a
    fraction of the cost: with their margins, fields cover 15-65 % of a page."""
    canonical_to_mm = np.diag([1 / px_per_mm, 1 / px_per_mm, 1.0])
    width, height = int(round(page.width_mm * px_per_mm)), int(round(page.height_mm * px_per_mm))
    out = np.full((height, width), 255, np.uint8)
    sigma = 0.4 * reg.px_per_mm / px_per_mm if reg.px_per_mm > 2 * px_per_mm else 0.0
    canonical_to_px = reg.mm_to_px @ canonical_to_mm
    for rows, columns in _regions(page, margin_mm, (height, width), px_per_mm, also):
        size = (columns.stop - columns.start, rows.stop - rows.start)
        region_to_px = canonical_to_px @ _translation(columns.start, rows.start)
        source = grey
        if sigma:
            source, (left, top) = _blurred_under(grey, region_to_px, size, sigma)
            region_to_px = _translation(-left, -top) @ region_to_px
        out[rows, columns] = cv2.warpPerspective(source, region_to_px, size,
                                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255)
    return out


def marker_contrast(grey: np.ndarray, found: Markers, left_out: tuple[int, ...] = (), scale: float = 1.0
                    ) -> float | None:
    """Grey levels between the paper round the registration markers and their black, the median over the
    markers used (``left_out`` not): print in view on any page that was registered, whatever covers the
    rest. ``grey`` is the image ``found`` was found in, resized by ``scale`` (the detection-size copy
    serves: a marker is large and flat; about 1 ms a page there, 2 ms at full size). ``None`` when no
    marker lies wholly in the image. Each marker's black is the 10th percentile inside its quadrilateral,
    its paper the 90th in a band from 1.15 to 1.4 times its size round it."""
    measured = []
    for marker_id, full_size in found.corners.items():
        if marker_id in left_out:
            continue
        corners = full_size * scale
        centre = corners.mean(axis=0)
        outer = centre + (corners - centre) * 1.4
        left, top = np.floor(outer.min(axis=0)).astype(int)
        right, bottom = np.ceil(outer.max(axis=0)).astype(int) + 1
        if left < 0 or top < 0 or right > grey.shape[1] or bottom > grey.shape[0]:
            continue
        crop = grey[top:bottom, left:right]
        inside, band = np.zeros(crop.shape, np.uint8), np.zeros(crop.shape, np.uint8)
        shift = np.float32([left, top])
        cv2.fillPoly(band, [np.int32(np.round(outer - shift))], 1)
        cv2.fillPoly(band, [np.int32(np.round(centre + (corners - centre) * 1.15 - shift))], 0)
        cv2.fillPoly(inside, [np.int32(np.round(corners - shift))], 1)
        if inside.any() and band.any():
            measured.append(float(np.percentile(crop[band > 0], 90) - np.percentile(crop[inside > 0], 10)))
    return float(np.median(measured)) if measured else None


def shares_outside(page: Page, reg: Registration, shape: tuple[int, ...]) -> dict[str, float]:
    """Per field of ``page`` with part of it (``field_box``) outside an image of ``shape`` (rows, columns,
    ...) as ``reg`` maps it: the share of its area outside, 0 to 1. A page cut off by a scanner's glass (an A4
    page on a letter-size scanner loses its last 18 mm) or by a photo's frame is still registered from the
    markers left in it; what lies past the edge is warped as white paper, which reads as nothing written."""
    if not page.fields:
        return {}
    height, width = shape[:2]
    frame = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    boxes = [field_box(f) for f in page.fields]
    corners_mm = np.float64([[[b.x_mm, b.y_mm], [b.x_mm + b.w_mm, b.y_mm], [b.x_mm + b.w_mm, b.y_mm + b.h_mm],
                              [b.x_mm, b.y_mm + b.h_mm]] for b in boxes]).reshape(1, -1, 2)
    quads = cv2.perspectiveTransform(corners_mm, reg.mm_to_px)[0].reshape(-1, 4, 2).astype(np.float32)
    inside = ((quads >= 0) & (quads <= (width, height))).all(axis=(1, 2))  # convex: its corners in the frame
    shares = {}
    for k in np.flatnonzero(~inside):
        area = abs(cv2.contourArea(quads[k]))
        share = 1.0 - cv2.intersectConvexConvex(quads[k], frame)[0] / area if area > 0 else 1.0
        if share > OUTSIDE_LEAST:
            shares[page.fields[k].id] = float(np.clip(share, 0.0, 1.0))
    return shares


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _blurred_under(grey: np.ndarray, region_to_px: np.ndarray, size: tuple[int, int], sigma: float
                   ) -> tuple[np.ndarray, tuple[int, int]]:
    """The part of ``grey`` that a region of ``size`` (w, h) pixels mapped by ``region_to_px`` samples,
    Gaussian-blurred by ``sigma`` exactly as blurring all of ``grey`` would, and its top-left corner in
    ``grey``. OpenCV's kernel for 8-bit images reaches 3 sigma (rounded up); 3 pixels more cover the
    bilinear sampling's neighbour and the rounding of the corners."""
    w, h = size
    corners = cv2.perspectiveTransform(np.float64([[[0, 0], [w, 0], [w, h], [0, h]]]), region_to_px)[0]
    reach = int(np.ceil(3 * sigma)) + 3
    left, top = (max(0, int(np.floor(v)) - reach) for v in corners.min(axis=0))
    right = min(grey.shape[1], int(np.ceil(corners[:, 0].max())) + reach + 1)
    bottom = min(grey.shape[0], int(np.ceil(corners[:, 1].max())) + reach + 1)
    if right <= left or bottom <= top:  # the region lies off the image: nothing of it to blur
        return grey[:1, :1], (0, 0)
    return cv2.GaussianBlur(grey[top:bottom, left:right], (0, 0), sigma), (left, top)


def _regions(page: Page, margin_mm: float, shape: tuple[int, int], px_per_mm: float, also: Iterable[Box] = ()
             ) -> list[tuple[slice, slice]]:
    """The fields' rectangles and ``also`` grown by ``margin_mm``, in canonical pixels; overlapping ones merged
    when the merged rectangle is no larger than the two."""
    rects = [box_slices(box, margin_mm, shape, px_per_mm) for box in [*map(field_window, page.fields), *also]]
    merged: list[tuple[slice, slice]] = []
    for rows, columns in sorted(rects, key=lambda r: (r[0].start, r[1].start)):
        for k, (r, c) in enumerate(merged):
            union = (slice(min(r.start, rows.start), max(r.stop, rows.stop)),
                     slice(min(c.start, columns.start), max(c.stop, columns.stop)))
            if _area(union) <= _area((r, c)) + _area((rows, columns)):
                merged[k] = union
                break
        else:
            merged.append((rows, columns))
    return merged


def _area(rect: tuple[slice, slice]) -> int:
    return (rect[0].stop - rect[0].start) * (rect[1].stop - rect[1].start)


def box_slices(box: Box, margin_mm: float, shape: tuple[int, ...],
               px_per_mm: float = WARP_PX_PER_MM) -> tuple[slice, slice]:
    """Row and column slices of ``box`` grown by ``margin_mm`` (shrunk when negative) in the canonical
    image, clipped to ``shape`` and never empty."""
    # The readers ask some 540 times a page, mostly for the same few boxes and margins page after page: kept
    # (2.5 against 11-13 us a call on a loaded machine, 2026-12-07). Asked with what cannot be kept (a list for
    # ``shape``), worked out each time.
    try:
        return _kept_box_slices(box, margin_mm, shape, px_per_mm)
    except TypeError:
        return _box_slices(box, margin_mm, shape, px_per_mm)


def _box_slices(box: Box, margin_mm: float, shape: tuple[int, ...], px_per_mm: float) -> tuple[slice, slice]:
    x0 = max(0, int(round((box.x_mm - margin_mm) * px_per_mm)))
    y0 = max(0, int(round((box.y_mm - margin_mm) * px_per_mm)))
    x1 = min(shape[1], int(round((box.x_mm + box.w_mm + margin_mm) * px_per_mm)))
    y1 = min(shape[0], int(round((box.y_mm + box.h_mm + margin_mm) * px_per_mm)))
    return slice(y0, max(y0 + 1, y1)), slice(x0, max(x0 + 1, x1))


_kept_box_slices = lru_cache(maxsize=4096)(_box_slices)
