"""Check parsed YAML against the template vocabulary (``schema.py``) before anything reads it.

Templates and text packs are untrusted input: every value's type and range is checked here, so the loader
and the scoring rules only ever see the types they expect. Every message names the file, the line (of the
key, or of the mapping for a missing or unknown key) and the item, and never echoes more than a few dozen
characters of a value.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import TemplateError
from .schema import (
    PACK_KEY,
    AnyOf,
    Boolean,
    Integer,
    ListOf,
    MapOf,
    Name,
    Number,
    Record,
    Spec,
    Tagged,
    Text,
    TupleOf,
)

SHOWN = 60  # characters of a value echoed in a message
SHOWN_NAMES = 8  # names listed in one message before "and N more"


def clip(text: str, limit: int = SHOWN) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def show(value: Any) -> str:
    """A short description of a YAML value for a message: scalars as written (cut), containers by kind."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) <= SHOWN:
            return repr(value)
        return f"{value[:SHOWN]!r}... ({len(value)} characters)"
    if isinstance(value, int | float):
        return clip(repr(value))
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return {"bytes": "binary data", "set": "a set", "tuple": "a pair"}.get(type(value).__name__,
                                                                          f"a {type(value).__name__}")


def listing(names: list[str], limit: int = SHOWN_NAMES) -> str:
    """``a, b, c`` for at most ``limit`` names, then how many more."""
    shown = ", ".join(clip(str(n)) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def expected(spec: Spec) -> str:
    """What a value of ``spec`` must be, in words."""
    match spec:
        case Text():
            return "text or {pack: key}" if spec.pack else "text"
        case Name():
            return f"one of {', '.join(spec.enum)}" if spec.enum else spec.what
        case Integer():
            return "a whole number" + _range(spec.minimum, spec.maximum)
        case Number():
            if spec.exclusive_maximum is not None:
                return f"a number, at least {spec.minimum:g} and below {spec.exclusive_maximum:g}"
            if spec.exclusive_minimum is not None:
                return f"a number above {spec.exclusive_minimum:g}"
            return "a number" + _range(spec.minimum, spec.maximum)
        case Boolean():
            return "true or false"
        case AnyOf() | ListOf() | TupleOf() | Tagged():
            return spec.what
        case Record():
            return f"a mapping with the keys {', '.join(spec.keys)}" if spec.keys else "a mapping"
        case MapOf():
            return "a mapping of names to values"
    raise TypeError(f"no words for {spec!r}")


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}" if high < 10**15 else f", at least {low:g}"
    if low is not None:
        return f", at least {low:g}"
    return f", at most {high:g}" if high is not None else ""


def line_of(container: Any, at: Any) -> int | None:
    """The line of key ``at`` of a mapping, or of entry ``at`` of a list, as the loader recorded them."""
    lines = getattr(container, "key_lines", None) if isinstance(container, dict) else \
        getattr(container, "item_lines", None)
    if lines is not None:
        try:
            return lines[at]
        except (KeyError, IndexError, TypeError):
            pass
    return getattr(container, "line", None)


def check(value: Any, spec: Record, path: str) -> None:
    """Raise ``TemplateError`` for the first value in ``value`` (a parsed file) that ``spec`` does not allow."""
    if value is None:
        raise TemplateError(path, f"the file is empty; {spec.what} is {expected(spec)}")
    _Checker(path).check(value, spec, "", getattr(value, "line", None), None)


