"""Tables as SPSS and Stata hold them: a typed column per variable, with its label, value labels and the
reason each empty answer or score is empty. A multiple-choice question becomes one 0/1 column per option
(``<field>_<code>``), as both programs expect for "multiple response" questions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..template.schema import Option
from .frames import HAS_VALUE, NOT_READ, FormTables, Table
from .variables import Variable, chosen, missing_codes, table_variables, typed, unique_names

SIMPLE_CODE = re.compile(r"^[a-z0-9]+$")
NOT_CHOSEN, CHOSEN = "not chosen", "chosen"


@dataclass
class Column:
    name: str  # in the file
    source: str  # the column of the table it comes from
    label: str
    variable: Variable
    values: list[Any]  # typed values; None where empty
    why: list[str]  # per row: why it is empty (frames.MISSING_KINDS), '' with a value or when not kept apart
    option: Option | None = None  # the option a 0/1 column of a multiple choice stands for
    codes: dict[str, int] = field(default_factory=dict)  # missing codes by reason, for coded numeric columns
    wanted: str = ""  # the name it would have without a format's limits
    as_text: bool = False  # of a typed kind, but held as text: some cell is not of that kind (``_column``)


def option_codes(options: Iterable[Option]) -> list[str]:
    """A simple code (lower-case letters and digits) for each option: its own value when every value is
    one, else its place, 1, 2, 3, ... ."""
    values = [str(o.value) for o in options]
    if all(SIMPLE_CODE.match(v) for v in values) and len(set(values)) == len(values):
        return values
    return [str(n) for n in range(1, len(values) + 1)]


def labelled_columns(tables: FormTables, table: Table, name_limit: int, reserved: Iterable[str]) -> list[Column]:
    """The columns of ``table`` (one of ``tables``' tables), named for a format that allows names of at most
    ``name_limit`` characters and none of ``reserved``."""
    columns: list[Column] = []
    wide = table.kind == "wide"
    for variable in table_variables(tables, table):
        cells = table.frame[variable.column].tolist() if variable.column in table.frame else []
        reasons = (tables.empty[variable.column].tolist() if wide and variable.coded and variable.column in
                   tables.empty else [HAS_VALUE] * len(cells))
        if variable.kind == "multiple" and wide:
            columns += _dummies(variable, cells, reasons)
        else:
            columns.append(_column(variable, cells, reasons))
    names = unique_names([c.name for c in columns], name_limit, reserved)
    for column, name in zip(columns, names, strict=True):
        column.wanted, column.name = column.name, name
        if column.variable.coded and (column.variable.numeric or column.option is not None):
            observed = [v for v in column.values if isinstance(v, int | float)]
            column.codes = missing_codes(column.variable, observed)
        else:
            column.why = [HAS_VALUE] * len(column.values)  # text keeps no reasons apart: empty is empty
    return columns


def _column(variable: Variable, cells: list[Any], reasons: list[str]) -> Column:
    values, why = [], []
    for cell, reason in zip(cells, reasons, strict=True):
        try:
            value = typed(cell, variable)
        except ValueError:
            # not of the column's type (a column typed by convention, or an answer of a template version not
            # installed, coded otherwise): kept as text, as the CSV has it, rather than coded as invalid
            text = Variable(variable.column, variable.label, "text", measure="nominal")
            return Column(variable.column, variable.column, variable.label, text,
                          ["" if c is None else str(c) for c in cells], [HAS_VALUE] * len(cells), as_text=True)
        values.append(value)
        why.append(HAS_VALUE if value is not None else (reason if reason != HAS_VALUE else NOT_READ))
    return Column(variable.column, variable.column, variable.label, variable, values, why)


def _dummies(variable: Variable, cells: list[Any], reasons: list[str]) -> list[Column]:
    out = []
    for option, code in zip(variable.options, option_codes(variable.options), strict=True):
        values: list[Any] = []
        why = []
        for cell, reason in zip(cells, reasons, strict=True):
            if reason == HAS_VALUE and cell != "":
                values.append(int(str(option.value) in chosen(cell)))
                why.append(HAS_VALUE)
            else:
                values.append(None)
                why.append(reason if reason != HAS_VALUE else NOT_READ)
        dummy = Variable(variable.column, f"{variable.label}: {option.label}", "integer", low=0, high=1,
                         decimals=0, measure="nominal", coded=True)
        out.append(Column(f"{variable.column}_{code}", variable.column, dummy.label, dummy, values, why, option))
    return out


def value_labels(column: Column) -> dict[Any, str]:
    """The labels of a numeric column's values: its options (0/1 for an option of a multiple choice)."""
    if column.option is not None:
        return {0: NOT_CHOSEN, 1: CHOSEN}
    variable = column.variable
    if variable.kind == "choice" and variable.numeric_options:
        return {_number(o.value): o.label for o in variable.options}
    return {}


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number
