"""Handwritten digits, one per printed box.

``box_ink`` cuts a box's handwriting out of the registered page (printed borders and neighbouring boxes
removed, strokes that cross the border kept), ``normalise`` turns it into the 28×28 image the recogniser
was trained on (as MNIST: 20 px on the long side, centred by mass), and ``classify`` runs the small
convolutional networks (``models/digits.npz``, rebuilt by ``scripts/train_digits.py``) on all boxes of a
page at once, in OpenCV's dnn module (NumPy when that is missing).

``recognise`` is what the scanner reads digits with: the same networks, in the same pass, and how far each
digit lies from the training digits of the class it was read as (``models/digits-acceptance.npz``,
rebuilt by ``scripts/calibrate_digits.py``). The networks are sure of shapes unlike their training writers'
(a continental 1, a digit stretched to fill its box) as often as of ordinary ones, and then wrong more often;
the further a digit lies from its class, the more its doubt is grown before ``accept_probability`` judges it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from formkit.atomic import write_arrays
from formkit.layout.model import Box

from . import _onnx, creases
from .areas import INK_MM2
from .ink import paper, percentile, runs, without_printed_lines
from .register import WARP_PX_PER_MM, box_slices

MODEL_PATH = Path(__file__).parent / "models" / "digits.npz"
# how far digits lie from their class's training digits, and the threshold chosen with it
ACCEPTANCE_PATH = Path(__file__).parent / "models" / "digits-acceptance.npz"
DIGIT_PX = 28  # the network's input
DIGIT_FIT_PX = 20  # the long side of a digit inside it
MARGIN_MM = 1.5  # digits cross the box border: look this far beyond it
NEIGHBOUR_CLEARANCE_MM = 0.4  # keep the side margin this far short of the next box
BORDER_SLACK_MM = 0.6  # registration error plus half a printed border
INK_CONTRAST = 0.2  # darker than the paper around by this share (scanner.ink uses 0.3; pencil digits are fainter)
# A digit written fainter than that (hard pencil, a light copy) is cut at half the darkness of its own darkest
# strokes instead, or only its darkest pieces remain: a faint 3 whose lower bow is lost reads as a 2 at
# p 0.995. Never below FAINT_FLOOR, well above paper grain and JPEG noise.
FAINT_SHARE = 0.5
FAINT_FLOOR = 0.12
STRONGEST_PERCENTILE = 99  # a box's darkest strokes: 1 % of its inside, a fifth or less of a digit's ink
INSIDE_INSET_MM = 0.8  # the inside of a box, clear of its printed border and registration error
SPECK_MM2 = 0.2  # smaller pieces are noise, border remnants or dust
# two characters in one box: side by side, paper between, the shorter at least this share of the taller's height
PIECE_HEIGHT_SHARE = 0.4
PIECE_MIN_MM = 1.5  # and at least this tall (a dot, a speck, a dash are not counted)
PIECE_INK_SHARE = 0.25  # and with at least this share of the ink of the piece with most
# A fold is looked for this far past the ends of the ink (``creases.runs_on``), nearer than beside a choice box:
# the registered page is drawn only 5 mm above and below a row of boxes (register.FIELD_MARGIN_MM) and a
# crease's ink runs to the cut-out's edge, MARGIN_MM past the box, so 3.5 mm of page remain beyond it
# (a crease through a blank one-digit box read "1" unflagged at 0.995 where the window ended, 2026-12-07).
CREASE_BEYOND_MM = (0.5, 3.0)
T = TypeVar("T")
CHUNK = 1000  # images through the NumPy pass at a time
DNN_CHUNK = 256  # images through OpenCV's network at a time (about 1.5 MB of activations each)


def side_margin_mm(boxes: tuple[Box, ...] | list[Box]) -> float:
    """The side margin for a row of boxes: ``MARGIN_MM`` unless the boxes stand closer together."""
    gaps = [b.x_mm - (a.x_mm + a.w_mm) for a, b in zip(boxes, boxes[1:], strict=False)]
    return max(0.3, min([MARGIN_MM] + [g - NEIGHBOUR_CLEARANCE_MM for g in gaps]))


@dataclass(frozen=True)
class BoxInk:
    soft: np.ndarray  # float32 0..1, the handwriting's darkness over the box and its margin
    ink_mm2: float  # area of the handwriting
    # ink that the box's digit leaves out, and what the digit's ink says it is (``box_ink``)
    faint_mm2: float = 0.0  # in a box with no ink at the usual contrast, ink at the faint cut
    side_by_side: int = 1  # pieces of ink standing side by side, paper between them: two characters in one box
    outside_mm2: float = 0.0  # pieces reaching into the box but mostly above or below it
    left_mm2: float = 0.0  # pieces reaching into the box but mostly outside it, towards the box on the left
    right_mm2: float = 0.0  # ... towards the box on the right
    crease: bool = False  # the ink, or what of it lies outside the box, is a straight line running on past the cut-out
    strength: float = 0.0  # how dark its strokes are: the 90th percentile of their darkness (0..1), 0 without ink


def box_ink(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM,
            side_margin_mm: float = MARGIN_MM) -> BoxInk:
    """The handwriting in ``box`` of the registered grey ``page`` (``px_per_mm``), with ``MARGIN_MM`` above
    and below and ``side_margin_mm`` left and right (less than the gap to the next box, so that box's
    border stays out).

    In: ``page`` 2-D uint8 grey (0 black), ``box`` in mm from the page's top-left corner. Out: ``soft``, a
    float32 array the size of the cut-out in pixels (box plus margins), 0 for paper and 1 for full ink,
    printed borders removed; ``ink_mm2``, the handwriting's area in mm² (0 for an empty box). ``normalise``
    turns ``soft`` into the 28×28 image the network reads. And what the ink says beyond one digit:
    ``faint_mm2``, ink at the faint cut in a box with none at the usual one; ``side_by_side``; and the ink
    left out as mostly outside the box (``_inside_components``).

    Each printed border line is found near where the layout puts it and removed (``ink.without_printed_lines``):
    only as thick as it is where nothing touches it, so a stroke lying along it keeps what sticks out (the
    base of a low "2"), and not where handwriting crosses it. A straight "1" inside the box is never
    mistaken for a border. A faint stroke lying exactly on a border goes with it.

    Ink is what is ``INK_CONTRAST`` darker than the paper; in a box written fainter than that (but with a
    digit's worth of ink at it, so that an empty box lets no noise into its digit), ``ink_contrast`` of the
    box's inside. A box with no ink at ``INK_CONTRAST`` is measured at that faint cut too (``faint_mm2``):
    writing fainter than the usual cut all over is not a blank box.
    """
    taller = Box(box.x_mm, box.y_mm - MARGIN_MM + side_margin_mm, box.w_mm, box.h_mm + 2 * (MARGIN_MM - side_margin_mm))
    rows, cols = box_slices(taller, side_margin_mm, page.shape, px_per_mm)
    region = page[rows, cols]
    background = np.maximum(paper(region, px_per_mm).astype(np.float32), 1.0)
    darkness = np.clip(1.0 - region.astype(np.float32) / background, 0, 1)
    x0, y0 = box.x_mm * px_per_mm - cols.start, box.y_mm * px_per_mm - rows.start
    x1, y1 = x0 + box.w_mm * px_per_mm, y0 + box.h_mm * px_per_mm
    contrast = INK_CONTRAST
    box_px = (x0, y0, x1, y1)
    kept_u8, strays = _handwriting(darkness, contrast, box_px, px_per_mm)
    inset = INSIDE_INSET_MM * px_per_mm
    inside = darkness[int(y0 + inset):int(y1 - inset), int(x0 + inset):int(x1 - inset)]
    faint_mm2 = 0.0
    # the masks hold 0 and 1: their pixels of ink counted, not summed (a sum casts every pixel first)
    if np.count_nonzero(kept_u8) >= INK_MM2 * px_per_mm**2:  # an empty box keeps the usual cut: no noise let in
        contrast = ink_contrast(inside)
        if contrast < INK_CONTRAST:
            kept_u8, strays = _handwriting(darkness, contrast, box_px, px_per_mm)
    elif (inside > FAINT_FLOOR).any() and (faint := ink_contrast(inside)) < INK_CONTRAST and (inside > faint).any():
        # nothing at the usual cut: a digit written fainter than that all over (hard pencil, a pale photo)
        # is still writing, never a blank box; its ink is measured, not read. Only where some of it reaches
        # the inside: cutting every empty box twice doubled its cost (0.38 -> 0.78 ms)
        faint_mm2 = float(np.count_nonzero(_handwriting(darkness, faint, box_px, px_per_mm)[0])) / px_per_mm**2
    ink_mm2 = float(np.count_nonzero(kept_u8)) / px_per_mm**2
    # Keep the anti-aliased edge of each stroke; scale so a firm stroke is 1.
    keep_soft = cv2.dilate(kept_u8, np.ones((3, 3), np.uint8)).astype(bool)
    strokes = darkness[kept_u8.astype(bool)]
    full = percentile(strokes.ravel(), 90) if strokes.size else 1.0
    floor = contrast * 0.6
    soft = np.where(keep_soft, np.clip((darkness - floor) / max(full - floor, 0.1), 0, 1), 0).astype(np.float32)
    # Not flagged: ink wider than the box, or running past the cut-out. Big handwriting does both: 14 of 108
    # fields of digits up to 1.17 times their box flagged, and no silent error caught (2026-12-05)
    pieces = side_by_side(np.where(kept_u8.astype(bool), soft, 0), px_per_mm) if ink_mm2 else 0
    # only ink the recogniser is to read: an empty box's trace is flagged as such anyway
    crease = ink_mm2 >= INK_MM2 and creased(page, kept_u8, box_px, (cols.start, rows.start), px_per_mm)
    return BoxInk(soft, ink_mm2, faint_mm2, pieces, *strays, crease=crease, strength=full if strokes.size else 0.0)


def creased(page: np.ndarray, kept_u8: np.ndarray, box_px: tuple[float, float, float, float],
            origin_px: tuple[int, int], px_per_mm: float) -> bool:
    """Whether a fold or crease runs through the box: its handwriting ``kept_u8`` (the cut-out's, at
    ``origin_px`` (x, y) of ``page``; the box at ``box_px`` in it), or the part of it beyond the box's
    border, is one thin straight line that goes on over the page past both its ends (``creases.runs_on``).

    A crease through an empty box is read as a "1" as sure as any written one, and the template's range
    rarely says otherwise (a one-digit box for 1-9: 8 of 10 such boxes on blank pages read "1" at 0.994-0.999,
    2026-12-07); through a written digit it becomes part of that digit. A written digit stops within a
    millimetre or two of its box; a crease crosses the margins and the paper beyond for centimetres."""
    ys, xs = np.nonzero(kept_u8)
    points = np.stack([xs + origin_px[0], ys + origin_px[1]], axis=1)
    x0, y0, x1, y1 = box_px
    middle = np.array([(x0 + x1) / 2 + origin_px[0], (y0 + y1) / 2 + origin_px[1]])
    inside_px = min(x1 - x0, y1 - y0) / 2 - INSIDE_INSET_MM * px_per_mm
    axis = creases.thin_line(points, px_per_mm)  # a lone stroke: a "1", or a crease through an empty box
    box_page_px = (x0 + origin_px[0], y0 + origin_px[1], x1 + origin_px[0], y1 + origin_px[1])
    if axis is not None and not _border_to_border(axis, box_page_px, px_per_mm):
        return False  # a stroke that stops inside the box: written, whatever a JPEG's ringing shows past its ends
    if axis is None:
        # a digit with a line through it: the line alone shows beyond the box's border
        slack = BORDER_SLACK_MM * px_per_mm
        points = points[(ys < y0 - slack) | (ys > y1 + slack) | (xs < x0 - slack) | (xs > x1 + slack)]
        axis = creases.thin_line(points, px_per_mm)
    if axis is None:
        return False
    # through the box's inside, on past it both ways; not along its side: a digit's stroke across the border
    # beside the next box, followed on along the printed borders, read as a crease (a "0" on a 3 MP photo,
    # 2026-12-07)
    offset = middle - axis.centre
    across = abs(offset[0] * axis.direction[1] - offset[1] * axis.direction[0])
    along = float(offset @ axis.direction)
    if across > inside_px or not axis.ends_px[0] < along < axis.ends_px[1]:
        return False
    return creases.runs_on(page, points, px_per_mm, beyond_mm=CREASE_BEYOND_MM)


# A crease through an empty box is cut only by the box's printed border: its ink reaches that near the border
# where its axis leaves the box, both ways. A written "1" stops short of it (JPEG quality 18-35 photos: the
# ringing past a slanted "1"'s ends looked like a line running on, 2 of 286 fields flagged, 2026-12-07).
CREASE_TO_BORDER_MM = 0.8


def _border_to_border(axis: creases.Axis, box_page_px: tuple[float, float, float, float], px_per_mm: float) -> bool:
    """Whether a lone stroke (``axis``, in page pixels) reaches within ``CREASE_TO_BORDER_MM`` of where its line
    leaves the box (``box_page_px``: x0, y0, x1, y1 in page pixels), at both of its ends."""
    x0, y0, x1, y1 = box_page_px
    (cx, cy), (dx, dy) = axis.centre, axis.direction
    # where the line centre + t * direction crosses each pair of the box's sides (slabs), as t
    tx = sorted(((x0 - cx) / dx, (x1 - cx) / dx)) if abs(dx) > 1e-9 else [-np.inf, np.inf]
    ty = sorted(((y0 - cy) / dy, (y1 - cy) / dy)) if abs(dy) > 1e-9 else [-np.inf, np.inf]
    enters, leaves = max(tx[0], ty[0]), min(tx[1], ty[1])
    reach_px = CREASE_TO_BORDER_MM * px_per_mm
    return enters < leaves and axis.ends_px[0] <= enters + reach_px and axis.ends_px[1] >= leaves - reach_px


def side_by_side(ink: np.ndarray, px_per_mm: float) -> int:
    """How many pieces of the handwriting ``ink`` (0..1, 0 for paper) stand side by side with a column of
    paper between them, each at least ``PIECE_MIN_MM`` tall, ``PIECE_HEIGHT_SHARE`` as tall as the tallest
    and with ``PIECE_INK_SHARE`` of the ink of the one with most, level with the tallest over half its own
    height: 2 or more is two characters written in one box ("12" squeezed into a box meant for one digit).
    A single digit's strokes overlap from left to right (a 5's flag lies over its body, a 4's bar crosses its
    stem); a faint slip of the pen beside it does not count."""
    pieces = []  # (first row, last row, ink)
    for start, stop in zip(*runs((ink > 0).any(axis=0)), strict=True):
        rows = np.flatnonzero((ink[:, start:stop] > 0).any(axis=1))
        pieces.append((rows[0], rows[-1], float(ink[:, start:stop].sum())))
    if not pieces:
        return 0
    tallest = max(pieces, key=lambda p: p[1] - p[0])
    most = max(m for *_, m in pieces)
    least_px = max(PIECE_HEIGHT_SHARE * (tallest[1] - tallest[0] + 1), PIECE_MIN_MM * px_per_mm)
    # side by side: level with the tallest over half their height; the pieces of a slanting stroke broken
    # where it is faint lie one above the other
    return int(sum(last - first + 1 >= least_px and m >= PIECE_INK_SHARE * most
                   and min(last, tallest[1]) - max(first, tallest[0]) >= 0.5 * (last - first)
                   for first, last, m in pieces))


def _handwriting(darkness: np.ndarray, contrast: float, box_px: tuple[float, float, float, float],
                 px_per_mm: float) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The handwriting of a cut-out (uint8, 1 for ink): pixels of ``darkness`` over ``contrast``, the box's
    printed borders (at ``box_px``: x0, y0, x1, y1) removed, in pieces that belong to the box; and the area
    in mm² of the pieces left out that reach into the box (``_inside_components``)."""
    x0, y0, x1, y1 = box_px
    kept = without_printed_lines(darkness > contrast, (y0, y1), (x0, x1), px_per_mm, BORDER_SLACK_MM)
    return _inside_components(kept.astype(np.uint8), box_px, px_per_mm)


