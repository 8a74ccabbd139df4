"""Read a stored page again as the form page a person says it is (its QR and printed code unreadable)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np

from formkit.catalogue import Catalogue
from formkit.qrpayload import PagePayload
from formkit.records import PageResult, PageState
from formkit.review.queue import SourcePage

from .ingest import PageLoadError, file_sha256, load_page
from .pipeline import read_page_as


def read_source_as(source: SourcePage, payload: PagePayload, catalogue: Catalogue) -> PageResult:
    """The page read as ``payload``: from its file when that is still there unchanged, else from the
    reduced image the store kept."""
    path = Path(source.path)
    grey = None
    with contextlib.suppress(OSError):
        if path.is_file() and file_sha256(path) == source.sha256:
            with contextlib.suppress(PageLoadError):
                grey, _ = load_page(path, source.page_index)
    if grey is None and source.stored_jpeg is not None:
        grey = cv2.imdecode(np.frombuffer(source.stored_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    result = PageResult(str(path), source.page_index + 1, source.sha256, PageState.REJECTED)
    if grey is None:
        result.reason = "neither the source file nor a stored image of the page is available"
        return result
    return read_page_as(grey, payload, result, catalogue)
