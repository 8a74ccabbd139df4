"""SPSS ``.sav`` files through pyreadstat: one per table (``k10.sav``, ``k10_long.sav``, ``k10_change.sav``).

- Variable labels: the question as printed (or the score's label), cut to SPSS's 256 bytes.
- Value labels: the options' labels (120 bytes at most), and the labels of the missing codes.
- Measurement levels: nominal (text, codes, options of a question of two, multiple-choice 0/1 columns),
  ordinal (a question with three or more numbered options), scale (numbers, scores, dates).
- User-missing values keep apart why an answer or score is empty: -7 not answered, -8 invalid (illegible, or a
  score that cannot be computed), -9 waiting for review; -97/-98/-99 (and so on) for a variable that can take
  -7 itself. A value that was never read (a page not scanned) is system-missing. Text is empty when empty.
- Dates are SPSS dates (DATE11); their missing codes are the days -7, -8, -9 before SPSS's day zero.
- Names: letters, digits and '_', at most 64 characters, none of SPSS's reserved words."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from .frames import HAS_VALUE, MISSING_KINDS, FormTables, Table
from .labelled import Column, labelled_columns, value_labels
from .variables import clip_bytes

NAME_LIMIT = 64
RESERVED = ("all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with")
LABEL_BYTES, VALUE_LABEL_BYTES, FILE_LABEL_BYTES, DOCUMENT_BYTES = 256, 120, 64, 80
SPSS_EPOCH = dt.date(1582, 10, 14)  # SPSS counts dates in seconds from this day
DAY = 86400.0


def columns(tables: FormTables, table: Table) -> list[Column]:
    return labelled_columns(tables, table, NAME_LIMIT, RESERVED)


def write(tables: FormTables, table: Table, path: Path) -> list[Column]:
    """Write ``table`` as an SPSS file at ``path``; returns its columns, as named in the file."""
    import pandas as pd
    import pyreadstat

    cols = columns(tables, table)
    data: dict[str, Any] = {}
    labels, formats, measures, missing, value_sets = {}, {}, {}, {}, {}
    for column in cols:
        variable = column.variable
        labels[column.name] = clip_bytes(column.label, LABEL_BYTES)
        measures[column.name] = variable.measure
        numeric = variable.numeric or column.option is not None
        if not numeric:
            data[column.name] = pd.Series(["" if v is None else str(v) for v in column.values], dtype=object)
            continue
        date = variable.kind == "date"
        scale = DAY if date else 1.0
        values = []
        for value, why in zip(column.values, column.why, strict=True):
            if value is not None:
                values.append(_seconds(value) if date else float(value))
            elif why != HAS_VALUE and why in column.codes:
                values.append(column.codes[why] * scale)
            else:
                values.append(math.nan)
        data[column.name] = pd.Series(values, dtype="float64")
        formats[column.name] = "DATE11" if date else _format(column)
        names = {float(k): clip_bytes(v, VALUE_LABEL_BYTES) for k, v in value_labels(column).items()}
        if column.codes:
            missing[column.name] = [float(column.codes[k]) * scale for k in MISSING_KINDS]
            names.update({float(column.codes[k]) * scale: k for k in MISSING_KINDS})
        if names:
            value_sets[column.name] = names
    frame = pd.DataFrame(data, columns=[c.name for c in cols])
    pyreadstat.write_sav(frame, str(path), file_label=clip_bytes(tables.title(), FILE_LABEL_BYTES),
                         column_labels=labels, variable_value_labels=value_sets, missing_ranges=missing,
                         variable_measure=measures, variable_format=formats, note=_note(tables, table))
    return cols


def missing_words(column: Column) -> str:
    """The missing codes of a column, in words, for the codebook."""
    if not column.codes:
        return ""
    day = " (days before 14 Oct 1582)" if column.variable.kind == "date" else ""
    return "missing: " + ", ".join(f"{column.codes[k]} {k}" for k in MISSING_KINDS) + day


def _seconds(day: dt.date) -> float:
    return (day - SPSS_EPOCH).days * DAY


def _format(column: Column) -> str:
    variable = column.variable
    if column.option is not None or variable.kind == "integer":
        return "F8.0"
    if variable.kind == "choice":
        whole = all(float(o.value).is_integer() for o in variable.options)
        return "F8.0" if whole else "F8.2"
    decimals = variable.decimals if variable.decimals is not None else 2
    return f"F{max(8, decimals + 6)}.{decimals}"


def _note(tables: FormTables, table: Table) -> str:
    """The file's document: what it is, and where the scoring rules are (one line of SPSS's 80 bytes)."""
    return clip_bytes(f"formkit: {tables.form}, {table.kind} table; scoring rules in codebook.csv", DOCUMENT_BYTES)
