"""The geometry model: every coordinate of a printed page, in millimetres, origin at the top-left.

The PDF renderer draws exactly these shapes and the scanner reads exactly these places, so a
coordinate exists once, here. Text baselines are ``y_mm`` of ``TextRun``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Box:
    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float


@dataclass(frozen=True)
class Marker:
    id: int
    x_mm: float
    y_mm: float
    size_mm: float  # the outer black square, border cells included

    def corners_mm(self) -> tuple[tuple[float, float], ...]:
        """Top-left, top-right, bottom-right, bottom-left: the order ArUco reports corners in."""
        x, y, s = self.x_mm, self.y_mm, self.size_mm
        return (x, y), (x + s, y), (x + s, y + s), (x, y + s)


@dataclass(frozen=True)
class QrSpot:
    x_mm: float
    y_mm: float
    size_mm: float  # the symbol without its quiet zone
    modules: int
    quiet_mm: float


@dataclass(frozen=True)
class TextRun:
    x_mm: float
    y_mm: float  # baseline
    text: str
    size_pt: float
    bold: bool = False
    align: Literal["left", "center", "right"] = "left"
    grey: bool = False


@dataclass(frozen=True)
class Stroke:
    x1_mm: float
    y1_mm: float
    x2_mm: float
    y2_mm: float
    width_mm: float
    grey: bool = False


@dataclass(frozen=True)
class ChoiceBox:
    value: int | str
    label: str
    box: Box


@dataclass(frozen=True)
class ChoiceField:
    id: str
    multiple: bool
    options: tuple[ChoiceBox, ...]
    kind: str = "choice"


@dataclass(frozen=True)
class BoxesField:
    """Handwritten characters, one per box: ``kind`` is ``digits`` or ``date`` (DDMMYYYY)."""

    id: str
    kind: Literal["digits", "date"]
    boxes: tuple[Box, ...]
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class TextField:
    id: str
    box: Box
    baselines_y_mm: tuple[float, ...]  # the light ruled writing lines inside the box
    kind: str = "text"


@dataclass(frozen=True)
class LineField:
    """A visual-analogue line: a mark at ``x1`` reads ``minimum``, at ``x2`` reads ``maximum``."""

    id: str
    x1_mm: float
    y1_mm: float
    x2_mm: float
    y2_mm: float
    minimum: float
    maximum: float
    kind: str = "line"


Field = ChoiceField | BoxesField | TextField | LineField


@dataclass(frozen=True)
class Page:
    number: int
    width_mm: float
    height_mm: float
    markers: tuple[Marker, ...]
    qr: QrSpot
    serial_text: TextRun  # its text is drawn per printed copy; see PLACEHOLDER_*
    code_text: TextRun
    fields: tuple[Field, ...]
    texts: tuple[TextRun, ...]
    strokes: tuple[Stroke, ...]
    fingerprint: str = ""

    @property
    def geometry(self) -> tuple:
        """What the scanner finds a page by: its size, its markers and its QR code's place (to 0.1 mm)."""
        return (round(self.width_mm, 1), round(self.height_mm, 1),
                tuple((m.id, round(m.x_mm, 1), round(m.y_mm, 1), round(m.size_mm, 1)) for m in self.markers),
                (round(self.qr.x_mm, 1), round(self.qr.y_mm, 1), round(self.qr.size_mm, 1), round(self.qr.quiet_mm, 1)))


def distinct_geometries(pages: Iterable[Page]) -> list[Page]:
    """One page for each ``Page.geometry`` among ``pages``, in the order first seen."""
    seen: dict[tuple, Page] = {}
    for page in pages:
        seen.setdefault(page.geometry, page)
    return list(seen.values())


@dataclass(frozen=True)
class Layout:
    form: str
    version: int
    variant: str
    title: str
    pages: tuple[Page, ...] = field(default_factory=tuple)
    flow: str = ""  # the revision of the page flow it was laid out with (``engine.FLOW_REVISIONS``)

    def page(self, number: int) -> Page:
        return self.pages[number - 1]


def shifted(element: Any, dy_mm: float) -> Any:
    """A copy of a geometry element moved down by ``dy_mm`` (blocks are built at y = 0, then placed)."""
    if isinstance(element, tuple):
        return tuple(shifted(e, dy_mm) for e in element)
    if not dataclasses.is_dataclass(element):
        return element
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(element):
        value = getattr(element, f.name)
        if f.name.endswith("y_mm") or f.name.endswith("y1_mm") or f.name.endswith("y2_mm"):
            changes[f.name] = tuple(v + dy_mm for v in value) if isinstance(value, tuple) else value + dy_mm
        elif dataclasses.is_dataclass(value) or isinstance(value, tuple):
            changes[f.name] = shifted(value, dy_mm)
    return dataclasses.replace(element, **changes)


