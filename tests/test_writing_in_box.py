"""Writing in a box instead of a mark: letters (a word begun in the box) are told from ticks and crosses."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.layout.model import Box
from scanner.question_marks import (
    INSET_MM,
    Piece,
    box_pieces,
    faint_hook_and_dot,
    hook_alone,
    hook_and_dot,
)
from scanner.writing_in_box import letters_in_the_grey, looks_like_letters
from tests.synthetic import write_text
from tests.test_beside import k10_page, read_values
from tests.test_scan import DPI, option_box


def pieces(*measured: tuple) -> list[Piece]:
    return [Piece(*p) for p in measured]


# pieces of marked boxes as the scanner measured them (mm², then left, top, width, height in mm, cut at the
# border), 2026-12-06: unusual_marks.py's words and respondent_styles.py's marks, scans and photos
WORDS = {
    "n/a, flatbed": pieces((1.45, 1.5, 1.12, 1.88, 3.12, False), (1.48, 3.12, 1.38, 1.25, 2.62, True),
                           (1.89, 0.12, 1.5, 1.25, 2.5, False)),
    "N/A, its A cut by the border": pieces((1.5, 1.38, 0.12, 2.38, 3.12, False), (1.42, 0.0, 1.0, 1.38, 2.0, True),
                                           (0.3, 3.5, 1.12, 0.88, 0.5, True), (1.0, 3.12, 1.88, 1.25, 1.25, True)),
    "N/A, its / joined to a letter": pieces((1.53, 0.38, 0.75, 1.88, 1.88, False),
                                            (1.67, 2.5, 0.75, 1.75, 1.88, False)),
}
MARKS = {
    "a tick whose pen lifted": pieces((2.08, 1.62, 0.38, 2.62, 3.88, False), (0.91, 0.0, 2.5, 1.38, 1.75, False)),
    "a tick twice the box, blurred in a 3 MP photo": pieces((1.14, 2.88, 0.75, 1.38, 2.5, True),
                                                            (1.77, 0.0, 1.5, 2.5, 2.75, True)),
    "a cross blurred into its corners and middle": pieces(
        (0.92, 0.0, 0.0, 1.25, 1.38, False), (0.78, 3.0, 0.0, 1.25, 1.62, False), (1.44, 1.38, 1.62, 1.38, 1.38, False),
        (0.61, 3.12, 3.12, 1.12, 1.12, True), (0.44, 0.0, 3.38, 0.88, 0.88, False)),
    "a cross of two pieces, a pen lifted": pieces((1.53, 0.0, 0.0, 1.38, 2.12, False),
                                                  (5.88, 1.5, 0.12, 2.75, 4.12, True)),
    "a mark in a 100 dpi fax, in halves": pieces((3.8, 1.88, 0.0, 2.12, 4.25, False),
                                                  (3.14, 0.0, 0.38, 1.75, 4.0, False)),
    "a mark in a 98 dpi fax": pieces((6.16, 0.12, 0.0, 2.75, 4.25, False), (2.09, 3.38, 0.88, 1.0, 3.38, True)),
    "a scribble in a faded 3 MP photo": pieces((3.75, 0.0, 0.0, 2.25, 4.25, True), (2.11, 1.5, 0.0, 1.88, 1.62, False),
                                               (0.22, 4.0, 0.62, 0.25, 1.0, True), (1.84, 2.75, 2.12, 1.5, 1.75, True)),
}
INSIDE_MM = 4.25  # a K10 or alliance check's box, inside its border


@pytest.mark.parametrize("name", list(WORDS))
def test_letters_side_by_side_are_letters(name):
    assert looks_like_letters(WORDS[name], INSIDE_MM)


@pytest.mark.parametrize("name", list(MARKS))
def test_ticks_and_crosses_in_pieces_are_no_letters(name):
    assert not looks_like_letters(MARKS[name], INSIDE_MM)


@pytest.mark.parametrize(("text", "pen", "photo", "seed"), [("N/A", "black", False, 4), ("n/a", "black", True, 7),
                                                            ("N/A", "pencil", False, 1), ("N/A", "pencil", True, 7)])
def test_a_word_written_mostly_in_a_box_is_flagged_not_read_as_that_answer(tmp_path, text, pen, photo, seed):
    """ "N/A" written on a row from a box, most of it in the box: too little of it beside the box to be seen as
    a word written across the row, and the box read as marked, the row as that answer at full confidence
    (unusual_marks.py, 2026-12-06: 14, 17, 47 and 22 of 145 rows written so in scans, 1-bit copies, 3 and 12 MP
    photos)."""
    image, page = k10_page(tmp_path, blank_rows=(6,))
    box = option_box(page, "k10_06", 2 + seed % 3)
    write_text(image, DPI, Box(box.x_mm - 3.0, box.y_mm - 1.0, 40.0, box.h_mm + 2.0), text, random.Random(seed), pen)
    values = read_values(image, photo=photo)
    row = values["k10_06"]
    assert row.needs_review and row.raw["letters"] == str(2 + seed % 3), row
    assert not any(v.needs_review for k, v in values.items() if k.startswith("k10_") and k != "k10_06"), values


# a "?" whose dot came out under the size of a speck (under 0.1 mm²): a 12 MP photo and a 1-bit copy of
# unusual_marks.py's pages, 2026-12-06
QUESTION_MARKS_WITH_SMALL_DOTS = {
    "12 MP": pieces((1.14, 1.62, 0.75, 1.12, 1.75, False), (0.09, 2.0, 3.38, 0.38, 0.25, False)),
    "1-bit": pieces((1.42, 1.38, 0.5, 1.5, 2.12, False), (0.08, 2.0, 3.38, 0.25, 0.38, False)),
}


@pytest.mark.parametrize("capture", list(QUESTION_MARKS_WITH_SMALL_DOTS))
def test_a_dot_the_size_of_a_speck_under_a_hook_makes_a_question_mark(capture):
    hook, dot = QUESTION_MARKS_WITH_SMALL_DOTS[capture]
    assert hook_and_dot([hook, dot])
    assert not hook_and_dot([hook, dot._replace(x_mm=hook.x_mm + hook.w_mm + 0.6)])  # not under the hook


def test_a_box_keeps_a_dot_smaller_than_a_speck():
    """``box_pieces`` keeps pieces down to a dot's size (0.04 mm²), under the 0.1 mm² of a speck: such a dot
    under a hook makes a "?"."""
    px_per_mm = 8.0
    page = np.full((200, 200), 235, np.uint8)
    box = Box(10.0, 10.0, 5.0, 5.0)
    x0, y0, x1, y1 = (int(round(v * px_per_mm)) for v in (10.0, 10.0, 15.0, 15.0))
    cv2.rectangle(page, (x0, y0), (x1, y1), 40, 3)
    cv2.ellipse(page, ((x0 + x1) // 2, y0 + 13), (6, 6), 0, 180, 420, 60, 3)  # the hook's round top and its stem
    cv2.line(page, ((x0 + x1) // 2, y0 + 18), ((x0 + x1) // 2, y0 + 26), 60, 3)
    page[y0 + 31:y0 + 33, (x0 + x1) // 2:(x0 + x1) // 2 + 2] = 60  # its dot, 2 x 2 px: 0.06 mm²
    found = box_pieces(page, box, px_per_mm)
    assert [round(p.area_mm2, 4) for p in found if p.area_mm2 < 0.1] == [0.0625], found
    assert hook_and_dot(found), found


# the insides of marked boxes (grey, 8 px/mm, as the scanner cut them from the registered page), from
# unusual_marks.py's *question* pages and respondent_styles.py's forms, 2026-12-07
DATA = Path(__file__).resolve().parent / "data"


def box_on_paper(name: str) -> tuple[np.ndarray, Box]:
    """The inside of a box saved as ``tests/data/box_NAME.png`` laid on a page of its paper's grey, and the box
    round it."""
    inside = cv2.imread(str(DATA / f"box_{name}.png"), cv2.IMREAD_GRAYSCALE)
    px_per_mm = 8.0
    box = Box(10.0, 10.0, inside.shape[1] / px_per_mm + 2 * INSET_MM, inside.shape[0] / px_per_mm + 2 * INSET_MM)
    page = np.full((200, 200), int(np.percentile(inside, 90)), np.uint8)
    top, left = (round((10.0 + INSET_MM) * px_per_mm),) * 2
    page[top:top + inside.shape[0], left:left + inside.shape[1]] = inside
    return page, box


@pytest.mark.parametrize("name", ["question_faint_dot_3mp", "question_solid_1bit", "question_solid_flatbed",
                                  "question_hook_alone_3mp"])
def test_a_question_mark_the_handwriting_mask_misses_is_found_in_the_grey(name):
    """A "?" whose dot, blurred in a 3 MP photo, is too faint for the handwriting mask; and a "?" in a thick pen,
    solid, that the mask cuts into slivers (a 1-bit copy, a flatbed scan). Read as the box's answer unflagged
    before 2026-12-07 (unusual_marks.py --pages 20 --only question: 68, 15, 5 of 145 rows missed so in 3 MP
    photos, 1-bit copies, flatbed scans; the slivers come of the rules round the box, not laid here)."""
    page, box = box_on_paper(name)
    assert faint_hook_and_dot(page, box, 8.0)


ORDINARY_MARKS = ["tick_3mp", "slash_3mp", "dot_3mp", "cross_1bit", "tick_dim_7mp", "dot_flatbed", "tick_like_hook_3mp",
                  "tick_pencil_corner_3mp", "tick_highlighter_2mp"]


@pytest.mark.parametrize("name", ORDINARY_MARKS)
def test_ticks_slashes_dots_and_crosses_are_no_question_marks_in_the_grey(name):
    """The ticks, slashes and dots in 3 MP photos most like a "?" on 2026-12-07's measures, a cross in a 1-bit
    copy, a tick in an underexposed photo whose noise, cut near the paper's grey, left a speck under it, a
    dot in a flatbed scan nearly as tall as a blot of a "?", and a faint pencil tick in a 3 MP photo whose long
    arm alone, at half the contrast, was shaped as a hook but wider than tall; and a pencil tick in a 3 MP photo
    (respondent_styles.py --forms 30, form 18) whose box's foot corner, its border's blur cleared, left a speck
    under the tick joined to the border, taken for a "?"'s dot until specks against the cleared lines were left
    out (2026-12-08); and a tick under a highlighter in a 3 MP photo at 2.5 px/mm (desk_hazards.py, seed 5) whose
    foot left a speck against the box's foot, its blur cleared."""
    page, box = box_on_paper(name)
    assert not faint_hook_and_dot(page, box, 8.0)
    assert not hook_alone(page, box, 8.0)
    assert not letters_in_the_grey(page, box, 8.0)


