"""Handwritten fields: digit boxes, date boxes (DD MM YYYY) and free text, read into values with a
confidence; anything uncertain goes to review with the guess shown.

Blank or written is decided by ink, never by a recogniser: a box with no ink is blank, a box with a
trace of ink too small to be a digit is sent to review, not read as blank.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import cv2
import numpy as np

from formkit.layout.model import Box, BoxesField, TextField
from formkit.records import FieldValue

from . import areas, digits, one_digit, placement
from .dates import (
    EVEN_ODDS,
    RAW_MONTH_FIRST,
    log_probabilities,
    month_first,
    most_likely_date,
    plausible_years,
    spelt,
)
from .ink import ink_mask, without_printed_lines
from .ocr import OcrUnavailable, read_text
from .register import WARP_PX_PER_MM

TRACE_MM2 = 0.15  # less ink than this in a digit box is dust or a border remnant: blank
TEXT_ACCEPT = 0.90  # a reading with a word less sure than this is reported as unsure (all go to review)
# Tesseract reads best with letters 20-40 px high and takes longer the more pixels it is given. It is given
# the handwriting alone, cut out at the registered page's 8 px/mm: measured 2026-12-03 on 750 synthetic
# handwritten comments (benchmarks/throughput.py's pages), 1.81 % of characters wrong in 15.3 ms a comment,
# against 2.33 % in 18.3 ms enlarged to 12 px/mm (and, 2026-12-02, the whole area at 16 px/mm: 39-42 ms).
TEXT_MARGIN_MM = 1.0  # paper kept around the handwriting for Tesseract
SHORT_TEXT_CHARS = 2  # readings this short are flagged whatever their confidence


def read_boxes_fields(page: np.ndarray, fields: list[BoxesField], px_per_mm: float = WARP_PX_PER_MM
                      ) -> dict[str, FieldValue]:
    """Digit and date fields of one registered page; every written box of the page goes through the
    recogniser in one batch."""
    inks: dict[str, list[digits.BoxInk]] = {}
    images, owners = [], []
    offsets: dict[str, list[tuple[float, float]]] = {}
    for f in fields:
        side = digits.side_margin_mm(f.boxes)
        offsets[f.id] = placement.box_offsets_mm(page, list(f.boxes), px_per_mm)  # a page that does not lie flat
        inks[f.id] = [digits.box_ink(page, placement.moved(b, offset), px_per_mm, side)
                      for b, offset in zip(f.boxes, offsets[f.id], strict=True)]
        for i, ink in enumerate(inks[f.id]):
            if ink.ink_mm2 >= areas.INK_MM2:
                images.append(digits.normalise(ink.soft))
                owners.append((f.id, i))
    # a page without handwriting never loads the networks
    guesses = dict(zip(owners, digit_guesses(np.stack(images)), strict=True)) if images else {}
    accept = digits.accept_probability() if images else 1.0
    date_share = digits.accept_date_share() if images else 1.0
    readings = {f.id: [_box_reading(ink, guesses.get((f.id, i))) for i, ink in enumerate(inks[f.id])]
                for f in fields}
    _mark_fainter(readings)
    out = {}
    for f in fields:
        boxes = readings[f.id]
        if f.kind == "date":
            out[f.id] = _resolve_date(f, boxes, accept, date_share)
        else:
            out[f.id] = _resolve_digits(f, boxes, accept)
        placement.record_offsets(out[f.id].raw, offsets[f.id])
    return out


# A digit written far fainter than the page's others is what a rubber left of it: read as a digit at p 1.0 (a
# GAS weight rubbed out, the field left blank, read "3", 2026-12-07). Judged against the page's firmest written
# box, given this many written boxes; a box this share as dark or less, and no darker than FAINTER_AT_MOST,
# goes to review. The firmest, not the median: where most of the page's digits were rubbed out, their median
# is a rubbed-out one (three GAS weights of four rubbed out, two read at p 0.99-1.0, unflagged, against the
# median of 2026-12-07). Measured 2026-12-07 on 30 pages each of seven capture conditions: what a rubber
# left, 0.30-0.42 of the median (0.21-0.30 dark); digits written, 0.50 at the least (a JPEG at quality 20),
# 0.64-0.71 in pencil at 45-80 % strength and in 3 MP photos of pencil, 0.17 dark at the least. Against the
# firmest, later that day, 40 pages each of four conditions of rubbed-out and pencil digits and 30 each of six
# captures (scan_accuracy.py's; 914 written boxes): every rubbed-out box left unflagged before flagged (4 of 4),
# no written box flagged that was not flagged already for something else.
FAINTER_MIN_BOXES = 2
FAINTER_SHARE = 0.45
FAINTER_AT_MOST = 0.35


def _mark_fainter(readings: dict[str, list[dict]]) -> None:
    """Mark, in place, each written box of the page's digit and date fields (``readings``, as ``_box_reading``
    gives them) whose strokes are ``FAINTER_SHARE`` as dark as the page's firmest written box or less, and
    ``FAINTER_AT_MOST`` at most (``fainter``): ``_stray_ink`` flags them."""
    strengths = [b["strength"] for boxes in readings.values() for b in boxes if b["digit"] is not None]
    if len(strengths) < FAINTER_MIN_BOXES:
        return
    least = min(FAINTER_SHARE * max(strengths), FAINTER_AT_MOST)
    for boxes in readings.values():
        for b in boxes:
            if b["digit"] is not None and b["strength"] <= least:
                b["fainter"] = True


def digit_guesses(images: np.ndarray) -> list[tuple[int, np.ndarray, float, bool]]:
    """Per normalised box image (``digits.normalise``): the digit read, its probabilities as far as they can
    be trusted (``digits.recognise``), the networks' own probability of that digit, and whether the box may
    hold something other than one digit (``one_digit.not_one_digit``)."""
    readings = digits.recognise(images)
    other = one_digit.not_one_digit(images, list(readings.features))
    return [(int(readings.digit[i]), readings.trusted[i], float(readings.probabilities[i].max()), bool(other[i]))
            for i in range(len(images))]


def read_one_box(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM,
                 side_margin_mm: float = digits.MARGIN_MM) -> tuple[dict, list[str]]:
    """The handwriting in ``box`` of the registered grey ``page`` read as a digit field's box is
    (``digits.box_ink``, the networks and the not-one-digit judge, ``_box_reading``), and why a one-box field
    holding it would go to review (``_doubts``, ``_stray_ink``): a digit is read as surely as in its boxes only
    when the reading's ``digit`` is not None and there is no reason. For writing beside a field
    (``beside``'s score beside a choice's row)."""
    ink = digits.box_ink(page, box, px_per_mm, side_margin_mm)
    guess = digit_guesses(digits.normalise(ink.soft)[None])[0] if ink.ink_mm2 >= areas.INK_MM2 else None
    reading = _box_reading(ink, guess)
    return reading, _doubts([reading], digits.accept_probability()) + _stray_ink([reading])


def _box_reading(ink: digits.BoxInk, guess: tuple[int, np.ndarray, float, bool] | None) -> dict:
    """A box as the fields are resolved from it: ``digit`` the networks' reading; ``p`` and ``probs`` as far
    as they can be trusted (``digits.recognise``: lower for a shape unlike the training digits of that
    class), judged against ``digits.accept_probability``; ``p_networks`` the networks' own probability;
    ``not_one_digit`` when the judge (``one_digit``) takes it for something else: struck through, scribbled
    over, written over, two digits. And what the ink says beyond the digit (``_stray_ink`` judges it):
    ``side_by_side`` pieces of ink, ``outside_mm2`` / ``left_mm2`` / ``right_mm2`` of ink reaching into the box
    but mostly outside it, ``faint_mm2`` of ink fainter than the usual cut; ``crease`` when a straight line runs
    through the box and on past it (``digits.creased``)."""
    if guess is not None:
        digit, trusted, p_networks, other = guess
        reading = {"digit": digit, "p": round(float(trusted[digit]), 4), "ink_mm2": round(ink.ink_mm2, 2),
                   "probs": [round(float(q), 4) for q in trusted], "p_networks": round(p_networks, 4)}
        if other:
            reading["not_one_digit"] = True
        if ink.side_by_side > 1:
            reading["side_by_side"] = ink.side_by_side
        if ink.crease:
            reading["crease"] = True
        reading["strength"] = round(ink.strength, 3)
    else:
        faint = ink.faint_mm2 >= areas.INK_MM2  # a digit's worth of ink, only fainter than the usual cut
        state = "trace" if ink.ink_mm2 >= TRACE_MM2 or faint else "blank"
        reading = {"digit": None, "p": 1.0 if state == "blank" else 0.0, "ink_mm2": round(ink.ink_mm2, 2),
                   "state": state}
        if faint:
            reading["faint_mm2"] = round(ink.faint_mm2, 2)
    for key, mm2 in (("outside_mm2", ink.outside_mm2), ("left_mm2", ink.left_mm2), ("right_mm2", ink.right_mm2)):
        if mm2 >= areas.INK_MM2:
            reading[key] = round(mm2, 2)
    return reading


def _stray_ink(boxes: list[dict]) -> list[str]:
    """Why the boxes' digits may not be what was written, whatever the recogniser's confidence: a box
    holding two characters side by side, or something the judge takes for other than one digit (struck
    through, scribbled over, written over, two digits touching), handwriting mostly outside a box (above or
    below it), and ink across a box's side that the box beside it does not take as its digit (a digit written
    between two boxes, or beside the last), and a line running through a box and on beyond it (a fold or crease,
    read as a "1" in an empty box). None of these can be decided by a template's range or the calendar."""
    reasons = []
    creased = [str(i + 1) for i, b in enumerate(boxes) if b.get("crease")]
    if creased:
        reasons.append(f"a line runs through box {', '.join(creased)} and beyond: a fold or crease?")
    fainter = [str(i + 1) for i, b in enumerate(boxes) if b.get("fainter")]
    if fainter:
        reasons.append(f"box {', '.join(fainter)} written far fainter than the page's other digits: rubbed out?")
    several = [str(i + 1) for i, b in enumerate(boxes) if b.get("side_by_side", 1) > 1]
    if several:
        reasons.append(f"more than one character in box {', '.join(several)}")
    other = [str(i + 1) for i, b in enumerate(boxes) if b.get("not_one_digit") and b.get("side_by_side", 1) == 1]
    if other:
        reasons.append(f"box {', '.join(other)} may not hold one digit: struck through, written over, or two digits?")
    written = [b["digit"] is not None for b in boxes]
    outside = []
    for i, b in enumerate(boxes):
        beside_left = b.get("left_mm2") and not (i > 0 and written[i - 1])
        beside_right = b.get("right_mm2") and not (i + 1 < len(boxes) and written[i + 1])
        if b.get("outside_mm2") or beside_left or beside_right:
            outside.append(str(i + 1))
    if outside:
        reasons.append(f"writing mostly outside box {', '.join(outside)}")
    return reasons


