"""Read one page image: locate -> register -> read -> resolve. Pure function of the image."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import cv2
import numpy as np

from formkit.catalogue import Catalogue, layout_problem, shipped_catalogue
from formkit.conventions import ChoiceStates, Reading, apply, decide, flagged_otherwise
from formkit.layout.engine import FLOW_REVISIONS
from formkit.layout.model import (
    Box,
    BoxesField,
    ChoiceField,
    Field,
    Layout,
    LineField,
    Page,
    distinct_geometries,
    field_box,
    field_boxes,
)
from formkit.qrpayload import PagePayload, decode
from formkit.records import RAW_PAGE_FLAGGED, FieldValue, PageResult, PageState
from formkit.serial import is_valid_serial

from . import (
    areas,
    arrows,
    beside,
    between_rows,
    faded_print,
    fainter_marks,
    hollow,
    labels,
    light_ticks,
    marks,
    overlaid,
    page_flags,
    placement,
    regions,
    stains,
    struck_through,
    tinted,
    washout,
    writing_in_box,
)
from .beside_ink import BESIDE_MM
from .binarised import despeckled, looks_binarised
from .dates import judge_dates
from .handwriting import read_boxes_fields, read_text_field
from .identify import Identified, identify
from .lines import read_line
from .locate import (
    Markers,
    MarkerSearch,
    QrRead,
    find_markers,
    largest_per_id,
    qr_in_known_frames,
    read_qr_codes,
    reduced,
)
from .register import (
    MAX_ERROR_MM,
    REVIEW_ERROR_MM,
    WARP_PX_PER_MM,
    Registration,
    field_window,
    marker_contrast,
    register,
    shares_outside,
    warp_fields,
    warp_page,
)
from .resolve import resolve_choice, resolve_line

BLANK_INK_FRACTION = 0.002
PAPER_MIN_GREY = 140  # the lightest tenth of a blank page is paper: darker than this, it is not a page at all
SMUDGE_LEVELS = 30  # at ~100 px across, print blurred beyond reading is still this much darker than paper
SMUDGE_FRACTION = 0.005
MIRRORED = ("the image is mirrored (a front camera, or a scanner's or app's mirror setting?): take it again "
            "without mirroring, or flip it left to right and scan the flipped copy")
CROP_MARGIN_MM = 2.0


def read_page(grey: np.ndarray, result: PageResult, catalogue: Catalogue | None = None) -> PageResult:
    """Fill ``result`` (which names the source) from the page image ``grey`` (2-D uint8), reading it with
    the templates of ``catalogue`` (the shipped ones when ``None``). An image holding several form pages
    gives the first of them here; ``read_image`` gives them all."""
    return read_image(grey, result, catalogue)[0]


def read_image(grey: np.ndarray, result: PageResult, catalogue: Catalogue | None = None) -> list[PageResult]:
    """Every form page in the image ``grey`` (2-D uint8): usually one, several when cards lie side by side
    on a scanner's glass or an uncut sheet was scanned. ``result`` names the source; each page found is
    a copy of it with its ``region`` (0, 1, ...) and its quadrilateral in the image (``quality['region_px']``).
    A page that arrives black and white is read without its speckle (``binarised``)."""
    catalogue = catalogue or shipped_catalogue()
    grey = _cleared(grey, result)
    small = reduced(grey)
    search, detections, found = _search_markers(grey, small, result)
    # The QR is usually readable at detection resolution; the full image is the second try.
    reads = read_qr_codes(*small)
    payloads = _formkit_payloads(reads)
    if not payloads and small[1] < 1.0:
        reads = read_qr_codes(grey)
        payloads = _formkit_payloads(reads)
    elif small[1] < 1.0 and len(detections) > 4 * len(_distinct(payloads)):
        # more markers than the pages read explain: a small card's QR may need the full resolution
        more = [r for r in read_qr_codes(grey) if r.text not in {q.text for q in reads}]
        reads, payloads = reads + more, payloads + _formkit_payloads(more)
    ids = [marker_id for marker_id, _ in detections]
    if len(_distinct(p for p in payloads if is_valid_serial(p.serial))) > 1 or len(ids) > len(set(ids)):
        # several pages (or an id seen twice: another page, its QR unreadable); the fast search may have
        # stopped at one page's four markers
        every = search.detections(thorough=True)
        _note_outlines(search, result, largest_per_id(every))
        pages = read_regions(grey, small, every, [r for r in reads if _valid(r)], result, catalogue)
        if pages:
            return pages
    return [_read_single(grey, small, found, reads, payloads, result, catalogue)]


def _read_single(grey: np.ndarray, small: tuple[np.ndarray, float], found: Markers, reads: list[QrRead],
                 payloads: list[PagePayload], result: PageResult, catalogue: Catalogue) -> PageResult:
    """The image as one form page (or none: blank, foreign, unidentified)."""
    forged = [p for p in payloads if not is_valid_serial(p.serial)]
    payloads = [p for p in payloads if is_valid_serial(p.serial)]
    if forged and not payloads:
        result.status = PageState.REJECTED
        result.reason = (f"the QR code's serial {forged[0].serial} fails its check character (a damaged, misprinted "
                         "or forged code); type the code printed under it in the review page")
        result.image_jpeg = _jpeg(small[0])
        return result
    if not payloads and found.count >= 2:
        payloads = _formkit_payloads(qr_in_known_frames(grey, found, catalogue.known_frames()))
    identified: Identified | str | None = None
    if not payloads and found.count >= 2:
        identified = identify(grey, found, catalogue.candidate_layouts())
        if isinstance(identified, Identified):
            payloads = [identified.payload]
            result.quality["identified_by"] = f"printed code, QR unreadable: {identified.code_read}"
    if not payloads:
        if found.count >= 2:
            result.status, result.reason = PageState.UNIDENTIFIED, f"QR code unreadable; {identified}"
            result.image_jpeg = _jpeg(small[0])
        elif found.count == 0 and not reads and not (not_paper := _not_blank_paper(small[0])):
            result.status, result.reason = PageState.BLANK, "blank page"
        else:
            what = "a QR code that is not formkit's" if reads else "no formkit markers or QR code"
            if found.count == 0 and not reads:
                what += f", and not blank paper: {not_paper}"
            result.status, result.reason = PageState.REJECTED, f"not a formkit page: {what}"
            result.image_jpeg = _jpeg(small[0])
        return result
    return _read_as(grey, small, found, payloads[0], result, catalogue)


def _distinct(payloads: Iterable[PagePayload]) -> set[tuple[str, str, int]]:
    return {regions.key(p) for p in payloads}


def _valid(read: QrRead) -> bool:
    payload = decode(read.text)
    return payload is not None and is_valid_serial(payload.serial)


def read_regions(grey: np.ndarray, small: tuple[np.ndarray, float], detections: list[tuple[int, np.ndarray]],
                 reads: list[QrRead], result: PageResult, catalogue: Catalogue) -> list[PageResult]:
    """Several form pages in one image, each read as a page of its own with the markers that belong to it
    (``regions``): each page whose QR was read is placed by it and takes the markers found where it puts
    its own; the markers left are grouped into pages by the installed page geometries, and each such page
    is identified by the QR in its frame or by its printed code, or kept as unidentified (never dropped).
    A marker is never given to two pages. A page with fewer than two markers of its own (partly outside
    the image, or under another card) is rejected with that reason; the others are read. A page whose QR
    was read but whose layout is not installed is rejected, and keeps the outline of the markers grouped
    around its QR (when an installed geometry groups them) so it can be found and read again on its own;
    without one it is found again by the form, serial and page its QR gives."""
    by_qr: list[tuple[PagePayload, Page | str, np.ndarray | None]] = []
    qr_centres: list[np.ndarray] = []
    seen: set[tuple[str, str, int]] = set()
    for read in sorted(reads, key=lambda r: (float(r.corners[:, 1].min()), float(r.corners[:, 0].min()))):
        payload = decode(read.text)
        assert payload is not None
        if regions.key(payload) in seen:
            continue
        seen.add(regions.key(payload))
        qr_centres.append(read.corners.mean(axis=0))
        layout = catalogue.printed_layout(payload)
        problem = layout_problem(layout, payload)
        if problem or not isinstance(layout, Layout):
            by_qr.append((payload, problem, None))
            continue
        page = layout.page(payload.page)
        by_qr.append((payload, page, regions.from_qr(page, read)))
    placed = [(page, mm_to_px) if isinstance(page, Page) and mm_to_px is not None else None
              for _, page, mm_to_px in by_qr]
    claimed = regions.claim_markers(detections, placed)
    # the geometries of the pages read here first: a card beside cards is most likely another of them
    geometries = distinct_geometries([pm[0] for pm in placed if pm is not None] + catalogue.page_geometries())
    unplaced = {p: qr_centres[p] for p, (_, _, mm_to_px) in enumerate(by_qr) if mm_to_px is None}
    outlines: dict[int, list[list[float]]] = {}  # a page its QR could not place -> the outline of its markers
    unlabelled = []
    for page, found, mm_to_px in regions.group_markers(regions.unclaimed(detections, claimed), geometries):
        corners_px = regions.page_corners(page, mm_to_px)
        owner = next((p for p, centre in unplaced.items() if p not in outlines and _inside(corners_px, centre)), None)
        if owner is not None:
            outlines[owner] = corners_px  # the markers of a page whose QR was read: that page, not another
            continue
        identity, how = _identify_region(grey, found, catalogue)
        if isinstance(identity, PagePayload):
            if regions.key(identity) in seen:
                continue  # markers of a page its QR placed, found beyond where it put them
            seen.add(regions.key(identity))
        unlabelled.append((identity, how, found, corners_px))
    total = len(by_qr) + len(unlabelled)
    results = []
    for p, ((payload, page, mm_to_px), found) in enumerate(zip(by_qr, claimed, strict=True)):
        region = PageResult(result.source_file, result.source_page, result.sha256, PageState.REJECTED,
                            region=p, quality={"region_of": total, **_image_quality(result)}, read_on=result.read_on)
        where = f"page {p + 1} of {total} in the image ({payload.form} page {payload.page})"
        if isinstance(page, str) or mm_to_px is None:
            region.form, region.serial, region.form_page = payload.form, payload.serial, payload.page
            region.reason = f"{where}: {page}"
            if p in outlines:
                region.quality["region_px"] = outlines[p]
                region.image_jpeg = _jpeg(_region_image(small, outlines[p]))
        else:
            region.quality["region_px"] = regions.page_corners(page, mm_to_px)
            region = _read_as(grey, small, found, payload, region, catalogue,
                              _region_image(small, region.quality["region_px"]))
            if region.status != PageState.READ and found.count < 2:
                region.reason = (f"{where}: only {found.count} of its markers found: part of it is outside the "
                                 "image or under another page")
            elif region.status != PageState.READ:
                region.reason = f"{where}: {region.reason}"
        results.append(region)
    for p, (identity, how, found, corners_px) in enumerate(unlabelled, start=len(by_qr)):
        region = PageResult(result.source_file, result.source_page, result.sha256, PageState.UNIDENTIFIED,
                            region=p, read_on=result.read_on,
                            quality={"region_of": total, "region_px": corners_px, **_image_quality(result)})
        where = f"page {p + 1} of {total} in the image"
        image = _region_image(small, corners_px)
        if isinstance(identity, PagePayload):
            region.quality["identified_by"] = how
            region = _read_as(grey, small, found, identity, region, catalogue, image)
            if region.status != PageState.READ:
                region.reason = f"{where} ({identity.form} page {identity.page}): {region.reason}"
        else:
            region.reason = f"{where}: its QR code unreadable; {identity}"
            region.image_jpeg = _jpeg(image)
        results.append(region)
    return results


def _identify_region(grey: np.ndarray, found: Markers, catalogue: Catalogue) -> tuple[PagePayload | str, str]:
    """What the page of markers ``found`` is, its QR not read in the whole image, and how that was told: the
    QR read again in its frame, else its printed code (``identify``); else why it cannot be told."""
    payloads = _formkit_payloads(qr_in_known_frames(grey, found, catalogue.known_frames()))
    valid = [p for p in payloads if is_valid_serial(p.serial)]
    if valid:
        return valid[0], "QR code read in the page's own frame"
    identified = identify(grey, found, catalogue.candidate_layouts())
    if isinstance(identified, Identified):
        return identified.payload, f"printed code, QR unreadable: {identified.code_read}"
    if payloads:
        return f"the QR code's serial {payloads[0].serial} fails its check character; {identified}", ""
    return identified, ""


def _inside(corners_px: list[list[float]], point: np.ndarray) -> bool:
    """Whether ``point`` (x, y in image pixels) lies within the quadrilateral ``corners_px``."""
    return cv2.pointPolygonTest(np.array(corners_px, np.float32), (float(point[0]), float(point[1])), False) >= 0


def _region_image(small: tuple[np.ndarray, float], region_px: list[list[float]]) -> np.ndarray:
    """The part of the detection-size image a page covers: what is stored when it cannot be read."""
    image, scale = small
    points = np.array(region_px, np.float32) * scale
    x0, y0 = np.maximum(points.min(axis=0).astype(int), 0)
    x1, y1 = points.max(axis=0).astype(int) + 1
    crop = image[y0:max(y0 + 1, y1), x0:max(x0 + 1, x1)]
    return crop if crop.size else image


def read_page_as(grey: np.ndarray, payload: PagePayload, result: PageResult,
                 catalogue: Catalogue | None = None) -> PageResult:
    """Read ``grey`` as the page ``payload`` names, for a page a person identified by hand (its QR and
    printed code unreadable). The layout must still be found through the page's markers."""
    grey = _cleared(grey, result)
    small = reduced(grey)
    _, _, found = _search_markers(grey, small, result)
    return _read_as(grey, small, found, payload, result, catalogue or shipped_catalogue())


