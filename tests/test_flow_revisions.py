"""The page flow's revisions: a run of blocks kept together (a heading, the how-to-mark note, the first question)
that is taller than a page is cut after as much of it as a page holds, where it used to start each of its blocks
on a page of its own."""

from __future__ import annotations

import pytest

from formkit.layout import build_layout, layout_for_variant
from formkit.layout.blocks import Block
from formkit.layout.engine import FLOW_REVISIONS, _flow
from formkit.layout.style import style_for
from formkit.template import resolve_template

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
