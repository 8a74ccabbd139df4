"""What each column of an export table holds, for the formats that type their cells (Excel, SPSS, Stata,
REDCap): its label (the question as printed), its kind, its options and the range of its values, and how it
is measured. Also the rules those formats share: a cell's typed value, the codes that keep apart why an
answer or score is empty, and variable names a format accepts."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..scoring import ScoreRule
from ..template.schema import ChoiceItem, DateItem, DigitsItem, LineItem, MatrixItem, Option, Template, TextItem
from .frames import INVALID, MISSING_KINDS, NOT_ANSWERED, NUMBER, WAITING, FormTables, Table, known_columns

# Kinds of column: text | integer | number | date | choice (one option) | multiple (several options, ';')
NOMINAL_NUMBERS = {"version", "form_page", "source_page", "source_region", "page_id"}  # numbers that name things
# Codes for an empty answer or score, in the order of MISSING_KINDS (not answered, invalid, waiting for
# review): the first set that lies below every value the variable can take.
CODE_SETS = ((-7, -8, -9), (-97, -98, -99), (-997, -998, -999), (-9997, -9998, -9999), (-99997, -99998, -99999))
STATA_CODES = {NOT_ANSWERED: "a", INVALID: "b", WAITING: "c"}  # Stata's extended missing values .a .b .c
# Whole numbers below this are held exactly as numbers by Excel (15 significant digits), SPSS and Stata
# (doubles); a digits field that may hold more digits is text, or 1234567890123456789 would become ...800
EXACT_WHOLE_NUMBERS = 10 ** 15


@dataclass(frozen=True)
class Variable:
    column: str  # the column's name in the CSV
    label: str
    kind: str
    options: tuple[Option, ...] = ()
    low: float | None = None  # lowest and highest value it can take, when known
    high: float | None = None
    decimals: int | None = None
    measure: str = "nominal"  # nominal | ordinal | scale (SPSS's measurement levels)
    coded: bool = False  # an answer or score of the wide table: why it is empty is kept (FormTables.empty)

    @property
    def numeric_options(self) -> bool:
        return option_numbers(self.options) is not None

    @property
    def numeric(self) -> bool:
        """Held as a number (dates included) in SPSS and Stata."""
        return self.kind in ("integer", "number", "date") or (self.kind == "choice" and self.numeric_options)


def table_variables(tables: FormTables, table: Table) -> list[Variable]:
    """A ``Variable`` for each column of ``table`` (one of ``tables``' tables), in order."""
    fields = form_variables(tables)
    labels = known_columns(tables) if table.kind == "wide" else {}
    out = []
    for column in table.columns:
        if table.kind == "wide" and column in fields:
            out.append(fields[column])
            continue
        label, kind, *_ = labels.get(column) or table.described.get(column) or ("", "text", "")
        if kind not in ("integer", "number", "date"):
            kind = "text"
        measure = "nominal" if kind == "text" or column in NOMINAL_NUMBERS else "scale"
        decimals = 3 if column == "confidence" else None
        out.append(Variable(column, label or column, kind, decimals=decimals, measure=measure))
    return out


def form_variables(tables: FormTables) -> dict[str, Variable]:
    """The variables of the wide table's field and score columns, by column: from the first installed
    version that has each (a field no installed template knows is text). A field that versions code
    otherwise (other options, values or range) has no value labels: a label true of one version's answers
    would be false of another's (the codebook gives each version's codes)."""
    out: dict[str, Variable] = {}
    ways: dict[str, list[Variable]] = {}
    for template in tables.templates.values():
        if template:
            for variable in template_variables(template).values():
                out.setdefault(variable.column, variable)
                ways.setdefault(variable.column, []).append(variable)
    for column, variables in ways.items():
        if len({(v.kind, v.options, v.low, v.high) for v in variables}) > 1:
            numeric = all(v.numeric for v in variables)
            out[column] = Variable(column, f"{out[column].label} (coded differently by version: see the codebook)",
                                   "number" if numeric else "text", coded=True)
    for field_id in tables.fields:
        out.setdefault(field_id, Variable(field_id, field_id, "text", coded=True))
    ranges = {v.column: (v.low, v.high) for v in out.values() if v.low is not None and v.high is not None}
    for rule in tables.rules.values():
        low_high = score_range(rule, ranges)
        if low_high:
            ranges[rule.id] = low_high
        low, high = low_high or (None, None)
        out[rule.id] = Variable(rule.id, rule.label or rule.id, "number", low=low, high=high, decimals=rule.decimals,
                                measure="scale", coded=True)
    return _coding_unknown(tables, out)


def _coding_unknown(tables: FormTables, variables: dict[str, Variable]) -> dict[str, Variable]:
    """Without the template of some version the store holds, nothing says how that version codes its answers:
    the installed versions' value labels and ranges could be false of its values (a 0 labelled as no option,
    a 5 as "All of the time" where it means "None of the time"), so a field that has either keeps neither."""
    missing = [str(v) for v, template in tables.templates.items() if template is None]
    if not missing:
        return variables
    fields = set(tables.fields)
    for column, variable in variables.items():
        if column in fields and (variable.options or variable.low is not None):
            label = (f"{variable.label} (version {', '.join(missing)} not installed: its coding is unknown, so no "
                     "value labels)")
            variables[column] = Variable(column, label, "number" if variable.numeric else "text", coded=True)
    return variables


def option_numbers(options: tuple[Option, ...]) -> list[float] | None:
    """The options' values as numbers, when every one is a number of at most nine digits (as a template's whole
    numbers are: SPSS, Stata and Excel hold it exactly) and no two are the same number; else None: text values
    "1", "01" and "1.0" stay text (as numbers all three would be 1), as does "123456789012345678901234567890"."""
    values = [str(o.value) for o in options]
    if not values or not all(NUMBER.match(v) and abs(float(v)) < 1e9 for v in values):
        return None
    numbers = [float(v) for v in values]
    return numbers if len(set(numbers)) == len(numbers) else None


def template_variables(template: Template) -> dict[str, Variable]:
    """The variable of each field of ``template``, by field id, in the template's order."""
    out: dict[str, Variable] = {}
    for item in template.items:
        if isinstance(item, MatrixItem | ChoiceItem):
            numbers = option_numbers(item.options)
            measure = "ordinal" if numbers and len(numbers) >= 3 and not item.multiple else "nominal"
            low, high = (min(numbers), max(numbers)) if numbers else (None, None)
            kind = "multiple" if item.multiple else "choice"
            rows = [(r.id, r.text) for r in item.rows] if isinstance(item, MatrixItem) else [(item.id, item.text)]
            for field_id, text in rows:
                out[field_id] = Variable(field_id, text or field_id, kind, item.options, low, high, measure=measure,
                                         coded=True)
        elif isinstance(item, DigitsItem):
            out[item.id] = digits_variable(item)
        elif isinstance(item, DateItem):
            out[item.id] = Variable(item.id, item.text or item.id, "date", measure="scale", coded=True)
        elif isinstance(item, TextItem):
            out[item.id] = Variable(item.id, item.text or item.id, "text", coded=True)
        elif isinstance(item, LineItem):
            low, high = sorted((item.minimum, item.maximum))
            out[item.id] = Variable(item.id, item.text or item.id, "number", low=low, high=high, decimals=1,
                                    measure="scale", coded=True)
    return out


def digits_variable(item: DigitsItem) -> Variable:
    """A digits field's variable: a whole number within its range, or text for a code (no range: its leading
    zeros matter) and for a field that may hold more figures than a number holds exactly."""
    low = item.minimum if item.minimum is not None else 0
    high = item.maximum if item.maximum is not None else 10 ** item.count - 1
    code = item.minimum is None and item.maximum is None
    if code or max(abs(low), abs(high)) >= EXACT_WHOLE_NUMBERS:
        return Variable(item.id, item.text or item.id, "text", coded=True)
    return Variable(item.id, item.text or item.id, "integer", low=low, high=high, decimals=0, measure="scale",
                    coded=True)


def score_range(rule: ScoreRule, ranges: dict[str, tuple[Any, Any]]) -> tuple[float, float] | None:
    """The lowest and highest value a score can take, from its items' ranges (``None`` when unknown)."""
    if rule.method == "gas":
        ratings = [ranges.get(g.score) for g in rule.goals]
        if rule.rho <= 0 or not ratings or any(r is None for r in ratings):
            return None
        reach = 10 * max(abs(x) for r in ratings if r for x in r) / math.sqrt(rule.rho)
        low, high = 50 - reach, 50 + reach
    else:
        known = [ranges.get(i) for i in rule.items]
        if not known or any(k is None for k in known):
            return None
        lows, highs = [k[0] for k in known if k], [k[1] for k in known if k]
        if rule.method == "sum":
            low, high = sum(lows), sum(highs)
        elif rule.method == "change":
            low, high = min(lows) - max(highs), max(highs) - min(lows)
        else:  # mean, latest
            low, high = min(lows), max(highs)
    if rule.rescale:
        (a, b), (c, d) = rule.rescale
        low, high = sorted((c + (low - a) * (d - c) / (b - a), c + (high - a) * (d - c) / (b - a)))
    return low, high


def typed(cell: Any, variable: Variable) -> Any:
    """The cell as the value its kind holds (``None`` when empty); ``ValueError`` when it is not one."""
    if cell is None or cell == "":
        return None
    text = str(cell).strip()
    numeric = variable.kind in ("integer", "number") or (variable.kind == "choice" and variable.numeric_options)
    if numeric and not NUMBER.match(text):  # float() also takes 'nan', 'inf', '1e5' and '1_000'
        raise ValueError(f"not a number as formkit writes one: {text!r}")
    if variable.kind == "integer":
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"not a whole number: {text!r}")
        return int(number)
    if numeric:
        number = float(text)
        return int(number) if variable.kind == "choice" and number.is_integer() else number
    if variable.kind == "date":
        if len(text) != 10:
            raise ValueError(f"not a date: {text!r}")
        return dt.date.fromisoformat(text)
    return cell if isinstance(cell, str) else str(cell)


