"""Export: CSV, Excel, SPSS, Stata and REDCap files with scores, and the codebook."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from formkit.records import first_few

from .base import (
    bands_option,
    codes_option,
    db_option,
    main,
    parse_bands,
    person_codes,
    read_inputs,
    reports_errors,
    say,
    templates_option,
    text_packs_option,
)


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """``--format`` checked as click checks its other options: a wrong value is a usage error (exit 2)."""
    from formkit.export import FormatError, parse_formats

    try:
        return parse_formats(value)
    except FormatError as exc:
        raise click.BadParameter(exc.problem, ctx, param) from exc


@main.command(name="export", short_help="Write the answers and scores as CSV, Excel, SPSS, Stata or REDCap files.")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the files.")
@click.option("--format", "formats", default="csv", show_default=True, metavar="FORMAT[,FORMAT...]", callback=_formats,
              help="Formats to write, separated by commas: csv, xlsx (Excel), sav (SPSS), dta (Stata), redcap "
                   "(REDCap import files and their data dictionary).")
@codes_option
@bands_option
@click.option("--excel", is_flag=True, help="Write the CSV files as UTF-8 with a byte-order mark, so Excel shows "
                                            "accents right.")
@templates_option
@text_packs_option
@reports_errors
def export_command(db: Path, out: Path, formats: tuple[str, ...], codes: tuple[Path, ...], bands: tuple[str, ...],
                   excel: bool, template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...]) -> None:
    """Write the store's answers and scores to --out, in each --format:

    \b
    csv     per form <form>.csv (a row per printed form, answers and scores),
            <form>_long.csv (a row per value) and <form>_change.csv (change
            per person), and codebook.csv
    xlsx    export.xlsx: the same tables as sheets, and a codebook sheet
    sav     SPSS files, <form>.sav etc., with labels and missing values
    dta     Stata files, <form>.dta etc., with labels and missing values
    redcap  <form>_redcap.csv import files and redcap_dictionary.csv
    """
    from formkit.catalogue import Catalogue
    from formkit.export import export
    from formkit.store import Store

    band_choice = parse_bands(bands)
    serial_codes = person_codes(codes)
    catalogue = Catalogue(template_dirs, text_packs)
    store = Store(db, readonly=True, existing=True)
    try:
        rows = store.values()
        pages = [] if rows else store.pages()  # only to say why there is nothing to export
    finally:
        store.close()  # before anything is written: it says when the rows were read while a scan wrote
    written = export(rows, out, serial_codes, band_choice, bom=excel, catalogue=catalogue, formats=formats,
                     inputs=read_inputs(db, codes, text_packs))
    if not written:
        click.echo(_nothing_to_export(pages))
    for path in written:
        say(str(path))
    missing = sum(written.without_code.values())
    if missing:
        by_form = ", ".join(f"{form}: {count}" for form, count in written.without_code.items())
        why = ("their serial is in none of the --codes files" if codes
               else "give --codes with the print runs' manifests to link forms to people")
        click.echo(f"{missing} form{'s have' if missing != 1 else ' has'} no person code ({by_form}): {why}")
    for note in written.notes:
        click.echo(note)
    if written.leftovers:
        names = [p.name for p in written.leftovers]
        click.echo(f"formkit: warning: {out}: {len(names)} file(s) left from an earlier export, not written now "
                   f"(their data may be out of date or voided): {first_few(names)}; delete them or export to a "
                   "new folder", err=True)


def _nothing_to_export(pages: list[Any]) -> str:
    """Why no row was exported: no page yet, or none of the pages read (voided, blank, rejected...)."""
    if not pages:
        return "No pages have been read yet: nothing to export."
    counts = Counter(str(page["status"]) for page in pages)
    return f"No read pages to export ({', '.join(f'{n} {state}' for state, n in sorted(counts.items()))})."