def ink_contrast(inside: np.ndarray) -> float:
    """How much darker than the paper a pixel of a box must be to be ink, given the darkness (0..1) of the
    box's ``inside``: ``INK_CONTRAST``, or ``FAINT_SHARE`` of the darkness of its darkest strokes where
    that is less, never under ``FAINT_FLOOR``."""
    strongest = percentile(inside.ravel(), STRONGEST_PERCENTILE) if inside.size else 1.0
    return float(np.clip(FAINT_SHARE * strongest, FAINT_FLOOR, INK_CONTRAST))


def _inside_components(mask: np.ndarray, box_px: tuple[float, float, float, float], px_per_mm: float
                       ) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Connected pieces of ink that belong to this box: mostly inside it, not specks. And, in mm², the
    pieces reaching into the box but left out as mostly outside it: those whose middle lies level with the
    box, left or right of its middle (towards the next box, whose digit they may be), and the others (above
    or below the box, which no other box takes)."""
    x0, y0, x1, y1 = box_px
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    # per piece: its area, and how much of it lies inside the box (its labels there counted)
    area = stats[:, cv2.CC_STAT_AREA]
    within = np.bincount(labels[max(0, int(y0)):max(0, int(y1)), max(0, int(x0)):max(0, int(x1))].ravel(),
                         minlength=count)
    # mostly inside: this box's digit, even across the border; mostly outside: the next box's
    keep = (area >= SPECK_MM2 * px_per_mm**2) & (within >= 0.5 * area)
    keep[0] = False
    stray = (area >= SPECK_MM2 * px_per_mm**2) & (within > 0) & ~keep
    stray[0] = False
    # beside the box, by where its middle lies: a piece of the next box's digit cut off by a border removed
    # need not reach the cut-out's side (it was taken for writing below the box)
    centre_x, centre_y = centroids[:, 0], centroids[:, 1]
    level = (centre_y >= y0) & (centre_y <= y1)
    to_left = stray & level & (centre_x < (x0 + x1) / 2)
    to_right = stray & level & ~to_left
    elsewhere = stray & ~level
    return keep[labels].astype(np.uint8), tuple(float(area[which].sum()) / px_per_mm**2
                                                for which in (elsewhere, to_left, to_right))


def normalise(soft: np.ndarray) -> np.ndarray:
    """``soft`` (any size, ink 1) as a 28×28 float32 image: the ink's bounding box scaled to 20 px on its long
    side, its centre of mass in the middle. All zeros when there is no ink."""
    out = np.zeros((DIGIT_PX, DIGIT_PX), np.float32)
    ys, xs = np.nonzero(soft > 0.05)
    if ys.size == 0:
        return out
    piece = soft[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    scale = DIGIT_FIT_PX / max(piece.shape)
    w = max(1, int(round(piece.shape[1] * scale)))
    h = max(1, int(round(piece.shape[0] * scale)))
    small = cv2.resize(piece, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    total = float(small.sum())
    if total <= 0:
        return out
    cy = float((small.sum(axis=1) * np.arange(h)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(w)).sum()) / total
    shift = np.float32([[1, 0, DIGIT_PX / 2 - 0.5 - cx], [0, 1, DIGIT_PX / 2 - 0.5 - cy]])
    canvas = np.zeros((DIGIT_PX, DIGIT_PX), np.float32)
    canvas[:h, :w] = small[:DIGIT_PX, :DIGIT_PX]
    return np.clip(cv2.warpAffine(canvas, shift, (DIGIT_PX, DIGIT_PX), flags=cv2.INTER_LINEAR), 0, 1)


# --- the network ------------------------------------------------------------------------------------------

@cache
def _weights() -> dict[str, np.ndarray]:
    """The model file's arrays, as float32 (the networks' weights are stored as float16: half the size,
    and the acceptance threshold was chosen with them rounded so)."""
    with np.load(MODEL_PATH) as data:
        return {k: data[k].astype(np.float32) for k in data.files}


@cache
def _members() -> list[dict[str, np.ndarray]]:
    """The networks of the ensemble (keys ``m0.c1.w`` ...): each trained alike from its own seed."""
    weights = _weights()
    prefixes = sorted({k.split(".", 1)[0] for k in weights if k.startswith("m") and "." in k})
    return [{k[len(m) + 1:]: v for k, v in weights.items() if k.startswith(m + ".")} for m in prefixes]


def accept_probability() -> float:
    """The probability at or above which a digit is accepted without review: a ``recognise`` reading's
    ``p``. Chosen with the model's distances (``scripts/calibrate_digits.py``) on validation and calibration
    digits of several writer sets; the model's own threshold, chosen on MNIST validation digits alone, where
    there is no calibration for these networks."""
    acceptance = _acceptance()
    return acceptance.threshold if acceptance is not None else float(_weights()["accept_probability"])


def accept_date_share() -> float:
    """The share of the weight of all plausible dates at or above which the likeliest date is accepted
    without review (``scanner.dates.most_likely_date``). Chosen on dates written with calibration digits
    (``scripts/calibrate_digits.py``): a date is wrong when any of eight digits is, so its threshold may
    need to be stricter than one digit's, and is never below ``accept_probability``. ``accept_probability``
    where the calibration has no dates' threshold (made before 2026-12-03) or does not fit the networks."""
    acceptance = _acceptance()
    if acceptance is None or acceptance.date_threshold is None:
        return accept_probability()
    return acceptance.date_threshold


