"""Reports: a printed progress summary per person, and the service report."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from formkit.errors import InputError

from .base import (
    bands_option,
    codes_option,
    db_option,
    main,
    parse_bands,
    person_codes,
    read_inputs,
    refuse_to_replace_what_is_no_pdf,
    reports_errors,
    say,
    templates_option,
    text_packs_option,
)


def file_name(code: str) -> str:
    """The name of a person's report file (without '.pdf'): the code's letters and digits, of any script, with
    '-' and '_'; anything else becomes '_'. Cyrillic or Greek codes (the forms' own scripts) had every letter made
    '_', so that 'Ж-1' and 'Д-1' both wanted '_-1.pdf' and no report was written. In the composed form (NFC): a
    code typed in two ways, which looks the same, gets one name (and is refused as a clash, not overwritten)."""
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in unicodedata.normalize("NFC", code))
    return name or "_"


@main.group()
def report() -> None:
    """Printed reports: a progress summary per person, and the service report."""


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value):  # written right, but no such day (2024-02-30)
            raise click.BadParameter(f"{value!r} is not a real date") from None
        raise click.BadParameter(f"{value!r}: write the date as YYYY-MM-DD") from None


def _load(db: Path, codes: tuple[Path, ...], bands: tuple[str, ...], template_dirs: tuple[Path, ...] = (),
          text_packs: tuple[Path, ...] = (), start: date | None = None, end: date | None = None) -> Any:
    """The store's forms scored as ``formkit export`` scores them with the same codes, bands, templates and
    text packs, and the band choice."""
    from formkit.catalogue import Catalogue
    from formkit.report.data import load_forms
    from formkit.store import Store

    band_choice = parse_bands(bands)
    serial_codes = person_codes(codes) or {}
    catalogue = Catalogue(template_dirs, text_packs)
    store = Store(db, readonly=True, existing=True)
    try:
        rows, scanned = store.values(), store.scan_dates()
    finally:
        store.close()
    if not rows:
        raise InputError(f"{db}: no pages have been read yet: nothing to report")
    unknown: dict[str, list[int]] = {}
    for form, version in sorted({(str(r["form"]), int(r["version"])) for r in rows}):
        if catalogue.find_template(form, version) is None:
            unknown.setdefault(form, []).append(version)
    for form, versions in unknown.items():
        click.echo(f"formkit: note: {form} version{'s' if len(versions) > 1 else ''} "
                   f"{', '.join(map(str, versions))}: no installed template, so these forms are not scored (give "
                   "--templates with the folder of your own templates)", err=True)
    return load_forms(rows, scanned, serial_codes, band_choice, catalogue, start, end), band_choice


def _write(outputs: list[tuple[Path, bytes]], inputs: dict[Path, str]) -> None:
    from formkit.atomic import atomic_outputs

    for path, _ in outputs:  # a report given the name of a CSV export, say: refused, as generate refuses it
        if not any(path.resolve() == Path(p).resolve() for p in inputs):
            refuse_to_replace_what_is_no_pdf(path)
    with atomic_outputs(*(path for path, _ in outputs), inputs=inputs) as temps:
        for temp, (_, data) in zip(temps, outputs, strict=True):
            temp.write_bytes(data)


@report.command(name="person")
@db_option
@codes_option
@click.option("--person", "code", metavar="CODE", help="The person's pseudonymous code.")
@click.option("--all", "every", is_flag=True, help="Every person with a code: one PDF each, named by code.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The PDF to write; with --all, a folder.")
@click.option("--large-print", is_flag=True, help="Larger print: 18 pt text instead of 14 pt.")
@bands_option
@templates_option
@text_packs_option
@reports_errors
def person_command(db: Path, codes: tuple[Path, ...], code: str | None, every: bool, out: Path, large_print: bool,
                   bands: tuple[str, ...], template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...]) -> None:
    """A progress summary to go through with a client: goals, wellbeing (K10), the working alliance and GAS,
    over time, in plain words and large print. Only the person's code is printed, never a name."""
    from formkit.report.data import known_code, person_data, persons
    from formkit.report.person import person_pdf

    code = code.strip() if code is not None else None  # " " is no code: it matched every form without one
    if bool(code) == every:
        raise click.UsageError("give --person CODE or --all, one of them")
    forms, band_choice = _load(db, codes, bands, template_dirs, text_packs)
    if every:
        everyone = persons(forms)
        if not everyone:
            raise InputError("no returned form is linked to a person code: give --codes with the manifest of the "
                             "print run (or use a form that carries the code)")
        _refuse_unprintable_codes(everyone)
        outputs: list[tuple[Path, bytes]] = []
        names: dict[str, str] = {}
        for person in everyone:
            name = file_name(person)
            if name.casefold() in names:  # one file on a disk that ignores case (macOS, Windows)
                raise InputError(f"codes {names[name.casefold()]!r} and {person!r} would share the file name "
                                 f"{name}.pdf; write one of them differently in the codes file")
            names[name.casefold()] = person
            outputs.append((out / f"{name}.pdf", person_pdf(person_data(forms, person), large_print, band_choice)))
    else:
        assert code is not None
        # the code as the forms have it: 'P１' typed, or 'Zoë' typed in another Unicode form, found no form
        person = person_data(forms, known_code(forms, code))
        _refuse_unprintable_codes([person.code])
        outputs = [(out, person_pdf(person, large_print, band_choice))]
    _write(outputs, read_inputs(db, codes, text_packs))
    for path, _ in outputs:
        click.echo(str(path))


def _refuse_unprintable_codes(codes: list[str]) -> None:
    """A person report is known by its code alone: one the report's font cannot print ('你好' came out as two
    empty boxes, as '再见' did; Arabic unjoined, back to front) would not say whose report it is."""
    from formkit.layout.text import unprintable

    bad = [code for code in codes if unprintable(code)]
    if bad:
        shown = ", ".join(repr(code) for code in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise InputError(f"code(s) {shown}: the report's font cannot print {unprintable(''.join(bad))!r} (Latin, "
                         "Greek and Cyrillic scripts only), so no report would show whose it is; give these "
                         "people codes in those scripts in the codes file; nothing was written")


@report.command(name="service")
@db_option
@codes_option
@click.option("--from", "start", metavar="DATE", callback=_day, help="First day (YYYY-MM-DD) of the period.")
@click.option("--to", "end", metavar="DATE", callback=_day, help="Last day (YYYY-MM-DD) of the period.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write.")
@templates_option
@text_packs_option
@reports_errors
def service_command(db: Path, codes: tuple[Path, ...], start: date | None, end: date | None, out: Path,
                    template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...]) -> None:
    """Forms returned, completion and review, the spread of every score, change per person, and change in
    wellbeing against goal achievement and the alliance (associations, with Pearson's r)."""
    from formkit.report.data import service_data
    from formkit.report.service import service_pdf

    if start and end and start > end:
        raise click.UsageError("--from is after --to")
    forms, _ = _load(db, codes, (), template_dirs, text_packs, start, end)
    if not forms:
        raise InputError("no returned form is dated in the period (the date written on it, else the scan date)")
    _write([(out, service_pdf(service_data(forms, start, end), source=db.name))], read_inputs(db, codes, text_packs))
    say(str(out))