@pytest.mark.parametrize("name", ["question_hook_alone_3mp", "question_blot_alone_3mp"])
def test_a_question_mark_without_its_dot_is_told_by_its_shape(name):
    """In a 3 MP photo a "?"'s dot may fade out altogether, or blur with the hook into one blot: the hook's shape
    tells it (26 of 145 rows read as an answer unflagged after the look in the grey, unusual_marks.py --pages
    20; 20 of them found so)."""
    page, box = box_on_paper(name)
    assert hook_alone(page, box, 8.0)


@pytest.mark.parametrize("name", ["question_border_strips_3mp", "question_blot_dot_border_3mp",
                                  "question_dot_on_foot_flatbed"])
def test_a_question_mark_is_found_in_the_grey_past_the_blurred_border(name):
    """A "?" with its dot in a 3 MP photo (5.1 and 2.7 px/mm) whose box's border, blurred, leaves strips inside it
    at the look in the grey's cuts: taken for a fourth piece, or for pieces lower than the dot, they hid it (read
    as the box's answer unflagged at 1fef049: unusual_marks.py --pages 10 --only question, 4 of 6 silent rows in 3
    MP photos, 2026-12-08). The strips are cleared (``question_marks.without_border``), but not a piece against the
    foot: a "?" 3.6 mm tall in a goal card's box, in a flatbed scan, has its dot there."""
    page, box = box_on_paper(name)
    assert faint_hook_and_dot(page, box, 8.0)


def test_a_hook_joined_to_the_blurred_border_is_told_by_its_shape():
    """A pencil "?" in a 3 MP photo (4.5 px/mm), its dot lost, whose hook at half the contrast ran into the blurred
    border on both sides, so its piece was the box's width (silent at 1fef049, unusual_marks.py --only question)."""
    page, box = box_on_paper("question_hook_on_border_3mp")
    assert hook_alone(page, box, 8.0)


@pytest.mark.parametrize("name", ["letters_blurred_3mp", "letters_on_border_3mp"])
def test_letters_the_handwriting_mask_misses_are_found_in_the_grey(name):
    """ "n/a" written wholly in a box, in a 3 MP photo at 2.7 px/mm (its letters blurred into the border and each
    other), and in one at 4.4 px/mm, its "a" against the border: the handwriting mask kept nothing of the first and
    too little of the second's "a" and "/" (read as the box's answer unflagged at 1fef049: unusual_marks.py
    --pages 10 --only word, 4 of 7 silent rows in 3 MP photos; here, laid on clean paper without the box's
    rules, the mask does find the second). Cut in the grey, border cleared, they are letters."""
    page, box = box_on_paper(name)
    assert letters_in_the_grey(page, box, 8.0)
