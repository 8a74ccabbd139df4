"""One Excel workbook, ``export.xlsx``, through openpyxl: a sheet per form (``k10``), a long sheet
(``k10_long``) and a change sheet (``k10_change``) per form, as the CSV files, and a ``codebook`` sheet.

Numbers are numbers and dates are dates (shown YYYY-MM-DD); digits without a range (codes, with their
leading zeros), text, and several answers to one question ('1;3') are text. Text that a spreadsheet would run
as a formula is marked as text (Excel's quote prefix: the ' a CSV file needs, not shown, never part of the
value); characters that a workbook cannot hold (control characters) are left out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .frames import FormTables, Table, safe_cell
from .variables import Variable, form_variables, table_variables, typed

WORKBOOK = "export.xlsx"
CODEBOOK_SHEET = "codebook"
NUMBER_FORMATS = {0: "0", 1: "0.0", 2: "0.00", 3: "0.000"}


def sheet_names(forms: dict[str, FormTables]) -> dict[str, str]:
    """The sheet of each table (by table name) and of the codebook: the table's name, at most 31 characters
    (Excel's limit), unique without regard to case."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    wanted = [t.name for tables in forms.values() for t in tables.tables] + [CODEBOOK_SHEET]
    for name in wanted:
        sheet, number = name[:31], 1
        while sheet.lower() in taken:
            number += 1
            sheet = f"{name[:31 - len(str(number)) - 1]}_{number}"
        taken.add(sheet.lower())
        names[name] = sheet
    return names


def write(forms: dict[str, FormTables], codebook: Table, path: Path) -> None:
    """Write every table of ``forms`` and ``codebook`` (its rows naming the sheets) to a workbook at ``path``."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    sheets = sheet_names(forms)
    for tables in forms.values():
        for table in tables.tables:
            _sheet(book, sheets[table.name], table, table_variables(tables, table),
                   form_variables(tables) if table.kind == "long" else {})
    _sheet(book, sheets[CODEBOOK_SHEET], codebook, [Variable(c, c, "text") for c in codebook.columns], {})
    book.save(path)


def _sheet(book: Any, title: str, table: Table, variables: list[Variable], fields: dict[str, Variable]) -> None:
    """A sheet of ``table``: a header row, frozen, then a row per row with typed cells. In the long table,
    ``fields`` types each row's value by its field."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    sheet = book.create_sheet(title)
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", str(safe_cell(c))) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    value_at = table.columns.index("value") if table.kind == "long" else -1
    field_at = table.columns.index("field") if table.kind == "long" else -1
    for number, row in enumerate(table.frame.itertuples(index=False, name=None), start=2):
        for index, (cell, variable) in enumerate(zip(row, variables, strict=True), start=1):
            if index - 1 == value_at:
                variable = fields.get(str(row[field_at]), variable)
            value = _typed(cell, variable)
            target = sheet.cell(row=number, column=index)
            if isinstance(value, str):
                target.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                target.data_type = "s"
                # text a spreadsheet would run as a formula: marked as text, as Excel marks a typed ', so the '
                # is neither shown nor part of the value ('-2=Much less' as it is, never run)
                target.quotePrefix = safe_cell(value) != value
            else:
                target.value = value
                if isinstance(value, dt.date):
                    target.number_format = "yyyy-mm-dd"
                elif variable.decimals in NUMBER_FORMATS and isinstance(value, int | float):
                    target.number_format = NUMBER_FORMATS[variable.decimals]
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(max(10, len(column) + 2),
                                                                                             40)


def _typed(cell: Any, variable: Variable) -> Any:
    """A cell as Excel should hold it: a number, a date, text, or ``None`` when empty."""
    if variable.kind == "multiple":
        return None if cell in ("", None) else str(cell)
    try:
        return typed(cell, variable)
    except ValueError:
        return str(cell)
