"""Read a template YAML file into a validated ``Template``; every error names file, line and item.

Templates and text packs are untrusted input. The YAML reader refuses anchors and aliases (a template
has no use for them, and nested aliases expand exponentially), nesting deeper than ``MAX_DEPTH`` and files
over ``MAX_FILE_BYTES``; every value is then checked against the vocabulary in ``schema.py`` (check.py)
before it is read, and no message echoes more than a few dozen characters of a value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver, Resolver
from yaml.scanner import Scanner

from ..errors import InputError, TemplateError
from .check import check, clip, listing, show
from .schema import (
    ITEM_KINDS,
    PAGE,
    RESERVED_FIELD_IDS,
    TEMPLATE,
    TEXT_PACK,
    ChoiceItem,
    DateItem,
    DigitsItem,
    HeadingItem,
    Item,
    LineItem,
    MatrixItem,
    MatrixRow,
    Option,
    PageBreakItem,
    ParagraphItem,
    Record,
    Template,
    TextItem,
)

MAX_FILE_BYTES = 256 * 1024  # a shipped template is a few kilobytes; this reads in about half a second
MAX_DEPTH = 20  # nesting of mappings and lists; a template needs 8
MAX_MESSAGE = 300  # characters of an error message after the file and line
MAX_RANGE = 1000  # ids a range such as k10_01..k10_10 may expand to


# --- YAML ------------------------------------------------------------------------------------------------

class _Mapping(dict):
    """A mapping that remembers its line and the line of each key."""

    line = 0
    key_lines: dict[Any, int]


class _Sequence(list):
    """A list that remembers its line and the line of each entry."""

    line = 0
    item_lines: list[int]


class _Refused(yaml.MarkedYAMLError):
    """Why a file is refused other than a YAML syntax error: aliases, deep nesting, a duplicate key, a value
    Python cannot hold."""


class _Composer(Composer):
    """Builds the node tree with no anchors or aliases, at most ``MAX_DEPTH`` levels deep."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(problem="YAML anchors and aliases (&name, *name) are not allowed here: write each "
                                   "value out in full", problem_mark=event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise _Refused(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Constructor(SafeConstructor):
    """Safe construction into line-aware mappings and lists; a value Python cannot build is a YAML error."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError):
            value = f" {show(node.value)}" if isinstance(node.value, str) else ""
            raise _Refused(problem=f"cannot read the value{value}", problem_mark=node.start_mark) from None


def _construct_mapping(loader: _Constructor, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(problem="merge keys ('<<') are not allowed here", problem_mark=key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _Refused(problem="a key must be text, not a list or mapping",
                                   problem_mark=key_node.start_mark) from None
        if key in mapping:
            raise _Refused(problem=f"the key {show(key)} appears twice in this mapping",
                                   problem_mark=key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _Constructor, node: yaml.SequenceNode) -> _Sequence:
    sequence = _Sequence(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_Constructor.add_constructor(BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Constructor.add_constructor(BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _Resolver(Resolver):
    """YAML 1.2 booleans (only true and false: a label 'No' stays text) and no implicit dates."""


_BOOL, _TIMESTAMP = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"
_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class _PureLoader(Reader, Scanner, Parser, _Composer, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Resolver.__init__(self)


LOADERS: list[type] = [_PureLoader]
try:  # libyaml parses about three times faster; composing stays in Python, where aliases are refused
    from yaml._yaml import CParser

    class _FastLoader(_Composer, CParser, _Constructor, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    LOADERS.insert(0, _FastLoader)
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    pass


def read_yaml(path: Path, loader: type | None = None) -> Any:
    """Parse ``path`` with line-aware mappings and lists; an unreadable, oversized or malformed file, or one
    using anchors and aliases, raises ``TemplateError`` naming the line."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:  # a file missing or not ours to read is bad input (exit 5), as a missing roster is
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise TemplateError(str(path), f"the file is larger than {MAX_FILE_BYTES // 1024} KB; a template or text "
                                       "pack is a few KB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(str(path), "file is not UTF-8 text") from exc
    parser = (loader or LOADERS[0])(text)
    try:
        return parser.get_single_data()
    except _Refused as exc:
        raise TemplateError(str(path), clip(str(exc.problem), 200), exc.problem_mark.line + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ": ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise TemplateError(str(path), f"not valid YAML: {clip(problem, 200)}", mark.line + 1 if mark else None) \
            from None
    except yaml.YAMLError as exc:  # a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise TemplateError(str(path), f"not valid YAML: {clip(str(reason), 200)}", line) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # pragma: no cover - a last resort
        raise TemplateError(str(path), f"not valid YAML ({type(exc).__name__})") from None
    finally:
        parser.dispose()


# --- Templates -------------------------------------------------------------------------------------------

def _get(node: dict, record: Record, key: str) -> Any:
    """``node[key]``, or the vocabulary's default for it."""
    return node.get(key, record.keys[key].default)


class _Reader:
    """Reads values the vocabulary has already checked; supplies wording from the text pack."""

    def __init__(self, path: str, pack: dict[str, str] | None) -> None:
        self.path = path
        self.pack = pack
        self.pack_used: set[str] = set()

    def fail(self, message: str, node: Any = None, item: str | None = None) -> TemplateError:
        return TemplateError(self.path, message, getattr(node, "line", None) or None, item)

    def text(self, node: dict, key: str) -> str:
        value = node.get(key)
        if value is None:
            return ""
        if isinstance(value, dict):
            return self.packed(value["pack"])
        return str(value).strip()

    def packed(self, key: str) -> str:
        """Wording supplied by the organisation's text pack, or a visible placeholder without one."""
        self.pack_used.add(key)
        if self.pack is not None and key in self.pack:
            return self.pack[key]
        return f"[{key}]"

    def options(self, raw: list, where: dict, item: str | None) -> tuple[Option, ...]:
        options = tuple(Option(value=entry["value"], label=self.text(entry, "label")) for entry in raw)
        # a value is stored as text, and several marked boxes as their values joined by ';' (read back split on
        # it, each part stripped): 1 and '1', 'a;b' beside 'a' and 'b', ' a' beside 'a' would be read as one
        for o in options:
            if isinstance(o.value, str) and (";" in o.value or o.value != o.value.strip()):
                raise self.fail(f"option value {show(o.value)}: a text value may not hold ';' (it joins the values "
                                "of several marked boxes) nor begin or end with a space", where, item)
        values = [str(o.value) for o in options]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise self.fail(f"option value(s) {listing(duplicates)} appear more than once", where, item)
        return options


def load_template(path: str | Path, text_pack: str | Path | None = None) -> Template:
    """Load and validate the template at ``path``; ``text_pack`` supplies licensed wording."""
    try:
        return _load_template(Path(path), text_pack)
    except TemplateError as exc:
        short = _shortened(exc)
        if short is exc:
            raise
        raise short from None


def _shortened(exc: TemplateError) -> TemplateError:
    """``exc``, or the same error with its message cut to ``MAX_MESSAGE`` characters."""
    prefix = TemplateError(exc.path, "", exc.line, exc.item).message
    body = exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message
    if len(body) <= MAX_MESSAGE:
        return exc
    return type(exc)(exc.path, clip(body, MAX_MESSAGE), exc.line, exc.item)


def _load_template(path: Path, text_pack: str | Path | None) -> Template:
    pack_form, pack = _read_text_pack(Path(text_pack)) if text_pack is not None else (None, None)
    top = read_yaml(path)
    check(top, TEMPLATE, str(path))
    if pack_form is not None and pack_form != top["form"]:
        # scan finds a pack by the form it names: forms printed with another form's pack could not be read with it
        raise TemplateError(str(text_pack), f"is the text pack of form '{pack_form}', not of '{top['form']}': give "
                                            f"the pack of '{top['form']}' (or correct its 'form:')")
    reader = _Reader(str(path), pack)
    page = top.get("page", {})
    scales_raw = top.get("scales", {})
    scales = {name: reader.options(opts, scales_raw, f"scale {name}") for name, opts in scales_raw.items()}
    items = tuple(_read_item(reader, node, scales) for node in top["items"])
    template = Template(
        form=top["form"],
        version=top["version"],
        title=reader.text(top, "title"),
        language=_get(top, TEMPLATE, "language"),
        ocr_language=_get(top, TEMPLATE, "ocr_language"),
        licence=top["licence"],
        page_size=_get(page, PAGE, "size"),
        landscape=_get(page, PAGE, "orientation") == "landscape",
        max_pages=_get(page, PAGE, "max_pages"),
        items=items,
        source=str(path),
        notice=reader.text(top, "notice"),
        fill_means=_get(top, TEMPLATE, "fill_means"),
        text_pack=str(text_pack) if text_pack is not None else None,
        placeholders=tuple(sorted(reader.pack_used - set(pack or {}))),
        extra={"scoring": top.get("scoring")} if "scoring" in top else {},
    )
    _check_unique_ids(reader, template)
    if "scoring" in top:
        _check_ranges(reader, top["scoring"], len(template.field_ids()))
    from ..scoring.rules import read_scoring  # here, not at the top: scoring reads the template model

    read_scoring(template)  # a mistake in the scoring rules is a template error, found when it is loaded
    if pack is not None:
        unused = sorted(set(pack) - reader.pack_used)
        if unused:
            raise TemplateError(str(text_pack), f"key(s) {listing(unused)} are not used by form '{template.form}'")
    return template


def _read_item(reader: _Reader, node: dict, scales: dict[str, tuple[Option, ...]]) -> Item:
    kind = node["kind"]
    record = ITEM_KINDS[kind]
    line = node.line
    if kind == "heading":
        return HeadingItem(line, reader.text(node, "text"))
    if kind == "paragraph":
        return ParagraphItem(line, reader.text(node, "text"))
    if kind == "page_break":
        return PageBreakItem(line)
    if kind == "matrix":
        rows = tuple(MatrixRow(row["id"], reader.text(row, "text"), row.line) for row in node["rows"])
        return MatrixItem(line, _scale(reader, node, scales, rows[0].id), rows,
                          _get(node, record, "multiple"), _get(node, record, "numbered"))

    field_id = node["id"]
    text = reader.text(node, "text")
    if kind == "choice":
        return ChoiceItem(line, field_id, text, _scale(reader, node, scales, field_id), _get(node, record, "multiple"))
    if kind == "digits":
        count = node["count"]
        low, high = node.get("min"), node.get("max")
        for key, value in (("min", low), ("max", high)):
            if value is not None and value > 10**count - 1:
                raise reader.fail(f"'{key}' must be a whole number from 0 to {10**count - 1} ({count} digit "
                                  f"box(es)), not {show(value)}", node, field_id)
        if low is not None and high is not None and low > high:
            raise reader.fail(f"'min' {low} is above 'max' {high}", node, field_id)
        return DigitsItem(line, field_id, text, count, low, high)
    if kind == "date":
        return DateItem(line, field_id, text, node.get("when", ""))
    if kind == "text":
        return TextItem(line, field_id, text, _get(node, record, "lines"))
    # line: a visual-analogue scale
    low, high = float(_get(node, record, "min")), float(_get(node, record, "max"))
    if low == high:
        raise reader.fail("a line's 'min' and 'max' must differ", node, field_id)
    return LineItem(line, field_id, text, reader.text(node, "left"), reader.text(node, "right"),
                    float(_get(node, record, "length_mm")), low, high)


def _scale(reader: _Reader, node: dict, scales: dict[str, tuple[Option, ...]], item: str) -> tuple[Option, ...]:
    if "options" in node:
        return reader.options(node["options"], node, item)
    name = node["scale"]
    if name not in scales:
        known = listing(list(scales)) or "none defined"
        raise reader.fail(f"scale {show(name)} is not defined under 'scales' ({known})", node, item)
    return scales[name]


def _check_unique_ids(reader: _Reader, template: Template) -> None:
    seen: dict[str, int] = {}
    for item in template.items:
        rows = item.rows if isinstance(item, MatrixItem) else [item]
        for row in rows:
            field_id = getattr(row, "id", None)
            if field_id is None:
                continue
            if field_id in seen:
                raise TemplateError(reader.path, f"duplicate id (first used on line {seen[field_id]})",
                                    row.line, field_id)
            if field_id in RESERVED_FIELD_IDS:
                raise TemplateError(reader.path, f"the id is a column export writes for every form "
                                    f"({', '.join(RESERVED_FIELD_IDS)}): name the field otherwise", row.line, field_id)
            seen[field_id] = row.line


def _check_ranges(reader: _Reader, scoring: dict, fields: int) -> None:
    """A range such as ``q1..q99999999`` would expand to more ids than any form has: refuse it before the
    scoring rules expand it."""
    from ..scoring.rules import RANGE

    for score in scoring.get("scores", []):
        for key in ("items", "reverse"):
            spec = score.get(key)
            match = RANGE.match(spec.strip()) if isinstance(spec, str) else None
            if match is None or match.group(1) != match.group(3):
                continue
            first, last = match.group(2), match.group(4)
            count = int(last) - int(first) + 1 if max(len(first), len(last)) <= 6 else MAX_RANGE + 1
            if count > min(MAX_RANGE, max(fields, 1)):
                raise reader.fail(f"'{key}' {show(spec)} names {count if count <= MAX_RANGE else 'too many'} ids; "
                                  f"this form has {fields} field(s)", score, score["id"])


def load_text_pack(path: Path) -> dict[str, str]:
    """A text pack is a YAML mapping ``texts: {key: wording}`` (and optionally ``form: <id>``) supplied by
    the licensed organisation."""
    return _read_text_pack(path)[1]


def _read_text_pack(path: Path) -> tuple[str | None, dict[str, str]]:
    """The form a text pack names (None when it names none) and its wording by key."""
    raw = read_yaml(path)
    check(raw, TEXT_PACK, str(path))
    return raw.get("form"), {key: str(value).strip() for key, value in raw["texts"].items()}


def _templates_dir() -> Path:
    # Installed wheels carry the repository's top-level templates/ as formkit/templates/.
    package = Path(__file__).resolve().parents[1]
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def shipped_templates() -> dict[str, Path]:
    """Shipped template ids and their files."""
    return {p.stem: p for p in sorted(_templates_dir().glob("*.yaml"))}


def resolve_template(name: str, text_pack: str | Path | None = None) -> Template:
    """``name`` is a shipped template id or a path to a YAML file."""
    shipped = shipped_templates()
    path = Path(name)
    if name in shipped and not path.is_file():  # a folder named k10 where the command runs (its scans?) is no template
        return load_template(shipped[name], text_pack)
    if path.is_file():
        return load_template(path, text_pack)
    if name.strip() and path.is_dir():
        raise InputError(f"{clip(name, 200)}: is a folder; give a template file or a shipped template's id "
                         f"({', '.join(shipped)})")
    raise InputError(f"{clip(name, 200)}: no such template file, and not a shipped template ({', '.join(shipped)})")
