"""Desk hazards: what happens to a filled page on its way to the reader, and the errors the reader does not flag.

    python benchmarks/desk_hazards.py [--pages N] [--only CONDITION] [--keep DIR]

Page ``seed`` of a condition is one page (chosen at random) of k10, alliance-check, gas-followup, goal-card or
vas-4line in turn, filled at random as scan_accuracy.py fills it (digit and date boxes written in held-back MNIST
digits, samples/handwriting), drawn at 300 dpi for staple, holepunch, overlap, darklid, colourlid and photocopy2
and at 200 dpi for the others. Then, per condition:

- *staple*: a staple 12 mm long, level or diagonal, 6-16 mm in from the top and left edges (on or by the corner
  marker); on 4 pages in 5 also a paper clip (two nested loops of wire, 28-36 by 7-10 mm, along or across the
  page) over a field (3 in 5) or from the top edge. Flatbed scan at 300 dpi, a third of the pages upside down.
- *holepunch*: two punched holes 6 mm across, showing black, dark grey, grey or white (what lay behind them):
  down the left margin 80 mm apart (40 mm on a card) about the middle, or on a page in three along the top,
  8-14 mm down (where they may take a corner marker). Flatbed as *staple*.
- *coffee*: a coffee ring of radius 35-45 mm (20-35 mm on a card) centred somewhere in a field: a faint brown wash
  inside, a darker rim 0.8-2.5 mm wide round 160-360 degrees of it. A flatbed scan at 300 dpi (upright) or a
  3 MP phone photo, half each.
- *highlighter*: one to three rows (not writing areas) highlighted yellow, green, pink or orange, a band 4-7 mm
  high from anywhere between 2 mm in and the field to the row's end or up to 20 mm past it. Scanned or
  photographed as *coffee*.
- *ruler*: under one to three choice, digit or line fields, a line ruled in pen or pencil 0.3-0.5 mm wide from
  anywhere between 5 mm in and the field to up to 10 mm past it: 0.3-2 mm under its boxes, 3-6 mm under a
  visual-analogue line.
  Flatbed as *staple*.
- *bleed*: the other side of the sheet showing through: another filled page of any of the five forms,
  mirrored, blurred and at 12-30 % of its darkness. Flatbed as *staple*.
- *thumb*: a 3 MP phone photo with the thumb of the hand holding the page over a field: a tip 18-24 by
  14-20 mm in one of four skin tones, the finger behind it out to the page's side edge nearer the field,
  reaching a tenth to six tenths into the field but no more than 20-45 mm in from the edge.
- *overlap*: another filled page of any of the five forms (another serial) lying over 15-45 % of this one from
  one side, turned by up to 4 degrees, casting a soft shadow. Flatbed as *staple*.
- *darklid*: scanned with the lid open or a dark lid: 15 mm of grey (levels 5-60) all round the page, turned
  by up to 3 degrees, a third upside down, 300 dpi.
- *colourlid*: the same on a coloured lid or bed (blue, red, green, pale yellow or grey).
- *photocopy2*: a copy of a copy, scanned: each copying blurs, squeezes the levels (black to 50-90, white to
  195-225), adds toner specks and noise, and turns the page by up to 1.5 degrees; the scan is at 200 or
  300 dpi, 3 in 10 in 1-bit.
- *fax_std*: a fax at standard resolution (204 by 98 dpi, half of them with each row doubled back to square
  pixels), thresholded to 1-bit at 140-175, turned by up to 1.5 degrees, 3 in 10 upside down.
- *fax100*: the same at 100 by 100 dpi.
- *tablecloth*: a 3 MP phone photo of the page on a patterned cloth filling the frame round it: gingham,
  black-and-white checks, diagonal stripes or newsprint.

Fields under something opaque (a hole, a thumb, the page on top) with 30 % of one of their boxes hidden (4 mm
of a visual-analogue line) *must* be flagged: what is under it is not known to the reader. Fields it reaches
less, or comes within 2 mm of, and fields under a wire or a coffee rim however far, *may* be flagged (a flag is
no error, nor is the right value unflagged); so may a field with a ruled line under it. Nothing else a
condition does (highlighter, bleed-through, lids, copies, faxes, cloth) is a reason to flag.

Columns, per condition: *pages* made; *identified*, read as the very page they are (its serial and page
number); *fields* on those pages that the filling answered; *correct*, read right and not flagged (a
visual-analogue value within 0.1); *flagged* for review; *must-flag*, the fields that must be flagged (covered,
or a case the filling makes so, such as a double mark), and *caught* those of them flagged; *silent errors*,
fields neither flagged nor read right (a must-flag field unflagged counts however it reads); *wrong-page reads*,
form pages read from an image that are not the page made (nor, under *overlap*, the page lying on top, which
may be read as itself); *seconds* to make and read the pages, summed over pages (with two workers about twice
the time taken). Under each row, one line per silent error (seed, form and page, field, value read, true
value, how the field was filled and what lay on it), per wrong-page read and per page the reader failed on.
With ``--keep DIR``, the images of pages with a silent error, a wrong-page read or a failure are written there
as CONDITION_SEED.png; nothing is written otherwise.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import platform
import random
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_accuracy import _matches, with_truth  # noqa: E402

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import (  # noqa: E402
    Box,
    BoxesField,
    ChoiceField,
    Field,
    LineField,
    Page,
    TextField,
    field_box,
    field_boxes,
)
from formkit.records import PageResult  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.pipeline import read_image  # noqa: E402
from tests.synthetic import (  # noqa: E402
    Truth,
    _add_sensor_noise,
    _Pen,
    degrade_photo,
    degrade_scan,
    fill_page,
    load_digits,
    render_pdf,
)

FORMS = ["k10", "alliance-check", "gas-followup", "goal-card", "vas-4line"]
DIGITS = load_digits(Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz")
# drawn at 300 dpi: the conditions scanned at 300 dpi as they are drawn (no resampling), and the photocopies
HIGH_DPI = ("photocopy2", "staple", "holepunch", "darklid", "colourlid", "overlap")
PHOTO_3MP = (2000, 1500)
SERIALS_SEED, OTHER_SERIALS_SEED = 7, 8  # the page on top under *overlap* has serials of its own
Truths = dict[str, Truth]


@cache
def blank_pages(form: str, dpi: int, seed: int = SERIALS_SEED) -> tuple:
    """``form``'s layout, its printed pages (RGB at ``dpi``) and their serial, one copy made with ``seed``."""
    layout = build_layout(resolve_template(form))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "f.pdf"
        copies = make_copies(1, None, seed)
        generate(layout, copies, pdf)
        return layout, tuple(render_pdf(pdf, dpi)), copies[0].serial


