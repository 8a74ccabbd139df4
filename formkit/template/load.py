"""Read a template YAML file into a validated ``Template``; every error names file, line and item."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import TemplateError
from .schema import (
    LICENCES,
    PAGE_SIZES_MM,
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
    Template,
    TextItem,
)

FORM_ID = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
FIELD_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TOP_LEVEL_KEYS = {"form", "version", "title", "language", "ocr_language", "licence", "page", "scales",
                  "items", "notice", "scoring"}
ITEM_KEYS: dict[str, set[str]] = {
    "heading": {"text"},
    "paragraph": {"text"},
    "page_break": set(),
    "choice": {"id", "text", "scale", "options", "multiple"},
    "matrix": {"scale", "options", "rows", "multiple", "numbered"},
    "digits": {"id", "text", "count", "min", "max"},
    "date": {"id", "text"},
    "text": {"id", "text", "lines"},
    "line": {"id", "text", "left", "right", "length_mm", "min", "max"},
}


class _Mapping(dict):
    line = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings remember the line they start on."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse ``path`` with line-aware mappings; unreadable or malformed files raise ``TemplateError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(str(path), "file is not UTF-8 text") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise TemplateError(str(path), f"not valid YAML: {getattr(exc, 'problem', exc)}", line) from exc


class _Reader:
    """Validation helpers bound to one file, so every message names it."""

    def __init__(self, path: str, pack: dict[str, str] | None) -> None:
        self.path = path
        self.pack = pack
        self.pack_used: set[str] = set()

    def fail(self, message: str, node: Any = None, item: str | None = None) -> TemplateError:
        return TemplateError(self.path, message, getattr(node, "line", None) or None, item)

    def mapping(self, node: Any, what: str, line_of: Any = None) -> _Mapping:
        if not isinstance(node, dict):
            raise self.fail(f"{what} must be a mapping of keys to values", line_of)
        return node  # type: ignore[return-value]

    def known_keys(self, node: _Mapping, allowed: set[str], what: str, item: str | None = None) -> None:
        unknown = sorted(set(node) - allowed)
        if unknown:
            raise self.fail(
                f"unknown key(s) {', '.join(map(repr, unknown))} in {what}; allowed: {', '.join(sorted(allowed))}",
                node, item)

    def string(self, node: _Mapping, key: str, item: str | None = None, required: bool = True) -> str:
        value = node.get(key)
        if value is None:
            if required:
                raise self.fail(f"'{key}' is required", node, item)
            return ""
        if isinstance(value, dict) and set(value) == {"pack"}:
            return self.packed(str(value["pack"]))
        if not isinstance(value, str | int | float):
            raise self.fail(f"'{key}' must be text", node, item)
        return str(value).strip()

    def packed(self, key: str) -> str:
        """Wording supplied by the organisation's text pack, or a visible placeholder without one."""
        self.pack_used.add(key)
        if self.pack is not None and key in self.pack:
            return self.pack[key]
        return f"[{key}]"

    def integer(self, node: _Mapping, key: str, default: int | None, low: int, high: int,
                item: str | None = None) -> int | None:
        value = node.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"'{key}' must be a whole number from {low} to {high}, not {value!r}", node, item)
        return value

    def number(self, node: _Mapping, key: str, default: float, item: str | None = None) -> float:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"'{key}' must be a number, not {value!r}", node, item)
        return float(value)

    def boolean(self, node: _Mapping, key: str, default: bool, item: str | None = None) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false, not {value!r}", node, item)
        return value

    def options(self, raw: Any, where: _Mapping, item: str | None) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("a scale needs a list of at least one option", where, item)
        options: list[Option] = []
        for entry in raw:
            entry = self.mapping(entry, "an option", where)
            self.known_keys(entry, {"value", "label"}, "an option", item)
            value = entry.get("value")
            if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
                raise self.fail(f"an option's 'value' must be a number or text, not {value!r}", entry, item)
            options.append(Option(value=value, label=self.string(entry, "label", item, required=False)))
        values = [o.value for o in options]
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise self.fail(f"option value(s) {', '.join(duplicates)} appear more than once", where, item)
        return tuple(options)


