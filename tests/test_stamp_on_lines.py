"""A rubber stamp ("RECEIVED / 03 DEC 2026", framed) pressed over a visual-analogue line: where its frame or a letter
crossed the line, a mark was read there, unflagged (a find-only pass, 2026-12-07). Such a line goes to review, said
to hold a stamp or print; real marks on the other lines, and on every line when the stamp lies elsewhere on the
page, read as ever."""

from __future__ import annotations

import random

import pytest

from tests.synthetic import draw_line_mark, draw_stamp
from tests.test_marks_on_lines import LINES, capture, values_of
from tests.test_scan import DPI, printed

# (x of its centre, mm; how far below line_1 its centre lies, mm; its turn, degrees): the frame's bottom edge along
# line_1 and across it near 44 mm, or its right edge across it at 24 mm with letters beside (both read as marks)
ACROSS = {"edge along": (60.0, -7.0, -2.0), "edge across": (40.0, -3.0, 5.0)}


@pytest.mark.parametrize(("placed", "how"), [("edge along", "scan"), ("edge along", "one-bit"), ("edge along", "photo"),
                                             ("edge across", "scan"), ("edge across", "photo")])
def test_a_stamp_across_a_blank_line_goes_to_review(tmp_path, placed, how):
    image = printed("vas-4line", tmp_path)[0][0]
    x_mm, below_mm, turn = ACROSS[placed]
    draw_stamp(image, DPI, (x_mm, LINES[0].y1_mm + below_mm), random.Random(1), angle_deg=turn)
    draw_line_mark(image, DPI, LINES[2], 40.0, random.Random(2))
    values = values_of(capture(image, how, random.Random(3)))
    stamped = values[LINES[0].id]
    assert stamped.needs_review and "stamp or printed text lies across the line" in stamped.reason, stamped
    assert stamped.raw["along_mm"]
    assert values[LINES[2].id].value == "4.0" and not values[LINES[2].id].needs_review, values[LINES[2].id].reason


@pytest.mark.parametrize("how", ["scan", "one-bit", "photo"])
def test_a_stamp_elsewhere_on_the_page_leaves_the_marks_read(tmp_path, how):
    image = printed("vas-4line", tmp_path)[0][0]
    # under the last line, clear of its words; and right of the lines' ends, across line_2's height
    draw_stamp(image, DPI, (90.0, LINES[3].y1_mm + 19.0), random.Random(4), angle_deg=4.0, ink="red")
    draw_stamp(image, DPI, (180.0, LINES[1].y1_mm), random.Random(5), size_mm=(48.0, 15.0), angle_deg=-6.0, ink="blue")
    rng = random.Random(6)
    for line, where in zip(LINES, (12.0, 47.0, 71.0, 93.0), strict=True):
        draw_line_mark(image, DPI, line, where, rng)
    values = values_of(capture(image, how, random.Random(7)))
    for line, expected in zip(LINES, ("1.2", "4.7", "7.1", "9.3"), strict=True):
        value = values[line.id]
        assert value.value == expected and not value.needs_review, (line.id, value.value, value.reason)