def per_mm(dpi: float) -> float:
    return dpi / 25.4


# ---------- what must, and what may, be flagged ----------

def mark_covered(truth: Truths, page: Page, mask: np.ndarray, dpi: float, opaque: bool = True) -> None:
    """Update ``truth`` for an occluder whose coverage of the page (at ``dpi``) is ``mask`` (0..1): a field it
    covers must be flagged when ``opaque``, may be when not (a thin wire, a stain's rim: what is under shows);
    a field it only touches may be. The scenario records how much of each box (or of a line, in mm) it hid."""
    for f in page.fields:
        if f.id not in truth:
            continue
        covered, touched, tag = _coverage(f, mask, per_mm(dpi))
        was = truth[f.id]
        if covered and opaque:
            truth[f.id] = Truth(was.value, must_review=True, scenario=f"{was.scenario}+covered[{tag}]")
        elif covered or touched:
            truth[f.id] = Truth(was.value, must_review=was.must_review, may_review=True,
                                scenario=f"{was.scenario}+touched[{tag}]")


def _coverage(f: Field, mask: np.ndarray, scale: float) -> tuple[bool, bool, str]:
    """Whether ``mask`` covers ``f`` (4 mm of a line, 30 % of any one box), touches it (or comes within 2 mm of
    its boxes, within 4 mm of a line), and how much it hid as text."""
    if isinstance(f, LineField):
        line = Box(f.x1_mm, f.y1_mm - 0.5, f.x2_mm - f.x1_mm, 1.0)
        hidden_mm = _share_hidden(mask, line, scale) * line.w_mm
        near = _share_hidden(mask, Box(f.x1_mm, f.y1_mm - 4, f.x2_mm - f.x1_mm, 8), scale) > 0
        return hidden_mm >= 4.0, hidden_mm > 0 or near, f"{hidden_mm:.1f}mm"
    shares = [_share_hidden(mask, b, scale) for b in field_boxes(f) or [field_box(f)]]
    near = _share_hidden(mask, _grown(field_box(f), 2), scale) > 0
    return max(shares) >= 0.3, max(shares) > 0 or near, ",".join(f"{x:.2f}" for x in shares)


