"""Marks beside a field's boxes. On a choice field: a circled box, a tick next to one, a tick between two,
a circled label. Such a row has no box marked, so it read blank with full confidence and the answer was
lost without a word; or its one marked box holds the end of a stroke that lies mostly elsewhere. On a digit
or date field: the number or date written beside its boxes, which read blank, or a digit more written
beside the boxes (a second thought, a number longer than its boxes). On a visual-analogue line: a tick that
stops short of it or a number written by it (on its anchor words too: ``overprint``), which crosses nothing.
Each is flagged, for a person to read.

Ink counts when it is handwriting (``areas.handwriting_mask``: strokes, not a shadow's edge, nor straight
runs near the print's rules), lies off the page's print (``identify.expected_print``, widened for
descenders and registration), is no fold (``creases.runs_on``, or a thin straight line running across the
part of the page registered round the field, or ``FOLD_MIN_MM`` out of it) nor a printed line that a bent
page moved, and comes within ``BESIDE_MM`` of the rectangle round this field's boxes (a digit field's
widened by ``register.BOXES_SIDE_MM`` each side; a line's by ``LINE_BAND_MM`` above and below), its centre
nearer them than any other field's (a line's: not ``LINE_SHARED`` times further than another's). A quick
count of dark pixels first spares the fields where no such ink can be (``_dark_pixels``). Pixels are those of
the registered page (``px_per_mm``, 8 after ``register.warp_page``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import cv2
import numpy as np

from formkit.layout.blocks import BOX_LINE_MM
from formkit.layout.model import (
    Box,
    BoxesField,
    ChoiceField,
    Field,
    LineField,
    Page,
    TextRun,
    bounding_box,
    field_box,
    field_boxes,
)
from formkit.layout.text import MM_PER_PT, letters_box
from formkit.records import FieldValue

from . import areas, creases, marks, overprint, placement
from .identify import common_print, expected_print
from .ink import INK_CONTRAST, below
from .register import FIELD_MARGIN_MM, WARP_PX_PER_MM, box_slices, field_window
from .resolve import flag_for_review

T = TypeVar("T")

BESIDE_MM = 4.0  # round the rectangle of a field's boxes: a loop round a 5 mm box, a tick beside it
REACH_MM = FIELD_MARGIN_MM - BESIDE_MM  # further out, as far as the registered page is drawn, so that a
#                                        mark crossing into the zone is seen whole
TEXT_MARGIN_MM = 1.0  # around printed text: anti-aliasing, a page registered 0.5 mm off, descenders (beside
#                        boxes; near a line, DESCENT as well)
DESCENT = 0.25  # of the size, below the baseline: the font's descenders (g, y, brackets, an underscore)
# around printed boxes and rules, whose ink the handwriting mask mostly takes out already: wider, and it
# would cover the 1.2 mm between a goal card's boxes, where a tick astride two of them lies
LINE_MARGIN_MM = 0.3  # at 8 px/mm, 2 px each way
LINE_NEAR_MM = 1.0  # a bent or crumpled page moves its rules up to 0.75 mm from where registration puts them
ON_PRINTED_LINE_SHARE = 0.8  # of a straight piece of ink within LINE_NEAR_MM of a printed line: that line,
# if it runs within 10 degrees of across or down the page, as rules and borders do (an arc of a loop round a
# goal-card box, cut by the print round it, may be as straight and as near a border, at 45 degrees)
PRINTED_LINE_COS = float(np.cos(np.deg2rad(10.0)))
LABEL_BELOW_MM = 6.0  # an option's words under its box begin within this of it (a second line, further)
BESIDE_INK_MM2 = 0.75  # a short pencil tick (6 mm of a 0.25 mm line is 1.5 mm²) is well over this
OUTSIDE_SHARE = 2.0  # a tick twice the box's size has as much ink beside it as in it; one astride two
#                     boxes has most of its ink between them
# straight as a printed line or a crease: their pixels spread 0.05-0.15 mm across it, a tick's (its long arm
# with its short one) 0.3 mm, a quarter of a loop round a box 0.35 mm
STRAIGHT_MAX_SPREAD_MM = 0.2
# a straight line running out of the window is a fold when it crosses it (two of its sides) or is this long
# (a slash beside a box is shorter): what lies past the window is not drawn (register.warp_fields)
FOLD_MIN_MM = 8.0
BRIDGE_MM = 0.5  # a printed border and its margin cut a stroke crossing it by less than twice this
STRADDLE_MM2 = 0.25  # of ink in the next box, reached across the gap: a goal card's boxes are 1.2 mm apart
LEAST_INK_MM2 = min(BESIDE_INK_MM2, 2 * STRADDLE_MM2)  # the least that can flag a blank field, ink in its boxes too
# a digit field's writing apart from its boxes (pieces at least APART_SHARE outside them), beside digits read
# in them: a 5 mm "1" in a 0.4 mm pen is 2 mm²; a digit written across a border is one piece, mostly inside
APART_INK_MM2 = BESIDE_INK_MM2
# beside a blank row or digit field in an image under marks.LOW_RES_PX_PER_MM: a pencil stroke 0.25 mm wide,
# blurred over pixels of 0.2-0.3 mm, is only 0.2-0.3 darker than the paper
FAINT_INK_CONTRAST = 0.2
APART_SHARE = 0.5
# beside one marked box, ink level with the boxes (between their tops and feet) in pieces that run on from it,
# each within WORD_GAP_MM of it or of the last: letters written across the row ("N/A", "don't know"). A tick's
# arm leaves its box upwards, a cross's at its corners: a tick twice its box's size leaves up to 1.35 mm² there;
# another row's long tail or a stain's edge level with the row lies apart from the marked box
LEVEL_INK_MM2 = 1.5
WORD_GAP_MM = 2.0
LEVEL_SHARE = 0.5  # of a piece beside the boxes, level with them: a letter; the end of a long stroke from
#                    another row (a long tick's tail from the row below reaches 2-4 mm past a box) is not
LINE_BAND_MM = 1.0  # a number written under a line: its top 3-5 mm below it
# writing between two lines is either's, unless one is this much nearer: a number written under a line, as
# near the next (whose own number would be flagged anyway)
LINE_SHARED = 1.5
UNDER_GAP_MM = 0.25  # under a label's letters, before a line drawn under them: their blurred foot
UNDER_WORDS_MM = 3.0  # below that, where a printed rule just under the label is looked for
UNDER_PAST_RULE_MM = 0.5  # and past that rule's middle
UNDER_SHARE = 0.5  # of the label's width, dark: a line drawn under it, or the rule
# a line drawn under a label and merged with the rule below it: the darkness under the paper, summed down the
# window's median column (mm), this much over the options' median. Measured 2026-12-06 on goal cards (flatbed,
# 1-bit copies, 3 and 12 MP photos): the rule alone 0.30-0.38, underlined 0.54-1.21, 0.23 over the median at
# least; blank rows over marked ones, the most over the median 0.09 in photos and 0.127 in 1-bit copies, where
# a rule a row of pixels thicker is 0.125 (8 px/mm)
UNDER_MERGED_MM = 0.19
UNDER_INSIDE_MM = (0.5, 1.5)  # past the window's end: inside the box under the rule
UNDER_MARKED_BELOW_MM = 0.1  # of darkness there over the options' median: that box's mark reaches up over the rule
MERGED_MIN_OPTIONS = 3  # for a median that is the print's
ALONG_MM = 1.0  # across a straight piece of ink on printed words: the other pieces of the same stroke
PRINT_CACHE_PAGES = 4  # an A4 page's three masks take 12 MB


class _PerLayout:
    """Values worked out from a page's layout, kept for the last ``size`` layouts, as a batch reads the same
    few again and again. Keyed by the layout's id (hashing a page's whole geometry costs more than the rest),
    the layout kept with its value so that its id is no other's while cached; safe across threads (a Dask
    worker reads pages on several)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple[Page, object]] = OrderedDict()

    def get(self, layout_page: Page, key: tuple, make: Callable[[], T]) -> T:
        key = (id(layout_page), *key)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key][1]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._kept[key] = (layout_page, value)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value


