"""Printing: the shipped templates, a template's layout, and PDFs to print."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError
from .base import large_print_option, main, page_size_option, reports_errors, template_argument, text_pack_option


@main.command()
@reports_errors
def templates() -> None:
    """List the shipped templates."""
    from ..template import load_template, shipped_templates

    for name, path in shipped_templates().items():
        t = load_template(path)
        click.echo(f"{name:16} v{t.version}  {t.page_size:5} {t.licence:10} {t.title}")


@main.command()
@template_argument
@click.option("--json", "as_json", is_flag=True, help="Print the geometry as JSON (the default).")
@text_pack_option
@large_print_option
@page_size_option
@reports_errors
def layout(template: str, as_json: bool, text_pack: Path | None, large_print: bool, page_size: str | None) -> None:
    """Print the layout of TEMPLATE (a shipped id or a YAML file) in millimetres."""
    from ..layout import build_layout, layout_json
    from ..template import resolve_template

    built = build_layout(resolve_template(template, text_pack), large_print, page_size)
    click.echo(json.dumps(layout_json(built), indent=1, ensure_ascii=False))


@main.command()
@template_argument
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write.")
@click.option("--count", type=click.IntRange(1, 100_000), help="How many copies, each with its own serial.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV, one copy per row; an optional 'code' column is printed on the form.")
@click.option("--sheet", type=click.Choice(["A4", "Letter"]), help="Impose pages N-up with crop marks.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="CSV of what was printed.")
@text_pack_option
@large_print_option
@page_size_option
@click.option("--seed", type=int, hidden=True, help="Reproducible serials, for samples and tests only.")
@reports_errors
def generate(template: str, out: Path, count: int | None, roster: Path | None, sheet: str | None,
             manifest: Path | None, text_pack: Path | None, large_print: bool, page_size: str | None,
             seed: int | None) -> None:
    """Write a PDF of TEMPLATE ready to print at exact size."""
    from ..generate import generate as run
    from ..generate import make_copies, read_roster
    from ..layout import build_layout
    from ..template import resolve_template

    if count is not None and roster is not None:
        raise InputError("give --count or --roster, not both")
    template_model = resolve_template(template, text_pack)
    built = build_layout(template_model, large_print, page_size)
    copies = make_copies(count, read_roster(roster) if roster else None, seed)
    rows = run(built, copies, out, sheet, manifest, template_model.source)
    pdf_pages = max(int(r["pdf_page"]) for r in rows)  # type: ignore[call-overload]
    click.echo(f"{out}: {len(copies)} {template_model.form} form(s), {pdf_pages} PDF page(s)"
               + (f"; manifest {manifest}" if manifest else ""))
