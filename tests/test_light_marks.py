"""A person who marks lightly (pencil pressed lightly) has ticks that leave little ink: one alone in its
row is read as the answer when it leaves the trace this person's other marks on the page leave; a speck,
a light tick on a page of firm pen marks, and a light tick beside other ink stay flagged. The edge of a
shadow across an empty box is neither a mark nor a light one; a pen line ruled along a box's side, or a
highlighter stripe over the next row, is no shadow's edge."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.layout.model import Box, Page
from formkit.records import PageResult
from formkit.template import resolve_template
from scanner import marks
from scanner.marks import BoxMeasure, Mark
from tests.synthetic import degrade_scan, draw_mark
from tests.test_scan import DPI, option_box, printed, read

PENCIL = (120, 120, 125)
LIGHT_PENCIL = (185, 185, 188)  # between WEAK_LEVEL and INK_LEVEL of the scale from paper to printed border
PRESSED_LIGHTLY = (155, 155, 158)  # read faint, as LIGHT_PENCIL; 0.75 as dark as PENCIL, LIGHT_PENCIL 0.5
SCALE = DPI / 25.4  # px per mm


def tick(image: np.ndarray, box: Box, colour: tuple[int, int, int], size: float = 1.0) -> None:
    """A thin tick (0.25 mm) across the middle of ``box``, ``size`` times the usual."""
    scale = DPI / 25.4
    cx, cy, s = box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2, box.w_mm / 2 * 0.8 * size
    points = [(cx - s * 0.5, cy), (cx - s * 0.1, cy + s * 0.5), (cx + s * 0.7, cy - s * 0.7)]
    cv2.polylines(image, [np.int32([[x * scale, y * scale] for x, y in points])], False, colour,
                  max(1, round(0.25 * scale)), cv2.LINE_AA)


def page_of(tmp_path, firm: str, rows: dict[str, tuple[int, tuple[int, int, int], float]],
            shade: Callable[[np.ndarray, Page], None] = lambda image, page: None) -> PageResult:
    """A K10 page: ``rows`` ticked as given (value, colour, size; size 0: left empty), the other rows ticked
    firmly in ``firm``, then ``shade(image, page)``, scanned."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    page = build_layout(resolve_template("k10")).pages[0]
    rng = random.Random(4)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        if field in rows:
            continue
        if firm == "pencil":
            tick(image, option_box(page, field, 1 + k % 5), PENCIL)
        else:
            draw_mark(image, DPI, option_box(page, field, 1 + k % 5), "tick", rng, firm)
    for field, (value, colour, size) in rows.items():
        if size:
            tick(image, option_box(page, field, value), colour, size)
    shade(image, page)
    return read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI))


def values_of(result):
    assert result.status == "read", result.reason
    return {v.field: v for v in result.values}


def test_a_lone_light_tick_of_a_light_hand_is_the_answer_and_says_why(tmp_path):
    result = page_of(tmp_path, "pencil", {"k10_04": (2, PRESSED_LIGHTLY, 1.0)})
    values = values_of(result)
    light = values["k10_04"]
    assert (light.value, light.needs_review) == ("2", False)
    assert light.raw["states"][1] == "marked" and light.confidence == marks.LIGHT_MARK_CONFIDENCE
    trace = light.raw["light_mark"]["trace"]
    assert trace[1] >= marks.LIGHT_MARK_SHARE * light.raw["light_mark"]["own_marks_trace"]
    for k in (1, 2, 3, 5):  # the person's other marks read as before
        assert values[f"k10_{k:02d}"].value == str(1 + k % 5) and not values[f"k10_{k:02d}"].needs_review


def test_a_light_tick_half_as_dark_as_the_hands_other_marks_is_read_and_flagged(tmp_path):
    """Half as dark as the person's other pencil ticks, a tick is what a rubber leaves of one as much as a tick
    pressed lightly (``fainter_marks``): read as the answer, and flagged."""
    light = values_of(page_of(tmp_path, "pencil", {"k10_04": (2, LIGHT_PENCIL, 1.0)}))["k10_04"]
    assert (light.value, light.needs_review) == ("2", True) and "rubbed out" in light.reason
    assert "light_mark" in light.raw


def test_a_light_tick_stays_faint_without_the_light_hand(tmp_path):
    """The same light tick (measured faint) on a page of firm pen ticks, and a short light stroke (half a tick)
    on a page of a light hand: both flagged as faint."""
    result = page_of(tmp_path, "black", {"k10_04": (2, LIGHT_PENCIL, 1.0)})
    assert values_of(result)["k10_04"].needs_review and "faint" in values_of(result)["k10_04"].reason

    result = page_of(tmp_path, "pencil", {"k10_04": (2, LIGHT_PENCIL, 0.5)})
    short = values_of(result)["k10_04"]
    assert short.needs_review and "faint" in short.reason and "light_mark" not in short.raw


