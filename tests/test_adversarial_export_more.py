"""An adversarial pass over ``formkit export``: each test here failed before the fix it names."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode, InputError
from formkit.export import export
from formkit.serial import new_serial
from formkit_cli import main

SERIALS = [new_serial(random.Random(seed)) for seed in range(1, 6)]


def cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def value_row(serial: str, field: str, kind: str, value: str, form: str = "k10", version: int = 1,
              page_id: int = 1, review: bool = False) -> dict[str, Any]:
    """One row as ``Store.values()`` gives it: a value of a page read."""
    return {"page_id": page_id, "status": "read", "form": form, "version": version, "variant": "N", "form_page": 1,
            "serial": serial, "conflict_of": None, "source_file": f"/scans/{page_id}.png", "source_page": 1,
            "field": field, "kind": kind, "value": value, "confidence": 0.9, "needs_review": int(review),
            "reason": "unsure" if review else "", "review": "", "reviewed_by": ""}


def k10_rows(serial: str, answer: str, version: int = 1, page_id: int = 1) -> list[dict[str, Any]]:
    return [value_row(serial, f"k10_{i:02d}", "choice", answer, version=version, page_id=page_id)
            for i in range(1, 11)]


def goal_card_rows(serial: str) -> list[dict[str, Any]]:
    return [value_row(serial, "goal", "text", "Walk to the shop", form="goal-card"),
            value_row(serial, "progress_1", "choice", "4", form="goal-card")]


# 1. --bands for a score that has no bands ------------------------------------------------------------------

def test_bands_for_a_score_without_band_sets_is_refused_not_ignored(tmp_path):
    # progress_latest has no band sets: asking for some changed nothing, and nothing said so
    with pytest.raises(InputError, match="progress_latest"):
        export(goal_card_rows(SERIALS[0]), tmp_path / "out", band_choice={"progress_latest": "four-level"})
    assert not (tmp_path / "out").exists()


def test_bands_for_a_score_without_band_sets_exits_5_on_the_command_line(tmp_path):
    from formkit.records import FieldValue
    from tests.test_export_leftovers import make_store

    db = make_store(tmp_path / "s.sqlite", [("goal-card", 1, [FieldValue("progress_1", "choice", "4", 0.99, False)])])
    result = cli("export", "--db", db, "--out", tmp_path / "out", "--bands", "progress_latest=four-level")
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "progress_latest" in result.output + result.stderr
    assert not (tmp_path / "out").exists()
