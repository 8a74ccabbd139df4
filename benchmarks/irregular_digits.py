"""Irregular writing in digit and date boxes: numbers and dates written as people write them, not as the boxes
ask, and the values the reader gets wrong without flagging them.

    python benchmarks/irregular_digits.py [--pages N] [--only CASE ...] [--procs P]

Each case writes into the boxes of one of three forms, in turn by seed: *G*, the second page of gas-followup
(a weight 1-9 in one box, a date in eight), *C*, the back of the goal card (two dates), *N*, this benchmark's
own A6 form ``benchmarks/templates/numbers.yaml`` (visits 0-99 in two boxes, a rating 1-10 in two, an age 12-110
in three, a date). A page's digits are of one writer set: held-back MNIST (half the pages; the 10,000 digits
``scripts/train_digits.py`` holds back, or without its data the 600 of ``samples/handwriting``), or the
held-back halves of USPS and optdigits (``scripts/digit_sources.py``, as they come; where their files are
missing, MNIST again); none of them trained on. Digits in the page's pen, black or blue; the strokes that cross
out, slashes, dashes, symbols and ticks in black, "n/a" in blue. Per case (its forms in brackets):

- *blank* (G, N, C): nothing written: every field read as anything but blank, unflagged, is an error.
- *plain_G* (G), *plain_N* (N): every field written plainly, a digit a box, numbers zero-padded: the baseline.
- *squeeze_weight* (G): a number 10-99 squeezed into the one weight box, two digits side by side; must be
  flagged (the box takes one digit, 1-9).
- *squeeze_2box* (N): visits 10-99 with both digits in the first box (the second empty), a rating of 10 in
  the first box, an age 13-99 squeezed into the first or the last of its three boxes.
- *year_small* (N, C): a date whose four-digit year is squeezed two digits a box into the year's first two
  boxes, the last two empty.
- *short_day* (N, C): day and month 1-9 of 2025 written as single digits, each in the left (or, on half the
  pages, the right) box of its pair.
- *short_year* (N, C): the year as two digits in the last two boxes, the two before them empty.
- *freehand* (N, C): "5/3/25" written across the date's boxes ignoring them, slashes included, digits 0.6-0.8
  of a box high.
- *crossed_weight* (G): a wrong digit in the weight box struck through (one stroke or a scribble), the right
  one written above the box or just right of it.
- *crossed_date* (N, C): the same with one digit of a date (the day's second, the month's second or the
  year's last), the right digit written above its box.
- *below_weight* (G): the weight written 55-85 % of the box's height lower than its box: mostly below it.
- *below_date* (N, C): one digit of a date written 55-85 % of its box's height higher or lower.
- *straddle* (N): visits a single digit centred on the gap between the two boxes; a date whose day 1-9 is one
  digit centred on the gap between the two day boxes.
- *align* (N): visits and rating 1-9 as one digit, in the left or the right box; an age 13-99 in the first two
  or the last two of its three boxes.
- *symbols_weight* (G): "?", "-" or "x" in the weight box; must be flagged.
- *symbols_2box* (N): visits "?", "-" or "x" in both boxes, "n/a" in the first, or a dash across both; rating
  a digit then "?", "-" or "x"; both must be flagged.
- *symbols_date* (N, C): a dash across the date's boxes, a tick in one box or in all eight, "n/a" in one of
  the first four boxes, or a date with "?" in place of one digit; must be flagged.
- *faint* (G, N): *plain*, in a faint light grey (hard pencil) at 45-75 % strength.
- *sprawl* (G, N, C): big handwriting: each digit up to 1.17 times as wide and 1.14 times as tall as its box
  (drawn into a box 1.3 times as wide and 1.2 times as tall, centred on the printed one).
- *felt* (G, N): *plain* with a felt pen: near-black, full strength, strokes 0.45 mm thicker, 0.9-1.15 of a
  box high.
- *styles* (G): continental habits in held-back MNIST digits: a 1 with a flag, a barred 7, a closed 4 (half
  the 4s), in the weight box and in a date made of 1s, 4s and 7s.
- *slashed* (G, N): every digit and date field that can hold a zero written with one or more (a date with two
  to five), each zero struck through corner to corner (Ø, ``digit_sources.slashed_zero``), the stroke past its
  ink at both ends; the other digits as they come.

Pages are written on the printed form drawn at 300 dpi. With ``--pages N``, N pages a case are written and
scanned flatbed at 300 dpi (*scan*), and N more, written afresh, photographed at 3 MP (*photo3*). Page
``seed`` of a case and capture is always the same page. It is read as the scanner reads any image
(``scanner.pipeline.read_image``, the shipped templates and ``benchmarks/templates``).

A field is *right* read as its value (a number zero-padded to its boxes or not) and not flagged; *flagged*
for review whatever it reads (never an error: a person looks); *silent* when accepted and wrong, or accepted
at all where it must be flagged: the errors that matter. Columns, per case: *pages* (2N), *fields* written
(every digit and date field of the page for blank, plain, faint, sprawl and felt; the fields the case writes
otherwise), *right*, *flagged*, *silent*, and *not read*: fields of pages the reader did not identify or failed
on. After the table, one line per silent error and per field not read: case, capture, seed, field, the value
read, the truth, how it was written, and each box's reading (digit, its probability, ink in mm², and a state
such as blank).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import platform
import random
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

# the repository's own code (and tests.synthetic, the digit scripts), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import digit_sources  # noqa: E402
from handwriting_accuracy import sources as held_back_digits  # noqa: E402

from formkit.catalogue import Catalogue  # noqa: E402
from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import Box, BoxesField, Page  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.pipeline import read_image  # noqa: E402
from tests.synthetic import PENS, _Pen, degrade_photo, degrade_scan, draw_digit, draw_mark, render_pdf  # noqa: E402

DPI = 300
PHOTO_3MP = (2000, 1500)
CAPTURES = ("scan", "photo3")
TEMPLATES = Path(__file__).resolve().parent / "templates"
# each form written on: its template, and which of its pages has the digit and date boxes
FORMS = {"G": ("gas-followup", 1), "C": ("goal-card", 1), "N": (str(TEMPLATES / "numbers.yaml"), 0)}
SERIALS_SEED = 7
WRITERS = ("MNIST", "MNIST", "USPS", "optdigits")  # a page's writer set, drawn: MNIST on half the pages
Digits = dict[int, list[np.ndarray]]


class Expected(NamedTuple):
    """What a field may be read as unflagged (``None``: nothing, it must be flagged), and how it was written."""

    values: frozenset[str] | None
    how: str


Truths = dict[str, Expected]


def number(value: int, boxes: int) -> frozenset[str]:
    """A number as it may be read: as written, or zero-padded to its boxes."""
    return frozenset({str(value), str(value).zfill(boxes)})


def one(value: str) -> frozenset[str]:
    return frozenset({value})


# ---------- the blank forms and the digits ----------

@cache
def blank_page(form: str) -> tuple[Page, np.ndarray]:
    """``form``'s (a key of FORMS) page with the boxes, and its printed image (RGB at DPI)."""
    template, index = FORMS[form]
    layout = build_layout(resolve_template(template))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "form.pdf"
        generate(layout, make_copies(1, None, SERIALS_SEED), pdf)
        return layout.pages[index], render_pdf(pdf, DPI)[index]