@pytest.mark.parametrize("other", [Mark.MARKED, Mark.FAINT, Mark.FILLED])
def test_a_faint_box_beside_other_ink_stays_faint(other):
    baseline = marks.Baseline(0.0, 0.0)
    faint = BoxMeasure(coverage=0.02, darkness=0.1, contrast=200.0, hole=0.0, weak=0.2)
    empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=200.0, hole=0.0, weak=0.0)
    states = [(Mark.FAINT, 0.3), (other, 0.9), (Mark.EMPTY, 1.0)]
    assert marks.read_light_mark(states, [faint, faint, empty], baseline, own_trace=0.15) == states
    alone = [(Mark.FAINT, 0.3), (Mark.EMPTY, 1.0), (Mark.EMPTY, 1.0)]
    assert marks.read_light_mark(alone, [faint, empty, empty], baseline, own_trace=0.15)[0][0] is Mark.MARKED
    assert marks.read_light_mark(alone, [faint, empty, empty], baseline, own_trace=None) == alone  # too few marks


def test_the_pens_trace_needs_several_lone_marks():
    baseline = marks.Baseline(0.0, 0.01)
    measure = BoxMeasure(coverage=0.1, darkness=0.1, contrast=200.0, hole=0.3, weak=0.21)
    empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=200.0, hole=0.0, weak=0.01)
    field = [(Mark.MARKED, 0.9), (Mark.EMPTY, 1.0)]
    enough = [field] * marks.OWN_MARKS_MIN
    assert marks.own_marks_trace(enough, [[measure, empty]] * len(enough), baseline) == pytest.approx(0.2)
    assert marks.own_marks_trace(enough[1:], [[measure, empty]] * (len(enough) - 1), baseline) is None
    double = [(Mark.MARKED, 0.9), (Mark.MARKED, 0.9)]  # two marks in a row are no lone mark
    assert marks.own_marks_trace([double] * 9, [[measure, measure]] * 9, baseline) is None


# (0.2, 0.18: the edge 0.3 and 0.2 mm into the box's inside, where a shade judged by a 1 mm strip was not)
@pytest.mark.parametrize(("across", "brightness", "edge_mm"), [(0.5, 0.55, 0.0), (0.7, 0.4, 1.0), (0.9, 0.4, 2.0),
                                                               (0.5, 0.7, 0.0), (0.2, 0.45, 0.0), (0.18, 0.4, 0.0)])
def test_a_shadows_edge_across_an_empty_box_is_no_mark(tmp_path, across, brightness, edge_mm):
    """A shadow (``brightness`` of the light) over the left of the page, its edge ``across`` the width of an
    empty box in an empty row, sharp or blurred over ``edge_mm``, on the page of a light hand. Before
    2026-12-03 the first three read as the box's answer, unflagged; the last was faint."""
    def shadow(image: np.ndarray, page: Page) -> None:
        box = option_box(page, "k10_04", 2)
        scale = DPI / 25.4
        shade = np.zeros(image.shape[:2], np.float32)
        shade[:, :int((box.x_mm + across * box.w_mm) * scale)] = 1.0
        if edge_mm:
            shade = cv2.GaussianBlur(shade, (0, 0), edge_mm * scale)
        image[:] = (image * (1 - (1 - brightness) * shade[..., None])).astype(np.uint8)

    result = page_of(tmp_path, "pencil", {"k10_04": (2, PENCIL, 0)}, shadow)
    row = values_of(result)["k10_04"]
    assert row.value == "" and not row.needs_review, row
    assert "light_mark" not in row.raw


def test_a_faint_box_where_the_paper_is_unevenly_lit_stays_faint():
    baseline = marks.Baseline(0.0, 0.0)
    empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=200.0, hole=0.0, weak=0.0)
    alone = [(Mark.FAINT, 0.3), (Mark.EMPTY, 1.0)]
    for step, read_as in ((0.05, Mark.MARKED), (0.2, Mark.FAINT)):
        faint = BoxMeasure(coverage=0.02, darkness=0.1, contrast=200.0, hole=0.0, weak=0.2, paper_step=step)
        assert marks.read_light_mark(alone, [faint, empty], baseline, own_trace=0.15)[0][0] is read_as