def classify(images: np.ndarray) -> np.ndarray:
    """Probabilities (N, 10) for ``images`` (N, 28, 28) float32 with ink 1: the mean of the ensemble's
    networks. Networks trained from different seeds are rarely sure of the same wrong digit, so the mean
    is confident less often where one of them errs.

    Run by OpenCV's dnn module (``_DnnEnsemble``; on one thread when the process has called
    ``cv2.setNumThreads(1)``, as batch workers do), else by the NumPy forward pass below: the same
    probabilities (within 1e-5 on the held-out digits), 4 times slower (benchmarks/recognisers.py)."""
    return _forward(images)[0]


@dataclass(frozen=True)
class Readings:
    """``recognise``'s answer for N images."""

    digit: np.ndarray  # (N,) the ensemble's digit
    probabilities: np.ndarray  # (N, 10) the ensemble's mean (``classify``)
    trusted: np.ndarray  # (N, 10) as far as they can be trusted: ``p`` for ``digit``, the rest share the doubt
    distance: np.ndarray  # (N,) standard deviations further from the class's training digits than the median
    features: tuple[np.ndarray, ...] = ()  # each network's last hidden layer (N, width), as the pass gave them

    @property
    def p(self) -> np.ndarray:
        """(N,) how sure the reading is: compare with ``accept_probability()``."""
        return self.trusted[np.arange(len(self.digit)), self.digit]