@cache
def writer_sets() -> dict[str, Digits]:
    """Held-back digits by writer set and digit (USPS and optdigits as they come, not stretched)."""
    out = {}
    for name, held in held_back_digits(10_000, None).items():
        kept = ~held.stretched
        out[name] = {d: [held.x[i] for i in np.nonzero((held.y == d) & kept)[0]] for d in range(10)}
    return out


@cache
def catalogue() -> Catalogue:
    """The shipped templates and this benchmark's own."""
    return Catalogue([TEMPLATES])


# ---------- writing ----------

@dataclass
class Sheet:
    """A page being written on: its image (RGB at DPI), the draws, its writer's digits and pen."""

    image: np.ndarray
    rng: random.Random
    digits: Digits
    pen: str

    def sample(self, digit: int) -> np.ndarray:
        """One of the writer's images of ``digit``."""
        return self.rng.choice(self.digits[digit])


@dataclass(frozen=True)
class Hand:
    """How digits are written (tests.synthetic.draw_digit's way, with what it fixes made choosable)."""

    colour: tuple[int, int, int] | None = None  # None: the page's pen
    cut: float | None = None  # where MNIST's soft stroke profile is cut (thinner above); None: 0.1-0.55 at random
    strength: tuple[float, float] = (0.7, 1.0)  # the ink's opacity, drawn in this range
    height: tuple[float, float] = (0.5, 0.95)  # of the box's height, drawn in this range
    thicken_mm: float = 0.0
    jitter: bool = True  # placed off the box's centre at random, as people do


