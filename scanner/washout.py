"""Print washed out by glare or over-exposure, or covered: where the print does not show, marks may not either.

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

A small spot of light (a lamp's reflection 4-10 mm across) on one box clips its inside, and any mark there,
while the box's corners, or its whole border, stay in view: its contrast (the border's darkest tenth) does
not fall, and the row read as its other tick, the spot taken for white-out (``lit_inside``). Where a fifth
of a box's inside or more is clipped (``SPOT_SHARE``), the box is washed out when the paper round it is not
clipped (light on the inside alone: no print tells how much), or when its most washed side is, on a page
whose paper is not clipped as a whole (a scan's is: paint there hides a side as well). Measured 2026-12-07:
on 192 photos of such spots (sharp and soft, centred and 2 mm off, ticked and empty boxes, pen and pencil,
12 and 3 MP), 109 rows read as the other tick unflagged before, none after; on scan_accuracy.py's photo and
scan conditions (15, 10 pages each) no box outside a row flagged already met it. Where the inside is not
clipped, no mark is lost to the light (light adds to paper and ink alike): every box washed out on those
pages had two thirds of its inside clipped or more.

Something laid over the page (a sticky note, a corner folded over, a thumb in a photo) hides print and marks
without clipping anything: a box, a piece of line or of a writing area's frame on paper not clipped whose
print keeps under ``HIDDEN_SHARE`` of the page's contrast, and whose outline is not found either as a
straight run along each side within ``HIDDEN_SEARCH_MM`` (a bent page moves print up to a millimetre;
writing on a note makes no such runs), is covered. The page's contrast is at least a share of the
registration markers' (in view on any registered page): a note over most of a card leaves nothing else to
judge by. Ink only darkens print, and a shadow keeps two thirds of its contrast or more. On 240 pages of
eight conditions (scan_accuracy.py's: flat, bent, crumpled, glare; scans and photos) no box or line on paper
not clipped came under 0.62 of the page's contrast but on bent pages (down to 0.01), where the search found
the print; on 320 such pages, half with digits written, nothing was taken for covered. A box a note's edge
crosses (the sides left in view keep its contrast) is found by ``marks.measure_box`` (``covered``) where the
paper beside it is darker, and by ``hidden_stretch`` where it is not (a white sheet's edge across a box): its
outline does not show over a stretch, the rest of it in view. Not seen: a box the note's own writing
crosses, a white note wholly over a box on a scan (clipped paper: boxes and lines go to the glare rule, a
writing area is not flagged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, Field, LineField, TextField
from formkit.records import RAW_HIDDEN, RAW_WASHED_OUT, RAW_WHITED_OUT, FieldValue

from . import marks, placement, whiteout
from .ink import runs
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

CLIPPED_WHITE = 250.0  # grey level: paper this light may have been clipped
WASHED_OUT_SHARE = 0.8  # of the page's contrast; under it, on clipped paper, a pencil mark may be gone
HIDDEN_SHARE = 0.3  # of the page's contrast: print this faint on paper not clipped, and not found near: covered
HIDDEN_SEARCH_MM = 1.5  # a page that does not lie flat moves its print up to a millimetre from where registered
RUN_SHARE = 0.8  # of a side's length: print found where it is that straight and that long
BOX_MARKER_SHARE = 0.4  # of the markers' contrast: the least a page's boxes are judged against
FRAME_MARKER_SHARE = 0.15  # the same for the writing areas' grey frames
MAX_CONTRAST = 255.0  # grey levels: no print is darker against its paper than this
FRAMES_SHOW = 0.5  # of the frames' reference: the brightest frame piece below it, no frame shows on the page
SEEN_MARKS = ("marked", "filled", "heavy")  # box states whose mark shows despite the glare
UNLIT_PERCENTILE = 75  # of the page's boxes' contrast: glare may lift the print of half a page
MARK_MARGIN = 0.8  # a box where marks this much lighter than the person's lightest could vanish is flagged
LINE_PIECE_MM = 10.0  # a line is looked at this much at a time: glare may wash out a part of it
FRAME_PIECE_MM = 20.0  # a writing area's frame, for a note over it (half the pieces, and the cost, of 10 mm)
# A box or line whose print does not show over this long a stretch, the rest of it in view, is partly covered.
# Measured 2026-12-05 (scan_accuracy.py's and desk_hazards.py's conditions, 12-60 pages each): print not covered
# showed no such stretch but under glare (flagged as such) and on one field of 1,680 in the four hardest
# conditions (a 2 MP photo sent by a messenger); print partly covered by a sheet or a hole, 4.1 mm or more.
PARTLY_HIDDEN_MM = 2.5
PARTLY_HIDDEN_REACH_MM = 1.0  # across the outline: registration error, a box found off where registered
# of the page's contrast: print fainter than this across its outline does not show. At 0.3, a 2 MP photo sent by
# a messenger lost thin top borders in its blur and JPEG (4 of 1,680 fields flagged, 1 at 0.2); what lies over
# print hides it all but paper grain (a white sheet) or skin's soft shading (a thumb, also found by ``marks``)
PARTLY_HIDDEN_SHARE = 0.2
SPOT_SHARE = 0.2  # of a box's inside clipped white: a small spot of light there may hide a mark (lit_inside)
# A digit is changed by less: a spot 2 mm across over the top of a "1" in a 3 MP photo left a ring read as a "9" at
# p 0.994 (2026-12-07), where 0.7 mm² was clipped and 3.9 mm² lay 40 grey levels or more above the paper round the
# box (five photos of 2-3 mm spots: 3.45-7.2 mm²). Such light, 1 mm² or more, takes a digit box; on scan_accuracy.py's
# photos with digits (20 conditions at 10 pages, 9 at 30 more: 2,195 written boxes on paper not clipped) no box had
# over 0.41 mm² (a messenger photo's JPEG; the rest 0.17 or less)
DIGIT_LIT_EXCESS = 40.0  # grey levels above the paper round the box: light added there
DIGIT_LIT_MM2 = 1.0


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


def over_exposed(paper_clipped: bool, page_contrast: float | None,
                 markers_contrast: Callable[[], float | None] | None) -> bool:
    """Whether the whole page is over-exposed so far that a light mark on it may leave no trace: most of its choice
    boxes' paper clipped (``paper_clipped``: their median white at ``CLIPPED_WHITE`` or more), and their print
    (``page_contrast``) under ``WASHED_OUT_SHARE`` of the least a page's boxes keep against its registration markers
    (``BOX_MARKER_SHARE`` of ``markers_contrast()``, measured only where the rest holds). ``washed_out`` judges each
    box against the page's own print, which whole-page over-exposure lifts as much as any box: there only the
    markers, solid black, keep their contrast. A mark is lighter than black print: where clipping leaves the print
    little of its darkness, or blur spreads it (both lower the borders' contrast), a light tick goes first. Measured
    2026-12-07, levels x 1.8 (markers 254-255 grey levels under the clipped white): pages that lost pencil ticks
    (read blank at confidence 1.0, unflagged) kept their borders at 43 (scan_accuracy.py photo7bright, 60 pages: its
    only silent errors), 69 and 73 grey levels (test_capture_conditions.py's K10 in pencil, 6 photos: the others at
    42, 79, 173, 185 lost none); the threshold, 0.32 of the markers, is 81. Of the 39 other photo7bright pages with
    choice rows 11 lay under it (8-72), their ticks read or flagged. Pages not over-exposed stay far from it: scans
    and 1-bit copies clip their paper but keep their borders at the markers' contrast (0.99-1.2, scanner apps'
    black-and-white pages too); glare over most of a 12 MP page, 0.41; photos whose paper is not clipped are not
    looked at (blurred 3 MP ones and messenger photos lie at 0.28-0.34)."""
    if not page_contrast or not markers_contrast or not paper_clipped:
        return False
    least = WASHED_OUT_SHARE * BOX_MARKER_SHARE
    if page_contrast >= least * MAX_CONTRAST:  # most clipped pages: their print sharp, the markers not measured
        return False
    markers = markers_contrast()
    return bool(markers) and page_contrast < least * markers


def vanishing_darkness(share: float) -> float:
    """How dark a mark (a share of the page's contrast) may be and still leave no trace where clipping
    leaves the print ``share`` of the page's contrast: 1 - 0.75 ``share`` (``marks.WEAK_LEVEL``)."""
    return 1.0 - (1.0 - marks.WEAK_LEVEL) * share


@dataclass(frozen=True)
class FieldPrint:
    """A field's printed parts where its reading found them, what each looks like, and how a reviewer is
    told of them."""

    parts: list[Box]
    references: list[tuple[float, float]]  # (paper white, contrast) round each part
    names: list[str]  # each part, as a reason names it
    where: str  # what the parts are, before their names
    unit: str  # after the names
    shows_mark: list[bool]  # a mark already seen there, which glare left in view
    frame: bool  # a writing area's grey frame, not black print


def flag_washed_out(page: np.ndarray, fields: list[Field], values: list[FieldValue],
                    choice_measures: dict[str, list[marks.BoxMeasure]], px_per_mm: float = WARP_PX_PER_MM,
                    markers_contrast: Callable[[], float | None] | None = None) -> dict[str, FieldPrint]:
    """Flag, in place, each value of ``values`` whose field has a washed-out box where a mark may be lost:
    a choice box that reads empty or faint, any digit or date box, any part of a visual-analogue line (a
    second mark there would not show). Not free-text areas: their frames are printed grey and thin, as
    faint in a sharp scan as a box's outline under glare. And each whose print is covered, writing areas
    too (their frames judged against one another's): ``raw["hidden"]``. ``page``: the registered page;
    ``choice_measures``: each choice field's boxes as measured (``marks.measure_box``); ``markers_contrast``
    (called only when needed): the registration markers' print. Each box is judged against the print's
    contrast where no glare lifts it: the upper quartile (``UNLIT_PERCENTILE``) of the empty choice boxes'
    contrast, or of the digit boxes' and the lines' on a page without. What is washed out is kept in the
    value's ``raw["washed_out"]`` (option values, box numbers from 1, or the stretches of a line, mm from
    its start). A choice row whose one hidden box lies under the person's own correction fluid or tape,
    beside one clear tick (``whiteout.whited_out``), is not flagged: the box is kept in ``raw["whited_out"]``
    too. Not where any of its print is washed out: a small spot of glare over one box hides a light second
    mark, which is what that flag is for (fifth_pass.py whiteout, 60 pages, 2026-12-07: 21 painted rows so
    read flagged, needless 49 -> 70). On a page over-exposed as a whole (``over_exposed``), where the page's
    own print is no measure, each field read blank is flagged too, all its options, boxes or parts in
    ``raw["washed_out"]`` (not only choice rows: a "1" in pencil left no ink in its box, scan_accuracy.py
    photo7bright with digits, 60 pages, 2026-12-07). Returns each field's print as looked at (``field_print``),
    by field id."""
    by_id = {f.id: f for f in fields}
    printed = {v.field: field_print(page, by_id[v.field], v, choice_measures, px_per_mm)
               for v in values if isinstance(by_id.get(v.field), ChoiceField | BoxesField | LineField | TextField)}
    choice_boxes = [(m, state) for v in values if v.field in choice_measures
                    for m, state in zip(choice_measures[v.field], v.raw["states"], strict=True)]
    # the empty boxes' print: a stroke across a marked box's border darkens it
    contrasts = [m.contrast for m, state in choice_boxes if state == "empty"] or \
        [c for field, p in printed.items() if field not in choice_measures and not p.frame for _, c in p.references]
    page_contrast = float(np.percentile(contrasts, UNLIT_PERCENTILE)) if contrasts else None
    lightest = lightest_mark(choice_boxes, page_contrast)
    # most of the page's paper clipped (a scan; a photo over-exposed as a whole): paint over a box, not light
    paper_clipped = bool(choice_boxes) and float(np.median([m.white for m, _ in choice_boxes])) >= CLIPPED_WHITE
    box_reference, frame_reference = _cover_references(printed, page_contrast, markers_contrast)
    exposed = over_exposed(paper_clipped, page_contrast, markers_contrast)
    unseen: dict[str, tuple[list[str], list[str], list[str]]] = {}  # lost, covered, partly: by field
    for value in values:
        p = printed.get(value.field)
        if p is None:
            continue
        lost = [name for name, (white, contrast), shows in zip(p.names, p.references, p.shows_mark, strict=True)
                if not shows and washed_out(white, contrast, page_contrast, lightest)]
        lit = lit_inside(page, p, lost, page_contrast, lightest, paper_clipped, px_per_mm,
                         digits=isinstance(by_id[value.field], BoxesField))
        lost = [name for name in p.names if name in lost or name in lit]  # in the field's order
        reference = frame_reference if p.frame else box_reference
        # print too faint, looked for again as a straight run along each side, where the page may have moved
        # it (writing on a note over the print makes no such runs)
        covered = [name for name, part, (white, contrast) in zip(p.names, p.parts, p.references, strict=True)
                   if reference and white < CLIPPED_WHITE and contrast < HIDDEN_SHARE * reference
                   and not _print_found(page, part, reference, px_per_mm)]
        partly = _partly_hidden(page, by_id[value.field], p, reference, px_per_mm, set(lost) | set(covered))
        if lost or covered or partly:
            unseen[value.field] = lost, covered, partly
    where_unseen = {field: _unseen_parts(by_id[field], printed[field], [n for names in found for n in names])
                    for field, found in unseen.items()}
    for value in values:
        if exposed and value.field in printed and value.field not in unseen and (
                all(state == "empty" for state in value.raw["states"]) if value.field in choice_measures
                else not value.value):
            value.raw[RAW_WASHED_OUT] = list(printed[value.field].names)
            flag_for_review(value, f"the photo is over-exposed (paper clipped to white, printed borders only "
                                   f"{page_contrast:.0f} grey levels dark): a light mark would not show")
        if value.field not in unseen:
            continue
        p, (lost, covered, partly) = printed[value.field], unseen[value.field]
        if lost:
            value.raw[RAW_WASHED_OUT] = lost
        if covered or partly:
            value.raw[RAW_HIDDEN] = covered + partly
        f = by_id[value.field]
        if isinstance(f, ChoiceField) and not lost and whiteout.whited_out(
                page, f, value, p.parts, list(dict.fromkeys(covered + partly)),
                [part for field, parts in where_unseen.items() if field != value.field for part in parts],
                box_reference, px_per_mm):
            value.raw[RAW_WHITED_OUT] = list(dict.fromkeys(covered + partly))
            continue
        if lost:
            flag_for_review(value, f"glare or over-exposure washes out {p.where} {', '.join(lost)}{p.unit}: a "
                                   "light mark there would not show")
        if covered:
            said = list(dict.fromkeys(name.split()[0] for name in covered)) if p.frame else covered  # its sides
            flag_for_review(value, f"the print of {p.where} {', '.join(said)}{p.unit} does not show: covered by a "
                                   "note, a fold or a finger? A mark there would not be seen")
        if partly:
            flag_for_review(value, f"part of the print of {p.where} {', '.join(partly)}{p.unit} does not show: a "
                                   "page, a note or a finger over it? A mark under it would not be seen")
    return printed


def lit_inside(page: np.ndarray, p: FieldPrint, known: list[str], page_contrast: float | None,
               lightest_peak: float | None, paper_clipped: bool, px_per_mm: float, digits: bool) -> list[str]:
    """The boxes of ``p`` (choice and digit boxes; not pieces of line or frame) that a small spot of light
    has washed out though their print shows in part: ``SPOT_SHARE`` or more of the inside clipped
    (``marks.CLIPPED_PAPER``, where a mark lighter than the light added is gone), and either the paper round
    the box not clipped (light on the inside only: how much, no print tells), or, where the page's paper is
    not clipped as a whole (``paper_clipped``: paint on a scan hides a side so too), the box's most washed
    side ``washed_out`` where its corners kept the box's contrast. A digit box (``digits``) takes less:
    ``DIGIT_LIT_MM2`` of its inside lit ``DIGIT_LIT_EXCESS`` above the paper round it, that paper not clipped (a
    digit with a part lit away is another digit, read as sure as any). ``known``: boxes found already (left out);
    ``page_contrast`` and ``lightest_peak`` as ``washed_out`` takes them."""
    if p.frame or not page_contrast:
        return []
    found = []
    for name, part, (white, _), shows in zip(p.names, p.parts, p.references, p.shows_mark, strict=True):
        if shows or name in known or part.w_mm <= 0 or part.h_mm <= 0 or (paper_clipped and white >= CLIPPED_WHITE):
            continue  # (a scan's boxes: below, only ones whose paper is not clipped may count)
        inside = page[box_slices(part, -marks.INNER_INSET_MM, page.shape, px_per_mm)]
        if digits and white < CLIPPED_WHITE and np.count_nonzero(
                inside >= min(marks.CLIPPED_PAPER, white + DIGIT_LIT_EXCESS)) >= DIGIT_LIT_MM2 * px_per_mm ** 2:
            found.append(name)  # part of a digit lit away changes the digit (DIGIT_LIT_MM2)
            continue
        if not inside.size or np.count_nonzero(inside >= marks.CLIPPED_PAPER) < SPOT_SHARE * inside.size:
            continue  # most boxes
        if white < CLIPPED_WHITE or (not paper_clipped and washed_out(white, _least_side_contrast(
                page, part, px_per_mm), page_contrast, lightest_peak)):
            found.append(name)
    return found


def _least_side_contrast(page: np.ndarray, box: Box, px_per_mm: float) -> float:
    """The paper less the printed border on the box's most washed-out side, grey levels (``marks``' own
    measure of a side something lies over)."""
    return marks.least_side_contrast(page, box, marks.side_whites(page, box, px_per_mm), px_per_mm)


def _partly_hidden(page: np.ndarray, f: Field, p: FieldPrint, reference: float | None, px_per_mm: float,
                   known: set[str]) -> list[str]:
    """The parts of ``f`` (choice and digit boxes by name; stretches of a visual-analogue line, mm from its
    start) whose print does not show over a stretch (``hidden_stretch``), the rest in view; parts in
    ``known`` (washed out, or covered whole) left out. Not a writing area's grey frame, nor a marked choice
    box: a fill spilling past its border hides it too, and something over a marked box is ``overlaid``'s."""
    if not reference or p.frame:
        return []
    if isinstance(f, LineField):
        stretch = hidden_stretch(page, Box(f.x1_mm, f.y1_mm, f.x2_mm - f.x1_mm, 0.0), reference, px_per_mm)
        if stretch is None or any(_overlaps(stretch, name) for name in known):
            return []
        return [f"{stretch[0]:.0f}-{stretch[1]:.0f}"]
    looked_at = [(name, part) for name, part, marked in zip(p.names, p.parts, p.shows_mark, strict=True)
                 if not marked and name not in known]
    # most fields show their print all round: every side of every part is looked at together first, at a
    # third of the cost of looking at each side on its own
    if not _hidden_anywhere(page, [part for _, part in looked_at], reference, px_per_mm):
        return []
    return [name for name, part in looked_at if hidden_stretch(page, part, reference, px_per_mm) is not None]


def _unseen_parts(f: Field, p: FieldPrint, names: list[str]) -> list[Box]:
    """Where the parts of ``f`` named ``names`` (washed out, covered or partly hidden) lie on the page (mm):
    each named part of its print, or for a line's stretch ("a-b", mm from its start) that piece of line."""
    parts = dict(zip(p.names, p.parts, strict=True))
    out = []
    for name in names:
        if name in parts:
            out.append(parts[name])
        elif isinstance(f, LineField):
            first, last = (float(x) for x in name.split("-"))
            out.append(Box(f.x1_mm + first, f.y1_mm, last - first, 0.0))
    return out


def _overlaps(stretch: tuple[float, float], piece: str) -> bool:
    """Whether a line's ``stretch`` (mm from its start) overlaps the piece named ``piece`` ("a-b", mm)."""
    first, last = (float(x) for x in piece.split("-"))
    return stretch[0] < last and first < stretch[1]


def hidden_stretch(page: np.ndarray, part: Box, reference: float, px_per_mm: float) -> tuple[float, float] | None:
    """The longest stretch of ``part``'s printed outline (each of its sides; the line itself for a line)
    along which no print shows, as (start, stop) mm along its side from the side's start, when it is
    ``PARTLY_HIDDEN_MM`` long or more; else ``None``. Print shows where, across the outline and within
    ``PARTLY_HIDDEN_REACH_MM`` of it, the darkest pixel is darker than the brightest by ``PARTLY_HIDDEN_SHARE``
    of ``reference`` (grey levels). Something opaque over part of the print (the edge of a page lying on top,
    a fingertip) hides it over a stretch; ink only darkens it, and where glare lifts it far enough, the
    glare rule says so first."""
    longest: tuple[int, int, float] = (0, 0, 0.0)
    for strip, shift in outline_strips(page, part, px_per_mm):
        hidden = _print_hidden(strip, reference)
        if not hidden.any():  # most sides
            continue
        run = _longest_run(hidden)
        if run[1] - run[0] > longest[1] - longest[0]:
            longest = (*run, shift)
    first, last, shift = longest
    if (last - first) / px_per_mm < PARTLY_HIDDEN_MM:
        return None
    return (first + shift) / px_per_mm, (last + shift) / px_per_mm


def outline_strips(page: np.ndarray, part: Box, px_per_mm: float) -> list[tuple[np.ndarray, float]]:
    """Each side of ``part``'s outline (``_outline_sides``) as the pixels within ``PARTLY_HIDDEN_REACH_MM`` of
    it (rows across the side, columns along it), with where its first column lies from the side's start (px).
    Sides off the page, or under two pixels across, are left out."""
    reach = max(1, int(round(PARTLY_HIDDEN_REACH_MM * px_per_mm)))
    strips = []
    for image, across, start, stop in _outline_sides(page, part, px_per_mm):
        r, c0 = int(round(across)), max(0, int(round(start)))
        strip = image[max(0, r - reach):min(image.shape[0], r + reach + 1), c0:min(image.shape[1], int(round(stop)))]
        if strip.shape[0] >= 2 and strip.shape[1] >= 1:
            strips.append((strip, c0 - start))
    return strips


def _print_hidden(strip: np.ndarray, reference: float) -> np.ndarray:
    """Per column of ``strip`` (``outline_strips``), whether no print shows there: its darkest pixel is
    darker than its brightest by less than ``PARTLY_HIDDEN_SHARE`` of ``reference`` (grey levels)."""
    return (strip.max(axis=0).astype(np.int16) - strip.min(axis=0)) < PARTLY_HIDDEN_SHARE * reference


def _hidden_anywhere(page: np.ndarray, parts: list[Box], reference: float, px_per_mm: float) -> bool:
    """Whether the print is hidden (``_print_hidden``) anywhere along the outline of any of ``parts``: their
    strips side by side, those as wide across as one another judged in one go."""
    by_width: dict[int, list[np.ndarray]] = {}
    for part in parts:
        for strip, _ in outline_strips(page, part, px_per_mm):
            by_width.setdefault(strip.shape[0], []).append(strip)
    return any(_print_hidden(np.concatenate(strips, axis=1), reference).any() for strips in by_width.values())


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """Where the most ``True`` in a row in the 1-D ``flags`` (some ``True``) begin and end (past the last)."""
    starts, ends = runs(flags)
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k])


