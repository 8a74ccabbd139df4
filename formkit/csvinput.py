"""CSV files people give formkit (rosters, --codes files): separated by commas, semicolons or tabs.

Spreadsheets save "CSV" with the list separator of their locale, often ';', and some users export tabs.
Read with the wrong one, a file becomes a single column and its codes are lost without a word; so the
separator is detected (``csv.Sniffer`` on the start of the file, checked against the header row), and a
file whose separator cannot be told is refused with a message that names it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .errors import InputError

DELIMITERS = ",;\t"
NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
SAMPLE_CHARS = 64 * 1024


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


def dict_reader(path: Path, what: str) -> csv.DictReader:
    """A ``DictReader`` over ``path`` with its own separator; ``what`` names the file in messages."""
    text = read_text(path, what)
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter_of(text, path, what))
