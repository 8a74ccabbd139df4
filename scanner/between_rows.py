"""A tick or a cross placed half a row off: astride the gap between a single-choice row's box and the box in the
same column of the next row, above or below. Its ink was given to the nearer row, what lay inside a box counted
as that box's mark, and the row meant read blank, or the other row read the mark, with no flag (unusual_marks'
*rows*, 2026-12-07: 346 of 1,392 fields silent on K10, alliance-check and goal-card pages, scans, 1-bit copies and
3-12 MP photos).

Nobody can tell which of the two rows such a mark answers, so both rows go to review. A mark is astride when, of
one piece of handwriting in the column of two boxes one above the other (less than ``GAP_MOST_MM`` apart), the
middle of its ink within the column lies ``ASTRIDE_SHARE`` or more of the way from either box's centre towards
the other's. A person's own tick or cross is drawn round its box's centre: its ink's middle lies within 0.8 mm
of it even when its arm runs out over the border (a tenth of the way to the next row on a K10, whose boxes'
centres lie 7.4 mm apart; on 24 300 dpi scans and 30 3 MP photos of respondents' ticks, crosses, dots, slashes and
fills, 0.05 at most); a long tick's tail leaves the column sideways, and only its ink within the column counts.
Two marks, one in each box, joined by the blur between them, have almost none of their ink in the gap
(``GAP_SHARE``). A goal card's option numbers lie in the gap, left out with the print: when a row reads blank, the
ink written on them (``overprint.written_on``) counts too.

A quick count of dark pixels in the band between two rows spares the rest where it is empty (1.3-1.5 ms a page of
ticks, 2026-12-07).

Measured 2026-12-07 (unusual_marks *rows*, 40 pages a capture, 348 fields each): silent 84 -> 0 on 300 dpi scans,
80 -> 1 on 1-bit copies, 90 -> 31 on 3 MP photos, 92 -> 2 on 12 MP photos. Left: pencil blurred in a 3 MP photo
(28 of the 31) is fainter than ``INK_CONTRAST``; looked for at 0.12 everywhere it was found, but ordinary pages then
had 22 rows more flagged on 30 photos (scan_accuracy's messenger, underexposed and shadow-edge captures). So it is
looked for at ``FAINT_CONTRAST`` only in a column where a piece of ink as dark as ``INK_CONTRAST`` lies astride as a
mark does but is too small to be one, or lies on the boxes' outlines (its core, ``FAINT_CORE_MM2``; 2026-12-08).

Pixels are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

import numpy as np

from formkit.layout.model import Box, ChoiceField, Page, TextRun, bounding_box
from formkit.layout.text import letters_box
from formkit.records import FieldValue

from . import areas, creases, overprint, placement
from .beside_ink import (
    ON_PRINTED_LINE_SHARE,
    PRINTED_LINE_COS,
    STRAIGHT_MAX_SPREAD_MM,
    PerLayout,
    box_outlines,
    dark_off_print,
    ink_pieces,
    is_fold,
    print_masks,
    with_descent,
)
from .ink import INK_CONTRAST
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

GAP_MOST_MM = 10.0  # between two rows' boxes: a K10's are 2.4-4.7 mm apart, an alliance check's 4.8-7.1, a goal
#                     card's 4.7 (its option numbers between); a GAS form's 55 mm, with other fields between
ASTRIDE_SHARE = 0.2  # of the way from one box's centre to the other's (see the module's text)
GAP_INK_MM2 = 0.3  # dark off the print in the gap between the two boxes: the quick test that spares the rest
MARK_MM2 = 1.0  # of a piece's ink within the column: a mark, not a speck or a smudge
# a mark's core: as much, astride as a mark is, but too small to be one or on the boxes' outlines. Pencil blurred
# in a 3 MP photo is fainter than INK_CONTRAST but at its middle: looked at again there with FAINT_CONTRAST.
# Measured 2026-12-08 (unusual_marks *rows*, 3 MP, seeds 1 and 9): a pencil tick's and cross's cores 0.52-0.83 mm²
# within the column, 1.6-2.5 mm² at FAINT_CONTRAST (read blank or as the other row's mark, unflagged)
FAINT_CORE_MM2 = 0.3
FAINT_CONTRAST = 0.12
# of that ink, in the gap between the two boxes' borders (what the print leaves of it): a mark astride the gap
# 0.14-0.8 (unusual_marks' *rows*, 16 pages each of 300 dpi scans and 3 MP photos, 2026-12-07); two crosses in
# the two boxes, joined by the blur between them in a 3 MP photo, 0.01
GAP_SHARE = 0.1
# past a box's top and its foot both, within the column: a loop drawn round it, whose arc under it the rule between
# the rows hides (round a K10 box, its middle lay 0.55 of the way to the row above, which was flagged for it,
# 2026-12-07: test_beside); a tick or cross half a row off, 2.5-4.8 mm tall, lies across one border only
ROUND_MM = 0.5
SIDE_MM = 3.0  # round the column, where a piece is followed so that it is seen whole
# a line ruled in pen under a row (desk_hazards' ruler: 0.3-0.5 mm wide, its spread 0.22 mm, read as a mark
# between two alliance-check rows, 2026-12-07), as long as no mark astride is and as straight as none is
RULED_SPREAD_MM = 0.35
RULED_LONG_MM = 5.0
RAW_BETWEEN_ROWS = "between_rows"
_PAIRS = PerLayout(4)


def flag_marks_between_rows(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                            px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, both values of ``values`` (single-choice rows) whose boxes, one above the other in a
    column, a mark lies astride (see the module's text), flagged already or not. Each gets ``raw[RAW_BETWEEN_ROWS]``:
    a list of {"option": its option, "other_field", "other_option": the other row's, "at_mm": [x, y] the middle
    of the mark's ink in the column}. ``page``: the registered page (2-D uint8 grey); the boxes are looked for
    where each row's reading found them."""
    fields = {f.id: f for f in layout_page.fields}
    rows = {v.field: v for v in values if _single(fields.get(v.field), v)}
    for (upper_id, lower_id), pairs in _pairs(layout_page).items():
        if upper_id not in rows or lower_id not in rows:
            continue
        uppers = placement.found_boxes(fields[upper_id], rows[upper_id])  # type: ignore[arg-type]
        lowers = placement.found_boxes(fields[lower_id], rows[lower_id])  # type: ignore[arg-type]
        # the words printed between two rows (a goal card's option numbers) hide most of the gap: the ink written on
        # them is looked for when a row reads blank, as a mark astride leaves one (spared where both are answered)
        words = not rows[upper_id].value or not rows[lower_id].value
        # the quick test, once for the band between the two rows (all its columns)
        band = bounding_box([_gap(uppers[i], lowers[j]) for i, j, _ in pairs])
        if not (words and any(runs for _, _, runs in pairs)) and band.h_mm > 0 \
                and dark_off_print(page, layout_page, band, px_per_mm) < GAP_INK_MM2 * px_per_mm ** 2:
            continue
        for i, j, runs in pairs:
            at_mm = astride_mark(page, layout_page, uppers[i], lowers[j], px_per_mm, runs=runs if words else ())
            if at_mm is not None:
                _flag_both(fields, rows, (upper_id, i), (lower_id, j), at_mm)