def field_print(page: np.ndarray, f: Field, value: FieldValue, choice_measures: dict[str, list[marks.BoxMeasure]],
                px_per_mm: float) -> FieldPrint:
    """``f``'s printed parts (``_printed_parts``) with their paper and contrast: a choice box's as measured
    for its reading, the others' measured here."""
    parts = _printed_parts(f, value)
    if isinstance(f, ChoiceField):
        return FieldPrint(parts, [(m.white, m.contrast) for m in choice_measures[f.id]],
                        [str(o.value) for o in f.options], "option(s)", "",
                        [state in SEEN_MARKS for state in value.raw["states"]], False)
    references = _references(page, parts, px_per_mm)
    if isinstance(f, BoxesField):
        names, where, unit = [str(k + 1) for k in range(len(parts))], "box(es)", ""
    elif isinstance(f, LineField):
        names = [f"{k * _piece_mm(f):.0f}-{(k + 1) * _piece_mm(f):.0f}" for k in range(len(parts))]
        where, unit = "the line at", " mm from its start"
    else:  # no glare rule for a writing area's frame (see above): as if a mark showed on each piece
        names = [_frame_piece_name(f, part) for part in parts]
        return FieldPrint(parts, references, names, "the writing area's frame,", "", [True] * len(parts), True)
    return FieldPrint(parts, references, names, where, unit, [False] * len(parts), False)


