"""REDCap: a data dictionary made from templates, and import files that match it.

The dictionary (``formkit redcap dictionary``) has REDCap's 18 columns in REDCap's order. ``record_id`` comes
first; then each form's fields together, as one instrument named after the form (``gas-followup`` ->
``gas_followup``), in the order they are printed (the versions of one form merged, the first version's
wording kept):

- a single choice is ``radio``, a multiple choice ``checkbox``, a matrix's rows share a matrix group;
- digits with a min or max are ``text`` validated as ``integer`` (within them), digits without either (a code,
  its leading zeros kept) or with 15 figures or more plain ``text``; dates ``text`` validated as
  ``date_ymd``, a line ``text`` validated as ``number`` between its ends (a REDCap slider holds whole numbers
  only, a line's value has a decimal), free text ``notes``;
- choices are written ``1, Label | 2, Label``. A checkbox's codes must be lower-case letters and digits
  (REDCap names its columns ``field___code``): when an option value is not (``-2``, say), the options are
  coded 1, 2, 3, ... in order, and the field annotation says which value each code stands for;
- headings and paragraphs become the section header of the field that follows them.

Field names follow REDCap's rule (lower-case letters, digits and '_', starting with a letter, at most 100
characters) and are unique across forms: a field id that does not start with its form's name gets it as a
prefix (``date_completed`` of ``k10`` -> ``k10_date_completed``; ``k10_01`` stays).

The import files (``formkit export --format redcap``: ``<form>_redcap.csv``) hold ``record_id`` (the person
code, else the form's serial), each field as the dictionary names it (a checkbox as ``field___code`` columns,
1 or 0), and ``<form>_complete``: 2 (complete) when no value of the form waits for review, 1 (unverified)
when some do. A value waiting for review, an illegible one and one never read are left empty, as in the
wide CSV. When a person has several forms of one kind, the file adds ``redcap_repeat_instrument`` and
``redcap_repeat_instance``: make that instrument repeating in REDCap. Instances are numbered in the order the
forms were first scanned, not by their dates: a form scanned later (a January form returned in June) takes
the next number, and the forms already imported keep theirs. A form leaving or joining a person's forms in
between (voided, its person code decided in review) renumbers those scanned after it (docs/templates.md).
Each instrument begins with ``<form>_formkit_serial``, the form's printed serial, so an instance can be
checked against its paper and scans."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import InputError
from ..template.schema import (
    ChoiceItem,
    DateItem,
    DigitsItem,
    HeadingItem,
    LineItem,
    MatrixItem,
    Option,
    ParagraphItem,
    Template,
    TextItem,
)
from .frames import HAS_VALUE, NOT_ANSWERED, FormTables, Table, frame
from .labelled import option_codes
from .variables import chosen, digits_variable

DICTIONARY_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]
RECORD_ID = "record_id"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_LIMIT = 100
RADIO_CODE = re.compile(r"^(-?\d+|[A-Za-z0-9_]+)$")
REPEAT_COLUMNS = ["redcap_repeat_instrument", "redcap_repeat_instance"]
COMPLETE, UNVERIFIED = "2", "1"


@dataclass
class Field:
    """One REDCap field made from a template field."""

    name: str
    source: str  # the field id in formkit
    type: str  # radio | checkbox | text | notes
    label: str
    choices: list[tuple[str, Option]] = field(default_factory=list)  # (REDCap code, option)
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    note: str = ""
    section: str = ""
    matrix: str = ""
    annotation: str = ""

    def columns(self) -> list[str]:
        """Its columns in an import file."""
        if self.type == "checkbox":
            return [f"{self.name}___{code}" for code, _ in self.choices]
        return [self.name]


def form_name(form: str) -> str:
    """The instrument's name: the form id with '-' as '_' (``gas-followup`` -> ``gas_followup``)."""
    return re.sub(r"[^a-z0-9_]", "_", form.lower())


def field_name(form: str, field_id: str) -> str:
    """The REDCap name of ``field_id`` of ``form``: prefixed with the form's name unless it starts with it."""
    prefix = form_name(form) + "_"
    name = re.sub(r"[^a-z0-9_]", "_", field_id.lower())
    name = name if name.startswith(prefix) else prefix + name
    name = re.sub(r"_{3,}", "__", name)  # REDCap keeps '___' for checkbox columns
    if name == f"{form_name(form)}_complete":  # REDCap's own status field of the instrument
        name += "_answer"
    return name[:NAME_LIMIT]


