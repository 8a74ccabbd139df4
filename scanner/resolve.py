"""From measurements to values with a confidence; whatever is uncertain is flagged with a reason."""

from __future__ import annotations

from formkit.layout.model import ChoiceField, LineField
from formkit.records import RAW_COVERED, RAW_SHADED, REVIEW_CONFIDENCE, FieldValue, flagged

from .lines import LineReading
from .marks import FAINT_WEAK, MARKED_FROM, BoxMeasure, Mark

# of a box read empty where a shadow's edge crosses it, traced darker than the paper level with it
# (``BoxMeasure.lit_trace``): a pencil tick in the lit part leaves 0.1-0.2, a mark half under the shade 0.044
LIT_TRACE = FAINT_WEAK
# A correction is a filled box and a tick or cross elsewhere. A felt marker's cross can fill a small box, leaving
# only a little paper, beside another felt cross: two answers read as a correction at 0.76-0.79, unflagged (a
# find-only pass, 2026-12-07: 3 of 38 felt double marks). Such a fill (under FILL_WITH_PAPER of the box) beside a
# mark this heavy goes to review. Measured on the correction rows of 40 pages each of felt, 300 dpi, 1-bit and
# 2-12 MP captures (40 rows): pen fills 0.89-1.0 beside pen marks 0.17-0.47 (0.70 in a 3 MP photo, beside a
# fill of 1.0); felt fills 1.0 beside felt marks 0.75-0.85; the felt crosses read as fills 0.87, beside 0.80-0.81.
FILL_WITH_PAPER = 0.95
HEAVY_MARK_COVERAGE = 0.6
# A heavy box (``marks.classify``: neither its hole nor its coverage tell a cross from a fill) beside one clear mark
# is a correction where the middle of each of its four sides is dark (``BoxMeasure.lightest_side_ink``): a pen
# fill's stripes, which blur leaves a little paper between in 2-7 MP photos, and such rows went to review as "heavy
# mark". A cross leaves paper at three sides or four, a scribble between its turns at two. Measured 2026-12-08: pen
# fills of scan_accuracy.py's corrections read heavy (40 pages each of photo3, photo3wobble, photo7barrel: 5 boxes)
# 0.72-0.81 at their lightest side; scribbles read heavy (60 drawn with tests.synthetic.draw_mark at 8 px/mm,
# blurred 0.35-0.45 mm, a 4 px/mm source: 14; and two of the benchmark's, one a double mark's) 0.35-0.53, while
# their second darkest side (``side_ink``) reached 0.80, as high as fills' (0.785 at the least). Not where
# the mark beside it is as heavy as a felt pen's (``HEAVY_MARK_COVERAGE``: two felt crosses), nor where the sides
# were not measured (1.0: too light to tell).
FILL_SIDES_INK = 0.65
CORRECTION_CONFIDENCE = 0.8  # as a heavy box read as a cross (``marks.CROSS_CONFIDENCE``)


