"""Print washed out by glare or over-exposure: where a photo clips the paper to white, light marks go too.

Light added to part of a photo (a lamp reflected by the page, a bright window) lifts paper, print and ink
alike. Where the paper reaches the sensor's white it clips, and so does any mark lighter than the light
added: the box reads empty, and is sure of it. The printed border, being dark, is lifted but stays, so its
contrast (paper white minus border black) falls under that of the rest of the page. Where the paper
is clipped and the border keeps a share r of the page's contrast, a mark shows as a trace only if it is
darker than 1 - 0.75 r of the page's contrast (``marks.WEAK_LEVEL`` of what is left above the clipped part),
against 0.25 where nothing is clipped: at r = 0.8, a pencil tick of 0.4 is gone.

Measured 2026-12-03 (synthetic pages of the shipped forms, docs/benchmarks.md "Glare"): flatbed scans clip
their paper (every box's ring at 250 or more) but keep each box's and line's contrast at 0.93 or more of the
unlit print (30 pages, flat and crumpled); photos over-exposed 1.25-1.5 times clip 89 % of boxes, at 0.85 or
more (30 photos); photos without glare, flat, crumpled, bent, dim, blurred by motion or at a steep angle, clip
none. 100 benchmark photos with a glare spot: 5 fields read wrong without a flag before (each a mark in the
glare read as no mark), none after.
"""

from __future__ import annotations

import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, Field, LineField
from formkit.records import FieldValue

from . import marks
from .register import WARP_PX_PER_MM
from .resolve import flag_for_review

CLIPPED_WHITE = 250.0  # grey level: paper this light may have been clipped
WASHED_OUT_SHARE = 0.8  # of the page's contrast; under it, on clipped paper, a pencil mark may be gone
SEEN_MARKS = ("marked", "filled", "heavy")  # box states whose mark shows despite the glare
UNLIT_PERCENTILE = 75  # of the page's boxes' contrast: glare may lift the print of half a page
MARK_MARGIN = 0.8  # a box where marks this much lighter than the person's lightest could vanish is flagged
LINE_PIECE_MM = 10.0  # a line is looked at this much at a time: glare may wash out a part of it


def washed_out(white: float, contrast: float, page_contrast: float | None, lightest_peak: float | None = None
               ) -> bool:
    """Whether a box whose ring of paper is ``white`` and whose printed border is ``contrast`` grey levels
    darker than it may have lost a mark: its paper clipped (``CLIPPED_WHITE``), its contrast under
    ``WASHED_OUT_SHARE`` of ``page_contrast`` (the page's print where no glare lifts it), and, where the
    person's lightest mark on the page is known (``lightest_peak``, as ``lightest_mark`` gives it), a mark
    ``MARK_MARGIN`` of that dark would be gone. Never without a page contrast."""
    if not page_contrast or white < CLIPPED_WHITE or contrast >= WASHED_OUT_SHARE * page_contrast:
        return False
    return lightest_peak is None or vanishing_darkness(contrast / page_contrast) >= MARK_MARGIN * lightest_peak


def vanishing_darkness(share: float) -> float:
    """How dark a mark (a share of the page's contrast) may be and still leave no trace where clipping
    leaves the print ``share`` of the page's contrast: 1 - 0.75 ``share`` (``marks.WEAK_LEVEL``)."""
    return 1.0 - (1.0 - marks.WEAK_LEVEL) * share


