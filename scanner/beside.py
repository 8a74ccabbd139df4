"""Marks beside a field's boxes. On a choice field: a circled box, a tick next to one, a tick between two,
a circled label (``labels``). Such a row has no box marked, so it read blank with full confidence and the
answer was lost without a word; or its one marked box holds the end of a stroke that lies mostly elsewhere.
On a digit or date field: the number or date written beside its boxes, which read blank, or a digit more
written beside the boxes (a second thought, a number longer than its boxes). On a visual-analogue line: a
tick that stops short of it or a number written by it (on its anchor words too: ``overprint``), which crosses
nothing. Each is flagged, for a person to read. What counts as ink beside a field, and where: ``ink_beside``.
"""

from __future__ import annotations

import numpy as np

from formkit.layout.model import Box, BoxesField, ChoiceField, LineField, Page, bounding_box, field_boxes
from formkit.records import FieldValue

from . import handwriting, marks, placement
from .beside_ink import (
    BESIDE_INK_MM2,
    STRADDLE_MM2,
    InkBeside,
    answer_area,
    dark_off_print,
    dark_pixels,
    distance_mm,
    ink_beside,
)
from .beside_letters import LETTERS_MM2, letters_beside
from .ink import INK_CONTRAST
from .labels import MERGED_MIN_OPTIONS, ink_on_words, label_marked, median_column_shade_mm
from .register import WARP_PX_PER_MM, box_slices, field_window
from .resolve import flag_for_review