def _share_hidden(mask: np.ndarray, box: Box, scale: float) -> float:
    """The share of ``box``'s pixels (at ``scale`` px/mm) where ``mask`` is over one half."""
    x0, y0 = int(box.x_mm * scale), int(box.y_mm * scale)
    x1, y1 = int((box.x_mm + box.w_mm) * scale) + 1, int((box.y_mm + box.h_mm) * scale) + 1
    part = mask[max(0, y0):y1, max(0, x0):x1]
    return float((part > 0.5).mean()) if part.size else 0.0


def _grown(b: Box, d: float) -> Box:
    return Box(b.x_mm - d, b.y_mm - d, b.w_mm + 2 * d, b.h_mm + 2 * d)


def blend(image: np.ndarray, mask: np.ndarray, colour: tuple, alpha: float = 1.0, multiply: bool = False) -> None:
    """Lay ``colour`` on ``image`` in place where ``mask`` (0..1) says: opaque paint, or with ``multiply`` a
    transparent dye (ink, coffee) that only darkens what is under it."""
    m = (mask * alpha)[..., None].astype(np.float32)
    img = image.astype(np.float32)
    col = np.array(colour, np.float32)
    out = img * (1 - m) + (img * col / 255 if multiply else col) * m
    image[...] = np.clip(out, 0, 255).astype(np.uint8)


# ---------- hazards: each changes the filled page (RGB at dpi) in place, and the truth ----------
# The random draws are those of the original harness, in its order: a seed makes the same page as it did.