PEN = Hand()
FAINT = Hand(colour=(175, 175, 180), strength=(0.45, 0.75))
FELT = Hand(colour=(20, 20, 30), cut=0.02, strength=(1.0, 1.0), height=(0.9, 1.15), thicken_mm=0.45)
CENTRED = replace(PEN, jitter=False)


def write_digit(sheet: Sheet, box: Box, digit: np.ndarray, hand: Hand = PEN) -> None:
    """A digit image (ink 255, as MNIST) written into ``box`` in ``hand`` (``tests.synthetic.draw_digit``)."""
    draw_digit(sheet.image, DPI, box, digit, sheet.rng, sheet.pen, height=hand.height, cut=hand.cut,
               strength=hand.strength, thicken_mm=hand.thicken_mm, colour=hand.colour,
               place="jitter" if hand.jitter else "centre")


def write(sheet: Sheet, boxes: tuple[Box, ...] | list[Box], text: str, hand: Hand = PEN) -> None:
    """``text`` one character a box from the first; a space leaves its box empty."""
    for box, char in zip(boxes, text, strict=False):
        if char.isdigit():
            write_digit(sheet, box, sheet.sample(int(char)), hand)


def squeeze(sheet: Sheet, box: Box, text: str) -> None:
    """The digits of ``text`` side by side inside one box."""
    width = box.w_mm / len(text)
    for k, char in enumerate(text):
        write_digit(sheet, Box(box.x_mm + k * width, box.y_mm, width, box.h_mm), sheet.sample(int(char)), CENTRED)


def moved(b: Box, dx: float = 0.0, dy: float = 0.0, h: float | None = None) -> Box:
    return Box(b.x_mm + dx, b.y_mm + dy, b.w_mm, b.h_mm if h is None else h)


def between(a: Box, b: Box) -> Box:
    """A box the size of ``a`` centred on the gap between ``a`` and ``b``."""
    return Box((a.x_mm + b.x_mm) / 2, a.y_mm, a.w_mm, a.h_mm)


def pen(sheet: Sheet, width_mm: float) -> _Pen:
    return _Pen(sheet.image, DPI, "black", width_mm)


def random_date(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1000))


def field(page: Page, field_id: str) -> BoxesField:
    return next(f for f in page.fields if f.id == field_id)


def date_field(page: Page) -> BoxesField:
    return next(f for f in page.fields if isinstance(f, BoxesField) and f.kind == "date")


def boxes_fields(page: Page) -> list[BoxesField]:
    return [f for f in page.fields if isinstance(f, BoxesField)]


def cross_out(sheet: Sheet, box: Box) -> None:
    """One stroke corner to corner (a little past the box), or a scribble."""
    p = pen(sheet, sheet.rng.uniform(0.35, 0.55))
    if sheet.rng.random() < 0.5:
        bottom_left = (box.x_mm - 0.3, box.y_mm + box.h_mm * 0.85)
        p.stroke([bottom_left, (box.x_mm + box.w_mm + 0.3, box.y_mm + box.h_mm * 0.15)])
    else:
        draw_mark(sheet.image, DPI, box, "scribble", sheet.rng)


def symbol(sheet: Sheet, box: Box, sign: str) -> None:
    """A question mark, a dash or an x written in ``box``."""
    rng = sheet.rng
    p = pen(sheet, rng.uniform(0.35, 0.5))
    cx, cy = box.x_mm + box.w_mm / 2 + rng.uniform(-0.4, 0.4), box.y_mm + box.h_mm / 2 + rng.uniform(-0.4, 0.4)
    s = min(box.w_mm, box.h_mm) / 2 * rng.uniform(0.6, 0.9)
    if sign == "?":
        p.stroke([(cx - s * 0.6, cy - s * 0.5), (cx - s * 0.4, cy - s * 0.95), (cx + s * 0.2, cy - s * 1.05),
                  (cx + s * 0.6, cy - s * 0.7), (cx + s * 0.5, cy - s * 0.3), (cx, cy), (cx, cy + s * 0.45)])
        p.stroke([(cx, cy + s * 0.85), (cx + 0.15, cy + s * 0.9)])  # the dot
    elif sign == "-":
        p.stroke([(cx - s * 0.7, cy), (cx + s * 0.7, cy + rng.uniform(-0.3, 0.3))])
    elif sign == "x":
        p.stroke([(cx - s * 0.5, cy - s * 0.4), (cx + s * 0.5, cy + s * 0.5)])
        p.stroke([(cx + s * 0.5, cy - s * 0.4), (cx - s * 0.5, cy + s * 0.5)])
    else:
        raise ValueError(sign)