def instrument(templates: Iterable[Template]) -> list[Field]:
    """The fields of one form (the versions of ``templates``, oldest first, merged), in printed order."""
    ordered = sorted(templates, key=lambda t: t.version)
    fields: list[Field] = [_serial_field(ordered[0].form)] if ordered else []
    seen: set[str] = set()
    matrices = 0
    for template in ordered:
        section: list[str] = []
        for item in template.items:
            if isinstance(item, HeadingItem | ParagraphItem):
                section.append(" ".join(str(item.text).split()))
                continue
            made = _fields(template.form, item)
            if isinstance(item, MatrixItem):
                matrices += 1
                for f in made:
                    f.matrix = f"{form_name(template.form)}_matrix{matrices}"
            for f in made:
                earlier = next((e for e in fields if e.source == f.source), None)
                if earlier is not None and _coding(earlier) != _coding(f):
                    raise InputError(f"{template.form}: version {template.version} codes {f.source} otherwise than "
                                     "an earlier version; a REDCap field holds one coding: give each version a "
                                     "project of its own, or export the others without --format redcap")
            made = [f for f in made if f.source not in seen]
            if made and section:
                made[0].section = " ".join(section)
            if made or _is_field(item):
                section = []
            seen.update(f.source for f in made)
            fields += made
    return fields


def _coding(f: Field) -> list[tuple[str, str, str]]:
    """A field's choices as codes, values and wording (case and spacing aside): a version that keeps the values
    and rewords them (5 "All of the time" where it was "None of the time") codes the question otherwise."""
    return [(c, str(o.value), " ".join(str(o.label).lower().split())) for c, o in f.choices]


def _serial_field(form: str) -> Field:
    """The form's printed serial: which paper form (and which scans, through formkit) a record or repeat
    instance holds."""
    return Field(f"{form_name(form)}_formkit_serial", "serial", "text", "Serial printed on the form",
                 note="filled in by formkit", annotation="formkit: the form's printed serial (@READONLY)")


def _is_field(item: Any) -> bool:
    return isinstance(item, MatrixItem | ChoiceItem | DigitsItem | DateItem | TextItem | LineItem)


def _fields(form: str, item: Any) -> list[Field]:
    if isinstance(item, MatrixItem | ChoiceItem):
        kind = "checkbox" if item.multiple else "radio"
        choices, annotation = _choices(item.options, item.multiple)
        rows = [(r.id, r.text) for r in item.rows] if isinstance(item, MatrixItem) else [(item.id, item.text)]
        return [Field(field_name(form, i), i, kind, _label(text, i), choices, annotation=annotation)
                for i, text in rows]
    if isinstance(item, DigitsItem):
        if digits_variable(item).kind == "text":
            # a code (a client code, say), or more figures than a number holds: REDCap's exports type an
            # integer-validated field as a number, and "001234" would reach SPSS, Stata and R as 1234; kept as
            # text, as every formkit export keeps it
            return [Field(field_name(form, item.id), item.id, "text", _label(item.text, item.id),
                          note=f"up to {item.count} digit(s), as written: leading zeros kept")]
        return [Field(field_name(form, item.id), item.id, "text", _label(item.text, item.id), validation="integer",
                      minimum=_number(item.minimum), maximum=_number(item.maximum),
                      note=f"up to {item.count} digit(s)")]
    if isinstance(item, DateItem):
        return [Field(field_name(form, item.id), item.id, "text", _label(item.text, item.id), validation="date_ymd")]
    if isinstance(item, LineItem):
        low, high = _number(item.minimum), _number(item.maximum)
        note = f"{low} = {item.left}, {high} = {item.right}" if item.left or item.right else ""
        return [Field(field_name(form, item.id), item.id, "text", _label(item.text, item.id), validation="number",
                      minimum=min(low, high, key=float), maximum=max(low, high, key=float), note=note)]
    if isinstance(item, TextItem):
        return [Field(field_name(form, item.id), item.id, "notes", _label(item.text, item.id))]
    return []


def _label(text: Any, field_id: str) -> str:
    return " ".join(str(text or field_id).split())