def recognise(images: np.ndarray) -> Readings:
    """The digits in ``images`` (N, 28, 28) float32 with ink 1, and how far to trust each.

    The ensemble's doubt about its digit (1 - its probability) grows e-fold for each standard deviation by
    which the digit's features lie further from the training digits of that class than the median
    validation digit does (the features: each network's last hidden layer, from the same pass as the
    probabilities; the distance: to the nearest training digit of the class in the calibration's bank
    (500 MNIST digits a class and the other writers' training digits), summed over the networks). A digit
    closer than that keeps the ensemble's probability. The doubt added is shared evenly by the nine other
    digits, so a date or a range cannot pick out an alternative the networks ranked by a reading of a
    shape they do not know. Without a calibration that fits the model (``_acceptance``), the
    ensemble's probabilities as they are."""
    if len(images) == 0:
        empty = np.zeros((0, 10), np.float32)
        return Readings(np.zeros(0, np.int64), empty, empty, np.zeros(0, np.float32))
    probabilities, features = _forward(images)
    digit = probabilities.argmax(axis=1)
    acceptance = _acceptance()
    if acceptance is None:
        return Readings(digit, probabilities, probabilities, np.zeros(len(digit), np.float32), tuple(features))
    distance = acceptance.distance(features, digit)
    trusted = trusted_probabilities(probabilities, distance, acceptance.doubt_per_sd)
    return Readings(digit, probabilities, trusted, distance.astype(np.float32), tuple(features))


