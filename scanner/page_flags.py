"""Flags a page's values carry for what is wrong with its image as a whole: print too faint or blurred to tell
marks (``too_faded``), a scanner app's black-and-white threshold that makes a filled box look empty or ticked
(``flag_hollowed_choices``, ``flag_rings``), fields past the image's edge (``flag_outside``). Each flag sends a
value to review with its reason (``resolve.flag_for_review``); the value keeps its reading as a suggestion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Mapping

import numpy as np

from formkit.layout.model import Page
from formkit.records import RAW_OUTSIDE_IMAGE, FieldValue, PageResult

from . import marks, placement
from .register import OUTSIDE_LEAST
from .resolve import flag_for_review

LOW_CONTRAST = 40.0  # grey levels between paper and printed border: ~90 in sharp 3 MP photos, ~50 at blur σ 4 px
# In an underexposed photo everything is darker: paper under this lowers LOW_CONTRAST in proportion (paper at
# 90 grey levels and sharp borders 34 under it were taken for a blurred page, every answer flagged)
DIM_PAPER = 160.0
# Print faded all over (a printer low on toner, its economy mode, a hazy photo) is faint in the registration
# markers too, where blur leaves their solid black as dark as ever (3 MP photos: markers 188-231 grey levels under
# the paper, sharp or blurred by 2-3.5 px; print at half its black 100-120): markers fainter than this lower
# LOW_CONTRAST in proportion, down to FADED_FLOOR of it. Borders faint against the markers still mean blur
# (sharp photos: borders 0.30-0.66 of the markers' contrast, blurred by 3.5 px 0.18-0.38; LOW_CONTRAST is 0.24
# of this).
SHARP_MARKERS = 170.0
FADED_FLOOR = 0.3


def too_faded(contrast: float, paper: float | None, markers: Callable[[], float | None] = lambda: None) -> bool:
    """Whether printed borders ``contrast`` grey levels darker than paper of ``paper`` grey levels mean a
    blurred or washed-out image, where marks cannot be told reliably (``LOW_CONTRAST``): judged in proportion
    to dim paper (``DIM_PAPER``) and to print faded all over, the registration markers ``markers()`` grey
    levels darker than their paper (``SHARP_MARKERS``; ``None``: not measured)."""
    scale = min(1.0, (paper if paper is not None else 255.0) / DIM_PAPER)
    if contrast >= LOW_CONTRAST * scale:
        return False
    marker = markers()  # measured only here: about 1 ms
    return marker is None or contrast < LOW_CONTRAST * min(scale, max(FADED_FLOOR, marker / SHARP_MARKERS))


HOLLOWED = ("the page was thresholded to black and white over a small window (a scanner app's black-and-white "
            "mode), which leaves a box filled in looking like an empty box, a tick or a cross: check the marks")


def flag_hollowed_choices(result: PageResult) -> None:
    """A page whose markers had to be read from their outlines was thresholded over a window so small that a
    box filled in comes out as its outline: on the printed border it looks empty, and the outlines of a
    scribbled fill's strokes look like a tick or a cross (their ink 0.07-0.37 of the box, a tick's 0.14-0.33).
    Measured 2026-12-06, windows of 1.3-2.6 mm: respondents who fill every answer had up to 22 of 77 fields
    read blank, unflagged; those who fill some answers and tick others, 9-13 of 77 lone fills read as ticks.
    Every choice field of such a page goes to review; the page is still identified and placed, and each field
    keeps its reading as a suggestion."""
    for value in result.values:
        if value.kind == "choice" and not value.needs_review:
            flag_for_review(value, HOLLOWED)


RING = ("box {} holds ink closed round or along all its sides: on a page thresholded to black and white a box "
        "filled in comes out so (cancelled, or the answer?)")


def flag_rings(result: PageResult, warped: np.ndarray, page: Page) -> None:
    """On a page thresholded over a window wide enough for ArUco that still hollows the markers (a scanner app at
    about 4.3 mm), a fill comes out as a ring, read as a mark: a lone fill, which a scan flags as
    cancelled-or-the-answer, read as a tick. A choice read from a box (where its reading found it) whose ink closes
    paper in or runs along all four sides goes to review (an adversarial pass, 2026-12-06, 4.3 mm: 9 of 77 lone
    fills among ticks read unflagged before, 2 with this check; fields of ticking respondents read right and
    unflagged 42 -> 41 of 79; of respondents who fill every answer 21 -> 3 of 77, sent to review as a scan sends a
    lone fill)."""
    fields = {f.id: f for f in page.fields if f.kind == "choice"}
    for value in result.values:
        field = fields.get(value.field)
        if field is None or value.needs_review or not value.value:
            continue
        chosen = set(value.value.split(";"))
        ringed = [o for o, box in zip(field.options, placement.found_boxes(field, value), strict=True)
                  if str(o.value) in chosen and marks.ringed(warped, box)]
        if ringed:
            flag_for_review(value, RING.format(", ".join(str(o.value) for o in ringed)))


def flag_all(result: PageResult, reason: str, spared: Container[str] = ()) -> None:
    """Every value of ``result`` to review for ``reason``, except the fields ``spared``."""
    for value in result.values:
        if value.field in spared:
            continue
        flag_for_review(value, reason)


def flag_outside(values: list[FieldValue], outside: Mapping[str, float]) -> None:
    """Flag, in place, each value whose field lies partly past the image's edge; one wholly past it is
    empty with confidence 0, nothing of it having been seen."""
    for value in values:
        share = outside.get(value.field)
        if share is None:
            continue
        if share >= 1 - OUTSIDE_LEAST:
            value.value, value.confidence, value.reason = "", 0.0, ""
        value.raw[RAW_OUTSIDE_IMAGE] = round(share, 3)
        flag_for_review(value, f"{math.ceil(100 * share)} % of the field lies outside the image: the page was cut "
                               "off by the scanner's glass or the photo's edge (scan or photograph it whole)")
