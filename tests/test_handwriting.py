"""Handwriting: real handwritten digits (held-out MNIST images) written into generated forms, dates,
free text by Tesseract, and pages identified from their printed code when the QR is damaged."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.layout.model import Box, BoxesField, TextField
from formkit.records import PageResult
from formkit.template import resolve_template
from scanner import handwriting
from scanner.pipeline import read_page
from tests.synthetic import (
    bend_page,
    degrade_photo,
    degrade_scan,
    fill_page,
    load_digits,
    render_pdf,
    write_digits,
)

DIGITS = Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"
DPI = 200


@pytest.fixture(scope="module")
def samples():
    return load_digits(DIGITS)


def _printed(form: str, tmp: Path, seed: int, copies: int = 1):
    layout = build_layout(resolve_template(form))
    pdf = tmp / f"{form}-{seed}.pdf"
    rows = generate(layout, make_copies(copies, None, seed), pdf)
    return layout, render_pdf(pdf, DPI), rows


def _grey(rgb: np.ndarray) -> np.ndarray:
    """The darkest channel (``rgb.min(axis=2)``, a few times quicker on a 12 MP photo)."""
    return np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2]) if rgb.ndim == 3 else rgb


@pytest.mark.parametrize("form", ["gas-followup", "goal-card"])
def test_handwritten_digits_and_dates_are_read_or_sent_to_review(tmp_path, samples, form):
    """Every digit and date field on filled GAS and goal-card pages, scanned and photographed: what is
    accepted is right; what is uncertain is flagged. Most fields are accepted."""
    accepted = right = flagged = 0
    rng = random.Random(3)
    layout, images, rows = _printed(form, tmp_path, seed=4, copies=3)
    for index, image in enumerate(images):
        page = layout.page(int(rows[index]["form_page"]))
        if not any(isinstance(f, BoxesField) for f in page.fields):
            continue
        filled = fill_page(image, DPI, page, rng, hard=False, digits=samples)
        captured = degrade_scan(filled.image, DPI, rng, out_dpi=300) if index % 2 == 0 \
            else degrade_photo(filled.image, rng, (4000, 3000))
        result = read_page(_grey(captured), PageResult("x.png", 1, "", ""))
        assert result.status == "read", result.reason
        for value in result.values:
            if value.kind not in ("digits", "date"):
                continue
            truth = filled.truth[value.field].value
            if value.needs_review:
                flagged += 1
                assert value.reason and value.crop_jpeg
            else:
                accepted += 1
                right += value.value == truth
                assert value.value == truth, (form, value.field, value.value, truth, value.raw)
    assert accepted >= 2 * flagged and accepted == right



def test_digit_boxes_of_a_page_that_does_not_lie_flat_read_as_on_a_flat_one(tmp_path, samples):
    """A goal card photographed bent: its date boxes lie up to 0.8 mm off where the markers put them. Found
    where they are, they read as on the flat card, with nothing more flagged."""
    layout, images, rows = _printed("goal-card", tmp_path, seed=4)
    index = next(i for i, row in enumerate(rows)
                 if any(isinstance(f, BoxesField) for f in layout.page(int(row["form_page"])).fields))
    filled = fill_page(images[index], DPI, layout.page(int(rows[index]["form_page"])), random.Random(7),
                       hard=False, digits=samples)

    def boxes_read(image: np.ndarray) -> dict:
        photo = degrade_photo(image, random.Random(2), (4000, 3000))
        result = read_page(_grey(photo), PageResult("x", 1, "", ""))
        return {v.field: v for v in result.values if v.kind in ("digits", "date")}

    flat, bent = boxes_read(filled.image), boxes_read(bend_page(filled.image, DPI, 0.8))
    assert [(v.value, v.needs_review) for v in bent.values()] == [(v.value, v.needs_review) for v in flat.values()]
    assert sum(not v.needs_review for v in bent.values()) >= 1
    assert any("offset_mm" in v.raw for v in bent.values()) and not any("offset_mm" in v.raw for v in flat.values())


def test_date_boxes_are_validated():
    field = BoxesField("d", "date", tuple())

    def boxes(text: str) -> list[dict]:
        return [_written(int(c)) if c != " " else {"digit": None, "p": 1.0, "ink_mm2": 0.0, "state": "blank"}
                for c in text]

    assert handwriting._resolve_date(field, boxes("05032026"), 0.9, 0.9).value == "2026-03-05"
    single_day = handwriting._resolve_date(field, boxes(" 5032026"), 0.9, 0.9)
    assert single_day.value == "2026-03-05" and not single_day.needs_review
    impossible = handwriting._resolve_date(field, boxes("31022026"), 0.9, 0.9)
    assert impossible.needs_review and "not a real date" in impossible.reason
    short_year = handwriting._resolve_date(field, boxes("0503  26"), 0.9, 0.9)
    assert short_year.needs_review and "four digits" in short_year.reason
    unsure = boxes("05032026")
    unsure[1] = _written(5, 0.6, also=8)  # 05 or 08 March: both real dates
    assert handwriting._resolve_date(field, unsure, 0.9, 0.9).needs_review
    year = boxes("05032026")
    year[4] = _written(2, 0.6, also=7)  # 7026 is no year anyone writes today
    decided = handwriting._resolve_date(field, year, 0.9, 0.9)
    assert decided.value == "2026-03-05" and not decided.needs_review


def _written(digit: int, p: float = 0.999, also: int | None = None) -> dict:
    """A box the network read as ``digit`` with probability ``p``, the rest on ``also`` (or spread)."""
    probs = [(1 - p) / 9] * 10 if also is None else [0.0] * 10
    if also is not None:
        probs[also] = 1 - p
    probs[digit] = p
    return {"digit": digit, "p": p, "ink_mm2": 3.0, "probs": probs}


def test_digits_out_of_range_or_with_a_gap_go_to_review():
    field = BoxesField("w", "digits", tuple(), 1, 9)
    assert handwriting._resolve_digits(field, [_written(0)], 0.9).needs_review
    # a 7 that might be a 0: only 7 is in range
    assert handwriting._resolve_digits(field, [_written(7, 0.6, also=0)], 0.9).value == "7"
    # more likely a 0 than a 7: a 0 written where 1-9 is asked is not turned into a 7
    assert handwriting._resolve_digits(field, [_written(0, 0.6, also=7)], 0.9).needs_review
    code = BoxesField("c", "digits", tuple())
    gap = [_written(4), {"digit": None, "p": 1.0, "ink_mm2": 0.0, "state": "blank"}, _written(2)]
    assert "empty box between" in handwriting._resolve_digits(code, gap, 0.9).reason
    assert handwriting._resolve_digits(code, [_written(0), _written(7)], 0.9).value == "07"
    assert handwriting._resolve_digits(code, [_written(0), _written(7, 0.7)], 0.9).needs_review


def test_a_blank_text_area_is_blank_without_calling_tesseract(tmp_path, monkeypatch):
    def no_ocr(*args, **kwargs):
        raise AssertionError("Tesseract was called on a blank area")

    monkeypatch.setattr(handwriting, "read_text", no_ocr)
    layout, images, _ = _printed("goal-card", tmp_path, seed=5)
    result = read_page(_grey(images[0]), PageResult("x.png", 1, "", ""))
    texts = [v for v in result.values if v.kind == "text"]
    assert texts and all(v.value == "" and not v.needs_review for v in texts)


def test_text_is_read_by_tesseract_with_word_confidences_and_its_crop_kept(tmp_path, monkeypatch):
    given, read_text = [], handwriting.read_text
    monkeypatch.setattr(handwriting, "read_text", lambda image, *a, **k: given.append(image.shape) or
                        read_text(image, *a, **k))
    layout, images, _ = _printed("goal-card", tmp_path, seed=6)
    page = layout.page(1)
    area = next(f for f in page.fields if isinstance(f, TextField) and f.id == "goal")
    image = images[0].copy()
    scale = DPI / 25.4
    origin = (int((area.box.x_mm + 1) * scale), int((area.baselines_y_mm[0] - 0.8) * scale))
    cv2.putText(image, "walk to the shop", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.9, (30, 30, 160), 2, cv2.LINE_AA)
    result = read_page(_grey(image), PageResult("x.png", 1, "", ""))
    goal = next(v for v in result.values if v.field == "goal")
    assert goal.crop_jpeg and goal.raw["words"] and "shop" in goal.value.lower()
    # Tesseract is given the handwriting (and a white border of 20 px), not the whole area: one line of two
    area_px = 8 * np.array([area.box.h_mm, area.box.w_mm])
    assert len(given) == 1 and np.all(np.array(given[0]) - 40 < 0.6 * area_px)


def test_a_page_with_a_damaged_qr_is_identified_from_its_printed_code(tmp_path):
    layout, images, rows = _printed("k10", tmp_path, seed=8, copies=2)
    for index, image in enumerate(images):
        qr = layout.page(1).qr
        scale = DPI / 25.4
        x0, y0, size = int(qr.x_mm * scale), int(qr.y_mm * scale), int(qr.size_mm * scale)
        damaged = image.copy()
        cv2.rectangle(damaged, (x0 + size // 4, y0 + size // 4), (x0 + 3 * size // 4, y0 + 3 * size // 4),
                      (30, 30, 30), -1)
        captured = degrade_scan(damaged, DPI, random.Random(index), out_dpi=300, upside_down=index == 1)
        result = read_page(_grey(captured), PageResult("x.png", 1, "", ""))
        assert (result.status, result.form, result.serial) == ("read", "k10", rows[index]["serial"])
        assert "printed code" in result.quality["identified_by"]


def test_a_printed_code_that_does_not_check_out_goes_to_review(tmp_path, monkeypatch):
    import scanner.identify as identify

    misread = identify.SerialReadings((("glyphs", "G9JU46QK"), ("drawn", "G9JU46QK")))  # last character wrong
    monkeypatch.setattr(identify, "read_printed_serial", lambda *args: misread)
    layout, images, _ = _printed("k10", tmp_path, seed=9)
    qr = layout.page(1).qr
    scale = DPI / 25.4
    image = images[0].copy()
    x0, y0, size = int(qr.x_mm * scale), int(qr.y_mm * scale), int(qr.size_mm * scale)
    cv2.rectangle(image, (x0 + size // 4, y0 + size // 4), (x0 + 3 * size // 4, y0 + 3 * size // 4), (30, 30, 30), -1)
    result = read_page(_grey(image), PageResult("x.png", 1, "", ""))
    assert result.status == "unidentified" and "no two readings" in result.reason and "G9JU46QK" in result.reason


def test_a_printed_code_is_trusted_only_when_two_readings_agree_and_none_contradicts():
    from formkit.serial import new_serial
    from scanner.identify import SerialReadings

    right, other = new_serial(random.Random(1)), new_serial(random.Random(2))
    assert SerialReadings((("glyphs", right), ("drawn", right))).agreed == right
    assert SerialReadings((("glyphs", ""), ("drawn", right), ("tesseract x1", right))).agreed == right
    assert SerialReadings((("glyphs", ""), ("drawn", right), ("tesseract x1", "X"))).agreed == ""  # one reading only
    assert SerialReadings((("glyphs", right), ("drawn", right), ("tesseract x1", other))).agreed == ""


def test_write_digits_draws_into_the_boxes(samples):
    canvas = np.full((200, 400), 255, np.uint8)
    from formkit.layout.model import Box

    write_digits(canvas, 254, (Box(2, 2, 6, 8), Box(10, 2, 6, 8)), "4 ", samples, random.Random(1), "black")
    assert canvas[:, :80].min() < 100 and canvas[:, 100:].min() == 255


@pytest.mark.parametrize("angle", [20, 35, 60])
def test_an_empty_comment_area_crossed_by_a_shadow_edge_reads_blank(tmp_path, angle):
    """A phone's shadow with a sharp edge across an empty free-text area is a step in brightness, not a
    stroke: the area reads blank, and Tesseract is never asked (it once read such an edge as '/')."""
    layout, images, rows = _printed("alliance-check", tmp_path, seed=2)
    page = layout.page(int(rows[0]["form_page"]))
    area = next(f for f in page.fields if isinstance(f, TextField))
    image = images[0].astype(np.float32)
    scale = DPI / 25.4
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (area.box.x_mm + area.box.w_mm * 0.4) * scale, (area.box.y_mm + area.box.h_mm / 2) * scale
    theta = np.deg2rad(angle)
    distance = (xs - cx) * np.cos(theta) + (ys - cy) * np.sin(theta)  # px from the edge, across it
    softness = 0.3 * scale  # a 0.3 mm soft edge: the phone held close above the page
    shade = 1.0 - 0.6 / (1.0 + np.exp(np.clip(-distance / softness, -50, 50)))
    shadowed = np.clip(image * shade[..., None], 0, 255).astype(np.uint8)
    result = read_page(_grey(shadowed), PageResult("x.png", 1, "", ""))
    assert result.status == "read", result.reason
    value = next(v for v in result.values if v.field == area.id)
    assert value.value == "" and not value.needs_review, (value.value, value.reason, value.raw)
    assert value.raw["ink_mm2"] < 0.5


def test_a_reading_of_one_or_two_characters_is_never_accepted_alone():
    """One stroke in a comment area: whatever Tesseract makes of it ('/', 'l', '1'), a reading that short
    goes to review."""
    page = np.full((800, 1600), 245, np.uint8)
    cv2.line(page, (400, 200), (360, 330), 30, 5)  # one slash, about 17 mm long at 8 px/mm
    field = TextField("comment", Box(20, 15, 150, 30), ())
    value = handwriting.read_text_field(page, field, "eng")
    assert value.raw["ink_mm2"] >= 0.5 and value.needs_review, (value.value, value.raw)
