"""Turn template items into blocks: shapes laid out at y = 0 across the content width, to be placed
on a page by the flow engine. x coordinates are final; y is shifted when a block is placed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import LayoutError
from ..template.schema import (
    ChoiceItem,
    DateItem,
    DigitsItem,
    HeadingItem,
    Item,
    LineItem,
    MatrixItem,
    Option,
    ParagraphItem,
    TextItem,
)
from .model import Box, BoxesField, ChoiceBox, ChoiceField, Field, LineField, Stroke, TextField, TextRun
from .style import Style
from .text import ascent_mm, line_height_mm, width_mm, wrap

HOW_TO_MARK = ("Tick \u2713 or cross \u2717 a box. To change an answer, "
               "fill that box in \u25a0 and mark the one you want.")
BOX_LINE_MM = 0.3
GREY_LINE_MM = 0.2


@dataclass
class Block:
    height_mm: float
    texts: list[TextRun] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    keep_with_next: bool = False
    header: Block | None = None  # printed again above this block when it starts a new page
    page_break_before: bool = False
    what: str = ""  # names the item in messages
    line: int = 0


@dataclass(frozen=True)
class Frame:
    """The content area's horizontal extent and the page's style."""

    x_mm: float
    width_mm: float
    style: Style
    source: str


def paragraph_runs(text: str, x_mm: float, width: float, size_pt: float, bold: bool = False,
                   y_mm: float = 0.0, align: str = "left", grey: bool = False) -> tuple[list[TextRun], float]:
    """Wrapped lines of ``text`` starting at the top ``y_mm``; returns the runs and their height."""
    lines = wrap(text, width, size_pt, bold) if text else []
    step = line_height_mm(size_pt)
    anchor = {"left": x_mm, "center": x_mm + width / 2, "right": x_mm + width}[align]
    runs = [TextRun(anchor, y_mm + ascent_mm(size_pt) + i * step, line, size_pt, bold, align, grey)  # type: ignore[arg-type]
            for i, line in enumerate(lines)]
    return runs, step * len(lines)


def text_block(frame: Frame, text: str, size_pt: float, bold: bool, keep_with_next: bool, what: str,
               line: int) -> Block:
    runs, height = paragraph_runs(text, frame.x_mm, frame.width_mm, size_pt, bold)
    return Block(height, texts=runs, keep_with_next=keep_with_next, what=what, line=line)


def outline(box: Box, width_mm: float = BOX_LINE_MM, grey: bool = False) -> list[Stroke]:
    """The four sides of ``box`` as strokes centred on its edge."""
    x1, y1, x2, y2 = box.x_mm, box.y_mm, box.x_mm + box.w_mm, box.y_mm + box.h_mm
    return [Stroke(x1, y1, x2, y1, width_mm, grey), Stroke(x2, y1, x2, y2, width_mm, grey),
            Stroke(x2, y2, x1, y2, width_mm, grey), Stroke(x1, y2, x1, y1, width_mm, grey)]


def option_row(frame: Frame, field_id: str, options: tuple[Option, ...], multiple: bool, top_mm: float,
               what: str, line: int) -> tuple[ChoiceField, list[TextRun], float]:
    """Boxes for one choice across the width; labels under the boxes when short, beside them when long."""
    s = frame.style
    box = s.box_mm
    cell = max(box + 1.0, *(width_mm(o.label, s.small_pt) + 1.0 for o in options))
    if cell * len(options) > frame.width_mm and (box + 1.0) * len(options) <= frame.width_mm:
        # Longer labels may wrap under their box, up to three lines each, in equal columns.
        even = min(frame.width_mm / len(options), 40.0)
        if all(len(wrap(o.label, even - 1.0, s.small_pt)) <= 3 for o in options):
            cell = even
    if cell * len(options) <= frame.width_mm:
        # Centre a compact row when the labels are short (a 0-10 scale), spread it when they are long.
        cell = max(cell, min(frame.width_mm / len(options), 2.6 * box))
        x0 = frame.x_mm + (frame.width_mm - cell * len(options)) / 2
        boxes, runs = [], []
        label_h = 0.0
        for i, option in enumerate(options):
            cx = x0 + (i + 0.5) * cell
            b = Box(cx - box / 2, top_mm, box, box)
            boxes.append(ChoiceBox(option.value, option.label, b))
            label_runs, h = paragraph_runs(option.label, cx - cell / 2 + 0.5, cell - 1.0, s.small_pt,
                                           y_mm=top_mm + box + 0.6, align="center")
            runs += label_runs
            label_h = max(label_h, h)
        return ChoiceField(field_id, multiple, tuple(boxes)), runs, box + 0.6 + label_h
    # Long labels, or too many options for one row: options flow in a grid, box then label.
    gap = 1.8
    label_cap = frame.width_mm - box - gap
    if label_cap < 10:
        raise LayoutError(frame.source, "the options do not fit the page width", line, what)
    label_w = min(label_cap, max(width_mm(o.label, s.base_pt) for o in options) + 0.5)
    cell = box + gap + label_w + 2.5
    per_row = max(1, int((frame.width_mm + 2.5) // cell))
    y = top_mm
    boxes, runs = [], []
    for start in range(0, len(options), per_row):
        row_h = box
        for k, option in enumerate(options[start:start + per_row]):
            x = frame.x_mm + k * cell
            label_runs, label_h = paragraph_runs(option.label, x + box + gap, label_w, s.base_pt,
                                                 y_mm=y + (box - line_height_mm(s.base_pt)) / 2)
            boxes.append(ChoiceBox(option.value, option.label, Box(x, y, box, box)))
            runs += label_runs
            row_h = max(row_h, label_h)
        y += row_h + gap
    return ChoiceField(field_id, multiple, tuple(boxes)), runs, y - gap - top_mm


def choice_block(frame: Frame, item: ChoiceItem) -> Block:
    s = frame.style
    label_w = width_mm(item.text, s.base_pt) + 2.0
    compact_w = len(item.options) * max(s.box_mm + 1.0, *(width_mm(o.label, s.small_pt) + 1.0
                                                         for o in item.options))
    if item.text and label_w + compact_w <= frame.width_mm and label_w < 0.4 * frame.width_mm:
        # A short question ("Review 1") sits on the same line as its boxes.
        row_frame = Frame(frame.x_mm + label_w, frame.width_mm - label_w, s, frame.source)
        choice, label_runs, row_h = option_row(row_frame, item.id, item.options, item.multiple, 0.0, item.id,
                                               item.line)
        runs, _ = paragraph_runs(item.text, frame.x_mm, label_w, s.base_pt,
                                 y_mm=(s.box_mm - line_height_mm(s.base_pt)) / 2)
        block = Block(row_h, texts=runs + label_runs, fields=[choice], what=item.id, line=item.line)
        block.strokes = [st for b in choice.options for st in outline(b.box)]
        return block
    runs, text_h = paragraph_runs(item.text, frame.x_mm, frame.width_mm, s.base_pt)
    top = text_h + (1.5 if text_h else 0)
    choice, label_runs, row_h = option_row(frame, item.id, item.options, item.multiple, top, item.id, item.line)
    block = Block(top + row_h, texts=runs + label_runs, fields=[choice], what=item.id, line=item.line)
    block.strokes = [s for b in choice.options for s in outline(b.box)]
    return block


def matrix_blocks(frame: Frame, item: MatrixItem) -> list[Block]:
    """A header of option labels over columns of boxes, then one block per question row."""
    s = frame.style
    n = len(item.options)
    max_col = min(24.0, frame.width_mm / (n + 2))
    # Wide enough for each label on two lines and for its longest word, within a fair share of the width.
    col = max(s.box_mm + 2.5, *(min(max_col, max(width_mm(o.label, s.small_pt, True) / 2 + 2.5,
                                                 *(width_mm(w, s.small_pt, True) + 1.5 for w in o.label.split())))
                               for o in item.options if o.label))
    text_w = frame.width_mm - n * col - 2.0
    if text_w < max(30.0, 0.35 * frame.width_mm):
        return [choice_block(frame, ChoiceItem(row.line, row.id, _numbered(item, i, row.text), item.options,
                                               item.multiple)) for i, row in enumerate(item.rows)]
    cols_x = frame.x_mm + frame.width_mm - n * col
    header = Block(0, keep_with_next=True, what=item.rows[0].id, line=item.line)
    for i, option in enumerate(item.options):
        runs, h = paragraph_runs(option.label, cols_x + i * col, col, s.small_pt, align="center", bold=True)
        header.texts += runs
        header.height_mm = max(header.height_mm, h)
    header.height_mm += 1.0
    blocks = [header]
    for i, row in enumerate(item.rows):
        runs, text_h = paragraph_runs(_numbered(item, i, row.text), frame.x_mm, text_w, s.base_pt, y_mm=1.2)
        row_h = max(text_h, s.box_mm) + 2.4
        box_y = (row_h - s.box_mm) / 2
        options = tuple(ChoiceBox(o.value, o.label, Box(cols_x + (j + 0.5) * col - s.box_mm / 2, box_y,
                                                        s.box_mm, s.box_mm))
                        for j, o in enumerate(item.options))
        block = Block(row_h, texts=runs, fields=[ChoiceField(row.id, item.multiple, options)], header=header,
                      what=row.id, line=row.line)
        block.strokes = [st for o in options for st in outline(o.box)]
        block.strokes.append(Stroke(frame.x_mm, row_h, frame.x_mm + frame.width_mm, row_h, GREY_LINE_MM, True))
        blocks.append(block)
    return blocks


def _numbered(item: MatrixItem, index: int, text: str) -> str:
    return f"{index + 1}. {text}" if item.numbered else text


def too_much(need_mm: float, room_mm: float) -> str:
    """'40 mm but the page has 39 mm': the need rounded up and the room down, so that two lengths a fraction of a
    millimetre apart never read as the same ('needs 39 mm but has only 39 mm' left nothing to do)."""
    return f"{math.ceil(need_mm)} mm but the page has {max(0, math.floor(room_mm))} mm"


def boxes_block(frame: Frame, item: DigitsItem | DateItem) -> Block:
    """Digit boxes (or DD MM YYYY date boxes) after their label, or under it when the line is full."""
    s = frame.style
    is_date = isinstance(item, DateItem)
    groups = (2, 2, 4) if is_date else (item.count,)
    group_gap = 3.0
    count = sum(groups)
    row_w = count * s.digit_w_mm + (count - len(groups)) * s.digit_gap_mm + (len(groups) - 1) * group_gap
    if row_w > frame.width_mm:
        raise LayoutError(frame.source, f"{count} boxes need {too_much(row_w, frame.width_mm)}", item.line, item.id)
    label_w = width_mm(item.text, s.base_pt) if item.text else 0.0
    inline = label_w + 3.0 + row_w <= frame.width_mm
    if inline:
        x = frame.x_mm + label_w + 3.0 if label_w else frame.x_mm
        top = 0.0
        runs, _ = paragraph_runs(item.text, frame.x_mm, label_w + 1, s.base_pt,
                                 y_mm=(s.digit_h_mm - line_height_mm(s.base_pt)) / 2)
    else:
        runs, text_h = paragraph_runs(item.text, frame.x_mm, frame.width_mm, s.base_pt)
        x, top = frame.x_mm, text_h + 1.2
    boxes: list[Box] = []
    hints: list[TextRun] = []
    for g, size in enumerate(groups):
        for _ in range(size):
            boxes.append(Box(x, top, s.digit_w_mm, s.digit_h_mm))
            x += s.digit_w_mm + s.digit_gap_mm
        x += group_gap - s.digit_gap_mm
        if is_date:
            hint = ["DD", "MM", "YYYY"][g]
            for k, letter in enumerate(hint):
                b = boxes[-size + k]
                hints.append(TextRun(b.x_mm + b.w_mm / 2, top + s.digit_h_mm + 0.5 + ascent_mm(s.small_pt), letter,
                                     s.small_pt, align="center", grey=True))
            if g < len(groups) - 1:
                hints.append(TextRun(x - group_gap / 2, top + s.digit_h_mm * 0.7, "/", s.base_pt, align="center"))
    height = top + s.digit_h_mm + (0.5 + line_height_mm(s.small_pt) if is_date else 0)
    kind = "date" if is_date else "digits"
    fld = BoxesField(item.id, kind, tuple(boxes),
                     None if is_date else item.minimum, None if is_date else item.maximum)  # type: ignore[union-attr]
    return Block(height, texts=runs + hints, strokes=[st for b in boxes for st in outline(b)], fields=[fld],
                 what=item.id, line=item.line)


def text_area_block(frame: Frame, item: TextItem) -> Block:
    s = frame.style
    label_w = width_mm(item.text, s.base_pt) + 2.0 if item.text else 0.0
    if item.lines == 1 and 0 < label_w <= 0.4 * frame.width_mm:
        # "Who helps me: ______" on one line.
        box = Box(frame.x_mm + label_w, 0.0, frame.width_mm - label_w, s.pitch_mm + 1.5)
        runs, _ = paragraph_runs(item.text, frame.x_mm, label_w, s.base_pt,
                                 y_mm=box.h_mm - 1.5 - line_height_mm(s.base_pt))
        top = 0.0
    else:
        runs, text_h = paragraph_runs(item.text, frame.x_mm, frame.width_mm, s.base_pt)
        top = text_h + (1.0 if text_h else 0)
        box = Box(frame.x_mm, top, frame.width_mm, item.lines * s.pitch_mm + 1.5)
    baselines = tuple(top + (i + 1) * s.pitch_mm for i in range(item.lines))
    strokes = outline(box, GREY_LINE_MM, grey=True)
    strokes += [Stroke(box.x_mm + 1.5, y, box.x_mm + box.w_mm - 1.5, y, GREY_LINE_MM, True) for y in baselines]
    return Block(top + box.h_mm, texts=runs, strokes=strokes, fields=[TextField(item.id, box, baselines)],
                 what=item.id, line=item.line)


def line_block(frame: Frame, item: LineItem) -> Block:
    """A visual-analogue line of exactly ``length_mm`` with end ticks and anchor words under its ends."""
    s = frame.style
    if item.length_mm > frame.width_mm:
        raise LayoutError(frame.source, f"a {item.length_mm:g} mm line does not fit the {math.floor(frame.width_mm)} "
                                        "mm wide content area; choose a larger or landscape page", item.line, item.id)
    tick = 2.0 * (s.base_pt / 9)
    beside_w = frame.width_mm - item.length_mm - 4.0
    beside = wrap(item.text, beside_w, s.base_pt) if beside_w >= 25 else []
    if item.text and 0 < len(beside) <= 2:
        # A short prompt sits left of the line, which ends at the right margin.
        x2 = frame.x_mm + frame.width_mm
        x1 = x2 - item.length_mm
        text_h = line_height_mm(s.base_pt) * len(beside)
        y = max(tick, text_h / 2) + 0.3
        runs, _ = paragraph_runs(item.text, frame.x_mm, beside_w, s.base_pt, y_mm=y - text_h / 2)
    else:
        runs, text_h = paragraph_runs(item.text, frame.x_mm, frame.width_mm, s.base_pt)
        y = text_h + tick + 0.8
        x1 = frame.x_mm + (frame.width_mm - item.length_mm) / 2
        x2 = x1 + item.length_mm
    strokes = [Stroke(x1, y, x2, y, 0.35), Stroke(x1, y - tick, x1, y + tick, 0.35),
               Stroke(x2, y - tick, x2, y + tick, 0.35)]
    anchor_w = item.length_mm * 0.45
    left, left_h = paragraph_runs(item.left, x1, anchor_w, s.small_pt, y_mm=y + tick + 0.5)
    right, right_h = paragraph_runs(item.right, x2 - anchor_w, anchor_w, s.small_pt, y_mm=y + tick + 0.5,
                                    align="right")
    height = max(y + tick, y + tick + 0.5 + max(left_h, right_h), text_h)
    return Block(height, texts=runs + left + right, strokes=strokes,
                 fields=[LineField(item.id, x1, y, x2, y, item.minimum, item.maximum)], what=item.id, line=item.line)


def item_blocks(frame: Frame, item: Item) -> list[Block]:
    s = frame.style
    if isinstance(item, HeadingItem):
        return [text_block(frame, item.text, s.heading_pt, True, True, "heading", item.line)]
    if isinstance(item, ParagraphItem):
        return [text_block(frame, item.text, s.base_pt, False, False, "paragraph", item.line)]
    if isinstance(item, MatrixItem):
        return matrix_blocks(frame, item)
    if isinstance(item, ChoiceItem):
        return [choice_block(frame, item)]
    if isinstance(item, DigitsItem | DateItem):
        return [boxes_block(frame, item)]
    if isinstance(item, TextItem):
        return [text_area_block(frame, item)]
    if isinstance(item, LineItem):
        return [line_block(frame, item)]
    raise AssertionError(f"no block builder for {type(item).__name__}")