def _r(value: float) -> float:
    return round(value, 3)


def field_json(f: Field) -> dict[str, Any]:
    """One field in the ``formkit layout --json`` contract."""
    if isinstance(f, ChoiceField):
        return {"id": f.id, "kind": "choice", "multiple": f.multiple, "options": [
            {"value": o.value, "label": o.label, "x_mm": _r(o.box.x_mm), "y_mm": _r(o.box.y_mm),
             "w_mm": _r(o.box.w_mm), "h_mm": _r(o.box.h_mm)} for o in f.options]}
    if isinstance(f, BoxesField):
        out: dict[str, Any] = {"id": f.id, "kind": f.kind, "boxes": [
            {"x_mm": _r(b.x_mm), "y_mm": _r(b.y_mm), "w_mm": _r(b.w_mm), "h_mm": _r(b.h_mm)} for b in f.boxes]}
        if f.kind == "digits":
            out.update({"min": f.minimum, "max": f.maximum})
        return out
    if isinstance(f, TextField):
        return {"id": f.id, "kind": "text", "x_mm": _r(f.box.x_mm), "y_mm": _r(f.box.y_mm),
                "w_mm": _r(f.box.w_mm), "h_mm": _r(f.box.h_mm),
                "baselines_y_mm": [_r(y) for y in f.baselines_y_mm]}
    return {"id": f.id, "kind": "line", "x1_mm": _r(f.x1_mm), "y1_mm": _r(f.y1_mm), "x2_mm": _r(f.x2_mm),
            "y2_mm": _r(f.y2_mm), "min": f.minimum, "max": f.maximum}


def page_json(page: Page) -> dict[str, Any]:
    return {
        "page": page.number,
        "width_mm": _r(page.width_mm),
        "height_mm": _r(page.height_mm),
        "fingerprint": page.fingerprint,
        "markers": [{"id": m.id, "x_mm": _r(m.x_mm), "y_mm": _r(m.y_mm), "size_mm": _r(m.size_mm)}
                    for m in page.markers],
        "qr": {"x_mm": _r(page.qr.x_mm), "y_mm": _r(page.qr.y_mm), "size_mm": _r(page.qr.size_mm),
               "modules": page.qr.modules, "quiet_mm": _r(page.qr.quiet_mm)},
        "fields": [field_json(f) for f in page.fields],
    }


def layout_json(layout: Layout) -> dict[str, Any]:
    return {"form": layout.form, "version": layout.version, "variant": layout.variant,
            "title": layout.title, "pages": [page_json(p) for p in layout.pages]}


def geometry_fingerprint(page: Page) -> str:
    """Four hex digits that change when anything the scanner reads on ``page`` moves."""
    geometry = page_json(page)
    geometry.pop("fingerprint")
    digest = hashlib.sha256(json.dumps(geometry, sort_keys=True).encode()).hexdigest()
    return digest[:4].upper()


def bounding_box(boxes: tuple[Box, ...] | list[Box]) -> Box:
    x0 = min(b.x_mm for b in boxes)
    y0 = min(b.y_mm for b in boxes)
    x1 = max(b.x_mm + b.w_mm for b in boxes)
    y1 = max(b.y_mm + b.h_mm for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


def boxes_apart_mm(a: Box, b: Box) -> float:
    """The gap between two rectangles, mm (0 when they touch or overlap)."""
    return math.hypot(max(a.x_mm - b.x_mm - b.w_mm, b.x_mm - a.x_mm - a.w_mm, 0.0),
                      max(a.y_mm - b.y_mm - b.h_mm, b.y_mm - a.y_mm - a.h_mm, 0.0))


def field_boxes(f: Field) -> list[Box]:
    """The printed boxes a field is answered in: a choice field's options, a digit or date field's boxes;
    none for a line or a writing area."""
    if isinstance(f, ChoiceField):
        return [o.box for o in f.options]
    if isinstance(f, BoxesField):
        return list(f.boxes)
    return []


def field_box(f: Field) -> Box:
    """The rectangle a field's answer is given in: all its boxes, its writing area, or its line with room
    for the mark."""
    if isinstance(f, LineField):
        return Box(f.x1_mm - 2, f.y1_mm - 4, f.x2_mm - f.x1_mm + 4, 8)
    if isinstance(f, ChoiceField | BoxesField):
        return bounding_box(field_boxes(f))
    return f.box