@cache
def _allowed_numbers(minimum: int, maximum: int, length: int) -> tuple[list[str], np.ndarray]:
    """The values from ``minimum`` to ``maximum`` that fit in ``length`` boxes (zero-padded), as text and
    as one digit per box."""
    allowed = [str(v).zfill(length) for v in range(minimum, maximum + 1) if len(str(v)) <= length]
    return allowed, np.array([[int(c) for c in a] for a in allowed], np.int64).reshape(len(allowed), length)


def _most_likely(boxes: list[dict], candidates: np.ndarray) -> tuple[int, float]:
    """Which of ``candidates`` (N, len(boxes) digits) the boxes' digit probabilities favour, and how sure
    that is, given that only these values can be right: its share of the probability of all candidates.
    Zero unless the network itself gives that value at least even odds, so something written outside
    the allowed values (a 0 where 1-9 is asked) is never turned into an allowed one."""
    log_p = log_probabilities([b["probs"] for b in boxes])
    scores = log_p[np.arange(len(boxes)), candidates].sum(axis=1)
    best = int(scores.argmax())
    if scores[best] < EVEN_ODDS:
        return best, 0.0
    return best, float(1.0 / np.exp(scores - scores[best]).sum())


def _doubts(boxes: list[dict], accept: float) -> list[str]:
    reasons = []
    unsure = [str(i + 1) for i, b in enumerate(boxes) if b["digit"] is not None and b["p"] < accept]
    if unsure:
        reasons.append(f"digit(s) in box {', '.join(unsure)} unclear")
    traces = [str(i + 1) for i, b in enumerate(boxes) if b.get("state") == "trace"]
    if traces:
        reasons.append(f"a faint mark in box {', '.join(traces)}")
    return reasons


def _unsure(reasons: list[str], what: str, share: float, needed: float) -> None:
    """Why a value that nothing else flags still goes to review: the likeliest allowed value has only
    ``share`` of the weight, short of the threshold ``needed``. Eight digits each just over that threshold
    make a date far less sure than any one of them, so a date or ranged number is never accepted on its
    digits alone (measured 2026-12-02, 1,500 dates a source, benchmarks/handwriting_accuracy.py --only
    dates: wrong dates accepted 6, 3, 7 -> 5, 3, 7 for MNIST, USPS, optdigits; accepted and right 73.7,
    65.3, 26.3 % -> 73.5, 65.1, 26.3 %)."""
    if not reasons:
        # one decimal: with 99.35 % needed, a share of 98.7 % would print as the 99 % it falls short of
        reasons.append(f"unsure which {what}: the likeliest has {share:.1%} of the weight ({needed:.1%} needed)")


def _confidence(boxes: list[dict]) -> float:
    return float(np.prod([b["p"] for b in boxes]))


def _resolve_digits(f: BoxesField, boxes: list[dict], accept: float) -> FieldValue:
    written = [i for i, b in enumerate(boxes) if b["digit"] is not None]
    stray = _stray_ink(boxes)
    reasons = _doubts(boxes, accept) + stray
    raw = {"boxes": boxes}
    if not written and not reasons:
        return FieldValue(f.id, f.kind, "", 0.99, False, "", raw)
    contiguous = bool(written) and written == list(range(written[0], written[-1] + 1))
    if written and not contiguous:
        reasons.append("an empty box between digits")
    value = "".join(str(boxes[i]["digit"]) for i in written)
    bounded = f.minimum is not None and f.maximum is not None and f.maximum - f.minimum < 100_000
    posterior = None
    if contiguous and bounded and not stray and not any(b.get("state") == "trace" for b in boxes):
        # only the template's range can be right: let that decide between a digit's close readings
        allowed, candidates = _allowed_numbers(f.minimum, f.maximum, len(written))  # type: ignore[arg-type]
        if allowed:
            best, posterior = _most_likely([boxes[i] for i in written], candidates)
            if posterior >= accept:
                return FieldValue(f.id, f.kind, allowed[best], posterior, False, "", raw)
    if value and bounded and not f.minimum <= int(value) <= f.maximum:  # type: ignore[operator]
        reasons.append(f"{value} is outside {f.minimum}-{f.maximum}")
    if posterior is not None:
        _unsure(reasons, "number", posterior, accept)
    return _value(f, value, boxes, reasons, raw)