def test_a_mark_in_a_box_beside_a_dark_stripe_is_flagged_not_taken_for_shade():
    """A highlighter stripe or a finger over one side of a box's surroundings looks like a shadow's edge,
    whose shaded side is taken for paper: a cross in the box then read as an empty box at confidence 1.0."""
    from formkit.layout.model import Box, ChoiceBox, ChoiceField
    from scanner.resolve import resolve_choice

    px = 8.0
    page = np.full((200, 200), 232, np.uint8)
    boxes = [Box(10 + 10 * k, 10, 5, 5) for k in range(2)]
    for box in boxes:
        cv2.rectangle(page, (int(box.x_mm * px), 80), (int((box.x_mm + 5) * px), 120), 30, 2)
    x0, x1 = 80, 120  # the first box: a cross of pen, and a stripe over its right part and beyond
    page[60:140, x0 + 22:x1 + 30] = (page[60:140, x0 + 22:x1 + 30] * 0.59).astype(np.uint8)
    cv2.line(page, (x0 + 6, 86), (x1 - 6, 114), 120, 3)
    cv2.line(page, (x0 + 6, 114), (x1 - 6, 86), 120, 3)
    measures = [marks.measure_box(page, box, px) for box in boxes]
    states = [marks.classify(m, marks.Baseline(0.0, 0.0)) for m in measures]
    assert states[0][0] is marks.Mark.EMPTY and measures[0].unshaded >= marks.MARKED_FROM  # read as shade
    field = ChoiceField("q", False, tuple(ChoiceBox(str(k + 1), str(k + 1), box) for k, box in enumerate(boxes)))
    value = resolve_choice(field, states, measures)
    assert value.needs_review and "shade, or a mark?" in value.reason and value.raw["shaded"] == ["1"]


def test_a_light_tick_beside_a_ruled_line_is_read(tmp_path):
    """A felt-tip line ruled under the row above runs along the top of the next row's boxes. It darkens one side
    of the paper round them as a shadow's edge would; the tick in one of them was taken for shade and the
    row read blank with full confidence."""
    def ruled(image, page):
        above = option_box(page, "k10_03", 1)
        box = option_box(page, "k10_04", 1)
        y = int((box.y_mm - 1.3) * SCALE)
        start, end = (int((above.x_mm - 60) * SCALE), y), (int((box.x_mm + 70) * SCALE), y)
        cv2.line(image, start, end, (40, 50, 140), max(1, round(0.6 * SCALE)), cv2.LINE_AA)
    values = values_of(page_of(tmp_path, "pencil", {"k10_04": (2, PENCIL, 1.0)}, ruled))
    assert values["k10_04"].value == "2" and not values["k10_04"].needs_review


def test_a_light_tick_above_a_highlighted_row_is_read(tmp_path):
    """A highlighter stripe over the next row, its edge just under this row's boxes: no shadow's edge
    either (the tick was read as shade, the row blank, with full confidence)."""
    def highlighted(image, page):
        box = option_box(page, "k10_05", 1)
        top, bottom = int((box.y_mm - 1.8) * SCALE), int((box.y_mm + box.h_mm + 1.5) * SCALE)
        stripe = image[top:bottom, int((box.x_mm - 50) * SCALE):int((box.x_mm + 70) * SCALE)]
        stripe[...] = (stripe * (np.float32([255, 235, 80]) / 255)).astype(np.uint8)
    values = values_of(page_of(tmp_path, "pencil", {"k10_04": (1, PENCIL, 1.0)}, highlighted))
    assert values["k10_04"].value == "1" and not values["k10_04"].needs_review


@pytest.mark.parametrize("other", [BoxMeasure(0.0, 0.0, 200.0, 0.0, 0.0, covered=True),
                                   BoxMeasure(0.06, 0.1, 200.0, 0.0, 0.1, unshaded=0.06)])
def test_a_lone_fill_beside_a_box_that_may_hide_a_mark_stays_flagged_whatever_the_convention(other):
    """A lone fill is flagged as filled; a respondent who answers by filling has that flag lifted
    (``formkit.conventions``). The other box under a finger, or read as shade though darker ink lies in it,
    was not noted on a value already flagged: the fill would have been accepted with a mark maybe beside it."""
    from formkit.conventions import flagged_otherwise
    from formkit.layout.model import ChoiceBox, ChoiceField
    from scanner.resolve import resolve_choice

    boxes = [Box(10 + 10 * k, 10, 5, 5) for k in range(2)]
    field = ChoiceField("q", False, tuple(ChoiceBox(str(k + 1), str(k + 1), box) for k, box in enumerate(boxes)))
    fill = BoxMeasure(0.97, 0.9, 200.0, 0.0, 0.98)
    value = resolve_choice(field, [(Mark.FILLED, 0.9), (Mark.EMPTY, 1.0)], [fill, other])
    assert value.needs_review and value.raw.get("covered", value.raw.get("shaded")) == ["2"]
    assert flagged_otherwise(value.raw)


