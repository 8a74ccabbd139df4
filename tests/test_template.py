import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from formkit.catalogue import Catalogue
from formkit.errors import LayoutError, TemplateError
from formkit.layout import build_layout
from formkit.store import Store
from formkit.template import load_template, resolve_template, shipped_templates
from formkit.template.load import LOADERS, read_yaml
from formkit.template.schema import MatrixItem
from formkit_cli import main

from .conftest import MINIMAL


def test_minimal_template_loads_with_values_apart_from_labels(write_template):
    template = load_template(write_template(MINIMAL))
    choice = template.items[0]
    assert [(o.value, o.label) for o in choice.options] == [(1, "Bad"), (2, "Good")]
    assert template.page_size == "A5"


@pytest.mark.parametrize(("change", "message", "line"), [
    (("kind: choice", "kind: slider"), "unknown item kind 'slider'", 7),
    (("page: {size: A5}", "page: {size: A3}"), "page size 'A3' does not exist", 5),
    (("    options:\n      - {value: 1, label: Bad}\n      - {value: 2, label: Good}\n", "    options: []\n"),
     "at least one option", 10),
    (("      - {value: 2, label: Good}", "      - {value: 1, label: Good}"), "appear more than once", 7),
    # a number no export can hold exactly (SPSS and Excel wrote 1.2345678901234568e+29; Stata refused it)
    (("      - {value: 2, label: Good}", "      - {value: 123456789012345678901234567890, label: Good}"),
     "must be a whole number of at most nine digits, or text", 12),
    (("    text: How are you?", "    txt: How are you?"), "unknown key(s) 'txt'", 7),
])
def test_invalid_templates_name_file_line_and_item(write_template, change, message, line):
    path = write_template(MINIMAL.replace(*change))
    with pytest.raises(TemplateError) as error:
        load_template(path)
    assert message in str(error.value)
    assert f"{path}:{line}" in str(error.value)
    if "item kind" not in message and "page size" not in message:
        assert "'q1'" in str(error.value)


def test_duplicate_id_names_both_lines(write_template):
    path = write_template(MINIMAL + "  - {kind: text, id: q1, text: Again}\n")
    with pytest.raises(TemplateError, match=r"form.yaml:13 \(item 'q1'\): duplicate id \(first used on line 7\)"):
        load_template(path)


@pytest.mark.parametrize(("extra", "message"), [
    # a field named as one of <form>.csv's own columns: its answers overwrote them (the form's version read from
    # an answer, its scores gone), or they overwrote it
    ("  - {kind: digits, id: version, text: Which leaflet?, count: 1}\n",
     "form.yaml:13 (item 'version'): the id is a column export writes for every form"),
    ("  - {kind: text, id: source_files, text: Where did you hear of us?}\n",
     "form.yaml:13 (item 'source_files'): the id is a column export writes for every form"),
    # a field named as a score's status column: the status overwrote the answer
    ("  - {kind: text, id: total_status, text: Anything else?}\n"
     "scoring:\n  scores:\n    - {id: total, method: sum, items: [q1]}\n",
     "form.yaml:16 (item 'total'): the export writes this score in the columns total, total_status; "
     "total_status is already a field"),
    ("scoring:\n  scores:\n    - {id: total, method: sum, items: [q1]}\n    - {id: total_status, method: sum, "
     "items: [q1]}\n", "(item 'total_status'): the export writes this score in the columns total_status, "
     "total_status_status; total_status is already a column of score 'total'"),
    ("scoring:\n  scores:\n    - {id: reviewed, method: sum, items: [q1]}\n",
     "(item 'reviewed'): the export writes this score in the columns reviewed, reviewed_status; reviewed is "
     "already a column export writes for every form"),
])
def test_an_id_that_would_share_an_export_column_is_refused(write_template, extra, message):
    with pytest.raises(TemplateError) as error:
        load_template(write_template(MINIMAL + extra))
    assert message in str(error.value)


def test_text_too_long_for_the_page_is_a_layout_error_naming_the_item(write_template):
    long_text = " ".join(["word"] * 2000)
    path = write_template(MINIMAL + f"  - {{kind: paragraph, text: '{long_text}'}}\n")
    with pytest.raises(LayoutError, match=r"form.yaml:13 \(item 'paragraph'\): this item needs"):
        build_layout(load_template(path))


def test_line_longer_than_the_page_is_refused(write_template):
    path = write_template(MINIMAL.replace("size: A5", "size: A7") + "  - {kind: line, id: vas, text: Mood}\n")
    with pytest.raises(LayoutError, match="100 mm line does not fit"):
        build_layout(load_template(path))


def test_cli_exits_non_zero_and_writes_nothing_for_an_invalid_template(write_template, tmp_path: Path):
    path = write_template(MINIMAL.replace("kind: choice", "kind: slider"))
    out = tmp_path / "out.pdf"
    result = CliRunner().invoke(main, ["generate", str(path), "--out", str(out), "--manifest",
                                       str(tmp_path / "m.csv")])
    assert result.exit_code == TemplateError.exit_code
    assert "unknown item kind 'slider'" in result.output
    assert not out.exists() and not (tmp_path / "m.csv").exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_every_shipped_template_loads():
    shipped = shipped_templates()
    assert {"goal-card", "gas-followup", "k10", "alliance-check", "wai-sr", "vas-4line"} <= set(shipped)
    for name in shipped:
        assert resolve_template(name).form == name


def test_text_pack_forms_print_placeholders_and_take_wording_from_a_pack(tmp_path: Path):
    placeholder = resolve_template("wai-sr")
    assert placeholder.licence == "text-pack"
    rows = next(i for i in placeholder.items if isinstance(i, MatrixItem)).rows
    assert rows[0].text == "[wai_01]"
    pack = tmp_path / "pack.yaml"
    texts = "".join(f"  wai_{i:02d}: Licensed wording {i}\n" for i in range(1, 13))
    pack.write_text(f"texts:\n  instructions: Read each sentence.\n{texts}", encoding="utf-8")
    packed = resolve_template("wai-sr", pack)
    rows = next(i for i in packed.items if isinstance(i, MatrixItem)).rows
    assert rows[11].text == "Licensed wording 12"


def test_text_pack_with_unknown_keys_is_refused(tmp_path: Path):
    pack = tmp_path / "pack.yaml"
    pack.write_text("texts:\n  not_an_item: hello\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="not_an_item"):
        resolve_template("wai-sr", pack)


def test_k10_ships_its_notice_and_our_forms_their_own_wording():
    assert "World Health Organization 2003" in resolve_template("k10").notice
    assert resolve_template("alliance-check").licence == "shippable"


# --- Templates and text packs are untrusted input -------------------------------------------------------

def _laughs(use_as: str) -> str:
    """Nested YAML aliases: nine levels of nine, 9**9 strings once expanded, in a few hundred bytes."""
    levels = ["  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"  - &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "laughs:\n" + "\n".join(levels) + f"\n{use_as}: *i\n"


def _load_error(path: Path) -> TemplateError:
    with pytest.raises(TemplateError) as error:
        load_template(path)
    return error.value


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_nested_yaml_aliases_are_refused_at_once_naming_the_line(write_template, loader):
    text = _laughs("version") + MINIMAL.replace("version: 1\n", "")
    path = write_template(text)
    assert len(text.encode()) < 1000
    with pytest.raises(TemplateError) as error:
        read_yaml(path, loader)
    assert f"{path}:2: YAML anchors and aliases" in str(error.value)  # the first anchor
    assert f"{path}:2:" in str(_load_error(path))


def test_a_single_alias_is_refused_too(write_template):
    path = write_template(MINIMAL.replace("version: 1", "version: *v").replace("title: A", "x: &v 1\ntitle: A"))
    assert "anchors and aliases" in str(_load_error(path))


@pytest.mark.parametrize(("change", "message", "line"), [
    (("kind: choice", "kind: [a, b]"), "'kind' must be one of heading, paragraph", 7),
    (("    options:\n      - {value: 1, label: Bad}\n      - {value: 2, label: Good}\n", "    scale: [1, 2]\n"),
     "'scale' must be a scale name", 10),
    (("id: q1", "id: {a: 1}"), "'items[0].id' must be a field id", 8),
    (("    text: How are you?", "    text: [1, 2]"), "'text' must be text or {pack: key}, not a list", 9),
    (("{value: 1, label: Bad}", "{value: [1], label: Bad}"),
     "'options[0].value' must be a whole number of at most nine digits, or text", 11),
    (("version: 1", "version: '1'"), "'version' must be a whole number from 1 to 9999, not '1'", 2),
    (("version: 1", "version: 1.5"), "'version' must be a whole number", 2),
    (("page: {size: A5}", "page: {size: [A5]}"), "'page.size' must be one of A4, Letter", 5),
    (("page: {size: A5}", "page: {max_pages: true}"), "'page.max_pages' must be a whole number from 1 to 100", 5),
    (("page: {size: A5}", "page: A5"), "'page' must be a mapping", 5),
    (("licence: shippable", "licence: {a: 1}"), "'licence' must be one of shippable, text-pack", 4),
    (("form: test-form", "form: 12"), "'form' must be a form id", 1),
    (("items:", "scales: [1]\nitems:"), "'scales' must be a mapping", 6),
    (("    id: q1\n", "    id: q1\n    id: q2\n"), "the key 'id' appears twice", 9),
    (("    id: q1\n", "    id: q1\n    multiple: yes\n"), "'multiple' must be true or false, not 'yes'", 9),
    (("    id: q1\n", "    id: q1\n    multiple:\n"), "'multiple' has no value", 9),
    (("title: A test form", "title: !!python/object:os.system x"), "could not determine a constructor", 3),
    (("version: 1", "version: " + "9" * 5000), "cannot read the value '999", 2),
    (("version: 1", "version: " + "[" * 100 + "]" * 100), "nested more than 20 levels deep", 2),
])
def test_every_value_is_type_checked_before_use(write_template, change, message, line):
    path = write_template(MINIMAL.replace(*change))
    error = _load_error(path)
    assert message in str(error) and f"{path}:{line}" in str(error)
    assert len(error.message) < 300 + len(str(path))


def test_unhashable_kind_exits_3_not_1(write_template, tmp_path: Path):
    path = write_template(MINIMAL.replace("kind: choice", "kind: [a, b]"))
    result = CliRunner().invoke(main, ["layout", str(path)])
    assert result.exit_code == TemplateError.exit_code == 3
    assert f"{path}:7" in result.output and "TypeError" not in result.output


@pytest.mark.parametrize("key", ["form", "title", "kind", "id", "label", "scale"])
def test_a_huge_value_is_never_echoed_in_full(write_template, key):
    huge = "a" * 200_000
    text = {"form": MINIMAL.replace("form: test-form", f"form: {huge}"),
            "title": MINIMAL.replace("title: A test form", f"title: {huge}"),
            "kind": MINIMAL.replace("kind: choice", f"kind: {huge}"),
            "id": MINIMAL.replace("id: q1", f"id: {huge}"),
            "label": MINIMAL.replace("label: Bad", f"label: {huge}"),
            "scale": MINIMAL.replace("    options:\n      - {value: 1, label: Bad}\n      - {value: 2, label: Good}\n",
                                     f"    scale: {huge}\n")}[key]
    path = write_template(text, "f.yaml")
    message = str(_load_error(path))
    assert len(message.replace(str(path), "")) < 300, message
    assert "200000 characters" in message or "characters long" in message


def test_a_one_megabyte_value_is_refused_with_a_short_message(write_template):
    path = write_template(MINIMAL.replace("title: A test form", "title: " + "a" * 1_000_000), "f.yaml")
    message = str(_load_error(path))
    assert len(message) < 300 and "larger than" in message


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "the template must be a mapping"),
    ("just words\n", "the template must be a mapping"),
    ("", "the file is empty"),
    ("# only a comment\n", "the file is empty"),
    ("form: x\n---\nform: y\n", "expected a single document"),
])
def test_a_top_level_that_is_not_a_mapping_is_a_template_error(write_template, text, message):
    assert message in str(_load_error(write_template(text)))