def trusted_probabilities(probabilities: np.ndarray, distance: np.ndarray, doubt_per_sd: float) -> np.ndarray:
    """``probabilities`` (N, 10) with each row's likeliest digit lowered by ``trusted_probability`` and what
    it lost shared evenly by the nine others: (N, 10) float32."""
    digit = probabilities.argmax(axis=1)
    rows = np.arange(len(digit))
    best = probabilities[rows, digit].astype(np.float64)
    trust = trusted_probability(best, distance, doubt_per_sd)
    trusted = probabilities.astype(np.float64) + ((best - trust) / 9)[:, None]
    trusted[rows, digit] = trust
    return trusted.astype(np.float32)


def trusted_probability(best: np.ndarray, distance: np.ndarray, doubt_per_sd: float) -> np.ndarray:
    """How sure to be of a digit the ensemble gives probability ``best``, whose features lie ``distance``
    standard deviations beyond the median from its class: its doubt grown by exp(``doubt_per_sd``) for each
    standard deviation, never shrunk."""
    return 1.0 - np.minimum(1.0, (1.0 - best) * np.exp(doubt_per_sd * np.maximum(distance, 0.0)))


def _forward(images: np.ndarray, members: list[dict[str, np.ndarray]] | None = None
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The ensemble's mean probabilities (N, outputs) and each network's last hidden layer (N, width) for
    ``images``, by OpenCV's dnn module where it runs the networks, else by NumPy (no networks: no features).
    The digit networks, or ``members``: networks of their shape (the not-one-digit judge's pixel network)."""
    if len(images) == 0:
        return np.zeros((0, 10), np.float32), []
    images = np.asarray(images, np.float32)
    ensemble = _dnn_ensemble(members)
    if ensemble is None:
        return _forward_numpy(images, members)
    runs = [ensemble.run(images[i:i + DNN_CHUNK]) for i in range(0, len(images), DNN_CHUNK)]
    return (np.concatenate([r[0] for r in runs]),
            [np.concatenate([r[1][k] for r in runs]) for k in range(len(runs[0][1]))])


class _DnnEnsemble:
    """The ensemble's networks side by side in one OpenCV dnn network, written as ONNX (``_onnx``) from the
    model file's weights when first used: no second model file to keep in step with ``digits.npz``.
    One per process (made where it is used, never inherited over a fork), one call at a time."""

    def __init__(self, members: list[dict[str, np.ndarray]]):
        graph = _onnx.Graph("digits")
        images = graph.input("images", ["N", 1, DIGIT_PX, DIGIT_PX])
        self.outputs, self.features = [], []
        for i, p in enumerate(members):
            softmax, hidden = _network_graph(graph, images, f"m{i}.", p)
            self.outputs.append(graph.output(softmax, ["N", 10]))
            # the last hidden layer too: ``recognise`` measures distances there, in the same pass
            self.features.append(graph.output(hidden, ["N", len(p["f1.b"])]))
        self.net = _read_onnx(graph.model())
        self.lock = threading.Lock()

    def run(self, images: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The ensemble's mean for ``images`` (N, 28, 28) float32, N > 0, and each network's features."""
        with self.lock:
            self.net.setInput(np.ascontiguousarray(images[:, None], np.float32))
            outs = self.net.forward(self.outputs + self.features)
        probabilities = outs[:len(self.outputs)]
        return sum(probabilities) / len(probabilities), [f.reshape(len(images), -1) for f in outs[len(self.outputs):]]


def _network_graph(graph: _onnx.Graph, images: str, prefix: str, p: dict[str, np.ndarray]) -> tuple[str, str]:
    """One network (``network_outputs``) added to ``graph``; returns the names of its output and of its last
    hidden layer."""

    def layer(op: str, inputs: list[str], name: str, **attributes) -> str:
        return graph.node(op, inputs, prefix + name, **attributes)

    def conv_relu(x: str, name: str) -> str:
        w, b = graph.constant(f"{prefix}{name}.w", p[name + ".w"]), graph.constant(f"{prefix}{name}.b", p[name + ".b"])
        return layer("Relu", [layer("Conv", [x, w, b], name, kernel_shape=[3, 3], pads=[1, 1, 1, 1])], name + ".relu")

    def dense(x: str, name: str) -> str:
        w, b = graph.constant(f"{prefix}{name}.w", p[name + ".w"]), graph.constant(f"{prefix}{name}.b", p[name + ".b"])
        return layer("Gemm", [x, w, b], name, transB=1)

    def pool(x: str, name: str) -> str:
        return layer("MaxPool", [x], name, kernel_shape=[2, 2], strides=[2, 2])

    x = pool(conv_relu(conv_relu(images, "c1"), "c2"), "pool2")
    x = pool(conv_relu(conv_relu(x, "c3"), "c4"), "pool4")
    x = layer("Flatten", [x], "flat", axis=1)  # (C, H, W) order, as the NumPy pass
    hidden = layer("Relu", [dense(x, "f1")], "f1.relu")
    return layer("Softmax", [dense(hidden, "f2")], "softmax", axis=1), hidden


def _read_onnx(model: bytes) -> cv2.dnn.Net:
    """OpenCV's network for the ONNX ``model``, on the classic engine where there is a choice: on these
    small networks OpenCV 5.0's new engine is about 1.7 times slower (still 2.5 times faster than NumPy;
    later 5.x releases are to drop the classic one). Read from a file: OpenCV 5.0 ignores the choice of
    engine for a network read from memory."""
    classic = getattr(cv2.dnn, "ENGINE_CLASSIC", None)  # OpenCV 5; 4.x has the classic engine alone
    try:
        with tempfile.TemporaryDirectory(prefix="formkit-digits-") as folder:
            path = Path(folder) / "digits.onnx"
            path.write_bytes(model)
            return cv2.dnn.readNetFromONNX(str(path)) if classic is None \
                else cv2.dnn.readNetFromONNX(str(path), classic)
    except OSError:  # nowhere to write: read it from memory
        return cv2.dnn.readNetFromONNX(np.frombuffer(model, np.uint8))


# by process and networks: the networks it was made from, and it
_dnn: dict[tuple[int, tuple[int, ...]], tuple[list, _DnnEnsemble | None]] = {}


def _dnn_ensemble(members: list[dict[str, np.ndarray]] | None = None) -> _DnnEnsemble | None:
    """This process's network for the networks of the model file as loaded now (``_members``; made again
    when the model is reloaded), or for ``members``, or ``None`` (the NumPy pass then) when OpenCV cannot
    run it. Made once for the same network objects."""
    members = _members() if members is None else members
    key = (os.getpid(), tuple(id(m) for m in members))
    made = _dnn.get(key)
    if made is not None and all(a is b for a, b in zip(made[0], members, strict=True)):
        return made[1]
    ensemble = None
    try:
        candidate = _DnnEnsemble(members)
        # a few images through both, probabilities and features (relative to their size): an OpenCV that
        # computes the graph otherwise is not used
        probe = np.random.default_rng(0).random((2, DIGIT_PX, DIGIT_PX), dtype=np.float32)
        (dnn_p, dnn_f), (ref_p, ref_f) = candidate.run(probe), _forward_numpy(probe, members)
        error = max([float(np.abs(dnn_p - ref_p).max())] + [float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))
                                                              for a, b in zip(dnn_f, ref_f, strict=True)])
    except (cv2.error, AttributeError) as exc:  # an OpenCV without dnn, or one that cannot read the graph
        warnings.warn(f"digits: OpenCV's dnn cannot run the network ({exc}); using NumPy", RuntimeWarning,
                      stacklevel=3)
    else:
        if error <= 1e-4:
            ensemble = candidate
        else:
            warnings.warn(f"digits: OpenCV's dnn computes the network differently (by {error:.1g}); using NumPy",
                          RuntimeWarning, stacklevel=3)
    _dnn[key] = (list(members), ensemble)
    return ensemble


# --- the same networks in NumPy: the reference, and the fallback ------------------------------------------

def _classify_numpy(images: np.ndarray) -> np.ndarray:
    """``classify`` by the NumPy forward pass (``network_outputs``)."""
    return _forward_numpy(images)[0]


def _forward_numpy(images: np.ndarray, members: list[dict[str, np.ndarray]] | None = None
                   ) -> tuple[np.ndarray, list[np.ndarray]]:
    """``_forward`` by the NumPy forward pass (``network_outputs``)."""
    members = _members() if members is None else members
    means, features = [], [[] for _ in members]
    # in chunks: the first layer's unfolded input takes about 1 MB an image
    for i in range(0, len(images), CHUNK):
        x = images[i:i + CHUNK].astype(np.float32)[:, None]
        outputs = [network_outputs(x, m) for m in members]
        means.append(sum(o[0] for o in outputs) / len(members))
        for k, o in enumerate(outputs):
            features[k].append(o[1])
    return np.concatenate(means), [np.concatenate(f) for f in features]


def _conv3x3_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x: (N, C, H, W); w: (O, C, 3, 3); same padding."""
    n, c, h, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # N C H W 3 3
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * width, c * 9)
    out = columns @ w.reshape(w.shape[0], -1).T + b
    return np.maximum(out, 0).reshape(n, h, width, -1).transpose(0, 3, 1, 2)


