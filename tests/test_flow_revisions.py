"""The page flow's revisions: a run of blocks kept together (a heading, the how-to-mark note, the first question)
that is taller than a page is cut after as much of it as a page holds, where it used to start each of its blocks
on a page of its own; pages printed with the earlier flow still read (``Catalogue.printed_layout``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from formkit.catalogue import Catalogue
from formkit.generate import generate, make_copies
from formkit.layout import build_layout, layout_for_variant
from formkit.layout.blocks import Block
from formkit.layout.engine import FLOW_REVISIONS, _flow
from formkit.layout.style import style_for
from formkit.qrpayload import PagePayload
from formkit.records import PageResult, PageState
from formkit.template import resolve_template
from scanner.pipeline import read_page
from tests.synthetic import degrade_scan, draw_mark, render_pdf

DPI = 200
STYLE = style_for(74, 105, True)
GAP = STYLE.gap_mm

# Fingerprints of pages printed with the earlier flow ("whole-run"), as released: the scanner reads such a page
# by laying its variant out again with that flow, which must give exactly these.
EARLIER_FLOW_FINGERPRINTS = {("k10", "L.A7"): "596D523E43CFE735EEEF910E592895EC47122830"}


def _pages(blocks: list[Block], room: float, flow: str = FLOW_REVISIONS[0]) -> list[list[str]]:
    return [[b.what for b in page] for page in _flow(blocks, 0.0, room, STYLE, "test", None, flow)]


def test_a_run_taller_than_a_page_is_cut_after_as_much_as_a_page_holds():
    def blocks() -> list[Block]:
        return [Block(30, what="intro"), Block(20, keep_with_next=True, what="heading"),
                Block(20, keep_with_next=True, what="note"), Block(30, what="q1"), Block(20, what="q2")]

    room = 70 + GAP  # heading, note and q1 need 70 mm and two gaps
    assert _pages(blocks(), room, "whole-run") == [["intro"], ["heading"], ["note", "q1"], ["q2"]]
    assert _pages(blocks(), room) == [["intro"], ["heading", "note"], ["q1", "q2"]]
    # a run that fits a page is kept whole, as before
    assert _pages(blocks(), 70 + 2 * GAP) == _pages(blocks(), 70 + 2 * GAP, "whole-run") == [
        ["intro"], ["heading", "note", "q1"], ["q2"]]


def test_a_cut_run_does_not_end_on_a_matrix_header_its_rows_print_again():
    header = Block(5, keep_with_next=True, what="columns")
    blocks = [Block(15, keep_with_next=True, what="heading"), header, Block(45, header=header, what="row1")]
    assert _pages(blocks, 60) == [["heading"], ["columns", "row1"]]


def test_a_page_break_inside_a_run_is_kept():
    blocks = [Block(20, keep_with_next=True, what="heading"), Block(20, keep_with_next=True, what="note"),
              Block(30, page_break_before=True, what="q1")]
    assert _pages(blocks, 60) == [["heading", "note"], ["q1"]]


def test_k10_in_large_print_on_a7_keeps_its_heading_with_the_how_to_mark_note():
    """The heading, the how-to-mark note and the first question (69 mm) do not fit the 63 mm an A7 page in
    large print has: the heading stood alone on page 3 of 10. The notice (34 mm) and the opening paragraph
    (32 mm) are each a page's worth with the gaps, and the paragraph keeps off the heading, which would stand
    alone at the foot of its page: 9 pages. On A6 the run fits a page and nothing moves."""
    k10 = resolve_template("k10")
    before, after = build_layout(k10, True, "A7", "whole-run"), build_layout(k10, True, "A7")
    assert (len(before.pages), len(after.pages)) == (10, 9)
    words = [" ".join(t.text for t in page.texts) for page in after.pages]
    heading = next(n for n, text in enumerate(words) if "about how often did you feel" in text)
    assert "Tick" in words[heading] and not after.pages[heading].fields
    assert [len(build_layout(k10, True, "A6", flow).pages) for flow in FLOW_REVISIONS] == [5, 5]
    assert {f.id for p in after.pages for f in p.fields} == set(k10.field_ids())


@pytest.mark.parametrize(("form", "variant"), sorted(EARLIER_FLOW_FINGERPRINTS))
def test_the_earlier_flow_still_gives_the_pages_it_printed(form, variant):
    layout = layout_for_variant(resolve_template(form), variant, "whole-run")
    assert "".join(p.fingerprint for p in layout.pages) == EARLIER_FLOW_FINGERPRINTS[form, variant]
    assert layout_for_variant(resolve_template(form), variant).pages[0].fingerprint == layout.pages[0].fingerprint


def _payload(layout, number: int) -> PagePayload:
    return PagePayload(layout.form, layout.version, number, layout.variant, "K7M3QX9C", layout.page(number).fingerprint)


def test_the_catalogue_lays_the_earlier_flow_out_only_for_a_page_printed_with_it():
    catalogue = Catalogue()
    catalogue.candidate_layouts()
    newest = catalogue.find_layout("k10", 1, "L.A7")
    assert catalogue.printed_layout(_payload(newest, 4)) is newest
    assert all(flow == FLOW_REVISIONS[0] for *_, flow in catalogue._layouts)  # nothing more laid out
    earlier = layout_for_variant(resolve_template("k10"), "L.A7", "whole-run")
    found = catalogue.printed_layout(_payload(earlier, 10))  # a page the newest flow does not have
    assert found == earlier and found.flow == "whole-run"
    stranger = PagePayload("k10", 1, 4, "L.A7", "K7M3QX9C", "0000")  # another layout altogether: refused later
    assert catalogue.printed_layout(stranger) is newest
    assert catalogue.stored_layout({"form": "k10", "version": 1, "variant": "L.A7",
                                    "quality": '{"flow": "whole-run"}'}) == earlier
    assert catalogue.stored_layout({"form": "k10", "version": 1, "variant": "L.A7", "quality": None}) is newest


def test_a_page_printed_with_the_earlier_flow_is_read_with_its_values(tmp_path: Path):
    earlier = build_layout(resolve_template("k10"), True, "A7", "whole-run")
    pdf = tmp_path / "k10-earlier.pdf"
    generate(earlier, make_copies(1, None, 3), pdf)
    images = render_pdf(pdf, DPI)
    rng = random.Random(5)
    marked = {4: ("k10_01", 3), 8: ("k10_08", 5)}  # pages whose fingerprint the newest flow does not give
    for number, (field_id, value) in marked.items():
        page = earlier.page(number)
        assert page.fingerprint not in {p.fingerprint for p in build_layout(resolve_template("k10"), True, "A7").pages}
        field = next(f for f in page.fields if f.id == field_id)
        draw_mark(images[number - 1], DPI, next(o.box for o in field.options if o.value == value), "tick", rng)
        scan = degrade_scan(images[number - 1], DPI, rng, out_dpi=DPI).min(axis=2)
        result = read_page(scan, PageResult("old.png", number, f"sha{number}", PageState.REJECTED), Catalogue())
        assert result.status == PageState.READ, result.reason
        assert (result.variant, result.form_page, result.quality.get("flow")) == ("L.A7", number, "whole-run")
        assert {v.field: v.value for v in result.values}[field_id] == str(value)


def test_a_page_printed_with_the_earlier_flow_reads_the_same_again(tmp_path: Path):
    """``formkit scan --reread`` reads a stored page again as the layout it was read with, which the page's
    quality names (``flow``): the QR is not read again, and the newest flow puts its questions elsewhere."""
    import cv2

    from formkit.review.app import _layout_field
    from formkit.store import Store
    from scanner.batch import scan
    from scanner.reread import reread

    earlier = build_layout(resolve_template("k10"), True, "A7", "whole-run")
    pdf = tmp_path / "k10-earlier.pdf"
    generate(earlier, make_copies(1, None, 4), pdf)
    image = render_pdf(pdf, DPI)[7]  # page 8: k10_08 alone, where the newest flow prints k10_09 and k10_10
    field = next(f for f in earlier.page(8).fields if f.id == "k10_08")
    rng = random.Random(6)
    draw_mark(image, DPI, next(o.box for o in field.options if o.value == 4), "cross", rng)
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "old.png"), cv2.cvtColor(degrade_scan(image, DPI, rng, out_dpi=DPI),
                                                               cv2.COLOR_RGB2BGR))
    store = Store(tmp_path / "forms.db")
    try:
        scan([tmp_path / "in"], store, jobs=1, catalogue=Catalogue())
        summary = reread(store, Catalogue(), jobs=1)
        assert (summary.pages, dict(summary.failed)) == (1, {})
        assert [(r["field"], r["value"]) for r in store.values()] == [("k10_08", "4")]
        page_row = store.page(store.pages()[0]["id"])
        assert '"flow": "whole-run"' in page_row["quality"]
        # the review page finds the value's box where this page printed it
        assert _layout_field(Catalogue(), page_row, "k10_08") == (field, earlier.page(8))
    finally:
        store.close()
