"""Scanning: images, PDFs and folders into the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ExitCode
from .base import db_option, main, reports_errors


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes (default: all cores).")
@click.option("--templates", "template_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of your own templates (may be repeated).")
@click.option("--text-pack", "text_packs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The text pack a form was printed with; it names its form (may be repeated).")
@reports_errors
def scan(paths: tuple[str, ...], db: Path, jobs: int | None, template_dirs: tuple[Path, ...],
         text_packs: tuple[Path, ...]) -> None:
    """Read every page of the images, PDFs and folders in PATHS into the store."""
    from scanner.batch import scan as run

    from ..catalogue import Catalogue
    from ..store import Store

    catalogue = Catalogue(template_dirs, text_packs)
    store = Store(db)
    bar: Any = None

    def planned(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="Reading pages", file=sys.stderr)
        bar.__enter__()

    try:
        summary = run(list(paths), store, jobs, progress=lambda n: bar.update(n), planned=planned,
                      catalogue=catalogue)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        store.close()
    for missing in summary.missing:
        click.echo(f"formkit: warning: {missing}: no such file or folder", err=True)
    for duplicate, first in summary.duplicates:
        click.echo(f"{duplicate}: the same content as {first}: read once")
    pages = summary.pages
    click.echo(f"Pages read: {pages['read']}, with {summary.values_to_review} value(s) to review; "
               f"conflicts: {pages['conflict']}; blank: {pages['blank']}; unidentified: {pages['unidentified']}; "
               f"rejected: {pages['rejected']}; already in the store: {summary.skipped_pages}")
    for reason, count in summary.reasons.most_common():
        click.echo(f"  {count:5d} x {reason}")
    click.echo(f"Store: {db}")
    if summary.missing:
        sys.exit(ExitCode.INPUT)