def dash_across(sheet: Sheet, boxes: tuple[Box, ...], wobble_mm: float) -> None:
    """A line through the middle of a row of boxes, first to last."""
    first, last = boxes[0], boxes[-1]
    y = first.y_mm + first.h_mm / 2
    pen(sheet, 0.45).stroke([(first.x_mm + 0.5, y), (last.x_mm + last.w_mm - 0.5, y + sheet.rng.uniform(-wobble_mm,
                                                                                                       wobble_mm))])


def not_applicable(sheet: Sheet, box: Box) -> None:
    """"n/a" in small joined-up letters (a script font) from ``box`` on, in blue."""
    scale = DPI / 25.4
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    size = box.h_mm * 0.35 * scale / cv2.getTextSize("n", font, 1.0, 1)[0][1]
    cv2.putText(sheet.image, "n/a", (int((box.x_mm + 0.5) * scale), int((box.y_mm + box.h_mm * 0.75) * scale)), font,
                size, PENS["blue"], max(1, int(0.4 * scale)), cv2.LINE_AA)


def styled_digit(sheet: Sheet, digit: int) -> np.ndarray:
    """A held-back MNIST ``digit`` written the continental way: 1 with a flag, 7 barred, 4 closed (half of them)."""
    image = digit_sources.padded(sheet.rng.choice(writer_sets()["MNIST"][digit]))
    if digit == 1:
        return digit_sources.continental_one(image, sheet.rng)
    if digit == 7:
        return digit_sources.barred_seven(image, sheet.rng)
    if digit == 4 and sheet.rng.random() < 0.5:
        return digit_sources.closed_four(image, sheet.rng)
    return image


def slashed_zero(sheet: Sheet) -> np.ndarray:
    """A held-back MNIST 0 struck through corner to corner (Ø)."""
    return digit_sources.slashed_zero(digit_sources.padded(sheet.rng.choice(writer_sets()["MNIST"][0])), sheet.rng)


# ---------- the cases: each writes on the sheet's page and says what each field written may read ----------
# Keep the order of the random draws: a seed makes the pages the documented figures (docs/benchmarks.md) were
# measured on, and those of the adversarial pass before the fixes.

def blank(sheet: Sheet, page: Page) -> Truths:
    return {f.id: Expected(one(""), "blank") for f in boxes_fields(page)}


def plainly(sheet: Sheet, page: Page, hand: Hand = PEN) -> Truths:
    """Every field: a date, or a number in its range (up to 99) zero-padded to its boxes, one digit a box."""
    out = {}
    for f in boxes_fields(page):
        if f.kind == "date":
            day = random_date(sheet.rng)
            write(sheet, f.boxes, day.strftime("%d%m%Y"), hand)
            out[f.id] = Expected(one(day.isoformat()), "")
        else:
            value = sheet.rng.randint(f.minimum, min(f.maximum, 99))
            write(sheet, f.boxes, str(value).zfill(len(f.boxes)), hand)
            out[f.id] = Expected(number(value, len(f.boxes)), "")
    return out


def faint(sheet: Sheet, page: Page) -> Truths:
    return plainly(sheet, page, FAINT)


def felt(sheet: Sheet, page: Page) -> Truths:
    return plainly(sheet, page, FELT)


def sprawl(sheet: Sheet, page: Page) -> Truths:
    """*plainly*, each digit drawn into a box 1.3 times as wide and 1.2 times as tall as its own."""
    out = {}
    big = replace(PEN, height=(0.7, 0.95))
    for f in boxes_fields(page):
        grown = [Box(b.x_mm - 0.15 * b.w_mm, b.y_mm - 0.1 * b.h_mm, 1.3 * b.w_mm, 1.2 * b.h_mm) for b in f.boxes]
        if f.kind == "date":
            day = random_date(sheet.rng)
            write(sheet, grown, day.strftime("%d%m%Y"), big)
            out[f.id] = Expected(one(day.isoformat()), "")
        else:
            value = sheet.rng.randint(f.minimum, min(f.maximum, 99))
            write(sheet, grown, str(value).zfill(len(f.boxes)), big)
            out[f.id] = Expected(number(value, len(f.boxes)), "")
    return out