_PRINT_MASKS = _PerLayout(PRINT_CACHE_PAGES)
_OPTION_LABELS = _PerLayout(256)  # a field each, and the page's regions


@dataclass(frozen=True)
class InkBeside:
    """Handwriting around a field's boxes (a choice's options, a digit field's boxes, a line) that belongs to
    it rather than to another field."""

    area_mm2: float  # off the print, outside the field's boxes, in pieces within BESIDE_MM of their rectangle
    whole_mm2: float  # the same pieces of ink with their parts inside the boxes (a tick between two)
    centre_mm: tuple[float, float]  # (x, y) of that ink; the boxes' centre when there is none
    inside_mm2: tuple[float, ...]  # within each box, off its printed border
    joined: frozenset[tuple[int, int]]  # boxes (a < b) that one piece of ink runs into, STRADDLE_MM2 in each
    apart_mm2: float = 0.0  # of the pieces beside the boxes, those with APART_SHARE of their ink outside them
    # of the ink beside the boxes, what lies level with them (between their tops and feet): (mm², x_mm from, to)
    # a piece
    level: tuple[tuple[float, float, float], ...] = ()


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
    darker than the paper, what lies within ``LINE_NEAR_MM`` of the print's lines left out."""
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
        for contrast in (INK_CONTRAST, FAINT_INK_CONTRAST) if faint else (INK_CONTRAST,):
            if value.needs_review:
                break
            if isinstance(f, ChoiceField):
                _check_choice(page, layout_page, f, value, px_per_mm, contrast)
            elif isinstance(f, BoxesField):
                _check_digits(page, layout_page, f, value, px_per_mm, contrast)


def _check_choice(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue, px_per_mm: float,
                  contrast: float) -> None:
    states = value.raw.get("states", [])
    if len(states) != len(f.options) or value.value and (f.multiple or states.count("marked") != 1):
        return
    if "marked" not in states and _label_marked(page, layout_page, f, value, px_per_mm, contrast):
        return
    boxes = placement.found_boxes(f, value)
    if not _dark_enough(page, layout_page, f, boxes, states, px_per_mm, contrast):
        return
    ink = ink_beside(page, layout_page, f, boxes, px_per_mm, contrast)
    reason = _doubt(ink, f, states, boxes, words_only=contrast < INK_CONTRAST)
    if reason:
        nearest = str(f.options[min(range(len(boxes)), key=lambda k: _distance_mm(*ink.centre_mm, boxes[k]))].value)
        value.raw["beside"] = {"ink_mm2": round(ink.area_mm2, 2), "nearest": nearest}
        if ink.joined:
            value.raw["beside"]["joined"] = [[str(f.options[k].value) for k in pair] for pair in sorted(ink.joined)]
        flag_for_review(value, reason.replace("{nearest}", nearest))


