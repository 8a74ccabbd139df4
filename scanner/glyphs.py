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
def _templates() -> tuple[np.ndarray, np.ndarray]:
    """Each alphabet character drawn with the font: (normalised images flattened to zero mean and unit
    length, for correlation; their aspect ratios)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), 96)
    images, aspects = [], []
    for char in ALPHABET:
        canvas = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(canvas).text((30, 10), char, fill=255, font=font)
        ink = np.asarray(canvas) > 127
        ys, xs = np.nonzero(ink)
        glyph = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        images.append(_normalised(glyph))
        aspects.append(glyph.shape[1] / glyph.shape[0])
    flat = np.stack(images).reshape(len(images), -1)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.linalg.norm(flat, axis=1, keepdims=True), np.array(aspects)


def read_code(binary: np.ndarray) -> tuple[str, float]:
    """The serial in ``binary`` (uint8, ink > 0, one line of print), and the weakest character's match
    margin (0..1); ``("", 0.0)`` when the print does not split into the expected characters."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((binary > 0).astype(np.uint8), connectivity=8)
    pieces = [stats[i] for i in range(1, count)]
    if not pieces:
        return "", 0.0
    height = float(np.median([p[cv2.CC_STAT_HEIGHT] for p in pieces]))
    # characters: about as tall as the line; the hyphen and specks are not
    chars = sorted((p for p in pieces if p[cv2.CC_STAT_HEIGHT] >= 0.7 * height), key=lambda p: p[cv2.CC_STAT_LEFT])
    if len(chars) != SERIAL_LENGTH:
        return "", 0.0
    flat, aspects = _templates()
    text, weakest = "", 1.0
    for x, y, w, h, _ in chars:
        glyph = _normalised(binary[y:y + h, x:x + w] > 0).ravel()
        glyph = glyph - glyph.mean()
        scores = flat @ (glyph / max(float(np.linalg.norm(glyph)), 1e-6))
        scores -= 0.5 * np.abs(np.log((w / h) / aspects))  # a wide glyph is not a narrow letter
        best, second = np.sort(scores)[::-1][:2]
        text += ALPHABET[int(scores.argmax())]
        weakest = min(weakest, float(best - second))
    return text, weakest


BEAM = 6
BLURS_PX = (1.0, 2.5, 4.0)


def decode_code(grey: np.ndarray, em_px: float) -> tuple[str, float]:
    """The serial in ``grey`` (uint8, one line of print, dark on light) when its characters touch and
    cannot be cut apart: candidate strings are drawn whole with the font at ``em_px`` and compared with
    the image, a character at a time (a beam search), the hyphen where it is printed. Returns the best
    string and its mean squared difference (0 = a perfect match)."""
    from PIL import Image, ImageDraw, ImageFont

    paper, ink_level = np.percentile(grey, 90), np.percentile(grey, 2)
    if paper - ink_level < 40:
        return "", 1.0
    observed = np.clip((paper - grey.astype(np.float32)) / (paper - ink_level), 0, 1)
    ink = observed > 0.5
    rows, cols = np.nonzero(ink.sum(axis=1) >= 3)[0], np.nonzero(ink.sum(axis=0) >= 3)[0]  # specks are not print
    if rows.size == 0 or cols.size == 0:
        return "", 1.0
    top, left = int(rows.min()), int(cols.min())
    h, w = observed.shape
    font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), max(8, int(round(em_px))))
    margin = int(em_px)

    def cost(text: str, blur: float, whole: bool = False) -> float:
        canvas = Image.new("L", (w + 2 * margin, h + margin), 0)
        ImageDraw.Draw(canvas).text((margin, margin // 2), text, fill=255, font=font)
        drawn = np.asarray(canvas, np.float32) / 255
        ys, xs = np.nonzero(drawn > 0.5)
        # the drawing's first ink where the image's first ink is
        shift = np.float32([[1, 0, left - xs.min()], [0, 1, top - ys.min()]])
        placed = cv2.GaussianBlur(cv2.warpAffine(drawn, shift, (w, h)), (0, 0), blur)
        end = w if whole else min(w, left + int(font.getlength(text)) + 2)
        return float(np.mean((placed[:, left:end] - observed[:, left:end]) ** 2))

    blur = min(BLURS_PX, key=lambda b: min(cost(c, b) for c in ALPHABET))
    beam: list[tuple[float, str]] = [(0.0, "")]
    for position in range(SERIAL_LENGTH):
        grown = []
        for _, prefix in beam:
            base = prefix + ("-" if position == SERIAL_LENGTH // 2 else "")
            grown += [(cost(base + c, blur), base + c) for c in ALPHABET]
        beam = sorted(grown)[:BEAM]
    best_cost, best = min((cost(text, blur, whole=True), text) for _, text in beam)
    return best.replace("-", ""), best_cost