def load_template(path: str | Path, text_pack: str | Path | None = None) -> Template:
    """Load and validate the template at ``path``; ``text_pack`` supplies licensed wording."""
    path = Path(path)
    pack = load_text_pack(Path(text_pack)) if text_pack is not None else None
    raw = read_yaml(path)
    reader = _Reader(str(path), pack)
    top = reader.mapping(raw, "the template")
    reader.known_keys(top, TOP_LEVEL_KEYS, "the template")

    form = reader.string(top, "form")
    if not FORM_ID.match(form):
        raise reader.fail(f"form id {form!r} must be lower-case letters, digits and '-', at most 24", top)
    version = reader.integer(top, "version", None, 1, 9999)
    if version is None:
        raise reader.fail("'version' is required", top)
    licence = reader.string(top, "licence")
    if licence not in LICENCES:
        raise reader.fail(f"licence must be one of {', '.join(LICENCES)}, not {licence!r}", top)

    page = reader.mapping(top.get("page", {}), "'page'", top)
    reader.known_keys(page, {"size", "orientation", "max_pages"}, "'page'")
    size = reader.string(page, "size", required=False) or "A4"
    if size not in PAGE_SIZES_MM:
        raise reader.fail(f"page size {size!r} does not exist; use one of {', '.join(PAGE_SIZES_MM)}", page)
    orientation = reader.string(page, "orientation", required=False) or "portrait"
    if orientation not in ("portrait", "landscape"):
        raise reader.fail(f"orientation must be portrait or landscape, not {orientation!r}", page)

    scales_raw = reader.mapping(top.get("scales", {}), "'scales'", top)
    scales = {name: reader.options(opts, scales_raw, f"scale {name}") for name, opts in scales_raw.items()}

    items_raw = top.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        raise reader.fail("'items' must be a list with at least one item", top)
    items = tuple(_read_item(reader, node, scales, top) for node in items_raw)
    template = Template(
        form=form,
        version=version,
        title=reader.string(top, "title"),
        language=reader.string(top, "language", required=False) or "en",
        ocr_language=reader.string(top, "ocr_language", required=False) or "eng",
        licence=licence,
        page_size=size,
        landscape=orientation == "landscape",
        max_pages=reader.integer(page, "max_pages", None, 1, 100),
        items=items,
        source=str(path),
        notice=reader.string(top, "notice", required=False),
        text_pack=str(text_pack) if text_pack is not None else None,
        extra={"scoring": top.get("scoring")} if "scoring" in top else {},
    )
    _check_unique_ids(reader, template)
    from ..scoring.rules import read_scoring  # here, not at the top: scoring reads the template model

    read_scoring(template)  # a mistake in the scoring rules is a template error, found when it is loaded
    if pack is not None:
        unused = sorted(set(pack) - reader.pack_used)
        if unused:
            raise TemplateError(str(text_pack), f"key(s) {', '.join(unused)} are not used by form '{form}'")
    return template