def _cover_references(printed: dict[str, FieldPrint], page_contrast: float | None,
                      markers_contrast: Callable[[], float | None] | None) -> tuple[float | None, float | None]:
    """What covered print is judged against, black print and writing areas' grey frames: the page's own
    print (``page_contrast``; the frames' upper quartile), and at least a share of the markers' (in view on
    any registered page, however much of the rest a note covers). The markers are measured only where some
    part could fall under that share (1 ms a page). No frame reference where no frame shows (a 1-bit copy
    drops grey print)."""
    frames = [c for p in printed.values() if p.frame for _, c in p.references]
    own_frames = float(np.percentile(frames, UNLIT_PERCENTILE)) if frames else 0.0
    ceilings = (max(page_contrast or 0.0, BOX_MARKER_SHARE * MAX_CONTRAST),
                max(own_frames, FRAME_MARKER_SHARE * MAX_CONTRAST))
    floor = 0.0
    if markers_contrast and any(white < CLIPPED_WHITE and contrast < HIDDEN_SHARE * ceilings[p.frame]
                                for p in printed.values() for white, contrast in p.references):
        floor = markers_contrast() or 0.0
    box_reference = max(page_contrast or 0.0, BOX_MARKER_SHARE * floor) or None
    frame_reference = max(own_frames, FRAME_MARKER_SHARE * floor) or None
    if not frames or max(frames) < FRAMES_SHOW * (frame_reference or 0.0):
        frame_reference = None
    return box_reference, frame_reference


