"""A number written instead of a mark on a visual-analogue line: over its anchor words, or between two
lines. The words are left out of the other checks, a rectangle round each, so such a number read as
nothing (a blank line, unflagged). The print itself, on a blank page photographed or copied, flat or not,
is no writing."""

from __future__ import annotations

import dataclasses
import random

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.layout.text import width_mm
from formkit.template import resolve_template
from scanner import beside_ink, overprint
from tests.synthetic import bend_page, degrade_photo, degrade_scan, draw_digit, draw_line_mark
from tests.test_beside import HELD_OUT_DIGITS, read_values
from tests.test_scan import DPI, printed, read


def vas_page(tmp_path):
    layout = build_layout(resolve_template("vas-4line"))
    page = layout.pages[0]
    return page, printed("vas-4line", tmp_path, seed=2)[0][0], {f.id: f for f in page.fields}


@pytest.mark.parametrize("photo", [False, True])
def test_a_number_written_on_a_lines_words_or_between_two_lines_is_flagged(tmp_path, photo):
    """Line 1: a 7 written over its left anchor words. Line 3: a 4 written under it, its middle a millimetre
    nearer line 4. Lines 2 and 4 crossed as usual. Before 2026-12-04 lines 1 and 3 read blank at 0.95,
    unflagged: the words' rectangle hid the 7, and the 4 was line 4's alone."""
    page, image, lines = vas_page(tmp_path)
    rng = random.Random(7)
    one, three = lines["line_1"], lines["line_3"]
    draw_digit(image, DPI, Box(one.x1_mm + 6.0, one.y1_mm + 2.0, 5.0, 6.0), HELD_OUT_DIGITS[7][0], rng, "black")
    draw_digit(image, DPI, Box(three.x1_mm + 50.0, three.y1_mm + 2.5, 5.0, 6.0), HELD_OUT_DIGITS[4][1], rng, "blue")
    draw_line_mark(image, DPI, lines["line_2"], 30.0, random.Random(3))
    draw_line_mark(image, DPI, lines["line_4"], 70.0, random.Random(4))
    values = read_values(image, photo)
    first, third = values["line_1"], values["line_3"]
    assert first.value == "" and first.needs_review and "on the words printed by it" in first.reason, first
    assert first.raw["beside"]["at_mm"] <= 15.0, first.raw["beside"]
    assert third.value == "" and third.needs_review and "no mark crosses the line" in third.reason, third
    assert abs(third.raw["beside"]["at_mm"] - 52.5) <= 3.0, third.raw["beside"]
    for field_id, meant in (("line_2", 3.0), ("line_4", 7.0)):
        value = values[field_id]
        assert not value.needs_review and abs(float(value.value) - meant) <= 0.2, value


@pytest.mark.parametrize("capture", ["photo", "photo, bulging 0.9 mm", "photo, sunk 0.9 mm", "copy, 1-bit"])
def test_the_print_of_a_blank_page_is_no_writing_on_its_words(tmp_path, capture):
    """A blank page photographed, flat or not (its print moved up to 0.75 mm off where registration puts
    it), or copied in black and white: the letters found where they lie leave nothing over, and no line is
    flagged for writing."""
    _, image, _ = vas_page(tmp_path)
    rng = random.Random(4)
    if capture == "copy, 1-bit":
        image = degrade_scan(image, DPI, rng, out_dpi=200, one_bit=True)
    else:
        bulge_mm = {"photo": 0.0, "photo, bulging 0.9 mm": 0.9, "photo, sunk 0.9 mm": -0.9}[capture]
        image = degrade_photo(bend_page(image, DPI, bulge_mm) if bulge_mm else image, rng, frame_px=(4000, 3000))
    result = read(image)
    assert result.status == "read", result.reason
    assert [v for v in result.values if "beside" in v.raw] == []


def test_letters_are_drawn_where_the_pdf_puts_them():
    """The font's hinted advances, rounded to whole pixels, drifted 6 px along the 45 letters of the
    instruction line at 8 px/mm, and the letters' edges left over read as strokes: the last word lies
    where the PDF's (unhinted) widths put it, to a pixel."""
    text, size_pt, px_per_mm = "fill that box in \u25a0 and mark the one you want.", 8.0, 8.0
    line, (line_x, _) = overprint._letters(text, size_pt, False, px_per_mm)
    word, (word_x, _) = overprint._letters("want.", size_pt, False, px_per_mm)
    scores = cv2.matchTemplate(line[: word.shape[0]] if line.shape[0] >= word.shape[0] else line, word,
                               cv2.TM_CCORR_NORMED)
    found_px = int(np.argmax(scores.max(axis=0))) + word_x - line_x
    assert abs(found_px - width_mm(text[:-5], size_pt) * px_per_mm) <= 1.0, found_px


def test_descenders_of_words_a_bent_page_moved_are_no_writing_near_a_line():
    """A bent page moves print up to 0.75 mm off where registration puts it: line 2's anchor words drawn
    0.9 mm lower than laid out put their underscores' dashes past the rectangle left out round the words
    (1 mm below the baseline), 4.8 mm above line 3 and nearer it than line 2. They are print, not writing
    near line 3 (on bent photos they flagged blank lines)."""
    page = build_layout(resolve_template("vas-4line")).pages[0]
    px_per_mm = 8.0
    image = np.full((round(page.height_mm * px_per_mm), round(page.width_mm * px_per_mm)), 255, np.uint8)
    words = next(r for r in page.texts if r.text == "[line_2_left]")
    letters, (x0, baseline) = overprint._letters(words.text, words.size_pt, words.bold, px_per_mm)
    top, left = round((words.y_mm + 0.9) * px_per_mm) - baseline, round(words.x_mm * px_per_mm) - x0
    region = image[top:top + letters.shape[0], left:left + letters.shape[1]]
    region[:] = np.minimum(region, (255 * (1 - letters)).astype(np.uint8))
    line_3 = next(f for f in page.fields if f.id == "line_3")
    ink = beside_ink.ink_beside(image, page, line_3, [beside_ink.answer_area(line_3)], px_per_mm)
    assert ink.whole_mm2 == 0.0, ink



def test_print_the_font_draws_nothing_for_is_not_judged():
    """A run of a zero-width space survives ``strip()``, and the font draws nothing for it: the words are
    not judged (before, an IndexError stopped the page)."""
    page = build_layout(resolve_template("vas-4line")).pages[0]
    words = next(r for r in page.texts if r.text == "[line_2_left]")
    image = np.full((round(page.height_mm * 8), round(page.width_mm * 8)), 255, np.uint8)
    rules = np.zeros(image.shape, bool)
    assert overprint.written_on(image, dataclasses.replace(words, text="\u200b"), rules, [], 8.0) is None