def resolve_choice(field: ChoiceField, states: list[tuple[Mark, float]], measures: list[BoxMeasure],
                   creased: tuple[int, ...] = (), off_outline: tuple[int, ...] = (), on_outlines: bool = False
                   ) -> FieldValue:
    """Apply the printed convention: a tick or cross is an answer, a filled box is a cancelled answer.

    ``creased``: the boxes whose only ink is a fold or crease of the paper (``marks.creased_boxes``: a line
    clearly fainter than the field's other ink), given here as empty. Another box's mark is still the
    answer; a row left with no mark, or crossed by more than one such line (struck through?), is flagged:
    a mark drawn along a crease cannot be told from it. A row is flagged too where a box read as empty holds
    ink darker than the shade its surroundings were taken for (``BoxMeasure.unshaded``) or a trace darker than
    the paper level with it (``BoxMeasure.lit_trace``: a mark in the lit part), or where a side of a
    box's border does not show (``BoxMeasure.covered``: a finger, a note, a clip over it), or where a box read
    as marked was measured off its printed outline (``off_outline``, ``placement.placed_boxes``: a photo whose
    lens or rolling shutter bends rows), as its own border may be the mark: placed where its outline lies
    clearly weaker than its field's others', or holding only a straight line across it (``line_across``) unless
    every box of the field shows its border all round where it was measured (``on_outlines``,
    ``placement.outlines_found``: then the stroke, such as a "1" written in the box, is a mark, not that border)."""
    value = _resolve_choice(field, states, measures)
    unsure_place = [str(field.options[k].value) for k, (m, (s, _)) in enumerate(zip(measures, states, strict=True))
                    if s is Mark.MARKED and ((m.line_across and not on_outlines) or k in off_outline)]
    if unsure_place:
        value.raw["off_outline"] = unsure_place
        flag_for_review(value, f"option(s) {', '.join(unsure_place)} not measured on the printed box (a bent or "
                               "distorted photo?): its border may read as a mark")
    # Read as empty because one side of the paper round them is darker and that shade reaches inside: a
    # shadow's edge, a highlighter stripe or a finger over part of the box, under which a real mark was read
    # as shade (a cross at confidence 1.0), or beside which a pencil tick in the lit part, lighter than the
    # shade, was read as no ink (2026-12-07)
    # Noted on values flagged already too: a lone fill's flag may be lifted later for a respondent who answers
    # by filling (formkit.conventions), but not while another box may hide a mark
    shaded = [str(o.value) for o, m, (s, _) in zip(field.options, measures, states, strict=True)
              if s is Mark.EMPTY and (m.unshaded >= MARKED_FROM or m.lit_trace >= LIT_TRACE)
              and str(o.value) not in value.value.split(";")]
    if shaded:
        value.raw[RAW_SHADED] = shaded
        flag_for_review(value, f"one side of option(s) {', '.join(shaded)} is darker, as under a shadow's edge, a "
                               "highlighter or a finger: shade, or a mark?")
    covered = [str(o.value) for o, m in zip(field.options, measures, strict=True) if m.covered]
    if covered:
        value.raw[RAW_COVERED] = covered
        flag_for_review(value, f"something lies over part of option(s) {', '.join(covered)} (a finger, a note, a "
                               "clip): a mark under it?")
    if creased:
        options = [str(field.options[k].value) for k in creased]
        value.raw["creases"] = options
        if len(creased) > 1:
            reason = f"lines run straight across options {', '.join(options)} and beyond: folds, or struck through?"
        elif not value.value:
            reason = f"a line runs straight across option {options[0]} and beyond it: a fold (blank), or a mark?"
        else:
            reason = ""
        if reason and not value.needs_review:
            flag_for_review(value, reason)
    return value


def flag_for_review(value: FieldValue, reason: str) -> None:
    """Send ``value`` to review, in place: its confidence at most ``REVIEW_CONFIDENCE``, ``reason`` added to
    any it has."""
    value.needs_review = True
    value.confidence, value.reason = flagged(value.confidence, value.reason, reason)


