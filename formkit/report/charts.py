"""Charts drawn with reportlab's own graphics (a ``Drawing`` of shapes): a line chart over occasions, a
histogram and a scatter plot. Text is DejaVu Sans, embedded. Series differ in colour, marker shape and
dash pattern together; a value still waiting for review is a hollow marker with the word "pending".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..layout.text import BOLD, REGULAR
from .common import BAND_GREYS, BLUE, GRID, SERIES_STYLES, TEXT_GREY, WHITE, SeriesStyle, fmt

PENDING_WORD = "pending"


@dataclass(frozen=True)
class Point:
    x: int  # index of the occasion (its place on the horizontal axis)
    value: float | None = None  # a final value
    provisional: float | None = None  # where a pending value would be, from the machine's guesses
    pending: bool = False


@dataclass
class Series:
    label: str
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str


def new_drawing(width: float, height: float) -> Drawing:
    """A drawing whose default font is DejaVu (reportlab's default, Helvetica, would not be embedded)."""
    d = Drawing(width, height)
    d.initialFontName = REGULAR
    d.initialFontSize = 9
    return d


def nice_step(span: float, target: int = 5) -> float:
    raw = max(span, 1e-9) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw - 1e-12:
            return m * magnitude
    return 10 * magnitude


def ticks(low: float, high: float, target: int = 5, ends: bool = True) -> list[float]:
    """Round ticks between ``low`` and ``high``; with ``ends``, the two ends too when not crowded."""
    step = nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9) * step
    out = []
    v = first
    while v <= high + 1e-9:
        out.append(round(v, 10))
        v += step
    if ends:
        for end in (low, high):
            if all(abs(end - t) > step * 0.45 for t in out):
                out.append(end)
    return sorted(out)


def _text(x: float, y: float, text: str, size: float, anchor: str = "start", bold: bool = False,
          colour=TEXT_GREY) -> String:  # noqa: ANN001
    return String(x, y, text, fontName=BOLD if bold else REGULAR, fontSize=size, fillColor=colour, textAnchor=anchor)


def _width(text: str, size: float, bold: bool = False) -> float:
    return stringWidth(text, BOLD if bold else REGULAR, size)


