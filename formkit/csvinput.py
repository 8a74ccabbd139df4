"""CSV files people give formkit (rosters, --codes files): separated by commas, semicolons or tabs.

Spreadsheets save "CSV" with the list separator of their locale, often ';', and some users export tabs.
Read with the wrong one, a file becomes a single column and its codes are lost without a word; so the
separator is detected (``csv.Sniffer`` on the start of the file, checked against the header row), and a
file whose separator cannot be told is refused with a message that names it.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .errors import InputError
from .template.check import clip

DELIMITERS = ",;\t"
# A person's code. Printed on a form from a roster: short, letters, digits and dashes. In a codes file (for
# exports and reports only) a service's own codes pass (SUB_001, A.01), but no space: a name ("Zoe Smith")
# must not pass for a code.
PRINTED_CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")
LISTED_CODE = re.compile(r"^\S{1,32}$")
NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
SAMPLE_CHARS = 64 * 1024


def check_code(code: str, where: str, printed: bool) -> str:
    """``code`` if it is a person's code (``PRINTED_CODE`` for one to be ``printed``, else ``LISTED_CODE``),
    else an ``InputError`` naming ``where`` (file:line)."""
    if printed and not PRINTED_CODE.match(code):
        raise InputError(f"{where}: code {clip(repr(code))} must be 1-16 letters, digits or '-' (a pseudonymous "
                         "code, never a name)")
    if not printed and not LISTED_CODE.match(code):
        raise InputError(f"{where}: code {clip(repr(code))} must be 1-32 characters without spaces (a pseudonymous "
                         "code, never a name)")
    return code


def read_text(path: Path, what: str) -> str:
    """The whole file as text (UTF-8, with or without a byte-order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: the {what} is not UTF-8 text") from exc


def delimiter_of(text: str, path: Path, what: str) -> str:
    """The column separator of ``text``: ',', ';' or a tab. A header with none of them is one column."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    present = [d for d in DELIMITERS if d in header]
    if not present:
        return ","
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n") + 1]  # whole lines only: a cut line would look inconsistent
    try:
        found: str | None = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = None
    if found in present:
        return found  # type: ignore[return-value]
    if len(present) == 1:
        return present[0]
    listed = " or ".join(NAMES[d] for d in present)
    raise InputError(f"{path}: cannot tell whether the {what}'s columns are separated by {listed}; "
                     "save it again as CSV with commas")


def dict_reader(path: Path, what: str) -> CsvRows:
    """The rows of ``path`` by its header, with its own separator; ``what`` names the file in messages."""
    text = read_text(path, what)
    return CsvRows(text, delimiter_of(text, path, what), path, what)


class CsvRows:
    """The data rows of a CSV file as dicts keyed by its header row, as ``csv.DictReader`` gives them (a short
    row's missing cells are None), read strictly. Blank lines are skipped, and so are rows whose every cell is
    empty: a spreadsheet saved as CSV ends with such rows (",,") where cells were once used, and in a roster
    each was a copy printed with no code.

    A stray quote is the one typing slip that changes what a CSV file says without a word: read leniently, a
    quote in the wrong place is dropped, and a quote never closed joins every later line into one cell, so
    rows vanish and a code absorbs the lines after it. Such a file is refused, naming the line where it went
    wrong: a cell that opens with a quote and goes on past its closing one, a quote never closed, and a cell
    that runs over several lines, which no roster or codes file has (it is what a quote closed by a later
    stray one looks like). A quote inside a cell that does not open with one is CSV's plain character: kept."""

    def __init__(self, text: str, delimiter: str, path: Path, what: str) -> None:
        self._rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        self._delimiter, self._path, self._what = delimiter, path, what
        self.fieldnames: list[str] | None = self._next_row()  # None: the file is empty

    @property
    def line_num(self) -> int:
        """The line the last row read ends on (1 for the header)."""
        return self._rows.line_num

    def __iter__(self) -> CsvRows:
        return self

    def __next__(self) -> dict[str, str | None]:
        row = self._next_row()
        if row is None or self.fieldnames is None:
            raise StopIteration
        return {name: row[index] if index < len(row) else None for index, name in enumerate(self.fieldnames)}

    def _next_row(self) -> list[str] | None:
        """The next row with something in a cell, or None at the end of the file."""
        row: list[str] = []
        while not any(cell.strip() for cell in row):
            start = self._rows.line_num + 1
            try:
                row = next(self._rows)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise self._unreadable(exc, start) from exc
        if any("\n" in cell or "\r" in cell for cell in row):
            raise InputError(f"{self._path}:{start}: a cell runs over several lines (lines {start} to "
                             f"{self.line_num}): a stray quote, or a line break typed in a cell; no cell of a "
                             f"{self._what} holds a line break: remove it and save the file again as CSV")
        return row

    def _unreadable(self, exc: csv.Error, start: int) -> InputError:
        """What went wrong in the row that starts on line ``start``, said so the user can find and correct it."""
        reason = str(exc)
        separator = NAMES[self._delimiter].removesuffix("s")
        if "expected after" in reason:
            return InputError(f"{self._path}:{self.line_num}: a quote in the wrong place: a cell that starts with a "
                              f"quote must end with one, just before the next {separator} or the end of the line; "
                              "remove the stray quote, or save the file again as CSV from the spreadsheet")
        if "unexpected end of data" in reason:
            return InputError(f"{self._path}:{start}: a quote opens a cell on this line and is never closed, so "
                              "the lines after it would be read as one cell; remove the stray quote, or save the "
                              "file again as CSV from the spreadsheet")
        if "field larger than field limit" in reason:  # the usual cause: the lines after a stray quote
            return InputError(f"{self._path}:{start}: a cell starting on this line is over {csv.field_size_limit()} "
                              "characters long, most likely because a quote opens it and is never closed; remove "
                              "the stray quote, or save the file again as CSV from the spreadsheet")
        return InputError(f"{self._path}:{self.line_num}: the {self._what} cannot be read as CSV ({reason}); "
                          "save it again as CSV")
