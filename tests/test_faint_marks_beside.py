"""Faint pencil beside a blank row or astride two rows: a mark whose core alone is as dark as ink is looked at
again with fainter ink. Before 2026-12-08 these rows (unusual_marks.py's own pages, 2026-12-08: *beside* in a 12 MP
photo, *rows* in 3 MP photos) read blank, or as the other row's mark, at full confidence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from formkit.records import PageResult
from scanner.between_rows import RAW_BETWEEN_ROWS
from scanner.pipeline import read_page

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
unusual_marks = pytest.importorskip("unusual_marks")


def _read(style: str, condition: str, seed: int) -> tuple[dict, dict]:
    grey, truth, _ = unusual_marks.make_page(style, condition, seed)
    result = read_page(grey, PageResult("test", 1, "", ""))
    assert result.status == "read", result.reason
    return {v.field: v for v in result.values}, truth


def test_a_pencil_tick_beside_a_blank_row_in_a_dim_photo_is_flagged():
    """A pencil tick 1-2 mm left of an alliance check's box 5 in a dim 12 MP photo: 0.69 mm² of it as dark as ink
    (the least flagged is 0.75), 2.2 mm² looked at again fainter."""
    values, truth = _read("beside", "photo12", 1)
    row = values["ac_06"]
    assert truth["ac_06"] == "5" and row.value == "" and row.needs_review, row
    assert row.raw["beside"]["nearest"] == "5", row.raw


@pytest.mark.parametrize(("seed", "field"), [(1, "ac_12"), (9, "k10_05")])
def test_a_pencil_mark_astride_two_rows_in_a_3_mp_photo_is_flagged(seed, field):
    """A pencil tick or cross half a row off, blurred in a 3 MP photo: its core astride the gap, the rest fainter
    than ink. Both rows are flagged, whatever they read."""
    values, _ = _read("rows", "photo3", seed)
    assert values[field].needs_review and RAW_BETWEEN_ROWS in values[field].raw, values[field]