def _printed_parts(f: Field, value: FieldValue) -> list[Box]:
    """What of ``f`` is printed, where its value says it was found: each choice or digit box (moved by
    the offsets its reading recorded), each piece of a visual-analogue line (``_line_pieces``) or of a
    writing area's frame (``_frame_pieces``)."""
    if isinstance(f, LineField):
        return _line_pieces(f)
    if isinstance(f, TextField):
        return _frame_pieces(f)
    return placement.found_boxes(f, value)


def _print_found(page: np.ndarray, part: Box, reference: float, px_per_mm: float) -> bool:
    """Whether each side of ``part``'s printed outline (one, for a piece of line or frame) lies within
    ``HIDDEN_SEARCH_MM`` of where it was looked for: a straight run along the side, over ``RUN_SHARE`` of its
    length (its ends left out), darker than the paper beside it by half of ``reference`` (grey levels). A
    page that does not lie flat moves print so; writing on a note over the print makes no such runs."""
    sides = _outline_sides(page, part, px_per_mm)
    reach = int(round(HIDDEN_SEARCH_MM * px_per_mm))
    return bool(sides) and all(_run_along(image, along, start, stop, reach, reference)
                               for image, along, start, stop in sides)


def _outline_sides(page: np.ndarray, part: Box, px_per_mm: float) -> list[tuple[np.ndarray, float, float, float]]:
    """Each side of ``part``'s outline (the line itself, for a part of no height or width) as (image, row,
    first column, last column) in pixels: ``page`` for the top and bottom, ``page.T`` for the left and right."""
    x0, y0 = part.x_mm * px_per_mm, part.y_mm * px_per_mm
    x1, y1 = x0 + part.w_mm * px_per_mm, y0 + part.h_mm * px_per_mm
    sides = []
    if part.w_mm > 0:
        sides += [(page, y, x0, x1) for y in ((y0, y1) if part.h_mm > 0 else (y0,))]
    if part.h_mm > 0:
        sides += [(page.T, x, y0, y1) for x in ((x0, x1) if part.w_mm > 0 else (x0,))]
    return sides