def _resolve_choice(field: ChoiceField, states: list[tuple[Mark, float]], measures: list[BoxMeasure]) -> FieldValue:
    values = [str(o.value) for o in field.options]
    marked = [v for v, (s, _) in zip(values, states, strict=True) if s is Mark.MARKED]
    filled = [v for v, (s, _) in zip(values, states, strict=True) if s is Mark.FILLED]
    unsure = [v for v, (s, _) in zip(values, states, strict=True) if s in (Mark.FAINT, Mark.HEAVY)]
    confidence = min(c for _, c in states)
    raw = {"states": [s.value for s, _ in states], "coverage": [round(m.coverage, 4) for m in measures],
           "darkness": [round(m.darkness, 4) for m in measures], "options": values, "multiple": field.multiple}

    def result(value: str, reason: str = "") -> FieldValue:
        review = bool(reason)
        conf = min(confidence, REVIEW_CONFIDENCE) if review else confidence
        return FieldValue(field.id, "choice", value, round(conf, 3), review, reason, raw)

    if unsure and _heavy_fill_beside_a_mark(field, values, states, measures, marked, unsure):
        confidence = min(c for v, (_, c) in zip(values, states, strict=True) if v not in unsure)
        return FieldValue(field.id, "choice", marked[0], round(min(confidence, CORRECTION_CONFIDENCE), 3), False,
                          "", raw)
    if unsure:
        kinds = sorted({states[values.index(v)][0].value for v in unsure})
        what = "faint mark" if kinds == ["faint"] else "heavy mark: a cross or a filled (cancelled) box?" \
            if kinds == ["heavy"] else "unclear marks"
        return result(";".join(marked), f"{what} in option(s) {', '.join(unsure)}")
    if field.multiple:
        if filled and not marked:
            return result("", f"only filled (cancelled) boxes: {', '.join(filled)}")
        return result(";".join(marked))
    if len(marked) > 1:
        return result("", f"two or more marks: {', '.join(marked)}")
    if len(marked) == 1:
        if filled and _fill_may_be_a_heavy_mark(values, measures, marked[0], filled):
            return result(marked[0], f"option {filled[0]} is nearly filled, beside a heavy mark in {marked[0]}: "
                                     "a correction, or two answers?")
        return result(marked[0])
    if len(filled) == 1:
        return result(filled[0], "a filled box and no other mark: a cancelled answer, or the answer?")
    if filled:
        return result("", f"every marked box is filled in (cancelled): {', '.join(filled)}")
    return result("")


def _heavy_fill_beside_a_mark(field: ChoiceField, values: list[str], states: list[tuple[Mark, float]],
                              measures: list[BoxMeasure], marked: list[str], unsure: list[str]) -> bool:
    """Whether the boxes read as ``unsure`` (option values) are all heavy boxes dark at the middle of all four sides,
    as a fill (``FILL_SIDES_INK``), beside one box read as a mark no heavier than a pen's: a correction."""
    if field.multiple or len(marked) != 1 or measures[values.index(marked[0])].coverage >= HEAVY_MARK_COVERAGE:
        return False
    boxes = [values.index(v) for v in unsure]
    return all(states[k][0] is Mark.HEAVY and FILL_SIDES_INK <= measures[k].lightest_side_ink < 1.0 for k in boxes)


def _fill_may_be_a_heavy_mark(values: list[str], measures: list[BoxMeasure], marked: str, filled: list[str]) -> bool:
    """Whether a box read as filled (``filled``, option values) leaves some paper while the marked box (``marked``)
    is covered nearly as heavily: a felt marker's two crosses, not a fill and a tick."""
    fill = min(measures[values.index(v)].coverage for v in filled)
    return fill < FILL_WITH_PAPER and measures[values.index(marked)].coverage >= HEAVY_MARK_COVERAGE


def resolve_line(field: LineField, reading: LineReading) -> FieldValue:
    """The value of a visual-analogue line from where marks cross it; flagged, whatever it reads, where the line
    is printed too faintly to tell marks on it, a shadow's edge crosses it, or an end tick is not where the page's
    registration puts it (``LineReading``)."""
    value = _line_value(field, reading)
    if reading.faded:  # marks as faint as the print are lost: blank or not, a person looks
        value.raw["faded"] = True
        flag_for_review(value, "the printed line is too faint to tell marks on it (a faded copy?)")
    if reading.ends_not_found:  # measured from where registration puts an end: placed wrongly, the value is too
        value.raw["ends_not_found"] = list(reading.ends_not_found)
        flag_for_review(value, f"the tick at the line's {' and '.join(reading.ends_not_found)} does not show where the "
                               "page's markers put it (the page placed wrongly, or something over it?): where a mark "
                               "lies along the line is unsure")
    if reading.edges_mm:  # dark on one side only: a shadow's edge (blank), or a mark drawn along one?
        value.raw["edges_mm"] = list(reading.edges_mm)
        where = ", ".join(f"{p:.1f}" for p in reading.edges_mm)
        flag_for_review(value, f"a shadow's edge crosses the line at {where} mm from the start: a mark there, or none?")
    if reading.along_mm:  # ink along the line away from any crossing: a stamp's letters or frame may be read as a mark
        value.raw["along_mm"] = [list(span) for span in reading.along_mm]
        where = f"{reading.along_mm[0][0]:.0f} to {reading.along_mm[-1][1]:.0f} mm from the start"
        flag_for_review(value, f"a stamp or printed text lies across the line ({where}): check the mark by eye")
    return value


