"""The template model: a validated, immutable description of a form's content."""

from __future__ import annotations

from dataclasses import dataclass, field

PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    # width, height in portrait orientation
    "A4": (210.0, 297.0),
    "Letter": (215.9, 279.4),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
    "A7": (74.0, 105.0),
    "CR80": (53.98, 85.60),
}
LICENCES = ("shippable", "text-pack")


@dataclass(frozen=True)
class Option:
    """One box of a choice: ``value`` is what is stored and exported, ``label`` what is printed."""

    value: int | str
    label: str


@dataclass(frozen=True)
class Item:
    line: int  # line in the template file, for messages


@dataclass(frozen=True)
class HeadingItem(Item):
    text: str


@dataclass(frozen=True)
class ParagraphItem(Item):
    text: str


@dataclass(frozen=True)
class PageBreakItem(Item):
    pass


@dataclass(frozen=True)
class FieldItem(Item):
    id: str
    text: str


@dataclass(frozen=True)
class ChoiceItem(FieldItem):
    options: tuple[Option, ...]
    multiple: bool = False


@dataclass(frozen=True)
class MatrixRow:
    id: str
    text: str
    line: int


@dataclass(frozen=True)
class MatrixItem(Item):
    """Several single- or multiple-choice questions sharing one scale, printed as a grid."""

    options: tuple[Option, ...]
    rows: tuple[MatrixRow, ...]
    multiple: bool = False
    numbered: bool = True


@dataclass(frozen=True)
class DigitsItem(FieldItem):
    count: int
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class DateItem(FieldItem):
    pass


@dataclass(frozen=True)
class TextItem(FieldItem):
    lines: int = 2


@dataclass(frozen=True)
class LineItem(FieldItem):
    left: str = ""
    right: str = ""
    length_mm: float = 100.0
    minimum: float = 0.0
    maximum: float = 10.0


@dataclass(frozen=True)
class Template:
    form: str
    version: int
    title: str
    language: str
    ocr_language: str
    licence: str
    page_size: str
    landscape: bool
    max_pages: int | None
    items: tuple[Item, ...]
    source: str
    notice: str = ""
    text_pack: str | None = None  # path of the text pack the wording came from, if any
    extra: dict = field(default_factory=dict, compare=False)  # scoring rules etc., for later stages

    def field_ids(self) -> list[str]:
        ids: list[str] = []
        for item in self.items:
            if isinstance(item, MatrixItem):
                ids.extend(row.id for row in item.rows)
            elif isinstance(item, FieldItem):
                ids.append(item.id)
        return ids
