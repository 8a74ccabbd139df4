"""Font registration and text measurement: the layout wraps text with the metrics the PDF uses."""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .model import Box, TextRun

FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
REGULAR = "FormkitSans"
BOLD = "FormkitSans-Bold"
MM_PER_PT = 25.4 / 72.0
LINE_SPACING = 1.25  # line height as a multiple of the font size


@cache
def register_fonts() -> None:
    """Register the shipped DejaVu Sans with reportlab (embedded and subset in every PDF)."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def unprintable(text: str) -> str:
    """The characters of ``text`` the form's font cannot print as they are read: those it has no glyph for
    (Chinese, say, printed as empty boxes) and right-to-left letters (Arabic, Hebrew), which would print
    unjoined and in the wrong order. Each once, in order."""
    register_fonts()
    glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
    return "".join(ch for ch in dict.fromkeys(text) if not ch.isspace() and (
        ord(ch) not in glyphs or unicodedata.bidirectional(ch) in ("R", "AL")))


def font_name(bold: bool) -> str:
    return BOLD if bold else REGULAR


def width_mm(text: str, size_pt: float, bold: bool = False) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, font_name(bold), size_pt) * MM_PER_PT


@lru_cache(maxsize=4096)  # every run's box, for every line field of every page read
def letters_box(run: TextRun) -> Box:
    """Where ``run``'s letters lie, but for descenders: from 0.7 of its size above the baseline (capitals;
    brackets reach 0.76) down to it (DejaVu's descenders reach 0.24 below)."""
    size_mm = run.size_pt * MM_PER_PT
    width = width_mm(run.text, run.size_pt, run.bold)
    x0 = run.x_mm - {"left": 0.0, "center": width / 2, "right": width}[run.align]
    return Box(x0, run.y_mm - 0.7 * size_mm, width, 0.7 * size_mm)


def line_height_mm(size_pt: float) -> float:
    return size_pt * LINE_SPACING * MM_PER_PT


def ascent_mm(size_pt: float) -> float:
    """Distance from the top of a line box to its baseline."""
    return size_pt * MM_PER_PT * 0.95


def wrap(text: str, max_width_mm: float, size_pt: float, bold: bool = False) -> list[str]:
    """Greedy word wrap; a word longer than the line is broken between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if width_mm(candidate, size_pt, bold) <= max_width_mm:
                current = candidate
                continue
            if current:
                lines.append(current)
            while width_mm(word, size_pt, bold) > max_width_mm and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and width_mm(word[:cut], size_pt, bold) > max_width_mm:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines
