from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.cli import main
from formkit.errors import LayoutError, TemplateError
from formkit.layout import build_layout
from formkit.template import load_template, resolve_template, shipped_templates
from formkit.template.schema import MatrixItem

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
     "at least one option", 7),
    (("      - {value: 2, label: Good}", "      - {value: 1, label: Good}"), "appear more than once", 7),
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