def test_a_text_pack_is_read_as_warily(tmp_path: Path):
    pack = tmp_path / "pack.yaml"
    pack.write_text(_laughs("x").replace("x: *i", "texts:\n  instructions: *i"), encoding="utf-8")
    with pytest.raises(TemplateError, match=rf"{pack}:2: YAML anchors and aliases"):
        resolve_template("wai-sr", pack)
    pack.write_text("texts:\n  instructions: [a, b]\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=rf"{pack}:2: 'texts.instructions' must be text, not a list"):
        resolve_template("wai-sr", pack)
    pack.write_text("texts: [a]\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=rf"{pack}:1: 'texts' must be a mapping"):
        resolve_template("wai-sr", pack)
    pack.write_text("- a\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="a text pack must be a mapping"):
        resolve_template("wai-sr", pack)


def test_yes_and_no_are_text_not_booleans(write_template):
    template = load_template(write_template(MINIMAL.replace("label: Bad", "label: No").replace("Good", "Yes")))
    assert [o.label for o in template.items[0].options] == ["No", "Yes"]


@pytest.mark.parametrize(("scoring", "message"), [
    ("scoring: {person: [q1]}", "'scoring.person' must be a field id"),
    ("scoring: {scores: {id: s}}", "'scoring.scores' must be a list of scores"),
    ("scoring: {scores: [{id: s, method: [sum], items: [q1]}]}", "'method' must be one of sum, mean"),
    ("scoring: {scores: [{id: s, method: sum, items: [q1], rho: abc}]}", "'rho' must be a number"),
    ("scoring: {scores: [{id: s, method: sum, items: [q1], round: two}]}", "'round' must be a whole number"),
    ("scoring: {scores: [{id: s, method: sum, items: [[q1]]}]}", "'items' must be a field id, a range"),
    ("scoring: {scores: [{id: s, method: sum, items: q1..q99999999999}]}", "names too many ids"),
    ("scoring: {scores: [{id: s, method: sum, items: [q1], bands: {sets: {a: '123'}}}]}",
     "'bands.sets.a' must be a list of bands"),
    ("scoring: {scores: [{id: s, method: sum, items: [q1], rescale: {from: [1], to: [0, 1]}}]}",
     "'rescale.from' must be a list [low, high]"),
    ("scoring: {scores: [{id: s, method: gas, goals: [{weight: q1}]}]}", "'goals[0].score' is required"),
    ("scoring: {scores: [{id: s, method: sum, items: [q1], roundd: 1}]}", "unknown key(s) 'roundd' in a score"),
    ("scoring: {score: []}", "unknown key(s) 'score' in 'scoring'"),
])
def test_the_scoring_section_is_type_checked_too(write_template, scoring, message):
    error = _load_error(write_template(MINIMAL + scoring + "\n"))
    assert message in str(error) and ":13" in str(error)


EVERY_KEY: dict = {
    "form": "every-key", "version": 2, "title": "Every key", "language": "en-GB", "ocr_language": "eng+fra",
    "licence": "text-pack", "notice": {"pack": "notice"}, "fill_means": "answer",
    "page": {"size": "A4", "orientation": "landscape", "max_pages": 3},
    "scales": {"agree": [{"value": 1, "label": "No"}, {"value": 2, "label": "Yes"}]},
    "items": [
        {"kind": "heading", "text": "About you"},
        {"kind": "paragraph", "text": {"pack": "intro"}},
        {"kind": "matrix", "scale": "agree", "rows": [{"id": "q1", "text": "I slept well."},
                                                      {"id": "q2", "text": "I ate well."}],
         "multiple": False, "numbered": False},
        {"kind": "matrix", "options": [{"value": "y", "label": "Yes"}], "rows": [{"id": "q4", "text": "Ok?"}]},
        {"kind": "choice", "id": "q3", "text": "Pick any", "options": [{"value": "a", "label": "A"}, {"value": "b"}],
         "multiple": True},
        {"kind": "choice", "id": "g1", "scale": "agree"},
        {"kind": "digits", "id": "client_code", "text": "Client code", "count": 6, "min": 1, "max": 999999},
        {"kind": "digits", "id": "w1", "count": 1},
        {"kind": "date", "id": "visit_date", "text": "Today's date", "when": "past"},
        {"kind": "text", "id": "notes", "text": "Anything else?", "lines": 3},
        {"kind": "page_break"},
        {"kind": "line", "id": "mood", "text": "Mood", "left": "Low", "right": "High", "length_mm": 100.5,
         "min": 0, "max": 10},
    ],
    "scoring": {"person": "client_code", "occasion_date": "visit_date", "scores": [
        {"id": "both", "label": "Both", "method": "sum", "items": "q1..q2", "reverse": ["q2"],
         "prorate_max_missing": 1, "round": 1, "rescale": {"from": [2, 4], "to": [0, 100]},
         "bands": {"default": "two", "sets": {"two": [[0, 50, "low"], [50.5, 100, "high"]]}}, "change": True,
         "reliable_change": 5},
        {"id": "gas_t", "method": "gas", "goals": [{"score": "g1", "weight": "w1"}], "rho": 0.3},
    ]},
}


def _paths(node: object, path: tuple = ()):
    """Every place in a parsed template: (path of keys and indexes)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _replaced(data: object, path: tuple, value: object) -> object:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)  # type: ignore[call-overload]
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


def test_the_every_key_template_uses_every_key_and_loads(write_template):
    from formkit.template.schema import ITEM_KINDS, SCORE, SCORING, TEMPLATE

    assert set(EVERY_KEY) == set(TEMPLATE.keys) and set(EVERY_KEY["scoring"]) == set(SCORING.keys)
    for kind, record in ITEM_KINDS.items():
        used = set().union(*(set(i) for i in EVERY_KEY["items"] if i["kind"] == kind))
        assert used == set(record.keys) | {"kind"}, kind
    assert set().union(*(set(s) for s in EVERY_KEY["scoring"]["scores"])) == set(SCORE.keys)
    template = load_template(write_template(yaml.safe_dump(EVERY_KEY)))
    assert template.landscape and template.items[2].options[0].label == "No" and template.notice == "[notice]"


BAD_VALUES = [[1, 2], {"a": [1]}, None, True, -7, "Z" * 5000]


def test_any_value_anywhere_gives_a_template_error_or_loads(write_template):
    """Every place of a template that uses every key, replaced by each of several wrong values: the loader
    either accepts it or raises TemplateError with a short message, never anything else."""
    checked = 0
    for path in _paths(EVERY_KEY):
        for bad in BAD_VALUES:
            file = write_template(json.dumps(_replaced(EVERY_KEY, path, bad)), "f.yaml")  # JSON is YAML
            try:
                load_template(file)
            except TemplateError as error:
                assert len(str(error).replace(str(file), "")) < 300, (path, bad, str(error))
            checked += 1
    assert checked > 600


def test_a_mistake_in_the_users_own_template_or_text_pack_stops_scan_and_export_naming_it(tmp_path):
    """Passed over, a broken template or pack left its pages "not an installed template" and the reason
    unsaid; the command now stops before reading or writing anything (exit 3), naming the file and line."""
    k10 = (shipped_templates()["k10"]).read_text(encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my-k10.yaml").write_text(k10.replace("form: k10", "form: my-k10").replace("title: ", "title: [", 1),
                                        encoding="utf-8")
    pack = tmp_path / "pack.yaml"
    pack.write_text("form: wai-sr\nwording: {}\n", encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = tmp_path / "s.sqlite"
    for args, named in ((["scan", str(inbox), "--templates", str(folder)], "my-k10.yaml:5"),
                        (["scan", str(inbox), "--text-pack", str(pack)], "pack.yaml:")):
        result = CliRunner().invoke(main, [*args, "--db", str(db)])
        assert result.exit_code == 3 and named in result.output, (args, result.output)
        assert not db.exists()
    Store(db).close()
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(tmp_path / "out"), "--templates",
                                       str(folder)])
    assert result.exit_code == 3 and "my-k10.yaml:5" in result.output and not (tmp_path / "out").exists()


def test_two_of_the_users_templates_for_one_form_and_version_stop_the_command_naming_both(tmp_path):
    """The last file read won without a word, and pages printed from the other were rejected as another
    layout. The user's template of a shipped form and version still takes its place (docs/templates.md)."""
    mood = (shipped_templates()["k10"]).read_text(encoding="utf-8").replace("form: k10", "form: mood")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"mood-{folder}.yaml").write_text(mood, encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "a"), "--db", str(tmp_path / "s.sqlite"),
                                       "--templates", str(tmp_path / "a"), "--templates", str(tmp_path / "b")])
    assert result.exit_code == 3, result.output
    assert "mood-b.yaml: defines mood version 1, as" in result.output and "mood-a.yaml does" in result.output
    assert not (tmp_path / "s.sqlite").exists()
    Catalogue([tmp_path / "a"]).templates()  # one of them: fine
    Catalogue([tmp_path / "a", tmp_path / "b" / ".." / "a"]).templates()  # one folder given twice: read once


@pytest.mark.parametrize(("wording", "refused"), [("你睡得好吗？", "你睡得好吗？"), ("هل نمت جيدا", "هلنمتجيدا"),
                                                ("Café, Ελλάδα, Привет", "")])
def test_wording_the_font_cannot_print_as_written_is_refused_naming_its_line(tmp_path, wording, refused):
    """Chinese printed as empty boxes and Arabic unjoined and back to front, with exit 0."""
    source = (shipped_templates()["k10"]).read_text(encoding="utf-8").replace("...nervous?", wording)
    path = tmp_path / "mine.yaml"
    path.write_text(source, encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", str(path), "--count", "1", "--out", str(tmp_path / "x.pdf")])
    if not refused:
        assert result.exit_code == 0, result.output
        return
    line = next(i for i, text in enumerate(source.splitlines(), start=1) if wording in text)
    assert result.exit_code == 4 and f"mine.yaml:{line}" in result.output and repr(refused) in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_template_that_is_neither_a_file_nor_a_shipped_form_is_a_missing_input(tmp_path):
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "nosuch.yaml"), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 5 and "no such template file" in result.output and not (tmp_path / "x.pdf").exists()
