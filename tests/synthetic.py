"""Synthetic filled forms with known answers, degraded like flatbed scans or phone photos.

Used by the tests, the shipped samples (samples/make_samples.py) and the benchmarks. Everything is
driven by a ``random.Random`` so a seed reproduces the same pages.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, Field, LineField, Page, field_box, field_boxes

PENS = {"black": (25, 25, 35), "blue": (40, 60, 170), "pencil": (120, 120, 125)}


@dataclass
class Truth:
    """What a field should read, and whether a careful reader must flag it for review."""

    value: str
    must_review: bool = False
    may_review: bool = False  # a hard but fair case: flagging it is fine, reading it right is fine
    scenario: str = ""


@dataclass
class FilledPage:
    image: np.ndarray  # RGB, uint8
    dpi: float
    truth: dict[str, Truth] = field(default_factory=dict)


def render_pdf(pdf: Path, dpi: float) -> list[np.ndarray]:
    """RGB pages of ``pdf`` at ``dpi`` (pypdfium2)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    return [np.ascontiguousarray(document[i].render(scale=dpi / 72).to_numpy()[..., :3])
            for i in range(len(document))]


class _Pen:
    def __init__(self, image: np.ndarray, dpi: float, colour: str, width_mm: float) -> None:
        self.image, self.scale = image, dpi / 25.4
        self.colour = PENS[colour]
        self.width = max(1, int(round(width_mm * self.scale)))

    def px(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        return int(round(x_mm * self.scale * 4)), int(round(y_mm * self.scale * 4))

    def stroke(self, points_mm: list[tuple[float, float]]) -> None:
        pts = np.array([self.px(x, y) for x, y in points_mm], np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.image, [pts], False, self.colour, self.width, cv2.LINE_AA, shift=2)

    def fill(self, box: Box, overshoot_mm: float) -> None:
        x0, y0 = self.px(box.x_mm - overshoot_mm, box.y_mm - overshoot_mm)
        x1, y1 = self.px(box.x_mm + box.w_mm + overshoot_mm, box.y_mm + box.h_mm + overshoot_mm)
        cv2.rectangle(self.image, (x0, y0), (x1, y1), self.colour, -1, cv2.LINE_AA, shift=2)


def draw_mark(image: np.ndarray, dpi: float, box: Box, style: str, rng: random.Random,
              pen: str = "black") -> None:
    """A hand-like mark in ``box``: tick, cross, fill, scribble or a light pencil tick."""
    width = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
    p = _Pen(image, dpi, pen, width)
    cx = box.x_mm + box.w_mm / 2 + rng.uniform(-0.5, 0.5)
    cy = box.y_mm + box.h_mm / 2 + rng.uniform(-0.5, 0.5)
    s = box.w_mm / 2 * rng.uniform(0.75, 1.2)

    def j() -> float:
        return rng.uniform(-0.25, 0.25)

    if style == "tick":
        p.stroke([(cx - s * 0.7 + j(), cy + j()), (cx - s * 0.15 + j(), cy + s * 0.7 + j()),
                  (cx + s * 0.9 + j(), cy - s * 0.9 + j())])
    elif style == "cross":
        p.stroke([(cx - s * 0.8 + j(), cy - s * 0.8 + j()), (cx + s * 0.8 + j(), cy + s * 0.8 + j())])
        p.stroke([(cx + s * 0.8 + j(), cy - s * 0.8 + j()), (cx - s * 0.8 + j(), cy + s * 0.8 + j())])
    elif style == "fill":
        # Filled in with the pen: close back-and-forth strokes, sometimes leaving gaps.
        p = _Pen(image, dpi, pen, rng.uniform(0.5, 0.8))
        step = p.width / p.scale * rng.uniform(0.7, 1.15)
        over = rng.uniform(-0.2, 0.4)
        zig, y, k = [], box.y_mm - over, 0
        while y <= box.y_mm + box.h_mm + over:
            x = box.x_mm - over if k % 2 == 0 else box.x_mm + box.w_mm + over
            zig.append((x + j(), y))
            y += step
            k += 1
        p.stroke(zig)
    elif style == "scribble":
        zig = []
        turns = rng.randint(3, 5)  # denser than this, a scribble is a fill by any reading
        for k in range(turns):
            x = cx - s * 0.8 + k * s * 1.6 / (turns - 1)
            zig.append((x + j(), cy + (s * 0.7 if k % 2 else -s * 0.7) + j()))
        p.stroke(zig)
    elif style == "light":
        p = _Pen(image, dpi, "pencil", 0.22)
        p.stroke([(cx - s * 0.5, cy), (cx - s * 0.1, cy + s * 0.5), (cx + s * 0.7, cy - s * 0.7)])
    else:
        raise ValueError(style)


def draw_digit(image: np.ndarray, dpi: float, box: Box, digit: np.ndarray, rng: random.Random,
               pen: str = "black", *, height: tuple[float, float] = (0.5, 0.95), cut: float | None = None,
               strength: tuple[float, float] = (0.7, 1.0), thicken_mm: float = 0.0, place: str = "across",
               colour: tuple[int, int, int] | None = None) -> None:
    """A real handwritten ``digit`` (28×28 uint8, ink 255, as MNIST) written into ``box`` of ``image``:
    random size (``height``: of the box's), slant, stroke width, position and ink strength (``strength``).

    ``cut``: where the soft stroke profile is cut (drawn at random when ``None``); ``thicken_mm``: strokes
    that much thicker (a felt pen); ``place``: "across" sometimes across the border (one in ten), "jitter"
    off the middle at random only, "centre" in the middle; ``colour``: the ink's, else ``pen``'s. Random
    draws in a fixed order, each option's only when it asks for one: the same ``rng`` writes the same digit."""
    if place not in ("across", "jitter", "centre"):
        raise ValueError(f"place: across, jitter or centre, not {place!r}")
    scale = dpi / 25.4
    ys, xs = np.nonzero(digit > 30)
    piece = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255
    height_mm = box.h_mm * rng.uniform(*height)
    aspect = rng.uniform(0.85, 1.2)
    h = max(4, int(round(height_mm * scale)))
    w = max(2, int(round(piece.shape[1] / piece.shape[0] * h * aspect)))
    fit = 0.9 * box.w_mm * scale / w  # people write inside the box: a wide digit is written smaller
    if fit < 1:
        h, w = max(4, int(h * fit)), max(2, int(w * fit))
    pad = max(h, w)
    canvas = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    canvas[pad:pad + h, pad:pad + w] = cv2.resize(piece, (w, h), interpolation=cv2.INTER_CUBIC)
    # MNIST strokes are soft-edged and about 12 % of the digit's height; pens write thinner or thicker.
    # Cutting the soft profile higher or lower thins or thickens every stroke alike, never breaking one.
    canvas = np.clip((canvas - (rng.uniform(0.1, 0.55) if cut is None else cut)) / 0.3, 0, 1)
    if thicken_mm:
        k = max(1, int(round(thicken_mm * scale)))
        canvas = cv2.dilate(canvas, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    centre = (canvas.shape[1] / 2, canvas.shape[0] / 2)
    shear = rng.uniform(-0.25, 0.25)
    matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-8, 8), 1.0)
    matrix[0, 1] += shear
    matrix[0, 2] -= shear * centre[1]
    canvas = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]), flags=cv2.INTER_LINEAR)
    dx = dy = 0.0
    if place != "centre":
        across = place == "across" and rng.random() < 0.1
        dx = rng.gauss(0, 0.05) * box.w_mm + (rng.choice([-1, 1]) * box.w_mm * 0.1 if across else 0)
        dy = rng.gauss(0, 0.06) * box.h_mm + (rng.choice([-1, 1]) * box.h_mm * 0.12 if across else 0)
    cx = (box.x_mm + box.w_mm / 2 + dx) * scale
    cy = (box.y_mm + box.h_mm / 2 + dy) * scale
    x0, y0 = int(round(cx - canvas.shape[1] / 2)), int(round(cy - canvas.shape[0] / 2))
    ch, cw = canvas.shape
    ix0, iy0 = max(0, x0), max(0, y0)
    ix1, iy1 = min(image.shape[1], x0 + cw), min(image.shape[0], y0 + ch)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    alpha = np.clip(canvas[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0], 0, 1) * rng.uniform(*strength)
    target_region = image[iy0:iy1, ix0:ix1].astype(np.float32)
    ink = np.array(PENS[pen] if colour is None else colour, np.float32)
    if image.ndim == 2:
        ink = ink.min(keepdims=True)
    else:
        alpha = alpha[..., None]
    image[iy0:iy1, ix0:ix1] = np.clip(target_region * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)


