"""The JSON Schema (draft 2020-12) of the template format, built from the vocabulary in ``schema.py``.

Editors use it to complete keys, explain them and underline mistakes while a template is written. It is
checked in as ``docs/template.schema.json``; regenerate it with::

    python -m formkit.template.jsonschema            # writes docs/template.schema.json
    python -m formkit.template.jsonschema --check    # exits 1 if the checked-in file is out of date
    python -m formkit.template.jsonschema -          # prints it

The schema checks the shape of a file, as the loader's first pass does (check.py). The loader checks more
(unique ids, defined scales, that scores name existing fields, that the content fits the page).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .schema import (
    PACK_KEY,
    TEMPLATE,
    AnyOf,
    Boolean,
    Integer,
    Key,
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

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "template.schema.json"


def template_json_schema() -> dict[str, Any]:
    """The JSON Schema of a template file."""
    defs: dict[str, Any] = {}
    body = _Builder(defs).spec(TEMPLATE)
    return {
        "$schema": DRAFT,
        "$comment": "Generated from formkit/template/schema.py by `python -m formkit.template.jsonschema`; "
                    "do not edit by hand.",
        **body,
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    """The schema as it is checked in: indented JSON with a final newline."""
    return json.dumps(template_json_schema(), indent=2, ensure_ascii=False) + "\n"


class _Builder:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs

    def spec(self, spec: Spec) -> dict[str, Any]:
        """``spec`` as a schema: a ``$ref`` to a shared definition when it has a name, else written out."""
        if spec.ref is None:
            return self._annotated(spec)
        if spec.ref not in self.defs:
            self.defs[spec.ref] = {}  # claimed first, so a definition that refers to itself ends
            self.defs[spec.ref] = self._annotated(spec)
        return {"$ref": f"#/$defs/{spec.ref}"}

    def _annotated(self, spec: Spec) -> dict[str, Any]:
        annotations = {k: v for k, v in (("title", spec.title), ("description", spec.description)) if v}
        return {**annotations, **self._body(spec)}

    def key(self, key: Key) -> dict[str, Any]:
        schema: dict[str, Any] = {"title": key.title, "description": key.description, **self.spec(key.spec)}
        if key.default is not None:
            schema["default"] = key.default
        return schema

    def _body(self, spec: Spec) -> dict[str, Any]:
        match spec:
            case Text():
                plain = {"type": ["string", "number"], "maxLength": spec.max_length}
                if not spec.pack:
                    return plain
                pack = {"type": "object", "title": "Text-pack wording",
                        "description": "Take the wording from the text pack's key.",
                        "properties": {"pack": {"title": "Text-pack key", "description": PACK_KEY.description,
                                               **self.spec(PACK_KEY)}}, "required": ["pack"],
                        "additionalProperties": False}
                return {"anyOf": [plain, pack]}
            case Name():
                if spec.enum:
                    schema: dict[str, Any] = {"type": "string", "enum": list(spec.enum)}
                    if spec.enum_descriptions:
                        schema["enumDescriptions"] = list(spec.enum_descriptions)  # read by VS Code
                    return schema
                schema = {"type": "string", "minLength": 1, "maxLength": spec.max_length}
                if spec.pattern:
                    schema["pattern"] = spec.pattern
                return schema
            case Integer():
                return _bounded({"type": "integer"}, minimum=spec.minimum, maximum=spec.maximum)
            case Number():
                return _bounded({"type": "number"}, minimum=spec.minimum, maximum=spec.maximum,
                                exclusiveMaximum=spec.exclusive_maximum, exclusiveMinimum=spec.exclusive_minimum)
            case Boolean():
                return {"type": "boolean"}
            case AnyOf():
                return {"anyOf": [self.spec(choice) for choice in spec.choices]}
            case ListOf():
                return _bounded({"type": "array", "items": self.spec(spec.item)}, minItems=spec.min_items or None)
            case TupleOf():
                return {"type": "array", "prefixItems": [self.spec(place) for place in spec.items],
                        "items": False, "minItems": len(spec.items)}
            case Record():
                return self._record(spec)
            case MapOf():
                return _bounded({"type": "object", "propertyNames": self.spec(spec.key),
                                 "additionalProperties": self.spec(spec.value)}, minProperties=spec.min_items or None)
            case Tagged():
                return self._tagged(spec)
        raise TypeError(f"no JSON Schema for {spec!r}")

    def _record(self, spec: Record, tag: tuple[str, str] | None = None) -> dict[str, Any]:
        properties = {name: self.key(key) for name, key in spec.keys.items()}
        required = [name for name, key in spec.keys.items() if key.required]
        if tag is not None:
            properties = {tag[0]: {"const": tag[1]}, **properties}
            required.insert(0, tag[0])
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        if spec.exactly_one_of:
            schema["oneOf"] = [{"required": [name]} for name in spec.exactly_one_of]
        return schema

    def _tagged(self, spec: Tagged) -> dict[str, Any]:
        branches = []
        for kind, record in spec.variants.items():
            name = f"{kind}_item"
            self.defs[name] = {"title": f"{kind} item", "description": record.description,
                               **self._record(record, (spec.tag, kind))}
            branches.append({"if": {"properties": {spec.tag: {"const": kind}}, "required": [spec.tag]},
                             "then": {"$ref": f"#/$defs/{name}"}})
        tag = {"title": "Kind", "description": spec.tag_description, "type": "string", "enum": list(spec.variants),
               "enumDescriptions": [record.description for record in spec.variants.values()]}
        return {"type": "object", "properties": {spec.tag: tag}, "required": [spec.tag], "allOf": branches}


def _bounded(schema: dict[str, Any], **bounds: Any) -> dict[str, Any]:
    return {**schema, **{k: v for k, v in bounds.items() if v is not None}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m formkit.template.jsonschema",
                                     description="Write the JSON Schema of the template format.")
    parser.add_argument("out", nargs="?", default=str(SCHEMA_FILE),
                        help="where to write it ('-' for standard output; default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only check that OUT is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            print(f"{out} is out of date: run python -m formkit.template.jsonschema", file=sys.stderr)
            return 1
        return 0
    if not out.parent.is_dir():
        print(f"{out.parent} does not exist: give the output file, or '-'", file=sys.stderr)
        return 2
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
