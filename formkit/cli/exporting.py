"""Export: CSV, Excel, SPSS, Stata and REDCap files with scores, and the codebook."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .base import db_option, main, parse_bands, read_inputs, reports_errors, templates_option, text_packs_option


@main.command(name="export", short_help="Write the answers and scores as CSV, Excel, SPSS, Stata or REDCap files.")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the files.")
@click.option("--format", "formats", default="csv", show_default=True, metavar="FORMAT[,FORMAT...]",
              help="Formats to write, separated by commas: csv, xlsx (Excel), sav (SPSS), dta (Stata), redcap "
                   "(REDCap import files and their data dictionary).")
@click.option("--codes", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV mapping serials to person codes ('serial' and 'code' columns, such as the manifest of "
                   "'formkit generate'); repeat it for several print runs.")
@click.option("--bands", "bands", multiple=True, metavar="SCORE=SET",
              help="Use another band set for a score, e.g. k10_total=likely-disorder (repeatable).")
@click.option("--excel", is_flag=True, help="Write the CSV files as UTF-8 with a byte-order mark, so Excel shows "
                                            "accents right.")
@templates_option
@text_packs_option
@reports_errors
def export_command(db: Path, out: Path, formats: str, codes: tuple[Path, ...], bands: tuple[str, ...], excel: bool,
                   template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...]) -> None:
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
    from ..catalogue import Catalogue
    from ..export import export, parse_formats, read_codes
    from ..store import Store

    chosen = parse_formats(formats)
    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    band_choice = parse_bands(bands)
    serial_codes = read_codes(*codes) if codes else None
    catalogue = Catalogue(template_dirs, text_packs)
    store = Store(db, readonly=True)
    try:
        rows = store.values()
    finally:
        store.close()  # before anything is written: it says when the rows were read while a scan wrote
    written = export(rows, out, serial_codes, band_choice, bom=excel, catalogue=catalogue, formats=chosen,
                     inputs=read_inputs(db, codes, text_packs))
    if not written:
        click.echo("No pages have been read yet: nothing to export.")
    for path in written:
        click.echo(str(path))
    missing = sum(written.without_code.values())
    if missing:
        by_form = ", ".join(f"{form}: {count}" for form, count in written.without_code.items())
        why = ("their serial is in none of the --codes files" if codes
               else "give --codes with the print runs' manifests to link forms to people")
        click.echo(f"{missing} form{'s have' if missing != 1 else ' has'} no person code ({by_form}): {why}")
    for note in written.notes:
        click.echo(note)