def _cleared(grey: np.ndarray, result: PageResult) -> np.ndarray:
    """``grey`` cleared of speckle when it arrived black and white (``binarised``), which ``result`` notes."""
    if not looks_binarised(grey):
        return grey
    result.quality["thresholded"] = True
    return despeckled(grey)


# Of a marker's printed black, the share found black, a page's markers together: on scans 0.979-0.987, 1-bit
# copies 0.968-0.981, dithered 1-bit pages 0.962-0.977, 3 MP photos 0.984-0.999; on scanner-app pages thresholded
# over 4.3 mm 0.786-0.92, 6 mm 0.902-0.958 (8 pages each, 2026-12-06)
HOLLOW_MARKERS = 0.93


def _search_markers(grey: np.ndarray, small: tuple[np.ndarray, float], result: PageResult
                    ) -> tuple[MarkerSearch, list[tuple[int, np.ndarray]], Markers]:
    """The page's marker search, its detections and one marker per id, their provenance noted in ``result``
    (``_note_outlines``)."""
    search = MarkerSearch(grey, small, thresholded=bool(result.quality.get("thresholded")))
    detections = search.detections()
    found = largest_per_id(detections)
    _note_outlines(search, result, found)
    return search, detections, found


def _note_outlines(search: MarkerSearch, result: PageResult, found: Markers) -> None:
    """Note in ``result`` that markers were read from their outlines (its choice fields go to review,
    ``page_flags.flag_hollowed_choices``, and its page needs three markers), or, on a thresholded page, that the
    markers ArUco read are hollow all the same (its chosen boxes are looked at for a fill's ring,
    ``page_flags.flag_rings``)."""
    if search.used_outlines:
        result.quality["markers_from_outlines"] = True
    elif result.quality.get("thresholded") and found.count and np.mean(
            [hollow.printed_black_share(search.grey, quad, i) for i, quad in found.corners.items()]) < HOLLOW_MARKERS:
        result.quality["markers_hollow"] = True


