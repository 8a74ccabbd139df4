"""A mark beside a choice field's boxes (a circled box, a tick next to one or between two) answers the
question without a stroke in any box: the row is flagged, not read blank. Ink that belongs elsewhere (a
neighbouring row's long tick, the print, a fold) flags nothing. A date or number written beside its boxes,
a digit more beside them, or a mark that stops short of a visual-analogue line, is flagged too."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box, BoxesField, field_boxes
from formkit.records import FieldValue
from formkit.template import resolve_template
from scanner import beside, beside_ink, labels
from scanner.register import BOXES_SIDE_MM
from tests.synthetic import (
    _Pen,
    bend_page,
    degrade_photo,
    degrade_scan,
    draw_crease,
    draw_digit,
    draw_label_mark,
    draw_line_mark,
    draw_mark,
    draw_mark_beside,
    draw_question_mark,
    load_digits,
    write_digits,
    write_text,
)
from tests.test_scan import DPI, option_box, printed, read


def k10_page(tmp_path, blank_rows: tuple[int, ...] = (4,), pen: str = "black") -> tuple[np.ndarray, object]:
    """A K10 page with a tick in each row but ``blank_rows``."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(4)
    for k in range(1, 11):
        if k not in blank_rows:
            draw_mark(image, DPI, option_box(page, f"k10_{k:02d}", 1 + k % 5), "tick", rng, pen)
    return image, page


def read_values(image: np.ndarray, photo: bool = False) -> dict:
    rng = random.Random(6)
    degraded = degrade_photo(image, rng, frame_px=(4000, 3000)) if photo else degrade_scan(image, DPI, rng, out_dpi=DPI)
    result = read(degraded)
    assert result.status == "read", result.reason
    return {v.field: v for v in result.values}


