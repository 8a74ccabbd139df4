"""What both reports share: the embedded fonts, colours that survive grey printing and colour blindness,
paragraph styles, dates in words, and writing a platypus document to PDF bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from ..layout.text import BOLD, REGULAR, register_fonts

# Two series colours far apart in lightness (dark blue prints near black, orange as a mid grey) and apart
# for every common colour blindness; each series also has its own marker shape and dash pattern, so no
# chart relies on colour alone.
BLUE = colors.HexColor("#1B3F8B")
ORANGE = colors.HexColor("#E07B00")
DARK_GREY = colors.HexColor("#4D4D4D")
BLACK = colors.black
WHITE = colors.white
GRID = colors.HexColor("#C8C8C8")
TEXT_GREY = colors.HexColor("#444444")
# Bands, from the best to the worst: light greys, darker as a score gets worse.
BAND_GREYS = [colors.HexColor(c) for c in ("#F4F4F4", "#E4E4E4", "#D2D2D2", "#BEBEBE", "#AAAAAA")]


@dataclass(frozen=True)
class SeriesStyle:
    colour: Any
    marker: str  # circle | square | triangle | diamond
    dash: tuple[float, ...] | None


SERIES_STYLES = (SeriesStyle(BLUE, "circle", None), SeriesStyle(ORANGE, "square", (6, 3)),
                 SeriesStyle(DARK_GREY, "triangle", (2, 2)), SeriesStyle(BLACK, "diamond", (8, 2, 2, 2)))


@cache
def fonts() -> None:
    """DejaVu Sans (shipped, embedded and subset), also as a family so <b> works in paragraphs."""
    register_fonts()
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


@dataclass(frozen=True)
class Styles:
    size: float  # body text, in points
    body: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    subheading: ParagraphStyle
    chart_font: float


def styles(size: float) -> Styles:
    fonts()
    lead = size * 1.3
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=size, leading=lead, spaceAfter=size * 0.4)
    return Styles(
        size, body,
        ParagraphStyle("small", parent=body, fontSize=size * 0.8, leading=size * 0.8 * 1.3, textColor=TEXT_GREY),
        ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=size * 1.7, leading=size * 2.1,
                       spaceAfter=size * 0.5),
        ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=size * 1.3, leading=size * 1.65,
                       spaceBefore=size * 0.9, spaceAfter=size * 0.35, keepWithNext=1),
        ParagraphStyle("subheading", parent=body, fontName=BOLD, fontSize=size * 1.05, leading=size * 1.35,
                       spaceBefore=size * 0.5, spaceAfter=size * 0.2, keepWithNext=1),
        max(8.0, size * 0.78))


def day_words(day: date | None) -> str:
    """'12 Jan 2026' (the same in every locale)."""
    if day is None:
        return "no date"
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[day.month - 1]
    return f"{day.day} {month} {day.year}"


def fmt(value: float | None, decimals: int | None = None) -> str:
    """A number as people write it: no trailing '.0', a real minus sign."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".") if decimals is None else f"{value:.{decimals}f}"
    if text in ("-0", "-0.0", "-0.00"):
        text = text[1:]
    return text.replace("-", "\u2212")


def share(part: int, whole: int) -> str:
    """A percentage, whole: '100 %' only when all are, '0 %' only when none is (199 reviewed of 200 said '100 %'
    beside the one value still waiting; '< 1 %' and '> 99 %' are said instead)."""
    if not whole:
        return "\u2013"
    rounded = f"{100 * part / whole:.0f}"
    if rounded == "0" and part:
        return "< 1 %"
    if rounded == "100" and part != whole:
        return "> 99 %"
    return f"{rounded} %"


def escape(text: str) -> str:
    """Text for a platypus paragraph (which reads a little markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_pdf(story: list[Any], title: str, footer: Callable[[Canvas, Any], None],
              margins_mm: float = 16) -> bytes:
    """The platypus ``story`` as PDF bytes, on A4, with ``footer`` drawn on every page."""
    fonts()
    buffer = io.BytesIO()
    # The canvas' first font would otherwise be Helvetica, which the PDF would not embed.
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=margins_mm * mm, rightMargin=margins_mm * mm,
                            topMargin=margins_mm * mm, bottomMargin=(margins_mm + 6) * mm, title=title,
                            author="", subject="", creator="formkit", invariant=1, initialFontName=REGULAR)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def table(cells: list[list[Any]], widths: list[float] | None = None, commands: list[tuple] | None = None,
          **kwargs: Any) -> Table:
    """A platypus table whose own cell font is DejaVu too (its default, Helvetica, would not be embedded)."""
    t = Table(cells, colWidths=widths, **kwargs)
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), REGULAR), *(commands or [])]))
    return t


def page_width_pt(margins_mm: float = 16) -> float:
    return A4[0] - 2 * margins_mm * mm