def _resolve_date(f: BoxesField, boxes: list[dict], accept: float, date_share: float) -> FieldValue:
    """Boxes DD MM YYYY. A single digit in the day or month pair is that number (5 -> 05), unless it is
    in the pair's first box and could begin a two-digit day or month (1_ is 1, or 10-19: to review).
    ``accept``: a
    digit's threshold (``digits.accept_probability``); ``date_share``: the likeliest date's
    (``digits.accept_date_share``)."""
    raw = {"boxes": boxes}
    stray = _stray_ink(boxes)
    reasons = _doubts(boxes, accept) + stray
    digit = [b["digit"] for b in boxes]
    if all(d is None for d in digit) and not reasons:
        return FieldValue(f.id, f.kind, "", 0.99, False, "", raw)
    # the years depend on the day the page is read: kept with the value, as the bound it was judged by
    years = raw["years"] = plausible_years()
    # digits that make a date only month first, the month boxes' (over 12) read plainly: the date was written that
    # way round (its page's other dates are judged with that in mind, dates.judge_dates), and no day-first date
    # near it is taken for it. A month digit in doubt is left to the calendar, as before: a correctly written date
    # whose month is misread (10 as 16) can look month first
    plain = all(b["digit"] is not None and b["p"] >= accept for b in boxes[2:4])
    american = month_first(digit) if plain else None
    if american is not None:
        raw[RAW_MONTH_FIRST] = american.isoformat()
    posterior = None
    if all(d is not None for d in digit) and not stray:
        # only real dates in range can be right: let that decide between a digit's close readings
        best, posterior = most_likely_date(np.array([b["probs"] for b in boxes]), years)
        if posterior >= date_share and american is None:
            return FieldValue(f.id, f.kind, best, posterior, False, "", raw)
    day, month, year = digit[0:2], digit[2:4], digit[4:8]
    parts = []
    for (name, group), first, tens in ((("day", day), 1, 3), (("month", month), 3, 1)):
        present = [d for d in group if d is not None]
        if not present:
            reasons.append(f"no {name}")
        elif group[1] is None and 1 <= group[0] <= tens:  # 0_ is no day or month at all: flagged below
            # "1_": a one-digit day written from the left, or a day of 10-19 whose second digit did not reach
            # its box (written beside or below it, too faint): not for the reader to guess
            most = min(9, (31 if name == "day" else 12) - 10 * group[0])  # 3_ is 3, or 30-31
            reasons.append(f"box {first + 1} empty after a {group[0]}: {name} {group[0]}, or "
                           f"{group[0]}0-{group[0]}{most}?")
        parts.append(int("".join(map(str, present))) if present else 0)
    if any(d is None for d in year):
        reasons.append("the year needs four digits")
    guess = ""
    if not any(r.startswith(("no ", "the year")) for r in reasons):
        y = int("".join(map(str, year)))
        try:
            guess = dt.date(y, parts[1], parts[0]).isoformat()
            if not years[0] <= y <= years[1]:
                reasons.append(f"year {y} is implausible (expected {years[0]}-{years[1]})")
        except ValueError:
            hint = f" (written month first? Then it is {spelt(american)})" if american is not None else ""
            reasons.append(f"not a real date: {parts[0]:02d}/{parts[1]:02d}/{y}{hint}")
    if posterior is not None:  # after the reasons above: an implausible year is said as such
        _unsure(reasons, "date", posterior, date_share)
    return _value(f, guess, boxes, reasons, raw)


