"""PDF pages: how many a PDF holds, and each rendered to a grey image at a resolution fit for reading it.

A scanner's stack, a phone app's "scan" and a photo "printed" to PDF all come as PDFs. pypdfium2 is imported
only where a PDF comes (``ingest`` imports this module there): it would add to every scan's start-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .ingest import MAX_PIXELS, PageLoadError, check_size, darkest_channel

if TYPE_CHECKING:
    import pypdfium2 as pdfium

PDF_DPI = 200  # lowered for a page larger than paper (``_pdf_dpi``) or of images alone, coarser (``_render_dpi``)
# A PDF page larger than paper that is only images (a photo "printed" to PDF at 72 dpi on a page of a metre, as
# Pillow and img2pdf make them) renders about one pixel to each of its finest image's (``_render_dpi``): a
# little finer, so that resampling loses none, but never to fewer pixels than an A4 page at 200 dpi (3.9 M).
# A page up to A3 renders as ever, whatever its images: a scanner's compact PDF lays a fine mask (/SMask) over
# a coarse image, and pdfium does not tell a mask's size
PDF_IMAGE_MARGIN = 1.1
PDF_MIN_PIXELS = 4_000_000
PDF_PAPER_MAX_IN2 = 1.02 * 297 * 420 / 25.4 ** 2  # A3, and 2 % for sizes rounded to points
# Form XObjects nested deeper than this are not looked into: a page that has some renders as ever; so does a
# page of more images than this (a mosaic of tiles), which would take longer to measure than to render
PDF_FORM_DEPTH = 15
PDF_MAX_IMAGES = 500
# A scan's page draws one image or a few, formkit's printed forms 2-36 objects (the rest inside Form XObjects);
# a 97 kB PDF whose page drew 2.2 million lines took 1.1 s and 600 MB to open and rendered for ever, and one
# drawing a 46,000 px square image took 1.9 GB (an adversarial pass, 2026-12-07): such pages are refused before
# they are rendered, images as large as MAX_PIXELS allows in an image file
PDF_MAX_OBJECTS = 100_000
# A scanner stack is a few hundred pages; a PDF claiming more than this is refused as a whole rather than
# planned as that many pages (its page tree may lie: /Count 1000000 over one real page).
MAX_PDF_PAGES = 5_000
PASSWORD = "the PDF is protected by a password: save a copy without one (print it to PDF) and scan that"
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
EMPTY_PAGE_TREE = re.compile(rb"/Count\s+0(?![0-9.])")
PAGES_LOOKED_FOR_BYTES = 64 << 20


def _no_page_objects(path: Path) -> bool:
    """Whether a PDF that pdfium would not open has a page tree that counts no page and no page object in its
    first ``PAGES_LOOKED_FOR_BYTES``, nor a compressed object stream that could hide one."""
    with open(path, "rb") as file:
        data = file.read(PAGES_LOOKED_FOR_BYTES)
    return bool(EMPTY_PAGE_TREE.search(data)) and not PAGE_OBJECT.search(data) and b"/ObjStm" not in data


def count_pdf_pages(path: Path) -> int:
    """How many pages the PDF ``path`` holds, from its page tree; ``PageLoadError`` saying what to do for one
    that cannot be read or holds more than ``MAX_PDF_PAGES``."""
    import pypdfium2 as pdfium

    try:
        pages = len(pdfium.PdfDocument(str(path)))
    except pdfium.PdfiumError as exc:
        # "failed" without an error of its own: no page tree, or no pages in it. pdfium's last error is the
        # process's last, so after another file's ("Data format error") it is told by the file's bytes
        if getattr(exc, "err_code", None) == 0 or _no_page_objects(path):
            raise PageLoadError("not a readable PDF (it has no pages)") from exc
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise PageLoadError(PASSWORD) from exc
        raise PageLoadError(f"not a readable PDF: damaged, cut short or not a PDF ({exc})") from exc
    except Exception as exc:  # pdfium raises its own error types
        raise PageLoadError(f"not a readable PDF: damaged, cut short or not a PDF ({exc})") from exc
    if pages <= 0:
        raise PageLoadError("not a readable PDF (it has no pages)")
    if pages > MAX_PDF_PAGES:
        raise PageLoadError(f"PDF has too many pages ({pages:,}; the limit is {MAX_PDF_PAGES:,}): split it into "
                            "smaller files")
    return pages


def _pdf_dpi(width_pt: float, height_pt: float) -> int:
    """``PDF_DPI``, or less for a page too large to render at it within ``MAX_PIXELS``: a photo put into a
    PDF at 72 or 96 dpi (as Pillow, "print to PDF" and phone apps do) makes a page of a metre or more, which
    was refused as too large. Its pixels are its photo's however large the page: rendered to ``MAX_PIXELS``,
    it loses nothing a form needs (and a page of images alone renders no finer than they need: ``_render_dpi``)."""
    dpi = PDF_DPI
    # the bitmap's sides as pypdfium2 rounds them (up), which the page's area alone does not say
    while dpi > 1 and math.prod(math.ceil(max(0, side) * dpi / 72) for side in (width_pt, height_pt)) > MAX_PIXELS:
        dpi -= 1
    return dpi


def _finest_image_dpi(page: pdfium.PdfPage) -> float | None:
    """The resolution (dpi) of the finest image a pypdfium2 ``page`` draws, on the finer of its two axes (an
    image may be stretched more one way), when it draws images alone; None when it draws anything else that
    shows (text, lines, a shading, an annotation: it renders as ever, vector content as sharp as ever), no image,
    Form XObjects nested too deep to look into, or more than ``PDF_MAX_IMAGES`` images. An OCR layer of
    invisible text, as phone apps and scanners lay over the image, draws nothing."""
    import pypdfium2 as pdfium

    raw = pdfium.raw
    if raw.FPDFPage_GetAnnotCount(page) != 0:  # a stamp, a note, a form field: drawn over the page's content
        return None
    finest, images = None, 0
    for obj in page.get_objects(max_depth=PDF_FORM_DEPTH):
        if obj.type == raw.FPDF_PAGEOBJ_FORM:
            if obj.level >= PDF_FORM_DEPTH - 1:  # its content is not listed
                return None
            continue  # its content comes next, each object with the form as its container
        if (obj.type == raw.FPDF_PAGEOBJ_TEXT
                and raw.FPDFTextObj_GetTextRenderMode(obj) == raw.FPDF_TEXTRENDERMODE_INVISIBLE):
            continue  # (text that clips what follows to its letters is no OCR layer: its edges are drawn)
        if obj.type != raw.FPDF_PAGEOBJ_IMAGE or images == PDF_MAX_IMAGES:
            return None
        images += 1
        # an object's matrix is in its form's space (which takes in the form's own /Matrix): the forms' matrices
        # (the transformation where each is drawn) take it to the page's
        matrix, container = obj.get_matrix(), obj.container
        while container is not None:
            matrix, container = matrix.multiply(container.get_matrix()), container.container
        width_px, height_px = obj.get_px_size()
        # the image's unit square maps to its width along (a, b) and its height along (c, d), in points
        width_pt, height_pt = math.hypot(matrix.a, matrix.b), math.hypot(matrix.c, matrix.d)
        if not (width_pt * height_pt > 0 and math.isfinite(width_pt * height_pt)):
            continue  # drawn to nothing: shows nothing
        dpi = max(width_px / width_pt, height_px / height_pt) * 72
        finest = dpi if finest is None else max(finest, dpi)
    return finest


def _render_dpi(width_pt: float, height_pt: float, image_dpi: Callable[[], float | None]) -> int:
    """The resolution a page of ``width_pt`` x ``height_pt`` renders at: ``_pdf_dpi``, or for a page larger
    than ``PDF_PAPER_MAX_IN2`` of images alone, the finest of them (``image_dpi()``, asked only of such a page:
    it walks the page's objects), no finer than it needs (``PDF_IMAGE_MARGIN``), but not so coarse that the
    page has fewer than ``PDF_MIN_PIXELS``."""
    dpi = _pdf_dpi(width_pt, height_pt)
    area_in2 = max(width_pt, 1) * max(height_pt, 1) / 72 ** 2
    if area_in2 <= PDF_PAPER_MAX_IN2 or (finest := image_dpi()) is None:
        return dpi
    least_dpi = math.ceil(math.sqrt(PDF_MIN_PIXELS / area_in2))
    return min(dpi, max(math.ceil(finest * PDF_IMAGE_MARGIN), least_dpi))


def _pdf_image_dpi(page: pdfium.PdfPage) -> float | None:
    """``_finest_image_dpi`` of a pypdfium2 ``page``; None (the page renders as ever) for one whose images
    cannot be measured, whatever pdfium or an odd PDF raises: no page is lost for it."""
    try:
        return _finest_image_dpi(page)
    except Exception:
        return None


def _undecodable_image(page: pdfium.PdfPage) -> bool:
    """Whether pdfium cannot decode an image the pypdfium2 ``page`` draws. It draws nothing where it cannot (a
    scan's JPEG data damaged): the page rendered pure white and was taken for a blank back, a filled page gone
    without a word (an adversarial pass, 2026-12-06). Asked only of a page that rendered as one even colour."""
    import pypdfium2 as pdfium

    for obj in page.get_objects(max_depth=PDF_FORM_DEPTH):
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE:
            try:
                obj.get_bitmap(render=False)
            except pdfium.PdfiumError:
                return True
    return False


def _check_drawing(page: pdfium.PdfPage) -> None:
    """Refuse (``PageLoadError``) a pypdfium2 ``page`` that draws more than ``PDF_MAX_OBJECTS`` objects or an
    image over ``MAX_PIXELS``: no scan's page does, and rendering it would take minutes or gigabytes."""
    import pypdfium2 as pdfium

    raw = pdfium.raw
    count = raw.FPDFPage_CountObjects(page)
    if count > PDF_MAX_OBJECTS:
        raise PageLoadError(f"this PDF page draws {count:,} objects, far more than a scan or a printed form "
                            f"(at most {PDF_MAX_OBJECTS:,} are read): print it and scan the paper")
    for obj in page.get_objects(max_depth=PDF_FORM_DEPTH):
        if obj.type == raw.FPDF_PAGEOBJ_IMAGE:
            check_size(*obj.get_px_size(), what="image drawn on this PDF page", small=False)


def pdf_page(path: Path, index: int) -> tuple[np.ndarray, float]:
    """Page ``index`` of a PDF rendered at ``PDF_DPI`` (less for a page too large for it or of coarser images:
    ``_render_dpi``), once its size is known to be one a form page can have, and the resolution it was rendered
    at. The reasons name no page: the page number is stored with the rejected page, and the scan summary groups
    equal reasons (one broken PDF of 300 pages is one line, not 300)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
        page = document[index]
        # the size the page renders at, as pypdfium2 sizes its bitmap (pdfium gives the width and height of
        # the page's boxes as it draws them: normalised, rotated, a Letter page for a box of no size)
        size_pt = page.get_size()
        _check_drawing(page)
        dpi = _render_dpi(*size_pt, lambda: _pdf_image_dpi(page))
        scale = dpi / 72
        width, height = (max(0, math.ceil(side * scale)) for side in size_pt)
        check_size(width, height, what="PDF page", dpi=dpi)
        bitmap = page.render(scale=scale, grayscale=True)
        array = bitmap.to_numpy()
        if array.min() == array.max() and _undecodable_image(page):
            raise PageLoadError("an image on this PDF page cannot be decoded (the file is damaged): it would "
                                "read as an empty page; scan the page again")
        return (array if array.ndim == 2 else darkest_channel(array)), float(dpi)
    except PageLoadError:
        raise
    except Exception as exc:
        raise PageLoadError(f"cannot render this PDF page ({' '.join(str(exc).split())})") from exc