def _run_along(image: np.ndarray, row: float, start: float, stop: float, reach: int, reference: float) -> bool:
    """Whether some row of ``image`` within ``reach`` px of ``row`` is dark over ``RUN_SHARE`` of the
    columns from ``start`` to ``stop`` (a tenth of the length left out at either end), a row or the next."""
    trim = 0.1 * (stop - start)
    r, c0, c1 = int(round(row)), int(round(start + trim)), int(round(stop - trim))
    top, left = max(0, r - reach), max(0, c0)
    region = image[top:min(image.shape[0], r + reach + 2), left:min(image.shape[1], c1)]
    if region.shape[0] < 2 or region.shape[1] < 1:
        return False
    dark = region < np.percentile(region, 80) - 0.5 * reference
    return bool(((dark[:-1] | dark[1:]).mean(axis=1) >= RUN_SHARE).any())


def lightest_mark(choice_boxes: list[tuple[marks.BoxMeasure, str]], page_contrast: float | None) -> float | None:
    """The ``peak`` darkness of the lightest tick or cross (a box read as marked) among the page's
    ``choice_boxes`` (measure, state), the person's lightest pen or pressure; ``None`` without one. Boxes
    that may be washed out are left out: their darkness is measured against what clipping left of the print."""
    peaks = [m.peak for m, state in choice_boxes
             if state == "marked" and not washed_out(m.white, m.contrast, page_contrast)]
    return min(peaks) if peaks else None