def _number(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _choices(options: tuple[Option, ...], multiple: bool) -> tuple[list[tuple[str, Option]], str]:
    """REDCap codes for ``options`` and, when they are not the option values themselves, an annotation
    saying which value each stands for."""
    values = [str(o.value) for o in options]
    if multiple:
        codes = option_codes(options)
    elif all(RADIO_CODE.match(v) for v in values) and len(set(values)) == len(values):
        codes = values
    else:
        codes = [str(n) for n in range(1, len(values) + 1)]
    annotation = ""
    if codes != values:
        annotation = "formkit values: " + ", ".join(f"{c} = {v}" for c, v in zip(codes, values, strict=True))
    return list(zip(codes, options, strict=True)), annotation


def _choice_text(choices: list[tuple[str, Option]]) -> str:
    return " | ".join(f"{code}, {' '.join(str(o.label).replace('|', '/').split())}" for code, o in choices)


def instruments(templates: Iterable[Template]) -> dict[str, list[Field]]:
    """The instruments of ``templates`` by form (in the order forms first appear), checked: field names unique
    across forms, each valid by REDCap's rule."""
    by_form: dict[str, list[Template]] = defaultdict(list)
    for template in templates:
        if all(t.version != template.version for t in by_form[template.form]):
            by_form[template.form].append(template)
    out = {form: instrument(versions) for form, versions in by_form.items()}
    names = Counter([RECORD_ID] + [f.name for fields in out.values() for f in fields]
                    + [f"{form_name(form)}_complete" for form in out])
    clashes = sorted(name for name, count in names.items() if count > 1)
    if clashes:
        raise InputError(f"REDCap field name(s) used twice: {', '.join(clashes)}; rename the field in one template")
    forms = Counter(form_name(form) for form in out)
    if any(count > 1 for count in forms.values()):
        raise InputError(f"forms with the same REDCap instrument name: {', '.join(sorted(out))}")
    for fields in out.values():
        for f in fields:
            if not FIELD_NAME.match(f.name) or len(f.name) > NAME_LIMIT:
                raise InputError(f"{f.source}: no valid REDCap field name can be made of it ({f.name!r})")
    return out


def dictionary(instruments_by_form: dict[str, list[Field]]) -> pd.DataFrame:
    """The data dictionary: ``record_id``, then each form's fields, in REDCap's 18 columns."""
    rows: list[dict[str, str]] = []
    first = next(iter(instruments_by_form), "")
    rows.append({"Variable / Field Name": RECORD_ID, "Form Name": form_name(first), "Field Type": "text",
                 "Field Label": "Record ID", "Field Annotation": "formkit: the person code, else the form's serial"})
    for form, fields in instruments_by_form.items():
        for f in fields:
            rows.append({"Variable / Field Name": f.name, "Form Name": form_name(form), "Section Header": f.section,
                         "Field Type": f.type, "Field Label": f.label,
                         "Choices, Calculations, OR Slider Labels": _choice_text(f.choices), "Field Note": f.note,
                         "Text Validation Type OR Show Slider Number": f.validation,
                         "Text Validation Min": f.minimum, "Text Validation Max": f.maximum,
                         "Matrix Group Name": f.matrix, "Field Annotation": f.annotation})
    return frame(DICTIONARY_COLUMNS, rows)


def import_table(tables: FormTables, fields: list[Field]) -> Table:
    """The REDCap import file of one form: a row per printed form, as the dictionary of ``fields`` names them."""
    wide = tables.wide.frame
    kept = installed_rows(tables)
    records = {i: str(wide.at[i, "person_code"] or wide.at[i, "serial"]) for i in kept}
    repeating = any(count > 1 for count in Counter(records.values()).values())
    instance: dict[int, int] = {}
    if repeating:
        by_record: dict[str, list[int]] = defaultdict(list)
        for index, record in records.items():
            by_record[record].append(index)
        for indexes in by_record.values():
            ordered = sorted(indexes, key=lambda i: tables.order[i][1])  # scan order: stable as forms arrive
            instance.update({i: n for n, i in enumerate(ordered, start=1)})
    name = form_name(tables.form)
    columns = [RECORD_ID, *(REPEAT_COLUMNS if repeating else []), *(c for f in fields for c in f.columns()),
               f"{name}_complete"]
    rows = []
    for index, record in records.items():
        row: dict[str, Any] = {RECORD_ID: record}
        if repeating:
            row.update({REPEAT_COLUMNS[0]: name, REPEAT_COLUMNS[1]: instance[index]})
        for f in fields:
            cell = wide.at[index, f.source] if f.source in wide else ""
            why = tables.empty.at[index, f.source] if f.source in tables.empty else HAS_VALUE
            row.update(_cells(f, cell, why))
        row[f"{name}_complete"] = UNVERIFIED if int(wide.at[index, "needs_review"] or 0) else COMPLETE
        rows.append(row)
    return Table(f"{tables.form}_redcap", "redcap", frame(columns, rows), {})


def installed_rows(tables: FormTables) -> list[int]:
    """The rows of the wide table whose version's template is installed. The others are left out of the import
    file: no template says how their version codes its answers, and a REDCap field holds one coding."""
    versions = tables.wide.frame["version"].tolist()
    return [i for i, version in enumerate(versions) if tables.templates.get(version) is not None]


def _cells(f: Field, cell: Any, why: str) -> dict[str, str]:
    """The import cells of one field: its value as REDCap codes it, or empty (checkboxes of a question left
    blank are 0)."""
    text = "" if cell is None else str(cell)
    if f.type == "checkbox":
        if why == HAS_VALUE and text:
            picked = chosen(text)
            return {f"{f.name}___{code}": "1" if str(o.value) in picked else "0" for code, o in f.choices}
        blank = "0" if why == NOT_ANSWERED else ""
        return {f"{f.name}___{code}": blank for code, _ in f.choices}
    if why != HAS_VALUE:
        return {f.name: ""}
    if f.type == "radio":
        codes = {str(o.value): code for code, o in f.choices}
        return {f.name: codes.get(text, text)}
    return {f.name: text}
