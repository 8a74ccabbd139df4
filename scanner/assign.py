"""Read a stored page again as the form page a person says it is (its QR and printed code unreadable)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np

from formkit.catalogue import Catalogue
from formkit.qrpayload import PagePayload
from formkit.records import PageResult, PageState, file_sha256
from formkit.review.queue import SourcePage

from .ingest import PageLoadError, load_page
from .pipeline import read_page_as

REGION_MARGIN = 0.08  # of a region's diagonal, kept around it: its markers sit near its edges


def load_source(source: SourcePage, stored_first: bool = False) -> np.ndarray | None:
    """A stored page as a 2-D uint8 grey image: from its file when that is still there unchanged, else
    the reduced image the store kept (``stored_first``: the stored image when there is one, for a quick
    look). When the page was one of several in its image, only its own region is kept, the rest white,
    so another page's markers are never taken for its own."""
    stored = None
    if source.stored_jpeg is not None:
        stored = cv2.imdecode(np.frombuffer(source.stored_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if stored_first and stored is not None:
        return stored
    path = Path(source.path)
    with contextlib.suppress(OSError, PageLoadError):
        if path.is_file() and file_sha256(path) == source.sha256:
            grey = load_page(path, source.page_index)[0]
            return grey if source.region_px is None else only_region(grey, source.region_px)
    return stored


def only_region(grey: np.ndarray, region_px: tuple[tuple[float, float], ...]) -> np.ndarray:
    """``grey`` white outside the quadrilateral ``region_px`` grown by ``REGION_MARGIN``, cropped to it."""
    corners = np.array(region_px, np.float32)
    centre = corners.mean(axis=0)
    grown = centre + (corners - centre) * (1 + 2 * REGION_MARGIN)
    x0, y0 = np.maximum(np.floor(grown.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(grown.max(axis=0)).astype(int) + 1, (grey.shape[1], grey.shape[0]))
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(mask, [grown.astype(np.int32)], 255)
    kept = np.where(mask > 0, grey, 255).astype(np.uint8)
    return kept[y0:max(y0 + 1, y1), x0:max(x0 + 1, x1)]


def read_source_as(source: SourcePage, payload: PagePayload, catalogue: Catalogue) -> PageResult:
    """The page read as ``payload``, from ``load_source``. A page that was one of several in its image
    keeps its outline there (``SourcePage.outline``), so it can be read again or assigned again on its own."""
    grey = load_source(source)
    result = PageResult(source.path, source.page_index + 1, source.sha256, PageState.REJECTED)
    if grey is None:
        result.reason = "neither the source file nor a stored image of the page is available"
        return result
    result = read_page_as(grey, payload, result, catalogue)
    result.quality.update(source.outline())
    return result
