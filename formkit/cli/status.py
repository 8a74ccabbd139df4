"""Where things stand: the pages in the store and their state."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .base import db_option, main, reports_errors


@main.command()
@db_option
@reports_errors
def status(db: Path) -> None:
    """List the pages in the store and their state."""
    from ..store import Store

    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    store = Store(db, readonly=True)
    click.echo(f"{'file':40} {'page':>4}  {'status':12} {'form':16} {'serial':9} {'review':>6}  reason")
    for row in store.pages():
        click.echo(f"{row['path'][-40:]:40} {row['page_index'] + 1:4d}  {row['status']:12} "
                   f"{(row['form'] + ' p' + str(row['form_page'])) if row['form'] else '':16} {row['serial']:9} "
                   f"{row['review']:6d}  {row['reason']}")
    store.close()