def _value(f: BoxesField, value: str, boxes: list[dict], reasons: list[str], raw: dict) -> FieldValue:
    if reasons:
        return FieldValue(f.id, f.kind, value, min(0.49, _confidence(boxes)), True, "; ".join(reasons), raw)
    return FieldValue(f.id, f.kind, value, _confidence(boxes), False, "", raw)


def read_text_field(page: np.ndarray, f: TextField, language: str, px_per_mm: float = WARP_PX_PER_MM) -> FieldValue:
    """A free-text area: blank when it holds no handwriting (Tesseract is not called), else Tesseract's
    reading of the handwriting alone (printed lines removed), always to review: the reading is the guess
    the reviewer confirms or corrects.

    In: ``page`` the registered page, 2-D uint8 grey, ``px_per_mm`` pixels per mm; the field's box and
    ruled lines in mm from the page's top-left corner; ``language`` a Tesseract language code ("eng").
    Out: the field's value (the text, '' when blank), a confidence in 0..1 (the weakest word's), the
    review flag and reason, and in ``raw`` the handwriting's area in mm² and each word's confidence."""
    ink_mm2 = areas.ink_area_mm2(page, f.box, ruled_lines_y_mm=f.baselines_y_mm, px_per_mm=px_per_mm)
    raw: dict = {"ink_mm2": round(ink_mm2, 2)}
    if ink_mm2 < areas.INK_MM2:
        return FieldValue(f.id, f.kind, "", 0.95, False, "", raw)
    try:
        found = read_text(_ink_only(page, f.box, f.baselines_y_mm, px_per_mm), language)
    except OcrUnavailable as exc:
        return FieldValue(f.id, f.kind, "", 0.0, True, f"handwriting not read: {exc}", raw)
    raw["words"] = [[w, round(c, 2)] for w, c in found.words]
    if not found.text:
        return FieldValue(f.id, f.kind, "", 0.0, True, "handwriting that OCR could not read", raw)
    if found.confidence < TEXT_ACCEPT:
        return FieldValue(f.id, f.kind, found.text, min(0.49, found.confidence), True, "handwriting: OCR unsure", raw)
    if len("".join(found.text.split())) <= SHORT_TEXT_CHARS:  # a stray mark or stain reads as '/' or 'l'
        return FieldValue(f.id, f.kind, found.text, min(0.49, found.confidence), True,
                          f"only {len(''.join(found.text.split()))} character(s) read: a short answer, or a stray "
                          "mark?", raw)
    # Tesseract is sure of wrong readings of handwriting as often as of right ones ('arc' for 'are'): a
    # reading is a guess for the reviewer, never a value accepted unseen
    return FieldValue(f.id, f.kind, found.text, min(0.49, found.confidence), True,
                      "handwriting: check the machine's reading", raw)


def _ink_only(page: np.ndarray, box: Box, baselines_y_mm: tuple[float, ...], px_per_mm: float) -> np.ndarray:
    """The area's handwriting as black on white, its frame and writing lines removed, cut to the
    handwriting with a margin of ``TEXT_MARGIN_MM``, at the registered page's resolution."""
    region = areas.crop(page, box, px_per_mm=px_per_mm)
    ink = ink_mask(region, px_per_mm)
    lines_y = (0.0, region.shape[0] - 1.0, *((y - box.y_mm) * px_per_mm for y in baselines_y_mm))
    kept = without_printed_lines(ink, lines_y, (0.0, region.shape[1] - 1.0), px_per_mm)
    kept = cv2.dilate(kept.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # the strokes' soft edges
    rows, columns = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    if rows.size:
        margin = int(round(TEXT_MARGIN_MM * px_per_mm))
        top, left = max(0, rows[0] - margin), max(0, columns[0] - margin)
        region, kept = (a[top:rows[-1] + margin + 1, left:columns[-1] + margin + 1] for a in (region, kept))
    clean = np.where(kept, region, 255).astype(np.uint8)
    clean = cv2.normalize(clean, None, 0, 255, cv2.NORM_MINMAX)
    return cv2.copyMakeBorder(clean, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
