"""Print faded in part of a page that arrived black and white: a mark there may have been dropped whole.

A copier low on toner fades its black in bands down the page; a 1-bit copy (or a scanner's black-and-white
mode) then thresholds what is left. In the band the printed borders come out thin and broken, and a mark as
faint as the print or fainter is gone: nothing of it is left to measure, so the box reads empty and sure of
it. An adversarial pass (2026-12-07, a filled page copied with one band faded to 40-70 % of its black, then
as a 1-bit copy, 40 pages) read 3 of 286 fields so without a flag: two rows blank where a tick and a scribble
had been, and a double mark as one answer.

How much print a box shows is the dark pixels within ``washout.PARTLY_HIDDEN_REACH_MM`` of its outline per
pixel of outline, against the page's other boxes of its kind and size (a digit comb's shared borders show
more than a choice box's). Only on black-and-white pages: in a grey image a faded band keeps its marks
(its fields were read without a silent error on the same 40 pages scanned in grey).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, Field
from formkit.records import RAW_WHITED_OUT, FieldValue

from . import marks
from .register import WARP_PX_PER_MM
from .resolve import flag_for_review
from .washout import FieldPrint, outline_strips

# Of the print the page's other boxes of that kind and size show. Measured 2026-12-07 on 120 pages, 30 each of
# three black-and-white conditions of scan_accuracy.py and of copies on coloured paper: no box under 0.75 but two
# on one scanner app's page, both in fields flagged already for something else (0.698, 0.731); the boxes in a
# band faded to 40-70 % and copied 1-bit, 0.12-0.68, the three read wrongly 0.60-0.68.
FADED_SHARE = 0.7
# boxes that faded on one page: a band crosses a column of rows, and one thin box alone is not a band
FADED_MIN_BOXES = 2
# boxes of one kind and size to take their own median from; fewer are judged against all the page's boxes
MIN_LIKE_BOXES = 5
RAW_FADED = "faded_print"


def flag_faded_print(page: np.ndarray, fields: list[Field], values: list[FieldValue],
                     prints: Mapping[str, FieldPrint], px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each value of ``values`` (choice, digit and date fields of ``fields``) with a box not
    showing a mark whose print is under ``FADED_SHARE`` of what like boxes on the page show, where at least
    ``FADED_MIN_BOXES`` boxes are. ``page``: the registered page of a black-and-white image; ``prints``: each
    field's print as ``washout.flag_washed_out`` looked at it (its boxes where found, their paper and contrast,
    which show a mark). The faded boxes are kept in ``raw["faded_print"]`` (option values, or box numbers from
    1)."""
    by_id = {f.id: f for f in fields}
    looked_at = [(v, prints[v.field]) for v in values
                 if isinstance(by_id.get(v.field), ChoiceField | BoxesField) and v.field in prints]
    shown = [[_print_shown(page, part, white, contrast, px_per_mm)
              for part, (white, contrast) in zip(p.parts, p.references, strict=True)] for _, p in looked_at]
    kinds = [[(type(by_id[v.field]), round(part.w_mm, 1), round(part.h_mm, 1)) for part in p.parts]
             for v, p in looked_at]
    references = _references([k for field_kinds in kinds for k in field_kinds],
                             [s for field_shown in shown for s in field_shown])
    # a box under the person's own correction fluid or tape (``whiteout``) shows no print for that reason
    faded = [[name for name, marked, s, kind in zip(p.names, p.shows_mark, field_shown, field_kinds, strict=True)
              if not marked and s < FADED_SHARE * references[kind] and name not in v.raw.get(RAW_WHITED_OUT, ())]
             for (v, p), field_shown, field_kinds in zip(looked_at, shown, kinds, strict=True)]
    if sum(len(names) for names in faded) < FADED_MIN_BOXES:
        return
    for (value, p), names in zip(looked_at, faded, strict=True):
        if names:
            value.raw[RAW_FADED] = names
            if not value.needs_review:
                flag_for_review(value, _reason(p, names))


def _reason(p: FieldPrint, names: list[str]) -> str:
    return (f"the print of {p.where} {', '.join(names)}{p.unit} is faded and broken (a copy low on toner?): a mark "
            "there may have been lost")


def _print_shown(page: np.ndarray, part: Box, white: float, contrast: float, px_per_mm: float) -> float:
    """Pixels darker than half way from ``white`` to the print (at least ``marks.LEAST_CONTRAST`` grey levels
    under it) within reach of ``part``'s outline, per pixel of outline."""
    level = white - 0.5 * max(contrast, marks.LEAST_CONTRAST)
    strips = [strip for strip, _ in outline_strips(page, part, px_per_mm)]
    length = sum(strip.shape[1] for strip in strips)
    return sum(int(np.count_nonzero(strip < level)) for strip in strips) / length if length else 0.0


def _references(kinds: list[tuple], shown: list[float]) -> dict[tuple, float]:
    """Per kind of box (field type, width, height): the median print its boxes on the page show, or all the
    page's boxes' where it has fewer than ``MIN_LIKE_BOXES``."""
    by_kind: dict[tuple, list[float]] = {}
    for kind, s in zip(kinds, shown, strict=True):
        by_kind.setdefault(kind, []).append(s)
    overall = statistics.median(shown) if shown else 0.0
    return {kind: statistics.median(values) if len(values) >= MIN_LIKE_BOXES else overall
            for kind, values in by_kind.items()}
