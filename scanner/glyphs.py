"""Read the printed serial by matching glyphs: formkit prints it in a font it ships (DejaVu Sans Bold) from
a 24-character alphabet, so each character can be compared with the font's own drawing of every letter.
More reliable than general OCR on a short code of random letters (Tesseract inserts and drops letters)."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from formkit.layout.text import FONT_DIR
from formkit.serial import ALPHABET, SERIAL_LENGTH

CELL = 32  # glyphs are compared at this height, width in proportion


def _normalised(glyph: np.ndarray) -> np.ndarray:
    """A binary glyph (ink 1) scaled to ``CELL`` pixels high, centred in a CELL x CELL float image."""
    h, w = glyph.shape
    width = max(1, min(CELL, int(round(w * CELL / h))))
    scaled = cv2.resize(glyph.astype(np.float32), (width, CELL), interpolation=cv2.INTER_AREA)
    out = np.zeros((CELL, CELL), np.float32)
    left = (CELL - width) // 2
    out[:, left:left + width] = scaled
    return out


@cache
def _font(size_px: int):  # noqa: ANN202 - PIL is imported here only
    """The serial's font (the one the PDF embeds) at ``size_px`` pixels to the em."""
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), max(8, size_px))


@cache
def _templates() -> tuple[np.ndarray, np.ndarray]:
    """Each alphabet character drawn with the font: (normalised images flattened to zero mean and unit
    length, for correlation; their aspect ratios)."""
    images, aspects = [], []
    for char in ALPHABET:
        ink = _glyph(char, 96)[0] > 0.5
        rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
        glyph = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        images.append(_normalised(glyph))
        aspects.append(glyph.shape[1] / glyph.shape[0])
    flat = np.stack(images).reshape(len(images), -1)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.linalg.norm(flat, axis=1, keepdims=True), np.array(aspects)


def read_code(binary: np.ndarray, whole: np.ndarray | None = None) -> tuple[str, float]:
    """The serial in ``binary`` (uint8, ink > 0, one line of print), and the weakest character's match
    margin (0..1); ``("", 0.0)`` when the print does not split into the expected characters.

    ``whole``, if given, is the same print cut at a lighter threshold: ``binary`` (darker) only keeps the
    characters apart, and each character's full strokes are its share of ``whole``, every pixel going to
    the nearest piece of ``binary``."""
    found = _characters(binary, whole)
    return _shape_letters(*found) if found is not None else ("", 0.0)


def _shape_letters(labels: np.ndarray, chars: list[int]) -> tuple[str, float]:
    """The letters whose shapes (``_templates``) the pieces ``chars`` of ``labels`` match best, and the
    weakest margin (see ``_best_letters``)."""
    flat, aspects = _templates()
    scores = []
    for i in chars:
        rows, cols = np.nonzero(labels == i)
        glyph = labels[rows.min():rows.max() + 1, cols.min():cols.max() + 1] == i
        h, w = glyph.shape
        flat_glyph = _normalised(glyph).ravel()
        flat_glyph -= flat_glyph.mean()
        score = flat @ (flat_glyph / max(float(np.linalg.norm(flat_glyph)), 1e-6))
        scores.append(score - 0.5 * np.abs(np.log((w / h) / aspects)))  # a wide glyph is not a narrow letter
    return _best_letters(np.array(scores))


def _characters(binary: np.ndarray, whole: np.ndarray | None) -> tuple[np.ndarray, list[int]] | None:
    """The pieces of ``binary`` that are characters (about as tall as the line: the hyphen and specks are
    not), left to right, as (labels, their numbers); grown over ``whole`` if given (see ``read_code``).
    ``None`` unless there are as many as a serial has."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((binary > 0).astype(np.uint8), connectivity=8)
    if count < 2:
        return None
    height = float(np.median(stats[1:, cv2.CC_STAT_HEIGHT]))
    chars = sorted((i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= 0.7 * height),
                   key=lambda i: stats[i, cv2.CC_STAT_LEFT])
    if len(chars) != SERIAL_LENGTH:
        return None
    if whole is not None:
        labels = _grown(labels, whole > 0, 0.25 * height)
    return labels, chars


def _best_letters(scores: np.ndarray) -> tuple[str, float]:
    """``scores`` (characters × alphabet, higher is better) as the best letters and the smallest margin
    between a character's best and second-best letter."""
    ranked = np.sort(scores, axis=1)
    return "".join(ALPHABET[j] for j in scores.argmax(axis=1)), float((ranked[:, -1] - ranked[:, -2]).min())


