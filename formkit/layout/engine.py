"""Flow a template onto pages: header (markers, QR, title), content blocks, footer.

Deterministic: the same template, text pack and variant always give the same geometry, which is how
the scanner reproduces the layout a page was printed from (the QR names the variant and carries a
fingerprint of the geometry).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import replace

from ..errors import LayoutError, TemplateError
from ..markers import CELLS, CORNER_IDS
from ..qrpayload import PagePayload
from ..serial import SERIAL_LENGTH
from ..template.schema import PAGE_SIZES_MM, ChoiceItem, MatrixItem, PageBreakItem, Template
from .blocks import HOW_TO_MARK, Block, Frame, item_blocks, paragraph_runs, text_block, too_much
from .model import Layout, Marker, Page, QrSpot, TextRun, geometry_fingerprint, shifted
from .style import Style, style_for
from .text import ascent_mm, line_height_mm, unprintable, width_mm

# Alphanumeric characters a level-M QR code of each version (1-40) holds (ISO/IEC 18004, table 7). A table,
# not reportlab's encoder: importing reportlab.graphics.barcode costs a scan 0.15-0.19 s of start-up
# (measured 2026-12), and the scanner lays out every installed template but draws no code.
QR_M_ALPHANUMERIC_CAPACITY = (
    20, 38, 61, 90, 122, 154, 178, 221, 262, 311, 366, 419, 483, 528, 600, 656, 734, 816, 909, 970,
    1035, 1134, 1248, 1326, 1451, 1542, 1637, 1732, 1839, 1994, 2113, 2238, 2369, 2506, 2632, 2780, 2894,
    3054, 3220, 3391)
QR_QUIET_MODULES = 4
# mm per pt as released layouts rounded it where the content starts; the exact 25.4 / 72 moves fields by
# 0.0001 mm, enough to change the fingerprints of pages already printed (tests/test_layout.py holds them)
RELEASED_MM_PER_PT = 0.3528
# How the flow breaks a run of blocks kept together (a heading, the how-to-mark note, the first item) that is
# taller than a page, newest first. "whole-run" kept the whole run together, so that each of its blocks
# started a page of its own (k10 in large print on A7: 10 pages, the heading alone on one); "what-fits" keeps
# as much of it together as a page holds. A run that fits a page is placed as before, so only such variants
# change. Pages printed with an earlier revision still read: the scanner lays a page out again with the
# revision whose fingerprint its QR carries (``Catalogue.printed_layout``).
FLOW_REVISIONS = ("what-fits", "whole-run")


def variant_token(large_print: bool = False, page_size: str | None = None) -> str:
    """The QR's name for how a template was laid out: ``N`` or ``L`` (large print), ``.SIZE`` when the
    page size was overridden."""
    token = "L" if large_print else "N"
    return f"{token}.{page_size.upper()}" if page_size else token


def parse_variant(token: str) -> tuple[bool, str | None]:
    large, _, size = token.partition(".")
    if large not in ("N", "L"):
        raise ValueError(f"unknown layout variant {token!r}")
    by_upper = {name.upper(): name for name in PAGE_SIZES_MM}
    if size and size not in by_upper:
        raise ValueError(f"unknown page size in layout variant {token!r}")
    return large == "L", by_upper.get(size) if size else None


def qr_modules(payload_length: int) -> int:
    """Modules per side of the smallest QR (level M, alphanumeric) holding ``payload_length`` characters."""
    version = bisect_left(QR_M_ALPHANUMERIC_CAPACITY, payload_length) + 1
    if version > len(QR_M_ALPHANUMERIC_CAPACITY):  # a valid template's payload is 26-59 characters
        raise ValueError(f"no QR code holds {payload_length} characters")
    return version * 4 + 17


def build_layout(template: Template, large_print: bool = False, page_size: str | None = None,
                 flow: str = FLOW_REVISIONS[0]) -> Layout:
    """Lay out ``template``; ``page_size`` overrides the template's size (e.g. a goal card on CR80); ``flow``
    names the revision of the page flow (``FLOW_REVISIONS``): an earlier one gives pages printed before."""
    if flow not in FLOW_REVISIONS:
        raise ValueError(f"unknown flow revision {flow!r}")
    size = page_size or template.page_size
    if size not in PAGE_SIZES_MM:
        raise TemplateError(template.source, f"page size {size!r} does not exist; use one of "
                                             f"{', '.join(PAGE_SIZES_MM)}")
    w, h = PAGE_SIZES_MM[size]
    if template.landscape:
        w, h = h, w
    variant = variant_token(large_print, page_size)
    style = style_for(w, h, large_print)
    header = _header(template, variant, w, style)
    frame = Frame(style.margin_mm, w - 2 * style.margin_mm, style, template.source)
    top, bottom = header.content_top_mm, h - style.inset_mm - style.marker_mm - style.marker_mm / CELLS
    pages = _flow(_blocks(template, frame), top, bottom, style, template.source,
                  lambda: _header(replace(template, title="T"), variant, w, style).content_top_mm, flow)
    if not large_print and template.max_pages and len(pages) > template.max_pages:
        raise LayoutError(template.source, f"the content needs {len(pages)} pages of {size} but the form allows "
                                           f"{template.max_pages}; shorten the text or remove items")
    built = []
    for number, placed in enumerate(pages, start=1):
        room_mm = w - 2 * (style.inset_mm + style.marker_mm + style.marker_mm / CELLS)
        footer = TextRun(w / 2, h - style.inset_mm - 0.8,
                         _footer_text(template.title, template.version, number, len(pages), style.small_pt * 0.9,
                                      room_mm), style.small_pt * 0.9, align="center", grey=True)
        page = Page(
            number=number, width_mm=w, height_mm=h, markers=_markers(w, h, style), qr=header.qr,
            serial_text=header.serial_text, code_text=header.code_text,
            fields=tuple(f for b in placed for f in b.fields),
            texts=tuple(header.title) + tuple(t for b in placed for t in b.texts) + (footer,),
            strokes=tuple(s for b in placed for s in b.strokes),
        )
        built.append(replace(page, fingerprint=geometry_fingerprint(page)))
    return Layout(template.form, template.version, variant, template.title, tuple(built), flow)


def _footer_text(title: str, version: int, number: int, pages: int, size_pt: float, room_mm: float) -> str:
    """The footer's "title · v1 · page 2 of 6", its title cut (…) or left out so that it stays between the
    bottom markers (``room_mm`` wide): at full length it ran over them on small pages (a GAS follow-up on A7)."""
    tail = f"v{version} \u00b7 page {number} of {pages}"
    title = title[:40]
    while title:
        text = f"{title} \u00b7 {tail}"
        if width_mm(text, size_pt) <= room_mm:
            return text
        title = title[:-2].rstrip() + "\u2026" if len(title) > 2 else ""
    return tail


def layout_for_variant(template: Template, variant: str, flow: str = FLOW_REVISIONS[0]) -> Layout:
    large, size = parse_variant(variant)
    return build_layout(template, large, size, flow)


def _markers(w: float, h: float, style: Style) -> tuple[Marker, ...]:
    m, inset = style.marker_mm, style.inset_mm
    corners = {"top-left": (inset, inset), "top-right": (w - inset - m, inset),
               "bottom-right": (w - inset - m, h - inset - m), "bottom-left": (inset, h - inset - m)}
    return tuple(Marker(CORNER_IDS[c], x, y, m) for c, (x, y) in corners.items())


class _Header:
    def __init__(self, qr: QrSpot, serial_text: TextRun, code_text: TextRun, title: list[TextRun],
                 content_top_mm: float) -> None:
        self.qr, self.serial_text, self.code_text = qr, serial_text, code_text
        self.title, self.content_top_mm = title, content_top_mm


def _header(template: Template, variant: str, w: float, style: Style) -> _Header:
    """Title at the top left between the markers, QR at the top right with the serial under it."""
    sample = PagePayload(template.form, template.version, 99, variant, "X" * SERIAL_LENGTH, "0000").encode()
    modules = qr_modules(len(sample))
    module = style.qr_module_mm
    quiet = QR_QUIET_MODULES * module
    size = modules * module
    cell = style.marker_mm / CELLS
    # Extra room beside the top-right marker: OpenCV's QR detector can take a marker for a finder pattern.
    qr = QrSpot(w - style.inset_mm - 1.5 * style.marker_mm - quiet - size, style.inset_mm, size, modules, quiet)

    def baseline_mm(size_pt: float) -> float:  # of a line of text just under the QR
        return qr.y_mm + size + 0.8 + ascent_mm(size_pt)

    # Earlier releases printed the serial at the small size + 1 pt. It is never printed smaller than that,
    # and the content starts below it as printed at that size (a larger serial reaches into the gap
    # below): markers, QR and fields stay where they were, so pages printed before keep their layout
    # fingerprint and still read.
    room_pt = style.small_pt + 1
    serial_pt = max(style.serial_pt, room_pt)
    serial_text = TextRun(qr.x_mm + size / 2, baseline_mm(serial_pt), "", serial_pt, bold=True, align="center")
    title_x = style.inset_mm + style.marker_mm + 2 * cell
    title_w = qr.x_mm - quiet - title_x
    if title_w < 20:
        raise LayoutError(template.source, f"the page is too narrow for a title beside the QR code ({title_w:.0f} mm "
                                           "of the 20 it needs): print it on a wider page (A7 or larger)")
    title, title_h = paragraph_runs(template.title, title_x, title_w, style.title_pt, bold=True,
                                    y_mm=style.inset_mm)
    code_text = TextRun(title_x, style.inset_mm + title_h + 0.6 + ascent_mm(style.small_pt), "", style.small_pt)
    bottom = max(style.inset_mm + title_h + 0.6 + line_height_mm(style.small_pt),
                 baseline_mm(room_pt) + 0.3 * room_pt * RELEASED_MM_PER_PT,
                 style.inset_mm + style.marker_mm + cell)
    return _Header(qr, serial_text, code_text, title, bottom + style.gap_mm)


def _blocks(template: Template, frame: Frame) -> list[Block]:
    blocks: list[Block] = []
    break_next = False
    told_how_to_mark = False
    if template.notice:
        blocks.append(text_block(frame, template.notice, frame.style.small_pt, False, False, "notice", 0))
    for item in template.items:
        if isinstance(item, PageBreakItem):
            break_next = True
            continue
        new = []
        if isinstance(item, ChoiceItem | MatrixItem) and not told_how_to_mark:
            new.append(text_block(frame, HOW_TO_MARK, frame.style.base_pt, False, True, "how-to-mark", item.line))
            told_how_to_mark = True
        new += item_blocks(frame, item)
        new[0].page_break_before = break_next
        break_next = False
        blocks += new
    return blocks


def check_printable(template: Template) -> None:
    """Refuse wording the form's font cannot print as written (``text.unprintable``), naming its line:
    printed, it came out as empty boxes, or unjoined and back to front, without a word. For printing only:
    forms already printed so are still read."""
    for text, line in [(template.title, None), (template.notice, None), *_wording(template.items, None)]:
        if text and (bad := unprintable(text)):
            raise LayoutError(template.source, f"the form's font (DejaVu Sans) cannot print {bad!r} as written: "
                              "Latin, Greek and Cyrillic scripts only", line)


PRINTED = ("text", "label", "left", "right")  # the attributes of an item, option or row that are printed


def _wording(node: object, line: int | None) -> list[tuple[str, int | None]]:
    """Every printed string of template items (``PRINTED``), their options' and rows' included, each with
    the template line it is on as far as the item tells (a matrix row's own line)."""
    if isinstance(node, list | tuple):
        return [found for part in node for found in _wording(part, line)]
    if not hasattr(node, "__dataclass_fields__"):
        return []
    line = getattr(node, "line", None) or line
    found = [(value, line) for name in PRINTED if isinstance(value := getattr(node, name, None), str)]
    return found + [text for name in node.__dataclass_fields__ if name not in PRINTED
                    for text in _wording(getattr(node, name), line)]


def _flow(blocks: list[Block], top: float, bottom: float, style: Style, source: str,
          top_with_short_title: Callable[[], float] | None = None,
          flow: str = FLOW_REVISIONS[0]) -> list[list[Block]]:
    """Place blocks down the pages; returns each page's placed blocks (already shifted to their y).
    ``top_with_short_title`` says where the content would start under a one-line title: a block that would fit
    there is refused for the title's length, not its own. ``flow``: see ``FLOW_REVISIONS``."""
    pages: list[list[Block]] = [[]]
    y = top
    kept_to = -1  # the last block of a run cut to what fits a page: those after its first follow without a break
    for i, block in enumerate(blocks):
        if i > kept_to:
            last = _kept_with(blocks, i, style, bottom - top, flow)
            need = _run_height(blocks, i, last, style)
            if last < _run_end(blocks, i):
                kept_to = last
            if pages[-1] and (block.page_break_before or y + need > bottom):
                pages.append([])
                y = top
                if block.header is not None:
                    pages[-1].append(_placed(block.header, y))
                    y += block.header.height_mm
        if y + block.height_mm > bottom:
            if top_with_short_title is not None and top_with_short_title() + block.height_mm <= bottom:
                where = f" (line {block.line})" if block.line else ""
                raise LayoutError(source, f"the title takes so much of the page that '{block.what}'{where} does not "
                                          f"fit: it needs {too_much(block.height_mm, bottom - top)} left for content; "
                                          "shorten the title", None, "title")
            raise LayoutError(source, f"this item needs {too_much(block.height_mm, bottom - top)} for content; "
                                      "shorten it or use a larger page", block.line or None, block.what)
        pages[-1].append(_placed(block, y))
        y += block.height_mm + _gap_after(blocks, i, style)
    return pages


def _gap_after(blocks: list[Block], i: int, style: Style) -> float:
    nxt = blocks[i + 1] if i + 1 < len(blocks) else None
    # Matrix rows sit flush under their header and each other.
    return 0.0 if nxt is not None and nxt.header is not None else style.gap_mm


def _run_end(blocks: list[Block], i: int) -> int:
    """The last block of the run kept together from block ``i`` (each ``keep_with_next`` with the one after)."""
    while blocks[i].keep_with_next and i + 1 < len(blocks):
        i += 1
    return i


def _run_height(blocks: list[Block], first: int, last: int, style: Style) -> float:
    """The height of blocks ``first`` to ``last`` placed one under the other, the gaps between them included.
    Added up in the order earlier releases did: a sum a rounding apart could break a page elsewhere."""
    height = blocks[first].height_mm
    for k in range(first, last):
        height += _gap_after(blocks, k, style) + blocks[k + 1].height_mm
    return height


def _kept_with(blocks: list[Block], i: int, style: Style, page_mm: float, flow: str) -> int:
    """The last block kept on one page with block ``i``: the end of its run, or, when the run is taller than
    a fresh page (``page_mm`` of content, less a matrix header printed again above block ``i``), the last of as
    many as that page holds, at least block ``i``. Such a cut run does not end on a matrix header: the rows
    after it print their header again, so it would stand alone at the foot of the page."""
    end = _run_end(blocks, i)
    room = page_mm - (blocks[i].header.height_mm if blocks[i].header is not None else 0.0)
    if flow == "whole-run" or _run_height(blocks, i, end, style) <= room:
        return end
    last = i
    # an explicit page break inside the run is kept: the run is cut before it
    while (last + 1 <= end and not blocks[last + 1].page_break_before
           and _run_height(blocks, i, last + 1, style) <= room):
        last += 1
    while last > i and blocks[last + 1].header is blocks[last]:
        last -= 1
    return last


def _placed(block: Block, y: float) -> Block:
    return Block(block.height_mm, [shifted(t, y) for t in block.texts], [shifted(s, y) for s in block.strokes],
                 [shifted(f, y) for f in block.fields], what=block.what, line=block.line)
