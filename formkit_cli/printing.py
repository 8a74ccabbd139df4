"""Printing: the shipped templates, a template's layout, and PDFs to print."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from formkit.errors import InputError, TemplateError

from .base import (
    large_print_option,
    main,
    missing_wording,
    page_size_option,
    progress_bar,
    refuse_to_replace_what_is_no_pdf,
    reports_errors,
    say,
    template_argument,
    text_pack_option,
)

if TYPE_CHECKING:
    from formkit.template import Template

# copies in one run, counted or one per roster row (a roster had no limit): minutes of drawing, with the whole
# PDF held in memory
MAX_COPIES = 100_000
PROGRESS_FROM_PAGES = 1000  # a run this long takes seconds: a bar says it is going on (100,000 copies: minutes)


@main.command(short_help="List the shipped templates.")
@reports_errors
def templates() -> None:
    """List the shipped templates: id, version, page size, licence and title."""
    from formkit.template import load_template, shipped_templates

    found = {name: load_template(path) for name, path in shipped_templates().items()}
    width = max(map(len, found), default=0)
    for name, t in found.items():
        click.echo(f"{name:{width}}  v{t.version}  {t.page_size:5} {t.licence:10} {t.title}")


@main.command(short_help="Print a form's geometry in mm, as JSON.")
@template_argument
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: the only format there is, so this flag changes nothing (kept for scripts).")
@text_pack_option
@large_print_option
@page_size_option
@reports_errors
def layout(template: str, as_json: bool, text_pack: Path | None, large_print: bool, page_size: str | None) -> None:
    """Print the layout of TEMPLATE (a shipped id or a YAML file) in millimetres, as JSON."""
    from formkit.layout import build_layout, layout_json
    from formkit.layout.engine import check_printable
    from formkit.template import resolve_template

    model = resolve_template(template, text_pack)
    check_printable(model)  # the final check of a template (docs/templates.md): what generate would refuse, too
    # without a pack, its placeholders show the geometry
    if text_pack is not None and (why := missing_wording(model, text_pack)):
        raise TemplateError(str(text_pack), f"{why}, which form '{model.form}' prints: add them")
    built = build_layout(model, large_print, page_size)
    click.echo(json.dumps(layout_json(built), indent=1, ensure_ascii=False))


def _check_wording(template: Template, text_pack: Path | None, placeholders: bool) -> None:
    """Refuse to print wording that would show as a placeholder such as [key] (the form's text pack not given,
    or one without some of its keys: a client would get a question without its words), unless
    ``placeholders`` asks for them; then warn."""
    why = missing_wording(template, text_pack)
    if not why:
        return
    if not placeholders:
        if text_pack is None:
            raise InputError(f"{template.form}: {why}: give it with --text-pack FILE, or --placeholders to print "
                             "placeholders such as [key] instead")
        raise TemplateError(str(text_pack), f"{why}, which form '{template.form}' prints: add them (or give "
                            "--placeholders to print [key] in their place); nothing was written")
    where = f"{text_pack}: " if text_pack else ""
    click.echo(f"formkit: warning: {template.form}: {where}{why}: it shows as placeholders such as [key]; not for "
               "use with clients", err=True)


@main.command(short_help="Write a PDF of a form, ready to print.")
@template_argument
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write.")
@click.option("--count", type=click.IntRange(1, MAX_COPIES), help="How many copies, each with its own serial.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV, one copy per row; an optional 'code' column is printed on the form.")
@click.option("--sheet", type=click.Choice(["A4", "Letter"]), help="Impose pages N-up with crop marks.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of what was printed: a new file (an existing manifest is never replaced).")
@text_pack_option
@click.option("--placeholders", is_flag=True,
              help="Print a text-pack form without its pack: its wording shows as placeholders such as [wai_01] "
                   "(for trying formkit out, not for use with clients).")
@large_print_option
@page_size_option
@click.option("--pair", is_flag=True,
              help="Also print the worker's version of each copy (goal-card: goal-review-worker; alliance-check: "
                   "alliance-check-worker) with the same serial, so the two halves find each other when scanned.")
@click.option("--seed", type=int, hidden=True, help="Reproducible serials, for samples and tests only.")
@reports_errors
def generate(template: str, out: Path, count: int | None, roster: Path | None, sheet: str | None,
             manifest: Path | None, text_pack: Path | None, placeholders: bool, large_print: bool,
             page_size: str | None, pair: bool, seed: int | None) -> None:
    """Write a PDF of TEMPLATE (a shipped id or a YAML file) ready to print at exact size. A text-pack form
    needs --text-pack, or --placeholders to print it with placeholders instead of its wording. With --pair,
    the client's copies come first, then the worker's, each carrying the serial of its client's copy; the
    worker's form is printed at its own size (--large-print and --page-size apply to the client's form)."""
    from formkit.generate import generate as run
    from formkit.generate import make_copies, pages_to_draw, read_roster
    from formkit.layout import build_layout
    from formkit.layout.engine import check_printable
    from formkit.pairs import PAIRS, WORKER_FORMS
    from formkit.template import resolve_template

    if count is not None and roster is not None:
        raise InputError("give --count or --roster, not both")
    template_model = resolve_template(template, text_pack)
    worker = None
    if pair:
        if template_model.form in WORKER_FORMS:
            raise click.UsageError(f"{template_model.form} is the worker's half of a pair: print the pair from the "
                                   f"client's form, 'formkit generate {WORKER_FORMS[template_model.form].client} "
                                   "--pair'")
        if template_model.form not in PAIRS:
            raise click.UsageError(f"--pair: {template_model.form} has no worker's version (forms with one: "
                                   f"{', '.join(PAIRS)})")
        worker_model = resolve_template(PAIRS[template_model.form].worker)
        worker = (build_layout(worker_model), worker_model.source)
    _check_wording(template_model, text_pack, placeholders)
    check_printable(template_model)
    built = build_layout(template_model, large_print, page_size)
    copies = make_copies(count, read_roster(roster, MAX_COPIES) if roster else None, seed)
    read = {path: what for path, what in ((roster, "roster"), (text_pack, "text pack")) if path is not None}
    if not any(out.resolve() == Path(p).resolve() for p in [*read, template_model.source]):
        refuse_to_replace_what_is_no_pdf(out)  # one of the inputs: the writing refuses it, saying which
    pages = pages_to_draw(built, copies, worker)
    with progress_bar("Drawing pages") as (planned, progress, relabel):
        if pages >= PROGRESS_FROM_PAGES:  # no bar is shown until one is planned
            planned(pages)
        run(built, copies, out, sheet, manifest, template_model.source, worker, inputs=read,
            progress=progress, writing=lambda: relabel("Writing the PDF"))
    import pypdfium2 as pdfium

    with contextlib.closing(pdfium.PdfDocument(str(out))) as written:  # blank backs of sheets counted too
        pdf_pages = len(written)
    what = f"{len(copies)} {template_model.form} form(s)"
    if worker is not None:
        what = f"{len(copies)} pair(s) of {template_model.form} and {worker[0].form} (one serial per pair)"
    say(f"{out}: {what}, {pdf_pages} PDF page(s)" + (f"; manifest {manifest}" if manifest else ""))
