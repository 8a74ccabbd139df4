"""Export: CSV files with scores, and the codebook."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .base import db_option, main, reports_errors


@main.command(name="export", short_help="Write CSV files of answers and scores.")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the CSVs.")
@click.option("--codes", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV mapping serials to person codes ('serial' and 'code' columns, such as the manifest of "
                   "'formkit generate'); repeat it for several print runs.")
@click.option("--bands", "bands", multiple=True, metavar="SCORE=SET",
              help="Use another band set for a score, e.g. k10_total=likely-disorder (repeatable).")
@click.option("--excel", is_flag=True, help="Write UTF-8 with a byte-order mark, so Excel shows accents right.")
@reports_errors
def export_command(db: Path, out: Path, codes: tuple[Path, ...], bands: tuple[str, ...], excel: bool) -> None:
    """Write CSV files to --out: per form <form>.csv (a row per printed form, answers and scores),
    <form>_long.csv (a row per value) and <form>_change.csv (change per person), and codebook.csv."""
    from ..catalogue import shipped_catalogue
    from ..export import export, read_codes
    from ..store import Store

    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    band_choice = {}
    for spec in bands:
        score, _, band_set = spec.partition("=")
        if not score or not band_set:
            raise InputError(f"--bands {spec}: write SCORE=SET, e.g. k10_total=likely-disorder")
        band_choice[score.strip()] = band_set.strip()
    serial_codes = read_codes(*codes) if codes else None
    store = Store(db, readonly=True)
    try:
        written = export(store.values(), out, serial_codes, band_choice, bom=excel, catalogue=shipped_catalogue())
    finally:
        store.close()
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
