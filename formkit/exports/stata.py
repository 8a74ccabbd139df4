"""Stata ``.dta`` files through pyreadstat (format 118, Stata 14 and later): one per table (``k10.dta``,
``k10_long.dta``, ``k10_change.dta``).

- Variable labels: the question as printed (or the score's label), cut to Stata's 80 characters.
- Value labels: the options' labels (Stata labels whole numbers only), and the extended missing values'.
- Extended missing values keep apart why an answer or score is empty: .a not answered, .b invalid (illegible,
  or a score that cannot be computed), .c waiting for review. A value never read (a page not scanned) is
  '.', and text is empty when empty.
- Dates are Stata dates (%td).
- Names: letters, digits and '_', starting with a letter, at most 32 characters, none of Stata's reserved
  words; a longer field id is cut, and a clash gets _2, _3, ..."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from .frames import HAS_VALUE, MISSING_KINDS, FormTables, Table
from .labelled import Column, labelled_columns, value_labels
from .variables import STATA_CODES, clip_chars, unique_names

NAME_LIMIT = 32
RESERVED = ("_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_pi",
            "_pred", "_rc", "_skip", "strl", "using", "with", *(f"str{n}" for n in range(1, 2046)))
LABEL_CHARS = 80
STATA_EPOCH = dt.date(1960, 1, 1)


def columns(tables: FormTables, table: Table) -> list[Column]:
    """The columns of ``table`` as the Stata file names them. pyreadstat names a variable's value labels after
    it, with a running number (``k10_01`` -> ``k10_010``), and that name too must fit in 32 characters: a
    labelled variable's name is cut further when it would not."""
    cols = labelled_columns(tables, table, NAME_LIMIT, RESERVED)
    labelled = 0
    for column in cols:
        if not _value_labels(column):
            continue
        limit = NAME_LIMIT - len(str(labelled))
        if len(column.name) > limit:
            others = [c.name for c in cols if c is not column]
            column.name = unique_names([column.wanted], limit, [*RESERVED, *others])[0]
        labelled += 1
    return cols


def _value_labels(column: Column) -> dict[Any, str]:
    """The value labels the file gives ``column``: its whole-number options' and its missing values'."""
    if not (column.variable.numeric or column.option is not None):
        return {}
    names: dict[Any, str] = {k: v for k, v in value_labels(column).items() if isinstance(k, int)}
    if column.codes:
        names.update({STATA_CODES[k]: k for k in MISSING_KINDS})
    return names


def write(tables: FormTables, table: Table, path: Path) -> list[Column]:
    """Write ``table`` as a Stata file at ``path``; returns its columns, as named in the file."""
    import pandas as pd
    import pyreadstat

    cols = columns(tables, table)
    data: dict[str, Any] = {}
    labels, formats, missing, value_sets = {}, {}, {}, {}
    for column in cols:
        variable = column.variable
        labels[column.name] = clip_chars(column.label, LABEL_CHARS)
        if not (variable.numeric or column.option is not None):
            data[column.name] = pd.Series(["" if v is None else str(v) for v in column.values], dtype=object)
            continue
        date = variable.kind == "date"
        values: list[Any] = []
        for value, why in zip(column.values, column.why, strict=True):
            if value is not None:
                values.append(float((value - STATA_EPOCH).days) if date else float(value))
            elif why != HAS_VALUE and column.codes:
                values.append(STATA_CODES.get(why, math.nan))
            else:
                values.append(math.nan)
        data[column.name] = pd.Series(values, dtype=object if column.codes else "float64")
        formats[column.name] = "%td" if date else _format(column)
        names = {k: clip_chars(v, 32000) for k, v in _value_labels(column).items()}
        if column.codes:
            missing[column.name] = [STATA_CODES[k] for k in MISSING_KINDS]
        if names:
            value_sets[column.name] = names
    frame = pd.DataFrame(data, columns=[c.name for c in cols])
    pyreadstat.write_dta(frame, str(path), file_label=clip_chars(tables.title(), LABEL_CHARS), column_labels=labels,
                         version=14, variable_value_labels=value_sets, missing_user_values=missing,
                         variable_format=formats)
    return cols


def missing_words(column: Column) -> str:
    """The extended missing values of a column, in words, for the codebook."""
    if not column.codes:
        return ""
    return "missing: " + ", ".join(f".{STATA_CODES[k]} {k}" for k in MISSING_KINDS)


def _format(column: Column) -> str:
    variable = column.variable
    if column.option is not None or variable.kind == "integer":
        return "%9.0f"
    if variable.kind == "choice":
        return "%9.0g"
    if variable.decimals is not None:
        return f"%9.{variable.decimals}f"
    return "%9.0g"
