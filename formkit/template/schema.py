"""The template model (a validated, immutable description of a form's content) and the YAML vocabulary
it is read from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
# What a completely filled box means: inferred per respondent, or declared by a form whose instructions say
FILL_MEANINGS = ("infer", "cancel", "answer")
# When a date item's day lies: a day already past when the page is read (the day the form was filled in: the scanner
# flags a later one, scanner/dates.py), or any day (a review date may lie ahead, a birth date long before).
PAST, ANY = "past", "any"
DATE_WHENS = (PAST, ANY)


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
    when: str = ""  # PAST or ANY as the template says; "" when it says nothing (``Template.date_whens``)


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
    fill_means: str = "infer"
    text_pack: str | None = None  # path of the text pack the wording came from, if any
    # the text-pack keys ({pack: key}) no pack supplied, so printed as [key]: all of them without a pack,
    # the ones a partial pack lacks with one
    placeholders: tuple[str, ...] = field(default=(), compare=False)
    extra: dict = field(default_factory=dict, compare=False)  # scoring rules etc., for later stages

    def date_whens(self) -> dict[str, str]:
        """Each date field's ``when`` (``DATE_WHENS``): as its item says, else ``past`` for the date that
        ``scoring.occasion_date`` names (the day the form was filled in) and ``any`` for the others."""
        occasion = (self.extra.get("scoring") or {}).get("occasion_date")
        return {item.id: item.when or (PAST if item.id == occasion else ANY)
                for item in self.items if isinstance(item, DateItem)}

    def field_ids(self) -> list[str]:
        ids: list[str] = []
        for item in self.items:
            if isinstance(item, MatrixItem):
                ids.extend(row.id for row in item.rows)
            elif isinstance(item, FieldItem):
                ids.append(item.id)
        return ids


# --- The YAML vocabulary ---------------------------------------------------------------------------------
# Every key a template (or a text pack) may have: its type, its range and what it means. The loader checks
# each value against it before reading it (check.py), and docs/template.schema.json, the JSON Schema that
# editors use, is generated from it (jsonschema.py): the two cannot disagree.

MAX_TEXT = 20_000  # characters in one piece of wording
# Export writes codebook.csv beside each form's <form>.csv: a form of that id could not be exported as CSV. Its
# other file names (<form>_long.csv, <form>_change.csv, <form>_pairs.csv, <form>_redcap.csv, redcap_dictionary.csv)
# have a '_', which no form id has, and export.xlsx an extension no form's file has.
RESERVED_FORM_IDS = ("codebook",)
FORM_ID_PATTERN = rf"^(?!(?:{'|'.join(RESERVED_FORM_IDS)})$)[a-z][a-z0-9-]{{0,23}}$"
FIELD_ID_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# The columns of a form's wide export (<form>.csv) besides its fields and scores, which take their ids as column
# names: a field or score of one of these names would share a column with it (its answers overwritten, the
# form's version read from an answer; found 2026-12-06), so the loader refuses one.
WIDE_LEAD_COLUMNS = ("serial", "form", "version", "person_code")
WIDE_TAIL_COLUMNS = ("pages", "needs_review", "reviewed", "source_files")
RESERVED_FIELD_IDS = WIDE_LEAD_COLUMNS + WIDE_TAIL_COLUMNS
FORM_ID = re.compile(FORM_ID_PATTERN)
FIELD_ID = re.compile(FIELD_ID_PATTERN)
ORIENTATIONS = ("portrait", "landscape")
METHODS = ("sum", "mean", "gas", "latest", "change")  # as formkit/scoring/rules.py reads them


@dataclass(frozen=True, kw_only=True)
class Spec:
    """A YAML-level type. ``ref`` names a shared definition (``$defs``) in the JSON Schema."""

    ref: str | None = None
    title: str = ""
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class Text(Spec):
    """Wording: text or a number; with ``pack``, also ``{pack: key}`` to take it from a text pack."""

    pack: bool = True
    max_length: int = MAX_TEXT


@dataclass(frozen=True, kw_only=True)
class Name(Spec):
    """A string from a closed set (``enum``) or of a given shape (``pattern``); ``what`` names the shape in
    messages. ``message`` (with ``{value}`` and ``{choices}``) replaces the message for a value not allowed."""

    what: str = "text"
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    enum_descriptions: tuple[str, ...] = ()
    max_length: int = 60
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Integer(Spec):
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, kw_only=True)
class Number(Spec):
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: float | None = None
    exclusive_minimum: float | None = None


@dataclass(frozen=True, kw_only=True)
class Boolean(Spec):
    pass


@dataclass(frozen=True, kw_only=True)
class AnyOf(Spec):
    choices: tuple[Spec, ...]
    what: str


@dataclass(frozen=True, kw_only=True)
class ListOf(Spec):
    item: Spec
    what: str
    min_items: int = 0


@dataclass(frozen=True, kw_only=True)
class TupleOf(Spec):
    """A list of a fixed length, each place with its own type, such as ``[low, high, label]``."""

    items: tuple[Spec, ...]
    what: str


@dataclass(frozen=True, kw_only=True)
class Key:
    spec: Spec
    title: str
    description: str
    required: bool = False
    default: Any = None


@dataclass(frozen=True, kw_only=True)
class Record(Spec):
    """A mapping with a closed set of keys. ``what`` names it in messages ("a choice item"); ``item_key``
    names the key whose value identifies it in messages (its id); of ``exactly_one_of``, exactly one key
    must be given."""

    keys: dict[str, Key]
    what: str = ""
    item_key: str | None = None
    exactly_one_of: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MapOf(Spec):
    """A mapping from names the author chooses (``key``) to values of one type."""

    key: Name
    value: Spec
    min_items: int = 0


@dataclass(frozen=True, kw_only=True)
class Tagged(Spec):
    """A mapping whose ``tag`` key (``kind``) says which ``Record`` of ``variants`` it is."""

    tag: str
    tag_description: str
    variants: dict[str, Record]
    what: str


TEXT = Text(ref="text", title="Wording",
            description="Printed wording: text (or a number), or {pack: key} to take it from the organisation's "
                        "text pack (for licensed wording that is not shipped).")
PLAIN_TEXT = Text(ref="plain_text", pack=False, title="Text", description="Text (or a number).")
PACK_KEY = Name(ref="pack_key", what="a text-pack key: a letter, then letters, digits, '_', '.' or '-'",
                pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,59}$", title="Text-pack key",
                description="A key under 'texts' in the text pack. Without a pack, the form prints [key].")
FORM_NAME = Name(what=f"a form id other than {' or '.join(RESERVED_FORM_IDS)} (a file name export uses): "
                      "lower-case letters, digits and '-', starting with a letter, at most 24",
                 pattern=FORM_ID_PATTERN)
FIELD_NAME = Name(ref="field_id", pattern=FIELD_ID_PATTERN,
                  what="a field id: lower-case letters, digits and '_', starting with a letter, at most 40",
                  title="Field id",
                  description="Lower-case letters, digits and '_', starting with a letter, at most 40 "
                              "characters. The column name in exports; unique in the form.")
SCALE_NAME = Name(what="a scale name: letters, digits, '_' and '-', starting with a letter",
                  pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
ITEM_RANGE = Name(what="a field id, or a range such as k10_01..k10_10", max_length=100,
                  pattern=r"^[a-z][a-z0-9_]{0,39}(\.\.[a-z][a-z0-9_]{0,39})?$")

OPTION = Record(ref="option", what="an option", title="Option",
                description="One box of a choice: 'value' is stored and exported, 'label' is printed.", keys={
    # nine digits at most: SPSS, Stata and Excel hold such a number exactly (123456789012345678901234567890
    # passed, and was exported as 1.2345678901234568e+29, or refused by Stata at export)
    "value": Key(spec=AnyOf(choices=(Integer(minimum=-999_999_999, maximum=999_999_999), Name(max_length=40)),
                            what="a whole number of at most nine digits, or text"),
                 required=True, title="Value", description="What is stored and exported when this box is "
                 "marked: a whole number (at most nine digits) or short text, unique within the scale."),
    "label": Key(spec=TEXT, title="Label", description="What is printed beside the box (may be empty)."),
})
OPTIONS = ListOf(ref="options", item=OPTION, min_items=1, what="a list of at least one option {value, label}",
                 title="Options", description="The boxes of a choice, in the order printed.")
ROW = Record(ref="matrix_row", what="a matrix row", item_key="id", title="Matrix row",
             description="One question of a matrix.", keys={
    "id": Key(spec=FIELD_NAME, required=True, title="Field id", description="The row's field id."),
    "text": Key(spec=TEXT, required=True, title="Question", description="The question, printed on the left."),
})

_FIELD = {
    "id": Key(spec=FIELD_NAME, required=True, title="Field id",
              description="Names the answer in exports and scoring: lower-case letters, digits and '_', "
                          "starting with a letter, at most 40 characters, unique in the form."),
    "text": Key(spec=TEXT, title="Question", description="The question or prompt printed with the field."),
}
_SCALE_KEYS = {
    "scale": Key(spec=SCALE_NAME, title="Scale",
                 description="The name of a scale under 'scales'. Give either 'scale' or 'options'."),
    "options": Key(spec=OPTIONS, title="Options",
                   description="The options, written out here. Give either 'scale' or 'options'."),
}
_MULTIPLE = Key(spec=Boolean(), default=False, title="Several answers",
                description="true: any number of boxes may be marked; false: one.")

ITEM_KINDS: dict[str, Record] = {
    "heading": Record(what="a heading item", description="A heading: text only, in bold.", keys={
        "text": Key(spec=TEXT, required=True, title="Heading", description="The heading's text."),
    }),
    "paragraph": Record(what="a paragraph item", description="A paragraph of text, such as instructions.", keys={
        "text": Key(spec=TEXT, required=True, title="Paragraph", description="The paragraph's text."),
    }),
    "page_break": Record(what="a page_break item", description="Starts a new page.", keys={}),
    "choice": Record(what="a choice item", item_key="id", exactly_one_of=("scale", "options"),
                     description="One question with a box per option.", keys={
        **_FIELD, **_SCALE_KEYS, "multiple": _MULTIPLE,
    }),
    "matrix": Record(what="a matrix item", exactly_one_of=("scale", "options"),
                     description="Several questions sharing one scale, printed as a grid.", keys={
        **_SCALE_KEYS,
        "rows": Key(spec=ListOf(item=ROW, min_items=1, what="a list of at least one row {id, text}"),
                    required=True, title="Rows", description="The questions: a list of {id, text}."),
        "multiple": _MULTIPLE,
        "numbered": Key(spec=Boolean(), default=True, title="Numbered",
                        description="Print a number before each row."),
    }),
    "digits": Record(what="a digits item", item_key="id", description="A row of boxes for handwritten digits.",
                     keys={
        **_FIELD,
        "count": Key(spec=Integer(minimum=1, maximum=20), required=True, title="Boxes",
                     description="How many digit boxes (1-20)."),
        "min": Key(spec=Integer(minimum=0, maximum=10**20 - 1), title="Lowest value",
                   description="The lowest number allowed; a number below it goes to review."),
        "max": Key(spec=Integer(minimum=0, maximum=10**20 - 1), title="Highest value",
                   description="The highest number allowed; a number above it goes to review."),
    }),
    "date": Record(what="a date item", item_key="id", description="DD MM YYYY boxes for a handwritten date.",
                   keys={
        **_FIELD,
        "when": Key(spec=Name(enum=DATE_WHENS, enum_descriptions=(
            "a day already past when the page is read, such as the day the form was filled in: a later one that "
            "is past read month first goes to review", "any day, such as a review date that may lie ahead")),
            title="When", description="past or any: whether the date must lie on or before the day the page is "
            "read. Default: past for the date 'scoring.occasion_date' names (the day the form was filled in), any "
            "for other dates."),
    }),
    "text": Record(what="a text item", item_key="id", description="A free-text area with writing lines.", keys={
        **_FIELD,
        "lines": Key(spec=Integer(minimum=1, maximum=30), default=2, title="Lines",
                     description="How many writing lines (1-30)."),
    }),
    "line": Record(what="a line item", item_key="id",
                   description="A visual-analogue scale: a line the person marks with a stroke.", keys={
        **_FIELD,
        "left": Key(spec=TEXT, title="Left anchor", description="Wording under the left end of the line."),
        "right": Key(spec=TEXT, title="Right anchor", description="Wording under the right end of the line."),
        "length_mm": Key(spec=Number(minimum=20), default=100, title="Length (mm)",
                         description="The line's length in millimetres, at least 20."),
        "min": Key(spec=Number(), default=0, title="Value at the left end",
                   description="The value a mark at the left end reads as."),
        "max": Key(spec=Number(), default=10, title="Value at the right end",
                   description="The value a mark at the right end reads as; must differ from 'min'."),
    }),
}
ITEM = Tagged(ref="item", tag="kind", variants=ITEM_KINDS, what="an item (a mapping with a 'kind')",
              title="Item", description="One piece of the form's content. Items have no coordinates: the "
              "layout engine flows them onto pages.",
              tag_description="What this item is; it decides which other keys the item takes.")

PAGE = Record(ref="page", title="Page", description="The page the form is printed on.", keys={
    "size": Key(spec=Name(enum=tuple(PAGE_SIZES_MM), message="page size {value} does not exist; use one of "
                          "{choices}", enum_descriptions=tuple(f"{w:g} x {h:g} mm" for w, h in
                                                               PAGE_SIZES_MM.values())),
                default="A4", title="Page size", description="The page size (CR80 is a credit card)."),
    "orientation": Key(spec=Name(enum=ORIENTATIONS), default="portrait", title="Orientation",
                       description="portrait or landscape."),
    "max_pages": Key(spec=Integer(minimum=1, maximum=100), title="Most pages",
                     description="Refuse a layout that needs more pages than this (1-100)."),
})

ITEM_LIST = AnyOf(ref="item_list", choices=(ITEM_RANGE, ListOf(item=FIELD_NAME, what="a list of field ids")),
                  what="a field id, a range such as k10_01..k10_10, or a list of field ids", title="Items",
                  description="A list of field ids, or a range 'a_01..a_10': the ids in between, keeping zero "
                              "padding.")
NUMBER_PAIR = TupleOf(items=(Number(), Number()), what="a list [low, high] of two numbers")
BAND = TupleOf(ref="band", items=(Number(), Number(), PLAIN_TEXT), what="a band [low, high, label]",
               title="Band", description="[low, high, label]: a score from low to high (inclusive) gets label.")
GOAL = Record(ref="goal", what="a goal", title="Goal", description="One goal of a GAS score.", keys={
    "score": Key(spec=FIELD_NAME, required=True, title="Rating field",
                 description="The field holding the goal's attainment rating (-2..+2)."),
    "weight": Key(spec=FIELD_NAME, title="Weight field",
                  description="The field holding the goal's weight; without it, the weight is 1."),
})
SCORE = Record(ref="score", what="a score", item_key="id", title="Score", description="One score computed from "
               "the form's answers; it becomes a column of the export.", keys={
    "id": Key(spec=FIELD_NAME, required=True, title="Score id",
              description="The score's column name: like a field id, and not the id of a field or earlier score."),
    "label": Key(spec=PLAIN_TEXT, title="Label", description="The score's name in the codebook."),
    "method": Key(spec=Name(enum=METHODS, enum_descriptions=(
        "the sum of the items", "the mean of the items", "the Goal Attainment Scaling T-score of 'goals'",
        "the latest rating among the items, in order", "the change from the first to the latest rating")),
        required=True, title="Method", description="How the score is computed."),
    "items": Key(spec=ITEM_LIST,
                 title="Items", description="The fields the score reads: a list of ids, or a range 'a_01..a_10' "
                 "(the ids in between, keeping zero padding)."),
    "reverse": Key(spec=ITEM_LIST,
                   title="Reversed items", description="Items scored (min + max - answer) on their own scale; "
                   "only the score's own items."),
    "prorate_max_missing": Key(spec=Integer(minimum=0), default=0, title="Missing items allowed",
                               description="Prorate the score with up to this many items missing; with more, "
                                           "it is invalid. Smaller than the number of items."),
    "round": Key(spec=Integer(minimum=0, maximum=6), title="Decimals",
                 description="Decimals of the result (0-6)."),
    "rescale": Key(spec=Record(what="'rescale'", keys={
        "from": Key(spec=NUMBER_PAIR, required=True, title="From", description="[low, high] of the raw score."),
        "to": Key(spec=NUMBER_PAIR, required=True, title="To", description="[low, high] it is mapped onto."),
    }), title="Rescale", description="Map the score linearly from one range onto another."),
    "bands": Key(spec=Record(what="'bands'", keys={
        "default": Key(spec=Name(max_length=40), title="Default set",
                       description="The band set used unless export chooses another (default: the first)."),
        "sets": Key(spec=MapOf(key=Name(max_length=40, what="a band set name"), min_items=1,
                               value=ListOf(item=BAND, min_items=1, what="a list of bands [low, high, label]")),
                    required=True, title="Band sets", description="Named lists of [low, high, label]."),
    }), title="Bands", description="Named sets of labelled ranges; one is the default, another can be chosen at "
        "export with --bands SCORE=SET."),
    "change": Key(spec=Boolean(), default=False, title="Report change",
                  description="Also report each person's first-to-latest change of this score."),
    "goals": Key(spec=ListOf(item=GOAL, what="a list of goals {score, weight}"), title="Goals",
                 description="For method gas: the goals, each a rating field and an optional weight field."),
    "rho": Key(spec=Number(minimum=0, exclusive_maximum=1), default=0.3, title="Rho",
               description="For method gas: the assumed correlation between goals, at least 0 and below 1."),
    "reliable_change": Key(spec=Number(exclusive_minimum=0), title="Reliable change",
                           description="The points a person's first-to-latest change must reach for the service "
                           "report to count it as reliable improvement or worsening (above 0; for example the "
                           "reliable change index 1.96 x SD x sqrt(2 x (1 - r)) from your baseline SD and the "
                           "scale's test-retest reliability r). Without it the report gives the mean change only."),
})
SCORING = Record(ref="scoring", title="Scoring", description="Scores computed from the answers, and how one "
                 "person's forms are linked. See formkit/scoring/rules.py.", keys={
    "person": Key(spec=FIELD_NAME, title="Person field",
                  description="A digits field holding the person's pseudonymous code."),
    "occasion_date": Key(spec=FIELD_NAME, title="Occasion date field",
                         description="A date field that orders one person's occasions (else the scan order)."),
    "scores": Key(spec=ListOf(item=SCORE, what="a list of scores"), title="Scores", description="The scores."),
})

TEMPLATE = Record(what="the template", title="formkit template",
                  description="A paper form: what it asks, in what order, and how it is scored.", keys={
    "form": Key(spec=FORM_NAME, required=True, title="Form id",
                description="Lower-case letters, digits and '-', starting with a letter, at most 24 characters; "
                            f"not {' or '.join(RESERVED_FORM_IDS)} (a file name export uses). Printed in the QR "
                            "code."),
    "version": Key(spec=Integer(minimum=1, maximum=9999), required=True, title="Version",
                   description="1-9999. Raise it when a printed form changes; keep the old file installed."),
    "title": Key(spec=TEXT, required=True, title="Title", description="Printed at the top of the form."),
    "language": Key(spec=Name(what="a language tag such as en or en-GB",
                              pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"),
                    default="en", title="Language", description="The language of the wording."),
    "ocr_language": Key(spec=Name(what="Tesseract language codes such as eng or eng+fra", max_length=120,
                                  pattern=r"^[A-Za-z][A-Za-z0-9_]{1,29}(\+[A-Za-z][A-Za-z0-9_]{1,29}){0,9}$"),
                        default="eng", title="OCR language",
                        description="The Tesseract language(s) for free-text fields, e.g. eng or eng+fra."),
    "licence": Key(spec=Name(enum=LICENCES, enum_descriptions=(
        "the wording may be shipped and printed as it is", "the wording comes from a text pack")),
        required=True, title="Licence", description="shippable, or text-pack when the wording is licensed and "
        "comes from a text pack."),
    "notice": Key(spec=TEXT, title="Notice", description="A copyright notice or citation, printed on the form."),
    "fill_means": Key(spec=Name(enum=FILL_MEANINGS, enum_descriptions=(
        "decided per respondent: a lone filled box is an answer from someone who answers by filling, "
        "and flagged otherwise", "a filled box cancels an answer (the printed instruction); lone fills are flagged",
        "a filled box is an answer (for forms that ask people to fill boxes in)")),
        default="infer", title="What a filled box means",
        description="infer (default), cancel or answer: how a completely filled box is read."),
    "page": Key(spec=PAGE, title="Page", description="Page size, orientation and most pages."),
    "scales": Key(spec=MapOf(key=SCALE_NAME, value=OPTIONS), title="Scales",
                  description="Named lists of options, shared by several items ('scale: name')."),
    "items": Key(spec=ListOf(item=ITEM, min_items=1, what="a list of at least one item"), required=True,
                 title="Items", description="The form's content, in order."),
    "scoring": Key(spec=SCORING, title="Scoring", description="Scores and how occasions are linked."),
})

TEXT_PACK = Record(what="a text pack", title="formkit text pack", description="Licensed wording for a form whose "
                   "template writes it as {pack: key}.", keys={
    "form": Key(spec=FORM_NAME, title="Form id", description="The form the pack belongs to."),
    "texts": Key(spec=MapOf(key=PACK_KEY, value=PLAIN_TEXT), required=True, title="Texts",
                 description="key: wording, for each {pack: key} of the form."),
})
