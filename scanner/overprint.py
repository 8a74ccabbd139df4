"""Handwriting over printed words: a number written on a visual-analogue line's anchor words instead of a
mark. The other checks leave every printed word out, a rectangle round it (``beside_ink.TEXT_MARGIN_MM``
wider), so such a number read as nothing: the line read blank with full confidence, the answer lost.

Here the words are drawn as the PDF draws them (the shipped font, each letter where reportlab puts it), laid
onto the page where they match the print best (within ``SHIFT_MM`` of where registration puts them, then a
few letters at a time within ``NUDGE_MM``: a bent page moves print, and drifts along a line), and the
handwriting left round them off the letters (``GLYPH_MARGIN_MM`` round each) is what was written on them.
Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import cv2
import numpy as np

from formkit.layout.model import Box, TextRun
from formkit.layout.text import FONT_DIR, MM_PER_PT, letters_box, width_mm

from . import areas
from .register import WARP_PX_PER_MM

SHIFT_MM = 1.0  # how far from where registration puts it a word is looked for (a bent page: up to 0.75 mm)
GLYPH_MARGIN_MM = 0.3  # round each letter as found: its blurred edge, a 1-bit copy's thicker strokes
WORDS_MARGIN_MM = 1.0  # round the rectangle of a word's letters: writing on it reaches out of it
CHUNK_MM = 3.0  # letters placed again together, a few at a time
NUDGE_MM = 0.375  # how far from the word's place
LETTER_COVER = 0.1  # of a pixel the font's letter covers, for the letter's ink: its blurred edge too
LEAST_MATCH = 0.5  # of the letters' ink that must show where the word is found, or it is not judged


def written_on(page: np.ndarray, run: TextRun, rules: np.ndarray, other_words: list[Box],
               px_per_mm: float = WARP_PX_PER_MM) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The pieces of handwriting over the printed ``run`` and off its letters, each of at least
    ``areas.SPECK_MM2`` (its pixels: rows, columns of ``page``, the registered page, 2-D uint8 grey); ``None``
    when the word is not found on the page (covered, cut off, too faint to place). Left out: ``rules``, where
    the page's boxes and rules may lie (bool, the page's shape), and ``other_words``, the rectangles of other
    print (``letters_box``), ``WORDS_MARGIN_MM`` wider."""
    letters, (anchor_x, anchor_y) = _letters(run.text, run.size_pt, run.bold, px_per_mm)
    box = letters_box(run)
    shift = int(round(SHIFT_MM * px_per_mm))
    margin = int(round(WORDS_MARGIN_MM * px_per_mm))
    pad = shift + margin
    x0 = int(round(box.x_mm * px_per_mm)) - anchor_x  # where the letters' raster lies as laid out
    y0 = int(round(run.y_mm * px_per_mm)) - anchor_y
    h, w = letters.shape
    top, left = y0 - pad, x0 - pad
    if top < 0 or left < 0 or y0 + h + pad > page.shape[0] or x0 + w + pad > page.shape[1]:
        return None
    window = page[top:y0 + h + pad, left:x0 + w + pad]
    darkness = 1.0 - window.astype(np.float32) / max(1.0, float(np.percentile(window, 90)))
    np.clip(darkness, 0.0, 1.0, out=darkness)
    # the letters slid over the inner window (±shift): where they cover the most darkness
    inner = darkness[margin:-margin, margin:-margin]
    scores = cv2.matchTemplate(inner, letters, cv2.TM_CCOEFF_NORMED)
    dy, dx = np.unravel_index(int(np.argmax(scores)), scores.shape)
    placed = np.zeros(window.shape, np.uint8)
    # then a few letters at a time, each within NUDGE_MM of the word's place: a photographed page is not quite
    # flat, so the print drifts along a line, and a letter's edge left over reads as a stroke
    chunk, nudge = int(round(CHUNK_MM * px_per_mm)), int(round(NUDGE_MM * px_per_mm))
    for c0 in range(0, w, chunk):
        y, x = margin + dy, margin + dx
        part = letters[:, c0:c0 + chunk]
        y0_, x0_ = max(0, y - nudge), max(0, x + c0 - nudge)
        around = darkness[y0_:y + h + nudge, x0_:x + c0 + part.shape[1] + nudge]
        if part.max() > LETTER_COVER and around.shape[0] >= h and around.shape[1] >= part.shape[1]:
            found = cv2.matchTemplate(around, part, cv2.TM_CCOEFF_NORMED)
            ny, nx = np.unravel_index(int(np.argmax(found)), found.shape)
            y = min(max(y0_ + ny, 0), window.shape[0] - h)
            x = min(max(x0_ + nx, 0), window.shape[1] - part.shape[1]) - c0
        placed[y:y + h, x + c0:x + c0 + part.shape[1]] |= (part > LETTER_COVER).astype(np.uint8)
    if not placed.any():
        return None  # nothing the font draws (a zero-width character, say)
    near_rules = rules[top:top + window.shape[0], left:left + window.shape[1]]
    ink = areas.handwriting_mask(window, px_per_mm, rules_near=near_rules) & ~near_rules
    if np.count_nonzero(ink & placed.astype(bool)) < LEAST_MATCH * np.count_nonzero(placed):
        return None
    size = 2 * int(round(GLYPH_MARGIN_MM * px_per_mm)) + 1
    off_letters = ink & ~cv2.dilate(placed, np.ones((size, size), np.uint8)).astype(bool)
    off_letters &= ~boxes_mask(other_words, WORDS_MARGIN_MM, (top, left), window.shape, px_per_mm)
    # a letter's edge left over is a line a pixel wide; a stroke, even a pencil's, is two or more
    off_letters = cv2.morphologyEx(off_letters.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).astype(bool)
    # only round the word as found: beyond that, the field's other checks see the ink
    zone = np.zeros(window.shape, bool)
    rows = np.flatnonzero(placed.any(axis=1))
    cols = np.flatnonzero(placed.any(axis=0))
    zone[max(0, rows[0] - margin):rows[-1] + margin + 1, max(0, cols[0] - margin):cols[-1] + margin + 1] = True
    off_letters &= zone
    count, labels, stats, _ = cv2.connectedComponentsWithStats(off_letters.astype(np.uint8), connectivity=8)
    ys, xs = np.nonzero(labels)
    of = labels[ys, xs]
    return [(ys[of == k] + top, xs[of == k] + left) for k in range(1, count)
            if stats[k, cv2.CC_STAT_AREA] >= areas.SPECK_MM2 * px_per_mm ** 2]