def _references(page: np.ndarray, parts: list[Box], px_per_mm: float) -> list[tuple[float, float]]:
    """(paper white, contrast) of each of ``parts``: the paper around it and how much darker its printed
    outline is."""
    return [(white, white - black) for white, black in marks.boxes_references(page, parts, px_per_mm)]


def _piece_mm(f: LineField) -> float:
    """The length of each of ``_line_pieces``: about ``LINE_PIECE_MM``, the line cut evenly."""
    return _step(f.x2_mm - f.x1_mm, LINE_PIECE_MM)


def _step(length_mm: float, piece_mm: float) -> float:
    return length_mm / max(1, round(length_mm / piece_mm))


def _pieces(x_mm: float, y_mm: float, length_mm: float, across: bool, piece_mm: float) -> list[Box]:
    """A printed line from (``x_mm``, ``y_mm``), ``length_mm`` long across the page (else down it), cut
    evenly into pieces of about ``piece_mm``, each a box of no height (no width, down the page) on the line:
    its outline is the line."""
    step = _step(length_mm, piece_mm)
    count = round(length_mm / step)
    if across:
        return [Box(x_mm + k * step, y_mm, step, 0.0) for k in range(count)]
    return [Box(x_mm, y_mm + k * step, 0.0, step) for k in range(count)]