def draw_line_mark(image: np.ndarray, dpi: float, line: LineField, position_mm: float, rng: random.Random,
                   pen: str = "black") -> None:
    p = _Pen(image, dpi, pen, rng.uniform(0.35, 0.55))
    x = line.x1_mm + position_mm
    half = rng.uniform(2.0, 3.5)
    slant = rng.uniform(-0.8, 0.8)
    p.stroke([(x - slant, line.y1_mm - half), (x + slant, line.y1_mm + half)])


def load_digits(path: Path) -> dict[int, list[np.ndarray]]:
    """Handwritten digit images by digit, from an ``.npz`` with ``x`` (N, 28, 28; ink 255) and ``y``."""
    with np.load(path) as data:
        x, y = data["x"], data["y"]
    return {d: [x[i] for i in np.nonzero(y == d)[0]] for d in range(10)}


def write_digits(image: np.ndarray, dpi: float, boxes: tuple[Box, ...], text: str, samples: dict[int, list[np.ndarray]],
                 rng: random.Random, pen: str) -> None:
    """``text`` written one digit per box from the left, each digit a real handwritten sample; a space
    leaves its box empty."""
    for box, char in zip(boxes, text, strict=False):
        if char.isdigit():
            draw_digit(image, dpi, box, rng.choice(samples[int(char)]), rng, pen)


def _fill_boxes(image: np.ndarray, dpi: float, f: BoxesField, samples: dict[int, list[np.ndarray]],
                rng: random.Random, pen: str) -> Truth:
    if rng.random() < 0.12:
        return Truth("", scenario="blank")
    if f.kind == "date":
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(1500))
        write_digits(image, dpi, f.boxes, day.strftime("%d%m%Y"), samples, rng, pen)
        return Truth(day.isoformat(), scenario="date")
    if f.minimum is not None and f.maximum is not None:
        text = str(rng.randint(f.minimum, f.maximum)).zfill(len(f.boxes)) if rng.random() < 0.5 \
            else str(rng.randint(f.minimum, f.maximum))
    else:
        text = "".join(rng.choice("0123456789") for _ in f.boxes)
    write_digits(image, dpi, f.boxes, text, samples, rng, pen)
    return Truth(text, scenario="digits")


def fill_page(image: np.ndarray, dpi: float, page: Page, rng: random.Random, hard: bool = True,
              digits: dict[int, list[np.ndarray]] | None = None) -> FilledPage:
    """Answer every field of ``page`` at random; ``hard`` adds double marks, corrections and faint marks.
    With ``digits`` (see ``load_digits``), digit and date boxes are written in real handwriting too."""
    filled = FilledPage(image, dpi)
    pen = rng.choice(["black", "blue", "black", "blue", "pencil"])
    for f in page.fields:
        if isinstance(f, BoxesField) and digits is not None:
            filled.truth[f.id] = _fill_boxes(image, dpi, f, digits, rng, "blue" if pen == "blue" else "black")
        elif isinstance(f, ChoiceField):
            filled.truth[f.id] = _fill_choice(image, dpi, f, rng, pen, hard)
        elif isinstance(f, LineField):
            roll = rng.random()
            if roll < 0.15:
                filled.truth[f.id] = Truth("", scenario="blank")
            else:
                length = f.x2_mm - f.x1_mm
                position = round(rng.uniform(3.0, length - 3.0), 1)
                draw_line_mark(image, dpi, f, position, rng, "blue" if pen == "blue" else "black")
                value = f.minimum + (f.maximum - f.minimum) * position / length
                filled.truth[f.id] = Truth(f"{value:.1f}", scenario="line")
    return filled


def _fill_choice(image: np.ndarray, dpi: float, f: ChoiceField, rng: random.Random, pen: str,
                 hard: bool) -> Truth:
    options = list(f.options)
    roll = rng.random()
    style = rng.choice(["tick", "tick", "cross", "cross", "scribble"])
    if roll < 0.2:
        return Truth("", scenario="blank")
    if hard and roll < 0.25 and not f.multiple:
        a, b = rng.sample(options, 2)
        draw_mark(image, dpi, a.box, style, rng, pen)
        draw_mark(image, dpi, b.box, style, rng, pen)
        return Truth("", must_review=True, scenario="double mark")
    if hard and roll < 0.32 and len(options) > 1:
        cancelled, chosen = rng.sample(options, 2)
        draw_mark(image, dpi, cancelled.box, "fill", rng, "black" if pen == "pencil" else pen)
        draw_mark(image, dpi, chosen.box, style, rng, pen)
        return Truth(str(chosen.value), scenario="correction")
    if hard and roll < 0.35:
        chosen = rng.choice(options)
        draw_mark(image, dpi, chosen.box, "light", rng)
        return Truth(str(chosen.value), may_review=True, scenario="light pencil")
    if f.multiple:
        chosen = sorted(rng.sample(range(len(options)), rng.randint(1, min(3, len(options)))))
        for i in chosen:
            draw_mark(image, dpi, options[i].box, style, rng, pen)
        return Truth(";".join(str(options[i].value) for i in chosen), scenario="multiple")
    chosen = rng.choice(options)
    draw_mark(image, dpi, chosen.box, style, rng, pen)
    return Truth(str(chosen.value), scenario=style)