def _read_as(grey: np.ndarray, small: tuple[np.ndarray, float], found: Markers, payload: PagePayload,
             result: PageResult, catalogue: Catalogue, unread: np.ndarray | None = None) -> PageResult:
    """Read ``grey`` as the page ``payload`` names. ``small`` is the image at detection size and its scale;
    ``unread`` what is stored when the page cannot be read (``small``'s image unless given)."""
    unread = small[0] if unread is None else unread
    result.form, result.version, result.variant = payload.form, payload.version, payload.variant
    result.form_page, result.serial = payload.page, payload.serial
    layout = catalogue.printed_layout(payload)
    problem = layout_problem(layout, payload)
    if problem:
        result.status, result.reason = PageState.REJECTED, problem
        result.image_jpeg = _jpeg(unread)
        return result
    assert isinstance(layout, Layout)
    if layout.flow != FLOW_REVISIONS[0]:
        # printed before the page flow changed: reading it again (``reread``) lays it out as this revision
        result.quality["flow"] = layout.flow
    template = catalogue.find_template(payload.form, payload.version)
    language = template.ocr_language if template else "eng"
    result.quality["fill_means"] = template.fill_means if template else "infer"
    result = _read_registered(grey, small, layout.page(payload.page), found, result, language, unread)
    if result.status == PageState.READ:
        # what the page's dates say of each other and of the day it is read (the machine's, unless given)
        judge_dates(result.values, template.date_whens() if template else {}, result.read_on or dt.date.today())
    return result