def _line_pieces(f: LineField) -> list[Box]:
    """The printed line in pieces of ``_piece_mm``."""
    return _pieces(f.x1_mm, f.y1_mm, f.x2_mm - f.x1_mm, True, LINE_PIECE_MM)


def _frame_pieces(f: TextField) -> list[Box]:
    """A writing area's printed frame in pieces of about ``FRAME_PIECE_MM``: top, bottom, left, right."""
    box = f.box
    return [piece for y in (box.y_mm, box.y_mm + box.h_mm) for piece in _pieces(box.x_mm, y, box.w_mm, True,
                                                                                  FRAME_PIECE_MM)] + \
        [piece for x in (box.x_mm, box.x_mm + box.w_mm) for piece in _pieces(x, box.y_mm, box.h_mm, False,
                                                                              FRAME_PIECE_MM)]


def _frame_piece_name(f: TextField, piece: Box) -> str:
    """Where ``piece`` of ``f``'s frame lies: its side and mm from the area's top-left corner."""
    box = f.box
    if piece.h_mm == 0:
        side = "top" if piece.y_mm == box.y_mm else "bottom"
        return f"{side} {piece.x_mm - box.x_mm:.0f}-{piece.x_mm + piece.w_mm - box.x_mm:.0f} mm"
    side = "left" if piece.x_mm == box.x_mm else "right"
    return f"{side} {piece.y_mm - box.y_mm:.0f}-{piece.y_mm + piece.h_mm - box.y_mm:.0f} mm"