HELD_OUT_DIGITS = load_digits(Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz")


def boxes_field(page, field_id: str) -> BoxesField:
    return next(f for f in page.fields if f.id == field_id)


@pytest.mark.parametrize(("style", "pen", "photo"), [("circle", "black", False), ("circle", "pencil", True),
                                                     ("beside", "blue", False), ("between", "pencil", False)])
def test_a_mark_beside_the_boxes_is_flagged_not_read_blank(tmp_path, style, pen, photo):
    """Before 2026-12-04 each of these rows read blank with confidence 1.0: an answer lost unflagged."""
    image, page = k10_page(tmp_path, pen=pen)
    draw_mark_beside(image, DPI, option_box(page, "k10_04", 3), style, random.Random(5), pen,
                     neighbour=option_box(page, "k10_04", 4))
    values = read_values(image, photo)
    row = values["k10_04"]
    assert row.value == "" and row.needs_review and row.confidence <= 0.5, row
    assert "beside the boxes" in row.reason and row.raw["beside"]["nearest"] in ("3", "4"), row
    if style != "between":
        assert row.raw["beside"]["nearest"] == "3"
    crop = cv2.imdecode(np.frombuffer(row.crop_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop.shape[0] >= (5.0 + 2 * beside_ink.BESIDE_MM) * 8 - 2, crop.shape  # the loop round the box shown whole
    for k in (1, 2, 3, 5, 6, 7, 8, 9, 10):
        other = values[f"k10_{k:02d}"]
        assert other.value == str(1 + k % 5) and not other.needs_review, other


def test_a_long_tick_reaching_into_a_blank_row_is_its_own_rows(tmp_path):
    """Rows 3 and 5 are ticked with ticks twice the box whose tails reach up into rows 2 and 4, left blank:
    the tails are nearer the rows they answer, so rows 2 and 4 read blank, unflagged, and 3 and 5 read 2."""
    image, page = k10_page(tmp_path, blank_rows=(2, 3, 4, 5))
    rng = random.Random(8)
    for k in (3, 5):
        draw_mark_beside(image, DPI, option_box(page, f"k10_{k:02d}", 2), "long", rng)
    values = read_values(image)
    for k in (2, 4):
        row = values[f"k10_{k:02d}"]
        assert (row.value, row.needs_review) == ("", False) and "beside" not in row.raw, row
    assert [values[f"k10_{k:02d}"].value for k in (3, 5)] == ["2", "2"]


@pytest.mark.parametrize("form", ["gas-followup", "goal-card", "alliance-check"])
def test_the_print_beside_blank_boxes_flags_nothing(tmp_path, form):
    """Labels under the boxes (goal follow-up, goal card), column headings and rules (alliance check) are
    print, not marks: a blank page photographed has no row flagged."""
    layout = build_layout(resolve_template(form))
    images = printed(form, tmp_path, seed=2)[0]
    index = next(i for i, p in enumerate(layout.pages) if any(f.kind == "choice" for f in p.fields))
    values = read_values(images[index], photo=True)
    assert not [v for v in values.values() if "beside" in v.raw]


@pytest.mark.parametrize("bulge_mm", [-0.9, 0.9])
def test_the_rules_of_a_page_not_lying_flat_are_no_marks(tmp_path, bulge_mm):
    """A page whose middle is raised or sunk 0.9 mm moves its row rules up to 0.75 mm off where registration
    puts them, where the 0.3 mm kept clear of printed lines misses dashes of them: straight pieces lying
    within 1 mm of a printed line are print, and no row of the blank page is flagged (taken as marks, the
    dashes flagged 4 to 7 of its rows). Nor is the date written in its boxes flagged for writing beside them
    (the sides of its boxes, moved, are rules as the print's are)."""
    image, page = k10_page(tmp_path, blank_rows=tuple(range(1, 11)))
    write_digits(image, DPI, boxes_field(page, "date_completed").boxes, "24042024", HELD_OUT_DIGITS,
                 random.Random(5), "black")
    photo = degrade_photo(bend_page(image, DPI, bulge_mm), random.Random(3), frame_px=(4000, 3000))
    result = read(photo)
    assert result.status == "read", result.reason
    assert [v for v in result.values if "beside" in v.raw] == []


def test_a_fold_beside_a_blank_row_is_no_mark(tmp_path):
    """A dark crease (0.6 of the paper) between the boxes of blank row 4, running on across the page: a
    fold, not a mark."""
    image, page = k10_page(tmp_path)
    box = option_box(page, "k10_04", 2)
    x_mm = box.x_mm + box.w_mm + 6.0
    draw_crease(image, DPI, (x_mm - 30.0, box.y_mm - 40.0), (x_mm + 30.0, box.y_mm + 40.0), darkness=0.6)
    row = read_values(image)["k10_04"]
    assert "beside" not in row.raw, row


def test_ink_beside_counts_only_ink_nearest_the_field():
    """On a blank registered page (white, 8 px/mm), a loop round row 4's third box is row 4's ink and
    nobody else's."""
    page = build_layout(resolve_template("k10")).pages[0]
    px_per_mm = 8.0
    image = np.full((int(round(page.height_mm * px_per_mm)), int(round(page.width_mm * px_per_mm))), 255, np.uint8)
    box: Box = option_box(page, "k10_04", 3)
    centre = (int((box.x_mm + box.w_mm / 2) * px_per_mm), int((box.y_mm + box.h_mm / 2) * px_per_mm))
    cv2.ellipse(image, centre, (int(4.0 * px_per_mm), int(3.3 * px_per_mm)), 0, 0, 360, 30, 3)
    fields = {f.id: f for f in page.fields}
    ink = beside_ink.ink_beside(image, page, fields["k10_04"], px_per_mm=px_per_mm)
    assert ink.area_mm2 >= beside_ink.BESIDE_INK_MM2 and abs(ink.centre_mm[0] - (box.x_mm + box.w_mm / 2)) < 1.0
    assert ink.inside_mm2 == (0.0,) * 5
    assert beside_ink.ink_beside(image, page, fields["k10_03"], px_per_mm=px_per_mm).area_mm2 == 0.0
    assert beside_ink.ink_beside(image, page, fields["k10_05"], px_per_mm=px_per_mm).area_mm2 == 0.0


def test_a_tick_astride_two_goal_card_boxes_is_flagged(tmp_path):
    """The goal card's boxes are 1.2 mm apart: a tick drawn across the gap between 3 and 4 leaves the end of
    a stroke in each. Before 2026-12-04 such a row read 4 (or 3), unflagged. Ticks and crosses within
    their boxes in the other rows read as they are."""
    layout = build_layout(resolve_template("goal-card"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == "progress_1" for f in p.fields))
    page, image = layout.pages[index], printed("goal-card", tmp_path, seed=2)[0][index]
    rng = random.Random(3)
    three, four = option_box(page, "progress_1", 3), option_box(page, "progress_1", 4)
    draw_mark_beside(image, DPI, three, "between", rng, "black", neighbour=four)
    draw_mark(image, DPI, option_box(page, "progress_2", 5), "tick", rng, "black")
    draw_mark(image, DPI, option_box(page, "progress_3", 7), "cross", rng, "blue")
    values = read_values(image)
    row = values["progress_1"]
    assert row.needs_review and "beside" in row.raw and row.confidence <= 0.5, row
    assert row.raw["beside"]["joined"] == [["3", "4"]], row.raw["beside"]  # the options, not the field's middle
    assert (values["progress_2"].value, values["progress_2"].needs_review) == ("5", False), values["progress_2"]
    assert (values["progress_3"].value, values["progress_3"].needs_review) == ("7", False), values["progress_3"]
    assert (values["progress_4"].value, values["progress_4"].needs_review) == ("", False), values["progress_4"]


def registered_k10(strokes: list[tuple[tuple[float, float], tuple[float, float], int, int]]) -> tuple:
    """A blank K10 page as registered (white, 8 px/mm) with straight ``strokes`` ((x, y) mm to (x, y) mm,
    grey level, width px), and its layout."""
    page = build_layout(resolve_template("k10")).pages[0]
    px_per_mm = 8.0
    image = np.full((round(page.height_mm * px_per_mm), round(page.width_mm * px_per_mm)), 255, np.uint8)
    for start, end, grey, width in strokes:
        cv2.line(image, tuple(int(v * px_per_mm) for v in start), tuple(int(v * px_per_mm) for v in end), grey, width,
                 cv2.LINE_AA)
    return image, page


def test_a_fold_through_two_boxes_joins_nothing():
    """A fold running through boxes 3 and 4 of row 4 and on across the page is no stroke from one box into
    the next: with box 3 ticked, nothing is in doubt (until 2026-12-04 the fold joined the two boxes)."""
    page = build_layout(resolve_template("k10")).pages[0]
    row = {f.id: f for f in page.fields}["k10_04"]
    three, four = row.options[2].box, row.options[3].box
    p0, p1 = np.array([three.x_mm + 2.0, three.y_mm + 4.2]), np.array([four.x_mm + 3.0, four.y_mm + 0.8])
    along = (p1 - p0) / np.linalg.norm(p1 - p0)
    image, page = registered_k10([(tuple(p0 - along * 60), tuple(p1 + along * 60), 150, 2)])
    ink = beside_ink.ink_beside(image, page, row, px_per_mm=8.0)
    assert ink.joined == frozenset() and ink.area_mm2 == 0.0, ink
    assert beside._doubt(ink, row, ["empty", "empty", "marked", "empty", "empty"], field_boxes(row)) == ""


@pytest.mark.parametrize("reach_mm", [4.0, 5.5])
def test_a_slash_beside_a_box_counts_even_where_it_leaves_the_window(reach_mm):
    """A slash beside box 5 of a blank row, ending 4 mm past the box or 0.5 mm past the 5 mm of page
    registered round the field: both are a mark (until 2026-12-04 the second was taken for a fold)."""
    page = build_layout(resolve_template("k10")).pages[0]
    box = {f.id: f for f in page.fields}["k10_04"].options[4].box
    right = box.x_mm + box.w_mm
    image, page = registered_k10([((right + 0.8, box.y_mm + 4.5), (right + reach_mm, box.y_mm), 40, 3)])
    ink = beside_ink.ink_beside(image, page, {f.id: f for f in page.fields}["k10_04"], px_per_mm=8.0)
    assert ink.area_mm2 >= beside_ink.BESIDE_INK_MM2, ink


@pytest.mark.parametrize(("frame_px", "seed"), [(None, 0), ((1000, 750), 1), ((1000, 750), 4), ((1200, 900), 5)])
def test_a_loop_round_a_goal_card_box_is_not_taken_for_its_border(tmp_path, frame_px, seed):
    """A loop 1.4 mm clear of a goal card's box is cut by the print round it (the neighbouring boxes' borders,
    the numbers under them) into arcs as straight and as near a border as a bent page's rule. Until
    2026-12-04 they were all taken for printed lines moved, and the row read blank, unflagged; a printed line
    runs across or down the page, an arc at 45 degrees does not. In a photo under 5 px/mm too (a card small
    in the frame): the faint-ink look, which leaves out 1 mm round the print's lines, comes after the usual
    one, not instead of it (a reviewer's find: instead, this loop went unflagged)."""
    layout = build_layout(resolve_template("goal-card"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == "progress_2" for f in p.fields))
    page = layout.pages[index]
    image = printed("goal-card", tmp_path, seed=2)[0][index]
    scale = DPI / 25.4
    box = option_box(page, "progress_2", 5)
    centre = (int((box.x_mm + box.w_mm / 2) * scale), int((box.y_mm + box.h_mm / 2) * scale))
    cv2.circle(image, centre, int(3.55 * scale), (40, 40, 40), 2, cv2.LINE_AA)
    if frame_px:
        image = degrade_photo(image, random.Random(seed), frame_px=frame_px)
    result = read(image)
    assert result.status == "read", result.reason
    assert frame_px is None or result.quality["source_px_per_mm"] < 5.0, result.quality
    row = {v.field: v for v in result.values}["progress_2"]
    assert row.value == "" and row.needs_review and row.raw["beside"]["nearest"] == "5", row


def test_the_quick_count_looks_beside_the_boxes_where_they_were_found():
    """A row whose boxes were found 1 mm left of where the layout puts them, blank, with a small zigzag just
    right of box 3 as found: on the strip of box 3 as laid out. The quick count once left that strip out (as
    another box's inside) and spared the row; the mark is beside the box, and flagged."""
    image, page = registered_k10([])
    row = {f.id: f for f in page.fields}["k10_04"]
    box = row.options[2].box
    right, top = box.x_mm + box.w_mm - 1.0, box.y_mm
    zigzag = [(right + 0.15, top + 1.0), (right + 0.55, top + 2.2), (right + 0.15, top + 3.4),
              (right + 0.55, top + 4.6)]
    cv2.polylines(image, [np.int32([[x * 8, y * 8] for x, y in zigzag])], False, 30, 3, cv2.LINE_AA)
    value = FieldValue("k10_04", "choice", "", 1.0, False,
                       raw={"states": ["empty"] * 5, "offset_mm": [[-1.0, 0.0]] * 5})
    beside.flag_marks_beside(image, page, [value], 8.0)
    assert value.needs_review and "beside" in value.raw, value


# --- digit and date boxes ------------------------------------------------------------------------------------

def test_a_date_written_beside_its_boxes_is_flagged_not_read_blank(tmp_path):
    """The date written on the paper just after its boxes, the boxes left empty: before 2026-12-04 it read
    blank with confidence 0.99, unflagged. The crop shows the writing beside the boxes."""
    image, page = k10_page(tmp_path)
    last = boxes_field(page, "date_completed").boxes[-1]
    rng = random.Random(2)
    for k, char in enumerate("07022026"):
        place = Box(last.x_mm + last.w_mm + 1.5 + 0.8 * k * last.w_mm, last.y_mm, 0.8 * last.w_mm, last.h_mm)
        draw_digit(image, DPI, place, rng.choice(HELD_OUT_DIGITS[int(char)]), rng, "blue")
    value = read_values(image)["date_completed"]
    assert value.value == "" and value.needs_review and value.confidence <= 0.5, value
    assert "writing beside" in value.reason and value.raw["beside"]["ink_mm2"] >= beside_ink.BESIDE_INK_MM2, value
    crop = cv2.imdecode(np.frombuffer(value.crop_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    first = boxes_field(page, "date_completed").boxes[0]
    span_mm = last.x_mm + last.w_mm - first.x_mm + 2 * (BOXES_SIDE_MM + beside_ink.BESIDE_MM)  # the writing after them
    assert crop.shape[0] >= (last.h_mm + 2 * beside_ink.BESIDE_MM) * 8 - 2, crop.shape
    assert crop.shape[1] >= span_mm * 8 - 2, crop.shape


def upright_one() -> np.ndarray:
    """Of the first 50 held-back 1s, the most upright: a straight run down the page, as a printed rule is."""
    def slant(image: np.ndarray) -> float:
        m = cv2.moments(image.astype(np.float32))
        return abs(m["mu11"] / m["mu02"])
    return min(HELD_OUT_DIGITS[1][:50], key=slant)


@pytest.mark.parametrize(("extra", "photo"), [(4, False), (1, True)])
def test_a_digit_written_beside_its_box_is_flagged(tmp_path, extra, photo):
    """A weight written in its box and another digit just beside it (a second thought, or a weight of 10 or
    more): the box reads a clear digit, so only the writing apart from the box sends it to review; before
    2026-12-04 it read 8, unflagged. An upright 1 counts too (before, as long and straight as a printed
    rule, it was left out of the ink). Weights written in their boxes (one of them across its border) are not
    sent for writing beside them."""
    form = "gas-followup"
    layout = build_layout(resolve_template(form))
    image, page = printed(form, tmp_path, seed=2)[0][0], layout.pages[0]
    rng = random.Random(7)
    for field_id, weight in (("weight_1", 3), ("weight_2", 8)):
        write_digits(image, DPI, boxes_field(page, field_id).boxes, str(weight), HELD_OUT_DIGITS, rng, "black")
    box = boxes_field(page, "weight_2").boxes[0]
    draw_digit(image, DPI, Box(box.x_mm + box.w_mm + 1.0, box.y_mm, 0.8 * box.w_mm, box.h_mm),
               upright_one() if extra == 1 else HELD_OUT_DIGITS[extra][0], rng, "black")
    across = boxes_field(page, "weight_3").boxes[0]
    draw_digit(image, DPI, Box(across.x_mm + 0.25 * across.w_mm, across.y_mm, across.w_mm, across.h_mm),
               HELD_OUT_DIGITS[6][1], rng, "black")
    values = read_values(image, photo)
    second = values["weight_2"]
    assert second.needs_review and "writing beside the boxes" in second.reason, second
    assert second.raw["beside"]["ink_mm2"] >= beside.APART_INK_MM2, second
    for field_id in ("weight_1", "weight_3", "weight_4"):
        assert "beside" not in values[field_id].raw, values[field_id]


def test_the_serial_printed_above_a_goal_cards_date_is_no_writing(tmp_path):
    """On the goal card the serial under the QR code is printed just above the boxes of the date set: it is
    print, not writing beside the boxes (taken for writing, it flagged every date written there)."""
    layout = build_layout(resolve_template("goal-card"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == "date_set" for f in p.fields))
    page, image = layout.pages[index], printed("goal-card", tmp_path, seed=2)[0][index]
    write_digits(image, DPI, boxes_field(page, "date_set").boxes, "19012027", HELD_OUT_DIGITS, random.Random(3),
                 "black")
    values = read_values(image, photo=True)
    assert "beside" not in values["date_set"].raw and "beside" not in values["review_date"].raw, values["date_set"]


# --- visual-analogue lines -----------------------------------------------------------------------------------

def test_a_mark_that_stops_short_of_a_line_is_flagged_not_read_blank(tmp_path):
    """Line 1 ticked from above, the tick stopping 0.4 mm short of it; line 2 with a V pointing at it; line 3
    crossed as usual; line 4 left blank. Before 2026-12-04 lines 1 and 2 read blank at 0.95, unflagged; the
    reason says where along the line the writing is."""
    layout = build_layout(resolve_template("vas-4line"))
    page, image = layout.pages[0], printed("vas-4line", tmp_path, seed=2)[0][0]
    lines = {f.id: f for f in page.fields}
    stroke = _Pen(image, DPI, "black", 0.45).stroke
    one, two = lines["line_1"], lines["line_2"]
    stroke([(one.x1_mm + 30.3, one.y1_mm - 4.5), (one.x1_mm + 30.0, one.y1_mm - 0.4)])
    stroke([(two.x1_mm + 68.5, two.y1_mm - 3.5), (two.x1_mm + 70.0, two.y1_mm - 0.8),
            (two.x1_mm + 71.5, two.y1_mm - 3.5)])
    draw_line_mark(image, DPI, lines["line_3"], 55.0, random.Random(3))
    values = read_values(image, photo=True)
    for field_id, at_mm in (("line_1", 30.0), ("line_2", 70.0)):
        value = values[field_id]
        assert value.value == "" and value.needs_review, value
        # a stroke's end blurred onto the line may thicken it there: then it is told as a mark on the line
        # (``lines._marks_on_line``), which the check for writing beside a line, run on unflagged lines, leaves
        if "on_line_mm" in value.raw:
            assert "on the line at" in value.reason and min(abs(p - at_mm) for p in value.raw["on_line_mm"]) <= 2.0
        else:
            assert "no mark crosses the line" in value.reason, value
            assert abs(value.raw["beside"]["at_mm"] - at_mm) <= 2.0, value.raw["beside"]
    assert (values["line_3"].needs_review, "beside" in values["line_3"].raw) == (False, False), values["line_3"]
    assert (values["line_4"].value, values["line_4"].needs_review) == ("", False), values["line_4"]


# --- low-resolution photos ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("style", "seed"), [("beside", 2), ("between", 4), ("beside", 8)])
def test_a_pencil_tick_beside_the_boxes_in_a_3_mp_photo_is_flagged(tmp_path, style, seed):
    """An A4 page in a 3 MP photo is 2.6-4.6 px/mm: a 0.25 mm pencil stroke blurs to less than 0.3 darker
    than the paper, and until 2026-12-04 these rows, ticked beside their boxes in pencil, read blank,
    unflagged. A blank row in an image under 5 px/mm is looked at again, 0.2 darker taken for ink. (Of
    seeds 1-8, those at 2.6-3.0 px/mm, 1, 5 and 7, are still missed.)"""
    image, page = k10_page(tmp_path, pen="pencil")
    draw_mark_beside(image, DPI, option_box(page, "k10_04", 3), style, random.Random(seed), "pencil",
                     neighbour=option_box(page, "k10_04", 4))
    result = read(degrade_photo(image, random.Random(seed), frame_px=(2000, 1500)))
    assert result.status == "read" and result.quality["source_px_per_mm"] < 5.0, result.quality
    row = {v.field: v for v in result.values}["k10_04"]
    assert row.value == "" and row.needs_review and "beside" in row.raw, row


@pytest.mark.parametrize(("form", "frame_px", "seed"), [("alliance-check", (1600, 1200), 4),
                                                      ("k10", (2000, 1500), 12), ("k10", (1600, 1200), 14)])
def test_the_print_of_a_blank_page_in_a_low_resolution_photo_is_no_mark(tmp_path, form, frame_px, seed):
    """The blurred borders of blank boxes at 2.2-2.8 px/mm leave faint edges along them, a pixel off where
    registration puts them: taken for ink at 0.2 contrast, they flagged 1 to 12 blank rows of each of these
    pages (21 of 799 rows on 120 such pages); left out within 1 mm of the print's lines, none."""
    layout = build_layout(resolve_template(form))
    index = next(i for i, p in enumerate(layout.pages) if any(f.kind == "choice" for f in p.fields))
    image = printed(form, tmp_path, seed=2)[0][index]
    result = read(degrade_photo(image, random.Random(seed), frame_px=frame_px))
    assert result.status == "read", result.reason
    assert result.quality["source_px_per_mm"] < 5.0, result.quality
    assert [v.field for v in result.values if "beside" in v.raw] == []


@pytest.mark.parametrize(("form", "field", "option", "photo"), [("goal-card", "progress_3", 9, False),
                                                                ("goal-card", "progress_2", 4, True),
                                                                ("gas-followup", "gas_2", 1, False)])
def test_a_circled_label_under_a_box_is_flagged_not_read_blank(tmp_path, form, field, option, photo):
    """A respondent who circles the number or words printed under a box, not the box: an adversarial pass read
    16 of 39 such rows as left blank, at full confidence (the loop lies on and round the print, beyond the 4 mm
    round the boxes that ink beside them is looked for in)."""
    from formkit.layout.text import letters_box

    layout = build_layout(resolve_template(form))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == field for f in p.fields))
    page = layout.pages[index]
    image = printed(form, tmp_path, seed=2)[0][index]
    box = option_box(page, field, option)
    label = min((letters_box(t) for t in page.texts if t.text.strip()
                 and abs(letters_box(t).x_mm + letters_box(t).w_mm / 2 - (box.x_mm + box.w_mm / 2)) <= 1.0
                 and 0 <= letters_box(t).y_mm - box.y_mm - box.h_mm <= 6), key=lambda b: b.y_mm)
    scale = DPI / 25.4
    centre = (int((label.x_mm + label.w_mm / 2) * scale), int((label.y_mm + label.h_mm / 2) * scale))
    axes = (int((label.w_mm / 2 + 1.8) * scale), int((label.h_mm / 2 + 1.4) * scale))  # 1.4-1.8 mm clear of it
    cv2.ellipse(image, centre, axes, 0, 0, 360, (40, 40, 40), 2, cv2.LINE_AA)
    values = read_values(image, photo)
    row = values[field]
    assert row.value == "" and row.needs_review and "a label circled" in row.reason, row
    assert row.raw["beside"]["nearest"] == str(option)


@pytest.mark.parametrize(("field", "option", "photo", "seed"), [("gas_2", -1, False, 1), ("gas_4", 0, True, 2),
                                                               ("gas_3", 2, True, 3), ("gas_1", -2, False, 4)])
def test_an_underlined_label_under_a_box_is_flagged_not_read_blank(tmp_path, field, option, photo, seed):
    """A respondent who draws a line under the words printed under a box, not a mark in it: an adversarial
    pass read 34 of 41 such rows as left blank, at full confidence. The line runs between a label's two lines,
    where the page was not drawn when registered (the paper's edge there looked like a crease running on);
    the letters cut it into pieces, each of which seemed to run on through the others; and beside choice
    boxes a long straight stroke was taken for a printed rule."""
    from formkit.layout.text import letters_box

    layout = build_layout(resolve_template("gas-followup"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == field for f in p.fields))
    page = layout.pages[index]
    image = printed("gas-followup", tmp_path, seed=2)[0][index]
    box = option_box(page, field, option)
    first_line = min((letters_box(t) for t in page.texts if t.text.strip()
                      and abs(letters_box(t).x_mm + letters_box(t).w_mm / 2 - (box.x_mm + box.w_mm / 2)) <= 1.0
                      and 0 <= letters_box(t).y_mm - box.y_mm - box.h_mm <= 6), key=lambda b: b.y_mm)
    rng = np.random.default_rng(seed)
    xs_mm = np.linspace(first_line.x_mm - 1.0, first_line.x_mm + first_line.w_mm + 1.0, 14)
    ys_mm = first_line.y_mm + first_line.h_mm + 0.8 + 0.3 * (xs_mm - xs_mm[0]) / 30 + rng.normal(0, 0.12, xs_mm.size)
    scale = DPI / 25.4
    cv2.polylines(image, [np.int32(np.stack([xs_mm, ys_mm], axis=1) * scale)], False, (40, 40, 40), 3, cv2.LINE_AA)
    values = read_values(image, photo)
    row = values[field]
    assert row.value == "" and row.needs_review and "underlined" in row.reason, row
    assert row.raw["beside"]["nearest"] == str(option)


@pytest.mark.parametrize(("direction", "darkness"), [("along", 0.4), ("down", 0.6), ("slant", 0.6)])
def test_a_fold_through_the_words_under_a_blank_rows_boxes_is_no_mark(tmp_path, direction, darkness):
    """A crease across a blank GAS row's labels, running on across the page: along the words where a line
    under them would be, down through two labels, or slanting. Drawn only 5 mm round the words, a streak
    through a label seemed to end where the drawn page did, and was taken for a stroke (one blank row more
    to review in each of three crumpled or streaked conditions of `scan_accuracy.py`, until the words were
    drawn 11 mm round)."""
    from formkit.layout.text import letters_box

    layout = build_layout(resolve_template("gas-followup"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == "gas_2" for f in p.fields))
    page = layout.pages[index]
    image = printed("gas-followup", tmp_path, seed=2)[0][index]
    box = option_box(page, "gas_2", -1)
    label = min((letters_box(t) for t in page.texts if t.text.strip()
                 and abs(letters_box(t).x_mm + letters_box(t).w_mm / 2 - (box.x_mm + box.w_mm / 2)) <= 1.0
                 and 0 <= letters_box(t).y_mm - box.y_mm - box.h_mm <= 6), key=lambda b: b.y_mm)
    y_mm = label.y_mm + label.h_mm + 0.8
    x_mm = label.x_mm + label.w_mm + 0.5
    start, end = {"along": ((5.0, y_mm), (page.width_mm - 5.0, y_mm + 1.0)),
                  "down": ((x_mm, y_mm - 60.0), (x_mm + 0.5, y_mm + 60.0)),
                  "slant": ((x_mm - 40.0, y_mm - 50.0), (x_mm + 40.0, y_mm + 50.0))}[direction]
    draw_crease(image, DPI, start, end, darkness=darkness)
    row = read_values(image)["gas_2"]
    assert row.value == "" and not row.needs_review, row


@pytest.mark.parametrize(("seed", "photo"), [(8, False), (9, True), (1, False)])
def test_a_short_line_under_the_last_rows_0_is_flagged_not_read_blank(tmp_path, seed, photo):
    """A line under the "0" of a goal card's last row, no row's boxes below it: its ink lay partly on the number
    (0.53 mm²) and partly under it (0.66), each under the 0.75 that counts as writing, and the row read blank at
    full confidence until 2026-12-07 (unusual_marks.py *underlined*; in pencil, 4 of 72 lines drawn so, scans and
    12 MP photos); both now count together."""
    layout = build_layout(resolve_template("goal-card"))
    page = layout.pages[1]
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    f = next(g for g in page.fields if g.id == "progress_4")
    draw_label_mark(image, DPI, labels.option_labels(page, f)[0], "underlined", random.Random(seed), "pencil")
    row = read_values(image, photo)["progress_4"]
    assert row.value == "" and row.needs_review and row.raw["beside"]["nearest"] == "0", row


@pytest.mark.parametrize(("field", "option", "photo", "seed"), [("progress_1", 5, False, 1), ("progress_2", 7, True, 1),
                                                               ("progress_3", 10, False, 3)])
def test_a_line_under_a_goal_card_number_is_flagged_not_read_blank(tmp_path, field, option, photo, seed):
    """A goal card's numbers sit 1.9 mm above the next row's boxes: a line drawn under one lies within a
    millimetre of their top borders, where a straight stroke is taken for a border a bent page moved, and
    nearer the next row. Read blank at full confidence until 2026-12-06 (an adversarial pass: 25 of 33); now
    a second dark band above the border, paper between, is flagged."""
    layout = build_layout(resolve_template("goal-card"))
    page = layout.pages[1]
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    f = next(g for g in page.fields if g.id == field)
    draw_label_mark(image, DPI, labels.option_labels(page, f)[option], "underlined", random.Random(seed))
    row = read_values(image, photo)[field]
    assert row.value == "" and row.needs_review and "underlined" in row.reason, row
    assert row.raw["beside"]["nearest"] == str(option)


@pytest.mark.parametrize(("field", "option", "seed"), [("gas_2", 2, 2), ("gas_3", -1, 5)])
def test_an_underlined_label_in_a_3_mp_photo_is_looked_at_again_with_fainter_ink(tmp_path, field, option, seed):
    """A blue line under a GAS label in a 3 MP photo (2.7 px/mm): blurred to under 0.3 darker than the paper,
    it read as a row left blank until the words' surroundings, too, were looked at again with ink 0.2 darker
    (unusual_marks.py, 2026-12-06: underlined rows in 3 MP photos, 9 of 132 silent -> 3)."""
    layout = build_layout(resolve_template("gas-followup"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == field for f in p.fields))
    page = layout.pages[index]
    f = next(g for g in page.fields if g.id == field)
    image = printed("gas-followup", tmp_path, seed=2)[0][index]
    draw_label_mark(image, DPI, labels.option_labels(page, f)[option], "underlined", random.Random(seed), "blue")
    result = read(degrade_photo(image, random.Random(seed), frame_px=(2000, 1500)))
    assert result.quality["source_px_per_mm"] < 3.0, result.quality
    row = {v.field: v for v in result.values}[field]
    assert row.value == "" and row.needs_review and "underlined" in row.reason, row


def _goal_card_capture(image: np.ndarray, capture: str, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    if capture == "1-bit":
        return degrade_scan(image, DPI, rng, out_dpi=DPI, one_bit=True)
    return degrade_photo(image, rng, frame_px=(2000, 1500) if capture == "3 MP" else (4000, 3000))


@pytest.mark.parametrize(("field", "option", "capture", "below_mm", "pen"),
                         [("progress_2", 6, "3 MP", 1.2, "blue"), ("progress_1", 3, "3 MP", 1.35, "pencil"),
                          ("progress_3", 9, "1-bit", 1.45, "black"), ("progress_1", 10, "12 MP", 1.4, "black")])
def test_a_line_under_a_goal_card_number_merged_with_the_border_below_is_flagged(tmp_path, field, option, capture,
                                                                                below_mm, pen):
    """A line drawn under a goal card's number, within half a millimetre of the next row's box: blurred in a
    photo or joined in a 1-bit copy, it and the box's border are one dark band, and the row read blank at full
    confidence (unusual_marks.py, 2026-12-06: 13 of 67 underlined rows in 3 MP photos, 6 in 1-bit copies). The
    band is darker there than under the other numbers, whose print is the same."""
    layout = build_layout(resolve_template("goal-card"))
    page = layout.pages[1]
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    f = next(g for g in page.fields if g.id == field)
    label = labels.option_labels(page, f)[option][0]
    p = _Pen(image, DPI, pen, {"pencil": 0.3, "blue": 0.4, "black": 0.45}[pen])
    y_mm = label.y_mm + label.h_mm + below_mm
    p.stroke([(label.x_mm - 0.3, y_mm), (label.x_mm + label.w_mm / 2, y_mm + 0.1),
              (label.x_mm + label.w_mm + 0.4, y_mm)])
    row = {v.field: v for v in read(_goal_card_capture(image, capture, 5)).values}[field]
    assert row.value == "" and row.needs_review and "underlined" in row.reason, row
    assert row.raw["beside"]["nearest"] == str(option)


@pytest.mark.parametrize(("capture", "seed"), [("3 MP", 3), ("1-bit", 5), ("12 MP", 6)])
def test_a_fill_in_the_box_under_a_blank_rows_number_is_no_line_under_it(tmp_path, capture, seed):
    """A blank goal-card row above a row whose box is filled: the fill runs over the box's top border, just
    under this row's number, and darkens the band there as a line drawn under the number would; the box
    under the band, dark too, tells it apart. (A throwaway harness, every second goal-card row marked, 28 pages
    each of flatbed, 1-bit, 3 and 12 MP: before the box under the band was looked at, 19 of the 32 blank rows
    above fills were flagged as underlined.)"""
    layout = build_layout(resolve_template("goal-card"))
    page = layout.pages[1]
    image = printed("goal-card", tmp_path, seed=2)[0][1]
    rng = random.Random(seed)
    for field in ("progress_2", "progress_4"):
        draw_mark(image, DPI, option_box(page, field, rng.choice([0, 1, 6, 8, 9])), "fill", rng, "black")
    values = {v.field: v for v in read(_goal_card_capture(image, capture, seed)).values}
    for field in ("progress_1", "progress_3"):
        assert (values[field].value, values[field].needs_review) == ("", False), values[field]


@pytest.mark.parametrize(("form", "field"), [("k10", "k10_04"), ("alliance-check", "ac_03"), ("k10", "k10_07")])
def test_a_number_written_after_a_rows_last_box_is_flagged_not_read_blank(tmp_path, form, field):
    """A respondent who writes the answer's number after the row's last box instead of marking one: the page
    was drawn only 5 mm round the boxes, so a digit begun within the 4 mm looked at after the last box was cut
    off where the drawing ended, too little of it left to count, and the row read blank at full confidence
    (an adversarial pass: 15-23 of 50 rows a capture; 11-17 since, the rest begun more than 4 mm after the
    box, where ink is not counted as the row's). Choice rows are now drawn and looked at 5 mm further to
    either side."""
    layout = build_layout(resolve_template(form))
    page = layout.pages[0]
    image = printed(form, tmp_path, seed=2)[0][0]
    last = next(f for f in page.fields if f.id == field).options[-1].box
    draw_digit(image, DPI, Box(last.x_mm + last.w_mm + 1.75, last.y_mm, 4.0, last.h_mm),
               HELD_OUT_DIGITS[3][7], random.Random(3), "black")
    row = read_values(image, photo=True)[field]
    assert row.value == "" and row.needs_review and "beside" in row.raw, row


@pytest.mark.parametrize(("text", "option", "photo", "seed"), [("N/A", 2, False, 1), ("dont know", 5, False, 2),
                                                               ("n/a", 1, True, 3), ("N/A", 4, True, 4)])
def test_words_written_across_a_row_are_flagged_not_read_as_the_box_they_begin_in(tmp_path, text, option, photo,
                                                                                    seed):
    """A respondent who writes "N/A" or "don't know" across a row instead of answering: the word's first
    letters lie in a box, which read as marked, and the rest of it, beside the box on the row, was less than
    twice the ink in it, so the row read as that option at full confidence (an adversarial pass: 16-23 of 50
    such rows a capture). Ink level with the boxes, running on from the marked one letter by letter, now flags
    the row; the other rows' ticks flag nothing."""
    image, page = k10_page(tmp_path, blank_rows=(6,))
    box = option_box(page, "k10_06", option)
    write_text(image, DPI, Box(box.x_mm - 2.5, box.y_mm - 1.0, 40.0, box.h_mm + 2.0), text, random.Random(seed), "blue")
    values = read_values(image, photo=photo)
    row = values["k10_06"]
    assert row.needs_review and "writing beside it" in row.reason, row
    assert not any(v.needs_review for k, v in values.items() if k.startswith("k10_") and k != "k10_06"), values


@pytest.mark.parametrize(("option", "pen", "photo", "height_mm", "gap_mm"),
                         [(2, "black", False, 3.2, 0.6), (4, "blue", True, 3.0, 0.8), (1, "pencil", False, 3.4, 0.5)])
def test_a_question_mark_in_a_box_is_flagged_not_read_as_that_answer(tmp_path, option, pen, photo, height_mm, gap_mm):
    """A respondent unsure of an answer writes "?" in a box: its ink made the box read as marked, and the row
    read as that answer at full confidence (`unusual_marks.py` *question*: 138-143 of 145 rows a capture). A
    hook with a dot under it, and no other mark in the row, is now flagged; the ticks of the other rows are
    not."""
    image, page = k10_page(tmp_path, blank_rows=(8,), pen=pen)
    draw_question_mark(image, DPI, option_box(page, "k10_08", option), pen, height_mm, gap_mm)
    values = read_values(image, photo=photo)
    row = values["k10_08"]
    assert row.needs_review and "question mark" in row.reason and row.raw["question_mark"] == str(option), row
    assert not any(v.needs_review for k, v in values.items() if k.startswith("k10_") and k != "k10_08"), values


def test_a_pencil_word_across_a_row_in_a_3_mp_photo_is_flagged(tmp_path):
    """In a 3 MP photo (an A4 page at about 4 px/mm) a word written in pencil across a row is too faint for
    the look beside the boxes (ink 0.3 darker than the paper); the row read as the box the word begins in.
    The look is made again with ink 0.2 darker, as for a blank row (an adversarial pass: 61 of 145 such
    rows read silently, 47 since; most of the rest are fainter still)."""
    image, page = k10_page(tmp_path, blank_rows=(6,), pen="pencil")
    box = option_box(page, "k10_06", 3)
    write_text(image, DPI, Box(box.x_mm - 2.5, box.y_mm - 1.0, 40.0, box.h_mm + 2.0), "n/a", random.Random(6), "pencil")
    result = read(degrade_photo(image, random.Random(6), frame_px=(2000, 1500)))
    assert result.status == "read", result.reason
    row = next(v for v in result.values if v.field == "k10_06")
    assert row.needs_review and "writing beside it" in row.reason, row


def test_the_tail_of_a_long_tick_from_the_row_below_is_no_word_on_this_row(tmp_path):
    """A long tick in the row below, its tail ending 2-4 mm past this row's marked box and level with it, lies
    mostly below this row: no word written across it (flagged so before the tail was told apart, in 1 of 145
    rows of long ticks in 1-bit copies)."""
    image, page = k10_page(tmp_path, blank_rows=(6,))
    above, below = option_box(page, "k10_05", 1 + 5 % 5), option_box(page, "k10_06", 1 + 5 % 5)
    pen = _Pen(image, DPI, "black", 0.45)
    cx, cy = below.x_mm + below.w_mm / 2, below.y_mm + below.h_mm / 2
    pen.stroke([(cx - 2.0, cy - 0.5), (cx - 0.3, cy + 1.8), (above.x_mm + above.w_mm + 3.2, above.y_mm + 2.0)])
    values = read_values(image)
    assert values["k10_06"].value == str(1 + 5 % 5), values["k10_06"]
    assert not values["k10_05"].needs_review, values["k10_05"]


def _tick_on_corner(image: np.ndarray, box: Box, pen: str = "black", arm_mm: float = 4.0) -> None:
    """A tick whose low point lies just inside ``box``'s top right corner, its arms over the gap above: the
    short one up to the left, the long one ``arm_mm`` up to the right."""
    x, y = box.x_mm + box.w_mm - 0.35, box.y_mm + 0.35
    _Pen(image, DPI, pen, {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen]).stroke(
        [(x - 1.2, y - 1.3), (x, y), (x + 0.55 * arm_mm, y - 0.85 * arm_mm)])


def _ac_page(tmp_path, blank: str, pen: str = "black") -> tuple[np.ndarray, object]:
    """An alliance check, each row ticked in its own box but ``blank``; its rows lie 2.4 mm apart."""
    image = printed("alliance-check", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("alliance-check")).pages[0]
    rng = random.Random(4)
    for f in page.fields:
        if f.id.startswith("ac_") and f.id != blank:
            draw_mark(image, DPI, option_box(page, f.id, 1 + int(f.id[3:]) % 5), "tick", rng, pen)
    return image, page


@pytest.mark.parametrize(("option", "pen", "photo"), [(4, "black", False), (2, "blue", False), (3, "pencil", True),
                                                      (5, "black", True)])
def test_a_tick_on_a_boxs_corner_over_the_gap_above_flags_its_blank_row(tmp_path, option, pen, photo):
    """A tick whose low point is on a box's corner and whose arms lie over the gap to the row above, nearer that
    row's boxes: given to that row, it left this one blank at confidence 1.0 (9 of 426 fields so in a find-only
    pass, 2026-12-07). The row above, answered in its own box, stays as it was."""
    image, page = _ac_page(tmp_path, "ac_08", pen)
    _tick_on_corner(image, option_box(page, "ac_08", option), pen)
    values = read_values(image, photo)
    row = values["ac_08"]
    assert row.value == "" and row.needs_review, row
    assert values["ac_07"].value == str(1 + 7 % 5) and not values["ac_07"].needs_review, values["ac_07"]


@pytest.mark.parametrize(("option", "photo"), [(2, False), (4, True)])
def test_a_tick_on_one_boxs_corner_beside_a_tick_in_another_is_two_answers(tmp_path, option, photo):
    """A row ticked in option 5 and again on another box's corner (a change of mind, or two answers): read as 5
    at confidence 1.0 until 2026-12-07."""
    image, page = _ac_page(tmp_path, "ac_08")
    draw_mark(image, DPI, option_box(page, "ac_08", 5 if option != 5 else 1), "tick", random.Random(9), "black")
    _tick_on_corner(image, option_box(page, "ac_08", option))
    row = read_values(image, photo)["ac_08"]
    assert row.needs_review and str(option) in row.reason, row