def chosen(cell: Any) -> set[str]:
    """The option values of a multiple-choice cell ('1;3')."""
    return {part.strip() for part in str(cell or "").split(";") if part.strip()}


def missing_codes(variable: Variable, observed: Iterable[float] = ()) -> dict[str, int]:
    """The codes for an empty answer or score (not answered, invalid, waiting for review): -7, -8, -9
    unless the variable can take such values (a line from -10 to 10, a change score), then the first of
    -97.., -997.. that lies below every value it can take (below every value seen when its range is
    unknown)."""
    floor = variable.low
    if floor is None:
        seen = [v for v in observed if v is not None]
        floor = min(seen) if seen else None
    for codes in CODE_SETS:
        if floor is None or max(codes) < floor:
            return dict(zip(MISSING_KINDS, codes, strict=True))
    return dict(zip(MISSING_KINDS, CODE_SETS[-1], strict=True))


# --- Variable names ------------------------------------------------------------------------------------

def unique_names(wanted: Iterable[str], limit: int, reserved: Iterable[str] = (), lower: bool = False) -> list[str]:
    """A valid, unique name for each of ``wanted``, in order: letters, digits and '_', starting with a
    letter, at most ``limit`` characters, none of ``reserved`` (compared without case); a clash gets
    ``_2``, ``_3``, ... ."""
    taken = {r.lower() for r in reserved}
    out = []
    for name in wanted:
        clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
        clean = clean.lower() if lower else clean
        if not clean or not clean[0].isalpha():
            clean = "v" + clean
        candidate = clean[:limit]
        number = 1
        while candidate.lower() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = clean[:limit - len(suffix)] + suffix
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 (on a character boundary), ending in '…' when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "…"


def clip_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