def _flag_both(fields: dict, rows: dict[str, FieldValue], upper: tuple[str, int], lower: tuple[str, int],
               at_mm: tuple[float, float]) -> None:
    """Flag the rows ``upper`` and ``lower`` (field, option) for a mark astride their boxes at ``at_mm``."""
    where = [round(at_mm[0], 1), round(at_mm[1], 1)]
    for (own_id, k), (other_id, n), side in ((upper, lower, "below"), (lower, upper, "above")):
        value = rows[own_id]
        option, other_option = str(fields[own_id].options[k].value), str(fields[other_id].options[n].value)
        value.raw.setdefault(RAW_BETWEEN_ROWS, []).append(
            {"option": option, "other_field": other_id, "other_option": other_option, "at_mm": where})
        flag_for_review(value, f"a mark lies between option {option} of this row and option {other_option} "
                               f"of the row {side} ({other_id}): which did you mean?")


def _single(f: object, value: FieldValue) -> bool:
    return isinstance(f, ChoiceField) and not f.multiple and len(value.raw.get("states", [])) == len(f.options)


def _pairs(layout_page: Page) -> dict[tuple[str, str], list[tuple[int, int, tuple[TextRun, ...]]]]:
    """Boxes of two single-choice rows one above the other in a column, by (upper field, lower field): (the upper's
    option, the lower's, the printed words in the gap between them), the lower the nearest under the upper's box
    (overlapping half its width), ``GAP_MOST_MM`` or less under it. Kept per layout."""
    return _PAIRS.get(layout_page, ("between_rows",), lambda: _column_pairs(layout_page))


