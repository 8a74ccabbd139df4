import json
from itertools import combinations

import pytest
from click.testing import CliRunner

from formkit.layout import build_layout, layout_for_variant
from formkit.layout.engine import qr_modules
from formkit.layout.model import BoxesField, ChoiceField, LineField, TextField
from formkit.template import resolve_template, shipped_templates
from formkit_cli import main


def field_boxes(page):
    """(id, x1, y1, x2, y2) of every box the scanner reads on ``page``."""
    for f in page.fields:
        if isinstance(f, ChoiceField):
            for o in f.options:
                yield f.id, o.box.x_mm, o.box.y_mm, o.box.x_mm + o.box.w_mm, o.box.y_mm + o.box.h_mm
        elif isinstance(f, BoxesField):
            for b in f.boxes:
                yield f.id, b.x_mm, b.y_mm, b.x_mm + b.w_mm, b.y_mm + b.h_mm
        elif isinstance(f, TextField):
            yield f.id, f.box.x_mm, f.box.y_mm, f.box.x_mm + f.box.w_mm, f.box.y_mm + f.box.h_mm
        elif isinstance(f, LineField):
            yield f.id, f.x1_mm, f.y1_mm - 1, f.x2_mm, f.y2_mm + 1


def overlaps(a, b) -> bool:
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


@pytest.mark.parametrize("name", sorted(shipped_templates()))
@pytest.mark.parametrize("large_print", [False, True])
def test_fields_stay_clear_of_each_other_the_markers_and_the_qr(name, large_print):
    layout = build_layout(resolve_template(name), large_print)
    for page in layout.pages:
        boxes = list(field_boxes(page))
        assert boxes, f"{name} page {page.number} has no fields"
        for f in boxes:
            assert 0 < f[1] < f[3] < page.width_mm and 0 < f[2] < f[4] < page.height_mm
        for a, b in combinations(boxes, 2):
            assert not overlaps(a, b), (a, b)
        qr = page.qr
        keep_out = [("qr", qr.x_mm - qr.quiet_mm, qr.y_mm - qr.quiet_mm, qr.x_mm + qr.size_mm + qr.quiet_mm,
                     qr.y_mm + qr.size_mm + qr.quiet_mm)]
        keep_out += [("marker", m.x_mm, m.y_mm, m.x_mm + m.size_mm, m.y_mm + m.size_mm) for m in page.markers]
        for f in boxes:
            for k in keep_out:
                assert not overlaps(f, k), (f, k)


def test_layout_is_deterministic_and_variants_reproduce_it():
    template = resolve_template("goal-card")
    first, second = build_layout(template), build_layout(template)
    assert first == second
    large = build_layout(template, large_print=True)
    assert large.variant == "L" and layout_for_variant(template, "L") == large
    assert [p.fingerprint for p in large.pages] != [p.fingerprint for p in first.pages][: len(large.pages)]


def test_large_print_reflows_onto_more_pages_with_larger_text():
    template = resolve_template("k10")
    normal, large = build_layout(template), build_layout(template, large_print=True)
    assert len(large.pages) > len(normal.pages)
    assert max(t.size_pt for t in large.pages[0].texts) > max(t.size_pt for t in normal.pages[0].texts)
    assert set(template.field_ids()) == {f.id for p in large.pages for f in p.fields}


def test_visual_analogue_lines_are_exactly_100_mm():
    layout = build_layout(resolve_template("vas-4line"))
    lines = [f for f in layout.pages[0].fields if isinstance(f, LineField)]
    assert len(lines) == 4
    assert all(abs(f.x2_mm - f.x1_mm - 100.0) < 1e-9 and f.y1_mm == f.y2_mm for f in lines)


def test_markers_sit_in_the_four_corners_with_corner_specific_ids():
    page = build_layout(resolve_template("k10")).pages[0]
    by_id = {m.id: m for m in page.markers}
    assert by_id[0].x_mm < page.width_mm / 2 and by_id[0].y_mm < page.height_mm / 2
    assert by_id[1].x_mm > page.width_mm / 2 and by_id[1].y_mm < page.height_mm / 2
    assert by_id[2].x_mm > page.width_mm / 2 and by_id[2].y_mm > page.height_mm / 2
    assert by_id[3].x_mm < page.width_mm / 2 and by_id[3].y_mm > page.height_mm / 2


def test_goal_card_is_two_sided_on_a7_and_cr80_is_available():
    template = resolve_template("goal-card")
    layout = build_layout(template)
    assert len(layout.pages) == 2
    assert (layout.pages[0].width_mm, layout.pages[0].height_mm) == (74.0, 105.0)
    progress = [f for f in layout.pages[1].fields if f.id.startswith("progress_")]
    assert len(progress) == 4 and all(len(f.options) == 11 for f in progress)


