"""Export: CSV files with scores, and the codebook."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .base import db_option, main, reports_errors


@main.command(name="export")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the CSVs.")
@click.option("--codes", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV mapping serials to person codes ('serial' and 'code' columns; the generate manifest).")
@click.option("--bands", "bands", multiple=True, metavar="SCORE=SET",
              help="Use another band set for a score, e.g. k10_total=likely-disorder (repeatable).")
@click.option("--excel", is_flag=True, help="Write UTF-8 with a byte-order mark, so Excel shows accents right.")
@reports_errors
def export_command(db: Path, out: Path, codes: Path | None, bands: tuple[str, ...], excel: bool) -> None:
    """Write per form <form>.csv (a row per printed form, answers and scores), <form>_long.csv (a row per
    value), <form>_change.csv (change per person) and codebook.csv."""
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
    serial_codes = read_codes(codes) if codes else None
    store = Store(db, readonly=True)
    try:
        written = export(store.values(), out, serial_codes, band_choice, bom=excel, catalogue=shipped_catalogue())
    finally:
        store.close()
    if not written:
        click.echo("No pages have been read yet: nothing to export.")
    for path in written:
        click.echo(str(path))
