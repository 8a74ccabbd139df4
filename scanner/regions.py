"""Several form pages in one image: which of the markers found belongs to which page.

A page whose QR code was read is placed by it: every marker of that page is predicted from the QR's
corners. Markers no such page claims are grouped into pages by the installed page geometries, starting
from one marker's own corners: such a page (its QR unreadable) is then identified by the QR in its frame
or its printed code, or reported; it is never dropped unseen. Positions in image pixels, sizes in mm.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from formkit.layout.model import Page
from formkit.qrpayload import PagePayload

from .locate import Markers, QrRead

REGION_TOLERANCE = 0.2  # of a page's diagonal: a marker this far from where its page's QR puts it is another's
GROUP_TOLERANCE = 0.1  # of a page's diagonal: the same, for a page placed from one of its markers


def from_qr(page: Page, read: QrRead) -> np.ndarray:
    """An affine map (2x3) from the page's millimetres to image pixels, from its QR symbol's corners."""
    qr = page.qr
    mm = np.array([[qr.x_mm, qr.y_mm], [qr.x_mm + qr.size_mm, qr.y_mm], [qr.x_mm + qr.size_mm, qr.y_mm + qr.size_mm],
                   [qr.x_mm, qr.y_mm + qr.size_mm]], np.float32)
    affine, _ = cv2.estimateAffine2D(mm, read.corners.astype(np.float32), method=cv2.LMEDS)
    if affine is None:
        affine = cv2.getAffineTransform(mm[:3], read.corners[:3].astype(np.float32))
    return affine


def apply(affine: np.ndarray, point_mm: Iterable[float]) -> np.ndarray:
    """``point_mm`` (x, y) through the 2x3 ``affine``: image pixels."""
    x, y = point_mm
    return affine @ np.array([x, y, 1.0])


def page_corners(page: Page, mm_to_px: np.ndarray) -> list[list[float]]:
    """The page's four corners (TL, TR, BR, BL) in image pixels through the 2x3 ``mm_to_px``."""
    corners_mm = ((0, 0), (page.width_mm, 0), (page.width_mm, page.height_mm), (0, page.height_mm))
    return [[round(float(v), 1) for v in apply(mm_to_px, c)] for c in corners_mm]


def _diagonal_px(page: Page, mm_to_px: np.ndarray) -> float:
    return float(np.linalg.norm(apply(mm_to_px, (page.width_mm, page.height_mm)) - apply(mm_to_px, (0, 0))))


def claim_markers(detections: list[tuple[int, np.ndarray]], placed: list[tuple[Page, np.ndarray] | None]
                  ) -> list[Markers]:
    """For each page ``placed`` (its geometry and mm-to-pixel map, or ``None`` when it cannot be placed),
    its markers among ``detections`` (id, (4, 2) corners): each detection goes to the page whose prediction
    of that id lies nearest, within ``REGION_TOLERANCE`` of that page's diagonal; a page takes the nearest
    where it is offered two of one id. A detection no page claims is in none."""
    owner: dict[int, tuple[int, float]] = {}  # detection index -> (page index, distance)
    for p, placement in enumerate(placed):
        if placement is None:
            continue
        page, mm_to_px = placement
        diagonal_px = _diagonal_px(page, mm_to_px)
        for m in page.markers:
            predicted = apply(mm_to_px, np.mean(m.corners_mm(), axis=0))
            for d, (marker_id, quad) in enumerate(detections):
                distance = float(np.linalg.norm(quad.mean(axis=0) - predicted))
                if marker_id == m.id and distance < REGION_TOLERANCE * diagonal_px and \
                        (d not in owner or distance < owner[d][1]):
                    owner[d] = (p, distance)
    claimed: list[dict[int, tuple[float, np.ndarray]]] = [{} for _ in placed]
    for d, (p, distance) in owner.items():
        marker_id, quad = detections[d]
        if marker_id not in claimed[p] or distance < claimed[p][marker_id][0]:
            claimed[p][marker_id] = (distance, quad)
    return [Markers({i: quad for i, (_, quad) in mine.items()}) for mine in claimed]


def unclaimed(detections: list[tuple[int, np.ndarray]], claimed: list[Markers]) -> list[tuple[int, np.ndarray]]:
    """The detections that no page's markers include."""
    taken = {id(quad) for markers in claimed for quad in markers.corners.values()}
    return [(i, quad) for i, quad in detections if id(quad) not in taken]


def group_markers(detections: list[tuple[int, np.ndarray]], geometries: list[Page]
                  ) -> list[tuple[Page, Markers, np.ndarray]]:
    """Pages among ``detections`` that no QR code placed: (the geometry that fits, its markers, its
    mm-to-pixel map). From each marker (largest first), every geometry with that id is placed on the
    marker's own corners and gathers the other ids' markers found near where it puts them; the geometry
    gathering most wins (the first of ``geometries`` on a tie). A marker no other joins is left out: one
    marker is too little to place or read a page by."""
    pool = dict(enumerate(detections))
    groups = []
    for d in sorted(pool, key=lambda k: -cv2.contourArea(pool[k][1])):
        if d not in pool:
            continue
        best: tuple[Page, dict[int, int]] | None = None
        for page in geometries:
            members = _gather(d, pool, page)
            if best is None or len(members) > len(best[1]):
                best = (page, members)
        if best is None or len(best[1]) < 2:
            pool.pop(d)
            continue
        page, members = best
        found = Markers({marker_id: pool.pop(k)[1] for marker_id, k in members.items()})
        groups.append((page, found, fit_page(page, found)))
    return groups


def _gather(start: int, pool: dict[int, tuple[int, np.ndarray]], page: Page) -> dict[int, int]:
    """The markers of ``pool`` where ``page``, placed on marker ``start``'s corners, puts its other markers,
    ``start`` included: {id: pool key}; empty when ``page`` cannot be placed on it."""
    corners_mm = {m.id: np.array(m.corners_mm(), np.float32) for m in page.markers}
    marker_id, quad = pool[start]
    if marker_id not in corners_mm:
        return {}
    mm_to_px, _ = cv2.estimateAffinePartial2D(corners_mm[marker_id], quad.astype(np.float32))
    if mm_to_px is None:
        return {}
    tolerance_px = GROUP_TOLERANCE * _diagonal_px(page, mm_to_px)
    members = {marker_id: start}
    for other_id, corners in corners_mm.items():
        if other_id == marker_id:
            continue
        predicted = apply(mm_to_px, corners.mean(axis=0))
        near = [(float(np.linalg.norm(q.mean(axis=0) - predicted)), k) for k, (i, q) in pool.items()
                if i == other_id and k != start]
        near = [(distance, k) for distance, k in near if distance < tolerance_px]
        if near:
            members[other_id] = min(near)[1]
    return members


def fit_page(page: Page, found: Markers) -> np.ndarray:
    """An affine map (2x3) from ``page``'s millimetres to image pixels, fitted to the corners of its
    markers ``found``."""
    corners_mm = {m.id: m.corners_mm() for m in page.markers}
    mm = np.concatenate([np.array(corners_mm[i], np.float32) for i in sorted(found.corners)])
    px = np.concatenate([found.corners[i] for i in sorted(found.corners)]).astype(np.float32)
    affine, _ = cv2.estimateAffine2D(mm, px, method=cv2.LMEDS)
    return affine if affine is not None else cv2.estimateAffinePartial2D(mm, px)[0]


def key(payload: PagePayload) -> tuple[str, str, int]:
    """What tells two pages apart: form, serial and page number."""
    return payload.form, payload.serial, payload.page