def flag_washed_out(page: np.ndarray, fields: list[Field], values: list[FieldValue],
                    choice_measures: dict[str, list[marks.BoxMeasure]], px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each value of ``values`` whose field has a washed-out box where a mark may be lost:
    a choice box that reads empty or faint, any digit or date box, any part of a visual-analogue line (a
    second mark there would not show). Not free-text areas: their frames are printed grey and thin, as
    faint in a sharp scan as a box's outline under glare. ``page``: the registered page;
    ``choice_measures``: each choice field's boxes as measured (``marks.measure_box``). Each box is judged
    against the print's contrast where no glare lifts it: the upper quartile (``UNLIT_PERCENTILE``) of the
    empty choice boxes' contrast, or of the digit boxes' and the lines' on a page without. What is washed out is
    kept in the value's ``raw["washed_out"]`` (option values, box numbers from 1, or the stretches of a
    line, mm from its start)."""
    by_id = {f.id: f for f in fields}
    printed: dict[str, list[tuple[float, float]]] = {}  # (paper white, contrast) of each digit box, line piece
    for value in values:
        f = by_id.get(value.field)
        if isinstance(f, BoxesField):
            printed[f.id] = [_references(page, marks.moved(box, offset), px_per_mm) for box, offset
                             in zip(f.boxes, marks.recorded_offsets(value.raw, len(f.boxes)), strict=True)]
        elif isinstance(f, LineField):
            printed[f.id] = [_references(page, piece, px_per_mm) for piece in _line_pieces(f)]
    choice_boxes = [(m, state) for v in values if v.field in choice_measures
                    for m, state in zip(choice_measures[v.field], v.raw["states"], strict=True)]
    # the empty boxes' print: a stroke across a marked box's border darkens it
    contrasts = [m.contrast for m, state in choice_boxes if state == "empty"] or \
        [c for references in printed.values() for _, c in references]
    page_contrast = float(np.percentile(contrasts, UNLIT_PERCENTILE)) if contrasts else None
    lightest = lightest_mark(choice_boxes, page_contrast)
    for value in values:
        f = by_id.get(value.field)
        if isinstance(f, ChoiceField):
            states = zip(f.options, choice_measures[f.id], value.raw["states"], strict=True)
            lost = [str(o.value) for o, m, state in states
                    if state not in SEEN_MARKS and washed_out(m.white, m.contrast, page_contrast, lightest)]
            where = f"option(s) {', '.join(lost)}"
        elif isinstance(f, BoxesField | LineField):
            washed = [k for k, references in enumerate(printed[f.id])
                      if washed_out(*references, page_contrast, lightest)]
            if isinstance(f, BoxesField):
                lost = [str(k + 1) for k in washed]
                where = f"box(es) {', '.join(lost)}"
            else:
                lost = [f"{k * _piece_mm(f):.0f}-{(k + 1) * _piece_mm(f):.0f}" for k in washed]
                where = f"the line at {', '.join(lost)} mm from its start"
        else:
            continue
        if lost:
            value.raw["washed_out"] = lost
            flag_for_review(value, f"glare or over-exposure washes out {where}: a light mark there would not show")


def lightest_mark(choice_boxes: list[tuple[marks.BoxMeasure, str]], page_contrast: float | None) -> float | None:
    """The ``peak`` darkness of the lightest tick or cross (a box read as marked) among the page's
    ``choice_boxes`` (measure, state), the person's lightest pen or pressure; ``None`` without one. Boxes
    that may be washed out are left out: their darkness is measured against what clipping left of the print."""
    peaks = [m.peak for m, state in choice_boxes
             if state == "marked" and not washed_out(m.white, m.contrast, page_contrast)]
    return min(peaks) if peaks else None


def _references(page: np.ndarray, box: Box, px_per_mm: float) -> tuple[float, float]:
    """(paper white, contrast): the paper around ``box`` and how much darker its printed outline is."""
    white, black = marks.local_references(page, box, px_per_mm)
    return white, white - black


def _piece_mm(f: LineField) -> float:
    """The length of each of ``_line_pieces``: about ``LINE_PIECE_MM``, the line cut evenly."""
    length = f.x2_mm - f.x1_mm
    return length / max(1, round(length / LINE_PIECE_MM))


def _line_pieces(f: LineField) -> list[Box]:
    """The printed line cut into pieces of ``_piece_mm``, each as a box of no height on the line: its
    outline is the line."""
    step = _piece_mm(f)
    return [Box(f.x1_mm + k * step, f.y1_mm, step, 0.0) for k in range(round((f.x2_mm - f.x1_mm) / step))]