def _column_pairs(layout_page: Page) -> dict[tuple[str, str], list[tuple[int, int, tuple[TextRun, ...]]]]:
    rows = [f for f in layout_page.fields if isinstance(f, ChoiceField) and not f.multiple]
    texts = [(run, letters_box(run)) for run in layout_page.texts if run.text.strip()]
    pairs: dict[tuple[str, str], list[tuple[int, int, tuple[TextRun, ...]]]] = {}
    for f in rows:
        for i, option in enumerate(f.options):
            box = option.box
            under = [(g.options[j].box.y_mm, g.id, j) for g in rows if g is not f for j in range(len(g.options))
                     if 0 < g.options[j].box.y_mm - box.y_mm - box.h_mm <= GAP_MOST_MM
                     and _overlap_mm(box, g.options[j].box) >= box.w_mm / 2]
            if under:
                _, g_id, j = min(under)
                gap = _gap(box, next(g for g in rows if g.id == g_id).options[j].box)
                runs = tuple(run for run, letters in texts if _meet(letters, gap))
                pairs.setdefault((f.id, g_id), []).append((i, j, runs))
    return pairs


def _gap(upper: Box, lower: Box) -> Box:
    """The paper between ``upper``'s foot and ``lower``'s top, as wide as both boxes are."""
    left, right = max(upper.x_mm, lower.x_mm), min(upper.x_mm + upper.w_mm, lower.x_mm + lower.w_mm)
    return Box(left, upper.y_mm + upper.h_mm, right - left, lower.y_mm - upper.y_mm - upper.h_mm)


def _overlap_mm(a: Box, b: Box) -> float:
    """How far ``a`` and ``b`` overlap across the page (mm; negative when apart)."""
    return min(a.x_mm + a.w_mm, b.x_mm + b.w_mm) - max(a.x_mm, b.x_mm)


def _meet(a: Box, b: Box) -> bool:
    """Whether ``a`` and ``b`` overlap."""
    return _overlap_mm(a, b) > 0 and a.y_mm < b.y_mm + b.h_mm and b.y_mm < a.y_mm + a.h_mm


def astride_mark(page: np.ndarray, layout_page: Page, upper: Box, lower: Box, px_per_mm: float = WARP_PX_PER_MM,
                 runs: tuple[TextRun, ...] = ()) -> tuple[float, float] | None:
    """Where (x, y mm: the middle of its ink within the column) a piece of handwriting lies astride the gap
    between ``upper`` and ``lower`` (two rows' boxes, where found, one above the other), ``ASTRIDE_SHARE`` or
    more of the way from either's centre to the other's, with ``GAP_SHARE`` of that ink in the gap; ``None`` when
    none does. Ink is ``INK_CONTRAST`` darker than the paper, or ``FAINT_CONTRAST`` where a faint mark's core
    lies so (``FAINT_CORE_MM2``); the ink written on ``runs`` (printed words in the gap: ``overprint.written_on``)
    counts too."""
    gap = _gap(upper, lower)
    if gap.h_mm <= 0 or not runs and dark_off_print(page, layout_page, gap, px_per_mm) < GAP_INK_MM2 * px_per_mm ** 2:
        return None
    at_mm, core = _astride(page, layout_page, upper, lower, gap, px_per_mm, INK_CONTRAST, runs)
    if at_mm is None and core:
        at_mm = _astride(page, layout_page, upper, lower, gap, px_per_mm, FAINT_CONTRAST, runs)[0]
    return at_mm


