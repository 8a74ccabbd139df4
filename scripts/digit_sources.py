"""Where the digit recogniser's training, calibration and benchmark digits come from, as MNIST-like images.

- MNIST (``train_digits.split``): 45,000 training, 5,000 validation, 10,000 held-back digits.
- Other writers (``MORE_DIGITS``): the US Postal Service's zip-code digits (usps-train.npz, 7,291) and
  digits that 30 people wrote into boxes on NIST's forms (optdigits-train.npz, 1,934). The sets carry no
  writer ids, so each is cut into blocks of ``BLOCK`` consecutive digits (in USPS, consecutive digits are
  mostly one zip code, one writer), the blocks dealt at random (seed 0): a quarter held back for the
  benchmark (benchmarks/handwriting_accuracy.py), half to train the networks on (train_digits.py) and a
  quarter to choose the acceptance threshold on (calibrate_digits.py).
- ``styled``: shapes MNIST's writers rarely use, drawn onto MNIST training digits: a continental 1 (a
  long flag, sometimes a foot), a 7 with a bar, a 4 closed at the top, any digit stretched to fill its box.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MORE_DIGITS = ROOT.parent / "shared" / "data" / "more-digits"
OTHER_WRITERS = ("usps", "optdigits")
PARTS = ("training", "calibration", "held-back")
BLOCK = 100  # consecutive digits kept together when a set is cut into parts
NARROW = 0.45  # a digit narrower than this (width / height), a plain 1, is not stretched: nobody writes 1 as a block
STYLED_PX = 36  # styled digits: room around MNIST's 28 px for a flag or a bar that reaches beyond it
ROUND_TOP_SHARE = 0.3  # of closed 4s: the top one curve, like a 9's loop
FILLED_TOP_SHARE = 0.25  # of closed 4s: the top filled in, as a felt pen closes a small loop


def as_mnist(image: np.ndarray, stretch: bool = False) -> np.ndarray:
    """A digit image (any size, ink high, grey or binary) as MNIST draws one: 28×28 uint8, ink 255, the ink's
    bounding box scaled to 20 px on its long side, the aspect kept, centred by mass; with ``stretch``, scaled
    to fill a 20×20 square instead, as USPS fills its frame (a digit narrower than ``NARROW`` is left
    narrow). Strokes keep their width relative to the digit."""
    ink = image.astype(np.float32) / max(1.0, float(image.max()))
    ys, xs = np.nonzero(ink > 0.12)
    out = np.zeros((28, 28), np.float32)
    if ys.size == 0:
        return out.astype(np.uint8)
    piece = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = piece.shape
    if stretch and w / h > NARROW:
        th = tw = 20
    else:
        scale = 20 / max(h, w)
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.clip(cv2.resize(piece, (tw, th), interpolation=cv2.INTER_AREA if th < h else cv2.INTER_LINEAR), 0, 1)
    total = float(small.sum()) or 1.0
    cy = float((small.sum(axis=1) * np.arange(th)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(tw)).sum()) / total
    oy = min(max(int(round(13.5 - cy)), 0), 28 - th)
    ox = min(max(int(round(13.5 - cx)), 0), 28 - tw)
    out[oy:oy + th, ox:ox + tw] = small
    return np.round(out * 255).astype(np.uint8)


def parts(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices of each part (``PARTS``) of a set of ``n`` digits: blocks of ``BLOCK`` consecutive digits,
    dealt at random (``seed``): the first quarter of the dealt blocks to train on, the second to calibrate
    on; the half after them was held back until 2026-12-05, when its first half went to training beside the first
    quarter (the networks gain most from writers unlike MNIST's, and these sets are small). So the
    held-back quarter is part of the half held back before: networks trained before can be judged on it."""
    blocks = -(-n // BLOCK)
    dealt = np.random.default_rng(seed).permutation(blocks)
    quarter, half = blocks // 4, blocks // 2
    moved = (blocks - half) // 2
    cut = {"training": np.concatenate([dealt[:quarter], dealt[half:half + moved]]),
           "calibration": dealt[quarter:half], "held-back": dealt[half + moved:]}
    block_of = np.arange(n) // BLOCK
    return {part: np.nonzero(np.isin(block_of, chosen))[0] for part, chosen in cut.items()}


def other_writers(name: str, part: str, folder: Path = MORE_DIGITS, limit: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``part`` (one of ``PARTS``) of set ``name`` (usps, optdigits) as MNIST-like images:
    (images (2N, 28, 28) uint8, labels (2N,), stretched (2N,) bool): every digit as it comes, then every
    digit stretched to fill its frame; the first ``limit`` digits of the part only, if given."""
    index = part_indices(name, part, folder)[:limit]
    with np.load(folder / f"{name}-train.npz") as data:
        x, y = data["x"], data["y"].astype(np.int64)
    images = np.stack([as_mnist(x[i], stretch) for stretch in (False, True) for i in index])
    return images, np.concatenate([y[index], y[index]]), np.repeat([False, True], len(index))


def part_indices(name: str, part: str, folder: Path = MORE_DIGITS) -> np.ndarray:
    """Where the digits of ``part`` (one of ``PARTS``) of set ``name`` lie in its file, in ``other_writers``'
    order (each image it gives as it comes is the digit at the same place here)."""
    with np.load(folder / f"{name}-train.npz") as data:
        return parts(len(data["y"]))[part]


def training_parts(folder: Path = MORE_DIGITS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per other writers' set (``OTHER_WRITERS``), its training part as the networks learn it: images
    (2N, ``STYLED_PX``, ``STYLED_PX``) uint8, framed as ``styled`` frames MNIST's digits (each digit as it
    comes, then stretched), and labels (2N,)."""
    out = {}
    for name in OTHER_WRITERS:
        images, labels, _ = other_writers(name, "training", folder)
        out[name] = np.stack([padded(d) for d in images]), labels
    return out


def padded(image: np.ndarray, size: int = STYLED_PX) -> np.ndarray:
    """``image`` (28×28) in the middle of a ``size``×``size`` frame of no ink."""
    out = np.zeros((size, size), image.dtype)
    o = (size - image.shape[0]) // 2
    out[o:o + image.shape[0], o:o + image.shape[1]] = image
    return out


def _stroke_px(image: np.ndarray) -> float:
    """The strokes' width in pixels: ink area over half the ink's outline."""
    ink = (image > 127).astype(np.uint8)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return float(np.clip(2 * ink.sum() / max(outline, 1.0), 1.5, 4.0))


def _line(image: np.ndarray, start: tuple[float, float], end: tuple[float, float], width_px: float) -> None:
    """A soft-edged stroke from ``start`` to ``end`` (x, y pixels)."""
    def draw(big: np.ndarray, scale: int) -> None:
        cv2.line(big, tuple(int(round(v * scale)) for v in start), tuple(int(round(v * scale)) for v in end), 255,
                 max(1, int(round(width_px * scale))), cv2.LINE_AA)
    _soft(image, draw)


def _polygon(image: np.ndarray, corners: list[tuple[float, float]]) -> None:
    """The inside of ``corners`` (x, y pixels) inked, soft-edged."""
    def draw(big: np.ndarray, scale: int) -> None:
        cv2.fillPoly(big, [np.round(np.array(corners) * scale).astype(np.int32)], 255, cv2.LINE_AA)
    _soft(image, draw)


def _soft(image: np.ndarray, draw: Callable[[np.ndarray, int], None]) -> None:
    """Ink what ``draw(canvas, scale)`` draws on a canvas ``scale`` times the size of ``image``, shrunk: soft edges."""
    scale = 8
    big = np.zeros((image.shape[0] * scale, image.shape[1] * scale), np.uint8)
    draw(big, scale)
    np.maximum(image, cv2.resize(big, image.shape[::-1], interpolation=cv2.INTER_AREA), out=image)


def continental_one(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A 1 (``STYLED_PX`` frame) given a long flag down to the left from its top, and sometimes a foot."""
    out = image.copy()
    ys, xs = np.nonzero(out > 127)
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    top_x = float(xs[ys <= top + 1].mean())
    width = _stroke_px(out)
    # short and steep: a long flag near the horizontal is a 7's top stroke (measured: flags of 0.3-0.6 of the
    # height at 20-60 degrees taught the networks to read MNIST's 7s as 1s, 23 -> 63 of 20,000)
    length = rng.uniform(0.2, 0.42) * height
    angle = math.radians(rng.uniform(35, 65))  # below the horizontal
    _line(out, (top_x, top), (top_x - length * math.cos(angle), top + length * math.sin(angle)), width)
    if rng.random() < 0.3:
        bottom_x = float(xs[ys >= bottom - 1].mean())
        half = rng.uniform(0.15, 0.3) * height
        _line(out, (bottom_x - half, bottom), (bottom_x + half, bottom), width)
    return out


def barred_seven(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A 7 (``STYLED_PX`` frame) crossed by a short bar across its stem, a little below the middle."""
    out = image.copy()
    ys, xs = np.nonzero(out > 127)
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    row = int(round(top + rng.uniform(0.45, 0.65) * height))
    stem = xs[ys == row]
    if stem.size == 0:
        return out
    centre = float(stem.mean())
    half = rng.uniform(0.18, 0.3) * height
    tilt = math.tan(math.radians(rng.uniform(-8, 8))) * half
    _line(out, (centre - half, row + tilt), (centre + half, row - tilt), _stroke_px(out))
    return out


def slashed_zero(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A 0 (``STYLED_PX`` frame) struck through corner to corner (Ø), as programmers, engineers and many
    Scandinavian writers tell a zero from the letter O: the stroke from above the top right to below the bottom
    left, 5-20 % of the digit's size past its ink each end. Not in training (2026-12-06): a benchmark shape."""
    out = image.copy()
    ys, xs = np.nonzero(out > 127)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    height, width = bottom - top, right - left
    over = rng.uniform(0.05, 0.2)
    _line(out, (right + over * width, top - over * height), (left - over * width, bottom + over * height),
          _stroke_px(out))
    return out


def closed_four(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A 4 (``STYLED_PX`` frame) drawn anew closed at the top, in the box of the 4 given: its stem from the
    top down, a stroke from the stem's top down to the left to a crossbar that runs past the stem. MNIST's
    writers leave the 4 open; optdigits' 30 writers close every one, and those of their 4s read as 9s and
    6s were thick, the top round or filled in: the stroke is up to twice the given one's width, the top
    sometimes one round curve (as a 9's loop) and sometimes filled in (``ROUND_TOP_SHARE``,
    ``FILLED_TOP_SHARE``)."""
    ys, xs = np.nonzero(image > 127)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    height, width = bottom - top + 1, right - left + 1
    # the stem is the ink low in the digit, under the crossbar
    stem_x = float(xs[ys >= top + 0.8 * height].mean())
    lean = rng.uniform(-0.12, 0.12) * height  # the stem's top this far right of its foot
    stem_top = (stem_x + lean + rng.uniform(-0.05, 0.05) * width, top + rng.uniform(0.0, 0.08) * height)
    bar_y = top + rng.uniform(0.5, 0.72) * height
    bar_left = (left + rng.uniform(0.0, 0.12) * width, bar_y + rng.uniform(-0.04, 0.04) * height)
    bar_right = (max(stem_x + lean * 0.3 + rng.uniform(0.08, 0.3) * width, right - 0.1 * width),
                 bar_y + rng.uniform(-0.06, 0.02) * height)
    stroke = min(_stroke_px(image) * rng.uniform(0.8, 2.0), 0.2 * height)
    if rng.random() < ROUND_TOP_SHARE:  # bulging up and out to the left, through a control point
        control = (min(stem_top[0], bar_left[0]) - rng.uniform(0.0, 0.15) * width,
                   stem_top[1] + rng.uniform(0.0, 0.15) * height)
        side = [_bezier(stem_top, control, bar_left, t / 8) for t in range(9)]
    else:
        side = [stem_top, (0.5 * (stem_top[0] + bar_left[0]) + rng.uniform(-0.06, 0.06) * width,
                           0.5 * (stem_top[1] + bar_left[1]) + rng.uniform(-0.04, 0.04) * height), bar_left]
    out = np.zeros_like(image)
    if rng.random() < FILLED_TOP_SHARE:
        stem_at_bar = (stem_top[0] + (stem_x - stem_top[0]) * (bar_y - stem_top[1]) / (bottom - stem_top[1]), bar_y)
        _polygon(out, [*side, stem_at_bar])
    for start, end in zip(side, side[1:], strict=False):
        _line(out, start, end, stroke)
    _line(out, bar_left, bar_right, stroke)
    _line(out, stem_top, (stem_x, float(bottom)), stroke)
    return out


def _bezier(a: tuple[float, float], control: tuple[float, float], b: tuple[float, float], t: float
            ) -> tuple[float, float]:
    """The point at ``t`` (0 to 1) of the quadratic curve from ``a`` to ``b`` pulled towards ``control``."""
    return ((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * control[0] + t**2 * b[0],
            (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * control[1] + t**2 * b[1])


def styled(x: np.ndarray, y: np.ndarray, seed: int, share: float = 0.35, stretched_share: float = 0.15
           ) -> np.ndarray:
    """MNIST digits ``x`` (N, 28, 28) with their labels ``y`` in ``STYLED_PX`` frames: of the 1s and 7s,
    ``share`` drawn the continental way, and of the 4s ``share`` closed at the top; of all,
    ``stretched_share`` stretched to fill their box."""
    rng = random.Random(seed)
    out = np.empty((len(x), STYLED_PX, STYLED_PX), np.uint8)
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        if rng.random() < stretched_share:
            image = as_mnist(image, stretch=True)
        framed = padded(image)
        if label == 1 and rng.random() < share:
            framed = continental_one(framed, rng)
        elif label == 7 and rng.random() < share:
            framed = barred_seven(framed, rng)
        elif label == 4 and rng.random() < share:
            framed = closed_four(framed, rng)
        out[i] = framed
    return out