OUTSIDE_SHARE = 2.0  # a tick twice the box's size has as much ink beside it as in it; one astride two
#                     boxes has most of its ink between them
# beside a blank row, in pieces that reach one of its boxes (``InkBeside.touching_mm2``): a tick whose low point is
# on a box's corner and whose arms cross printed words above, which the print's mask takes out of the ink
# (0.66 mm² of such a tick left on a goal card, 2026-12-07)
TOUCHING_INK_MM2 = 0.4
LEAST_INK_MM2 = min(BESIDE_INK_MM2, 2 * STRADDLE_MM2)  # the least that can flag a blank field, ink in its boxes too
# a digit field's writing apart from its boxes (pieces at least APART_SHARE outside them), beside digits read
# in them: a 5 mm "1" in a 0.4 mm pen is 2 mm²; a digit written across a border is one piece, mostly inside
APART_INK_MM2 = BESIDE_INK_MM2
# beside a blank row or digit field in an image under marks.LOW_RES_PX_PER_MM: a pencil stroke 0.25 mm wide,
# blurred over pixels of 0.2-0.3 mm, is only 0.2-0.3 darker than the paper
FAINT_INK_CONTRAST = 0.2
# beside a blank row in an image of any resolution, ink as dark as INK_CONTRAST but less than the least flagged: the
# core of a pencil tick in a dim photo, looked at again with FAINT_INK_CONTRAST (a 12 MP photo's pencil tick 1-2 mm
# left of an alliance-check box, 2026-12-08: 0.69 mm² at INK_CONTRAST, 2.2 at FAINT_INK_CONTRAST; read blank at 1.0)
FAINT_CORE_MM2 = 0.3
# beside one marked box, ink level with the boxes (between their tops and feet) in pieces that run on from it,
# each within WORD_GAP_MM of it or of the last: letters written across the row ("N/A", "don't know"). A tick's
# arm leaves its box upwards, a cross's at its corners: a tick twice its box's size leaves up to 1.35 mm² there;
# another row's long tail or a stain's edge level with the row lies apart from the marked box
LEVEL_INK_MM2 = 1.5
WORD_GAP_MM = 2.0
# level with a choice's row, ROW_GAP_MM to ROW_WRITING_MM past its last box (or before its first): the option's
# number written there instead of a mark (2-5 mm after a K10 row's last box: read blank at 1.0 at 3 mm or more,
# 2026-12-07), or beside a row read. ROW_WRITING_MM: as far as the page is drawn round a row
# (``register.field_window`` and FIELD_MARGIN_MM). Measured 2026-12-07: a written "1" 1.1-2.2 mm², other digits
# 1.6-7.9 mm²; on 887 ordinary rows (scan_accuracy's 20 conditions x 5 pages, and hF2's scans, 1-bit copies and
# photos of K10, alliance-check, GAS and goal-card pages) none had any. An upright 1 as long as a rule is left out
# as one, as beside the boxes (``areas.RULE_MM``): a scanner glass's streak beside a row is as long and straight
ROW_GAP_MM = 1.0
ROW_WRITING_MM = 10.0
ROW_WRITING_MM2 = BESIDE_INK_MM2
# the item's score as staff write it when they check a returned page: one digit 4-12 mm after the row's last box,
# in the page's right margin (a find-only pass, 2026-12-07: of 146 fields flagged on 60 such pages, 113 for that
# alone). Writing beyond a row agrees with its one marked box, and flags nothing, when all of it lies after the
# last box and everything from its start to SCORE_EDGE_MM short of the paper's edge (``row_margins`` draws it)
# reads as one digit, as surely as a digit box's (``handwriting.read_one_box``: the networks' acceptance, the
# not-one-digit judge, one character standing alone), the marked option's value. "2?", "2 or 3", "3" beside a 2,
# a digit running past the page's edge keep the flag. Measured 2026-12-07: staff's pages 113 -> 35 needless, no
# silent error; 176 ticked rows (K10, alliance check; scans, 1-bit copies, photos) with another digit written
# 2-10 mm after them: none cleared.
SCORE_EDGE_MM = 2.0  # the paper's last millimetres: a photo's desk, the shadow of its edge
SCORE_BEFORE_MM = 0.5  # read from this far before the writing's start (its anti-aliased edge)
SCORE_ABOVE_MM = 0.5  # and this far above and below the row's boxes (a score written level with its row)
# under one box of a row read blank, a short line drawn instead of a mark in it (0.4-1.5 mm under its foot: 269 of 280
# rows read blank at 1.0, 2026-12-07). Between UNDER_BOX_MM under its foot, the shade down the median column
# (``labels.median_column_shade_mm``) over the row's median box's: measured 2026-12-07, underlined 0.15-0.72 mm
# (pencil 0.15), blank ordinary rows at most 0.06
UNDER_BOX_MM = (0.3, 2.5)
UNDERLINE_MM = 0.12
# above the next row's box, where the blur of a fill in it reaches up (a 3 MP photo of an alliance check: a blank
# row's box over a filled one read as underlined, 2026-12-07); a K10's rows lie 2.4 mm apart
UNDER_CLEAR_MM = 0.5
UNDERLINE_ALONE_SHARE = 0.5
# a blank digit field's writing in the gap between two of its boxes: the print's margins (``LINE_MARGIN_MM`` round
# each side) leave 0.1-0.8 mm of a 1.0-1.7 mm gap, so an upright "1" written there shows 0.3-0.6 mm² where 0.75 is
# the least flagged beside the boxes; such fields read blank at 0.99, unflagged (2026-12-08: 12 held-back MNIST 1s
# in the benchmark form's gap, a 300 dpi scan, all 12; irregular_digits *straddle*, 2 of 80)
GAP_WRITING_MM2 = 0.3
GAP_BORDER_MM = 0.3  # a piece may reach into the margin of a side