def _formkit_payloads(reads: list[QrRead]) -> list[PagePayload]:
    return [p for p in (decode(r.text) for r in reads) if p is not None]


def _mirrored(small: np.ndarray, found: Markers) -> bool:
    """Whether a page whose code was read but whose markers were not shows them turned over: an ArUco marker
    is not symmetric, so a mirrored one is no marker, while the QR decoder reads a mirrored code. ``small``:
    the image at detection size. Only asked of a page about to be rejected."""
    return found.count < 2 and find_markers(np.ascontiguousarray(small[:, ::-1])).count >= 2


def _read_registered(grey: np.ndarray, small: tuple[np.ndarray, float], page: Page, found: Markers,
                     result: PageResult, language: str, unread: np.ndarray) -> PageResult:
    """``small`` is the image at detection size and its scale; ``unread`` is stored when the page cannot
    be read."""
    hollowed = bool(result.quality.get("markers_from_outlines"))
    if hollowed and found.count < MIN_OUTLINE_MARKERS:
        result.status = PageState.REJECTED
        result.reason = (f"a scanner app's black-and-white page with only {found.count} registration marker(s) "
                         "readable: too few to place its boxes; scan it again in colour or greyscale")
        result.image_jpeg = _jpeg(unread)
        return result
    reg = register(page, found)
    if reg is None:
        result.status = PageState.REJECTED
        result.reason = (MIRRORED if _mirrored(small[0], found) else
                         f"only {found.count} registration marker(s) found; at least 2 are needed")
        result.image_jpeg = _jpeg(unread)
        return result
    result.transform = reg.mm_to_px.tolist()
    result.error_mm = round(reg.error_mm, 3)
    if reg.error_mm > MAX_ERROR_MM:
        result.status = PageState.REJECTED
        result.reason = f"poor registration: markers disagree by {reg.error_mm:.1f} mm (folded or curled page?)"
        result.image_jpeg = _jpeg(unread)
        return result
    # white where nothing reads; the words under choices' boxes and the margin after their rows drawn as well
    warped = warp_fields(grey, page, reg, also=[*labels.label_regions(page), *beside.row_margins(page)])
    result.quality.update(markers=reg.markers_used, source_px_per_mm=round(reg.px_per_mm, 2))
    if reg.left_out:
        result.quality["markers_left_out"] = list(reg.left_out)  # not square: partly covered or damaged
    outside = shares_outside(page, reg, grey.shape)
    if outside:
        result.quality["outside_image"] = sorted(outside)
    markers = cache(lambda: marker_contrast(small[0], found, reg.left_out, small[1]))
    result.values, contrast, paper = read_fields(warped, page, reg.px_per_mm, language, outside, markers,
                                                 thresholded=bool(result.quality.get("thresholded")))
    if contrast is not None:
        result.quality["box_contrast"] = round(contrast, 1)
    if hollowed:
        page_flags.flag_hollowed_choices(result)
    elif result.quality.get("markers_hollow"):
        page_flags.flag_rings(result, warped, page)
    page_flagged = False
    if reg.error_mm > REVIEW_ERROR_MM:
        # a field whose boxes were all measured on their printed outlines reads as on any page: the markers'
        # disagreement does not reach it
        found = placement.outlines_found(warped, _measured_boxes(page, result.values), contrast)
        for value in result.values:
            if value.field in found:
                value.raw["found_despite_registration"] = {"error_mm": round(reg.error_mm, 3),
                                                           "weakest_side": found[value.field]}
        page_flags.flag_all(result, f"poor registration ({reg.error_mm:.2f} mm)", spared=set(found))
        page_flagged = True
    if contrast is not None and page_flags.too_faded(contrast, paper, markers):
        page_flags.flag_all(result, f"blurry or faded image (printed box borders only {contrast:.0f} grey levels dark)")
        page_flagged = True
    fields = {f.id: f for f in page.fields}
    for value in result.values:
        if value.needs_review and value.crop_jpeg is None:  # a mark beside the boxes is shown whole
            margin_mm = BESIDE_MM if "beside" in value.raw or "between_rows" in value.raw else CROP_MARGIN_MM
            value.crop_jpeg = _field_crop(warped, fields[value.field], margin_mm)
    apply_fill_convention(result.values, result.quality.get("fill_means", "infer"), page_flagged)
    result.status = PageState.READ
    result.image_jpeg = _jpeg(stored_page(small, page, reg))
    return result