def _line_value(field: LineField, reading: LineReading) -> FieldValue:
    length = field.x2_mm - field.x1_mm
    raw = {"positions_mm": list(reading.positions_mm), "length_mm": round(length, 2)}
    if reading.creases_mm:
        raw["creases_mm"] = list(reading.creases_mm)
    # a crease crossing the line is no mark, but a mark drawn along one cannot be told from it
    sure = 0.8 if reading.creases_mm else 0.95

    def result(value: str, confidence: float, reason: str = "") -> FieldValue:
        return FieldValue(field.id, "line", value, confidence, bool(reason), reason, raw)

    if reading.wide_mm:  # not one stroke: a person looks, whatever else crosses
        raw["wide_mm"] = [list(span) for span in reading.wide_mm]
        where = ", ".join(f"{a:.0f} to {b:.0f} mm" for a, b in reading.wide_mm)
        return result("", REVIEW_CONFIDENCE, f"ink along the line from {where} from the start, too long for one "
                                             "mark: writing, a smudge or a shadow?")
    if not reading.positions_mm:
        if reading.near_tick:
            return result("", REVIEW_CONFIDENCE, "a mark at the very end of the line?")
        if reading.creases_mm:
            where = ", ".join(f"{p:.1f}" for p in reading.creases_mm)
            return result("", REVIEW_CONFIDENCE, f"a straight line runs across it and far beyond at {where} mm from "
                                                 "the start: a fold (blank), or a mark?")
        if reading.faint_mm:  # under the ink's contrast: a light pencil mark, or a smudge?
            raw["faint_mm"] = list(reading.faint_mm)
            where = ", ".join(f"{p:.1f}" for p in reading.faint_mm)
            return result("", REVIEW_CONFIDENCE, f"a faint mark crosses the line at {where} mm from the start: a light "
                                                 "pencil mark?")
        if reading.on_line_mm:  # ink thicker than the printed line along a short stretch: a dot or dash drawn on it
            raw["on_line_mm"] = list(reading.on_line_mm)
            where = ", ".join(f"{p:.1f}" for p in reading.on_line_mm)
            return result("", REVIEW_CONFIDENCE, f"a dot or short mark on the line at {where} mm from the start: the "
                                                 "answer?")
        return result("", sure)
    if len(reading.positions_mm) > 1:
        return result("", REVIEW_CONFIDENCE, f"{len(reading.positions_mm)} marks cross the line")
    position = reading.positions_mm[0]
    if position < -0.5 or position > length + 0.5:
        return result("", REVIEW_CONFIDENCE, f"the mark is {position:.1f} mm from the start, off the line")
    position = min(max(position, 0.0), length)
    value = field.minimum + (field.maximum - field.minimum) * position / length
    text = f"{value:.1f}"
    if reading.near_tick:
        return result(text, REVIEW_CONFIDENCE, "a second mark may sit on an end tick")
    if reading.unsure_mm:
        raw["unsure_mm"] = list(reading.unsure_mm)
        return result(text, REVIEW_CONFIDENCE, "other ink (a speck, a stamp?) joins the mark where it crosses the "
                                               "line: where it lies is unsure")
    return result(text, sure)
