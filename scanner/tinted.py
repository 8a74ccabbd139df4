"""A box shaded evenly all over, in a row read blank: a highlighter stroke over the answer, seen in a grey scan.

An office scanner's greyscale mode keeps brightness, not the darkest colour channel that ``ingest`` would take
from a colour image, and a yellow or green highlighter's tint is then 0.08-0.24 of a box's paper-to-border
contrast: under ``marks.WEAK_LEVEL`` in every pixel, so the box measured empty and the row read blank at 1.0 (a
find-only pass, 2026-12-07: yellow 11 of 11 rows, green 10 of 11, pink 3 of 10; a whole K10 page read blank).
Such a box is darker than its row's other boxes all over, not in strokes: its 10th percentile of darkness is
``TINT_P10`` or more, where each other box of the row has at most ``CLEAN_SHARE`` of its inside ``TINT_LEVEL``
dark or darker. Measured 2026-12-07 (a helper, grey scans of highlighted boxes against 180 rows read blank on 20
pages each of nine capture and desk conditions): highlighted boxes 0.072-0.214 at the 10th percentile, all of
their inside at 0.04 or darker, the other boxes at most 2 % of theirs; bleed-through and a thumb's shade reach a
mean darkness of 0.146 and 0.109 but a 10th percentile of 0.026 and 0.02, and a photo's shade darkens the box
beside too (92 % of it). A highlighter drawn along the row tints several boxes and is left alone.

Darkness is as ``marks.measure_box`` scales it: 0 at the paper round the box, 1 at its printed border
(``marks.boxes_references``). Pixels are those of the registered page (``px_per_mm``, 8 after
``register.warp_page``).
"""

from __future__ import annotations

import numpy as np

from formkit.layout.model import Box, ChoiceField
from formkit.records import FieldValue

from .marks import INNER_INSET_MM, LEAST_CONTRAST, BoxMeasure
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

TINT_P10 = 0.05  # the box's 10th percentile of darkness: tinted all over
TINT_LEVEL = 0.04  # a pixel this dark, or darker, is tinted
CLEAN_SHARE = 0.1  # of another box's inside, tinted at most: the highlighter is on one box, not along the row


def flag_tinted_boxes(page: np.ndarray, fields: list[ChoiceField], values: list[FieldValue],
                      boxes: dict[str, list[Box]], measures: dict[str, list[BoxMeasure]],
                      references: dict[str, list[tuple[float, float]]], px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged value of ``fields`` read blank in which exactly one box is tinted
    (``tinted_box``). ``boxes``, ``measures``, ``references``: per field id, its boxes where found, their
    ``marks.BoxMeasure`` and (paper white, border black) grey levels, as the page was read."""
    for f, value in zip(fields, values, strict=True):
        if value.needs_review or value.value:
            continue
        k = tinted_box(page, boxes[f.id], measures[f.id], references[f.id], px_per_mm)
        if k is not None:
            value.raw["tinted"] = str(f.options[k].value)
            flag_for_review(value, f"no box is marked, but box {f.options[k].value} is shaded all over, as by a "
                                   "highlighter: the answer?")


def tinted_box(page: np.ndarray, boxes: list[Box], measures: list[BoxMeasure], references: list[tuple[float, float]],
               px_per_mm: float = WARP_PX_PER_MM) -> int | None:
    """Which of one row's ``boxes`` alone is tinted all over (see the module's text), or ``None``. Only a box
    whose mean darkness (``BoxMeasure.darkness``) reaches ``TINT_P10`` is looked at closely: most rows have none."""
    candidates = [k for k, m in enumerate(measures) if m.darkness >= TINT_P10]
    if len(candidates) != 1 or len(boxes) < 2:
        return None
    k = candidates[0]
    if np.percentile(_darkness(page, boxes[k], references[k], px_per_mm), 10) < TINT_P10:
        return None
    for j, box in enumerate(boxes):
        if j != k and np.mean(_darkness(page, box, references[j], px_per_mm) >= TINT_LEVEL) > CLEAN_SHARE:
            return None
    return k


def _darkness(page: np.ndarray, box: Box, reference: tuple[float, float], px_per_mm: float) -> np.ndarray:
    """The inside of ``box`` (as ``marks.measure_box`` reads it) as darkness: 0 at the paper, 1 at the border."""
    white, black = reference
    inner = page[box_slices(box, -INNER_INSET_MM, page.shape, px_per_mm)].astype(np.float32)
    return np.clip((white - inner) / max(white - black, LEAST_CONTRAST), 0.0, 1.0)