def _add_sensor_noise(image: np.ndarray, np_rng: np.random.Generator, sigma: float) -> np.ndarray:
    """``image`` (uint8) plus Gaussian noise of ``sigma``, clipped: the values
    ``np.clip(image + np_rng.normal(0, sigma, image.shape), 0, 255)`` as uint8, the noise drawn a band of rows
    at a time (the same draws, in the same order) so that no page-sized float64 array is ever made."""
    out = np.empty_like(image)
    rows = max(1, (1 << 20) // max(1, image[0].size))
    band = np.empty((rows, *image.shape[1:]), np.float64)
    for top in range(0, image.shape[0], rows):
        noise = band[:min(rows, image.shape[0] - top)]
        np_rng.standard_normal(out=noise)
        noise *= sigma  # Generator.normal(0, sigma) is 0 + sigma * standard_normal
        np.add(noise, image[top:top + len(noise)], out=noise)
        out[top:top + len(noise)] = np.clip(noise, 0, 255, out=noise)
    return out


def degrade_scan(rgb: np.ndarray, dpi: float, rng: random.Random, out_dpi: float = 300,
                 upside_down: bool = False, one_bit: bool = False, rotate_quarter: int = 0) -> np.ndarray:
    """A flatbed scan: small skew, offset, resampling, sensor noise, optionally 1-bit and rotated.
    The page lies on a scanner bed a little larger than itself."""
    image = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if one_bit else rgb.copy()
    bed = int(round(6 / 25.4 * dpi))
    image = cv2.copyMakeBorder(image, bed, bed, bed, bed, cv2.BORDER_CONSTANT, value=(245, 245, 245))
    h, w = image.shape[:2]
    angle = rng.uniform(-2.0, 2.0) + (180 if upside_down else 0)
    matrix = cv2.getRotationMatrix2D((w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-20, 20)), angle, 1.0)
    image = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(250, 250, 250))
    if out_dpi != dpi:
        image = cv2.resize(image, None, fx=out_dpi / dpi, fy=out_dpi / dpi, interpolation=cv2.INTER_AREA)
    image = _add_sensor_noise(image, np.random.default_rng(rng.randrange(1 << 30)), 6)
    if one_bit:
        image = one_bit_copy(image)
    return np.ascontiguousarray(np.rot90(image, rotate_quarter)) if rotate_quarter else image


def one_bit_copy(image: np.ndarray) -> np.ndarray:
    """A grey scan as a copier's or scanner's black-and-white mode keeps it: black where darker than 150."""
    return np.where(image > 150, 255, 0).astype(np.uint8)


APP_WINDOWS_MM = (1.3, 1.8, 2.6, 4.3)  # 15, 21, 31 and 51 px at 300 dpi


def scanner_app_black_and_white(rgb: np.ndarray, dpi: float, rng: random.Random, out_dpi: float = 300,
                                upside_down: bool = False, window_mm: float | None = None) -> np.ndarray:
    """A phone scanner app's black-and-white page: the page flattened and cropped by the app (a scan of it
    under light falling off 10-35 % across it, blurred 0.6-1.4 px), then each pixel compared with the
    Gaussian-weighted mean of a window of ``window_mm`` (one of ``APP_WINDOWS_MM`` when not given) around it,
    10-15 grey levels under the mean counting as ink. Inside solid black wider than about a third of the
    window the mean is as dark as the pixel, so such black comes out as its outline; paper grain comes out
    as speckle."""
    grey = degrade_scan(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dpi, rng, out_dpi=out_dpi,
                        upside_down=upside_down).astype(np.float32)
    h, w = grey.shape
    across = np.linspace(-1, 1, w)[None, :] * rng.uniform(-1, 1) + np.linspace(-1, 1, h)[:, None] * rng.uniform(-1, 1)
    grey *= 1 - rng.uniform(0.1, 0.35) * (0.5 + 0.5 * across)
    grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.6, 1.4))
    window_px = 2 * int((window_mm or rng.choice(APP_WINDOWS_MM)) * out_dpi / 25.4 / 2) + 1
    return cv2.adaptiveThreshold(np.clip(grey, 0, 255).astype(np.uint8), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, window_px, rng.uniform(10, 15))


def glass_streaks(image: np.ndarray, dpi: float, rng: random.Random, count: tuple[int, int] = (1, 3),
                  columns_mm: tuple[float, ...] = (), width_mm: tuple[float, float] = (0.1, 0.35)) -> np.ndarray:
    """``image`` (a scan, grey or RGB) with streaks a dirty scanner glass or a dusty sensor leaves: straight lines
    down the whole image along the scan, each ``width_mm`` (least, most) wide, letting 35-80 % of the light
    through, ``count``
    (least, most) of them at random columns, or one at each of ``columns_mm`` from the left edge. A 1-bit scan
    is given its streaks before it is thresholded (``one_bit_copy`` after, as ``degrade_scan``)."""
    out = image.astype(np.float32)
    w = image.shape[1]
    xs = np.arange(w, dtype=np.float32)
    places = [x_mm * dpi / 25.4 for x_mm in columns_mm] or \
        [rng.uniform(0.1, 0.9) * w for _ in range(rng.randint(*count))]
    for x in places:
        width_px = rng.uniform(*width_mm) * dpi / 25.4
        through = rng.uniform(0.35, 0.8)
        covered = np.clip(width_px / 2 + 0.5 - np.abs(xs - x), 0, 1)  # the share of each column the streak covers
        profile = 1 - covered * (1 - through)
        out *= profile[None, :, None] if out.ndim == 3 else profile[None, :]
    return np.clip(out, 0, 255).astype(np.uint8)