STORED_PX_PER_MM = WARP_PX_PER_MM / 2  # the page image kept in the store, for the review page


def stored_page(small: tuple[np.ndarray, float], page: Page, reg: Registration) -> np.ndarray:
    """The whole page flat and upright at ``STORED_PX_PER_MM``, warped from the detection-size image
    ``small`` (image, scale): a quarter of the pixels of the image the readers use, from a fifth of the
    source's (measured 2026-12: about 4 ms, where warping the whole page at 8 px/mm and halving it took 17)."""
    image, scale = small
    to_small = np.diag([scale, scale, 1.0]) @ reg.mm_to_px
    return warp_page(image, page, Registration(to_small, reg.error_mm, reg.markers_used, reg.px_per_mm * scale),
                     STORED_PX_PER_MM)


def apply_fill_convention(values: list[FieldValue], fill_means: str, page_flagged: bool) -> None:
    """Read lone filled boxes by this page's evidence of how the respondent marks (the store decides again
    from all pages of the form). Each such field keeps the reading as scanned in ``raw``, so the decision
    can be revised when more pages arrive."""
    choices = [v for v in values if v.kind == "choice" and "states" in v.raw]
    fields = [ChoiceStates(tuple(v.raw["states"]), v.raw["multiple"]) for v in choices]
    convention = decide(fields, fill_means)
    for value, states in zip(choices, fields, strict=True):
        if not states.lone_fill:
            continue
        value.raw["as_scanned"] = [value.value, value.confidence, value.needs_review, value.reason]
        value.raw[RAW_PAGE_FLAGGED] = page_flagged
        reading = apply(convention, states, value.raw["options"],
                        Reading(value.value, value.confidence, value.needs_review, value.reason),
                        flagged_otherwise(value.raw))
        value.value, value.confidence = reading.value, reading.confidence
        value.needs_review, value.reason = reading.needs_review, reading.reason