def boxes_mask(boxes: Iterable[Box], margin_mm: float, origin: tuple[int, int], shape: tuple[int, ...],
               px_per_mm: float = WARP_PX_PER_MM) -> np.ndarray:
    """Where ``boxes`` (mm on the registered page), ``margin_mm`` wider, lie in a window of ``shape`` whose
    top-left pixel is ``origin`` (row, column) of that page: a bool mask, nothing for a box outside."""
    mask = np.zeros(shape[:2], bool)
    for box in boxes:
        r0 = int((box.y_mm - margin_mm) * px_per_mm) - origin[0]
        c0 = int((box.x_mm - margin_mm) * px_per_mm) - origin[1]
        r1 = int(np.ceil((box.y_mm + box.h_mm + margin_mm) * px_per_mm)) - origin[0]
        c1 = int(np.ceil((box.x_mm + box.w_mm + margin_mm) * px_per_mm)) - origin[1]
        mask[max(0, r0):max(0, r1), max(0, c0):max(0, c1)] = True
    return mask


@cache
def _letters(text: str, size_pt: float, bold: bool, px_per_mm: float) -> tuple[np.ndarray, tuple[int, int]]:
    """``text`` drawn in the shipped font at ``size_pt`` and ``px_per_mm``: its coverage (float32, 0-1) and
    where in that raster the start of its baseline lies (x, y). Each letter is put where the PDF puts it
    (reportlab's unhinted advances): the font's hinted advances, rounded to whole pixels, drift 6 px along a
    line of 45 letters at 8 px/mm."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")),
                              size_pt * MM_PER_PT * px_per_mm, layout_engine=ImageFont.Layout.BASIC)
    starts = [width_mm(text[:k], size_pt, bold) * px_per_mm for k in range(len(text))]
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    pad = int(np.ceil(max(1.0, -left))) + 1
    width = int(np.ceil(max(right, starts[-1] + font.getlength(text[-1])))) + 2 * pad
    image = Image.new("L", (width, int(np.ceil(bottom - top)) + 2), 0)
    baseline = 1 - int(np.floor(top))
    draw = ImageDraw.Draw(image)
    for char, x in zip(text, starts, strict=True):
        if not char.isspace():
            draw.text((pad + round(x), baseline), char, fill=255, font=font, anchor="ls")
    return np.asarray(image, np.float32) / 255.0, (pad, baseline)