def flag_marks_beside(page: np.ndarray, layout_page: Page, values: list[FieldValue], px_per_mm: float = WARP_PX_PER_MM,
                      source_px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged choice, digit, date or line value of ``values`` whose mark may not be
    what it reads as:

    - a choice field with no box marked, and handwriting beside the boxes (``BESIDE_INK_MM2`` or more, what of
      it lies inside them counted): a circled box, a tick beside one or between two;
    - a choice field with one box ticked or crossed (single choice), and ``OUTSIDE_SHARE`` times more ink
      beside the boxes than in it, or its stroke running across the gap into the next box (``STRADDLE_MM2``
      there): a tick astride two boxes, or a second answer circled;
    - a digit or date field read blank, and handwriting beside or across its boxes (``BESIDE_INK_MM2``): the
      number written outside them;
    - a digit or date field read, and ``APART_INK_MM2`` of writing beside its boxes in pieces mostly outside
      them (not a digit's stroke running over a border): a digit more beside the boxes, a word;
    - a line read blank, and ``BESIDE_INK_MM2`` of writing near it or on its anchor words (``ink_on_words``):
      a mark that stops short, a number.

    The area of the ink that decided goes into ``raw["beside"]["ink_mm2"]`` (mm²: beside a choice's boxes; with its
    parts in them for a blank digit field or line; apart from them for a digit field read), with the option nearest
    it and the options one stroke joins (a choice), or how far along the line it lies (a line). ``page``: the
    registered page (2-D uint8 grey); the boxes are looked for where the field's reading found them
    (``placement.recorded_offsets``). From an image under ``marks.LOW_RES_PX_PER_MM`` (``source_px_per_mm``), a
    choice or digit field read blank and not in doubt is looked at again with ink ``FAINT_INK_CONTRAST``
    darker than the paper, what lies within ``LINE_NEAR_MM`` of the print's lines left out; from any image, a choice
    read blank with ``FAINT_CORE_MM2`` of ink beside its boxes at ``INK_CONTRAST`` (a pencil tick's core) too."""
    fields = {f.id: f for f in layout_page.fields}
    for value in values:
        f = fields.get(value.field)
        if value.needs_review:
            continue
        if isinstance(f, LineField):
            if not value.value:
                _check_line(page, layout_page, f, value, px_per_mm)
            continue
        # a blank field in a low-resolution image: looked at again for a thin stroke the blur has left faint,
        # away from the print's lines, if ink as usual gives no doubt; a choice read, for a word written on
        # across its row
        faint = source_px_per_mm < marks.LOW_RES_PX_PER_MM and (not value.value or isinstance(f, ChoiceField))
        for contrast in (INK_CONTRAST, FAINT_INK_CONTRAST):
            if value.needs_review:
                break
            if contrast < INK_CONTRAST and not faint:
                break
            if isinstance(f, ChoiceField):
                found_mm2 = _check_choice(page, layout_page, f, value, px_per_mm, contrast)
                # beside a blank row in any image, a pencil tick whose core alone is as dark as ink (a dim 12 MP
                # photo): looked at again, faint, when that core is there
                faint = faint or not value.value and found_mm2 >= FAINT_CORE_MM2
            elif isinstance(f, BoxesField):
                _check_digits(page, layout_page, f, value, px_per_mm, contrast)
        if isinstance(f, ChoiceField) and not value.needs_review:
            _check_row_writing(page, layout_page, f, value, px_per_mm)
        if isinstance(f, ChoiceField) and not value.needs_review and not value.value:
            _check_underlined(page, layout_page, f, value, px_per_mm)


def flag_letters_beside(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                        px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged single-choice value of ``values`` with one box marked (every other empty)
    when letters lie level with that box just past its border, fainter or nearer it than ``ink_beside`` sees
    (``beside_letters``, ``LETTERS_MM2`` more beside it than beside the row's other boxes): a short word begun in
    the box, its last letter outside, or a word in pencil in a phone photo. ``raw["beside"]["letters_mm2"]``
    holds that excess. Run after ``writing_in_box`` and ``arrows``, whose reasons (letters in the box, an arrow) are
    the more telling.
    ``page``: the registered page (2-D uint8 grey); the boxes are looked at where the field's reading found them."""
    for f, value, m in marks.lone_marked_rows(layout_page, values):
        excess_mm2 = letters_beside(page, layout_page, placement.found_boxes(f, value), m, LETTERS_MM2, px_per_mm)
        if excess_mm2 >= LETTERS_MM2:
            option = str(f.options[m].value)
            value.raw["beside"] = {"letters_mm2": round(excess_mm2, 2), "nearest": option}
            flag_for_review(value, f"option {option} is marked, but there is writing beside it on the row, nearest "
                                   f"option {option}: a word such as N/A, or a note?")


def _check_choice(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue, px_per_mm: float,
                  contrast: float) -> float:
    """Flag ``value`` for a mark beside ``f``'s boxes (``_doubt``); the area of the ink found beside them (mm², 0
    when not looked at)."""
    states = value.raw.get("states", [])
    if len(states) != len(f.options) or value.value and (f.multiple or states.count("marked") != 1):
        return 0.0
    if "marked" not in states and label_marked(page, layout_page, f, value, px_per_mm, contrast):
        return 0.0
    boxes = placement.found_boxes(f, value)
    if not _dark_enough(page, layout_page, f, boxes, states, px_per_mm, contrast):
        return 0.0
    ink = ink_beside(page, layout_page, f, boxes, px_per_mm, contrast)
    reason = _doubt(ink, f, states, boxes, words_only=contrast < INK_CONTRAST)
    if reason:
        nearest = str(f.options[min(range(len(boxes)), key=lambda k: distance_mm(*ink.centre_mm, boxes[k]))].value)
        value.raw["beside"] = {"ink_mm2": round(ink.area_mm2, 2), "nearest": nearest}
        if ink.joined:
            value.raw["beside"]["joined"] = [[str(f.options[k].value) for k in pair] for pair in sorted(ink.joined)]
        flag_for_review(value, reason.replace("{nearest}", nearest))
    return ink.whole_mm2


def _check_row_writing(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue,
                       px_per_mm: float) -> None:
    """Flag ``value`` when there is writing on ``f``'s row beyond its boxes (``row_writing``): a row left blank
    and the option's number written after it, or a number or note beside a row read; not when that writing is
    the marked option's value written once after the row (``score_beside``: the item scored by staff), which
    goes into ``raw["beside_digit"]``."""
    boxes = placement.found_boxes(f, value)
    pieces = row_writing(page, layout_page, f, boxes, px_per_mm)
    area_mm2 = sum(piece[0] for piece in pieces)
    if area_mm2 < ROW_WRITING_MM2:
        return
    x_mm = sum(piece[0] * (piece[1] + piece[2]) / 2 for piece in pieces) / area_mm2
    score = score_beside(page, layout_page, boxes, pieces, px_per_mm) \
        if len(value.value) == 1 and value.value.isdigit() else None
    if score is not None:
        value.raw["beside_digit"] = score
        if score["digit"] == value.value:
            return
    value.raw["beside"] = {"row_writing_mm2": round(area_mm2, 2), "at_x_mm": round(x_mm, 1)}
    if value.value:
        flag_for_review(value, f"option {value.value} is marked, but there is writing on the row beyond its boxes: "
                               "a second answer, or a note?")
    else:
        flag_for_review(value, "no box is marked, but there is writing on the row beyond its boxes: the answer "
                               "written as a number?")


def _check_digits(page: np.ndarray, layout_page: Page, f: BoxesField, value: FieldValue, px_per_mm: float,
                  contrast: float) -> None:
    boxes = placement.found_boxes(f, value)
    beside_px, inside_px = dark_pixels(page, layout_page, f, boxes, px_per_mm, contrast)
    least_mm2 = LEAST_INK_MM2 if not value.value else APART_INK_MM2
    if beside_px + (0 if value.value else sum(inside_px)) < least_mm2 * px_per_mm ** 2:
        return
    ink = ink_beside(page, layout_page, f, boxes, px_per_mm, contrast)
    if not value.value and (ink.joined or ink.whole_mm2 >= BESIDE_INK_MM2 or _written_in_a_gap(ink, boxes)):
        value.raw["beside"] = {"ink_mm2": round(ink.whole_mm2, 2)}
        flag_for_review(value, "no digit in the boxes, but there is writing beside or across them: written "
                               "outside the boxes?")
    elif value.value and ink.apart_mm2 >= APART_INK_MM2:
        value.raw["beside"] = {"ink_mm2": round(ink.apart_mm2, 2)}
        flag_for_review(value, "writing beside the boxes as well as in them: a digit changed, or a number "
                               "longer than its boxes?")


def _written_in_a_gap(ink: InkBeside, boxes: list[Box]) -> bool:
    """Whether a piece of ``ink`` level with a digit field's ``boxes`` lies in the gap between two of them
    (``GAP_WRITING_MM2``, within ``GAP_BORDER_MM`` of their sides)."""
    gaps = [(a.x_mm + a.w_mm - GAP_BORDER_MM, b.x_mm + GAP_BORDER_MM) for a, b in zip(boxes, boxes[1:], strict=False)]
    return any(area_mm2 >= GAP_WRITING_MM2 and any(left <= x0_mm and x1_mm <= right for left, right in gaps)
               for area_mm2, x0_mm, x1_mm in ink.level)


def _check_line(page: np.ndarray, layout_page: Page, f: LineField, value: FieldValue, px_per_mm: float) -> None:
    line = [answer_area(f)]
    beside_px, inside_px = dark_pixels(page, layout_page, f, line, px_per_mm)
    ink = ink_beside(page, layout_page, f, line, px_per_mm) \
        if beside_px + sum(inside_px) >= BESIDE_INK_MM2 * px_per_mm ** 2 else None
    near_mm2 = ink.whole_mm2 if ink else 0.0
    on_words_mm2, words_centre_mm = ink_on_words(page, layout_page, f, px_per_mm)
    if near_mm2 + on_words_mm2 < BESIDE_INK_MM2:
        return
    x_mm = ink.centre_mm[0] if near_mm2 >= on_words_mm2 else words_centre_mm[0]
    at_mm = min(max(x_mm - f.x1_mm, 0.0), f.x2_mm - f.x1_mm)
    value.raw["beside"] = {"ink_mm2": round(near_mm2 + on_words_mm2, 2), "at_mm": round(at_mm, 1)}
    where = "on the words printed by it" if on_words_mm2 > near_mm2 else "near it"
    flag_for_review(value, f"no mark crosses the line, but there is writing {where}, {at_mm:.0f} mm from its start: "
                           "a mark that stops short, or a number written?")


def _rules(states: list[str]) -> tuple[int | None, list[int], bool]:
    """Which of ``_doubt``'s rules the boxes' ``states`` leave open: the marked box (``None`` when none is),
    its empty neighbours (a stroke may run on into one), and whether every other box is empty (else a fill's
    edge spills beside the boxes: the mostly-beside rule is off)."""
    if "marked" not in states:
        return None, [], False
    m = states.index("marked")
    neighbours = [k for k in (m - 1, m + 1) if 0 <= k < len(states) and states[k] == "empty"]
    return m, neighbours, marks.lone_box(states, "marked") is not None


def _dark_enough(page: np.ndarray, layout_page: Page, f: ChoiceField, boxes: list[Box], states: list[str],
                 px_per_mm: float, contrast: float = INK_CONTRAST) -> bool:
    """Whether the window of ``f`` (its ``boxes`` where found) holds enough dark pixels off the print for
    ``ink_beside`` to find a reason for doubt (``_doubt``, given the boxes' ``states``): with no box marked, as
    much as the least ink that may be flagged, beside the boxes and in them; beside one marked box,
    ``BESIDE_INK_MM2`` beside the boxes if every other box is empty, or ``STRADDLE_MM2`` in an empty neighbour.
    A quick test that spares a tick inside its box the strokes' analysis, which cost a sixth of reading a page
    of ticks."""
    marked, empty_neighbours, others_empty = _rules(states)
    if marked is not None and not empty_neighbours and not others_empty:
        return False  # beside a correction's filled box, say: no rule of _doubt applies
    beside_px, inside = dark_pixels(page, layout_page, f, boxes, px_per_mm, contrast)
    mm2 = px_per_mm ** 2
    if marked is None:
        return beside_px + sum(inside) >= min(LEAST_INK_MM2, TOUCHING_INK_MM2) * mm2
    return (others_empty and beside_px >= BESIDE_INK_MM2 * mm2) \
        or any(inside[k] >= STRADDLE_MM2 * mm2 for k in empty_neighbours)


def _doubt(ink: InkBeside, f: ChoiceField, states: list[str], boxes: list[Box], words_only: bool = False) -> str:
    """Why the reading of ``f`` (its ``boxes`` where found, their ``states`` as ``marks.Mark`` values) is in doubt
    given ``ink``; '' if it is not. "{nearest}" in the text stands for the option nearest the ink beside the boxes.
    ``words_only``: of a marked row, only a word written across it is looked for (``ink`` faint)."""
    m, empty_neighbours, others_empty = _rules(states)
    if m is None:
        if ink.joined:
            a, b = min(ink.joined)
            return (f"no box is marked, but a mark runs across options {f.options[a].value} and "
                    f"{f.options[b].value}: a tick between two answers?")
        if ink.whole_mm2 >= BESIDE_INK_MM2 or ink.touching_mm2 >= TOUCHING_INK_MM2:
            return ("no box is marked, but there is a mark beside the boxes, nearest option {nearest}: a circled "
                    "box or a tick beside it?")
        return ""
    if not words_only:  # faint ink beside a mark: only a word written on across the row is looked for
        for k in empty_neighbours:  # a filled box beside it is the printed convention: not in doubt here
            if (min(k, m), max(k, m)) in ink.joined:
                return (f"the mark in option {f.options[m].value} runs on into option {f.options[k].value}: a tick "
                        "between two answers?")
        if others_empty and (ink.touched - {m}):  # (a tick read in one box, another on a box's corner)
            k = min(ink.touched - {m})
            return (f"option {f.options[m].value} is marked, and a mark lying mostly beside the boxes reaches into "
                    f"option {f.options[k].value}: two answers?")
        if others_empty and ink.area_mm2 >= BESIDE_INK_MM2 and ink.area_mm2 >= OUTSIDE_SHARE * ink.inside_mm2[m]:
            return ("most of the mark lies beside the boxes, nearest option {nearest}: a tick between two boxes, "
                    "or a box circled?")
    return _words_on_row(ink, f, m, boxes) if others_empty else ""


def _words_on_row(ink: InkBeside, f: ChoiceField, m: int, boxes: list[Box]) -> str:
    """``_doubt``'s reason when a word is written on across the row from option ``m``'s box; '' if none is."""
    if _running_on_mm2(ink, boxes[m]) >= LEVEL_INK_MM2:
        return (f"option {f.options[m].value} is marked, but there is writing beside it on the row, nearest option "
                "{nearest}: a word such as N/A, or a note?")
    return ""


def _running_on_mm2(ink: InkBeside, box: Box) -> float:
    """Of ``ink``'s pieces level with the boxes, the area of those that run on from ``box`` sideways, each
    within ``WORD_GAP_MM`` of it or of one before: the letters of a word begun in or beside it."""
    span, total, left = [box.x_mm, box.x_mm + box.w_mm], 0.0, list(ink.level)
    while True:
        near = [piece for piece in left if piece[2] >= span[0] - WORD_GAP_MM and piece[1] <= span[1] + WORD_GAP_MM]
        if not near:
            return total
        for piece in near:
            left.remove(piece)
            total += piece[0]
            span = [min(span[0], piece[1]), max(span[1], piece[2])]


def score_beside(page: np.ndarray, layout_page: Page, boxes: list[Box], pieces: list[tuple[float, float, float]],
                 px_per_mm: float) -> dict | None:
    """The digit written after a row (its ``boxes`` where found), when its writing beyond them (``pieces``, as
    ``row_writing`` gives them) all lies after its last box and what lies from there to
    ``SCORE_EDGE_MM`` short of the paper's edge, level with the row, is one digit read as surely as in a digit
    box (``handwriting.read_one_box``): ``{"digit", "p", "at_x_mm"}``; ``None`` otherwise."""
    hull = bounding_box(boxes)
    start_mm, end_mm = min(piece[1] for piece in pieces) - SCORE_BEFORE_MM, layout_page.width_mm - SCORE_EDGE_MM
    if start_mm < hull.x_mm + hull.w_mm or end_mm <= start_mm:
        return None
    strip = Box(start_mm, hull.y_mm - SCORE_ABOVE_MM, end_mm - start_mm, hull.h_mm + 2 * SCORE_ABOVE_MM)
    reading, doubts = handwriting.read_one_box(page, strip, px_per_mm, side_margin_mm=0.0)
    if doubts or reading["digit"] is None:
        return None
    return {"digit": str(reading["digit"]), "p": reading["p"], "at_x_mm": round(start_mm + SCORE_BEFORE_MM, 1)}


def row_margins(layout_page: Page) -> list[Box]:
    """After each single-choice row of ``layout_page``, from where ``register.field_window`` stops drawing it
    to the paper's edge: where ``score_beside`` looks for what follows a score, for ``register.warp_fields``
    to draw."""
    strips = []
    for f in layout_page.fields:
        if isinstance(f, ChoiceField) and not f.multiple:
            window = field_window(f)
            start_mm = window.x_mm + window.w_mm
            if start_mm < layout_page.width_mm:
                strips.append(Box(start_mm, window.y_mm, layout_page.width_mm - start_mm, window.h_mm))
    return strips


def row_writing(page: np.ndarray, layout_page: Page, f: ChoiceField, boxes: list[Box], px_per_mm: float,
                contrast: float = INK_CONTRAST) -> list[tuple[float, float, float]]:
    """The handwriting level with ``f``'s row (its ``boxes`` where found) beyond its last box or before its
    first, ``ROW_GAP_MM`` to ``ROW_WRITING_MM`` from them, in pieces apart from the boxes (``InkBeside.level``):
    each piece's (mm², x_mm from, to)."""
    hull = bounding_box(boxes)
    after, before = hull.x_mm + hull.w_mm + ROW_GAP_MM, hull.x_mm - ROW_GAP_MM
    strips = [Box(after, hull.y_mm, ROW_WRITING_MM - ROW_GAP_MM, hull.h_mm),
              Box(before - ROW_WRITING_MM + ROW_GAP_MM, hull.y_mm, ROW_WRITING_MM - ROW_GAP_MM, hull.h_mm)]
    least_px = BESIDE_INK_MM2 / 2 * px_per_mm ** 2
    if sum(dark_off_print(page, layout_page, strip, px_per_mm, contrast) for strip in strips) < least_px:
        return []
    ink = ink_beside(page, layout_page, f, boxes, px_per_mm, contrast, reach_mm=ROW_WRITING_MM)
    return [piece for piece in ink.level if piece[1] >= after or piece[2] <= before]


def _check_underlined(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue, px_per_mm: float
                       ) -> None:
    """Flag ``value`` (a row read blank) when one of its boxes is underlined (``underlined_box``)."""
    others = [box for g in layout_page.fields if g is not f for box in field_boxes(g)]
    k = underlined_box(page, placement.found_boxes(f, value), others, px_per_mm)
    if k is not None:
        value.raw["beside"] = {"underlined": str(f.options[k].value)}
        flag_for_review(value, f"no box is marked, but box {f.options[k].value} is underlined: the answer?")


def underlined_box(page: np.ndarray, boxes: list[Box], others: list[Box], px_per_mm: float) -> int | None:
    """Which of ``boxes`` (a row's, where found) has a short line drawn under it: the band under it
    (``under_shades``; ``others``: the other fields' boxes) ``UNDERLINE_MM`` darker than under the row's median
    box, and under every other box, and beside its own band half a box out each way, less than
    ``UNDERLINE_ALONE_SHARE`` of that: a line ruled under the row, a printed rule, a shadow's edge darken more
    than one. ``None`` when none is."""
    if len(boxes) < MERGED_MIN_OPTIONS:
        return None
    shades = np.array(under_shades(page, boxes, others, px_per_mm))
    excess = shades[:, 0] - np.median(shades[:, 0])
    k = int(np.argmax(excess))
    alone_mm = UNDERLINE_ALONE_SHARE * excess[k]
    beside_mm = shades[k, 1:] - np.median(shades[:, 1:])
    if excess[k] < UNDERLINE_MM or np.delete(excess, k).max() > alone_mm or beside_mm.max() > alone_mm:
        return None
    return k


def under_shades(page: np.ndarray, boxes: list[Box], others: list[Box], px_per_mm: float
                 ) -> list[tuple[float, float, float]]:
    """Under each of ``boxes`` (where found), how much darker than the paper the band ``UNDER_BOX_MM`` under its
    foot (ending ``UNDER_CLEAR_MM`` above a box of ``others``, the next row's, under it) is down its median
    column (``labels.median_column_shade_mm``, mm), and the same band half a box wide beyond half a box before
    and after it: (under, before, after). The paper is the lightest of the three bands and what lies between
    them (their 95th percentile): a shadow or glare across the row lightens or darkens some boxes' bands, paper
    and line alike."""
    shades = []
    for box in boxes:
        top = box.y_mm + box.h_mm + UNDER_BOX_MM[0]
        below = [other.y_mm - UNDER_CLEAR_MM for other in others if other.y_mm > top
                 and other.x_mm < box.x_mm + 2 * box.w_mm and other.x_mm + other.w_mm > box.x_mm - box.w_mm]
        height = max(min([box.y_mm + box.h_mm + UNDER_BOX_MM[1], *below]) - top, 1 / px_per_mm)
        bands = [Box(box.x_mm, top, box.w_mm, height), Box(box.x_mm - box.w_mm, top, box.w_mm / 2, height),
                 Box(box.x_mm + 1.5 * box.w_mm, top, box.w_mm / 2, height)]
        around = page[box_slices(Box(box.x_mm - box.w_mm, top, 3 * box.w_mm, height), 0.0, page.shape, px_per_mm)]
        paper = float(np.percentile(around, 95))
        shades.append(tuple(median_column_shade_mm(page[box_slices(band, 0.0, page.shape, px_per_mm)], paper,
                                                    px_per_mm) for band in bands))
    return shades