def _measured_boxes(page: Page, values: list[FieldValue]) -> dict[str, tuple[list[Box], list[tuple[float, float]]]]:
    """Per choice, digit or date field, its boxes as the layout places them and the offsets they were
    measured at (``placement.outlines_found``)."""
    boxes = {f.id: field_boxes(f) for f in page.fields}
    return {v.field: (boxes[v.field], placement.recorded_offsets(v.raw, len(boxes[v.field])))
            for v in values if boxes[v.field]}


# Markers read from their outlines (``hollow``) sit up to 3 px inside their true corners at 300 dpi; two of
# them on one side of a page placed visual-analogue lines 2-4 mm off at the far side (2026-12-06). Three or more
# spread the error.
MIN_OUTLINE_MARKERS = 3


def _image_quality(result: PageResult) -> dict[str, bool]:
    """What ``result`` says of its whole image that each page found in it inherits: thresholded to black and
    white, markers read from their outlines."""
    return {key: value for key, value in result.quality.items()
            if key in ("thresholded", "markers_from_outlines", "markers_hollow")}


def read_fields(warped: np.ndarray, page: Page, source_px_per_mm: float = 8.0, language: str = "eng",
                outside: Mapping[str, float] | None = None,
                markers_contrast: Callable[[], float | None] | None = None, thresholded: bool = False
                ) -> tuple[list[FieldValue], float | None, float | None]:
    """Every field of ``page`` from its registered image, in layout order, the median contrast of the
    printed box borders against the paper and the median paper white around them, grey levels (``None``
    without choice boxes). ``outside``: the share of each
    field that lies past the image's edge (``register.shares_outside``); such fields are flagged, and their
    white boxes are left out of what the page's marks and print are judged by. ``markers_contrast``
    (``register.marker_contrast``, measured when asked): print in view whatever covers the fields
    (``washout``). ``thresholded``: the page arrived black and white (``binarised``), where faded print
    drops marks whole (``faded_print``)."""
    outside = outside or {}
    choices = [f for f in page.fields if isinstance(f, ChoiceField)]
    placed = {f.id: placement.placed_boxes(warped, field_boxes(f)) for f in choices}
    offsets = {f_id: offsets_mm for f_id, (offsets_mm, _) in placed.items()}
    boxes = {f.id: [placement.moved(o.box, offset) for o, offset in zip(f.options, offsets[f.id], strict=True)]
             for f in choices}
    # each box's paper and border, counted once: the measures' scale, and ``overlaid``'s for the marked boxes
    references = {f.id: marks.boxes_references(warped, boxes[f.id]) for f in choices}
    measures = {f.id: marks.measure_boxes(warped, boxes[f.id], references=references[f.id]) for f in choices}
    all_measures = [m for f in choices if f.id not in outside for m in measures[f.id]]
    baseline = marks.page_baseline(all_measures)
    contrast = float(statistics.median([m.contrast for m in all_measures])) if all_measures else None
    paper = float(statistics.median([m.white for m in all_measures])) if all_measures else None
    handwritten = read_boxes_fields(warped, [f for f in page.fields if isinstance(f, BoxesField)])
    states = {f.id: [marks.classify(m, baseline, source_px_per_mm) for m in measures[f.id]] for f in choices}
    # a fold or crease through a box is no mark: such boxes are read as empty, and said so (resolve_choice)
    creased = {f.id: marks.creased_boxes(warped, boxes[f.id], measures[f.id], states[f.id]) for f in choices}
    states = {f.id: marks.emptied(states[f.id], creased[f.id]) for f in choices}
    seen = [f.id for f in choices if f.id not in outside]
    own_trace = marks.own_marks_trace([states[k] for k in seen], [measures[k] for k in seen], baseline)
    reads = {f.id: marks.read_light_mark(states[f.id], measures[f.id], baseline, own_trace) for f in choices}
    # a box whose only ink is a straight line across it may be its own border, the box measured off its place;
    # not where every box of its field shows its outline all round where it was measured (a "1" written in box 1).
    # The placement strengths cannot tell: a rolling shutter's wobble moves a whole row, and such boxes on
    # wobbled and distorted photos lay at 0.03-1.47 of their field's clearest outline. Measured 2026-12-07: of
    # 108 such boxes (scan_accuracy.py and desk_hazards.py at 10 pages: 60; 12 more pages of lens distortion and
    # wobble: 48), one lay in a field found on its outlines (a desk_hazards.py page, whose figures did not
    # change); fifth_pass.py inbox, 60 pages: 39 fields with digits written in their boxes were flagged so,
    # none now, none read wrongly unflagged
    lined = [f.id for f in choices if any(m.line_across and state is marks.Mark.MARKED
                                          for m, (state, _) in zip(measures[f.id], reads[f.id], strict=True))]
    on_outlines = placement.outlines_found(warped, {f.id: (field_boxes(f), offsets[f.id]) for f in choices},
                                           contrast) if lined else {}
    values: list[FieldValue] = []
    for f in page.fields:
        if isinstance(f, ChoiceField):
            read = reads[f.id]
            off_outline = tuple(k for k, strength in enumerate(placed[f.id][1]) if strength < placement.OFF_OUTLINE)
            values.append(resolve_choice(f, read, measures[f.id], creased[f.id], off_outline, f.id in on_outlines))
            if read != states[f.id]:  # provenance: which box, and the traces it was judged by
                values[-1].raw["light_mark"] = {"trace": [round(m.weak - baseline.weak, 4) for m in measures[f.id]],
                                                "own_marks_trace": round(own_trace or 0.0, 4)}
            placement.record_offsets(values[-1].raw, offsets[f.id])
        elif isinstance(f, LineField):
            values.append(resolve_line(f, read_line(warped, f)))
        else:
            handwriting = handwritten[f.id] if isinstance(f, BoxesField) else read_text_field(warped, f, language)
            handwriting.crop_jpeg = _field_crop(warped, f)  # handwriting: its image always kept
            values.append(handwriting)
    in_image = [(f, v) for f, v in zip(page.fields, values, strict=True) if f.id not in outside]
    prints = washout.flag_washed_out(warped, [f for f, _ in in_image], [v for _, v in in_image],
                                     {k: measures[k] for k in seen}, markers_contrast=markers_contrast)
    if thresholded:
        faded_print.flag_faded_print(warped, [f for f, _ in in_image], [v for _, v in in_image], prints)
    beside.flag_marks_beside(warped, page, values, source_px_per_mm=source_px_per_mm)
    stains.flag_marks_running_on(warped, page, values)
    writing_in_box.flag_writing_in_boxes(warped, page, values, source_px_per_mm=source_px_per_mm)
    overlaid.flag_boxes_under_something(warped, page, values, references={
        box: r for f in choices for box, r in zip(boxes[f.id], references[f.id], strict=True)})
    struck_through.flag_struck_through(warped, page, values)
    arrows.flag_arrows(warped, page, values)
    # after the letters in a box and the arrows, whose reasons are the more telling: an arrow's shaft lies beside
    # its box as letters do (test_arrows: three arrows' rows said "writing beside" when run before them)
    beside.flag_letters_beside(warped, page, values)
    # a mark astride the gap between two rows: both rows, flagged already or not (which row it answers is unknown)
    between_rows.flag_marks_between_rows(warped, page, [v for _, v in in_image])
    # last: a field flagged for what lies on or beside its box keeps that reason, the more telling one
    viewed_fields = [f for f, _ in in_image if isinstance(f, ChoiceField)]
    viewed = [f.id for f in viewed_fields]
    viewed_values = [v for f, v in in_image if isinstance(f, ChoiceField)]
    viewed_reads, viewed_measures = [reads[k] for k in viewed], [measures[k] for k in viewed]
    light_ticks.flag_light_ticks(warped, viewed_values, viewed_reads, viewed_measures, [boxes[k] for k in viewed],
                                 source_px_per_mm)
    fainter_marks.flag_fainter_marks(viewed_values, viewed_reads, viewed_measures)
    tinted.flag_tinted_boxes(warped, viewed_fields, viewed_values, boxes, measures, references)
    for f, value in zip(page.fields, values, strict=True):
        if isinstance(f, BoxesField) and "beside" in value.raw:  # the writing beside the boxes shown, as drawn
            value.crop_jpeg = _field_crop(warped, f, BESIDE_MM, field_window(f))
    page_flags.flag_outside(values, outside)
    return values, contrast, paper