def fitted(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` as it fits ``width`` points at ``size``: whole, or cut at a word with "…"."""
    if _width(text, size, bold) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and _width(" ".join(words) + "\u2026", size, bold) > width:
        words.pop()
    cut = " ".join(words)
    while cut and _width(cut + "\u2026", size, bold) > width:
        cut = cut[:-1]
    return cut.rstrip(" ,;(") + "\u2026"


def marker(style: SeriesStyle, x: float, y: float, size: float, hollow: bool = False) -> Group:
    """A filled (final) or hollow (pending) marker of the series' shape."""
    fill = WHITE if hollow else style.colour
    width = 1.6 if hollow else 0.8
    r = size / 2
    g = Group()
    if style.marker == "circle":
        g.add(Circle(x, y, r, fillColor=fill, strokeColor=style.colour, strokeWidth=width))
    elif style.marker == "square":
        g.add(Rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, fillColor=fill, strokeColor=style.colour,
                   strokeWidth=width))
    elif style.marker == "triangle":
        g.add(Polygon([x - r * 1.1, y - r * 0.9, x + r * 1.1, y - r * 0.9, x, y + r * 1.2], fillColor=fill,
                      strokeColor=style.colour, strokeWidth=width))
    else:
        g.add(Polygon([x, y - r * 1.25, x + r * 1.1, y, x, y + r * 1.25, x - r * 1.1, y], fillColor=fill,
                      strokeColor=style.colour, strokeWidth=width))
    return g


def line_chart(width: float, height: float, x_labels: Sequence[str], series: Sequence[Series],
               y_range: tuple[float, float], *, title: str = "", bands: Sequence[Band] = (),
               reference: tuple[float, str] | None = None, better: str = "", font_size: float = 9,
               value_labels: bool = True, y_ticks: Sequence[float] | None = None) -> Drawing:
    """Values over occasions (``x_labels``, one per occasion, '\\n' between lines). ``bands`` are shaded
    from best to worst with their labels on the right; ``better`` ('lower' or 'higher') draws an arrow
    saying which way is better; ``reference`` is a dashed line with its words."""
    fs = font_size
    d = new_drawing(width, height)
    lo, hi = y_range
    tick_values = list(y_ticks) if y_ticks is not None else ticks(lo, hi)
    tick_w = max(_width(fmt(t), fs) for t in tick_values) + fs * 0.6
    right_labels = [b.label for b in bands] + ([reference[1]] if reference else [])
    band_w = max((_width(label, fs * 0.85) for label in right_labels), default=0) + (fs * 0.6 if right_labels else 0)
    better_w = (_width("better", fs, bold=True) + fs * 0.8) if better else 0
    legend = len(series) > 1
    top = fs * 1.7 + (fs * 1.8 if legend else 0) if title or legend else fs * 0.8
    top += fs * 1.0 if value_labels else 0  # room for the label above a point at the top of the scale
    x_lines = max((label.count("\n") + 1 for label in x_labels), default=1)
    bottom = fs * (1.3 * x_lines + 0.6)
    x0, x1 = tick_w, width - band_w - better_w - fs * 0.4
    y0, y1 = bottom, height - top
    span = (hi - lo) or 1.0

    def sy(v: float) -> float:
        return y0 + (min(max(v, lo), hi) - lo) / span * (y1 - y0)

    slot = (x1 - x0) / max(1, len(x_labels))

    def sx(i: int) -> float:
        return x0 + slot * (i + 0.5)

    # bands, best first: lighter; the labels on the right
    ordered = sorted(bands, key=lambda b: b.low)
    shades = BAND_GREYS[:len(ordered)]
    shades = shades if better == "lower" else shades[::-1]
    for i, band in enumerate(ordered):
        top_v = ordered[i + 1].low if i + 1 < len(ordered) else band.high
        b0, b1 = sy(band.low), sy(top_v)
        d.add(Rect(x0, b0, x1 - x0, b1 - b0, fillColor=shades[i], strokeColor=None, strokeWidth=0))
        d.add(_text(x1 + fs * 0.4, (b0 + b1) / 2 - fs * 0.3, band.label, fs * 0.85))
    for t in tick_values:
        d.add(Line(x0, sy(t), x1, sy(t), strokeColor=GRID, strokeWidth=0.4))
        d.add(_text(x0 - fs * 0.4, sy(t) - fs * 0.35, fmt(t), fs, "end"))
    d.add(Line(x0, y0, x0, y1, strokeColor=TEXT_GREY, strokeWidth=0.8))
    d.add(Line(x0, y0, x1, y0, strokeColor=TEXT_GREY, strokeWidth=0.8))
    if reference is not None:
        value, words = reference
        d.add(Line(x0, sy(value), x1, sy(value), strokeColor=TEXT_GREY, strokeWidth=0.8, strokeDashArray=(3, 2)))
        d.add(_text(x1 + fs * 0.4, sy(value) - fs * 0.3, words, fs * 0.85))
    for i, label in enumerate(x_labels):
        for k, line in enumerate(label.split("\n")):
            d.add(_text(sx(i), y0 - fs * (1.2 + 1.2 * k), line, fs, "middle"))
    if title:
        d.add(_text(0, height - fs * 1.1, title, fs, bold=True, colour=TEXT_GREY))
    if better:
        _better_arrow(d, width - better_w / 2 - fs * 0.2, y0, y1, better, fs)
    marker_size = fs * 0.8
    for k, s in enumerate(series):
        style = SERIES_STYLES[k % len(SERIES_STYLES)]
        placed = [(p, p.value if p.value is not None else p.provisional) for p in s.points]
        drawn = [(p, v) for p, v in placed if v is not None]
        for (a, va), (b, vb) in zip(drawn, drawn[1:], strict=False):
            guess = a.pending or b.pending
            d.add(Line(sx(a.x), sy(va), sx(b.x), sy(vb), strokeColor=style.colour,
                       strokeWidth=0.8 if guess else 1.8, strokeDashArray=(1, 2) if guess else style.dash))
        for p, v in placed:
            if p.pending and v is not None:  # hollow, where the machine's guesses would put it
                d.add(marker(style, sx(p.x), sy(v), marker_size * 1.1, hollow=True))
                d.add(_text(sx(p.x), sy(v) + marker_size * 0.9, PENDING_WORD, fs * 0.85, "middle", bold=True,
                            colour=style.colour))
            elif p.pending:  # no value to place yet: a dotted line over the whole scale, and the word
                d.add(Line(sx(p.x), y0, sx(p.x), y1, strokeColor=style.colour, strokeWidth=0.8,
                           strokeDashArray=(1, 2)))
                d.add(Rect(sx(p.x) - _width(PENDING_WORD, fs * 0.85, True) / 2 - 2, (y0 + y1) / 2 - fs * 0.35,
                           _width(PENDING_WORD, fs * 0.85, True) + 4, fs * 1.1, fillColor=WHITE, strokeColor=None,
                           strokeWidth=0))
                d.add(_text(sx(p.x), (y0 + y1) / 2, PENDING_WORD, fs * 0.85, "middle", bold=True,
                            colour=style.colour))
            elif v is not None:
                d.add(marker(style, sx(p.x), sy(v), marker_size))
                if value_labels:
                    d.add(_text(sx(p.x), sy(v) + marker_size * 0.9, fmt(v), fs * 0.9, "middle", bold=True,
                                colour=style.colour))
    if legend:
        _legend(d, x0, height - fs * 2.75, series, fs)
    return d


def _better_arrow(d: Drawing, x: float, y0: float, y1: float, better: str, fs: float) -> None:
    """An arrow along the vertical axis towards the better end, with the word 'better' at its head."""
    down = better == "lower"
    tail, head = (y1 - fs * 0.5, y0 + fs * 2.2) if down else (y0 + fs * 0.5, y1 - fs * 2.2)
    d.add(Line(x, tail, x, head, strokeColor=TEXT_GREY, strokeWidth=1.6))
    tip = head - fs * 0.7 if down else head + fs * 0.7
    d.add(Polygon([x - fs * 0.45, head, x + fs * 0.45, head, x, tip], fillColor=TEXT_GREY, strokeColor=None,
                  strokeWidth=0))
    d.add(_text(x, tip - fs * 1.1 if down else tip + fs * 0.35, "better", fs, "middle", bold=True))


def _legend(d: Drawing, x: float, y: float, series: Sequence[Series], fs: float) -> None:
    for k, s in enumerate(series):
        style = SERIES_STYLES[k % len(SERIES_STYLES)]
        d.add(Line(x, y + fs * 0.35, x + fs * 2.2, y + fs * 0.35, strokeColor=style.colour, strokeWidth=1.8,
                   strokeDashArray=style.dash))
        d.add(marker(style, x + fs * 1.1, y + fs * 0.35, fs * 0.75))
        d.add(_text(x + fs * 2.6, y, s.label, fs))
        x += fs * 3.6 + _width(s.label, fs)


def bins(values: Sequence[float], low: float | None, high: float | None, target: int = 10) -> list[float]:
    """Bin edges for a histogram over the score's possible range (extended to hold every value)."""
    lo = min([*values, *([low] if low is not None else [])]) if values or low is not None else 0.0
    hi = max([*values, *([high] if high is not None else [])]) if values or high is not None else 1.0
    if hi <= lo:
        hi = lo + 1
    step = nice_step(hi - lo, target)
    if all(float(v).is_integer() for v in (*values, lo, hi)):
        step = max(1.0, math.ceil(step))
    start = math.floor(lo / step) * step
    edges = [start]
    while edges[-1] <= hi - 1e-9 or len(edges) < 2:
        edges.append(round(edges[-1] + step, 10))
    if edges[-1] == hi and len(edges) > 2 and float(hi).is_integer() and step == 1:
        edges.append(hi + 1)  # whole-number scores: every value has its own bar, the highest too
    return edges


def counts(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """How many values fall in each bin [edge, next edge); the last bin includes its upper edge."""
    out = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(out)):
            last = i == len(out) - 1
            if edges[i] <= v < edges[i + 1] or (last and v == edges[i + 1]):
                out[i] += 1
                break
    return out


def histogram(width: float, height: float, values: Sequence[float], low: float | None, high: float | None, *,
              title: str = "", font_size: float = 8) -> Drawing:
    fs = font_size
    d = new_drawing(width, height)
    edges = bins(values, low, high)
    n = counts(values, edges)
    top_count = max([*n, 1])
    y_ticks = ticks(0, top_count, 4, ends=False)
    y_ticks = [t for t in y_ticks if float(t).is_integer()] or [0, top_count]
    tick_w = max(_width(fmt(t), fs) for t in y_ticks) + fs * 0.6
    x0, x1, y0, y1 = tick_w, width - fs * 0.8, fs * 1.8, height - (fs * 1.8 if title else fs * 0.6)
    if title:  # cut to the chart's width: a long title ran over the chart beside it
        d.add(_text(0, height - fs * 1.1, fitted(title, fs, width, bold=True), fs, bold=True))
    y_max = max(y_ticks[-1], top_count)

    def sx(v: float) -> float:
        return x0 + (v - edges[0]) / (edges[-1] - edges[0]) * (x1 - x0)

    def sy(c: float) -> float:
        return y0 + c / y_max * (y1 - y0)

    for t in y_ticks:
        d.add(Line(x0, sy(t), x1, sy(t), strokeColor=GRID, strokeWidth=0.4))
        d.add(_text(x0 - fs * 0.4, sy(t) - fs * 0.35, fmt(t), fs, "end"))
    for i, c in enumerate(n):
        if c:
            d.add(Rect(sx(edges[i]), y0, sx(edges[i + 1]) - sx(edges[i]), sy(c) - y0, fillColor=BLUE,
                       strokeColor=WHITE, strokeWidth=0.6))
    d.add(Line(x0, y0, x1, y0, strokeColor=TEXT_GREY, strokeWidth=0.8))
    d.add(Line(x0, y0, x0, y1, strokeColor=TEXT_GREY, strokeWidth=0.8))
    labels = edges
    while len(labels) > 7:
        labels = labels[::2]
    for e in labels:
        d.add(Line(sx(e), y0, sx(e), y0 - fs * 0.3, strokeColor=TEXT_GREY, strokeWidth=0.6))
        d.add(_text(sx(e), y0 - fs * 1.25, fmt(e), fs, "middle"))
    return d


def scatter(width: float, height: float, points: Sequence[tuple[float, float]], *, x_title: str, y_title: str,
            x_range: tuple[float, float] | None = None, font_size: float = 8) -> Drawing:
    """People as points; a dashed line at no change (y = 0)."""
    fs = font_size
    d = new_drawing(width, height)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_lo, x_hi = x_range if x_range else (min(xs, default=0), max(xs, default=1))
    x_lo, x_hi = min([x_lo, *xs]), max([x_hi, *xs])
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    y_lo, y_hi = min([0.0, *ys]), max([0.0, *ys])
    pad = (y_hi - y_lo) * 0.1 or 1.0
    y_lo, y_hi = y_lo - pad, y_hi + pad
    y_ticks = ticks(y_lo, y_hi, 5, ends=False)
    x_ticks = ticks(x_lo, x_hi, 5)
    tick_w = max(_width(fmt(t), fs) for t in y_ticks) + fs * 0.6
    x0, x1, y0, y1 = tick_w, width - fs, fs * 3.2, height - fs * 1.8
    d.add(_text(0, height - fs * 1.1, y_title, fs, bold=True))
    d.add(_text((x0 + x1) / 2, fs * 0.4, x_title, fs, "middle", bold=True))

    def sx(v: float) -> float:
        return x0 + (v - x_lo) / (x_hi - x_lo) * (x1 - x0)

    def sy(v: float) -> float:
        return y0 + (v - y_lo) / (y_hi - y_lo) * (y1 - y0)

    for t in y_ticks:
        d.add(Line(x0, sy(t), x1, sy(t), strokeColor=GRID, strokeWidth=0.4))
        d.add(_text(x0 - fs * 0.4, sy(t) - fs * 0.35, fmt(t), fs, "end"))
    for t in x_ticks:
        d.add(Line(sx(t), y0, sx(t), y0 - fs * 0.3, strokeColor=TEXT_GREY, strokeWidth=0.6))
        d.add(_text(sx(t), y0 - fs * 1.25, fmt(t), fs, "middle"))
    d.add(Line(x0, sy(0), x1, sy(0), strokeColor=TEXT_GREY, strokeWidth=0.8, strokeDashArray=(3, 2)))
    d.add(_text(x1, sy(0) + fs * 0.3, "no change", fs * 0.85, "end"))
    d.add(Line(x0, y0, x1, y0, strokeColor=TEXT_GREY, strokeWidth=0.8))
    d.add(Line(x0, y0, x0, y1, strokeColor=TEXT_GREY, strokeWidth=0.8))
    for x, y in points:
        d.add(marker(SERIES_STYLES[0], sx(x), sy(y), fs * 0.8))
    return d