def _maxpool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def network_outputs(x: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One network's softmax output for ``x`` (N, 1, 28, 28), and its last hidden layer (N, width)."""
    x = _conv3x3_relu(x, p["c1.w"], p["c1.b"])
    x = _maxpool2(_conv3x3_relu(x, p["c2.w"], p["c2.b"]))
    x = _conv3x3_relu(x, p["c3.w"], p["c3.b"])
    x = _maxpool2(_conv3x3_relu(x, p["c4.w"], p["c4.b"]))
    hidden = np.maximum(x.reshape(len(x), -1) @ p["f1.w"].T + p["f1.b"], 0)
    logits = hidden @ p["f2.w"].T + p["f2.b"]
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True), hidden


# --- how far a digit lies from the training digits of its class -------------------------------------------

def model_fingerprint() -> str:
    """The networks' weights as loaded (``_members``), hashed: a calibration is for these networks only."""
    digest = hashlib.sha256()
    for k, member in enumerate(_members()):
        for name in sorted(member):
            digest.update(f"m{k}.{name}".encode())
            digest.update(np.ascontiguousarray(member[name], np.float32).tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Acceptance:
    """``models/digits-acceptance.npz``, as ``scripts/calibrate_digits.py`` writes it (``save``)."""

    threshold: float  # accept_probability
    doubt_per_sd: float  # the doubt grows by exp(this) a standard deviation
    median: float  # of the validation digits' distances
    sd: float
    centres: tuple[np.ndarray, ...]  # per network: the mean of the unit-length features of the bank
    axes: tuple[np.ndarray, ...]  # per network: (K, width) the bank's principal axes
    banks: tuple[np.ndarray, ...]  # per network: (M, K) the training digits, projected, unit length
    labels: np.ndarray  # (M,) their digits
    model: str  # model_fingerprint() of the networks it was made for
    date_threshold: float | None = None  # accept_date_share; None in files made before 2026-12-03: threshold

    def raw_distance(self, features: list[np.ndarray], digit: np.ndarray) -> np.ndarray:
        """Per image, summed over the networks: 1 - the cosine similarity of its projected features to the
        nearest bank digit of class ``digit``."""
        total = np.zeros(len(digit), np.float64)
        for f, centre, axes, by_class in zip(features, self.centres, self.axes, self._banks_by_class, strict=True):
            u = project(f, centre, axes)
            for c in np.unique(digit):
                rows = digit == c
                total[rows] += 1.0 - (u[rows] @ by_class[int(c)].T).max(axis=1)
        return total

    @cached_property
    def _banks_by_class(self) -> tuple[dict[int, np.ndarray], ...]:
        """Per network, the bank's rows of each class: split once, not on every page."""
        return tuple({c: bank[self.labels == c] for c in range(10)} for bank in self.banks)

    def distance(self, features: list[np.ndarray], digit: np.ndarray) -> np.ndarray:
        """``raw_distance`` in standard deviations from the validation digits' median."""
        return (self.raw_distance(features, digit) - self.median) / self.sd

    def save(self, path: Path) -> None:
        arrays = {"threshold": np.float64(self.threshold), "doubt_per_sd": np.float64(self.doubt_per_sd),
                  "median": np.float64(self.median), "sd": np.float64(self.sd), "labels": self.labels.astype(np.uint8),
                  "model": np.array(self.model)}
        if self.date_threshold is not None:
            arrays["date_threshold"] = np.float64(self.date_threshold)
        for k, (centre, axes, bank) in enumerate(zip(self.centres, self.axes, self.banks, strict=True)):
            arrays[f"m{k}.centre"] = centre.astype(np.float32)
            arrays[f"m{k}.axes"] = axes.astype(np.float32)
            arrays[f"m{k}.bank"] = bank.astype(np.float16)
        write_arrays(path, arrays)

    @classmethod
    def load(cls, path: Path) -> Acceptance:
        with np.load(path) as data:
            members = sorted({k.split(".", 1)[0] for k in data.files if "." in k}, key=lambda m: int(m[1:]))
            return cls(float(data["threshold"]), float(data["doubt_per_sd"]), float(data["median"]),
                       float(data["sd"]), tuple(data[f"{m}.centre"] for m in members),
                       tuple(data[f"{m}.axes"] for m in members),
                       tuple(_unit(data[f"{m}.bank"].astype(np.float32)) for m in members),
                       data["labels"].astype(np.int64), str(data["model"]),
                       float(data["date_threshold"]) if "date_threshold" in data.files else None)


def project(features: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """One network's features (N, width) as the bank holds them: unit length, less the bank's centre,
    on its principal axes, unit length again."""
    return _unit((_unit(features.astype(np.float32)) - centre) @ axes.T)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)


_loaded: dict[Path, tuple[list, object]] = {}  # by file: the networks it was read for, and what was read


def made_for_these_networks(path: Path, load: Callable[[Path], T], model_of: Callable[[T], str], without: str,
                            rebuild: str) -> T | None:
    """What ``load`` reads from ``path`` (a file made for one set of networks: a calibration, a judge) if
    ``model_of`` it is the fingerprint of the networks loaded now, else ``None`` with a warning that says
    what is done ``without`` it and which script to ``rebuild`` it with. Read once per networks and path."""
    members = _members()
    made = _loaded.get(path)
    if made is not None and made[0] is members:
        return made[1]  # type: ignore[return-value]
    found = None
    if not path.exists():
        warnings.warn(f"digits: no {path.name}; {without} (run {rebuild})", RuntimeWarning, stacklevel=3)
    else:
        candidate = load(path)
        if model_of(candidate) == model_fingerprint():
            found = candidate
        else:
            warnings.warn(f"digits: {path.name} was made for other networks; {without} (run {rebuild})",
                          RuntimeWarning, stacklevel=3)
    _loaded[path] = (members, found)
    return found


def _acceptance() -> Acceptance | None:
    """The calibration in ``ACCEPTANCE_PATH`` if it was made for the networks loaded now, else ``None`` (with
    a warning): after retraining, ``scripts/calibrate_digits.py`` makes it again."""
    return made_for_these_networks(ACCEPTANCE_PATH, Acceptance.load, lambda a: a.model,
                                   "digits are judged by the networks' probability alone",
                                   "scripts/calibrate_digits.py")
