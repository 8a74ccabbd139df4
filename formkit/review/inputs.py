"""What a reviewer may type for each kind of field, checked the same way the scanner checks its reads."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from ..layout.model import BoxesField, ChoiceField, Field, LineField
from ..records import plausible_years

DATE_FORMS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$"),
              re.compile(r"^(\d{2})(\d{2})(\d{4})$"))
MAX_TEXT = 1000  # characters a reviewer may type for one value (a field on paper holds far fewer)
MAX_ECHO = 40  # characters of what was typed repeated in a message
# characters that show nothing, or turn the text around it: a "correction" of them alone looks blank, and
# one among letters hides what was stored (the joiners scripts and emoji need are allowed)
INVISIBLE = frozenset("\u200b\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# letters that show nothing (Hangul fillers): with format characters (a soft hyphen, a direction mark) and
# spaces, all a "correction" holds would look blank yet not be
FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
LINE_NUMBER = re.compile(r"([+-]?)(\d+)(?:[.,](\d)0*)?")


@dataclass(frozen=True)
class InputHint:
    mode: str  # 'numeric' or 'text': what the browser's keyboard should offer
    help: str  # one line telling the reviewer what to type
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choices


DATE_HINT = InputHint("numeric", "Type the date as DD/MM/YYYY (or DDMMYYYY)")


def hint(f: Field | None, kind: str = "text") -> InputHint:
    """What to type for field ``f``; with no field (its template is gone), for a value of ``kind``."""
    if f is None and kind == "date" or isinstance(f, BoxesField) and f.kind == "date":
        return DATE_HINT
    if f is None and kind == "digits":
        return InputHint("numeric", "Type the digits as written")
    if f is None and kind != "text":
        return InputHint("text", "This form's template is not installed: Enter accepts the machine's reading")
    if isinstance(f, ChoiceField):
        options = tuple((str(o.value), o.label) for o in f.options)
        between = "';'" if _spaced([v for v, _ in options]) else "spaces"
        several = f"; several separated by {between}" if f.multiple else ""
        return InputHint("text", f"Type the value marked{several}: " + ", ".join(v for v, _ in options), options)
    if isinstance(f, BoxesField):
        bounds = f" from {f.minimum} to {f.maximum}" if f.minimum is not None else ""
        return InputHint("numeric", f"Type the digits as written (up to {len(f.boxes)}){bounds}")
    if isinstance(f, LineField):
        return InputHint("text", f"Type the mark's position, {f.minimum:g} to {f.maximum:g}, one decimal")
    return InputHint("text", "Type the text as written")


NOT_INSTALLED = ("this form's template is not installed, so what this answer allows is not known: press Enter "
                 "on the machine's reading to accept it, Blank or Illegible, or install the template again")


def parse(f: Field | None, text: str, kind: str = "text") -> tuple[str, str]:
    """(value to store, '') or ('', what is wrong with ``text``) for field ``f``; with no field (its template is
    gone), as a value of ``kind`` is stored: a date still as a date, never as the text typed."""
    # composed (NFC), as the machine's readings are: "Zoë" typed or pasted as e + a combining diaeresis looks
    # the same, yet was stored as other characters ("corrected", and unequal to "Zoë" in every export)
    text = unicodedata.normalize("NFC", text.strip())
    if text == "":
        return "", ""
    if len(text) > MAX_TEXT:
        return "", f"at most {MAX_TEXT} characters"
    written = not isinstance(f, ChoiceField | BoxesField | LineField)  # free text keeps its lines
    if any((unicodedata.category(c) in ("Cc", "Cs") and not (written and c == "\n")) or c in INVISIBLE for c in text):
        return "", "no control or invisible characters, please"
    if f is None and kind in ("date", "digits"):
        return _date(text) if kind == "date" else _digits(text)
    if f is None and kind != "text":
        return "", NOT_INSTALLED
    if isinstance(f, ChoiceField):
        allowed = [str(o.value) for o in f.options]
        given = _choices_typed(text, allowed)
        if not f.multiple and len(given) > 1:
            return "", "one answer only"
        bad = [t for t in given if t not in allowed]
        if bad:
            return "", f"'{_echo(' '.join(bad))}' is not one of {', '.join(allowed)}"
        ordered = [v for v in allowed if v in given]
        return ";".join(ordered), ""
    if isinstance(f, BoxesField) and f.kind == "date":
        return _date(text)
    if isinstance(f, BoxesField):
        text, error = _digits(text)
        if error:
            return "", error
        if len(text) > len(f.boxes):
            return "", f"at most {len(f.boxes)} digit{'s' if len(f.boxes) != 1 else ''}"
        if f.minimum is not None and f.maximum is not None and not f.minimum <= int(text) <= f.maximum:
            return "", f"must be from {f.minimum} to {f.maximum}"
        return text, ""
    if isinstance(f, LineField):
        # a number as a person writes it, one decimal at most: float() took "1_0" for 10, "1e1" for 10, and
        # rounded 0.15 to 0.1 but 4.45 to 4.5; "1,234" (a thousands comma?) was 1.2
        m = LINE_NUMBER.fullmatch(text)
        if m is None:
            return "", "a number with one decimal at most, e.g. 4.5"
        sign, whole, tenth = m.groups()
        number = float(f"{sign}{_ascii(whole)}.{_ascii(tenth or '0')}")
        if not min(f.minimum, f.maximum) <= number <= max(f.minimum, f.maximum):
            return "", f"must be from {f.minimum:g} to {f.maximum:g}"
        return f"{number + 0.0:.1f}", ""  # + 0.0: -0.0 is 0.0
    if all(unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") or c.isspace() or c in FILLERS for c in text):
        return "", "only characters that show nothing: type what is written, or press Alt+B for blank"
    return text, ""


def _digits(text: str) -> tuple[str, str]:
    if not text.isdecimal():  # not isdigit(): '²' is a digit that int() refuses
        return "", "digits only"
    return _ascii(text), ""  # full-width or Arabic-Indic digits as 0-9


def _choices_typed(text: str, allowed: list[str]) -> list[str]:
    """The option values ``text`` names: itself when it is one, else its parts between ';' when it has any (no
    value holds one), else between spaces and commas. A template's text value may hold a space ("not sure"),
    which split at it could never be typed."""
    if text in allowed:
        return [text]
    if ";" in text:
        return [part.strip() for part in text.split(";") if part.strip()]
    return [t for t in re.split(r"[,\s]+", text) if t]


def _spaced(allowed: list[str]) -> bool:
    """Whether an option value holds a space or comma: several are then typed with ';' between them."""
    return any(c.isspace() or c == "," for value in allowed for c in value)


def _ascii(digits: str) -> str:
    """Decimal digits of any script (full-width, Arabic-Indic) as 0-9."""
    return "".join(str(unicodedata.decimal(c)) for c in digits)


def _echo(text: str) -> str:
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def _date(text: str) -> tuple[str, str]:
    for number, pattern in enumerate(DATE_FORMS):
        m = pattern.match(text)
        if not m:
            continue
        parts = [int(g) for g in m.groups()]
        year, month, day = parts if number == 0 else (parts[2], parts[1], parts[0])
        try:
            day_written = dt.date(year, month, day)
        except ValueError:
            return "", "not a real date"
        first, last = plausible_years()
        if not first <= year <= last:  # as the scanner reads dates: 0001 is a slip of the keys
            return "", f"a year from {first} to {last}"
        return day_written.isoformat(), ""
    return "", "write the date as DD/MM/YYYY"