def squeeze_weight(sheet: Sheet, page: Page) -> Truths:
    value = sheet.rng.randint(10, 99)
    squeeze(sheet, field(page, "weight_5").boxes[0], str(value))
    return {"weight_5": Expected(None, f"'{value}' squeezed into the 1-9 box")}


def squeeze_2box(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    visits = rng.randint(10, 99)
    squeeze(sheet, field(page, "visits").boxes[0], str(visits))
    squeeze(sheet, field(page, "rating").boxes[0], "10")
    age = rng.randint(13, 99)
    first = rng.random() < 0.5
    squeeze(sheet, field(page, "age").boxes[0 if first else 2], str(age))
    return {"visits": Expected(one(str(visits)), f"'{visits}' in box 1, box 2 empty"),
            "rating": Expected(one("10"), "'10' in box 1"),
            "age": Expected(one(str(age)), f"'{age}' in box {1 if first else 3} of 3")}


def year_small(sheet: Sheet, page: Page) -> Truths:
    f = date_field(page)
    day = random_date(sheet.rng)
    write(sheet, f.boxes[:4], day.strftime("%d%m"))
    year = day.strftime("%Y")
    squeeze(sheet, f.boxes[4], year[:2])
    squeeze(sheet, f.boxes[5], year[2:])
    return {f.id: Expected(one(day.isoformat()), "the year's 4 digits in boxes 5-6")}


def short_day(sheet: Sheet, page: Page) -> Truths:
    f = date_field(page)
    month, day_of_month = sheet.rng.randint(1, 9), sheet.rng.randint(1, 9)
    day = dt.date(2025, month, day_of_month)
    left = sheet.rng.random() < 0.5
    write(sheet, f.boxes, (f"{day.day} {day.month} " if left else f" {day.day} {day.month}") + "2025")
    return {f.id: Expected(one(day.isoformat()), f"one-digit day and month in the {'left' if left else 'right'} box")}


def short_year(sheet: Sheet, page: Page) -> Truths:
    f = date_field(page)
    day = random_date(sheet.rng)
    write(sheet, f.boxes, day.strftime("%d%m") + "  " + day.strftime("%y"))
    return {f.id: Expected(one(day.isoformat()), "the year's 2 digits in the last boxes")}


def freehand(sheet: Sheet, page: Page) -> Truths:
    f = date_field(page)
    rng = sheet.rng
    month, day_of_month = rng.randint(1, 12), rng.randint(1, 28)
    day = dt.date(2025, month, day_of_month)
    text = f"{day.day}/{day.month}/{day.strftime('%y')}"
    first = f.boxes[0]
    h = first.h_mm * rng.uniform(0.6, 0.9)
    x = first.x_mm + rng.uniform(0, 6)
    y = first.y_mm + rng.uniform(-1, 1)
    slash = pen(sheet, 0.4)
    for char in text:
        w = h * 0.6
        if char == "/":
            slash.stroke([(x + w * 0.1, y + first.h_mm * 0.85), (x + w * 0.6, y + first.h_mm * 0.15)])
        else:
            write_digit(sheet, Box(x, y, w, first.h_mm), sheet.sample(int(char)), replace(CENTRED, height=(0.6, 0.8)))
        x += w * rng.uniform(1.0, 1.3)
    return {f.id: Expected(one(day.isoformat()), f"'{text}' written across the boxes")}


def crossed_weight(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    box = field(page, "weight_5").boxes[0]
    wrong, right = rng.sample(range(1, 10), 2)
    write_digit(sheet, box, sheet.sample(wrong))
    cross_out(sheet, box)
    where = rng.choice(["above", "right"])
    corrected = moved(box, dy=-box.h_mm * 0.95, h=box.h_mm * 0.8) if where == "above" else moved(box, dx=box.w_mm + 1.2)
    write_digit(sheet, corrected, sheet.sample(right))
    return {"weight_5": Expected(one(str(right)), f"{wrong} crossed out, {right} written {where}")}


def crossed_date(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    f = date_field(page)
    day = random_date(rng)
    text = day.strftime("%d%m%Y")
    k = rng.choice([1, 3, 7])
    wrong = rng.choice([c for c in range(10) if c != int(text[k])])
    write(sheet, f.boxes, text[:k] + " " + text[k + 1:])
    box = f.boxes[k]
    write_digit(sheet, box, sheet.sample(wrong))
    cross_out(sheet, box)
    write_digit(sheet, moved(box, dy=-box.h_mm * 0.95, h=box.h_mm * 0.8), sheet.sample(int(text[k])))
    return {f.id: Expected(one(day.isoformat()), f"box {k + 1}: {wrong} crossed out, {text[k]} above")}


def below_weight(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    value = rng.randint(1, 9)
    box = field(page, "weight_5").boxes[0]
    lower = moved(box, dy=box.h_mm * rng.uniform(0.55, 0.85))
    write_digit(sheet, lower, sheet.sample(value))
    return {"weight_5": Expected(one(str(value)), "written mostly below the box")}


def below_date(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    f = date_field(page)
    day = random_date(rng)
    text = day.strftime("%d%m%Y")
    k = rng.randrange(8)
    write(sheet, f.boxes, text[:k] + " " + text[k + 1:])
    box = f.boxes[k]
    shift = box.h_mm * rng.uniform(0.55, 0.85)
    write_digit(sheet, moved(box, dy=shift * rng.choice([-1, 1])), sheet.sample(int(text[k])))
    return {f.id: Expected(one(day.isoformat()), f"box {k + 1} written mostly above or below")}


def straddle(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    visits = rng.randint(1, 9)
    write_digit(sheet, between(*field(page, "visits").boxes), sheet.sample(visits), CENTRED)
    seen = field(page, "seen")
    month, day_of_month = rng.randint(1, 12), rng.randint(1, 9)
    day = dt.date(2025, month, day_of_month)
    write(sheet, seen.boxes, f"  {day.month:02d}{day.year}")
    write_digit(sheet, between(*seen.boxes[:2]), sheet.sample(day.day), CENTRED)
    return {"visits": Expected(number(visits, 2), "one digit over the gap between both boxes"),
            "seen": Expected(one(day.isoformat()), "the day's one digit over the gap between the day's boxes")}


def align(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    out = {}
    for field_id, boxes in (("visits", 2), ("rating", 2), ("age", 3)):
        value = rng.randint(13, 99) if field_id == "age" else rng.randint(1, 9)
        right = rng.random() < 0.5
        write(sheet, field(page, field_id).boxes, (" " if right else "") + str(value))
        out[field_id] = Expected(number(value, boxes), f"'{value}' {'right' if right else 'left'}-aligned")
    return out


def symbols_weight(sheet: Sheet, page: Page) -> Truths:
    sign = sheet.rng.choice(["?", "-", "x"])
    symbol(sheet, field(page, "weight_5").boxes[0], sign)
    return {"weight_5": Expected(None, f"'{sign}' in the box")}


def symbols_2box(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    visits = field(page, "visits")
    kind = rng.choice(["?", "-", "x", "n/a", "dash"])
    if kind == "n/a":
        not_applicable(sheet, visits.boxes[0])
    elif kind == "dash":
        dash_across(sheet, visits.boxes, 0.4)
    else:
        for box in visits.boxes:
            symbol(sheet, box, kind)
    rating = field(page, "rating")
    sign = rng.choice(["?", "-", "x"])
    write(sheet, rating.boxes, str(rng.randint(1, 9)))
    symbol(sheet, rating.boxes[1], sign)
    return {"visits": Expected(None, f"'{kind}' in the boxes"), "rating": Expected(None, f"a digit then '{sign}'")}


def symbols_date(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    f = date_field(page)
    kind = rng.choice(["dash", "tick", "n/a", "?"])
    if kind == "dash":
        dash_across(sheet, f.boxes, 0.6)
    elif kind == "tick":
        ticks = rng.choice([1, 1, 8])
        for k in rng.sample(range(8), ticks):
            draw_mark(sheet.image, DPI, f.boxes[k], "tick", rng)
        kind = f"{ticks} tick(s)"
    elif kind == "n/a":
        not_applicable(sheet, f.boxes[rng.randrange(4)])
    else:
        text = random_date(rng).strftime("%d%m%Y")
        k = rng.randrange(8)
        write(sheet, f.boxes, text[:k] + " " + text[k + 1:])
        symbol(sheet, f.boxes[k], "?")
        kind = f"'?' in box {k + 1} of a date"
    return {f.id: Expected(None, kind)}


def styles(sheet: Sheet, page: Page) -> Truths:
    rng = sheet.rng
    weight = rng.choice([1, 4, 7])
    write_digit(sheet, field(page, "weight_5").boxes[0], styled_digit(sheet, weight))
    f = date_field(page)
    year, month, day_of_month = rng.choice([2024, 2027, 2021]), rng.choice([1, 4, 7, 11]), rng.choice(
        [1, 4, 7, 11, 14, 17, 21, 24, 27])
    day = dt.date(year, month, day_of_month)
    for box, char in zip(f.boxes, day.strftime("%d%m%Y"), strict=True):
        write_digit(sheet, box, styled_digit(sheet, int(char)) if char in "147" else sheet.sample(int(char)))
    return {"weight_5": Expected(one(str(weight)), "a styled 1, 4 or 7"),
            f.id: Expected(one(day.isoformat()), "styled 1s, 4s and 7s in a date")}


def slashed(sheet: Sheet, page: Page) -> Truths:
    """Every field as *plainly* writes it, each with a zero or more, every zero struck through (Ø)."""
    rng, out = sheet.rng, {}
    for f in boxes_fields(page):
        if f.kind == "date":
            day = dt.date(rng.choice([2020, 2026, 2030]), rng.choice([1, 5, 10]), rng.choice([3, 10, 20, 30]))
            text, out[f.id] = day.strftime("%d%m%Y"), Expected(one(day.isoformat()), "slashed zeros in a date")
        else:
            with_zero = [v for v in range(f.minimum, min(f.maximum, 99) + 1) if "0" in str(v).zfill(len(f.boxes))]
            if not with_zero:  # a weight 1-9: left blank, not counted
                continue
            value = rng.choice(with_zero)
            text, out[f.id] = str(value).zfill(len(f.boxes)), Expected(number(value, len(f.boxes)), "slashed zeros")
        for box, char in zip(f.boxes, text, strict=True):
            write_digit(sheet, box, slashed_zero(sheet) if char == "0" else sheet.sample(int(char)))
    return out


Case = Callable[[Sheet, Page], Truths]
# per case: the forms it writes on (in turn by seed), and how
CASES: dict[str, tuple[str, Case]] = {
    "blank": ("GNC", blank), "plain_G": ("G", plainly), "plain_N": ("N", plainly),
    "squeeze_weight": ("G", squeeze_weight), "squeeze_2box": ("N", squeeze_2box),
    "year_small": ("NC", year_small), "short_day": ("NC", short_day), "short_year": ("NC", short_year),
    "freehand": ("NC", freehand), "crossed_weight": ("G", crossed_weight), "crossed_date": ("NC", crossed_date),
    "below_weight": ("G", below_weight), "below_date": ("NC", below_date), "straddle": ("N", straddle),
    "align": ("N", align), "symbols_weight": ("G", symbols_weight), "symbols_2box": ("N", symbols_2box),
    "symbols_date": ("NC", symbols_date), "faint": ("GN", faint), "sprawl": ("GNC", sprawl), "felt": ("GN", felt),
    "styles": ("G", styles), "slashed": ("GN", slashed),
}


# ---------- one page ----------

class Outcome(NamedTuple):
    case: str
    capture: str
    seed: int
    field: str
    outcome: str  # right, flagged, silent or unread
    read: str
    truth: str
    how: str
    boxes: str


def make_page(case: str, seed: int, capture: str) -> tuple[np.ndarray, Truths]:
    """Page ``seed`` of ``case`` as ``capture`` gives it to the reader (grey), and what each field may read."""
    rng = random.Random(zlib.crc32(f"{case}-{seed}-{capture}".encode()))
    forms, write_case = CASES[case]
    page, printed = blank_page(forms[seed % len(forms)])
    sets = writer_sets()
    writer = rng.choice(WRITERS)
    sheet = Sheet(printed.copy(), rng, sets.get(writer, sets["MNIST"]), rng.choice(["black", "blue"]))
    truths = write_case(sheet, page)
    captured = degrade_scan(sheet.image, DPI, rng) if capture == "scan" else degrade_photo(sheet.image, rng, PHOTO_3MP)
    return (captured.min(axis=2) if captured.ndim == 3 else captured), truths


def read_one(task: tuple[str, int, str]) -> list[Outcome]:
    case, seed, capture = task
    grey, truths = make_page(case, seed, capture)
    try:
        results = read_image(grey, PageResult("bench", 1, "", ""), catalogue())
        failure = ""
    except Exception as error:  # a page the reader fails on is reported, and the run goes on
        results, failure = [], f"reader failed: {error!r}"
    values = {v.field: v for r in results for v in r.values}
    out = []
    for field_id, expected in truths.items():
        truth = "must flag" if expected.values is None else " or ".join(sorted(expected.values, key=len)) or "blank"
        value = values.get(field_id)
        if value is None:
            out.append(Outcome(case, capture, seed, field_id, "unread", "", truth, expected.how,
                               failure or "page not identified"))
            continue
        if value.needs_review:
            outcome = "flagged"
        elif expected.values is not None and value.value in expected.values:
            outcome = "right"
        else:
            outcome = "silent"
        out.append(Outcome(case, capture, seed, field_id, outcome, value.value, truth, expected.how,
                           _box_readings(value.raw.get("boxes", []))))
    return out


def _box_readings(boxes: list[dict]) -> str:
    return "; ".join(_box_reading(b) for b in boxes)


def _box_reading(box: dict) -> str:
    """A box as read: its digit, probability, ink and any state, or its state alone (blank, ...)."""
    if box.get("digit") is None:
        return box.get("state") or "no digit"
    state = f", {box['state']}" if box.get("state") else ""
    return f"{box['digit']} (p {box.get('p', 0):.3f}, {box.get('ink_mm2', 0):.1f} mm²{state})"


# ---------- the report ----------

COLUMNS = ("case", "pages", "fields", "right", "flagged", "silent", "not read")


def row(case: str, outcomes: list[Outcome], pages: int) -> str:
    n = {k: sum(o.outcome == k for o in outcomes) for k in ("right", "flagged", "silent", "unread")}
    return (f"| {case} | {pages} | {len(outcomes)} | {n['right']} | {n['flagged']} | **{n['silent']}** | "
            f"{n['unread']} |")


def describe(o: Outcome) -> str:
    if o.outcome == "unread":
        return f"- {o.case} {o.capture} seed {o.seed} {o.field}: not read ({o.boxes}); truth {o.truth} ({o.how})"
    how = f" ({o.how})" if o.how else ""
    return (f"- {o.case} {o.capture} seed {o.seed} {o.field}: read {o.read!r}, truth {o.truth}{how}; "
            f"boxes: {o.boxes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20, help="pages per case and capture (scan, photo)")
    parser.add_argument("--only", choices=list(CASES), action="append", help="this case only (repeatable)")
    parser.add_argument("--procs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c in args.only]
    print(f"machine: {multiprocessing.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
          f"{args.procs} workers; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
          f"arguments: {' '.join(sys.argv[1:]) or '(defaults)'}")
    for form in FORMS:  # made once here, not in every worker: forked, they inherit them
        blank_page(form)
    writer_sets()
    catalogue().templates()
    print("\n| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS))
    tasks = [(case, seed, capture) for case in cases for capture in CAPTURES for seed in range(args.pages)]
    per_case = 2 * args.pages
    outcomes: dict[str, list[Outcome]] = {case: [] for case in cases}
    pending = Counter(case for case, _, _ in tasks)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.procs) as pool:
        # one page at a time, in order: a case's row is printed as soon as its last page is read
        for (case, _, _), page in zip(tasks, pool.imap(read_one, tasks, chunksize=1), strict=True):
            outcomes[case] += page
            pending[case] -= 1
            if not pending[case]:
                print(row(case, outcomes[case], per_case), flush=True)
    print(f"\n{len(tasks)} pages in {time.perf_counter() - started:.0f} s.")
    errors = [o for case in cases for o in outcomes[case] if o.outcome in ("silent", "unread")]
    if errors:
        print("\nSilent errors and fields not read:\n")
        print("\n".join(describe(o) for o in errors))


if __name__ == "__main__":
    main()