def test_layout_json_follows_the_cli_contract():
    result = CliRunner().invoke(main, ["layout", "gas-followup", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["form"] == "gas-followup" and data["version"] == 1
    page = data["pages"][0]
    assert {"page", "width_mm", "height_mm", "markers", "qr", "fields"} <= set(page)
    assert {"id", "x_mm", "y_mm", "size_mm"} <= set(page["markers"][0])
    assert {"x_mm", "y_mm", "size_mm"} <= set(page["qr"])
    kinds = {f["kind"]: f for p in data["pages"] for f in p["fields"]}
    assert set(kinds) == {"choice", "digits", "date", "text"}
    assert {"value", "label", "x_mm", "y_mm", "w_mm", "h_mm"} <= set(kinds["choice"]["options"][0])
    assert kinds["choice"]["multiple"] is False
    assert [o["value"] for o in kinds["choice"]["options"]] == [-2, -1, 0, 1, 2]
    assert len(kinds["date"]["boxes"]) == 8
    assert {"x_mm", "y_mm", "w_mm", "h_mm"} <= set(kinds["text"])
    lines = json.loads(CliRunner().invoke(main, ["layout", "vas-4line", "--json"]).output)
    line = lines["pages"][0]["fields"][0]
    assert {"x1_mm", "y1_mm", "x2_mm", "y2_mm", "min", "max"} <= set(line) and line["kind"] == "line"


# Each shipped template's page fingerprints (normal and large print) as released: pages people have
# printed carry these in their QR, and the scanner refuses a page whose fingerprint its layout does not
# give. A change here strands every form already printed: give the template a new version instead.
RELEASED_FINGERPRINTS = {
    "alliance-check:N": "BBA2",
    "alliance-check:L": "D86D7C1B",
    "alliance-check-worker:N": "3EF7",
    "alliance-check-worker:L": "CE3042F6",
    "gas-followup:N": "7FF509EE",
    "gas-followup:L": "9DFCD3B12387",
    "goal-card:N": "F7D7E900",
    "goal-card:L": "306E04E64D3C43DC9CE70B06",
    "goal-review-worker:N": "2922",
    "goal-review-worker:L": "22B06432",
    "k10:N": "C3A4",
    "k10:L": "93F1424D",
    "vas-4line:N": "CD92",
    "vas-4line:L": "9DAE6AEC",
    "wai-sr:N": "88D9",
    "wai-sr:L": "FFA3E729",
}


@pytest.mark.parametrize("key", sorted(RELEASED_FINGERPRINTS))
def test_pages_printed_by_earlier_releases_keep_their_layout(key):
    name, variant = key.split(":")
    layout = layout_for_variant(resolve_template(name), variant)
    assert "".join(p.fingerprint for p in layout.pages) == RELEASED_FINGERPRINTS[key]


def test_the_serial_under_the_qr_prints_large_enough_for_a_phone_photo_of_a_whole_page():
    a4 = build_layout(resolve_template("k10")).pages[0]
    card = build_layout(resolve_template("goal-card")).pages[0]
    assert a4.serial_text.size_pt >= 14 and card.serial_text.size_pt >= 7.5
    # under the QR, and its tails clear of the first box to mark
    assert a4.serial_text.y_mm > a4.qr.y_mm + a4.qr.size_mm
    assert a4.serial_text.y_mm + 0.3 * a4.serial_text.size_pt * 0.3528 < min(b[2] for b in field_boxes(a4))


def test_the_qr_size_table_agrees_with_the_encoder_that_draws_the_code():
    from reportlab.graphics.barcode import qrencoder

    from formkit.render.qr import QR_LEVEL

    def drawn(length: int) -> int:
        code = qrencoder.QRCode(None, QR_LEVEL)
        code.addData(qrencoder.QRAlphaNum("0" * length))
        return code.calculate_version() * 4 + 17

    # every length up to version 38's capacity (reportlab's encoder stops short of versions 39 and 40); a
    # valid template's payload is 26-59 characters
    assert [qr_modules(n) for n in range(1, 3055)] == [drawn(n) for n in range(1, 3055)]
    with pytest.raises(ValueError):
        qr_modules(3392)


@pytest.mark.parametrize(("form", "large_print", "size"), [("gas-followup", False, "A7"),
                                                           ("alliance-check", True, "A6"), ("k10", False, None)])
def test_the_footer_stays_between_the_bottom_markers(form, large_print, size):
    """On a GAS follow-up printed on A7 (and an alliance check in large print on A6) the grey footer ran over both
    bottom markers; its title is now cut short where the line would."""
    from formkit.layout.text import width_mm

    layout = build_layout(resolve_template(form), large_print, size)
    for page in layout.pages:
        footer = page.texts[-1]
        assert footer.text.endswith(f"page {page.number} of {len(layout.pages)}")
        half = width_mm(footer.text, footer.size_pt) / 2
        bottom = sorted((m for m in page.markers if m.y_mm > page.height_mm / 2), key=lambda m: m.x_mm)
        assert bottom[0].x_mm + bottom[0].size_mm < footer.x_mm - half
        assert footer.x_mm + half < bottom[1].x_mm