def test_the_standard_librarys_median_is_numpys():
    """``statistics.median`` stands in for ``np.median`` where a page calls it some thirty times (for NumPy's
    cost a call): the same number for odd and even counts, Python floats and float32 scalars (their middle two
    added in float32, as NumPy's mean adds them), ties and one value."""
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 4, 5, 12, 13, 40]:
        for _ in range(50):
            floats = rng.normal(0, 50, n).tolist()
            singles = list(rng.uniform(0, 1, n).astype(np.float32))
            ties = rng.integers(0, 3, n).astype(float).tolist()
            for values in (floats, singles, ties):
                assert float(statistics.median(values)) == float(np.median(values))


def test_a_fields_boxes_measure_alike_with_their_references_given_or_counted():
    """``measure_boxes`` takes the references the reading counted once for the field (and ``overlaid`` uses):
    the same measures as counting them itself."""
    page = np.full((400, 600), 235, np.uint8)
    boxes = [Box(5 + 9 * k, 10, 5, 5) for k in range(5)]
    for box in boxes:
        x0, y0, x1, y1 = (round(v * 8) for v in (box.x_mm, box.y_mm, box.x_mm + box.w_mm, box.y_mm + box.h_mm))
        cv2.rectangle(page, (x0, y0), (x1, y1), 40, 2)
    cv2.line(page, (9 * 8 + 48, 88), (9 * 8 + 80, 120), 30, 3)  # a tick in the second box
    references = marks.boxes_references(page, boxes)
    assert marks.measure_boxes(page, boxes, references=references) == marks.measure_boxes(page, boxes)
    assert marks.measure_boxes(page, boxes)[1].coverage > marks.measure_boxes(page, boxes)[0].coverage


def test_what_a_rubber_leaves_of_a_mark_is_not_taken_for_a_light_mark():
    """A mark rubbed out and the row left blank: its remains traced 0.153 of the box where this person's marks
    traced 0.279 (55 %), over the half the rule took for the same pen pressed lightly, and the row read as the
    rubbed-out answer, unflagged (an adversarial pass: 4 of 38 such rows). A light mark needs 60 % now; the
    light ticks the rule was made for trace 0.11-0.28 where the same person's marks trace 0.11-0.2."""
    baseline = marks.Baseline(0.0, 0.0)
    empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=200.0, hole=0.0, weak=0.0)
    alone = [(Mark.FAINT, 0.3), (Mark.EMPTY, 1.0), (Mark.EMPTY, 1.0)]
    remains = BoxMeasure(coverage=0.01, darkness=0.05, contrast=200.0, hole=0.0, weak=0.153)
    assert marks.read_light_mark(alone, [remains, empty, empty], baseline, own_trace=0.279) == alone
    light_tick = BoxMeasure(coverage=0.01, darkness=0.05, contrast=200.0, hole=0.0, weak=0.12)
    assert marks.read_light_mark(alone, [light_tick, empty, empty], baseline, own_trace=0.2)[0][0] is Mark.MARKED


@pytest.mark.parametrize(("shaded_share", "brightness", "colour"), [(0.3, 0.3, PENCIL), (0.3, 0.4, LIGHT_PENCIL),
                                                                    (0.3, 0.5, PENCIL)])
def test_a_tick_beside_a_dark_shadows_edge_across_its_box_is_not_read_as_blank(tmp_path, shaded_share, brightness,
                                                                               colour):
    """A dark shadow (``brightness`` of the light) over the page above a line ``shaded_share`` down a ticked
    box. The box was measured against the shaded paper, which the pencil tick in its lit part is lighter
    than: the row read blank at confidence 1.0 until 2026-12-07 (2 of 60 pencil ticks so, 50-65 % dark)."""
    def shadow(image: np.ndarray, page: Page) -> None:
        box = option_box(page, "k10_04", 3)
        shade = np.zeros(image.shape[:2], np.float32)
        shade[:int((box.y_mm + shaded_share * box.h_mm) * SCALE)] = 1.0
        shade = cv2.GaussianBlur(shade, (0, 0), 2.0)
        image[:] = (image * (1 - (1 - brightness) * shade[..., None])).astype(np.uint8)

    row = values_of(page_of(tmp_path, "black", {"k10_04": (3, colour, 1.0)}, shadow))["k10_04"]
    assert row.value == "3" or row.needs_review, row
