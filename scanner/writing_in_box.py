"""Writing in a box instead of a mark. A respondent who writes "?" in a box, or begins a word there ("N/A",
"n/a", "not sure") with most of it inside, leaves ink that makes the box read as marked, and the row read as
that answer at full confidence. Each is flagged.

A single-choice row with one box marked and every other empty is looked at: that box's handwriting
(``question_marks.box_pieces``: the pieces inside the border where the box was found, down to a dot's size) holds
a question mark (``question_marks.hook_and_dot``) or letters (``looks_like_letters``). A tick, a slash, a dot
or a cross is one piece; a tick whose pen lifted, two of different heights; a cross broken by a blurred photo,
pieces at its corners and one in the middle. In a photo under ``marks.LOW_RES_PX_PER_MM`` along the page, where
the handwriting mask loses letters blurred into each other and into the border, the box's grey is cut again as for
a faint "?" (``letters_in_the_grey``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import tee

import numpy as np

from formkit.layout.model import Box, Page
from formkit.records import FieldValue

from . import marks, placement
from .question_marks import (
    INSET_MM,
    Cut,
    Piece,
    box_pieces,
    faint_hook_and_dot,
    hook_alone,
    hook_and_dot,
    second_look,
)
from .register import WARP_PX_PER_MM
from .resolve import flag_for_review

# letters side by side: each this large and tall ("n/a" in a 5 mm box: pieces of 0.3-2.8 mm², 1.5-3.2 mm tall;
# a pen's lift or a 1-bit copy cuts a letter into pieces down to 0.2 mm², 0.9 mm tall), the tallest at most
# RUN_HEIGHT_RATIO times the shortest (a scribble in a faded 3 MP photo: a stroke the box's height beside two
# short pieces, 4.25 times as tall, and a 0.22 mm² sliver)
LETTER_MIN_MM2 = 0.3
LETTER_MIN_MM = 0.8
LETTERS_MIN = 3
RUN_HEIGHT_RATIO = 3.0
LEVEL_SHARE = 0.6  # of the shorter of two neighbours' heights, shared: written along one line
LETTER_GAP_MM = 0.8  # between neighbours, at most
# or two, as large as letters (the "/" of "N/A" joined to one of them): each of this area and height, their
# heights within HEIGHT_RATIO of each other, not both running on past the border; a tick whose pen lifted leaves
# a short arm and a long one (1.8-3.8 times as tall, measured on 1,412 marked boxes of respondent_styles.py's
# forms, scans and photos), and a tick twice its box's size, blurred in a 3 MP photo, its foot and its long
# arm cut where it leaves the box (2.4-2.9 mm tall); and neither taller than PAIR_MAX_SHARE of the box's inside
# (a mark in a 100 dpi fax, desk_hazards.py, came out as two halves 4.0 and 4.25 mm tall, inside 4.25 mm)
PAIR_MIN_MM2 = 0.8
PAIR_MIN_MM = 1.5
HEIGHT_RATIO = 1.5
PAIR_MAX_SHARE = 0.8
# the letters hold this much of the box's ink (pieces of LETTER_MIN_MM2 or more): a cross blurred into pieces in a
# 3 MP photo has two level corners over a middle piece and two more corners
INK_SHARE = 0.7


def flag_writing_in_boxes(page: np.ndarray, layout_page: Page, values: list[FieldValue],
                          px_per_mm: float = WARP_PX_PER_MM, source_px_per_mm: float = WARP_PX_PER_MM) -> None:
    """Flag, in place, each unflagged single-choice value of ``values`` whose one marked box (every other
    empty) holds a question mark or letters; ``raw["question_mark"]`` or ``raw["letters"]`` names the option.
    ``page``: the registered page (2-D uint8 grey); the box is looked at where the field's reading found it.
    From an image under ``marks.LOW_RES_PX_PER_MM`` along the page (``source_px_per_mm``), a hook alone, its
    dot lost, is a question mark too (``question_marks.hook_alone``)."""
    for f, value, k in marks.lone_marked_rows(layout_page, values):
        box = placement.found_boxes(f, value)[k]
        pieces = box_pieces(page, box, px_per_mm)
        option = str(f.options[k].value)
        question = hook_and_dot(pieces)
        inside_h_mm = box.h_mm - 2 * INSET_MM
        low_res = source_px_per_mm < marks.LOW_RES_PX_PER_MM
        # the box's grey cut once, for the letters' look and the "?"'s, each taking the cuts it needs
        for_letters, for_question = tee(second_look(page, box, px_per_mm)) if low_res else (None, None)
        if not question and (looks_like_letters(pieces, inside_h_mm)
                             or low_res and letters_in_the_grey(page, box, px_per_mm, for_letters)):
            value.raw["letters"] = option
            flag_for_review(value, f"option {option} holds what looks like letters or a word, not a tick or a cross: "
                                   "an answer, or a note such as N/A?")
        elif question or faint_hook_and_dot(page, box, px_per_mm, for_question) or \
                low_res and hook_alone(page, box, px_per_mm):
            value.raw["question_mark"] = option
            flag_for_review(value, f"option {option} holds what looks like a question mark, not a tick or a cross: "
                                   "an answer, or unsure?")


def looks_like_letters(pieces: Sequence[Piece], inside_h_mm: float) -> bool:
    """Whether ``pieces`` (of the handwriting inside a box ``inside_h_mm`` tall) are letters written along a
    line: ``LETTERS_MIN`` or more side by side, level, each within ``LETTER_GAP_MM`` of the last, of heights within
    ``RUN_HEIGHT_RATIO``; or two such of like height (``PAIR_MIN_MM2``, ``PAIR_MIN_MM``, ``HEIGHT_RATIO``, at most
    ``PAIR_MAX_SHARE`` of the inside), one at least ending in the box; holding ``INK_SHARE`` of the box's ink
    either way."""
    ink_mm2 = sum(p.area_mm2 for p in pieces if p.area_mm2 >= LETTER_MIN_MM2)
    for run in _runs(pieces, LETTER_MIN_MM2, LETTER_MIN_MM):
        heights = [p.h_mm for p in run]
        if len(run) >= LETTERS_MIN and max(heights) <= RUN_HEIGHT_RATIO * min(heights) \
                and sum(p.area_mm2 for p in run) >= INK_SHARE * ink_mm2:
            return True
    for run in _runs(pieces, PAIR_MIN_MM2, PAIR_MIN_MM):
        for a, b in zip(run, run[1:], strict=False):
            taller, shorter = max(a.h_mm, b.h_mm), min(a.h_mm, b.h_mm)
            if taller <= HEIGHT_RATIO * shorter and taller <= PAIR_MAX_SHARE * inside_h_mm and not (a.cut and b.cut) \
                    and a.area_mm2 + b.area_mm2 >= INK_SHARE * ink_mm2:
                return True
    return False


def letters_in_the_grey(page: np.ndarray, box: Box, px_per_mm: float = WARP_PX_PER_MM,
                        cuts: Iterable[Cut] | None = None) -> bool:
    """Whether the inside of ``box`` on ``page``, cut in the grey as ``question_marks.second_look`` cuts it (the
    box's blurred border left out; ``cuts``, where another look has them already), holds letters
    (``looks_like_letters``) at any of its cuts. Where the darkest cut holds fewer than two pieces as large as
    letters (a tick, a cross, a dot: one piece) it looks no further: the later cuts, lighter, only join pieces."""
    inside_h_mm = box.h_mm - 2 * INSET_MM
    for cut in second_look(page, box, px_per_mm) if cuts is None else cuts:
        if cut.first and sum(p.area_mm2 >= LETTER_MIN_MM2 and p.h_mm >= LETTER_MIN_MM for p in cut.pieces) < 2:
            return False
        if looks_like_letters(cut.pieces, inside_h_mm):
            return True
    return False


def _runs(pieces: Sequence[Piece], least_mm2: float, least_mm: float) -> list[list[Piece]]:
    """From each piece of ``least_mm2`` and ``least_mm`` tall or more, left to right: the pieces that follow it
    side by side (each beginning past the middle of the last, within ``LETTER_GAP_MM``) and level with the last
    (``LEVEL_SHARE`` of the shorter's height shared)."""
    big = sorted((p for p in pieces if p.area_mm2 >= least_mm2 and p.h_mm >= least_mm), key=lambda p: p.x_mm)
    runs = []
    for i, first in enumerate(big):
        run = [first]
        for piece in big[i + 1:]:
            last = run[-1]
            if piece.x_mm < last.x_mm + last.w_mm / 2:
                continue  # above or below the last, or one stroke crossing it: not the next letter
            if piece.x_mm - (last.x_mm + last.w_mm) > LETTER_GAP_MM:
                break
            shared_mm = min(piece.y_mm + piece.h_mm, last.y_mm + last.h_mm) - max(piece.y_mm, last.y_mm)
            if shared_mm >= LEVEL_SHARE * min(piece.h_mm, last.h_mm):
                run.append(piece)
        runs.append(run)
    return runs