def _grown(labels: np.ndarray, whole: np.ndarray, reach_px: float) -> np.ndarray:
    """``labels`` (pieces numbered 1..) grown over the ink of ``whole``: each ink pixel within
    ``reach_px`` takes the number of the nearest piece."""
    seeds = np.where(labels > 0, 0, 255).astype(np.uint8)
    distance, nearest = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    # ``nearest`` numbers seed pixels; map each back to its piece
    piece_of_seed = np.zeros(int(nearest.max()) + 1, labels.dtype)
    piece_of_seed[nearest[labels > 0]] = labels[labels > 0]
    return np.where(whole & (distance <= reach_px), piece_of_seed[nearest], 0)


# Blurred print (a 3 MP photo) runs letters together at the usual threshold; its darker cores stand apart.
SPLIT_LEVELS = (0.55, 0.65, 0.75, 0.85)
BLURS_PX = (1.0, 2.5, 4.0, 6.0, 8.0)  # print blur (Gaussian sigma) at the readers' 16 px/mm


def read_code_grey(grey: np.ndarray) -> tuple[str, float]:
    """``read_code`` on the print in ``grey`` (uint8, one line, dark on light), cut ever darker
    (``SPLIT_LEVELS`` of the way from paper to ink) until its characters come apart, each character's
    strokes then taken whole from the cut at half way."""
    observed = _darkness(grey)
    found = _cut_apart(observed, SPLIT_LEVELS) if observed is not None else None
    return _shape_letters(*found) if found is not None else ("", 0.0)


def _cut_apart(observed: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, list[int]] | None:
    """The serial's characters in ``observed`` (darkness 0..1), cut at the first of ``levels`` at which they
    come apart, each then grown over the cut at half way: (labels, the characters' numbers) as
    ``_characters`` gives them, or ``None``."""
    whole = (observed > 0.5).astype(np.uint8)
    return next((found for level in levels
                 if (found := _characters((observed > level).astype(np.uint8), whole)) is not None), None)


MATCH_SHIFT_PX = 8  # how far a letter's centre may lie from its piece's
HALO_PX = 7  # a piece's grey edge, below the half-darkness cut that shapes it


def read_code_matched(grey: np.ndarray, em_px: float) -> tuple[str, float]:
    """The serial in ``grey`` (uint8, one line, dark on light, printed at ``em_px``) read a character at a
    time by comparing the darkness itself with every letter drawn at its printed size and blurred as the
    print is. A blurred M and H, or K and X, threshold to the same shape, but their grey differs where
    the M's middle strokes and the X's crossing are. Characters are cut apart as by ``read_code_grey``;
    the blur is the one that best fits all of them.

    Returns the letters and the smallest margin between a character's best and second-best cosine
    similarity; ``("", 0.0)`` when the print does not come apart into the serial's characters."""
    observed = _darkness(grey)
    found = _cut_apart(observed, (0.5, *SPLIT_LEVELS)) if observed is not None else None
    if found is None:
        return "", 0.0
    labels, chars = found
    em = int(round(em_px))
    letters = {blur: [_blurred_letter(char, em, blur) for char in ALPHABET] for blur in BLURS_PX}
    # room around each piece for the largest letter at any shift: pieces are padded once, not per letter
    reach = MATCH_SHIFT_PX + max(max(letter.shape) for row in letters.values() for letter, _, _ in row)
    pieces = []
    for i in chars:
        piece = _isolated(observed, labels, i)
        pieces.append((np.pad(piece, reach), _centre(piece), max(float(np.linalg.norm(piece)), 1e-6)))
    scored = [_match_scores(pieces, letters[blur], reach) for blur in BLURS_PX]
    return _best_letters(max(scored, key=lambda scores: float(scores.max(axis=1).sum())))


