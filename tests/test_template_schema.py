"""The JSON Schema of the template format (docs/template.schema.json): generated from the vocabulary the
loader checks with, so it cannot drift; every shipped template is valid; mistakes are caught by both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formkit.errors import TemplateError
from formkit.template import load_template, shipped_templates
from formkit.template.jsonschema import SCHEMA_FILE, main, schema_text, template_json_schema
from formkit.template.load import read_yaml
from formkit.template.schema import ITEM_KINDS, LICENCES, METHODS, PAGE_SIZES_MM, SCORE, SCORING

from .conftest import MINIMAL
from .test_template import BAD_VALUES, EVERY_KEY, _paths, _replaced


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_checked_in_schema_is_what_the_vocabulary_generates():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "docs/template.schema.json is out of date: run python -m formkit.template.jsonschema"
    assert main(["--check", str(SCHEMA_FILE)]) == 0


def test_the_generator_writes_and_checks_a_file(tmp_path: Path):
    out = tmp_path / "schema.json"
    assert main([str(out)]) == 0 and out.read_text(encoding="utf-8") == schema_text()
    out.write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(out)]) == 1


def test_the_schema_is_draft_2020_12_with_enums_and_words_for_editors():
    schema = template_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    defs = schema["$defs"]
    assert defs["item"]["properties"]["kind"]["enum"] == list(ITEM_KINDS)
    assert defs["page"]["properties"]["size"]["enum"] == list(PAGE_SIZES_MM)
    assert schema["properties"]["licence"]["enum"] == list(LICENCES)
    assert defs["score"]["properties"]["method"]["enum"] == list(METHODS)
    untitled = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if set(prop) != {"const"} and not (prop.get("title") and prop.get("description")):
                    untitled.append(f"{where}.{name}")
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(schema, "")
    assert untitled == []


def test_the_vocabulary_knows_every_key_of_the_scoring_rules():
    from formkit.scoring import rules

    assert set(SCORE.keys) == rules.SCORE_KEYS
    assert METHODS == rules.METHODS
    assert set(SCORING.keys) == {"scores", "person", "occasion_date"}  # as read_scoring reads them


@pytest.mark.parametrize("name", sorted(shipped_templates()))
def test_every_shipped_template_is_valid(validator, name):
    raw = read_yaml(shipped_templates()[name])
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(raw)]
    assert errors == []


def test_the_sample_text_pack_and_the_every_key_template_are_valid(validator):
    assert list(validator.iter_errors(EVERY_KEY)) == []


@pytest.mark.parametrize(("change", "schema_path"), [
    (("kind: choice", "kind: slider"), "items/0/kind"),
    (("kind: choice", "kind: [a, b]"), "items/0/kind"),
    (("version: 1", "version: one"), "version"),
    (("id: q1", "id: {a: 1}"), "items/0/id"),
    (("id: q1", "id: Q-1"), "items/0/id"),
    (("page: {size: A5}", "page: {size: A3}"), "page/size"),
    (("page: {size: A5}", "page: {size: A5, colour: red}"), "page"),
    (("title: A test form", "titel: A test form"), ""),
    (("    text: How are you?", "    txt: How are you?"), "items/0"),
    (("    text: How are you?", "    text: How are you?\n    scale: agree"), "items/0"),
    (("      - {value: 1, label: Bad}", "      - {value: 1, label: [Bad]}"), "items/0/options/0/label"),
    (("    options:\n      - {value: 1, label: Bad}\n      - {value: 2, label: Good}\n", "    options: []\n"),
     "items/0/options"),
    (("licence: shippable", "licence: free"), "licence"),
    (("items:", "scoring: {scores: [{id: s, method: median, items: [q1]}]}\nitems:"), "scoring/scores/0/method"),
    (("items:", "scoring: {scores: [{id: s, method: sum, items: [q1], round: two}]}\nitems:"),
     "scoring/scores/0/round"),
    (("items:", "scoring: {scores: [{id: s, method: sum, items: [q1], rho: 1}]}\nitems:"), "scoring/scores/0/rho"),
    (("items:", "scoring: {scores: [{id: s, method: sum, items: [q1], bands: {sets: {a: [[1, 2]]}}}]}\nitems:"),
     "scoring/scores/0/bands/sets/a/0"),
    (("items:", "scoring: {person: [q1]}\nitems:"), "scoring/person"),
    (("items:", "scoring: {score: []}\nitems:"), "scoring"),
])
def test_mistakes_fail_the_schema_and_the_loader(validator, write_template, change, schema_path):
    path = write_template(MINIMAL.replace(*change))
    errors = list(validator.iter_errors(read_yaml(path)))
    assert errors, "the schema accepted it"
    assert schema_path in ["/".join(map(str, e.absolute_path)) for e in errors] + \
        ["/".join(map(str, c.absolute_path)) for e in errors for c in (e.context or [])]
    with pytest.raises(TemplateError):
        load_template(path)


def test_the_schema_and_the_loaders_check_agree_on_every_mistake(validator):
    """Places of a template that uses every key, replaced by wrong values: the loader's check of keys and
    types (which runs before anything reads the file) and the schema accept the same ones."""
    from formkit.template.check import check
    from formkit.template.schema import TEMPLATE

    values = [*BAD_VALUES, 2.5, "", {"pack": "x"}]
    verdicts = {True: 0, False: 0}
    for i, place in enumerate(_paths(EVERY_KEY)):
        for value in (values * 2)[i % len(values):][:4]:  # four values a place, each value at every fourth
            data = _replaced(EVERY_KEY, place, value)
            try:
                check(data, TEMPLATE, "f.yaml")
                loader = True
            except TemplateError:
                loader = False
            assert validator.is_valid(data) == loader, (place, value)
            verdicts[loader] += 1
    assert verdicts[True] > 40 and verdicts[False] > 300, verdicts
