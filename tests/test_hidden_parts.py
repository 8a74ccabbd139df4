"""Parts of a page that were never seen: cut off by a scanner's glass or a photo's frame (the page is
registered from the markers left in it), or covered by a sticky note. Such fields are flagged, saying why,
never read as left blank; the rest of the page reads as on any page."""

from __future__ import annotations

import random

import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box, field_box
from formkit.template import resolve_template
from scanner.register import Registration, shares_outside
from tests.synthetic import (
    NOTE_COLOURS,
    bend_page,
    degrade_photo,
    degrade_scan,
    draw_line_mark,
    draw_mark,
    load_digits,
    write_digits,
    write_text,
)
from tests.test_handwriting import DIGITS
from tests.test_scan import DPI, option_box, printed, read

BED_MM = 6.0  # degrade_scan lays the page on a bed this much larger each side


def cut_below(image: np.ndarray, y_mm: float) -> np.ndarray:
    """The scan ``image`` (upright, ``DPI``) ending ``y_mm`` down the page: a page longer than the glass."""
    return np.ascontiguousarray(image[: int(round((BED_MM + y_mm) * DPI / 25.4))])


def test_a_field_past_the_edge_of_a_scan_is_flagged_not_read_blank(tmp_path):
    """GAS follow-up page 1 on a glass that ends 258 mm down it: goal 4's text area (253-263 mm) is cut
    through, written on its second line, past the cut, and weight 4's boxes (267-275 mm), written, are wholly
    past the edge. Before 2026-12-04 the goal read blank at 0.95, unflagged, and the weight was flagged for
    glare (its white boxes taken for clipped paper). Both are flagged for the cut; the weight holds nothing,
    at confidence 0."""
    image = printed("gas-followup", tmp_path)[0][0]
    page = build_layout(resolve_template("gas-followup")).pages[0]
    fields = {f.id: f for f in page.fields}
    rng = random.Random(3)
    write_text(image, DPI, field_box(fields["goal_4"]), "\nevery day", rng)  # its second line
    write_digits(image, DPI, fields["weight_4"].boxes, "3", load_digits(DIGITS), rng, "black")
    draw_mark(image, DPI, option_box(page, "gas_2", 1), "tick", rng, "black")
    result = read(cut_below(degrade_scan(image, DPI, random.Random(5), out_dpi=DPI), 258.0))
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    goal, weight = values["goal_4"], values["weight_4"]
    assert goal.needs_review and "outside the image" in goal.reason, goal
    assert 0.1 < goal.raw["outside_image"] < 1.0
    assert weight.needs_review and weight.value == "" and weight.confidence == 0.0, weight
    assert weight.reason.startswith("100 % of the field lies outside the image"), weight.reason
    assert values["gas_2"].value == "1" and not values["gas_2"].needs_review
    assert result.quality["outside_image"] == ["goal_4", "weight_4"]
    for field in ("goal_1", "weight_1", "gas_1", "goal_3", "gas_3"):
        assert "outside_image" not in values[field].raw and not values[field].needs_review, values[field]


def test_the_rows_in_the_image_read_as_on_any_page(tmp_path):
    """A K10 cut off 137 mm down, through its fifth row: rows 1-4 ticked read so, unflagged (the white that
    stands for rows 6-10 is no part of the page's print contrast; with half a K10 cut off, every value was
    flagged as blurry before); row 5 and the rows and date past the edge are flagged for it (before, row 5
    read its tick, unflagged, though part of the row was never seen)."""
    image = printed("k10", tmp_path, seed=2)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(8)
    for k in range(1, 11):
        draw_mark(image, DPI, option_box(page, f"k10_{k:02d}", 1 + k % 5), "tick", rng, "blue")
    result = read(cut_below(degrade_scan(image, DPI, random.Random(2), out_dpi=DPI), 137.0))
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    for k in range(1, 5):
        row = values[f"k10_{k:02d}"]
        assert row.value == str(1 + k % 5) and not row.needs_review, row
    past = [f"k10_{k:02d}" for k in range(5, 11)] + ["date_completed"]
    for field in past:
        assert values[field].needs_review and "outside the image" in values[field].reason, values[field]
    for field in past[1:]:
        assert values[field].value == "" and values[field].confidence == 0.0, values[field]
    assert result.quality["outside_image"] == sorted(past)