def bend_page(image: np.ndarray, dpi: float, bulge_mm: float) -> np.ndarray:
    """``image`` (a page, edge to edge) as a page that does not lie flat: its middle pushed ``bulge_mm`` down
    and to the right, easing off to nothing at its edges, where the markers are (so registration cannot
    see it). Mid-page boxes land up to ``bulge_mm`` from where a flat page would put them."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    push = np.float32(bulge_mm * dpi / 25.4) * np.sin(np.pi * xs / w) * np.sin(np.pi * ys / h)
    return cv2.remap(image, xs - push, ys - push, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def degrade_photo(rgb: np.ndarray, rng: random.Random, frame_px: tuple[int, int] = (3000, 2250),
                  fill: float | None = None, scale: float | None = None, glare: bool = False,
                  spot: Callable[[np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
    """A phone photo of the page on a desk: perspective, clutter, uneven light, a shadow, blur, JPEG.
    The page spans ``fill`` of the frame (random when not given), or, given ``scale``, each pixel of
    ``rgb`` becomes ``scale`` pixels of the photo whatever the frame. With ``glare``, a lamp's reflection
    too (``add_glare``); ``spot`` (frame, homography from ``rgb``'s pixels to the frame's), called where
    the glare is added, adds light of its own (``glare_spot``). Returns the decoded JPEG as RGB."""
    fw, fh = frame_px
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    # a desk of one grey, its grain in 8 px blocks: each block's value is worked out once, then enlarged
    # (the full frame is 12 MP of three float channels; every temporary of that size costs a good part of a second)
    grey = np.float32(rng.randint(60, 200))
    blocks = (grey + np_rng.normal(0, 12, (fh // 8 + 1, fw // 8 + 1))).astype(np.float32)
    background = np.empty((fh, fw, 3), np.float32)
    background[...] = blocks.repeat(8, 0).repeat(8, 1)[:fh, :fw, None]
    for _ in range(rng.randint(2, 6)):  # clutter: other papers, a pen, a mug
        x, y = rng.randrange(fw), rng.randrange(fh)
        colour = [rng.randint(0, 255) for _ in range(3)]
        cv2.rectangle(background, (x, y), (x + rng.randint(50, 600), y + rng.randint(20, 400)), colour, -1)
    h, w = rgb.shape[:2]
    fill = fill or rng.uniform(0.55, 0.85)
    quarter = rng.choice([0, 0, 90, 180, 270])
    seen_w, seen_h = (h, w) if quarter in (90, 270) else (w, h)
    scale = scale or fill * min(fw / seen_w, fh / seen_h) * 0.92  # room for the tilt
    cx, cy = fw / 2 + rng.uniform(-0.05, 0.05) * fw, fh / 2 + rng.uniform(-0.05, 0.05) * fh
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float32) * 0.5 * scale
    corners += np.array([[rng.uniform(-0.06, 0.06) * w * scale for _ in range(2)] for _ in range(4)], np.float32)
    angle = np.deg2rad(rng.uniform(-12, 12) + quarter)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    target = corners @ rotation.T + np.array([cx, cy], np.float32)
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    homography = cv2.getPerspectiveTransform(source, target)
    page = cv2.warpPerspective(rgb.astype(np.float32), homography, (fw, fh), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), homography, (fw, fh))[..., None]
    np.multiply(background, 1 - mask, out=background)  # in place: the same arithmetic, no frame-sized temporaries
    np.multiply(page, mask, out=page)
    image = np.add(background, page, out=background)
    # light falls off across the desk, and a soft shadow crosses part of it
    # light and shadow vary over hundreds of pixels: both are made at 1/8 scale and enlarged, since
    # full-size float arithmetic on a 12 MP frame took seconds a photo
    shrink = 8
    sw, sh = -(-fw // shrink), -(-fh // shrink)
    gx, gy = np.meshgrid(np.linspace(-1, 1, sw, dtype=np.float32), np.linspace(-1, 1, sh, dtype=np.float32))
    direction = rng.uniform(0, 2 * np.pi)
    light = 1.0 - rng.uniform(0.1, 0.35) * (0.5 + 0.5 * (gx * np.cos(direction) + gy * np.sin(direction)))
    shadow = np.zeros((sh, sw), np.float32)
    x0 = rng.uniform(0, fw)
    corners_px = np.array([[x0, 0], [x0 + fw * 0.3, 0], [x0 + fw * 0.1, fh], [x0 - fw * 0.2, fh]]) / shrink
    cv2.fillPoly(shadow, [corners_px.astype(np.int32)], 1.0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), fw * 0.02 / shrink) * rng.uniform(0.0, 0.35)
    lighting = cv2.resize((light * (1 - shadow)).astype(np.float32), (fw, fh), interpolation=cv2.INTER_LINEAR)
    np.multiply(image, lighting[..., None], out=image)
    if glare:
        add_glare(image, rng)
    if spot is not None:
        spot(image, homography)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.3), dst=page)
    rows = max(1, (1 << 20) // image[0].size)  # grain, a band of rows at a time: the same draws in the same order
    band = np.empty((rows, *image.shape[1:]), np.float32)
    for top in range(0, fh, rows):
        grain = band[:min(rows, fh - top)]
        np_rng.standard_normal(dtype=np.float32, out=grain)
        grain *= 3
        image[top:top + len(grain)] += grain
    image = np.clip(image, 0, 255, out=image).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(60, 90)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def add_glare(image: np.ndarray, rng: random.Random) -> None:
    """A lamp reflected by the page, in place on a float RGB frame: an oval of light whose radius (where
    it falls to 1/e) is 4-12 % of the frame's width, somewhere in its middle three fifths, adding 120-260
    grey levels at its centre (clipped to white later, as the camera clips it). Made at 1/8 scale and
    enlarged, as the light and shadow are."""
    fh, fw = image.shape[:2]
    shrink = 8
    sw, sh = -(-fw // shrink), -(-fh // shrink)
    cx, cy = rng.uniform(0.2, 0.8) * sw, rng.uniform(0.2, 0.8) * sh
    radius = rng.uniform(0.04, 0.12) * sw
    squash = rng.uniform(0.5, 1.0)
    gx, gy = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    light = np.exp(-(((gx - cx) / radius) ** 2 + ((gy - cy) / (radius * squash)) ** 2)) * rng.uniform(120, 260)
    image += cv2.resize(light.astype(np.float32), (fw, fh), interpolation=cv2.INTER_LINEAR)[..., None]


def glare_spot(centre_mm: tuple[float, float], diameter_mm: float, edge_mm: float, dpi: float,
               level: float = 250.0) -> Callable[[np.ndarray, np.ndarray], None]:
    """A small, bright reflection for ``degrade_photo``'s ``spot``: a disc ``diameter_mm`` across centred on
    ``centre_mm`` of the page (at ``dpi``), adding ``level`` grey levels (clipped to white later, as the
    camera clips it), falling to nothing over ``edge_mm`` at its rim (a sharp or a soft edge)."""
    def add(image: np.ndarray, homography: np.ndarray) -> None:
        scale = dpi / 25.4
        points = np.array([[[centre_mm[0] * scale, centre_mm[1] * scale],
                            [(centre_mm[0] + 1) * scale, centre_mm[1] * scale]]], np.float32)
        (cx, cy), (ex, ey) = cv2.perspectiveTransform(points, homography)[0]
        px_per_mm = float(np.hypot(ex - cx, ey - cy))
        reach = int((diameter_mm / 2 + edge_mm) * px_per_mm) + 2
        x0, y0 = max(0, int(cx) - reach), max(0, int(cy) - reach)
        window = image[y0:int(cy) + reach, x0:int(cx) + reach]
        ys, xs = np.mgrid[0:window.shape[0], 0:window.shape[1]].astype(np.float32)
        distance_mm = np.hypot(xs + x0 - cx, ys + y0 - cy) / px_per_mm
        rim = max(edge_mm, 1 / px_per_mm)
        window += (level * np.clip((diameter_mm / 2 + rim / 2 - distance_mm) / rim, 0, 1))[..., None]
    return add


def write_text(image: np.ndarray, dpi: float, box: Box, text: str, rng: random.Random, pen: str = "black",
               baselines_y_mm: tuple[float, ...] = ()) -> None:
    """Handwriting-like ``text`` in the writing area ``box``: a script font, each word a little larger or
    smaller and off the line, the line slanted and tilted, in ink of ``pen``. A newline starts the next
    line; lines sit on ``baselines_y_mm`` when given (a text area's ruled lines), else spaced down the box.
    Words that would run past the right edge are dropped, as a writer would go on to the next line."""
    scale = dpi / 25.4
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return
    spacing = box.h_mm / (len(lines) + 0.3)
    if not baselines_y_mm:
        baselines_y_mm = tuple(box.y_mm + spacing * (i + 0.9) for i in range(len(lines)))
    height_mm = min(rng.uniform(3.2, 4.6), 0.8 * min(spacing, 8.5))  # of a capital, above the line
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    font_scale = height_mm * scale / cv2.getTextSize("H", font, 1.0, 1)[0][1]
    thickness = max(1, int(round(rng.uniform(0.25, 0.45) * scale)))
    slant = rng.uniform(-0.35, 0.05)  # most hands lean right
    colour = np.array(PENS[pen], np.float32)
    for line, baseline in zip(lines, baselines_y_mm, strict=False):
        words = line.split()
        pad = int(height_mm * scale)
        width = int((box.w_mm - 2) * scale)
        canvas = np.zeros((4 * pad, width + 2 * pad), np.uint8)
        x, base = pad + int(rng.uniform(1.0, 6.0) * scale), 2 * pad
        for word in words:
            size = font_scale * rng.uniform(0.9, 1.1)
            (w, _), _ = cv2.getTextSize(word, font, size, thickness)
            if x + w > pad + width:
                break
            dy = int(round(rng.uniform(-0.4, 0.4) * scale))
            cv2.putText(canvas, word, (x, base + dy), font, size, 255, thickness, cv2.LINE_AA)
            x += w + int(rng.uniform(1.6, 3.2) * scale)
        centre = (canvas.shape[1] / 2, base)
        matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-1.5, 1.5), 1.0)
        matrix[0, 1] += slant
        matrix[0, 2] -= slant * centre[1]
        canvas = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]), flags=cv2.INTER_LINEAR)
        x0 = int(round((box.x_mm + 1) * scale)) - pad
        y0 = int(round((baseline - rng.uniform(0.0, 0.6)) * scale)) - base
        ch, cw = canvas.shape
        ix0, iy0 = max(0, x0), max(0, y0)
        ix1, iy1 = min(image.shape[1], x0 + cw), min(image.shape[0], y0 + ch)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        alpha = canvas[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0].astype(np.float32) / 255 * rng.uniform(0.8, 1.0)
        ink = colour.min(keepdims=True) if image.ndim == 2 else colour
        if image.ndim == 3:
            alpha = alpha[..., None]
        region = image[iy0:iy1, ix0:ix1].astype(np.float32)
        image[iy0:iy1, ix0:ix1] = np.clip(region * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)


def draw_respondent_mark(image: np.ndarray, dpi: float, box: Box, style: str, rng: random.Random,
                         pen: str = "black") -> None:
    """A mark as respondents make them, beyond ``draw_mark``'s: ``dot``, a small filled circle of 1.2-2 mm,
    and ``slash``, one diagonal stroke (mostly /, sometimes \\). Other styles are ``draw_mark``'s."""
    if style not in ("dot", "slash"):
        draw_mark(image, dpi, box, style, rng, pen)
        return
    width = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
    p = _Pen(image, dpi, pen, width)
    cx = box.x_mm + box.w_mm / 2 + rng.uniform(-0.6, 0.6)
    cy = box.y_mm + box.h_mm / 2 + rng.uniform(-0.6, 0.6)
    if style == "dot":
        radius = rng.uniform(1.2, 2.0) / 2
        centre = p.px(cx, cy)
        axes = p.px(radius * rng.uniform(0.85, 1.15), radius * rng.uniform(0.85, 1.15))
        cv2.ellipse(image, centre, axes, rng.uniform(0, 180), 0, 360, p.colour, -1, cv2.LINE_AA, shift=2)
        return
    s = box.w_mm / 2 * rng.uniform(0.7, 1.2)
    sign = 1 if rng.random() < 0.8 else -1
    bow = rng.uniform(-0.4, 0.4)  # a hand-drawn stroke is rarely quite straight
    p.stroke([(cx - sign * s * 0.8 + rng.uniform(-0.3, 0.3), cy + s * 0.8 + rng.uniform(-0.3, 0.3)),
              (cx + bow, cy + sign * bow),
              (cx + sign * s * 0.8 + rng.uniform(-0.3, 0.3), cy - s * 0.8 + rng.uniform(-0.3, 0.3))])


def draw_mark_beside(image: np.ndarray, dpi: float, box: Box, style: str, rng: random.Random,
                     pen: str = "black", neighbour: Box | None = None) -> None:
    """A mark that answers ``box`` without a stroke inside it, as some respondents make them: ``circle``,
    a loop 1-2.5 mm clear of the box all round; ``beside``, a tick 1-2 mm to its left; ``between``, a tick
    on the paper halfway between ``box`` and ``neighbour`` (the next option). And ``long``: a tick in the
    box twice its size, its tail far outside, as some people tick (an answer, unlike the others, that a
    reader must take)."""
    width = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
    p = _Pen(image, dpi, pen, width)
    cx, cy = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2
    if style == "circle":
        ry = box.h_mm / 2 + rng.uniform(1.0, 2.5)
        rx, start = ry * rng.uniform(1.0, 1.3), rng.uniform(0, 2 * np.pi)
        turn = 2 * np.pi * rng.uniform(1.0, 1.12)  # a hand closes a loop by overshooting it
        points = []
        for k in range(40):
            a, wobble = start + turn * k / 39, 1 + rng.uniform(-0.06, 0.06)
            points.append((cx + rx * wobble * np.cos(a), cy + ry * wobble * np.sin(a)))
        p.stroke(points)
        return
    if style == "long":  # a tick twice the box, its tail far out: still this box's answer
        s = box.w_mm * rng.uniform(0.9, 1.3)
        p.stroke([(cx - s * 0.4, cy - s * 0.1), (cx, cy + s * 0.3), (cx + s * 1.0, cy - s * 1.1)])
        return
    if style == "between":
        if neighbour is None:
            raise ValueError("a mark between two boxes needs the neighbour")
        cx, cy = (cx + neighbour.x_mm + neighbour.w_mm / 2) / 2, (cy + neighbour.y_mm + neighbour.h_mm / 2) / 2
    elif style == "beside":
        cx = box.x_mm - rng.uniform(1.0, 2.0) - box.w_mm * 0.45
    else:
        raise ValueError(style)
    s = box.w_mm / 2 * rng.uniform(0.7, 0.9)
    p.stroke([(cx - s * 0.7, cy), (cx - s * 0.15, cy + s * 0.7), (cx + s * 0.9, cy - s * 0.9)])


def draw_question_mark(image: np.ndarray, dpi: float, box: Box, pen: str, height_mm: float, dot_gap_mm: float,
                       width_mm: float = 0.4, dx_mm: float = 0.0) -> None:
    """A handwritten "?" ``height_mm`` tall, centred in ``box`` (``dx_mm`` to the right): a hook (a round top,
    a stem down) and a dot ``dot_gap_mm`` under it, in a pen ``width_mm`` wide."""
    p = _Pen(image, dpi, pen, width_mm)
    hook_mm = height_mm - dot_gap_mm - 2 * width_mm - 0.05  # the pen's round ends and the dot
    cx, top = box.x_mm + box.w_mm / 2 + dx_mm, box.y_mm + (box.h_mm - height_mm) / 2 + width_mm / 2
    r = hook_mm * 0.3
    arc = [(cx + r * np.cos(a), top + r + r * np.sin(a)) for a in np.linspace(np.pi * 1.1, np.pi * 2.4, 12)]
    stem_foot = top + hook_mm
    p.stroke([*arc, (cx, top + 2.2 * r), (cx, stem_foot)])
    dot_y = stem_foot + dot_gap_mm + width_mm
    p.stroke([(cx - 0.05, dot_y), (cx + 0.1, dot_y + 0.05)])


def draw_label_mark(image: np.ndarray, dpi: float, lines: list[Box], style: str, rng: random.Random,
                    pen: str = "black") -> None:
    """A mark on the words printed under a box (``lines``: their letters' rectangles, top line first) instead
    of in it: ``ringed``, a loop 0.8-2 mm clear of the words all round; ``underlined``, a hand-drawn line
    0.4-1.4 mm under the first line, from about its start to its end, slightly slanted and wavy."""
    width = {"pencil": 0.3, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
    p = _Pen(image, dpi, pen, width)
    if style == "ringed":
        left, top = min(b.x_mm for b in lines), lines[0].y_mm
        right, bottom = max(b.x_mm + b.w_mm for b in lines), max(b.y_mm + b.h_mm for b in lines)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        rx, ry = (right - left) / 2 + rng.uniform(0.8, 2.0), (bottom - top) / 2 + rng.uniform(0.8, 2.0)
        start, turn = rng.uniform(0, 2 * np.pi), 2 * np.pi * rng.uniform(1.0, 1.12)
        p.stroke([(cx + rx * (1 + rng.uniform(-0.05, 0.05)) * np.cos(start + turn * k / 39),
                   cy + ry * (1 + rng.uniform(-0.05, 0.05)) * np.sin(start + turn * k / 39)) for k in range(40)])
    elif style == "underlined":
        first = lines[0]
        x1, x2 = first.x_mm - rng.uniform(-0.3, 1.5), first.x_mm + first.w_mm + rng.uniform(-0.3, 1.5)
        y, slant = first.y_mm + first.h_mm + rng.uniform(0.4, 1.4), rng.uniform(-0.6, 0.6)
        p.stroke([(x, y + slant * (x - x1) / max(x2 - x1, 1.0) + rng.gauss(0, 0.12))
                  for x in np.linspace(x1, x2, 12)])
    else:
        raise ValueError(style)


def lay_cards(cards: list[np.ndarray], turns: list[int], angles: list[float], gap_px: int = 0,
              glass_px: tuple[int, int] = (2480, 3508), columns: int = 2) -> np.ndarray:
    """Card images (RGB, one resolution) on a white flatbed glass of ``glass_px`` (width, height), in rows
    of ``columns``, each turned by ``turns`` (multiples of 90 degrees) and ``angles`` (degrees) more, with
    ``gap_px`` between them (0: touching). Returns RGB."""
    width, height = glass_px
    glass = np.full((height, width, 3), 250, np.uint8)
    h, w = cards[0].shape[:2]
    step = max(w, h) + gap_px
    for index, (image, turn, angle) in enumerate(zip(cards, turns, angles, strict=True)):
        turned = np.rot90(image, turn // 90).copy()
        th, tw = turned.shape[:2]
        x0, y0 = 200 + (index % columns) * step, 200 + (index // columns) * step
        rotation = cv2.getRotationMatrix2D((tw / 2, th / 2), angle, 1.0)
        rotation[:, 2] += (x0, y0)
        mask = cv2.warpAffine(np.full((th, tw), 255, np.uint8), rotation, (width, height))
        placed = cv2.warpAffine(turned, rotation, (width, height), borderValue=(255, 255, 255))
        glass[mask > 128] = placed[mask > 128]
    return glass


def draw_crease(image: np.ndarray, dpi: float, start_mm: tuple[float, float], end_mm: tuple[float, float],
                darkness: float = 0.3, width_mm: float = 0.3, blur_mm: float = 0.15) -> None:
    """A fold of the paper from ``start_mm`` to ``end_mm`` (x, y from the page's top-left corner), in place
    on ``image`` (RGB uint8): a thin line ``darkness`` darker than the paper and the print under it, and a
    lighter strip beside it where the ridge catches the light, both blurred by ``blur_mm``."""
    scale = dpi / 25.4
    p1, p2 = np.float32(start_mm) * scale, np.float32(end_mm) * scale
    valley, ridge = np.zeros(image.shape[:2], np.float32), np.zeros(image.shape[:2], np.float32)
    width_px = max(1, int(round(width_mm * scale)))
    cv2.line(valley, tuple(int(v) for v in p1), tuple(int(v) for v in p2), darkness, width_px, cv2.LINE_AA)
    along = (p2 - p1) / max(float(np.linalg.norm(p2 - p1)), 1.0)
    beside = np.float32([-along[1], along[0]]) * (width_px + 1)
    cv2.line(ridge, tuple(int(v) for v in p1 + beside), tuple(int(v) for v in p2 + beside), 0.08,
             max(1, int(round(0.6 * scale))), cv2.LINE_AA)
    sigma = max(0.3, blur_mm * scale)
    valley, ridge = cv2.GaussianBlur(valley, (0, 0), sigma), cv2.GaussianBlur(ridge, (0, 0), sigma)
    shaded = image.astype(np.float32) * ((1 - valley) * (1 + ridge))[..., None]
    image[...] = np.clip(shaded, 0, 255).astype(np.uint8)


def crease_page(image: np.ndarray, dpi: float, rng: random.Random, crumpled: bool = False) -> None:
    """Folds, in place on ``image`` (a page, edge to edge, RGB): a card folded once or twice in a pocket
    (a fold across the whole page, near its middle or a third of the way), or a crumpled page (three to
    eight shorter creases, 15-80 mm, every way). Each crease is 10-45 % darker than the paper, 0.15-0.5 mm
    wide, blurred by 0.1-0.3 mm."""
    h_mm, w_mm = image.shape[0] * 25.4 / dpi, image.shape[1] * 25.4 / dpi
    for _ in range(rng.randint(3, 8) if crumpled else rng.randint(1, 2)):
        if crumpled:
            cx, cy, angle = rng.uniform(0, w_mm), rng.uniform(0, h_mm), rng.uniform(0, np.pi)
            half = rng.uniform(15, 80) / 2
        elif rng.random() < 0.5:  # folded down the middle
            cx, cy, angle = w_mm / 2 + rng.uniform(-0.1, 0.1) * w_mm, h_mm / 2, np.pi / 2 + rng.uniform(-0.05, 0.05)
            half = max(h_mm, w_mm)
        else:  # folded across, in half or in three
            cx, cy = w_mm / 2, h_mm * (rng.choice([0.5, 1 / 3, 2 / 3]) + rng.uniform(-0.05, 0.05))
            angle, half = rng.uniform(-0.05, 0.05), max(h_mm, w_mm)
        dx, dy = np.cos(angle) * half, np.sin(angle) * half
        draw_crease(image, dpi, (cx - dx, cy - dy), (cx + dx, cy + dy), rng.uniform(0.1, 0.45),
                    rng.uniform(0.15, 0.5), rng.uniform(0.1, 0.3))


NOTE_COLOURS = {"yellow": (250, 238, 140), "pink": (250, 200, 215), "blue": (185, 220, 250), "green": (205, 245, 175)}


def stick_note(image: np.ndarray, dpi: float, page: Page, rng: random.Random) -> dict[str, bool]:
    """A sticky note (38-76 mm square, a pale colour, a word or two on it, a soft shadow along its lower
    edges), in place on ``image`` (the page, RGB), over one of ``page``'s fields chosen at random and
    whatever else it reaches. Returns, per field it reaches, whether it covers it: half a box or more, 5 mm of
    a line, a tenth of a writing area (else it only touches it: the print round what is answered)."""
    scale = dpi / 25.4
    target = field_box(rng.choice(page.fields))
    side_mm = rng.choice([38.0, 51.0, 76.0])
    x_mm = target.x_mm + target.w_mm * rng.uniform(0, 1) - side_mm * rng.uniform(0.2, 0.8)
    y_mm = target.y_mm + target.h_mm * rng.uniform(0, 1) - side_mm * rng.uniform(0.2, 0.8)
    x0, y0 = int(round(x_mm * scale)), int(round(y_mm * scale))
    x1, y1 = int(round((x_mm + side_mm) * scale)), int(round((y_mm + side_mm) * scale))
    shadow = np.zeros(image.shape[:2], np.float32)
    cv2.rectangle(shadow, (x0 + 2, y0 + 4), (x1 + 4, y1 + 6), 0.25, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.6 * scale))
    image[...] = np.clip(image.astype(np.float32) * (1 - shadow)[..., None], 0, 255).astype(np.uint8)
    top, left = max(0, y0), max(0, x0)
    note = image[top:max(top, y1), left:max(left, x1)]
    note[...] = NOTE_COLOURS[rng.choice(sorted(NOTE_COLOURS))]
    cv2.putText(note, rng.choice(["see file", "moved", "called 3/2", "ok"]), (int(4 * scale), int(12 * scale)),
                cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 0.12 * scale, (40, 40, 120), max(1, int(0.3 * scale)), cv2.LINE_AA)
    rect = (x_mm, y_mm, x_mm + side_mm, y_mm + side_mm)
    return {f.id: _covers(f, rect) for f in page.fields if _overlap_mm2(field_box(f), rect) > 0}


def _covers(f: Field, rect_mm: tuple[float, float, float, float]) -> bool:
    if isinstance(f, LineField):
        return _overlap_mm2(Box(f.x1_mm, f.y1_mm - 0.5, f.x2_mm - f.x1_mm, 1.0), rect_mm) >= 5.0
    boxes = field_boxes(f)
    if boxes:
        return any(_overlap_mm2(box, rect_mm) >= 0.5 * box.w_mm * box.h_mm for box in boxes)
    box = field_box(f)
    return _overlap_mm2(box, rect_mm) >= 0.1 * box.w_mm * box.h_mm


def _overlap_mm2(box: Box, rect_mm: tuple[float, float, float, float]) -> float:
    left, top, right, bottom = rect_mm
    across = min(box.x_mm + box.w_mm, right) - max(box.x_mm, left)
    down = min(box.y_mm + box.h_mm, bottom) - max(box.y_mm, top)
    return max(0.0, across) * max(0.0, down)


def draw_arrow_move(image: np.ndarray, dpi: float, box: Box, target: Box, rng: random.Random,
                    pen: str = "black") -> None:
    """A mind changed by an arrow: a tick or cross in ``box``, then an arrow from it to ``target`` (another box
    of the same row). The shaft starts at the mark or at ``box``'s border facing ``target``; it runs straight and
    level with the row (seven in ten) or arches over or under the boxes between, 1.5-3 mm clear of them; it ends
    0-1.5 mm before ``target`` (or touching it) in a head, a V of two strokes 1-2 mm long."""
    draw_mark(image, dpi, box, rng.choice(["tick", "cross"]), rng, pen)
    width = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.3)
    p = _Pen(image, dpi, pen, width)
    way = 1 if target.x_mm > box.x_mm else -1
    cy = box.y_mm + box.h_mm / 2
    from_mark = rng.random() < 0.5
    start_x = box.x_mm + box.w_mm / 2 + way * rng.uniform(0.0, 0.8) if from_mark \
        else (box.x_mm + box.w_mm if way > 0 else box.x_mm) + way * rng.uniform(0.0, 0.4)
    near_side = target.x_mm if way > 0 else target.x_mm + target.w_mm
    gap = 0.0 if rng.random() < 0.25 else rng.uniform(0.0, 1.5)
    end_x = near_side - way * gap
    y0 = cy + rng.uniform(-0.6, 0.6)
    if rng.random() < 0.7:  # straight and level with the row, as a hand draws it
        y1 = y0 + rng.uniform(-0.5, 0.5)
        points = [(x, y0 + (y1 - y0) * k / 11 + rng.gauss(0, 0.05))
                  for k, x in enumerate(np.linspace(start_x, end_x, 12))]
        heading = (end_x - start_x, y1 - y0)
    else:  # arched over or under the boxes between, coming down (or up) at the target's side or onto it
        side = rng.choice([-1, 1])  # -1: over the row
        rise = box.h_mm / 2 + rng.uniform(1.5, 3.0)
        if rng.random() < 0.5:
            end_x, y1 = target.x_mm + target.w_mm / 2, cy + side * (target.h_mm / 2 + gap)
        else:
            y1 = cy + side * rng.uniform(0.0, box.h_mm / 2)
        # a quadratic curve whose middle is ``rise`` from the row's middle (its control point twice as far)
        control = ((start_x + end_x) / 2, 2 * (cy + side * rise) - (y0 + y1) / 2)
        points = [((1 - t) ** 2 * start_x + 2 * t * (1 - t) * control[0] + t ** 2 * end_x,
                   (1 - t) ** 2 * y0 + 2 * t * (1 - t) * control[1] + t ** 2 * y1) for t in np.linspace(0, 1, 24)]
        heading = (points[-1][0] - points[-3][0], points[-1][1] - points[-3][1])
    p.stroke(points)
    angle = np.arctan2(heading[1], heading[0])
    tip = points[-1]
    for turn in (1, -1):
        spread, length = np.deg2rad(rng.uniform(25, 40)), rng.uniform(1.0, 2.0)
        back = angle + np.pi + turn * spread
        p.stroke([tip, (tip[0] + length * np.cos(back), tip[1] + length * np.sin(back))])


def draw_mark_between_rows(image: np.ndarray, dpi: float, box: Box, other_row_box: Box, rng: random.Random,
                           pen: str = "black") -> None:
    """A tick or a cross (by ``rng``, as ``draw_mark`` draws them) meant for ``box`` but placed half a row off:
    centred 35-65 % of the way from ``box``'s centre towards ``other_row_box``'s (the box in the same column of
    the next row), astride the gap between the two rows' boxes."""
    share = rng.uniform(0.35, 0.65)
    moved = Box(box.x_mm + share * (other_row_box.x_mm - box.x_mm), box.y_mm + share * (other_row_box.y_mm - box.y_mm),
                box.w_mm, box.h_mm)
    draw_mark(image, dpi, moved, rng.choice(["tick", "cross"]), rng, pen)


STAMP_INKS = {"red": (200, 40, 55), "blue": (45, 70, 180), "violet": (110, 50, 150)}


def draw_stamp(image: np.ndarray, dpi: float, centre_mm: tuple[float, float], rng: random.Random,
               size_mm: tuple[float, float] = (52.0, 16.0), angle_deg: float = 0.0, ink: str = "violet",
               lines: tuple[str, ...] = ("RECEIVED", "03 DEC 2026")) -> np.ndarray:
    """An office's rubber stamp, in place on ``image`` (RGB at ``dpi``): a frame ``size_mm`` (width, height) round
    ``lines`` of capitals, centred at ``centre_mm`` (x, y from the page's top-left corner), turned ``angle_deg``,
    unevenly inked (a slow field of strength 0.25-1 and dropouts, as a stamp pressed by hand) in ``ink``
    (``STAMP_INKS``) multiplied into the paper and print. Returns its ink's strength per pixel of the page (0-1)."""
    s = dpi / 25.4
    w_mm, h_mm = size_mm
    canvas = np.zeros((int(h_mm * s * 1.6) + 4, int(w_mm * s * 1.3) + 4), np.uint8)
    ox, oy = (canvas.shape[1] - w_mm * s) / 2, (canvas.shape[0] - h_mm * s) / 2
    cv2.rectangle(canvas, (int(ox), int(oy)), (int(ox + w_mm * s), int(oy + h_mm * s)), 255, max(1, int(0.7 * s)))
    font = cv2.FONT_HERSHEY_DUPLEX
    thickness = max(1, int(0.35 * s))
    for k, text in enumerate(lines):
        pitch = h_mm * s / (len(lines) + 1.2)
        scale = pitch / cv2.getTextSize("H", font, 1.0, 1)[0][1] * 0.8
        scale *= min(1.0, 0.9 * w_mm * s / cv2.getTextSize(text, font, scale, thickness)[0][0])
        width = cv2.getTextSize(text, font, scale, thickness)[0][0]
        cv2.putText(canvas, text, (int(canvas.shape[1] / 2 - width / 2), int(oy + pitch * (k + 1.1) + pitch * 0.2 * k)),
                    font, scale, 255, thickness, cv2.LINE_AA)
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    slow = cv2.resize(np_rng.uniform(0.25, 1.0, (6, 12)).astype(np.float32), canvas.shape[::-1],
                      interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur((np_rng.random(canvas.shape) > 0.15).astype(np.float32), (0, 0), 0.6)
    strength = np.clip(canvas.astype(np.float32) / 255 * np.clip(slow, 0, 1) * grain, 0, 1) * 0.85
    matrix = cv2.getRotationMatrix2D((canvas.shape[1] / 2, canvas.shape[0] / 2), angle_deg, 1.0)
    matrix[:, 2] += (centre_mm[0] * s - canvas.shape[1] / 2, centre_mm[1] * s - canvas.shape[0] / 2)
    mask = cv2.warpAffine(strength, matrix, (image.shape[1], image.shape[0]))
    tint = 1.0 - mask[..., None] * (1.0 - np.array(STAMP_INKS[ink], np.float32) / 255)
    image[...] = np.clip(image.astype(np.float32) * tint, 0, 255).astype(np.uint8)
    return mask