def _isolated(observed: np.ndarray, labels: np.ndarray, number: int) -> np.ndarray:
    """The darkness around piece ``number`` of ``labels`` with its neighbours' ink taken out, its blurred
    edge (``HALO_PX`` beyond the piece) kept: cropped to the piece plus a margin."""
    piece = (labels == number).astype(np.uint8)
    margin = MATCH_SHIFT_PX + 4
    halo = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HALO_PX + 1, 2 * HALO_PX + 1))
    near = cv2.dilate(piece, halo) > 0
    others = cv2.dilate(((labels > 0) & (labels != number)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    rows, cols = np.nonzero(piece)
    y0, x0 = max(0, int(rows.min()) - margin), max(0, int(cols.min()) - margin)
    kept = np.where(near & ~(others & (piece == 0)), observed, 0).astype(np.float32)
    return kept[y0:int(rows.max()) + margin + 1, x0:int(cols.max()) + margin + 1]


Letter = tuple[np.ndarray, tuple[float, float], float]  # a blurred letter, its centre of mass, its norm
Piece = tuple[np.ndarray, tuple[float, float], float]  # padded by ``reach``, its centre unpadded, its norm


def _match_scores(pieces: list[Piece], letters: list[Letter], reach: int) -> np.ndarray:
    """Cosine similarity (pieces × letters) of each piece with each letter, the letter placed where it fits
    best within ``MATCH_SHIFT_PX`` of the piece's centre. Taken over the whole piece, so ink the letter
    does not explain counts against it."""
    r = MATCH_SHIFT_PX
    scores = np.zeros((len(pieces), len(letters)), np.float32)
    for k, (padded, (cy, cx), piece_norm) in enumerate(pieces):
        for j, (letter, (ty, tx), letter_norm) in enumerate(letters):
            th, tw = letter.shape
            y0 = min(max(0, int(round(cy - ty)) - r + reach), padded.shape[0] - th - 2 * r)
            x0 = min(max(0, int(round(cx - tx)) - r + reach), padded.shape[1] - tw - 2 * r)
            window = padded[y0:y0 + th + 2 * r, x0:x0 + tw + 2 * r]
            scores[k, j] = float(cv2.matchTemplate(window, letter, cv2.TM_CCORR).max()) / (letter_norm * piece_norm)
    return scores


@cache
def _blurred_letter(char: str, em_px: int, blur_px: float) -> Letter:
    """``char`` drawn at ``em_px`` (ink 1), cropped to its ink, blurred by ``blur_px`` with room for the
    blur; its centre of mass (row, column) and its norm."""
    image = _glyph(char, em_px)[0]
    rows = np.nonzero(image.max(axis=1) > 0)[0]
    pad = int(3 * blur_px) + 1
    letter = cv2.GaussianBlur(np.pad(image[rows.min():rows.max() + 1], pad), (0, 0), blur_px)
    return letter, _centre(letter), float(np.linalg.norm(letter))


def _centre(image: np.ndarray) -> tuple[float, float]:
    """The centre of mass (row, column) of ``image``."""
    total = max(float(image.sum()), 1e-6)
    return (float(image.sum(axis=1) @ np.arange(image.shape[0])) / total,
            float(image.sum(axis=0) @ np.arange(image.shape[1])) / total)


def _darkness(grey: np.ndarray) -> np.ndarray | None:
    """``grey`` as 0 (paper) .. 1 (the darkest print); ``None`` when it holds no clear print."""
    paper, ink_level = np.percentile(grey, 90), np.percentile(grey, 2)
    if paper - ink_level < 40:
        return None
    return np.clip((paper - grey.astype(np.float32)) / (paper - ink_level), 0, 1)


BEAM = 6
MIN_EM_PX = 6  # the font drawn smaller has letters of a pixel or none (an em of 1 px raised ValueError)
FIRST_SHIFTS_PX = [(dx, dy) for dx in (-4, -2, 0, 2, 4) for dy in (-2, 0, 2)]


def decode_code(grey: np.ndarray, em_px: float) -> tuple[str, float]:
    """The serial in ``grey`` (uint8, one line of print, dark on light) when its characters touch and
    cannot be cut apart: candidate strings are drawn whole with the font at ``em_px`` and compared with
    the image, a character at a time (a beam search), the hyphen where it is printed. A small error of
    registration makes the print a little wider or narrower than ``em_px`` says, which puts the last
    letters off by a stroke's width: so the string found is drawn again, the print's width measured
    against it, and the search run once more at the size that fits. Returns the best string and its
    mean squared difference (0 = a perfect match)."""
    observed = _darkness(grey)
    if observed is None or em_px < MIN_EM_PX:  # print this small (a page seen far too small) draws no letters
        return "", 1.0
    rows, cols = _print_span(observed)
    if rows.size == 0 or cols.size == 0:
        return "", 1.0
    first = (int(rows.min()), int(cols.min()))
    found = _beam_search(observed, first, em_px)
    drawn_cols = _print_span(_string(found[1], int(round(em_px))))[1]
    fitted_em_px = em_px * (int(cols.max()) - int(cols.min()) + 1) / (drawn_cols.max() - drawn_cols.min() + 1) \
        if drawn_cols.size else 0.0
    # a sliver of the code (the rest under a label) fits letters too small to draw: no second search
    if fitted_em_px >= MIN_EM_PX:
        found = min(found, _beam_search(observed, first, fitted_em_px))
    return found[1].replace("-", ""), found[0]


def _print_span(darkness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of ``darkness`` (0..1) with at least 3 pixels of ink: specks are not print."""
    ink = darkness > 0.5
    return np.nonzero(ink.sum(axis=1) >= 3)[0], np.nonzero(ink.sum(axis=0) >= 3)[0]


@cache
def _glyph(char: str, em_px: int) -> tuple[np.ndarray, int, float]:
    """``char`` drawn white on black (float 0..1) with the serial's font, cropped to its ink; the column
    of its first ink after the pen position, and its advance in pixels."""
    from PIL import Image, ImageDraw

    font = _font(em_px)
    canvas = Image.new("L", (3 * em_px, 2 * em_px), 0)
    ImageDraw.Draw(canvas).text((em_px, em_px // 2), char, fill=255, font=font)
    image = np.asarray(canvas, np.float32) / 255
    cols = np.nonzero(image.max(axis=0) > 0)[0]
    return image[:, cols.min():cols.max() + 1], int(cols.min()) - em_px, float(font.getlength(char))


def _string(text: str, em_px: int) -> np.ndarray:
    """``text`` as the PDF prints it: each character at the sum of the advances before it, unkerned (Pillow
    would kern pairs such as "KC" or "AT" by up to a tenth of a letter, and the letters after would not
    line up). Rows as in ``_glyph``; column 0 is the first character's pen position."""
    pen, placed = 0.0, []
    for char in text:
        image, offset, advance = _glyph(char, em_px)
        placed.append((int(round(pen)) + offset, image))
        pen += advance
    left = min(0, *(x for x, _ in placed))
    out = np.zeros((2 * em_px, max(x + g.shape[1] for x, g in placed) - left + 1), np.float32)
    for x, image in placed:
        np.maximum(out[:, x - left:x - left + image.shape[1]], image, out=out[:, x - left:x - left + image.shape[1]])
    return out


def _beam_search(observed: np.ndarray, first_ink: tuple[int, int], em_px: float) -> tuple[float, str]:
    """(cost, text with the hyphen) of the string drawn at ``em_px`` that best matches ``observed``, whose
    first ink is at ``first_ink`` (row, column). Blur makes the first ink of the print a little earlier or
    later than the drawing's, so each first character is tried at a few offsets around it."""
    h, w = observed.shape
    em = int(round(em_px))

    def cost(text: str, blur: float, shift: tuple[int, int], whole: bool = False) -> float:
        drawn = _string(text, em)
        ys, xs = np.nonzero(drawn > 0.5)
        if xs.size == 0:
            return 1.0
        dx, dy = first_ink[1] - int(xs.min()) + shift[0], first_ink[0] - int(ys.min()) + shift[1]
        placed = cv2.warpAffine(drawn, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
        placed = cv2.GaussianBlur(placed, (0, 0), blur)
        left = max(0, first_ink[1])
        end = w if whole else min(w, dx + drawn.shape[1] + 2)
        drawn_part, seen_part = placed[:, left:end], observed[:, left:end]
        # blurred print is greyer than the drawing: compare after fitting the drawing's darkness
        gain = float(np.clip((drawn_part * seen_part).sum() / max(float((drawn_part ** 2).sum()), 1e-6), 0.5, 1.5))
        return float(np.mean((gain * drawn_part - seen_part) ** 2))

    blur = min(BLURS_PX, key=lambda b: min(cost(c, b, (0, 0)) for c in ALPHABET))
    beam = sorted(min((cost(c, blur, s), c, s) for s in FIRST_SHIFTS_PX) for c in ALPHABET)[:BEAM]
    for position in range(1, SERIAL_LENGTH):
        grown = []
        for _, prefix, shift in beam:
            base = prefix + ("-" if position == SERIAL_LENGTH // 2 else "")
            grown += [(cost(base + c, blur, shift), base + c, shift) for c in ALPHABET]
        beam = sorted(grown)[:BEAM]
    return min((cost(text, blur, shift, whole=True), text) for _, text, shift in beam)