def _field_crop(warped: np.ndarray, f: Field, margin_mm: float = CROP_MARGIN_MM, box: Box | None = None
                ) -> bytes | None:
    """The field (or ``box``) and ``margin_mm`` around it as a JPEG of quality 90, for the reviewer:
    handwriting as sharp as in the page read, at a fifth of the cost and two fifths of the size of a PNG
    (measured 2026-12 on a comment area: 0.9 ms and 79 kB against 5.5 ms and 197 kB)."""
    crop = areas.crop(warped, box or field_box(f), margin_mm)
    return _jpeg(crop, quality=90) if crop.size else None


def _not_blank_paper(small: np.ndarray) -> str:
    """'' when ``small`` (the page at detection size) is empty paper, the back of a duplex sheet; else why
    not. Blank means light paper with no ink on it: not a dark or grey frame, not noise (which averages
    to grey at detection size), not print blurred beyond reading."""
    scale = min(1.0, 800 / max(small.shape))
    if scale < 1.0:
        small = cv2.resize(small, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    paper = float(np.partition(small.ravel(), int(0.9 * (small.size - 1)))[int(0.9 * (small.size - 1))])
    if paper < PAPER_MIN_GREY:
        return f"too dark to be paper (its lightest tenth is grey level {paper:.0f})"
    background = cv2.medianBlur(small, 31)
    if np.mean(small.astype(np.int16) < background.astype(np.int16) - 60) >= BLANK_INK_FRACTION:
        # a form whose corners are cut off (an A4 form printed at 100 % on US Letter, whose printer margin takes
        # its markers and QR code; a photo without its corners) has marks and none of formkit's (a second read)
        return "marks on it (a form cut off at its edges? print it on its own paper size, or scan or " \
               "photograph it whole)"
    coarse_scale = 100 / max(small.shape)
    coarse = cv2.resize(small, None, fx=coarse_scale, fy=coarse_scale, interpolation=cv2.INTER_AREA)
    edge = max(1, round(0.03 * max(coarse.shape)))  # a scanner lid's shadow along the edge is not print
    inner = coarse[edge:-edge, edge:-edge]
    if np.mean(inner < paper - SMUDGE_LEVELS) >= SMUDGE_FRACTION:
        return "dark areas too blurred to read"
    return ""


def _jpeg(image: np.ndarray, quality: int = 75) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
