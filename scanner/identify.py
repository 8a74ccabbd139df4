"""When the QR code cannot be read: identify the page from what is printed.

Which form and page: every installed layout whose markers fit the ones found is tried, and the one whose
printed boxes and lines are really there in the image wins (a clear winner, or nobody). Which copy: the
serial printed under the QR is read with Tesseract (a known alphabet, printed, with a check character);
a reading that does not check out leaves the page for review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from formkit.layout import Layout
from formkit.layout.model import LineField, Page, TextField, TextRun, field_boxes
from formkit.layout.text import letters_box, width_mm
from formkit.qrpayload import PagePayload
from formkit.serial import ALPHABET, SERIAL_LENGTH, is_valid_serial, normalise_serial

from .glyphs import decode_code, read_code, read_code_grey, read_code_matched
from .ink import ink_mask
from .locate import Markers
from .ocr import OcrUnavailable, read_text
from .register import MAX_ERROR_MM, Registration, register

PT_MM = 25.4 / 72
OCR_PX_PER_MM = 16.0
SERIAL_OCR_SCALES = (0.6, 0.4, 1.0)
CROP_BORDER_PX = 16
MATCH_PX_PER_MM = 2.0
CLEAR_WINNER = 1.3  # the best layout's match must beat the runner-up's by this factor
MIN_EVIDENCE = 0.4  # and explain the print at least this well


@dataclass(frozen=True)
class Identified:
    payload: PagePayload
    page: Page
    code_read: str  # what the readers made of the serial printed under the QR


def expected_print(page: Page, px_per_mm: float = MATCH_PX_PER_MM, text: bool = True, lines: bool = True,
                   shape: tuple[int, int] | None = None) -> np.ndarray:
    """Where ``page`` puts ink whatever is written on it (its ``text``: ``letters_box``; its ``lines``: boxes,
    rules), as a mask in page coordinates at ``px_per_mm`` (of ``shape``, rows and columns, if given); markers
    and QR are left out, as every page has them."""
    h, w = shape or (int(page.height_mm * px_per_mm), int(page.width_mm * px_per_mm))
    mask = np.zeros((h, w), np.uint8)

    def rect(x0: float, y0: float, x1: float, y1: float) -> None:
        cv2.rectangle(mask, (int(x0 * px_per_mm), int(y0 * px_per_mm)), (int(x1 * px_per_mm), int(y1 * px_per_mm)),
                      1, -1)

    for run in page.texts if text else ():
        if not run.text:
            continue
        box = letters_box(run)
        rect(box.x_mm, box.y_mm, box.x_mm + box.w_mm, box.y_mm + box.h_mm)
    for f in page.fields if lines else ():
        for b in field_boxes(f):
            cv2.rectangle(mask, (int(b.x_mm * px_per_mm), int(b.y_mm * px_per_mm)),
                          (int((b.x_mm + b.w_mm) * px_per_mm), int((b.y_mm + b.h_mm) * px_per_mm)), 1, 1)
        if isinstance(f, TextField):
            for y in f.baselines_y_mm:
                rect(f.box.x_mm, y, f.box.x_mm + f.box.w_mm, y)
        if isinstance(f, LineField):
            rect(f.x1_mm, f.y1_mm, f.x2_mm, f.y2_mm)
    for stroke in page.strokes if lines else ():
        cv2.line(mask, (int(stroke.x1_mm * px_per_mm), int(stroke.y1_mm * px_per_mm)),
                 (int(stroke.x2_mm * px_per_mm), int(stroke.y2_mm * px_per_mm)), 1, 1)
    return mask


def common_print(page: Page, px_per_mm: float, shape: tuple[int, int] | None = None) -> np.ndarray:
    """0 where every page prints (markers, QR and the serial under it, each 1 mm wider), else 1: no evidence
    for one layout over another, and no handwriting. A mask in page coordinates at ``px_per_mm`` (of
    ``shape``, rows and columns, if given)."""
    keep = np.ones(shape or (int(page.height_mm * px_per_mm), int(page.width_mm * px_per_mm)), np.uint8)
    q = page.qr
    spots = [(m.x_mm, m.y_mm, m.size_mm, m.size_mm) for m in page.markers]
    spots.append((q.x_mm - q.quiet_mm, q.y_mm - q.quiet_mm, q.size_mm + 2 * q.quiet_mm, q.size_mm + 2 * q.quiet_mm + 6))
    for x, y, w, h in spots:
        cv2.rectangle(keep, (int((x - 1) * px_per_mm), int((y - 1) * px_per_mm)),
                      (int((x + w + 1) * px_per_mm), int((y + h + 1) * px_per_mm)), 0, -1)
    return keep


def print_match(grey: np.ndarray, page: Page, reg: Registration, px_per_mm: float = MATCH_PX_PER_MM) -> float:
    """How well the ink in the image matches what ``page`` prints (F1 of the two masks, 0..1): the right
    layout explains most of the ink and finds ink wherever it prints; another layout does neither."""
    canonical_to_mm = np.diag([1 / px_per_mm, 1 / px_per_mm, 1.0])
    size = (int(page.width_mm * px_per_mm), int(page.height_mm * px_per_mm))
    small = cv2.warpPerspective(grey, reg.mm_to_px @ canonical_to_mm, size,
                                flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderValue=255)
    keep = common_print(page, px_per_mm)
    seen = ink_mask(small, px_per_mm, 0.15).astype(np.uint8) & keep
    expected = expected_print(page, px_per_mm) & keep
    near = np.ones((3, 3), np.uint8)
    hit_seen = float((seen & cv2.dilate(expected, near)).sum())
    hit_expected = float((expected & cv2.dilate(seen, near)).sum())
    if not seen.any() or not expected.any():
        return 0.0
    precision, recall = hit_seen / seen.sum(), hit_expected / expected.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def identify(grey: np.ndarray, found: Markers, candidates: list[Layout]) -> Identified | str:
    """The page's identity from its print among the ``candidates`` (every installed layout), or the reason
    it cannot be told."""
    ranked: list[tuple[float, str, int, str, Page, Registration]] = []
    for layout in candidates:
        for page in layout.pages:
            reg = register(page, found)
            if reg is None or reg.error_mm > MAX_ERROR_MM:
                continue
            ranked.append((print_match(grey, page, reg), layout.form, layout.version, layout.variant, page, reg))
    if not ranked:
        return "the markers fit no installed form"
    ranked.sort(key=lambda r: -r[0])
    best = ranked[0]
    if best[0] < MIN_EVIDENCE:
        return "no installed form's boxes and lines match the page"
    runner_up = next((r for r in ranked[1:] if (r[1], r[4].number) != (best[1], best[4].number)), None)
    if runner_up is not None and best[0] < CLEAR_WINNER * runner_up[0]:
        return (f"the page looks like both '{best[1]}' page {best[4].number} and '{runner_up[1]}' page "
                f"{runner_up[4].number}")
    evidence, form, version, variant, page, reg = best
    try:
        readings = read_printed_serial(grey, page, reg)
    except OcrUnavailable as exc:
        return f"'{form}' page {page.number}, but the printed code could not be read: {exc}"
    code = readings.agreed
    if not code:
        return (f"'{form}' page {page.number}, but no two readings of the printed code agree on one that checks "
                f"out ({readings.describe()})")
    payload = PagePayload(form, version, page.number, variant, code, page.fingerprint)
    return Identified(payload, page, readings.describe())


@dataclass(frozen=True)
class SerialReadings:
    """What each reader made of the serial printed under the QR code (normalised, no separators)."""

    readings: tuple[tuple[str, str], ...]  # (reader, code)

    @property
    def agreed(self) -> str:
        """The serial at least two readings give, checking out, when no reading gives another that checks
        out; ``""`` otherwise. A reading wrong in two characters passes the check character about one time
        in 24 (one character of the alphabet makes any string check out). Measured on 120 stained 3 MP
        photos: taking the first reading that checked out identified 1 page wrongly; two agreeing, none."""
        valid = Counter(code for _, code in self.readings if is_valid_serial(code))
        if len(valid) != 1:
            return ""
        code, votes = valid.most_common(1)[0]
        return code if votes >= 2 else ""

    def describe(self) -> str:
        return ", ".join(f"{reader} '{code}'" for reader, code in self.readings)


def read_printed_serial(grey: np.ndarray, page: Page, reg: Registration) -> SerialReadings:
    """The serial printed under the QR code as four readers see it: glyphs cut apart and matched with the
    font's shapes, Tesseract at a few sizes (its reading of the same print changes with its size), glyphs
    cut apart and matched in grey with the font blurred as the print is (tells a blurred M from an H), and
    the whole string drawn and matched (for letters that blur together; the slowest, about a second).
    Readers run until two readings agree."""
    run = page.serial_text
    size_mm = run.size_pt * PT_MM
    # Most serials fit 0.72 em a character; a run of wide letters (W, M) does not. A wider crop for all
    # takes in more of a photo's uneven paper and read fewer 3 MP photos (43 of 60 against 48), so it is
    # used only when the print reaches the narrow crop's ends.
    grey_crop, crop = _serial_crop(grey, run, reg, 0.5 * (SERIAL_LENGTH + 1) * 0.72 * size_mm + 1.5)
    if _reaches_ends(crop):
        widest = max(ALPHABET, key=lambda c: width_mm(c, run.size_pt, bold=True))
        all_wide = widest * (SERIAL_LENGTH // 2) + "-" + widest * (SERIAL_LENGTH // 2)
        grey_crop, crop = _serial_crop(grey, run, reg, 0.5 * width_mm(all_wide, run.size_pt, True) + 1.0)

    def tesseract(scale: float) -> str:
        small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return normalise_serial(read_text(small, "eng", single_line=True, whitelist=ALPHABET + "-").text)

    readers: list[tuple[str, Callable[[], str]]] = [("glyphs", lambda: read_code(255 - crop)[0]
                                                     or read_code_grey(grey_crop)[0])]
    readers += [(f"tesseract x{scale}", lambda scale=scale: tesseract(scale)) for scale in SERIAL_OCR_SCALES]
    em_px = size_mm * OCR_PX_PER_MM
    readers.append(("matched", lambda: read_code_matched(grey_crop, em_px)[0]))
    readers.append(("drawn", lambda: decode_code(grey_crop, em_px)[0]))
    readings: list[tuple[str, str]] = []
    for name, read in readers:  # cheapest first; stop at the first agreement
        readings.append((name, read()))
        if SerialReadings(tuple(readings)).agreed:
            break
    return SerialReadings(tuple(readings))


def _serial_crop(grey: np.ndarray, run: TextRun, reg: Registration, half_w_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The printed serial's line, ``half_w_mm`` either side of its centre, at ``OCR_PX_PER_MM``: grey, and
    binarised (ink 0) with a ``CROP_BORDER_PX`` white border (Tesseract reads better with paper around)."""
    size_mm = run.size_pt * PT_MM
    # from just above the capitals (the QR's quiet zone is above) to below the tails of J and Q
    x0, y0 = run.x_mm - half_w_mm, run.y_mm - 0.73 * size_mm - 0.5
    w_mm, h_mm = 2 * half_w_mm, 0.98 * size_mm + 1.0
    crop_to_mm = np.array([[1 / OCR_PX_PER_MM, 0, x0], [0, 1 / OCR_PX_PER_MM, y0], [0, 0, 1]])
    size = (int(w_mm * OCR_PX_PER_MM), int(h_mm * OCR_PX_PER_MM))
    grey_crop = cv2.warpPerspective(grey, reg.mm_to_px @ crop_to_mm, size,
                                    flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderValue=255)
    crop = cv2.threshold(cv2.GaussianBlur(grey_crop, (0, 0), 0.8), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    b = CROP_BORDER_PX
    return grey_crop, cv2.copyMakeBorder(crop, b, b, b, b, cv2.BORDER_CONSTANT, value=255)


def _reaches_ends(crop: np.ndarray) -> bool:
    """Whether the print in a ``_serial_crop`` binary has ink in the first or last two columns of the
    image inside its white border: letters may go on beyond it."""
    b = CROP_BORDER_PX
    inside = crop[b:-b, b:-b]
    return bool((inside[:, :2] == 0).any() or (inside[:, -2:] == 0).any())