def _read_item(reader: _Reader, node: Any, scales: dict[str, tuple[Option, ...]], top: _Mapping) -> Item:
    node = reader.mapping(node, "an item", top)
    kind = node.get("kind")
    item_id = node.get("id") if isinstance(node.get("id"), str) else None
    if kind not in ITEM_KEYS:
        raise reader.fail(f"unknown item kind {kind!r}; use one of {', '.join(ITEM_KEYS)}", node, item_id)
    reader.known_keys(node, ITEM_KEYS[kind] | {"kind"}, f"a {kind} item", item_id)
    line = node.line
    if kind == "heading":
        return HeadingItem(line, reader.string(node, "text"))
    if kind == "paragraph":
        return ParagraphItem(line, reader.string(node, "text"))
    if kind == "page_break":
        return PageBreakItem(line)
    if kind == "matrix":
        rows_raw = node.get("rows")
        if not isinstance(rows_raw, list) or not rows_raw:
            raise reader.fail("a matrix needs 'rows': a list of {id, text}", node)
        rows = []
        for row in rows_raw:
            row = reader.mapping(row, "a matrix row", node)
            reader.known_keys(row, {"id", "text"}, "a matrix row")
            row_id = _field_id(reader, row)
            rows.append(MatrixRow(row_id, reader.string(row, "text", row_id), row.line))
        return MatrixItem(line, _scale(reader, node, scales, rows[0].id), tuple(rows),
                          reader.boolean(node, "multiple", False), reader.boolean(node, "numbered", True))

    field_id = _field_id(reader, node)
    text = reader.string(node, "text", field_id, required=False)
    if kind == "choice":
        return ChoiceItem(line, field_id, text, _scale(reader, node, scales, field_id),
                          reader.boolean(node, "multiple", False, field_id))
    if kind == "digits":
        count = reader.integer(node, "count", None, 1, 20, field_id)
        if count is None:
            raise reader.fail("'count' (how many digit boxes) is required", node, field_id)
        low = reader.integer(node, "min", None, 0, 10**count - 1, field_id)
        high = reader.integer(node, "max", None, 0, 10**count - 1, field_id)
        if low is not None and high is not None and low > high:
            raise reader.fail(f"'min' {low} is above 'max' {high}", node, field_id)
        return DigitsItem(line, field_id, text, count, low, high)
    if kind == "date":
        return DateItem(line, field_id, text)
    if kind == "text":
        return TextItem(line, field_id, text, reader.integer(node, "lines", 2, 1, 30, field_id) or 2)
    # line: a visual-analogue scale
    length = reader.number(node, "length_mm", 100.0, field_id)
    low = reader.number(node, "min", 0.0, field_id)
    high = reader.number(node, "max", 10.0, field_id)
    if length < 20:
        raise reader.fail(f"a line must be at least 20 mm long, not {length}", node, field_id)
    if low == high:
        raise reader.fail("a line's 'min' and 'max' must differ", node, field_id)
    return LineItem(line, field_id, text, reader.string(node, "left", field_id, required=False),
                    reader.string(node, "right", field_id, required=False), length, low, high)


def _field_id(reader: _Reader, node: _Mapping) -> str:
    field_id = node.get("id")
    if not isinstance(field_id, str) or not FIELD_ID.match(field_id):
        raise reader.fail(
            f"field id {field_id!r} must be lower-case letters, digits and '_', starting with a letter",
            node, field_id if isinstance(field_id, str) else None)
    return field_id


def _scale(reader: _Reader, node: _Mapping, scales: dict[str, tuple[Option, ...]], item: str) -> tuple[Option, ...]:
    if "scale" in node and "options" in node:
        raise reader.fail("give either 'scale' or 'options', not both", node, item)
    if "options" in node:
        return reader.options(node["options"], node, item)
    name = node.get("scale")
    if name is None:
        raise reader.fail("a choice needs 'options' or a 'scale' name", node, item)
    if name not in scales:
        known = ", ".join(scales) or "none defined"
        raise reader.fail(f"scale {name!r} is not defined under 'scales' ({known})", node, item)
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
            seen[field_id] = row.line


def load_text_pack(path: Path) -> dict[str, str]:
    """A text pack is a YAML mapping ``texts: {key: wording}`` (and optionally ``form: <id>``) supplied by
    the licensed organisation."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("texts"), dict):
        raise TemplateError(str(path), "a text pack must have a 'texts' mapping of key: wording")
    unknown = sorted(set(raw) - {"form", "texts"})
    if unknown:
        raise TemplateError(str(path), f"unknown key(s) {', '.join(unknown)}; a text pack has 'form' and 'texts'")
    texts = raw["texts"]
    bad = [k for k, v in texts.items() if not isinstance(v, str | int | float)]
    if bad:
        raise TemplateError(str(path), f"wording for {', '.join(map(str, bad))} must be text", texts.line)
    return {str(k): str(v).strip() for k, v in texts.items()}


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
    if name in shipped and not path.exists():
        return load_template(shipped[name], text_pack)
    if path.is_file():
        return load_template(path, text_pack)
    raise TemplateError(name, f"no such template file, and not a shipped template ({', '.join(shipped)})")