def staple_and_clip(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    wire = _staple(img, dpi, rng)
    if rng.random() < 0.8:
        wire = np.maximum(wire, _paper_clip(img, dpi, page, rng))
    mark_covered(truth, page, wire, dpi, opaque=False)  # thin wire: what is under it shows


def _staple(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    """A staple 12 mm long near the top-left corner, with its shine; its mask."""
    s = per_mm(dpi)
    h, w = img.shape[:2]
    cx, cy = rng.uniform(6, 16) * s, rng.uniform(6, 16) * s
    angle, half = math.radians(rng.choice([45, 135, 0]) + rng.uniform(-10, 10)), 6 * s
    dx, dy = half * math.cos(angle), half * math.sin(angle)
    p1, p2 = (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy))
    staple = np.zeros((h, w), np.float32)
    cv2.line(staple, p1, p2, 1.0, max(2, int(0.9 * s)), cv2.LINE_AA)
    blend(img, staple, (rng.randint(70, 150),) * 3)
    shine = np.zeros((h, w), np.float32)
    cv2.line(shine, p1, p2, 1.0, max(1, int(0.25 * s)), cv2.LINE_AA)
    blend(img, shine, (235, 235, 235))
    return staple


def _paper_clip(img: np.ndarray, dpi: float, page: Page, rng: random.Random) -> np.ndarray:
    """A paper clip over a field or from the top edge: two nested elongated loops of wire; its mask."""
    s = per_mm(dpi)
    h, w = img.shape[:2]
    target = field_box(rng.choice(page.fields)) if rng.random() < 0.6 else Box(rng.uniform(20, w / s - 20), 0, 1, 1)
    length, width = rng.uniform(28, 36), rng.uniform(7, 10)
    cx, cy = target.x_mm + rng.uniform(0, target.w_mm), target.y_mm + rng.uniform(-5, target.h_mm + 5)
    angle = math.radians(rng.choice([90, 0]) + rng.uniform(-15, 15))
    ca, sa = math.cos(angle), math.sin(angle)
    clip = np.zeros((h, w), np.float32)
    for size in (1.0, 0.7):  # the outer loop closed, the inner one open at its end
        ts = [k / 59 * 2 * math.pi for k in range(60)]
        loop = [(length * size / 2 * np.sign(math.cos(t)) * abs(math.cos(t)) ** 0.3, width * size / 2 * math.sin(t))
                for t in ts]
        # in quarter pixels (shift=2): the wire's curves drawn smoothly
        points = np.array([[(cx + x * ca - y * sa) * s * 4, (cy + x * sa + y * ca) * s * 4] for x, y in loop], np.int32)
        cv2.polylines(clip, [points.reshape(-1, 1, 2)], size == 1.0, 1.0, max(2, int(0.9 * s)), cv2.LINE_AA, shift=2)
    blend(img, clip, (rng.randint(60, 140),) * 3)
    return clip


def hole_punch(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    s = per_mm(dpi)
    h, w = img.shape[:2]
    colour = rng.choice([(15, 15, 15), (30, 30, 30), (250, 250, 250), (120, 120, 120)])
    holes = np.zeros((h, w), np.float32)
    for x, y in _hole_centres_mm(w / s, h / s, rng):
        centre, radius = (int(x * s), int(y * s)), int(3.0 * s)
        cv2.circle(holes, centre, radius, 1.0, -1, cv2.LINE_AA)
        edge = np.zeros_like(holes)
        cv2.circle(edge, centre, radius, 1.0, max(1, int(0.2 * s)), cv2.LINE_AA)
        blend(img, edge, (90, 90, 90), 0.5)
    blend(img, holes, colour)
    mark_covered(truth, page, holes, dpi, opaque=True)


def _hole_centres_mm(width_mm: float, height_mm: float, rng: random.Random) -> list[tuple[float, float]]:
    """Two holes along the top (a page in three: they may take the corner markers) or down the left margin."""
    if rng.random() < 0.35:
        x, y = rng.uniform(8, 40), rng.uniform(8, 14)
        return [(x, y), (x + (80 if width_mm > 120 else 40), y)]
    x, middle = rng.uniform(8, 30), height_mm / 2 + rng.uniform(-20, 20)
    gap = 80 if height_mm > 150 else 40
    return [(x, middle - gap / 2), (x, middle + gap / 2)]


def coffee_ring(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    s = per_mm(dpi)
    h, w = img.shape[:2]
    t = field_box(rng.choice(page.fields))
    cx, cy = int((t.x_mm + rng.uniform(0, t.w_mm)) * s), int((t.y_mm + rng.uniform(0, t.h_mm)) * s)
    r = rng.uniform(35, 45) * s if w / s > 120 else rng.uniform(20, 35) * s
    wash = np.zeros((h, w), np.float32)
    cv2.circle(wash, (cx, cy), int(r), 0.25, -1)
    rim = np.zeros((h, w), np.float32)
    axes = (int(r), int(r * rng.uniform(0.95, 1.05)))
    start, end = rng.uniform(0, 90), rng.uniform(250, 360)
    cv2.ellipse(rim, (cx, cy), axes, 0, start, end, 1.0, max(2, int(rng.uniform(0.8, 2.5) * s)), cv2.LINE_AA)
    rim = cv2.GaussianBlur(rim, (0, 0), 0.4 * s)
    blend(img, np.clip(wash + rim, 0, 1) * rng.uniform(0.35, 0.7), (150, 95, 50), multiply=True)
    # coffee is a dye: what is under the rim still shows, so a flag there is allowed, never required
    mark_covered(truth, page, (rim > 0.3).astype(np.float32), dpi, opaque=False)


def highlighter(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    """Rows highlighted: transparent colour over the print and the marks, nothing to flag."""
    s = per_mm(dpi)
    h, w = img.shape[:2]
    colour = rng.choice([(255, 245, 90), (150, 245, 110), (255, 150, 200), (255, 190, 80)])
    fields = [f for f in page.fields if not isinstance(f, TextField)]
    for f in rng.sample(fields, min(len(fields), rng.randint(1, 3))):
        b = field_box(f)
        y, height = b.y_mm + b.h_mm / 2 + rng.uniform(-2, 2), rng.uniform(4, 7)
        x0, x1 = rng.uniform(2, b.x_mm), min(w / s - 2, b.x_mm + b.w_mm + rng.uniform(0, 20))
        top, bottom = y - height / 2, y + height / 2
        # a hand-drawn band: its right end a little higher or lower than its left
        corners = [(x0, top), (x1, top + rng.uniform(-2, 2)), (x1, bottom + rng.uniform(-2, 2)), (x0, bottom)]
        band = np.zeros((h, w), np.float32)
        cv2.fillPoly(band, [(np.array(corners) * s).astype(np.int32)], 1.0)
        blend(img, cv2.GaussianBlur(band, (0, 0), 0.3 * s) * rng.uniform(0.7, 1.0), colour, multiply=True)


def ruler_line(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    """A line ruled under a row: close to a line's mark or a box's lower edge, so such a field may be flagged."""
    fields = [f for f in page.fields if isinstance(f, ChoiceField | LineField | BoxesField)]
    for f in rng.sample(fields, min(len(fields), rng.randint(1, 3))):
        b = field_box(f)
        y = f.y1_mm + rng.uniform(3, 6) if isinstance(f, LineField) else b.y_mm + b.h_mm + rng.uniform(0.3, 2.0)
        pen = _Pen(img, dpi, rng.choice(["black", "blue", "pencil"]), rng.uniform(0.3, 0.5))
        x0, x1 = rng.uniform(5, b.x_mm), b.x_mm + b.w_mm + rng.uniform(0, 10)
        pen.stroke([(x0, y), (x1, y + rng.uniform(-0.8, 0.8))])
        if f.id in truth:
            t = truth[f.id]
            truth[f.id] = Truth(t.value, t.must_review, True, t.scenario + "+ruled")


def bleed_through(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    """The reverse side showing through: another filled page, mirrored, blurred and faint."""
    layout, pages, _ = blank_pages(rng.choice(FORMS), dpi)
    i = rng.randrange(len(pages))
    back = fill_page(pages[i].copy(), dpi, layout.pages[i], rng, digits=DIGITS).image
    if back.shape != img.shape:  # a card's back on an A4 page, or the other way round: stretched to fit
        back = cv2.resize(back, (img.shape[1], img.shape[0]))
    back = cv2.GaussianBlur(back[:, ::-1], (0, 0), rng.uniform(0.8, 2.0) * per_mm(dpi) / 10)
    darkness = (255 - back.astype(np.float32)) * rng.uniform(0.12, 0.3)
    img[...] = np.clip(img.astype(np.float32) - darkness, 0, 255).astype(np.uint8)


def thumb(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> None:
    """The thumb of the hand holding the page for a photo, over a field, from the nearer side edge."""
    s = per_mm(dpi)
    h, w = img.shape[:2]
    b = field_box(rng.choice(page.fields))
    width_mm = w / s
    left = b.x_mm < width_mm - (b.x_mm + b.w_mm)
    into_field = rng.uniform(0.1, 0.6) * b.w_mm
    reach = b.x_mm + into_field if left else width_mm - b.x_mm - into_field
    reach = min(reach, rng.uniform(20, 45))
    cy = b.y_mm + rng.uniform(0, b.h_mm)
    tip_w, tip_h = rng.uniform(18, 24), rng.uniform(14, 20)
    cx = reach - tip_w / 2 if left else width_mm - reach + tip_w / 2
    hand = np.zeros((h, w), np.float32)
    cv2.ellipse(hand, (int(cx * s), int(cy * s)), (int(tip_w / 2 * s), int(tip_h / 2 * s)), rng.uniform(-20, 20),
                0, 360, 1.0, -1)
    edge = 0 if left else w  # the rest of the finger, out to the page's edge
    cv2.rectangle(hand, (min(edge, int(cx * s)), int((cy - tip_h / 2.2) * s)),
                  (max(edge, int(cx * s)), int((cy + tip_h / 2.2) * s)), 1.0, -1)
    hand = cv2.GaussianBlur(hand, (0, 0), 0.6 * s)
    blend(img, hand, rng.choice([(225, 175, 145), (190, 140, 110), (140, 95, 70), (240, 200, 180)]))
    mark_covered(truth, page, hand, dpi, opaque=True)


def overlap_page(img: np.ndarray, dpi: float, page: Page, rng: random.Random, truth: Truths) -> tuple[str, int]:
    """Another filled page lying over part of this one on the glass; its serial and page number (it may be
    read in its own right)."""
    s = per_mm(dpi)
    h, w = img.shape[:2]
    layout, pages, serial = blank_pages(rng.choice(FORMS), dpi, seed=OTHER_SERIALS_SEED)
    i = rng.randrange(len(pages))
    other = fill_page(pages[i].copy(), dpi, layout.pages[i], rng, digits=DIGITS).image
    side, share = rng.choice(["left", "right", "top", "bottom"]), rng.uniform(0.15, 0.45)
    move = cv2.getRotationMatrix2D((other.shape[1] / 2, other.shape[0] / 2), rng.uniform(-4, 4), 1.0)
    # shifted in from ``side`` so that it covers ``share`` of this page's width or height
    move += {"left": [[0, 0, share * w - other.shape[1]], [0, 0, 0]], "right": [[0, 0, w - share * w], [0, 0, 0]],
             "top": [[0, 0, 0], [0, 0, share * h - other.shape[0]]], "bottom": [[0, 0, 0], [0, 0, h - share * h]]}[side]
    on_top = cv2.warpAffine(other, move, (w, h), borderValue=(0, 0, 0))
    under = cv2.warpAffine(np.ones(other.shape[:2], np.float32), move, (w, h))
    shadow = np.clip(cv2.GaussianBlur(under, (0, 0), 1.0 * s) - under, 0, 1)  # outside its edge only
    img[...] = np.clip(img.astype(np.float32) * (1 - 0.25 * shadow)[..., None], 0, 255).astype(np.uint8)
    img[under > 0.5] = on_top[under > 0.5]
    mark_covered(truth, page, under, dpi, opaque=True)
    return serial, i + 1


# ---------- capture: the hazarded page (RGB at dpi) as the reader gets it ----------

def flatbed(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    """A flatbed scan at 300 dpi, a third of the pages upside down."""
    return degrade_scan(img, dpi, rng, 300, upside_down=rng.random() < 1 / 3)


def flatbed_or_photo(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    """Half the pages scanned at 300 dpi (upright), half photographed at 3 MP."""
    return degrade_scan(img, dpi, rng, 300) if rng.random() < 0.5 else degrade_photo(img, rng, frame_px=PHOTO_3MP)


def photo(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    return degrade_photo(img, rng, frame_px=PHOTO_3MP)


def dark_lid(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    level = rng.randint(5, 60)
    return scan_on(img, dpi, rng, (level, level, level))


def coloured_lid(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    return scan_on(img, dpi, rng, rng.choice([(30, 60, 140), (160, 40, 40), (40, 120, 60), (200, 200, 120),
                                              (90, 90, 90)]))


def scan_on(img: np.ndarray, dpi: float, rng: random.Random, bed: tuple, out_dpi: int = 300,
            bed_mm: float = 15) -> np.ndarray:
    """A flatbed scan with ``bed_mm`` of the lid's colour ``bed`` all round (degrade_scan's bed is white)."""
    border = int(bed_mm * per_mm(dpi))
    image = cv2.copyMakeBorder(img, border, border, border, border, cv2.BORDER_CONSTANT, value=bed)
    h, w = image.shape[:2]
    angle = rng.uniform(-3, 3) + (180 if rng.random() < 1 / 3 else 0)
    turn = cv2.getRotationMatrix2D((w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-20, 20)), angle, 1.0)
    image = cv2.warpAffine(image, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=bed)
    if out_dpi != dpi:
        image = cv2.resize(image, None, fx=out_dpi / dpi, fy=out_dpi / dpi, interpolation=cv2.INTER_AREA)
    return _add_sensor_noise(image, np.random.default_rng(rng.randrange(1 << 30)), 6)


def copy_of_copy(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    twice = photocopy(photocopy(img, dpi, rng), dpi, rng)
    return degrade_scan(twice, dpi, rng, rng.choice([200, 300]), one_bit=rng.random() < 0.3)


def photocopy(rgb: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    """A photocopy: blurred, its contrast lost (paper darker, black greyer), toner specks, a little turned."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.6, 1.2) * dpi / 300)
    black, white = rng.uniform(50, 90), rng.uniform(195, 225)
    grey = black + (white - black) * grey / 255
    specks = np.random.default_rng(rng.randrange(1 << 30))
    n = int(grey.size * 2e-5)
    grey[specks.integers(0, grey.shape[0], n), specks.integers(0, grey.shape[1], n)] = black
    turn = cv2.getRotationMatrix2D((grey.shape[1] / 2, grey.shape[0] / 2), rng.uniform(-1.5, 1.5), 1.0)
    grey = cv2.warpAffine(grey, turn, (grey.shape[1], grey.shape[0]), borderValue=white)
    grey = np.clip(grey + specks.normal(0, 4, grey.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def fax_standard(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    return fax(img, dpi, rng, fine=False)


def fax_100(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    return fax(img, dpi, rng, fine=True)


def fax(rgb: np.ndarray, dpi: float, rng: random.Random, fine: bool) -> np.ndarray:
    """A received fax, 1-bit: at 204 x 98 dpi (half of them with rows doubled back to square pixels by the
    receiving software), or at 100 x 100 dpi when ``fine``."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.5, 1.5) + (180 if rng.random() < 0.3 else 0), 1.0)
    grey = cv2.warpAffine(grey, turn, (w, h), borderValue=255)
    if fine:
        grey = cv2.resize(grey, (int(w * 100 / dpi), int(h * 100 / dpi)), interpolation=cv2.INTER_AREA)
    else:
        grey = cv2.resize(grey, (int(w * 204 / dpi), int(h * 98 / dpi)), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            grey = cv2.resize(grey, (grey.shape[1], grey.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    grey = _add_sensor_noise(grey, np.random.default_rng(rng.randrange(1 << 30)), 5)
    return np.where(grey > rng.randint(140, 175), 255, 0).astype(np.uint8)


def on_tablecloth(img: np.ndarray, dpi: float, rng: random.Random) -> np.ndarray:
    """A 3 MP photo of the page whose desk is replaced, all round the page, by a patterned cloth."""
    rng.randrange(1 << 30)  # the harness drew a seed here for a photo it threw away: kept, for the same pages
    seed = rng.randrange(1 << 30)
    image = degrade_photo(img, random.Random(seed), frame_px=PHOTO_3MP)
    # the same photo (desk, perspective, light) of a black page: where the two differ is the page
    black = degrade_photo(np.zeros_like(img), random.Random(seed), frame_px=PHOTO_3MP)
    page = _page_region(image, black)
    return np.where(page[..., None] > 0, image, tablecloth(rng, PHOTO_3MP))


def _page_region(image: np.ndarray, black: np.ndarray) -> np.ndarray:
    """The page's region (1 inside) of a photo, given the same photo of a black page: the convex hull of where
    they differ, writing and print included by a closing, then eroded by a pixel (the page's blurred edge
    stays the page's)."""
    differ = (np.abs(image.astype(np.int16) - black.astype(np.int16)).max(axis=2) > 25).astype(np.uint8)
    differ = cv2.morphologyEx(differ, cv2.MORPH_CLOSE, np.ones((25, 25), np.uint8))
    contours, _ = cv2.findContours(differ, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    region = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(region, [cv2.convexHull(max(contours, key=cv2.contourArea))], 1)
    return cv2.erode(region, np.ones((3, 3), np.uint8))


def tablecloth(rng: random.Random, frame: tuple[int, int]) -> np.ndarray:
    """A frame of patterned cloth (RGB): gingham, black-and-white checks, diagonal stripes or newsprint."""
    fw, fh = frame
    kind = rng.choice(["gingham", "checks", "stripes", "newsprint"])
    cloth = np.zeros((fh, fw, 3), np.uint8)
    yy, xx = np.mgrid[0:fh, 0:fw]
    period = rng.randint(15, 60)
    colour, pale = np.array([rng.randint(0, 255) for _ in range(3)], np.uint8), np.array([235, 235, 230], np.uint8)
    if kind == "gingham":
        t = (((xx // period) % 2) + ((yy // period) % 2)).astype(np.float32)[..., None] / 2
        cloth = (pale * (1 - t) + colour * t).astype(np.uint8)
    elif kind == "checks":
        t = (((xx // period) + (yy // period)) % 2).astype(bool)
        cloth[t], cloth[~t] = (20, 20, 20), (240, 240, 240)
    elif kind == "stripes":
        t = ((xx + yy) // period % 2).astype(bool)
        cloth[t], cloth[~t] = colour, pale
    else:
        cloth[...] = 225
        for _ in range(1500):
            x, y = rng.randrange(fw), rng.randrange(fh)
            words = "".join(rng.choice("abcdefghij klmnop") for _ in range(8))
            cv2.putText(cloth, words, (x, y), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.4, 1.2), (30, 30, 30),
                        rng.randint(1, 2))
    return cv2.GaussianBlur(cloth, (0, 0), 1.0)


Hazard = Callable[[np.ndarray, float, Page, random.Random, Truths], object]
Capture = Callable[[np.ndarray, float, random.Random], np.ndarray]
# per condition: what happens to the page, then how it is captured
STEPS: dict[str, tuple[Hazard | None, Capture]] = {
    "staple": (staple_and_clip, flatbed), "holepunch": (hole_punch, flatbed),
    "coffee": (coffee_ring, flatbed_or_photo), "highlighter": (highlighter, flatbed_or_photo),
    "ruler": (ruler_line, flatbed), "bleed": (bleed_through, flatbed), "thumb": (thumb, photo),
    "overlap": (overlap_page, flatbed), "darklid": (None, dark_lid), "colourlid": (None, coloured_lid),
    "photocopy2": (None, copy_of_copy), "fax_std": (None, fax_standard), "fax100": (None, fax_100),
    "tablecloth": (None, on_tablecloth),
}
CONDITIONS = list(STEPS)


# ---------- one page ----------

def make_page(condition: str, seed: int) -> tuple[np.ndarray, Truths, dict]:
    """The image (RGB, or grey for a fax) of page ``seed`` under ``condition``, its truth, and what it is: form,
    page number, serial, and under *overlap* the serial and page number of the page on top."""
    rng = random.Random(seed * 7919 + zlib.crc32(condition.encode()) % 1000)
    form = FORMS[seed % len(FORMS)]
    dpi = 300 if condition in HIGH_DPI else 200
    layout, pages, serial = blank_pages(form, dpi)
    index = rng.randrange(len(pages))
    page = layout.pages[index]
    filled = fill_page(pages[index].copy(), dpi, page, rng, digits=DIGITS)
    hazard, capture = STEPS[condition]
    on_top = hazard(filled.image, dpi, page, rng, filled.truth) if hazard else None
    about = {"form": form, "page": index + 1, "serial": serial, "on_top": on_top}
    return capture(filled.image, dpi, rng), filled.truth, about


def evaluate(job: tuple[str, int, str | None]) -> dict:
    condition, seed, keep = job
    start = time.perf_counter()
    image, truth, about = make_page(condition, seed)
    grey = image if image.ndim == 2 else image.min(axis=2)
    out = {"identified": 0, "fields": 0, "correct": 0, "flagged": 0, "must": 0, "caught": 0, "silent": [],
           "wrong": [], "failed": []}
    try:
        results = read_image(grey, PageResult("bench", 1, "", ""))
    except Exception as error:  # a page the reader fails on is reported, and the run goes on
        results = []
        out["failed"].append(f"seed {seed} {about['form']} p{about['page']}: reader failed: {error!r}")
    read = [r for r in results if r.status == "read"]
    ours = [r for r in read if r.serial == about["serial"] and r.form_page == about["page"]]
    for r in read:
        if r not in ours and (r.serial, r.form_page) != about["on_top"]:
            out["wrong"].append(f"seed {seed} {about['form']} p{about['page']}: read as {r.form} p{r.form_page} "
                                f"serial {r.serial} ({len(r.values)} values)")
    if ours:
        out["identified"] = 1
        _score(ours[0].values, truth, f"seed {seed} {about['form']} p{about['page']}", out)
    if keep and (out["silent"] or out["wrong"] or out["failed"]):
        colour = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(Path(keep) / f"{condition}_{seed}.png"), colour)
    out["seconds"] = time.perf_counter() - start
    return out


def _score(values: list, truth: Truths, where: str, out: dict) -> None:
    """Count the page's fields into ``out``, and describe each silent error (prefixed by ``where``)."""
    for value, t in with_truth(values, truth):
        out["fields"] += 1
        out["must"] += t.must_review
        if value.needs_review:
            out["flagged"] += 1
            out["caught"] += t.must_review
        elif not t.must_review and _matches(value.value, t.value, value.kind):
            out["correct"] += 1
        else:
            out["silent"].append(f"{where} {value.field}: read {value.value!r}, true {t.value!r} ({t.scenario})")


COLUMNS = ["pages", "identified", "fields", "correct", "flagged", "must-flag", "caught", "silent errors",
           "wrong-page reads", "seconds"]


def report(condition: str, rows: list[dict]) -> None:
    """One row of the table, then a line per silent error, wrong-page read and failure."""
    total = {k: sum(r[k] for r in rows) for k in ("identified", "fields", "correct", "flagged", "must", "caught",
                                                  "seconds")}
    silent, wrong, failed = ([line for r in rows for line in r[k]] for k in ("silent", "wrong", "failed"))
    figures = [len(rows), total["identified"], total["fields"], total["correct"], total["flagged"], total["must"],
               total["caught"], len(silent), len(wrong), round(total["seconds"])]
    print(f"{condition:12} " + " ".join(f"{n:>{len(c)}}" for n, c in zip(figures, COLUMNS, strict=True)), flush=True)
    for line in silent + [f"wrong page: {w}" for w in wrong] + failed:
        print("    " + line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=40, help="pages per condition")
    parser.add_argument("--only", choices=CONDITIONS, action="append",
                        help="this condition only (repeatable; default: all)")
    parser.add_argument("--keep", metavar="DIR",
                        help="write here the images of pages with a silent error, a wrong-page read or a failure")
    args = parser.parse_args()
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    print(f"machine: {multiprocessing.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print(f"{'condition':12} " + " ".join(COLUMNS))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for condition in CONDITIONS:
            if args.only and condition not in args.only:
                continue
            # one page at a time: pages differ in cost by several times (a 300 dpi page, a fax)
            rows = pool.map(evaluate, [(condition, seed, args.keep) for seed in range(args.pages)], chunksize=1)
            report(condition, rows)


if __name__ == "__main__":
    main()
