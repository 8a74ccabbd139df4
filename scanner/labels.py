"""The words printed under a choice's boxes (a GAS scale's "+1 Somewhat more", a goal card's numbers), and
marks on them: a label circled or underlined instead of its box. Such a row has no box marked, so it read
blank with full confidence; ``label_marked`` flags it. ``ink_on_words`` measures the handwriting on any
field's printed words (a visual-analogue line's anchor words too: ``beside``); ink round the words is measured
as round any field (``ink_beside``); ``label_regions`` tells ``register.warp_fields`` where they are looked at.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from formkit.layout.model import Box, ChoiceField, Field, Page, TextRun, bounding_box, boxes_apart_mm
from formkit.layout.text import letters_box
from formkit.records import FieldValue

from . import creases, overprint
from .beside_ink import (
    BESIDE_INK_MM2,
    BESIDE_MM,
    LINE_NEAR_MM,
    LINE_SHARED,
    PerLayout,
    answer_area,
    distance_mm,
    ink_beside,
    nearer_another,
    print_masks,
    with_descent,
)
from .ink import INK_CONTRAST, below
from .register import WARP_PX_PER_MM, box_slices
from .resolve import flag_for_review

LABEL_BELOW_MM = 6.0  # an option's words under its box begin within this of it (a second line, further)
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
_OPTION_LABELS = PerLayout(256)  # a field each, and the page's regions


def label_marked(page: np.ndarray, layout_page: Page, f: ChoiceField, value: FieldValue, px_per_mm: float,
                 contrast: float = INK_CONTRAST) -> bool:
    """Flag ``value`` (a choice with no box marked) when there is handwriting on or round its options' words
    (``ink_on_words`` and ``ink_beside`` with the words under its boxes as its boxes, together: ``BESIDE_INK_MM2`` or
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
        # both count, as ink on the words and near the boxes do beside boxes: a line under a goal card's "0" lay
        # 0.53 mm² on the number and 0.66 under it, and the row read blank (unusual_marks *underlined*, 2026-12-07)
        centre_mm = around.centre_mm if around.whole_mm2 >= area_mm2 else centre_mm
        area_mm2 += around.whole_mm2
    if area_mm2 < BESIDE_INK_MM2:
        over_print = None if second_look else _line_over_print(page, layout_page, f, px_per_mm)
        if over_print is None:
            return False
        area_mm2, centre_mm = over_print  # a line above a rule: too thin to weigh by its area, seen by its band
    nearest = min(f.options, key=lambda o: distance_mm(*centre_mm, o.box))
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
            darkness.append(_UnderWords(median_column_shade_mm(window, paper, px_per_mm),
                                        median_column_shade_mm(inside, paper, px_per_mm), first.w_mm,
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
    the rule is (``median_column_shade_mm``), and the box under the rule, with the words' width and the
    window's centre."""

    window_mm: float
    inside_mm: float
    width_mm: float
    centre_mm: tuple[float, float]


def median_column_shade_mm(region: np.ndarray, paper: float, px_per_mm: float) -> float:
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
    answer = answer_area(f)
    others = [answer_area(g) for g in layout_page.fields if g is not f]
    for run in layout_page.texts:
        if not run.text.strip():
            continue
        box = letters_box(run)
        centre = (box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2)
        if nearer_another(centre, distance_mm(*centre, answer), others):
            continue  # the next row's heading ("#3" on a large-print goal card), say: its words, not these
        for option in f.options:
            middle = option.box.x_mm + option.box.w_mm / 2
            below_mm = box.y_mm - (option.box.y_mm + option.box.h_mm)
            if abs(box.x_mm + box.w_mm / 2 - middle) <= 1.0 and 0 <= below_mm <= LABEL_BELOW_MM:
                found.setdefault(option.value, []).append(box)
                break
    return {value: sorted(boxes, key=lambda b: b.y_mm) for value, boxes in found.items()}


def ink_on_words(page: np.ndarray, layout_page: Page, f: Field, px_per_mm: float = WARP_PX_PER_MM
                 ) -> tuple[float, tuple[float, float]]:
    """The handwriting over the words printed by ``f`` (``_words_of``) and off their letters
    (``overprint.written_on``): its area (mm²) and centre (x, y mm; (0, 0) when there is none). Only what
    ``ink_beside`` leaves out as print counts, in pieces that are no crease and whose centre is not
    ``LINE_SHARED`` times further from ``f`` than from another field, as for ink near a line."""
    printed, near_lines, _ = print_masks(layout_page, page.shape[:2], px_per_mm)
    answer = answer_area(f)
    others = [answer_area(g) for g in layout_page.fields if g is not f]
    words = [(run, with_descent(run)) for run in layout_page.texts if run.text.strip()]
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
            if nearer_another(centre_mm, distance_mm(*centre_mm, answer), others, LINE_SHARED):
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


def _crease(page: np.ndarray, ys: np.ndarray, xs: np.ndarray, px_per_mm: float) -> bool:
    """Whether the ink at ``ys``, ``xs`` is a crease: one thin straight line running on past both ends, or
    ``creases.LINE_ONE_WAY_MM`` past one (a crumpled page's crease may end just past the words)."""
    return creases.runs_on(page, np.stack([xs, ys], axis=1), px_per_mm, one_way_mm=creases.LINE_ONE_WAY_MM)


def _words_of(layout_page: Page, f: Field) -> list[TextRun]:
    """The runs of print within ``BESIDE_MM`` of where ``f`` is answered, their centre nearer it than any
    other field's: a line's anchor words."""
    answer = answer_area(f)
    others = [answer_area(g) for g in layout_page.fields if g is not f]
    near = []
    for run in layout_page.texts:
        box = letters_box(run)
        if not run.text.strip() or boxes_apart_mm(box, answer) > BESIDE_MM:
            continue
        centre = (box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2)
        if all(distance_mm(*centre, g) > distance_mm(*centre, answer) for g in others):
            near.append(run)
    return near