def _label_marked(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue, px_per_mm: float,
                  contrast: float = INK_CONTRAST) -> bool:
    """Flag ``value`` (a choice with no box marked) when there is handwriting on or round its options' words
    (``ink_on_words``, or ``ink_beside`` with the words under its boxes as its boxes: ``BESIDE_INK_MM2`` or
    more), or a line drawn under them just above a printed rule (``_line_over_print``): a label circled or
    underlined instead of its box. Its ink lies on the print that ``ink_beside`` leaves out, and a label
    printed under its box reaches past ``BESIDE_MM``: adversarial passes (2026-12-06, GAS follow-ups and goal
    cards, scans and 3-12 MP photos) read 16 of 39 circled labels and 34 of 41 underlined ones as a question
    left blank, at full confidence. Ink round the words is ``contrast`` darker than the paper; a second look
    with fainter ink (``FAINT_INK_CONTRAST``) looks only there, as ink on the words and a line over a rule do
    not depend on it. Returns whether it flagged."""
    second_look = contrast < INK_CONTRAST
    area_mm2, centre_mm = (0.0, (0.0, 0.0)) if second_look else ink_on_words(page, layout_page, f, px_per_mm)
    labels = labels_under(layout_page, f)
    if area_mm2 < BESIDE_INK_MM2 and labels:  # round or under the words, off them: as beside boxes
        around = ink_beside(page, layout_page, f, labels, px_per_mm, contrast, words=True)
        area_mm2, centre_mm = around.whole_mm2, around.centre_mm
    if area_mm2 < BESIDE_INK_MM2:
        over_print = None if second_look else _line_over_print(page, layout_page, f, px_per_mm)
        if over_print is None:
            return False
        area_mm2, centre_mm = over_print  # a line above a rule: too thin to weigh by its area, seen by its band
    nearest = min(f.options, key=lambda o: _distance_mm(*centre_mm, o.box))
    value.raw["beside"] = {"on_words_mm2": round(area_mm2, 2), "nearest": str(nearest.value)}
    flag_for_review(value, f"no box is marked, but there is writing on or round the options' words, nearest option "
                           f"{nearest.value}: a label circled or underlined instead of its box?")
    return True