def _astride(page: np.ndarray, layout_page: Page, upper: Box, lower: Box, gap: Box, px_per_mm: float,
             contrast: float, runs: tuple[TextRun, ...]) -> tuple[tuple[float, float] | None, bool]:
    """``astride_mark``'s look with ink ``contrast`` darker than the paper: where the mark lies (or ``None``),
    and whether a piece too small to be one, or on the boxes' outlines, lies astride as one does (a faint mark's
    core: ``FAINT_CORE_MM2`` or more within the column)."""
    left, right = gap.x_mm, gap.x_mm + gap.w_mm
    window = Box(left - SIDE_MM, upper.y_mm - SIDE_MM, right - left + 2 * SIDE_MM,
                 lower.y_mm + lower.h_mm - upper.y_mm + 2 * SIDE_MM)
    rows, cols = box_slices(window, 0.0, page.shape, px_per_mm)
    printed, near_lines, _ = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    ink = areas.handwriting_mask(page[rows, cols], px_per_mm, rules_near=near_lines, contrast=contrast) & ~printed
    outlines = box_outlines([upper, lower], rows, cols, page.shape, px_per_mm)
    if runs:
        _add_written_on(ink, page, layout_page, runs, (rows, cols), px_per_mm)
    top_mm, bottom_mm = upper.y_mm + upper.h_mm / 2, lower.y_mm + lower.h_mm / 2  # the two boxes' centres
    column = (left * px_per_mm - cols.start, right * px_per_mm - cols.start)
    gap_rows = (gap.y_mm * px_per_mm - rows.start, (gap.y_mm + gap.h_mm) * px_per_mm - rows.start)
    boxes_rows = [((box.y_mm - ROUND_MM) * px_per_mm - rows.start,
                   (box.y_mm + box.h_mm + ROUND_MM) * px_per_mm - rows.start) for box in (upper, lower)]
    core = False
    for ys, xs in ink_pieces(ink, px_per_mm):
        within = (xs >= column[0]) & (xs < column[1])
        if np.count_nonzero(within) < FAINT_CORE_MM2 * px_per_mm ** 2 or _round_a_box(ys[within], boxes_rows):
            continue
        in_gap = np.count_nonzero(within & (ys >= gap_rows[0]) & (ys < gap_rows[1])) / np.count_nonzero(within)
        y_mm = (float(ys[within].mean()) + 0.5 + rows.start) / px_per_mm
        share = (y_mm - top_mm) / (bottom_mm - top_mm)
        if not ASTRIDE_SHARE <= share <= 1 - ASTRIDE_SHARE or in_gap < GAP_SHARE:
            continue
        if np.count_nonzero(within) < MARK_MM2 * px_per_mm ** 2 or np.mean(outlines[ys, xs]) >= ON_PRINTED_LINE_SHARE:
            core = True
            continue
        if _line(page, ys, xs, (rows.start, cols.start), ink.shape, px_per_mm):
            continue
        return ((float(xs[within].mean()) + 0.5 + cols.start) / px_per_mm, y_mm), core
    return None, core


def _round_a_box(ys: np.ndarray, boxes_rows: list[tuple[float, float]]) -> bool:
    """Whether ink at rows ``ys`` lies both above and below one of the boxes (their rows ``ROUND_MM`` wider)."""
    return any(ys.min() < top and ys.max() >= bottom for top, bottom in boxes_rows)


def _add_written_on(ink: np.ndarray, page: np.ndarray, layout_page: Page, runs: tuple[TextRun, ...],
                    window: tuple[slice, slice], px_per_mm: float) -> None:
    """Set, in ``ink`` (the ``window`` of the registered ``page``), the handwriting on each of ``runs``
    (``overprint.written_on``), which the print's mask leaves out."""
    near_lines = print_masks(layout_page, page.shape[:2], px_per_mm)[1]
    rows, cols = window
    for run in runs:
        other_words = [with_descent(other) for other in layout_page.texts if other is not run and other.text.strip()]
        for ys, xs in overprint.written_on(page, run, near_lines, other_words, px_per_mm) or []:
            keep = (ys >= rows.start) & (ys < rows.stop) & (xs >= cols.start) & (xs < cols.stop)
            ink[ys[keep] - rows.start, xs[keep] - cols.start] = True


def _line(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, origin: tuple[int, int], shape: tuple[int, ...],
          px_per_mm: float) -> bool:
    """Whether a piece of ink is a straight line along or across the page, as a printed rule a bent page moved
    is, a line ruled in pen (``RULED_SPREAD_MM`` across, ``RULED_LONG_MM`` long), or a fold (``beside_ink.is_fold``)."""
    axis = creases.ink_axis(np.stack([xs, ys], axis=1))
    if axis is not None and max(abs(axis.direction)) >= PRINTED_LINE_COS:
        long_mm = max(np.ptp(xs), np.ptp(ys)) / px_per_mm
        if axis.spread_px <= STRAIGHT_MAX_SPREAD_MM * px_per_mm \
                or axis.spread_px <= RULED_SPREAD_MM * px_per_mm and long_mm >= RULED_LONG_MM:
            return True
    return is_fold(page, ys, xs, origin, shape, px_per_mm)