@pytest.mark.parametrize("width", [1500, 2000])
def test_shares_outside_follow_the_registration(width):
    """A page turned a quarter and registered at 10 px/mm: the page's y runs along the image's columns, so an
    image 1,500 px wide holds the page down to 150 mm (k10_07, at 149-154 mm, is mostly past the edge; the
    rows and date below it wholly, the rows above not at all) and one 2,000 px wide all the fields (down to
    200 mm)."""
    page = build_layout(resolve_template("k10")).pages[0]
    turned = np.array([[0.0, -10.0, width], [10.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # x_px = width - 10 y_mm
    shares = shares_outside(page, Registration(turned, 0.0, 4, 10.0), (2100, width))
    if width == 2000:
        assert shares == {}
        return
    box = field_box(next(f for f in page.fields if f.id == "k10_07"))
    assert shares.pop("k10_07") == pytest.approx((box.y_mm + box.h_mm - 150.0) / box.h_mm, abs=0.01)
    assert shares == {field: pytest.approx(1.0) for field in ("k10_08", "k10_09", "k10_10", "date_completed")}


def note(image: np.ndarray, x_mm: float, y_mm: float, side_mm: float, colour: str = "yellow") -> None:
    """A sticky note ``side_mm`` square, its top-left corner at (``x_mm``, ``y_mm``), on the page ``image``."""
    scale = DPI / 25.4
    image[int(y_mm * scale):int((y_mm + side_mm) * scale), int(x_mm * scale):int((x_mm + side_mm) * scale)] = \
        NOTE_COLOURS[colour]


@pytest.mark.parametrize("capture", ["scan", "photo"])
def test_rows_under_a_sticky_note_are_flagged_not_read_blank(tmp_path, capture):
    """A K10 ticked in every row, a yellow note 76 mm square over options 2-5 of rows 6-10 (the ticks of
    rows 6-9 under it), a few lines written on the note across the boxes. Before 2026-12-04 rows whose tick
    lay under the note read blank, unflagged. Every row the note covers is flagged, naming the options whose
    print does not show; rows 1-5 read as ticked."""
    image = printed("k10", tmp_path, seed=2)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(8)
    for k in range(1, 11):
        draw_mark(image, DPI, option_box(page, f"k10_{k:02d}", 1 + k % 5), "tick", rng, "blue")
    note(image, 125.0, 140.0, 76.0, "pink" if capture == "photo" else "yellow")
    # what the note says, across the boxes under it: no straight run along a box's sides
    write_text(image, DPI, Box(127.0, 142.0, 72.0, 40.0), "call back Tues\nmoved flat\nsee file", rng, "blue")
    captured = degrade_scan(image, DPI, random.Random(2), out_dpi=DPI) if capture == "scan" else \
        degrade_photo(image, random.Random(3), frame_px=(4000, 3000))
    result = read(captured)
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    for k in range(6, 11):
        row = values[f"k10_{k:02d}"]
        assert row.needs_review and "does not show: covered" in row.reason, row
        assert {"4", "5"} <= set(row.raw["hidden"]) and "1" not in row.raw["hidden"], row.raw
    for k in range(1, 6):
        row = values[f"k10_{k:02d}"]
        assert row.value == str(1 + k % 5) and not row.needs_review, row


def test_a_note_over_a_comment_is_flagged(tmp_path):
    """A comment written in the alliance check's comment area, a blue note over its right half: the frame
    of the area does not show there, so the comment is flagged for it (its frame is grey and thin: judged
    against the other writing areas' frames, or its own pieces left in view)."""
    image = printed("alliance-check", tmp_path)[0][0]
    page = build_layout(resolve_template("alliance-check")).pages[0]
    area = field_box(next(f for f in page.fields if f.id == "comments"))
    write_text(image, DPI, area, "It helped to talk about work", random.Random(4))
    note(image, area.x_mm + area.w_mm / 2, area.y_mm - 10.0, 51.0, "blue")
    result = read(degrade_scan(image, DPI, random.Random(5), out_dpi=DPI))
    assert result.status == "read", result.reason
    comment = next(v for v in result.values if v.field == "comments")
    assert comment.needs_review and "the writing area's frame" in comment.reason, comment
    assert any(piece.startswith("top") for piece in comment.raw["hidden"]), comment.raw


def test_print_moved_by_a_page_that_is_not_flat_is_not_taken_for_covered(tmp_path):
    """The lines of a visual-analogue card photographed bent 0.9 mm: registration puts each line up to
    0.9 mm from where it lies, so the print is not where it is looked for first; it is found within
    1.5 mm, and nothing is flagged as covered (without that search, lines were flagged)."""
    image = printed("vas-4line", tmp_path)[0][0]
    page = build_layout(resolve_template("vas-4line")).pages[0]
    rng = random.Random(6)
    for f, position_mm in zip(page.fields, (20.0, 50.0, 80.0, 35.0), strict=True):
        draw_line_mark(image, DPI, f, position_mm, rng, "black")
    bent = bend_page(image, DPI, 0.9)
    result = read(degrade_photo(bent, random.Random(9), frame_px=(4000, 3000)))
    assert result.status == "read", result.reason
    assert not [v.field for v in result.values if "hidden" in v.raw]


def test_a_note_over_most_of_a_goal_card_is_judged_by_the_markers(tmp_path):
    """A goal card (74 x 105 mm) with its "why" and "steps" written, under a note across its whole width from
    38 mm down: only the top of the first writing area's frame shows. Judged by the frames' own contrast,
    most of which the note covers, nothing stood out and the areas under it were not flagged (a reviewer's
    find). The registration markers are print in view on any registered page: those areas are flagged."""
    image = printed("goal-card", tmp_path)[0][0]
    page = build_layout(resolve_template("goal-card")).pages[0]
    fields = {f.id: f for f in page.fields}
    for field, words in (("why", "to sleep"), ("steps", "walk every day")):
        write_text(image, DPI, field_box(fields[field]), words, random.Random(1),
                   baselines_y_mm=fields[field].baselines_y_mm)
    note(image, 0.0, 38.0, 76.0)
    result = read(degrade_scan(image, DPI, random.Random(5), out_dpi=DPI))
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    for field in ("why", "steps", "helper"):
        assert values[field].needs_review and "writing area's frame" in values[field].reason, values[field]


@pytest.mark.parametrize("capture", ["scan", "photo"])
def test_a_digit_box_partly_under_a_page_on_top_is_flagged(tmp_path, capture):
    """GAS follow-up page 1 under another sheet of paper lying over the left of the page, its edge across
    weight 2's box: 40 % of the box hidden, its left side wholly. The rest of the outline shows, so the box
    was not faint enough to be taken for covered, and it read blank, unflagged (a digit under the sheet is
    not seen). Weight 1, written, and weight 3, left blank, both clear of the sheet, read as they are."""
    image = printed("gas-followup", tmp_path)[0][0]
    page = build_layout(resolve_template("gas-followup")).pages[0]
    fields = {f.id: f for f in page.fields}
    write_digits(image, DPI, fields["weight_1"].boxes, "4", load_digits(DIGITS), random.Random(2), "black")
    box = fields["weight_2"].boxes[0]
    scale = DPI / 25.4
    top, bottom = int((box.y_mm - 30) * scale), int((box.y_mm + 40) * scale)
    image[top:bottom, :int((box.x_mm + 0.4 * box.w_mm) * scale)] = 246  # the sheet on top
    captured = degrade_scan(image, DPI, random.Random(5), out_dpi=DPI) if capture == "scan" else \
        degrade_photo(image, random.Random(3), frame_px=(4000, 3000))
    result = read(captured)
    assert result.status == "read", result.reason
    values = {v.field: v for v in result.values}
    assert values["weight_2"].needs_review and values["weight_2"].raw["hidden"] == ["1"], values["weight_2"]
    assert "part of the print of box(es) 1 does not show" in values["weight_2"].reason
    assert (values["weight_1"].value, values["weight_1"].needs_review) == ("4", False), values["weight_1"]
    assert (values["weight_3"].value, values["weight_3"].needs_review) == ("", False), values["weight_3"]
