"""From measurements to values with a confidence; whatever is uncertain is flagged with a reason."""

from __future__ import annotations

from formkit.layout.model import ChoiceField, LineField
from formkit.records import FieldValue

from .lines import LineReading
from .marks import BoxMeasure, Mark

REVIEW_CONFIDENCE = 0.5


def resolve_choice(field: ChoiceField, states: list[tuple[Mark, float]], measures: list[BoxMeasure]) -> FieldValue:
    """Apply the printed convention: a tick or cross is an answer, a filled box is a cancelled answer."""
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
        return result(marked[0])
    if len(filled) == 1:
        return result(filled[0], "a filled box and no other mark: a cancelled answer, or the answer?")
    if filled:
        return result("", f"every marked box is filled in (cancelled): {', '.join(filled)}")
    return result("")


def resolve_line(field: LineField, reading: LineReading) -> FieldValue:
    length = field.x2_mm - field.x1_mm
    raw = {"positions_mm": list(reading.positions_mm), "length_mm": round(length, 2)}

    def result(value: str, confidence: float, reason: str = "") -> FieldValue:
        return FieldValue(field.id, "line", value, confidence, bool(reason), reason, raw)

    if not reading.positions_mm:
        if reading.near_tick:
            return result("", REVIEW_CONFIDENCE, "a mark at the very end of the line?")
        return result("", 0.95)
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
    return result(text, 0.95)
