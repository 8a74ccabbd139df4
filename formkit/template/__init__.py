"""Form templates: what a form asks, in what order. No coordinates: the layout engine places items."""

from .load import load_template, resolve_template, shipped_templates
from .schema import (
    ChoiceItem,
    DateItem,
    DigitsItem,
    HeadingItem,
    Item,
    LineItem,
    MatrixItem,
    MatrixRow,
    Option,
    PageBreakItem,
    ParagraphItem,
    Template,
    TextItem,
)

__all__ = [
    "ChoiceItem", "DateItem", "DigitsItem", "HeadingItem", "Item", "LineItem", "MatrixItem", "MatrixRow",
    "Option", "PageBreakItem", "ParagraphItem", "Template", "TextItem",
    "load_template", "resolve_template", "shipped_templates",
]
