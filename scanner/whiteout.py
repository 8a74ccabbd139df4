"""Correction fluid or tape over one box: the person's own cancellation, not a note or a finger over the page.

A person who ticks the wrong box often paints it out (correction fluid: a white blob 5-9 mm across; or a strip
of correction tape 5 mm high) and ticks another. The paint hides part of the box's printed border, which
``washout`` takes for something lying over the page (a note, a finger, a page on top): a mark under it would
not be seen, so the row goes to review. A careful reader reads such a row as its clear tick. What tells the
two apart, on the registered page (``px_per_mm``, 8) and what ``washout`` found hidden on it:

- a second clear mark in the row: exactly one other box holds a tick or cross (``marked``), the hidden box
  reads empty and the rest too; a row with nothing else marked stays flagged (the paint may cancel the only
  answer, or hide it);
- the paint is white: the hidden box's inside is as light as the row's empty boxes' insides (a sticky note, a
  thumb, a hole showing what lay behind, a shadow are darker);
- the paint is small: no other print within ``CONFINED_MM`` of the box is hidden or washed out. A note (38 mm
  or more), a patient label (22 by 40 mm or more), a thumb (14 mm or more) or a page on top hides the boxes of
  the rows above or below (7.4-12.1 mm apart) or beside; the paint over one box stays within 3.1 mm of it.

Goes in: the page, the field, its value (its ``states``), what ``washout`` found hidden on the whole page.
Comes out: whether the field's hidden box is taken for the person's own white-out (``whited_out``).
"""

from __future__ import annotations

import numpy as np

from formkit.layout.model import Box, ChoiceField, boxes_apart_mm
from formkit.records import FieldValue

from .register import box_slices

# No other hidden print this near the box (mm, edge to edge). Measured 2026-12-07 (fifth_pass.py whiteout, 60
# pages, 132 painted boxes beside a tick): the nearest other hidden print lay 2.0-5.1 mm away for 24 (the blob
# reaching the next row's box, or two rows painted in one column: left flagged), 9.4 mm or more for the rest;
# a thumb over a box (desk_hazards.py thumb) hid print 4.8 mm from it. Fluid reaches 3.1 mm past a 5 mm box at
# most; the choice rows of the shipped forms lie 7.4-12.1 mm apart, so a cover 14 mm or more across hides more.
CONFINED_MM = 8.0
# The hidden box's inside (its median) no darker than the row's empty boxes' insides by this share of the
# page's print contrast. Measured 2026-12-07: painted boxes -0.31 to 0.14 (the same 132, every capture: 300 and
# 200 dpi scans, 1-bit copies, 3 and 12 MP photos); the thumb above 0.53; a sticky note's darkest channel is
# 140-200 on paper at 255 (tests.synthetic.NOTE_COLOURS), a hole shows what lay behind it.
LIGHT_SHARE = 0.2
INSIDE_INSET_MM = 1.0  # the inside looked at: the box less this each side (its border and a bent page's shift)


def whited_out(page: np.ndarray, f: ChoiceField, value: FieldValue, boxes: list[Box], hidden: list[str],
               others_hidden: list[Box], contrast: float | None, px_per_mm: float) -> bool:
    """Whether the hidden option of ``f`` (``hidden``: its one name) lies under the person's own correction
    fluid or tape, its row read as its one clear mark (see the module's docstring). ``boxes``: ``f``'s boxes
    where its reading found them; ``others_hidden``: every other hidden or washed-out part of the page (mm);
    ``contrast``: the page's print contrast (grey levels)."""
    names = [str(o.value) for o in f.options]
    if len(hidden) != 1 or not contrast or hidden[0] not in names:
        return False
    k = names.index(hidden[0])
    states = value.raw.get("states", [])
    marked = [i for i, state in enumerate(states) if state == "marked"]
    if len(marked) != 1 or marked[0] == k or value.value != names[marked[0]] or \
            any(state != "empty" for i, state in enumerate(states) if i != marked[0]):
        return False
    box = boxes[k]
    if any(boxes_apart_mm(box, other) < CONFINED_MM for other in others_hidden):
        return False
    empty = [_inside(page, b, px_per_mm) for i, b in enumerate(boxes) if i not in (k, marked[0])]
    if not empty:
        return False
    return _inside(page, box, px_per_mm) >= float(np.median(empty)) - LIGHT_SHARE * contrast


def _inside(page: np.ndarray, box: Box, px_per_mm: float) -> float:
    """The median grey level of ``box``'s inside, ``INSIDE_INSET_MM`` in from its border."""
    return float(np.median(page[box_slices(box, -INSIDE_INSET_MM, page.shape, px_per_mm)]))
