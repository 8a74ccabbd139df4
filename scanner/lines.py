"""Read a visual-analogue line: where a pen stroke crosses the printed line, in mm from its start."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from formkit.layout.model import LineField

from .creases import LINE_ONE_WAY_MM, runs_on
from .ink import INK_CONTRAST, STROKE_MAX_MM, closed_paper, darker_than, paper, runs, stroke_ink
from .register import WARP_PX_PER_MM

NEAR_MM = (0.6, 2.0)  # the bands just above and just below the printed line where a crossing shows
TICK_CLEAR_MM = 0.6  # the printed end ticks, left out
JOIN_MM = 0.9  # ink above and below the line this close horizontally is one crossing stroke
CREASE_CONTRAST = 0.15  # a crossing's ink, looked at to tell a crease: the crease's faint edges too
# A stroke across the line leaves ink in each band; a pixel or two of noise in each, near the same columns,
# is no stroke (a dim, noisy photo read a blank line as marked at 84.6 mm from a pixel above and one below).
# The least stroke, a 0.3 mm line 0.7 mm into a band, is 0.2 mm²; noise specks were 1 px (0.016 mm²).
MIN_BAND_INK_MM2 = 0.06
# A stroke's ink above and below the line meets (within JOIN_MM) over a few mm at most; ink above and below
# along more of the line is writing along it, a smudge or a shadow, or noise all along it in a dark photo
# (which put one 'mark' at the middle of the line): never read as a mark where its middle is.
MAX_CROSSING_MM = 8.0
# A faded copy (of a copy) prints the line as light as the marks on it: 27 % darker than its paper, under
# INK_CONTRAST, so every mark was lost and the line read blank. Where the printed line itself is that faint,
# ink is what is darker than the paper by half the line's own darkness (as a box's ink is judged against its
# printed border), never less than FADED_LEAST; on print of usual darkness the rule is INK_CONTRAST as ever.
PRINT_SHARE = 0.5
FADED_LEAST = 0.1
PRINT_SEARCH_MM = 1.0  # the printed line is looked for this far from where registration puts it (as the ticks)
# A page that does not lie flat (photographed curled or bent) puts the line up to a millimetre from where
# registration does, and not by the same amount along it. Bands drawn where registration puts it caught too
# little of an end tick to find it, and the tick read as a mark (28 of 41 needless flags on 100 bent pages,
# 2026-12-05). So the line is followed: per column its darkest row, as the median over this length, so
# that a mark crossing it moves nothing.
LINE_TRACK_MM = 6.0
LINE_SHOWS_GREY = 20  # the line's row is this many grey levels darker than the paper a millimetre off it
TICK_REACH_MM = 1.5  # as far as an end tick may lie from where registration puts it (``_find_tick``)
TRACK_SLACK_PX = 1  # the bands stay where registration puts them unless the line lies further off than this
# Two creases or scanner-glass streaks a millimetre or so apart are one crossing (``JOIN_MM``) but no one thin
# line, and were read as one mark between them (a blank line at 0.95, 2026-12-06). Ink of a crossing in columns
# this far apart is looked at piece by piece; the crossing is creases when every piece with ink enough for a
# stroke (``MIN_BAND_INK_MM2``) is one.
CREASE_GAP_MM = 0.25
# A light pencil mark (grey 185-200 on white paper, 22-27 % darker than it) is under INK_CONTRAST: a line it
# crossed read blank at 0.95, unflagged (a find-only pass, 2026-12-07: 84 of 160 lines of light pencil). Where
# nothing crosses a line at the ink's contrast, crossings are looked for again at this one; one found (neither a
# crease nor a shadow's edge) is told (``LineReading.faint_mm``), and the line goes to review
FAINT_CONTRAST = CREASE_CONTRAST
# A dot or a short thick dash drawn ON the line leaves no ink in the bands above and below it (NEAR_MM): a find-only
# pass (2026-12-07) read 137 of 147 lines marked with a 0.7-1.4 mm dot, and 198 of 204 with a short dash, blank at
# 0.95, unflagged. On a line nothing crosses, the printed line's dark band is measured per column (the ink run
# through its row, ON_LINE_REACH_MM either way) against the line's own (its running median over ON_LINE_BASELINE_MM,
# longer than a dash); a stretch ON_LINE_EXCESS_MM thicker or more is a mark on the line (``LineReading.on_line_mm``,
# sent to review) where it is a dot (ON_LINE_DOT_MM thicker somewhere, ON_LINE_DOT_AREA_MM2 of ink beyond the line's)
# or a dash (ON_LINE_DASH_MM long or more, ON_LINE_DASH_AREA_MM2 of ink). Measured 2026-12-07 on 181 blank lines of
# scan_accuracy's 20 conditions: at most 0.25 mm thicker (1-bit copies' ragged edges), 0.16 mm² over at most 0.9 mm;
# dots of 0.7-1.4 mm: 0.375 mm or more, 0.125 mm² or more; dashes: 0.25 mm or more over 1.1-4 mm, 0.28 mm² or more.
ON_LINE_REACH_MM = 1.5
ON_LINE_BASELINE_MM = 16.0
ON_LINE_EXCESS_MM = 0.2
ON_LINE_DOT_MM = 0.35
ON_LINE_DOT_AREA_MM2 = 0.1
ON_LINE_DASH_MM = 1.0
ON_LINE_DASH_AREA_MM2 = 0.25
ON_LINE_LONGEST_MM = 5.0  # longer is writing or a smudge along it, not one mark
ON_LINE_TICK_CLEAR_MM = 1.0  # the end ticks darken every row of their columns: left out
# A rubber stamp ("RECEIVED / 03 DEC 2026", framed) pressed over a line puts ink just above and below it: where a
# letter or the frame's edge crosses it, a 'mark' was read, unflagged (a find-only pass, 2026-12-07: 4 silent on 72
# stamped visual-analogue pages). A pen's mark puts ink in those bands only where it crosses; a stamp's letters and
# frame put it along the line, away from any crossing too. So the band ink more than ALONG_CLEAR_MM from every
# crossing (between the end ticks) is measured, in stretches ALONG_GAP_MM apart each with MIN_BAND_INK_MM2 of ink:
# ALONG_STAMP_MM of columns or ALONG_STAMP_MM2 of ink or more is a stamp or print over the line, sent to review.
# Measured 2026-12-07 (registered page, 8 px/mm) on 368 ordinary lines of 92 visual-analogue pages of
# scan_accuracy.py's conditions (flatbed, 1-bit, photos 2-12 MP, bent, crumpled, glare): 359 had no such ink, the
# rest at most 5.4 mm of columns (0.9 mm²) or 1.3 mm² (over 4.9 mm), all creases crossing the line at a shallow angle
# on crumpled pages; 80 lines of crosses, ticks, slashes, felt pens and long strokes (1-bit, 3 MP) at most 2.5 mm,
# 1.6 mm² (a tick's long arm over 2.4 mm: hence ALONG_LEAST_MM). On 288 lines of 72 stamped pages (the find-only
# pass's stamp and stampvas): 136 with such ink, 99 over the rule (3.9-37.6 mm, 1.8-22.6 mm²; 40 of them unflagged
# until now), three of the four read wrong among them (7.9 mm and 2.2 mm², 4.8 mm and 2.9 mm², 14.5 mm and 6.0 mm²).
# Left: a 1-bit copy's speckle of a stamp right beside a real mark (2.6 mm, 1.1 mm²), which moved its crossing by
# 2 mm. (Measured on all band ink; counted on strokes only, as below, the same three are caught and the ordinary
# lines give no more.)
ALONG_CLEAR_MM = 1.5  # a slanted stroke's or a cross's own band ink lies this near its crossing
ALONG_GAP_MM = 1.0
ALONG_STAMP_MM = 6.0
ALONG_STAMP_MM2 = 1.5
# but ink in a short stretch is no stamp across the line: a V or a tick's end pointing at it, 0.8 mm over it, left
# 1.5 mm² over 2.1 mm (2026-12-07), and is ``beside``'s to tell
ALONG_LEAST_MM = 3.0
# A 1-bit copy of a stamp's speckle right beside a mark joined its crossing and moved its middle by 2 mm, unflagged (a
# find-only pass, 2026-12-07). One stroke across the line puts the middles of its ink's rows in the bands on a straight
# line, and its ink runs through each band from edge to edge; specks scatter those middles, or lie in pieces that do
# not run through. Measured 2026-12-07 on 763 crossings of scan_accuracy.py's 20 conditions (12 visual-analogue pages
# each; slanting strokes): scatter at most 0.21 mm (creases of crumpled pages), the middle of the pieces running
# through within 0.01 mm of all the ink's; on 195 crossings of X, +, ticks, curves, long slashes and V's touching the
# line (five captures): 0.37 and 0.11 mm; the speckled mark: 0.83 and 2.06 mm (read at 34.0 mm, drawn at 36, the
# pieces running through at 36.06).
UNSURE_SCATTER_MM = 0.5
UNSURE_SHIFT_MM = 0.5


@dataclass(frozen=True)
class LineReading:
    positions_mm: tuple[float, ...]  # each crossing found, from the line's start
    near_tick: bool  # a crossing touches an end tick, where printed ink hides part of it
    creases_mm: tuple[float, ...] = ()  # crossings that are folds or creases of the paper, not marks
    wide_mm: tuple[tuple[float, float], ...] = ()  # (from, to): ink along the line too long for one stroke
    faded: bool = False  # the printed line is fainter than marks can be told against (``_ink_contrast``)
    edges_mm: tuple[float, ...] = ()  # crossings dark on one side only: a shadow's edge, or a mark along one
    # the ends ("start", "end") whose printed tick was not found near where registration puts it: the line is
    # then measured from where registration puts that end, which may be wrong (``_find_tick``)
    ends_not_found: tuple[str, ...] = ()
    faint_mm: tuple[float, ...] = ()  # on a line nothing crosses at the ink's contrast: crossings at FAINT_CONTRAST
    on_line_mm: tuple[float, ...] = ()  # on a line nothing crosses: where its dark band is thicker (a dot on it?)
    # (from, to) in mm: ink just above or below the line away from every crossing, ALONG_STAMP_MM or more of it in
    # all: a stamp's letters or frame, or print, across the line (``_ink_along``)
    along_mm: tuple[tuple[float, float], ...] = ()
    # crossings whose ink is not one straight stroke through the line: a speck or a stamp's letter beside a mark moves
    # where its middle is read (``_not_one_stroke``)
    unsure_mm: tuple[float, ...] = ()
    # the columns of the line's start and end in the region it was read from (found ticks, else registration's)
    ends_px: tuple[float, float] = dataclasses.field(default=(), compare=False, repr=False)


def read_line(page: np.ndarray, line: LineField, px_per_mm: float = WARP_PX_PER_MM) -> LineReading:
    """Where pen strokes cross the visual-analogue ``line``.

    ``page``: the registered page, 2-D uint8 grey, ``px_per_mm`` pixels per mm (8 after warping); the
    line's ends are in mm from the page's top-left corner. Returns each crossing's position in mm from
    the line's start (left end), and whether one touches an end tick.

    A pen stroke that crosses the line leaves ink in the bands just above and just below it, at
    (nearly) the same columns, however slanted. Its position is the middle of the two."""
    y = int(round(line.y1_mm * px_per_mm))
    x1, x2 = line.x1_mm * px_per_mm, line.x2_mm * px_per_mm
    pad = int(round(3 * px_per_mm))
    c0, c1 = max(0, int(x1) - pad), min(page.shape[1], int(np.ceil(x2)) + pad)
    near1 = int(round(NEAR_MM[1] * px_per_mm))
    top = max(0, y - near1 - int(2 * px_per_mm))
    region = page[top:y + near1 + int(2 * px_per_mm) + 1, c0:c1]
    background = paper(region, px_per_mm)
    contrast, faded = _ink_contrast(region, background, y - top, px_per_mm)
    # the rows of the region just above and just below the printed line, where it lies in each column
    line_rows = _line_rows(region, y - top, (x1 - c0, x2 - c0), px_per_mm)
    faint = darker_than(region, background, CREASE_CONTRAST)  # a crossing's ink with its faint edges
    args = (page, line, px_per_mm, region, background, line_rows, (top, c0), faint)
    reading = dataclasses.replace(_crossings(*args, contrast), faded=faded)
    if not (reading.positions_mm or reading.wide_mm or faded or reading.near_tick) and contrast > FAINT_CONTRAST:
        reading = dataclasses.replace(reading, faint_mm=_crossings(*args, FAINT_CONTRAST).positions_mm)
    if not (reading.positions_mm or reading.wide_mm or faded or reading.near_tick or reading.faint_mm
            or reading.creases_mm or reading.edges_mm):
        # a shadow's edge along the line thickens its band on the dark side (1.5 mm at 0.6 mm above the line's own, in
        # 3 MP photos); a dot has paper on both sides, which a closing keeps (as ``_crossings``' strokes)
        ink = stroke_ink(region, px_per_mm, contrast)
        start, end = reading.ends_px
        marks = _marks_on_line(_thickness_excess(ink, line_rows, (start, end), px_per_mm), px_per_mm)
        scale = (end - start) / (line.x2_mm - line.x1_mm)
        reading = dataclasses.replace(reading, on_line_mm=tuple(round((c - start) / scale, 2) for c in marks))
    return reading


def _crossings(page: np.ndarray, line: LineField, px_per_mm: float, region: np.ndarray, background: np.ndarray,
               line_rows: np.ndarray, origin: tuple[int, int], faint: np.ndarray, contrast: float) -> LineReading:
    """``read_line``'s crossings of ``line`` by strokes ``contrast`` darker than the paper (``faded`` left False),
    from the ``region`` of ``page`` round it at ``origin`` (top row, first column), the paper under it
    (``background``), the printed line's row in each of its columns (``line_rows``) and its ink at
    CREASE_CONTRAST (``faint``), all made once for the line however many contrasts it is read at."""
    top, c0 = origin
    x1, x2 = line.x1_mm * px_per_mm, line.x2_mm * px_per_mm
    near0, near1 = (int(round(v * px_per_mm)) for v in NEAR_MM)
    ink = darker_than(region, background, contrast)
    above, below = (_band(ink, line_rows, first, last) for first, last in ((-near1, -near0), (near0 + 1, near1 + 1)))
    ink_above = above.any(axis=0)
    ink_below = below.any(axis=0)
    cols = np.arange(c0, c0 + region.shape[1])
    # The printed end ticks are found in the image rather than assumed, so a registration error of a
    # millimetre neither hides a mark nor turns a tick into one; the line is measured between them.
    start, end = (_find_tick(above, below, nominal - c0, px_per_mm) for nominal in (x1, x2))
    ends_not_found = tuple(name for name, col in (("start", start), ("end", end)) if col is None)
    x1 = x1 if start is None else c0 + start
    x2 = x2 if end is None else c0 + end
    scale_px_per_mm = (x2 - x1) / (line.x2_mm - line.x1_mm)
    tick = TICK_CLEAR_MM * px_per_mm
    at_tick = (np.abs(cols - x1) <= tick) | (np.abs(cols - x2) <= tick)
    ink_above &= ~at_tick
    ink_below &= ~at_tick
    join = max(1, int(round(JOIN_MM * px_per_mm)))
    kernel = np.ones(2 * join + 1, np.float32)
    crossing = (np.convolve(ink_above, kernel, "same") > 0) & (np.convolve(ink_below, kernel, "same") > 0)
    positions, creases, wide, edges, unsure = [], [], [], [], []
    # A shadow's sharp edge across the line is dark on one side only; ``paper``'s blur lags behind it, so its
    # dark side looks like ink above and below the line, as a stroke does (a blank line read as marked at
    # 0.95, 2026-12). A stroke is darker than the paper on both sides of it, which a closing keeps.
    strokes = None
    near_tick = False
    runs = _runs(crossing, join)
    least_px = MIN_BAND_INK_MM2 * px_per_mm ** 2
    for start, stop in runs:
        a = np.flatnonzero(ink_above[start:stop])
        b = np.flatnonzero(ink_below[start:stop])
        if not len(a) or not len(b) or min(above[:, start:stop].sum(), below[:, start:stop].sum()) < least_px:
            continue
        middle_px = (a.mean() + b.mean()) / 2  # from the crossing's first column
        position_mm = round((c0 + start + middle_px - x1) / scale_px_per_mm, 2)
        if stop - start > MAX_CROSSING_MM * px_per_mm:
            wide.append(tuple(round((c0 + c - x1) / scale_px_per_mm, 1) for c in (start, stop)))
            continue
        row = int(np.median(line_rows[start:stop]))
        bands = ((max(0, row - near1), max(0, row - near0)), (row + near0 + 1, row + near1 + 1))
        if _creased(page, faint, (top, c0), bands, (start, stop), px_per_mm, least_px):
            creases.append(position_mm)
            continue
        if strokes is None:
            strokes = darker_than(region, closed_paper(region, STROKE_MAX_MM, px_per_mm), contrast)
        if min(int(strokes[first:last, start:stop].sum()) for first, last in bands) < least_px:
            edges.append(position_mm)
            continue
        positions.append(position_mm)
        clear_of_ticks = ~at_tick[start:stop]
        if _not_one_stroke(above[:, start:stop] & clear_of_ticks, below[:, start:stop] & clear_of_ticks, (near0, near1),
                           middle_px, px_per_mm):
            unsure.append(position_mm)
        # A stroke running into an end tick is partly hidden by it: its position is less certain.
        first, last = start + min(a[0], b[0]), start + max(a[-1], b[-1])
        near_tick |= bool(at_tick[max(0, first - 1)] or at_tick[min(len(at_tick) - 1, last + 1)])
    # A stroke drawn over an end tick hides in it; it shows as ink wider than the printed tick.
    for tick_x in (x1, x2):
        if not any(abs(c0 + (a + b) / 2 - tick_x) < 2.5 * px_per_mm for a, b in runs):
            near_tick |= _widened_tick(above, below, tick_x - c0, px_per_mm)
    inside = (cols > x1 + tick) & (cols < x2 - tick)
    along = []
    if np.count_nonzero((ink_above | ink_below) & inside & ~crossing) >= px_per_mm:  # else none (``_ink_along``)
        # strokes only (paper on both sides, as ``edges``): a highlighter's broad stripe along the line is no stamp
        # (desk_hazards.py's left 78-108 mm² on 3 lines read right, 2026-12-07), nor is a shadow's edge; a stamp's
        # letters and frame are 0.35-0.9 mm strokes
        if strokes is None:
            strokes = darker_than(region, closed_paper(region, STROKE_MAX_MM, px_per_mm), contrast)
        stroke_above, stroke_below = (_band(strokes, line_rows, first, last)
                                      for first, last in ((-near1, -near0), (near0 + 1, near1 + 1)))
        band_strokes = (stroke_above.any(axis=0) | stroke_below.any(axis=0)) & ~at_tick & inside
        along = _ink_along(stroke_above, stroke_below, band_strokes, crossing, px_per_mm)
    along_mm = tuple((round((c0 + a - x1) / scale_px_per_mm, 1), round((c0 + b - x1) / scale_px_per_mm, 1))
                     for a, b in along)
    return LineReading(tuple(positions), near_tick, tuple(creases), tuple(wide), False, tuple(edges), ends_not_found,
                       along_mm=along_mm, unsure_mm=tuple(unsure), ends_px=(x1 - c0, x2 - c0))


def _not_one_stroke(above: np.ndarray, below: np.ndarray, near: tuple[int, int], middle_px: float, px_per_mm: float
                    ) -> bool:
    """Whether a crossing's ink (``above``, ``below``: its columns of the bands ``near`` px from the line, rows by
    columns) is more than one stroke across the line: the middles of its rows lie ``UNSURE_SCATTER_MM`` or more
    (root mean square) off the straight line that fits them best, or the pieces that run through each band from
    edge to edge, as a stroke's do, put its middle ``UNSURE_SHIFT_MM`` or more from ``middle_px`` (all its ink's)."""
    rows, middles = [], []
    for band, offsets in ((above, np.arange(-near[1], -near[0])), (below, np.arange(near[0] + 1, near[1] + 1))):
        for row, offset in zip(band, offsets, strict=True):
            if row.any():
                rows.append(offset)
                middles.append(np.flatnonzero(row).mean())
    if len(rows) >= 3:
        row_arr, middle_arr = np.array(rows, np.float64), np.array(middles)
        slope, at_line = np.polyfit(row_arr, middle_arr, 1)
        if np.sqrt(np.mean((middle_arr - at_line - slope * row_arr) ** 2)) >= UNSURE_SCATTER_MM * px_per_mm:
            return True
    through_middles = []
    for band in (above, below):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(band.astype(np.uint8), connectivity=8)
        through = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= band.shape[0] - 1]
        if not through:
            return False
        through_middles.append(np.flatnonzero(np.isin(labels, through).any(axis=0)).mean())
    return abs(sum(through_middles) / 2 - middle_px) >= UNSURE_SHIFT_MM * px_per_mm


def _ink_along(above: np.ndarray, below: np.ndarray, band_ink: np.ndarray, crossing: np.ndarray, px_per_mm: float
               ) -> list[tuple[int, int]]:
    """The stretches (first column, column past the last) of ink in the bands just above and below a line (``above``,
    ``below``: rows by columns, strokes; ``band_ink``: the columns with ink in either, between its end ticks) more than
    ``ALONG_CLEAR_MM`` from every ``crossing`` column, ``ALONG_GAP_MM`` apart or more, each with ``MIN_BAND_INK_MM2``
    of ink; none unless their columns of ink come to ``ALONG_STAMP_MM``, or their ink to ``ALONG_STAMP_MM2`` over
    ``ALONG_LEAST_MM`` of columns (a stamp or print across the line)."""
    # the usual line: band ink at its crossing only, or a speck or two beside (and ALONG_STAMP_MM2 needs more);
    # told before the crossings are widened (7 us a line against 46, 2026-12-07)
    if np.count_nonzero(band_ink & ~crossing) < px_per_mm:
        return []
    clear = int(round(ALONG_CLEAR_MM * px_per_mm))
    away = band_ink & ~(np.convolve(crossing, np.ones(2 * clear + 1, np.float32), "same") > 0)
    if np.count_nonzero(away) < px_per_mm:
        return []
    least_px = MIN_BAND_INK_MM2 * px_per_mm ** 2
    stretches, columns, ink_px = [], 0, 0
    for a, b in _runs(away, int(round(ALONG_GAP_MM * px_per_mm))):
        ink = int(above[:, a:b][:, away[a:b]].sum()) + int(below[:, a:b][:, away[a:b]].sum())
        if ink >= least_px:
            stretches.append((a, b))
            columns += int(np.count_nonzero(away[a:b]))
            ink_px += ink
    if columns < ALONG_STAMP_MM * px_per_mm and (ink_px < ALONG_STAMP_MM2 * px_per_mm ** 2
                                                 or columns < ALONG_LEAST_MM * px_per_mm):
        return []
    return stretches


def _thickness_excess(ink: np.ndarray, line_rows: np.ndarray, ends: tuple[float, float], px_per_mm: float
                      ) -> np.ndarray:
    """Per column of ``ink`` (the line's region), in pixels, how much thicker than the printed line's own the run of
    ink through its row (``line_rows``) is, up to ``ON_LINE_REACH_MM`` either way: the run less its running median
    over ``ON_LINE_BASELINE_MM``; 0 outside the line's ``ends`` (columns) and within ``ON_LINE_TICK_CLEAR_MM`` of
    them."""
    width = ink.shape[1]
    columns = np.arange(width)
    reach = int(round(ON_LINE_REACH_MM * px_per_mm))
    thickness = np.zeros(width, np.float32)
    for way in (-1, 1):
        alive = np.ones(width, bool)
        for step in range(0 if way < 0 else 1, reach + 1):
            rows = line_rows + way * step
            inside = (rows >= 0) & (rows < ink.shape[0])
            alive &= inside & ink[np.clip(rows, 0, ink.shape[0] - 1), columns]
            thickness += alive
    clear = ON_LINE_TICK_CLEAR_MM * px_per_mm
    first, last = max(0, int(np.ceil(ends[0] + clear))), min(width, int(ends[1] - clear) + 1)
    excess = np.zeros(width, np.float32)
    if last - first < 3:
        return excess
    window = 2 * max(1, int(round(ON_LINE_BASELINE_MM * px_per_mm / 2))) + 1
    own = cv2.medianBlur(np.clip(thickness[first:last], 0, 255).astype(np.uint8)[None, :], min(window, 255))[0]
    excess[first:last] = thickness[first:last] - own
    return excess


def _marks_on_line(excess: np.ndarray, px_per_mm: float) -> list[float]:
    """The middle column of each stretch of ``excess`` (``_thickness_excess``, pixels) at least ``ON_LINE_EXCESS_MM``
    that is a dot or a dash (see ``ON_LINE_DOT_MM``) and no longer than ``ON_LINE_LONGEST_MM``."""
    marks = []
    for start, stop in _runs(excess >= ON_LINE_EXCESS_MM * px_per_mm, 1):
        length_mm = (stop - start) / px_per_mm
        peak_mm = float(excess[start:stop].max()) / px_per_mm
        area_mm2 = float(np.clip(excess[start:stop], 0, None).sum()) / px_per_mm ** 2
        dot = peak_mm >= ON_LINE_DOT_MM and area_mm2 >= ON_LINE_DOT_AREA_MM2
        # unbroken: a 1-bit copy's line is a pixel thicker here and there, two in short runs with gaps between
        unbroken_mm = max(b - a for a, b in zip(*runs(excess[start:stop] >= ON_LINE_EXCESS_MM * px_per_mm),
                                                strict=True)) / px_per_mm
        dash = unbroken_mm >= ON_LINE_DASH_MM and area_mm2 >= ON_LINE_DASH_AREA_MM2
        if (dot or dash) and length_mm <= ON_LINE_LONGEST_MM:
            marks.append((start + stop - 1) / 2)
    return marks


def _line_rows(region: np.ndarray, expected_row: int, ends: tuple[float, float], px_per_mm: float) -> np.ndarray:
    """Per column of ``region`` (grey), the row the printed line lies on: within ``PRINT_SEARCH_MM`` of
    ``expected_row`` (where registration puts it), the darkest row (a few rows smoothed: the stroke's middle)
    where it is ``LINE_SHOWS_GREY`` darker than the paper (elsewhere drawn from the columns either side), then the
    median over ``LINE_TRACK_MM`` of the columns between the line's ``ends`` (columns) and ``TICK_REACH_MM``
    clear of them, the rows there carried on to the ends and beyond; ``expected_row`` where that is within
    ``TRACK_SLACK_PX`` of it, and throughout where the line shows nowhere."""
    reach = int(round(PRINT_SEARCH_MM * px_per_mm))
    lo, hi = max(0, expected_row - reach), min(region.shape[0], expected_row + reach + 1)
    # the line's own columns, clear of its end ticks (which darken every row alike and tell nothing)
    clear = int(round(TICK_REACH_MM * px_per_mm))
    first, last = max(0, int(ends[0]) + clear), min(region.shape[1], int(np.ceil(ends[1])) + 1 - clear)
    if hi - lo < 3 or last - first < 3:
        return np.full(region.shape[1], expected_row, int)
    darkness = 255.0 - region[lo:hi, first:last].astype(np.float32)
    weights = np.array([[1.0], [2.0], [3.0], [2.0], [1.0]], np.float32)
    smoothed = cv2.filter2D(darkness, -1, weights / weights.sum(), borderType=cv2.BORDER_REPLICATE)
    darkest = (lo + np.argmax(smoothed, axis=0)).astype(np.float64)
    # a row stands out against the paper at the window's edges (the lighter of the two lies a millimetre or
    # more off the line); where none does (the line under a smudge, or not printed) the columns either side say
    shows = smoothed.max(axis=0) - np.minimum(smoothed[0], smoothed[-1]) >= LINE_SHOWS_GREY
    if not shows.any():
        return np.full(region.shape[1], expected_row, int)
    columns = np.arange(len(darkest))
    darkest = np.interp(columns, columns[shows], darkest[shows])
    # the running median: rows fit in 8 bits, and OpenCV's median of a one-row image repeats the row and
    # replicates its ends, as NumPy's median over a sliding window of the row padded with its ends does
    window = 2 * max(1, int(round(LINE_TRACK_MM * px_per_mm / 2))) + 1
    track = cv2.medianBlur(np.round(darkest).astype(np.uint8)[None, :], min(window, 255))[0].astype(np.float64)
    rows = np.empty(region.shape[1], int)
    # a pixel off is registration's own error, which the bands allow for: following it only moved the
    # bands against the ends of blurred ticks (3 of 300 lines in 2 MP photos went to review for it)
    rows[first:last] = np.where(np.abs(track - expected_row) <= TRACK_SLACK_PX, expected_row, np.round(track))
    rows[:first], rows[last:] = rows[first], rows[last - 1]
    return rows


def _band(ink: np.ndarray, line_rows: np.ndarray, first: int, last: int) -> np.ndarray:
    """The rows ``first`` to ``last`` (exclusive) from the line in each column of ``ink``: (last - first,
    columns), False where that falls outside ``ink``."""
    if (line_rows == line_rows[0]).all():  # the line where registration puts it, as on most pages
        top, bottom = line_rows[0] + first, line_rows[0] + last
        band = np.zeros((last - first, ink.shape[1]), bool)
        band[max(0, -top):(last - first) - max(0, bottom - ink.shape[0])] = ink[max(0, top):min(ink.shape[0], bottom)]
        return band
    rows = line_rows[None, :] + np.arange(first, last)[:, None]
    inside = (rows >= 0) & (rows < ink.shape[0])
    return ink[np.clip(rows, 0, ink.shape[0] - 1), np.arange(ink.shape[1])[None, :]] & inside


def _ink_contrast(region: np.ndarray, background: np.ndarray, line_row: int, px_per_mm: float
                  ) -> tuple[float, bool]:
    """How much darker than its paper a pixel of ``region`` must be to count as ink: ``INK_CONTRAST``, or
    less where the printed line (about ``line_row``, within ``PRINT_SEARCH_MM``) is itself faint; and
    whether the line is fainter than that rule can serve (under ``FADED_LEAST`` at half its darkness: a copy
    so faded that marks as faint as it are lost, and a blank line cannot be told from a marked one)."""
    reach = int(round(PRINT_SEARCH_MM * px_per_mm))
    printed = region[max(0, line_row - reach):line_row + reach + 1]
    if printed.size == 0:
        return INK_CONTRAST, False
    paper_level = float(np.median(background))
    line_level = float(np.median(printed.min(axis=0)))
    if paper_level <= 0:
        return INK_CONTRAST, False
    faint = PRINT_SHARE * (paper_level - line_level) / paper_level
    return max(FADED_LEAST, min(INK_CONTRAST, faint)), faint < FADED_LEAST


def _creased(page: np.ndarray, faint: np.ndarray, origin: tuple[int, int], bands: tuple[tuple[int, int], ...],
             columns: tuple[int, int], px_per_mm: float, least_px: float) -> bool:
    """Whether the crossing in ``columns`` of the rows ``bands`` (just above and below the printed line) is one
    straight line that runs on far above and below, or very far one way: a fold or crease of the paper
    (``creases.runs_on``); or several such lines side by side (``CREASE_GAP_MM`` apart), each piece of its
    ink of ``least_px`` pixels or more one. ``faint``: the region of ``page`` at ``origin`` (row, column)
    read at ``CREASE_CONTRAST``, lower than a mark's: a crease is a faint line, and its direction needs more
    than the few pixels that pass for a mark."""
    start, stop = columns
    points = []
    for first, last in bands:
        ys, xs = np.nonzero(faint[first:last, start:stop])
        points.append(np.stack([xs + start + origin[1], ys + first + origin[0]], axis=1))
    found = np.concatenate(points)
    if runs_on(page, found, px_per_mm, one_way_mm=LINE_ONE_WAY_MM):
        return True
    columns_used = np.unique(found[:, 0])
    gaps = np.flatnonzero(np.diff(columns_used) > CREASE_GAP_MM * px_per_mm)
    if not len(gaps):
        return False
    pieces = [found[(found[:, 0] >= lo) & (found[:, 0] <= hi)]
              for lo, hi in zip(np.r_[columns_used[0], columns_used[gaps + 1]],
                                np.r_[columns_used[gaps], columns_used[-1]], strict=True)]
    inked = [piece for piece in pieces if len(piece) >= least_px]
    return bool(inked) and all(runs_on(page, piece, px_per_mm, one_way_mm=LINE_ONE_WAY_MM) for piece in inked)


def _find_tick(above: np.ndarray, below: np.ndarray, nominal_col: float, px_per_mm: float) -> float | None:
    """The column of the printed tick within ``TICK_REACH_MM`` of where the layout puts it: the column darkest
    through most rows of both bands. A pen stroke is too short or slanted to beat it. ``None`` where no column
    is ink through most rows of both bands."""
    lo = max(0, int(round(nominal_col - TICK_REACH_MM * px_per_mm)))
    hi = min(above.shape[1], int(round(nominal_col + TICK_REACH_MM * px_per_mm)) + 1)
    if hi - lo < 3:
        return None
    share = np.minimum(above[:, lo:hi].mean(axis=0), below[:, lo:hi].mean(axis=0))
    best = int(np.argmax(share))
    if share[best] < 0.8:
        return None
    strong = np.flatnonzero(share >= share[best] - 0.05)
    strong = strong[np.abs(strong - best) <= 0.5 * px_per_mm]
    return float(lo + strong.mean())


def _widened_tick(above: np.ndarray, below: np.ndarray, tick_col: float, px_per_mm: float) -> bool:
    """True when, both above and below the line, most rows have ink beside the printed tick."""
    lo, hi = int(round(tick_col - 1.0 * px_per_mm)), int(round(tick_col + 1.0 * px_per_mm)) + 1
    beside = np.abs(np.arange(lo, hi) - tick_col) > 0.35 * px_per_mm
    share = []
    for band in (above, below):
        window = band[:, max(0, lo):hi]
        cols = beside[max(0, lo) - lo:][: window.shape[1]]
        share.append(float((window[:, cols]).any(axis=1).mean()) if window.size else 0.0)
    return min(share) >= 0.4


def _runs(mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(start, stop) of each run of True, merging runs at most ``gap`` apart (one stroke drawn twice)."""
    merged: list[tuple[int, int]] = []
    for start, stop in zip(*runs(mask), strict=True):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], int(stop))
        else:
            merged.append((int(start), int(stop)))
    return merged
