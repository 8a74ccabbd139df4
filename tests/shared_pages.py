"""Printed forms filled in with known answers and scanned into a store, for the tests that need a store of
real readings (exports, reports, pairs), and copies of a store built once for tests that change it.

Printing, rasterising and reading pages is most of what such tests cost: a module builds its store once
(a module-scoped fixture) and a test that changes the store works on its own copy (``copy_store``).
"""

from __future__ import annotations

import functools
import io
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formkit.layout.model import BoxesField, ChoiceField, LineField, Page, TextField
from tests.synthetic import draw_line_mark, draw_mark, load_digits, render_pdf, write_digits, write_text

ROOT = Path(__file__).resolve().parents[1]
DPI = 200
DATE_FIELDS = ("date_completed", "date_set")  # the date boxes a respondent fills in (a card's review date is not)


def handwritten_digits() -> dict[int, list[np.ndarray]]:
    """The held-out handwritten digits the tests write with."""
    return load_digits(ROOT / "samples" / "handwriting" / "mnist-heldout.npz")


@functools.cache
def white_png(width: int, height: int) -> bytes:
    """A white 1-bit PNG of ``width`` x ``height`` pixels as Pillow writes it: a huge image (20,000 x 20,000 px)
    in under 100 KB. Pillow takes a second or more to write one that size, so a test process writes each size
    once."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")
    return out.getvalue()


def copy_store(pristine: Path, folder: Path) -> Path:
    """A copy of the SQLite store ``pristine`` in ``folder`` (same file name), whole even while the pristine
    store has a write-ahead log: a test that changes the store changes its copy only."""
    db = folder / pristine.name
    source, target = sqlite3.connect(pristine), sqlite3.connect(db)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return db


@dataclass(frozen=True)
class Return:
    """A printed form as it comes back: its answers (option values, digits, text, or line positions in mm by
    field id), the date written in its date boxes (DDMMYYYY, '' for none), the choice fields marked twice
    (a tick on the answer, a cross on another box) and the person it was given to."""

    form: str
    answers: dict[str, object]
    day: str = ""
    doubles: tuple[str, ...] = ()
    person: str = ""


def mark_page(image: np.ndarray, page: Page, answers: dict[str, object], day: str, doubles: tuple[str, ...],
              digits: dict[int, list[np.ndarray]], rng: random.Random) -> None:
    """Mark the printed ``page`` (RGB at DPI) as a respondent would: a tick in each answered choice (and a
    cross in another box of the fields in ``doubles``), ``day`` in the date boxes of DATE_FIELDS, digits,
    text and line marks for the other answered fields."""
    for f in page.fields:
        if isinstance(f, ChoiceField) and f.id in answers:
            chosen = next(o for o in f.options if str(o.value) == str(answers[f.id]))
            draw_mark(image, DPI, chosen.box, "tick", rng)
            if f.id in doubles:
                draw_mark(image, DPI, next(o for o in f.options if o is not chosen).box, "cross", rng)
        elif isinstance(f, BoxesField) and f.id in DATE_FIELDS and day:
            write_digits(image, DPI, f.boxes, day, digits, rng, "black")
        elif isinstance(f, BoxesField) and f.id in answers:
            write_digits(image, DPI, f.boxes, str(answers[f.id]), digits, rng, "black")
        elif isinstance(f, TextField) and f.id in answers:
            write_text(image, DPI, f.box, str(answers[f.id]), rng, baselines_y_mm=f.baselines_y_mm)
        elif isinstance(f, LineField) and f.id in answers:
            draw_line_mark(image, DPI, f, float(answers[f.id]), rng, "black")


def ticked_k10(pdf: Path, serial_seed: int, mark_seed: int, styles: tuple[str, ...] = ("tick",), dpi: float = DPI
                ) -> np.ndarray:
    """A K10 page printed to ``pdf`` (its serial from ``serial_seed``) and rendered at ``dpi`` (RGB), one box of
    each question marked in one of ``styles``, chosen by ``mark_seed``."""
    from formkit.generate import generate, make_copies
    from formkit.layout import build_layout
    from formkit.template import resolve_template

    layout = build_layout(resolve_template("k10"))
    generate(layout, make_copies(1, None, serial_seed), pdf)
    image = render_pdf(pdf, dpi)[0]
    rng = random.Random(mark_seed)
    for field in (f for f in layout.pages[0].fields if isinstance(f, ChoiceField)):
        draw_mark(image, dpi, rng.choice(field.options).box, rng.choice(styles), rng)
    return image


def stain_qr(image: np.ndarray, page: Page, dpi: float = DPI) -> None:
    """Coffee over the QR code of ``page`` (RGB at ``dpi``) and the code printed under it, and over the paper
    either side of the code (not as far as the page's marker or its text): nothing of the code shows, and the
    page can only be identified by hand. (A stain that leaves some of the code's line sends the printed-code
    readers through their slowest search, seconds a page, for the same outcome.)"""
    qr, scale = page.qr, dpi / 25.4
    cv2.rectangle(image, (int((qr.x_mm - 6) * scale), int((qr.y_mm - 1) * scale)),
                  (int((qr.x_mm + qr.size_mm + 6) * scale), int((qr.y_mm + qr.size_mm + 9) * scale)), (90, 60, 40), -1)


def write_page(image: np.ndarray, path: Path) -> Path:
    """An RGB page as the image file ``path``: PNG, or JPEG at quality 90 (clean and quick to write)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if path.suffix == ".jpg" else []
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    return path


def print_and_fill(tmp: Path, returns: list[Return], rng: random.Random, suffix: str = ".png") -> dict[str, Return]:
    """Print ``returns``, one print run per form (seeded 0, 1, ... in the order the forms first appear), mark
    every page as its Return says and write the pages into ``tmp/scans`` as ``form-serial-page`` images.
    Returns each printed serial's Return, in the order printed."""
    from formkit.generate import generate, make_copies
    from formkit.layout import build_layout
    from formkit.template import resolve_template

    scans = tmp / "scans"
    scans.mkdir()
    digits = handwritten_digits()
    printed: dict[str, Return] = {}
    for seed, form in enumerate(dict.fromkeys(r.form for r in returns)):
        plan = [r for r in returns if r.form == form]
        layout = build_layout(resolve_template(form))
        manifest = generate(layout, make_copies(len(plan), None, seed=seed), tmp / f"{form}.pdf")
        order = list(dict.fromkeys(str(r["serial"]) for r in manifest))
        for row, image in zip(manifest, render_pdf(tmp / f"{form}.pdf", DPI), strict=True):
            serial = str(row["serial"])
            back = printed.setdefault(serial, plan[order.index(serial)])
            mark_page(image, layout.page(int(row["form_page"])), back.answers, back.day, back.doubles, digits, rng)
            write_page(image, scans / f"{form}-{serial}-{row['form_page']}{suffix}")
    return printed


def scan_and_review(scans: Path, db: Path, review: Callable[[dict], tuple[str, str] | None], jobs: int = 1) -> Path:
    """Scan the folder ``scans`` into a new store ``db``, then let a reviewer ('tester') go through the
    queue: ``review`` gives each queued row's decision (action, value), or None to leave it waiting."""
    from formkit.review.queue import decide
    from formkit.store import Store
    from scanner.batch import scan

    store = Store(db)
    try:
        scan([scans], store, jobs=jobs)
        for row in store.review_queue():
            decision = review(row)
            if decision is not None:
                decide(store, row["value_id"], decision[0], decision[1], "tester", row["value"])
    finally:
        store.close()
    return db