class _Checker:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str, line: int | None, item: str | None) -> TemplateError:
        return TemplateError(self.path, message, line or None, item)

    def check(self, value: Any, spec: Spec, where: str, line: int | None, item: str | None) -> None:
        subject = f"'{where}'" if where else getattr(spec, "what", "") or "the value"

        def wrong(message: str | None = None) -> TemplateError:
            return self.fail(message or f"{subject} must be {expected(spec)}, not {show(value)}", line, item)

        match spec:
            case Text():
                if isinstance(value, str):
                    if len(value) > spec.max_length:
                        raise wrong(f"{subject} is {len(value)} characters long; at most {spec.max_length} "
                                    "are allowed")
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    if not math.isfinite(value):
                        raise wrong()
                elif spec.pack and isinstance(value, dict) and list(value) == ["pack"]:
                    self.check(value["pack"], PACK_KEY, f"{where}.pack" if where else "pack",
                               line_of(value, "pack") or line, item)
                else:
                    raise wrong()
            case Name():
                if not _fits(value, spec):
                    raise wrong(spec.message.format(value=show(value), choices=", ".join(spec.enum))
                                if spec.message and isinstance(value, str) else None)
            case Integer():
                if isinstance(value, bool) or not isinstance(value, int) or \
                        (spec.minimum is not None and value < spec.minimum) or \
                        (spec.maximum is not None and value > spec.maximum):
                    raise wrong()
            case Number():
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or \
                        (spec.minimum is not None and value < spec.minimum) or \
                        (spec.maximum is not None and value > spec.maximum) or \
                        (spec.exclusive_maximum is not None and value >= spec.exclusive_maximum) or \
                        (spec.exclusive_minimum is not None and value <= spec.exclusive_minimum):
                    raise wrong()
            case Boolean():
                if not isinstance(value, bool):
                    raise wrong()
            case AnyOf():
                for choice in spec.choices:
                    try:
                        self.check(value, choice, where, line, item)
                        return
                    except TemplateError:
                        continue
                raise wrong()
            case ListOf():
                if not isinstance(value, list) or len(value) < spec.min_items:
                    raise wrong()
                for i, entry in enumerate(value):
                    self.check(entry, spec.item, f"{where}[{i}]", line_of(value, i) or line, item)
            case TupleOf():
                if not isinstance(value, list) or len(value) != len(spec.items):
                    raise wrong()
                for i, (entry, place) in enumerate(zip(value, spec.items, strict=True)):
                    self.check(entry, place, f"{where}[{i}]", line_of(value, i) or line, item)
            case MapOf():
                if not isinstance(value, dict) or len(value) < spec.min_items:
                    raise wrong()
                for key, entry in value.items():
                    if not _fits(key, spec.key):
                        raise self.fail(f"the name {show(key)} in {subject} must be {expected(spec.key)}",
                                        line_of(value, key) or line, item)
                    self.check(entry, spec.value, f"{where}.{key}" if where else key,
                               line_of(value, key) or line, item)
            case Tagged():
                self._tagged(value, spec, where, line, item, wrong)
            case Record():
                self._record(value, spec, where, line, item, wrong)
            case _:
                raise TypeError(f"cannot check {spec!r}")

    def _tagged(self, value: Any, spec: Tagged, where: str, line: int | None, item: str | None,
                wrong: Any) -> None:
        if not isinstance(value, dict):
            raise wrong()
        line = getattr(value, "line", None) or line
        item = _item_name(value, "id") or item
        kinds = ", ".join(spec.variants)
        if spec.tag not in value:
            raise self.fail(f"an item needs '{spec.tag}': one of {kinds}", line, item)
        kind = value[spec.tag]
        kind_line = line_of(value, spec.tag) or line
        if not isinstance(kind, str):
            raise self.fail(f"'{spec.tag}' must be one of {kinds}, not {show(kind)}", kind_line, item)
        if kind not in spec.variants:
            raise self.fail(f"unknown item {spec.tag} {show(kind)}; use one of {kinds}", kind_line, item)
        self._record(value, spec.variants[kind], where, line, item, wrong, extra_keys=(spec.tag,))

    def _record(self, value: Any, spec: Record, where: str, line: int | None, item: str | None, wrong: Any,
                extra_keys: tuple[str, ...] = ()) -> None:
        if not isinstance(value, dict):
            raise wrong()
        line = getattr(value, "line", None) or line
        if spec.item_key is not None:
            named = _item_name(value, spec.item_key)
            if named is not None:
                item, where = named, ""
        what = spec.what or f"'{where}'"
        allowed = list(spec.keys) + list(extra_keys)
        unknown = [k for k in value if k not in allowed]
        if unknown:
            shown = sorted(repr(k) if isinstance(k, str) and len(k) <= SHOWN else show(k) for k in unknown)
            raise self.fail(f"unknown key(s) {listing(shown)} in {what}; allowed: {', '.join(sorted(allowed))}",
                            line, item)
        prefix = f"{where}." if where else ""
        for key, entry in spec.keys.items():
            if key not in value:
                if entry.required:
                    raise self.fail(f"'{prefix}{key}' is required", line, item)
                continue
            if value[key] is None:
                raise self.fail(f"'{prefix}{key}' has no value: give one, or leave the key out",
                                line_of(value, key) or line, item)
        if spec.exactly_one_of:
            given = [k for k in spec.exactly_one_of if k in value]
            names = " or ".join(f"'{k}'" for k in spec.exactly_one_of)
            if len(given) > 1:
                raise self.fail(f"give either {names}, not both", line, item)
            if not given:
                raise self.fail(f"{what} needs {names}", line, item)
        for key, entry in spec.keys.items():
            if key in value:
                self.check(value[key], entry.spec, prefix + key, line_of(value, key) or line, item)


def _fits(value: Any, spec: Name) -> bool:
    if not isinstance(value, str):
        return False
    if spec.enum:
        return value in spec.enum
    return 0 < len(value) <= spec.max_length and (spec.pattern is None or re.fullmatch(spec.pattern, value) is not None)


def _item_name(value: dict, key: str) -> str | None:
    """The id naming an item in messages, if it is short text."""
    named = value.get(key)
    return named if isinstance(named, str) and 0 < len(named) <= 40 else None
