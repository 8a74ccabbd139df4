"""A row read blank whose one or two boxes hold strokes lighter than a trace of ink: ticks in light pencil. Ticks
at grey 190-200 on white paper lie under ``marks.WEAK_LEVEL`` (a quarter of the paper-to-border contrast), and
a row ticked so read blank at confidence 1.0, unflagged (a find-only pass, 2026-12-07: from 2 of 185 fields at
grey 190 to 118 at 200, a whole page read unanswered). Their boxes' mean darkness overlaps what a crumpled
photo's shading leaves in an empty box, so strokes are looked for instead: ink darker than the paper it lies on
(a closing over ``ink.STROKE_MAX_MM``, which follows shading and steps) in pieces a stroke's length."""

from __future__ import annotations

import cv2
import numpy as np

from formkit.layout.model import Box
from formkit.records import FieldValue

from .ink import STROKE_MAX_MM, closed_paper
from .marks import INNER_INSET_MM, LEAST_CONTRAST, LOW_RES_PX_PER_MM, BoxMeasure, Mark
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

LIGHT_LEVEL = 0.1  # of the box's contrast, darker than the closed paper: a pencil tick at grey 200 is 0.2-0.25
CLEAR_OF_BORDER_MM = 0.3  # further in than the inside ``marks`` reads: a blurred border's fringe is no stroke
STROKE_LONG_MM = 1.5  # the least extent of a piece that counts: a tick's arm, not a speck of noise or grain
LIGHT_TICK_MM2 = 0.4  # of such pieces in the box: a 0.25 mm stroke 1.6 mm long
MOST_LIT = 2  # boxes of a row
# In an A4 page's 2-3 MP photo (2-3.5 px/mm) JPEG's ringing and the blur of the print left such strokes in 13 of
# the empty rows of scan_accuracy.py's 2-3 MP conditions (20 pages each), none at 7 MP and over or in scans; and
# a light pencil tick that small is mostly blurred away
LEAST_SOURCE_PX_PER_MM = LOW_RES_PX_PER_MM
RAW_LIGHT_TICK = "light_tick"


def flag_light_ticks(page: np.ndarray, values: list[FieldValue], states: list[list[tuple[Mark, float]]],
                     measures: list[list[BoxMeasure]], boxes: list[list[Box]], source_px_per_mm: float,
                     px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag each choice value, in place, read blank and unflagged with every box empty, where one or two of its
    boxes (``MOST_LIT``) hold ``LIGHT_TICK_MM2`` of light strokes (``light_strokes_mm2``) and the others under
    half as much. ``page``: the registered page; the other arguments, one item a field, in one order: its
    value, its boxes' states and measures, and where its boxes were found. Not where the image had under
    ``LEAST_SOURCE_PX_PER_MM`` (``source_px_per_mm``)."""
    if source_px_per_mm < LEAST_SOURCE_PX_PER_MM:
        return
    for value, field_states, field_measures, field_boxes in zip(values, states, measures, boxes, strict=True):
        if value.value or value.needs_review or any(state is not Mark.EMPTY for state, _ in field_states):
            continue
        strokes = [light_strokes_mm2(page, box, m.contrast, px_per_mm)
                   for box, m in zip(field_boxes, field_measures, strict=True)]
        lit = [k for k, mm2 in enumerate(strokes) if mm2 >= LIGHT_TICK_MM2]
        unlit = [mm2 for k, mm2 in enumerate(strokes) if k not in lit]
        # one box or two (two light ticks, a double mark), not a row's worth: what crosses every box of a row is
        # a crease or the paper's grain, not a person's mark
        if lit and len(lit) <= MOST_LIT and unlit and max(unlit) < LIGHT_TICK_MM2 / 2:
            value.raw[RAW_LIGHT_TICK] = [round(mm2, 2) for mm2 in strokes]
            options = value.raw.get("options") or [str(k + 1) for k in range(len(strokes))]
            flag_for_review(value, f"a very light stroke in option(s) {', '.join(options[k] for k in lit)}: a light "
                                   "pencil tick, or blank?")


def light_strokes_mm2(page: np.ndarray, box: Box, contrast: float, px_per_mm: float = WARP_PX_PER_MM) -> float:
    """The area, mm², of the strokes inside ``box`` (clear of its border) darker by ``LIGHT_LEVEL`` of
    ``contrast`` (grey levels, paper to border) than the paper they lie on, in pieces ``STROKE_LONG_MM`` long
    or more."""
    window = page[box_slices(box, 0.0, page.shape, px_per_mm)]
    inset = int(round((INNER_INSET_MM + CLEAR_OF_BORDER_MM) * px_per_mm))
    if min(window.shape) <= 2 * inset + 2:
        return 0.0
    paper = closed_paper(window, STROKE_MAX_MM, px_per_mm).astype(np.int16)
    # as ``marks.measure_box`` takes it: a washed-out box's contrast (or none) would make any grain a stroke
    light = (paper - window.astype(np.int16)) > LIGHT_LEVEL * max(contrast, LEAST_CONTRAST)
    inside = light[inset:-inset, inset:-inset].astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
    long_px = STROKE_LONG_MM * px_per_mm
    kept = [stats[k, cv2.CC_STAT_AREA] for k in range(1, count)
            if max(stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT]) >= long_px]
    return float(sum(kept)) / px_per_mm ** 2
