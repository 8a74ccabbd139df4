"""The answer given outside a choice's boxes, along its row: the option's number written after the last box, or a
short line drawn under one box, nothing in any. Before 2026-12-07 such a row read blank at confidence 1.0 (a
number 3-4 mm after the last box, 42 of 96 rows; 4 mm or more, every row; an underlined box, 269 of 280 rows).
Rows ticked or left blank, and a line ruled under a whole row, flag nothing; nor does the marked option's value
written once after its row (the item's score, as staff write it when they check a page: flagged until 2026-12-07),
but a different digit there, or more than one character ("2?", "2 or 3"), is."""

from __future__ import annotations

import random

import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box
from formkit.template import resolve_template
from tests.synthetic import _Pen, draw_digit, draw_mark, draw_question_mark, write_text
from tests.test_beside import HELD_OUT_DIGITS, k10_page, read_values
from tests.test_scan import DPI, option_box, printed


def write_after_row(image, page, field: str, digit, gap_mm: float, pen: str = "black") -> Box:
    """``digit`` (a 28 x 28 image) written ``gap_mm`` after ``field``'s last box, level with it; where (mm)."""
    last = option_box(page, field, 5)
    where = Box(last.x_mm + last.w_mm + gap_mm, last.y_mm - 0.5, 3.5, last.h_mm + 1.0)
    draw_digit(image, DPI, where, digit, random.Random(3), pen, place="centre")
    return where


def underline(image, box: Box, below_mm: float, pen: str, width_mm: float = 0.4) -> None:
    """A line drawn ``below_mm`` under ``box``, a little past its sides."""
    y = box.y_mm + box.h_mm + below_mm
    _Pen(image, DPI, pen, width_mm).stroke([(box.x_mm - 0.3, y), (box.x_mm + box.w_mm / 2, y + 0.1),
                                            (box.x_mm + box.w_mm + 0.6, y - 0.2)])


@pytest.mark.parametrize(("gap_mm", "digit", "photo"), [(4.5, 3, False), (3.5, 1, True), (6.0, 5, False)])
def test_a_number_written_after_a_blank_row_is_flagged(tmp_path, gap_mm, digit, photo):
    image, page = k10_page(tmp_path, blank_rows=(4,))
    write_after_row(image, page, "k10_04", HELD_OUT_DIGITS[digit][0], gap_mm)
    values = read_values(image, photo)
    row = values["k10_04"]
    assert row.value == "" and row.needs_review and "writing on the row" in row.reason, row
    for k in (1, 2, 3, 5, 6, 7, 8, 9, 10):
        other = values[f"k10_{k:02d}"]
        assert other.value == str(1 + k % 5) and not other.needs_review, other


def test_a_number_written_after_a_ticked_row_is_flagged(tmp_path):
    """A tick in one box and a number after the row: a second answer, or a note."""
    image, page = k10_page(tmp_path, blank_rows=())
    write_after_row(image, page, "k10_06", HELD_OUT_DIGITS[4][0], 5.0, "blue")
    row = read_values(image)["k10_06"]
    assert row.value == "2" and row.needs_review and "writing on the row" in row.reason, row


@pytest.mark.parametrize(("field", "gap_mm", "pen", "photo"), [
    ("k10_06", 5.0, "blue", False), ("k10_03", 8.0, "black", True), ("k10_07", 7.0, "black", False)])
def test_the_marked_options_value_written_after_its_row_flags_nothing(tmp_path, field, gap_mm, pen, photo):
    """The item's score written in the margin, as the tick says: 4-12 mm after the last box (7 mm: running past
    where the page was drawn round the row before 2026-12-07), read as a digit box is read."""
    image, page = k10_page(tmp_path, blank_rows=())
    k = int(field[-2:])
    write_after_row(image, page, field, HELD_OUT_DIGITS[1 + k % 5][0], gap_mm, pen)
    values = read_values(image, photo)
    for j in range(1, 11):
        row = values[f"k10_{j:02d}"]
        assert row.value == str(1 + j % 5) and not row.needs_review, row
    assert values[field].raw["beside_digit"]["digit"] == str(1 + k % 5), values[field].raw


@pytest.mark.parametrize("note", ["3", "2?", "2 or 3"])
def test_other_writing_after_a_ticked_row_is_flagged(tmp_path, note):
    """Box 2 ticked (k10_06) and after the row a different digit, the value with a question mark, or two values:
    not the score, the answer in doubt."""
    image, page = k10_page(tmp_path, blank_rows=())
    where = write_after_row(image, page, "k10_06", HELD_OUT_DIGITS[int(note[0])][0], 4.0)
    next_mm = where.x_mm + where.w_mm + 0.8
    if note == "2?":
        draw_question_mark(image, DPI, Box(next_mm, where.y_mm, 2.5, where.h_mm), "black", 3.5, 0.6)
    elif note == "2 or 3":
        write_text(image, DPI, Box(next_mm + 1.0, where.y_mm, 6.0, where.h_mm), "or", random.Random(5))
        draw_digit(image, DPI, Box(next_mm + 7.5, where.y_mm, 3.5, where.h_mm), HELD_OUT_DIGITS[3][0],
                   random.Random(3), "black", place="centre")
    row = read_values(image)["k10_06"]
    assert row.value == "2" and row.needs_review and "writing on the row" in row.reason, row


@pytest.mark.parametrize(("form", "field", "option", "pen", "photo"), [
    ("k10", "k10_04", 3, "black", False), ("k10", "k10_07", 5, "pencil", False), ("k10", "k10_02", 1, "blue", True),
    ("alliance-check", "ac_03", 3, "black", False), ("alliance-check", "ac_05", 2, "pencil", True)])
def test_an_underlined_box_in_a_blank_row_is_flagged(tmp_path, form, field, option, pen, photo):
    """On a K10 page the line lies on the printed rule between rows; on an alliance check, on the words printed
    under the boxes."""
    page = build_layout(resolve_template(form)).pages[0]
    image = printed(form, tmp_path, seed=3)[0][0]
    rng = random.Random(4)
    ticked = [f for f in page.fields if f.kind == "choice" and f.id != field]
    for k, f in enumerate(ticked):
        draw_mark(image, DPI, f.options[k % len(f.options)].box, "tick", rng, "black")
    underline(image, option_box(page, field, option), 0.8, pen, 0.3 if pen == "pencil" else 0.45)
    values = read_values(image, photo)
    row = values[field]
    assert row.value == "" and row.needs_review and f"box {option} is underlined" in row.reason, row
    for f in ticked:
        assert not values[f.id].needs_review, values[f.id]


@pytest.mark.parametrize("photo", [False, True])
def test_ticked_and_blank_rows_and_a_line_ruled_under_a_row_flag_nothing(tmp_path, photo):
    """A ruler laid under a blank row and a line drawn along it, across every box: no box is underlined."""
    image, page = k10_page(tmp_path, blank_rows=(2, 5, 8))
    first, last = option_box(page, "k10_05", 1), option_box(page, "k10_05", 5)
    y = first.y_mm + first.h_mm + 0.9
    _Pen(image, DPI, "black", 0.4).stroke([(first.x_mm - 30.0, y), (last.x_mm + last.w_mm + 8.0, y + 0.4)])
    values = read_values(image, photo)
    for k in range(1, 11):
        row = values[f"k10_{k:02d}"]
        assert row.value == ("" if k in (2, 5, 8) else str(1 + k % 5)) and not row.needs_review, row
