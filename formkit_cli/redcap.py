"""REDCap: a data dictionary made from templates, to build a REDCap project that takes formkit's exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .base import Group, main, missing_wording, reports_errors, say, text_packs_option

if TYPE_CHECKING:
    from formkit.template import Template


@main.group(cls=Group, short_help="Make a REDCap data dictionary from templates.")
def redcap() -> None:
    """REDCap: make a project from templates ('dictionary'); 'formkit export --format redcap' then writes the
    files to import into it."""


@redcap.command(short_help="Write a REDCap data dictionary (CSV) for the given templates.")
@click.argument("templates", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The data dictionary to write, e.g. dd.csv.")
@text_packs_option
@reports_errors
def dictionary(templates: tuple[str, ...], out: Path, text_packs: tuple[Path, ...]) -> None:
    """Write a REDCap data dictionary for TEMPLATES (shipped ids or YAML files): record_id, then an instrument
    per form, in the order of their ids (as an export writes it). Upload it in REDCap (Project Setup > Data
    Dictionary); 'formkit export --format redcap' writes import files that match it."""
    from formkit.atomic import atomic_outputs
    from formkit.catalogue import Catalogue
    from formkit.export import write_csv
    from formkit.exports import redcap as dictionaries
    from formkit.exports.frames import Table
    from formkit.template import resolve_template

    packs = Catalogue(text_packs=text_packs).text_packs  # form -> pack file
    resolved = []
    for name in templates:
        template = resolve_template(name)
        if template.form in packs:
            template = resolve_template(name, packs[template.form])
        if why := missing_wording(template, packs.get(template.form)):
            where = f"{packs[template.form]}: " if template.form in packs else ""
            click.echo(f"formkit: warning: {template.form}: {where}{why}: its labels show as placeholders such as "
                       "[key]", err=True)
        resolved.append(template)
    _refuse_two_of_one_version(resolved)
    # in the export's order (by form), whatever order they were named in: record_id belongs to the first
    # instrument, and the dictionary an export writes must be this one
    resolved.sort(key=lambda t: t.form)
    table = Table("dictionary", "redcap", dictionaries.dictionary(dictionaries.instruments(resolved)), {})
    # the dictionary never replaces what it is made from (an --out naming the template, by a slip)
    read = {**{Path(t.source): "template" for t in resolved}, **{path: "text pack" for path in text_packs}}
    with atomic_outputs(out, inputs=read) as (temp,):
        write_csv(table, temp, safe=False)
    say(str(out))


def _refuse_two_of_one_version(templates: list[Template]) -> None:
    """Two files for one form and version (the shipped k10 and one's own k10 v1, say): the dictionary kept the
    first named and dropped the other unsaid, so it could differ from the template the forms are read with."""
    from formkit.errors import InputError

    seen: dict[tuple[str, int], str] = {}
    for template in templates:
        key = (template.form, template.version)
        if key in seen and Path(seen[key]).resolve() != Path(template.source).resolve():
            raise InputError(f"{template.form} version {template.version} is given twice ({seen[key]} and "
                             f"{template.source}): name the one its forms are read with")
        seen.setdefault(key, template.source)
