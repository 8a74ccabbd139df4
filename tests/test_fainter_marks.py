"""A mark far fainter than the person's other marks on the page goes to review: what a rubber leaves of a tick
reads as a light tick, and a row left blank after it was read as the answer taken back. Marks of one pen,
one a little lighter than the rest, are read as before."""

from __future__ import annotations

import random

import numpy as np
import pytest

from formkit.layout import build_layout
from formkit.template import resolve_template
from scanner.fainter_marks import FAINTER_SHARE, flag_fainter_marks
from scanner.marks import BoxMeasure, Mark
from tests.synthetic import degrade_scan, draw_mark
from tests.test_light_marks import values_of
from tests.test_scan import DPI, option_box, printed, read

K10 = build_layout(resolve_template("k10")).pages[0]


def k10_page(tmp_path, rubbed: dict[str, tuple[int, float]], pen: str = "black", seed: int = 4):
    """A K10 page ticked in ``pen``, one box a row; each row of ``rubbed`` (value, share of the ink left) ticked
    in the same pen, then rubbed out so: the ink fades towards the paper, its strokes where they were."""
    image = printed("k10", tmp_path, seed=3)[0][0]
    rng = random.Random(seed)
    for k in range(1, 11):
        field = f"k10_{k:02d}"
        value, left = rubbed.get(field, (1 + k % 5, 1.0))
        before = image.copy()
        draw_mark(image, DPI, option_box(K10, field, value), rng.choice(["tick", "cross"]), rng, pen)
        if left < 1.0:
            faded = before.astype(np.float32) + (image.astype(np.float32) - before) * left
            image[:] = np.clip(faded, 0, 255).astype(np.uint8)
    return values_of(read(degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)))


@pytest.mark.parametrize(("pen", "left"), [("black", 0.3), ("black", 0.35), ("blue", 0.3)])
def test_what_a_rubber_left_of_a_tick_is_not_taken_for_the_answer_unseen(tmp_path, pen, left):
    """Ticks rubbed out to 30-35 % of their ink, rows left blank: read as those answers at confidence 0.8-1.0,
    unflagged (an adversarial pass, 2026-12-07)."""
    values = k10_page(tmp_path, {"k10_03": (4, left), "k10_07": (1, left)}, pen)
    for field in ("k10_03", "k10_07"):
        assert values[field].needs_review, (field, values[field].value, values[field].confidence)
        if values[field].value:  # read as the tick it was: the reason says why it is in doubt
            assert "rubbed out" in values[field].reason
            assert values[field].raw["fainter"]["peak"] < FAINTER_SHARE * values[field].raw["fainter"]["others"]
    for k in (1, 2, 4, 5, 6, 8, 9, 10):
        assert not values[f"k10_{k:02d}"].needs_review, values[f"k10_{k:02d}"].reason


@pytest.mark.parametrize("pen", ["black", "blue", "pencil"])
def test_marks_of_one_pen_a_little_lighter_than_the_rest_are_read_as_before(tmp_path, pen):
    values = k10_page(tmp_path, {"k10_03": (4, 0.85), "k10_07": (1, 0.9)}, pen)
    for k in range(1, 11):
        value = values[f"k10_{k:02d}"]
        assert not value.needs_review and "fainter" not in value.raw, (k, value.reason)
    assert (values["k10_03"].value, values["k10_07"].value) == ("4", "1")


def test_the_person_s_marks_are_judged_from_the_other_fields_with_a_mark():
    """A mark alone on its page is not judged; beside one other field's mark or more, it is, by their median."""
    from formkit.records import FieldValue

    def field(peak: float) -> tuple[FieldValue, list[tuple[Mark, float]], list[BoxMeasure]]:
        measure = BoxMeasure(coverage=0.1, darkness=0.1, contrast=200.0, hole=0.3, weak=0.2, peak=peak)
        empty = BoxMeasure(coverage=0.0, darkness=0.0, contrast=200.0, hole=0.0, weak=0.0)
        return FieldValue("f", "choice", "1", 1.0, False), [(Mark.MARKED, 1.0), (Mark.EMPTY, 1.0)], [measure, empty]

    def flagged(peaks: list[float]) -> list[bool]:
        fields = [field(p) for p in peaks]
        flag_fainter_marks([v for v, _, _ in fields], [s for _, s, _ in fields], [m for _, _, m in fields])
        return [v.needs_review for v, _, _ in fields]

    assert flagged([0.4]) == [False]
    assert flagged([0.4, 1.0]) == [True, False]
    assert flagged([0.4, 1.0, 0.9]) == [True, False, False]
    assert flagged([0.6, 0.3, 0.9]) == [False, True, False]  # 0.3 of 0.75: far fainter
    assert flagged([0.6, 0.8, 0.9]) == [False, False, False]  # 0.6 of 0.85: not far fainter