def _line_over_print(page: np.ndarray, layout_page: Page, f: ChoiceField, px_per_mm: float
                     ) -> tuple[float, tuple[float, float]] | None:
    """A line drawn under an option's words where a printed rule runs just below them (a goal card's numbers
    sit 1.9 mm above the next row's boxes): from ``UNDER_GAP_MM`` under the words' first line to
    ``UNDER_PAST_RULE_MM`` past a printed rule within ``UNDER_WORDS_MM``, a second dark band across at least
    ``UNDER_SHARE`` of the words' width, paper between it and the rule. There a straight stroke is taken for
    the rule, moved by a bent page (``ink_beside``), and lies nearer the next row; two bands are the rule
    and a line. A line merged with the rule, as in a blurred photo or a 1-bit copy, is one band darker than
    under the other options' words (``UNDER_MERGED_MM``), the same print under each. Returns the area of the
    line's dark pixels, or of its darkness over the rule's, (mm²) and its centre, or ``None``."""
    near_lines = print_masks(layout_page, page.shape[:2], px_per_mm)[1]
    darkness: list[_UnderWords] = []
    for lines in option_labels(layout_page, f).values():
        first = lines[0]
        top_mm = first.y_mm + first.h_mm + UNDER_GAP_MM
        rows, cols = box_slices(Box(first.x_mm, top_mm, first.w_mm, UNDER_WORDS_MM), 0.0, page.shape, px_per_mm)
        near = np.flatnonzero(near_lines[rows, cols].any(axis=1))
        if not len(near):
            continue  # no printed rule just under these words: a line there is seen as beside them
        # down to just past the rule (a bent page moves it half a millimetre): a mark in the box under it is not
        # a line above it
        end = near[0] + int(round((LINE_NEAR_MM + UNDER_PAST_RULE_MM) * px_per_mm))
        window = page[rows.start:rows.start + end, cols]
        paper = float(np.percentile(page[rows, max(0, cols.start - int(px_per_mm)):cols.stop + int(px_per_mm)], 95))
        dark = below(window, paper * (1 - INK_CONTRAST))
        edges = np.diff(np.concatenate([[0], (dark.mean(axis=1) >= UNDER_SHARE).astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        centre_x_mm = first.x_mm + first.w_mm / 2
        if len(starts) >= 2:
            line = dark[starts[0]:ends[0]]
            return (float(np.count_nonzero(line)) / px_per_mm ** 2,
                    (centre_x_mm, (rows.start + (starts[0] + ends[0]) / 2) / px_per_mm))
        if paper > 0 and window.size:
            # and the box under the rule, whose mark (a fill, say) may reach up over it: a line is not told from it
            inside = page[rows.start + end + round(UNDER_INSIDE_MM[0] * px_per_mm):
                          rows.start + end + round(UNDER_INSIDE_MM[1] * px_per_mm), cols]
            darkness.append(_UnderWords(_median_column_shade_mm(window, paper, px_per_mm),
                                        _median_column_shade_mm(inside, paper, px_per_mm), first.w_mm,
                                        (centre_x_mm, (rows.start + end / 2) / px_per_mm)))
    if len(darkness) < MERGED_MIN_OPTIONS:
        return None
    usual_mm = float(np.median([d.window_mm for d in darkness]))
    usual_inside_mm = float(np.median([d.inside_mm for d in darkness]))
    underlined = [d for d in darkness if d.window_mm - usual_mm >= UNDER_MERGED_MM
                  and d.inside_mm - usual_inside_mm < UNDER_MARKED_BELOW_MM]
    if not underlined:
        return None
    line = max(underlined, key=lambda d: d.window_mm)
    return (line.window_mm - usual_mm) * line.width_mm, line.centre_mm


class _UnderWords(NamedTuple):
    """Under one option's words, where a printed rule runs: how much darker than the paper the window down to
    the rule is (``_median_column_shade_mm``), and the box under the rule, with the words' width and the
    window's centre."""

    window_mm: float
    inside_mm: float
    width_mm: float
    centre_mm: tuple[float, float]


def _median_column_shade_mm(region: np.ndarray, paper: float, px_per_mm: float) -> float:
    """How much darker than ``paper`` ``region`` (uint8 grey) is down its median column: the shade (1 - pixel /
    paper, none where lighter) summed down each column, in mm. The median: a stroke crossing at a slant darkens
    a few columns, a line drawn across all of them."""
    if not region.size:
        return 0.0
    shade = np.clip(1.0 - region.astype(np.float32) / paper, 0.0, None)
    return float(np.median(shade.sum(axis=0))) / px_per_mm


def label_regions(layout_page: Page) -> list[Box]:
    """Where the words printed under each choice's boxes (``labels_under``) are looked at, for
    ``register.warp_fields`` to draw as it draws fields (``FIELD_MARGIN_MM`` round each): the words' rectangle,
    ``creases.BEYOND_MM`` wider, so that ``ink_beside``'s window round them and a fold's test past what it
    finds there are on the page as drawn. A line under a label was taken for a crease running on where the
    drawn page ended, and a crease through a label for a stroke ending there. Kept per layout."""
    return _OPTION_LABELS.get(layout_page, ("label regions",), lambda: _label_regions(layout_page))


def _label_regions(layout_page: Page) -> list[Box]:
    grow_mm = creases.BEYOND_MM[1]
    regions = []
    for f in layout_page.fields:
        labels = labels_under(layout_page, f) if isinstance(f, ChoiceField) else []
        if labels:
            hull = bounding_box(labels)
            regions.append(Box(hull.x_mm - grow_mm, hull.y_mm - grow_mm, hull.w_mm + 2 * grow_mm,
                               hull.h_mm + 2 * grow_mm))
    return regions


def labels_under(layout_page: Page, f: ChoiceField) -> list[Box]:
    """The letters of the words printed under ``f``'s boxes, every option's (``option_labels``)."""
    return [box for boxes in option_labels(layout_page, f).values() for box in boxes]


def option_labels(layout_page: Page, f: ChoiceField) -> dict[int | str, list[Box]]:
    """Per option of ``f`` (its value), the letters of the words printed under its box, line by line (a GAS
    scale's "+1 Somewhat more", "than expected"; a goal card's "7"): runs centred within a millimetre of the
    box's middle, starting up to ``LABEL_BELOW_MM`` under it, and nearer ``f`` than any other field. Kept per
    layout: looking costs 10-14 ms for a K10 or alliance-check page, which has none."""
    return _OPTION_LABELS.get(layout_page, (f.id,), lambda: _option_labels(layout_page, f))


def _option_labels(layout_page: Page, f: ChoiceField) -> dict[int | str, list[Box]]:
    found: dict[int | str, list[Box]] = {}
    answer = _answer_area(f)
    others = [_answer_area(g) for g in layout_page.fields if g is not f]
    for run in layout_page.texts:
        if not run.text.strip():
            continue
        box = letters_box(run)
        centre = (box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2)
        if _nearer_another(centre, _distance_mm(*centre, answer), others):
            continue  # the next row's heading ("#3" on a large-print goal card), say: its words, not these
        for option in f.options:
            middle = option.box.x_mm + option.box.w_mm / 2
            below_mm = box.y_mm - (option.box.y_mm + option.box.h_mm)
            if abs(box.x_mm + box.w_mm / 2 - middle) <= 1.0 and 0 <= below_mm <= LABEL_BELOW_MM:
                found.setdefault(option.value, []).append(box)
                break
    return {value: sorted(boxes, key=lambda b: b.y_mm) for value, boxes in found.items()}


def _check_digits(page: np.ndarray, layout_page: Page, f: BoxesField, value: FieldValue, px_per_mm: float,
                  contrast: float) -> None:
    boxes = placement.found_boxes(f, value)
    beside_px, inside_px = _dark_pixels(page, layout_page, f, boxes, px_per_mm, contrast)
    least_mm2 = LEAST_INK_MM2 if not value.value else APART_INK_MM2
    if beside_px + (0 if value.value else sum(inside_px)) < least_mm2 * px_per_mm ** 2:
        return
    ink = ink_beside(page, layout_page, f, boxes, px_per_mm, contrast)
    if not value.value and (ink.joined or ink.whole_mm2 >= BESIDE_INK_MM2):
        value.raw["beside"] = {"ink_mm2": round(ink.whole_mm2, 2)}
        flag_for_review(value, "no digit in the boxes, but there is writing beside or across them: written "
                               "outside the boxes?")
    elif value.value and ink.apart_mm2 >= APART_INK_MM2:
        value.raw["beside"] = {"ink_mm2": round(ink.apart_mm2, 2)}
        flag_for_review(value, "writing beside the boxes as well as in them: a digit changed, or a number "
                               "longer than its boxes?")


def _check_line(page: np.ndarray, layout_page: Page, f: LineField, value: FieldValue, px_per_mm: float) -> None:
    line = [_answer_area(f)]
    beside_px, inside_px = _dark_pixels(page, layout_page, f, line, px_per_mm)
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


def ink_on_words(page: np.ndarray, layout_page: Page, f: Field, px_per_mm: float = WARP_PX_PER_MM
                 ) -> tuple[float, tuple[float, float]]:
    """The handwriting over the words printed by ``f`` (``_words_of``) and off their letters
    (``overprint.written_on``): its area (mm²) and centre (x, y mm; (0, 0) when there is none). Only what
    ``ink_beside`` leaves out as print counts, in pieces that are no crease and whose centre is not
    ``LINE_SHARED`` times further from ``f`` than from another field, as for ink near a line."""
    printed, near_lines, _ = print_masks(layout_page, page.shape[:2], px_per_mm)
    answer = _answer_area(f)
    others = [_answer_area(g) for g in layout_page.fields if g is not f]
    words = [(run, _with_descent(run)) for run in layout_page.texts if run.text.strip()]
    total_px, weighted = 0, np.zeros(2)
    for run in _words_of(layout_page, f):
        other_words = [box for other, box in words if other is not run]
        pieces = overprint.written_on(page, run, near_lines, other_words, px_per_mm) or []
        if len(pieces) > 1 and _crease(page, np.concatenate([ys for ys, _ in pieces]),
                                       np.concatenate([xs for _, xs in pieces]), px_per_mm):
            continue  # a crease across the words: the letters cut it into pieces too short to follow alone
        for (ys, xs), creased in zip(pieces, _creased(page, pieces, px_per_mm), strict=True):
            if creased:
                continue
            on_print = printed[ys, xs]
            ys, xs = ys[on_print], xs[on_print]
            if not len(xs):
                continue
            centre_mm = ((xs.mean() + 0.5) / px_per_mm, (ys.mean() + 0.5) / px_per_mm)
            if _nearer_another(centre_mm, _distance_mm(*centre_mm, answer), others, LINE_SHARED):
                continue
            total_px += len(xs)
            weighted += np.array([xs.mean(), ys.mean()]) * len(xs)
    centre = weighted / total_px / px_per_mm if total_px else np.zeros(2)
    return total_px / px_per_mm ** 2, (float(centre[0]), float(centre[1]))


def _creased(page: np.ndarray, pieces: list[tuple[np.ndarray, np.ndarray]], px_per_mm: float) -> list[bool]:
    """Which of ``pieces`` (rows, columns of ``page``: handwriting on printed words, cut by their letters) are
    a crease: with the other pieces along its axis (within ``ALONG_MM``), one line running on past them
    (``_crease``), where the rest of the pieces are not taken for its continuation. A crease across the words
    runs on beyond them; a line drawn under them is cut into pieces too (by descenders, by the letters'
    margins), which run on through each other and end with it (an adversarial pass, 2026-12-06: underlined
    labels read as a question left blank)."""
    creased = []
    for k, (ys, xs) in enumerate(pieces):
        axis = creases.thin_line(np.stack([xs, ys], axis=1), px_per_mm)
        if axis is None:
            creased.append(False)
            continue
        normal = np.array([-axis.direction[1], axis.direction[0]])
        along = [j == k or abs((np.stack([x, y], axis=1) - axis.centre) @ normal).max() <= ALONG_MM * px_per_mm
                 for j, (y, x) in enumerate(pieces)]
        line = _gathered(pieces, along)
        runs_on = _crease(page, *line, px_per_mm)
        if runs_on and not all(along):
            rest = _gathered(pieces, [not on for on in along])
            runs_on = _crease(_painted_out(page, *rest, px_per_mm), *line, px_per_mm)
        creased.append(runs_on)
    return creased


def _gathered(pieces: list[tuple[np.ndarray, np.ndarray]], chosen: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of the ``chosen`` of ``pieces``, together."""
    kept = [piece for piece, keep in zip(pieces, chosen, strict=True) if keep]
    return np.concatenate([ys for ys, _ in kept]), np.concatenate([xs for _, xs in kept])


def _painted_out(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, px_per_mm: float) -> np.ndarray:
    """A copy of ``page`` with the ink at ``ys``, ``xs`` and its blurred edge (``GLYPH_MARGIN_MM`` round it)
    made white paper."""
    margin = int(np.ceil(overprint.GLYPH_MARGIN_MM * px_per_mm))
    top, left = max(0, ys.min() - margin), max(0, xs.min() - margin)
    mask = np.zeros((ys.max() + margin + 1 - top, xs.max() + margin + 1 - left), np.uint8)
    mask[ys - top, xs - left] = 1
    mask = cv2.dilate(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    out = page.copy()
    window = out[top:top + mask.shape[0], left:left + mask.shape[1]]
    window[mask[:window.shape[0], :window.shape[1]] > 0] = 255
    return out


def _nearer_another(centre_mm: tuple[float, float], own_mm: float, others: list[Box], shared: float = 1.0) -> bool:
    """Whether a piece of ink centred at ``centre_mm``, ``own_mm`` from the field weighed, belongs to one of
    ``others`` (where the other fields are answered): ``shared`` times nearer it."""
    return any(_distance_mm(*centre_mm, box) < own_mm / shared for box in others)


def _with_descent(run: TextRun) -> Box:
    """``letters_box`` of ``run`` with its descenders (``DESCENT``)."""
    box = letters_box(run)
    return Box(box.x_mm, box.y_mm, box.w_mm, box.h_mm + DESCENT * run.size_pt * MM_PER_PT)


def _crease(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, px_per_mm: float) -> bool:
    """Whether the ink at ``ys``, ``xs`` is a crease: one thin straight line running on past both ends, or
    ``creases.LINE_ONE_WAY_MM`` past one (a crumpled page's crease may end just past the words)."""
    return creases.runs_on(page, np.stack([xs, ys], axis=1), px_per_mm, one_way_mm=creases.LINE_ONE_WAY_MM)


def _words_of(layout_page: Page, f: Field) -> list[TextRun]:
    """The runs of print within ``BESIDE_MM`` of where ``f`` is answered, their centre nearer it than any
    other field's: a line's anchor words."""
    answer = _answer_area(f)
    others = [_answer_area(g) for g in layout_page.fields if g is not f]
    near = []
    for run in layout_page.texts:
        box = letters_box(run)
        if not run.text.strip() or _boxes_apart_mm(box, answer) > BESIDE_MM:
            continue
        centre = (box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2)
        if all(_distance_mm(*centre, g) > _distance_mm(*centre, answer) for g in others):
            near.append(run)
    return near


def _boxes_apart_mm(a: Box, b: Box) -> float:
    """The gap between two rectangles (0 when they touch or overlap)."""
    return float(np.hypot(max(a.x_mm - b.x_mm - b.w_mm, b.x_mm - a.x_mm - a.w_mm, 0.0),
                          max(a.y_mm - b.y_mm - b.h_mm, b.y_mm - a.y_mm - a.h_mm, 0.0)))


def _answer_area(f: Field) -> Box:
    """Where ``f`` is answered, to tell which field a piece of ink is nearest: the rectangle round its boxes,
    its writing area, or its line itself (a box round it, as ``field_box`` gives, would take the ink beside a
    neighbouring line for its own)."""
    if isinstance(f, LineField):
        return Box(f.x1_mm, f.y1_mm, f.x2_mm - f.x1_mm, 0.0)
    return field_box(f)


def _zone(f: Field, hull: Box) -> Box:
    """Where ink within ``BESIDE_MM`` belongs to ``f`` (answered in ``hull``): round a digit field's boxes
    wider, for a number written on after them (``register.field_window``); round a line, ``LINE_BAND_MM``
    each side of it, for a number written under it, among its anchor words; round a choice's boxes
    themselves (``hull``: ink further along its row is no mark beside a box)."""
    if isinstance(f, LineField):
        return Box(hull.x_mm, hull.y_mm - LINE_BAND_MM, hull.w_mm, 2 * LINE_BAND_MM)
    return hull if isinstance(f, ChoiceField) else field_window(f, hull)


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
    beside_px, inside = _dark_pixels(page, layout_page, f, boxes, px_per_mm, contrast)
    mm2 = px_per_mm ** 2
    if marked is None:
        return beside_px + sum(inside) >= LEAST_INK_MM2 * mm2
    return (others_empty and beside_px >= BESIDE_INK_MM2 * mm2) \
        or any(inside[k] >= STRADDLE_MM2 * mm2 for k in empty_neighbours)


def _dark_pixels(page: np.ndarray, layout_page: Page, f: ChoiceField | BoxesField, boxes: list[Box],
                 px_per_mm: float, contrast: float = INK_CONTRAST) -> tuple[int, list[int]]:
    """Dark pixels off the print in the window round ``f``'s ``boxes`` (where found): beside every field's
    boxes, and in each of ``boxes``. Dark is under ``1 - contrast`` of the window's lightest pixel, so
    every pixel that ``ink_beside`` takes for ink at ``contrast`` (that much darker than the paper around it)
    is dark; at a faint contrast, what lies within ``LINE_NEAR_MM`` of the print's lines is left out, as
    ``ink_beside`` leaves it."""
    rows, cols = _window(f, bounding_box(boxes), page.shape, px_per_mm)
    window = page[rows, cols]
    printed, near_lines, in_boxes = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    dark = below(window, float(window.max()) * (1 - contrast)) & ~printed
    if contrast < INK_CONTRAST:
        dark &= ~near_lines

    def within(box: Box) -> tuple[slice, slice]:
        return _within(box, rows, cols, page.shape, px_per_mm)

    found = [within(box) for box in boxes]
    inside = [int(np.count_nonzero(dark[box])) for box in found]
    # a neighbouring row's tick lies in its own box: its ink there is that row's; this row's boxes are
    # where its reading found them, up to 1.4 mm from where the layout puts them (found where laid out, as
    # on most pages, they are every box's inside as printed)
    others_boxes = in_boxes
    if boxes != field_boxes(f):
        others_boxes = in_boxes.copy()
        for box in field_boxes(f):
            others_boxes[within(box)] = False
        for box in found:
            others_boxes[box] = True
    return int(np.count_nonzero(dark & ~others_boxes)), inside


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
        if ink.whole_mm2 >= BESIDE_INK_MM2:
            return ("no box is marked, but there is a mark beside the boxes, nearest option {nearest}: a circled "
                    "box or a tick beside it?")
        return ""
    if not words_only:  # faint ink beside a mark: only a word written on across the row is looked for
        for k in empty_neighbours:  # a filled box beside it is the printed convention: not in doubt here
            if (min(k, m), max(k, m)) in ink.joined:
                return (f"the mark in option {f.options[m].value} runs on into option {f.options[k].value}: a tick "
                        "between two answers?")
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


def ink_beside(page: np.ndarray, layout_page: Page, f: ChoiceField | BoxesField, boxes: list[Box] | None = None,
               px_per_mm: float = WARP_PX_PER_MM, contrast: float = INK_CONTRAST, words: bool = False) -> InkBeside:
    """The handwriting around ``f``'s boxes (``boxes``, one an option or a digit, where the page shows them;
    the layout's by default) on ``page`` (the registered page, 2-D uint8 grey): a piece of ink beside them is
    ``f``'s when it comes within ``BESIDE_MM`` of the rectangle round them (``_zone``), its centre is nearer
    them than any other field (a line: ``LINE_SHARED``), and it is neither a printed line moved nor a fold (see
    the module's text). Ink is ``contrast`` darker than the paper. ``words``: ``boxes`` are the words printed
    under a choice's boxes (``labels_under``), where a straight stroke is a line drawn under one, not a rule."""
    boxes = boxes or field_boxes(f)
    hull = bounding_box(boxes)
    zone = _zone(f, hull)
    rows, cols = _window(f, hull, page.shape, px_per_mm)
    printed, near_lines, _ = (mask[rows, cols] for mask in print_masks(layout_page, page.shape[:2], px_per_mm))
    in_box = np.full(printed.shape, -1, np.int16)  # which of the boxes a pixel is in
    borders = np.zeros(printed.shape, np.uint8)  # the boxes' outlines where they were found (a bent page
    #                                              moves them up to a millimetre): their sides are rules too
    for k, box in enumerate(boxes):
        box_rows, box_cols = _within(box, rows, cols, page.shape, px_per_mm)
        in_box[box_rows, box_cols] = k
        if not words:  # printed words have no outline
            cv2.rectangle(borders, (box_cols.start, box_rows.start), (box_cols.stop - 1, box_rows.stop - 1), 1, 1)
    # beside digits and lines, straight runs are rules only near the print's (a crease is a fold, below): an
    # upright 1 written beside a date's boxes is writing. Beside choice boxes, where people tick, anywhere.
    rules_near = None if isinstance(f, ChoiceField) and not words \
        else near_lines | _widened(borders, LINE_NEAR_MM, px_per_mm)
    ink = areas.handwriting_mask(page[rows, cols], px_per_mm, rules_near=rules_near, contrast=contrast) & ~printed
    if isinstance(f, LineField):
        ink &= ~_descenders(layout_page, rows, cols, px_per_mm)
    if contrast < INK_CONTRAST:  # a blurred border's edges, moved, show as faint strokes along it
        ink &= ~(near_lines | _widened(borders, LINE_NEAR_MM, px_per_mm))
    inside_mm2 = np.bincount(in_box[ink & (in_box >= 0)], minlength=len(boxes)) / px_per_mm ** 2
    on_outlines = _widened(borders, BOX_LINE_MM / 2 + LINE_MARGIN_MM, px_per_mm)
    others = [_answer_area(g) for g in layout_page.fields if g is not f]
    origin = (rows.start, cols.start)
    joined: set[tuple[int, int]] = set()
    candidates: list[tuple[np.ndarray, np.ndarray, int, tuple[float, float]]] = []
    total_px, whole_px, apart_px, weighted = 0, 0, 0, np.zeros(2)
    level: list[tuple[float, float, float]] = []
    level_rows = (round(hull.y_mm * px_per_mm) - rows.start, round((hull.y_mm + hull.h_mm) * px_per_mm) - rows.start)
    moved_mm, shared = 0.0, LINE_SHARED if isinstance(f, LineField) else 1.0  # writing between two lines
    if isinstance(f, BoxesField):  # a stroke across a border is cut at the border laid out and at the one found
        moved_mm = max(max(abs(b.x_mm - p.x_mm), abs(b.y_mm - p.y_mm)) for b, p in zip(boxes, f.boxes, strict=True))
    for ys, xs in _pieces(ink, px_per_mm, BRIDGE_MM + moved_mm / 2):
        in_which = in_box[ys, xs]
        reached = np.flatnonzero(np.bincount(in_which[in_which >= 0], minlength=len(boxes))
                                 >= STRADDLE_MM2 * px_per_mm ** 2)
        if len(reached) > 1 and not _fold(page, ys, xs, origin, ink.shape, px_per_mm):
            joined.update((int(a), int(b)) for a in reached for b in reached if a < b)
        beside_ys, beside_xs = ys[in_which < 0], xs[in_which < 0]
        if len(beside_xs) < areas.SPECK_MM2 * px_per_mm ** 2:
            continue
        centre_mm = ((beside_xs.mean() + cols.start) / px_per_mm, (beside_ys.mean() + rows.start) / px_per_mm)
        own = _distance_mm(*centre_mm, hull)
        nearest_mm = np.min(_distance_mm((beside_xs + cols.start + 0.5) / px_per_mm,
                                         (beside_ys + rows.start + 0.5) / px_per_mm, zone))
        if nearest_mm > BESIDE_MM or _nearer_another(centre_mm, own, others, shared):
            continue
        axis = creases.ink_axis(np.stack([beside_xs, beside_ys], axis=1))
        if axis is not None and axis.spread_px <= STRAIGHT_MAX_SPREAD_MM * px_per_mm \
                and max(abs(axis.direction)) >= PRINTED_LINE_COS \
                and np.mean(near_lines[beside_ys, beside_xs]) >= ON_PRINTED_LINE_SHARE:
            continue  # a printed rule or border that a bent page moved off its place, or a dash of it
        if np.mean(on_outlines[beside_ys, beside_xs]) >= ON_PRINTED_LINE_SHARE:
            continue  # a piece of a box's own outline where it was found: a bent page moves it past the print's
        candidates.append((beside_ys, beside_xs, len(xs), centre_mm))
    # folds are looked for only where they could matter: a tick's overshoot beside its box is not enough
    worth_it = sum(whole for _, _, whole, _ in candidates) >= BESIDE_INK_MM2 * px_per_mm ** 2
    for beside_ys, beside_xs, whole, centre_mm in candidates:
        if worth_it and _fold(page, beside_ys, beside_xs, origin, ink.shape, px_per_mm):
            continue
        total_px += len(beside_xs)
        whole_px += whole
        apart_px += len(beside_xs) if len(beside_xs) >= APART_SHARE * whole else 0
        level_xs = beside_xs[(beside_ys >= level_rows[0]) & (beside_ys < level_rows[1])]
        if len(level_xs) and len(level_xs) >= LEVEL_SHARE * len(beside_xs):
            level.append((len(level_xs) / px_per_mm ** 2, (level_xs.min() + cols.start) / px_per_mm,
                          (level_xs.max() + 1 + cols.start) / px_per_mm))
        weighted += len(beside_xs) * np.array(centre_mm)
    centre = weighted / total_px if total_px else (hull.x_mm + hull.w_mm / 2, hull.y_mm + hull.h_mm / 2)
    return InkBeside(total_px / px_per_mm ** 2, whole_px / px_per_mm ** 2, (float(centre[0]), float(centre[1])),
                     tuple(float(a) for a in inside_mm2), frozenset(joined), apart_px / px_per_mm ** 2,
                     tuple((float(a), float(x0), float(x1)) for a, x0, x1 in level))


def _window(f: Field, hull: Box, shape: tuple[int, ...], px_per_mm: float) -> tuple[slice, slice]:
    """Where the ink beside ``f`` (answered in ``hull``) is looked at: its zone (``_zone``) and what is drawn
    for it (``register.field_window``), ``BESIDE_MM + REACH_MM`` round them, as far as the page is drawn: a
    number begun within ``BESIDE_MM`` after a row's last box is seen whole."""
    return box_slices(bounding_box([_zone(f, hull), field_window(f, hull)]), BESIDE_MM + REACH_MM, shape, px_per_mm)


def _descenders(layout_page: Page, rows: slice, cols: slice, px_per_mm: float) -> np.ndarray:
    """Each run of ``layout_page``'s print with its descenders (``_with_descent``), ``TEXT_MARGIN_MM`` wider,
    in the window ``rows``, ``cols`` of the registered page (bool): an underscore's dash in anchor words,
    moved by a bent page, is no writing near a line. Beside boxes the band under the baseline stays in view,
    where a loop round a box passes under its label."""
    return overprint.boxes_mask([_with_descent(run) for run in layout_page.texts if run.text.strip()],
                                TEXT_MARGIN_MM, (rows.start, cols.start), (rows.stop - rows.start,
                                                                          cols.stop - cols.start), px_per_mm)


def _fold(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, origin: tuple[int, int], shape: tuple[int, ...],
          px_per_mm: float) -> bool:
    """Whether a piece of ink (``ys``, ``xs``: its pixels in a window of ``shape`` at ``origin`` (row,
    column) of ``page``) is a fold: a thin straight line that runs on past both its ends
    (``creases.runs_on``), or that runs out of the window, where the page is not drawn, across it (out of
    two of its sides) or ``FOLD_MIN_MM`` long."""
    points = np.stack([xs + origin[1], ys + origin[0]], axis=1)
    sides = (xs.min() == 0) + (ys.min() == 0) + (xs.max() == shape[1] - 1) + (ys.max() == shape[0] - 1)
    if sides:
        axis = creases.thin_line(points, px_per_mm, STRAIGHT_MAX_SPREAD_MM)
        if axis is not None and (sides > 1 or axis.ends_px[1] - axis.ends_px[0] >= FOLD_MIN_MM * px_per_mm):
            return True
    return creases.runs_on(page, points, px_per_mm)


def _pieces(ink: np.ndarray, px_per_mm: float, bridge_mm: float = BRIDGE_MM) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pixels (rows, columns) of each piece of ``ink``: strokes that the print cuts apart (a tick's
    tail across its box's border, a loop across a row's rule) are joined again over ``bridge_mm``, so each
    is judged whole and given to the field it answers."""
    count, labels = cv2.connectedComponents(_widened(ink.astype(np.uint8), bridge_mm, px_per_mm).view(np.uint8),
                                            connectivity=8)
    ys, xs = np.nonzero(ink)
    of = labels[ys, xs]
    order = np.argsort(of, kind="stable")
    bounds = np.searchsorted(of[order], np.arange(1, count + 1))
    return [(ys[order[bounds[k - 1]:bounds[k]]], xs[order[bounds[k - 1]:bounds[k]]]) for k in range(1, count)]


def _distance_mm(x_mm: float | np.ndarray, y_mm: float | np.ndarray, box: Box) -> float | np.ndarray:
    """From each point (x, y mm) to the nearest point of ``box`` (0 inside it)."""
    dx = np.maximum(np.maximum(box.x_mm - x_mm, 0.0), x_mm - box.x_mm - box.w_mm)
    dy = np.maximum(np.maximum(box.y_mm - y_mm, 0.0), y_mm - box.y_mm - box.h_mm)
    return np.hypot(dx, dy)


def _within(box: Box, rows: slice, cols: slice, shape: tuple[int, ...], px_per_mm: float) -> tuple[slice, slice]:
    """``box``'s rows and columns in the window ``rows``, ``cols`` of a page of ``shape``."""
    box_rows, box_cols = box_slices(box, 0.0, shape, px_per_mm)
    return (slice(box_rows.start - rows.start, box_rows.stop - rows.start),
            slice(box_cols.start - cols.start, box_cols.stop - cols.start))


def print_masks(layout_page: Page, shape: tuple[int, int], px_per_mm: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``layout_page`` prints, as bool masks of the registered page (``shape``): its text (and the
    markers, QR code and serial every page prints) widened by
    ``TEXT_MARGIN_MM`` and its boxes and rules by ``LINE_MARGIN_MM`` (taken out of the ink), and its boxes
    and rules widened by ``LINE_NEAR_MM`` (a piece of ink nearly all within is a printed line a bent page
    moved), and the inside of every box of its fields. Kept for the last few page layouts, as a batch reads
    the same few again and again."""
    return _PRINT_MASKS.get(layout_page, (shape, px_per_mm), lambda: _print_masks(layout_page, shape, px_per_mm))


def _print_masks(layout_page: Page, shape: tuple[int, int], px_per_mm: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = expected_print(layout_page, px_per_mm, lines=False, shape=shape)
    lines = expected_print(layout_page, px_per_mm, text=False, shape=shape)
    in_boxes = np.zeros(shape, bool)
    for f in layout_page.fields:
        for box in field_boxes(f):
            in_boxes[box_slices(box, 0.0, shape, px_per_mm)] = True
    # the serial printed under the QR code is print too (a goal card's date boxes lie just under it), but
    # what lies within a field's boxes is the field's
    serial = (1 - common_print(layout_page, px_per_mm, shape)).astype(bool) & ~in_boxes
    return (_widened(text, TEXT_MARGIN_MM, px_per_mm) | _widened(lines, LINE_MARGIN_MM, px_per_mm) | serial,
            _widened(lines, LINE_NEAR_MM, px_per_mm), in_boxes)


def _widened(mask: np.ndarray, margin_mm: float, px_per_mm: float) -> np.ndarray:
    """``mask`` (0/1 uint8) grown by ``margin_mm`` each way, as bool."""
    size = 2 * int(round(margin_mm * px_per_mm)) + 1
    return cv2.dilate(mask, np.ones((size, size), np.uint8)).astype(bool)
