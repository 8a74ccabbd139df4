"""The ``formkit`` command: a thin layer over the library. Errors exit with their own code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .errors import ExitCode, FormkitError, InputError
from .template.schema import PAGE_SIZES_MM


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``FormkitError`` into one line on stderr and its exit code."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FormkitError as exc:
            click.echo(f"formkit: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)

    return run


@click.group()
@click.version_option(package_name="formkit")
def main() -> None:
    """Print paper forms, read them back from scans and photos, export results."""


@main.command()
@reports_errors
def templates() -> None:
    """List the shipped templates."""
    from .template import load_template, shipped_templates

    for name, path in shipped_templates().items():
        t = load_template(path)
        click.echo(f"{name:16} v{t.version}  {t.page_size:5} {t.licence:10} {t.title}")


_template_argument = click.argument("template")
_text_pack_option = click.option("--text-pack", type=click.Path(dir_okay=False, path_type=Path),
                                 help="Wording for text-pack forms, supplied by your organisation.")
_large_print_option = click.option("--large-print", is_flag=True, help="Larger text and boxes for low vision.")
_page_size_option = click.option("--page-size", type=click.Choice(list(PAGE_SIZES_MM)),
                                 help="Print on another page size than the template's.")


@main.command()
@_template_argument
@click.option("--json", "as_json", is_flag=True, help="Print the geometry as JSON (the default).")
@_text_pack_option
@_large_print_option
@_page_size_option
@reports_errors
def layout(template: str, as_json: bool, text_pack: Path | None, large_print: bool, page_size: str | None) -> None:
    """Print the layout of TEMPLATE (a shipped id or a YAML file) in millimetres."""
    from .layout import build_layout, layout_json
    from .template import resolve_template

    built = build_layout(resolve_template(template, text_pack), large_print, page_size)
    click.echo(json.dumps(layout_json(built), indent=1, ensure_ascii=False))


@main.command()
@_template_argument
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write.")
@click.option("--count", type=click.IntRange(1, 100_000), help="How many copies, each with its own serial.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV, one copy per row; an optional 'code' column is printed on the form.")
@click.option("--sheet", type=click.Choice(["A4", "Letter"]), help="Impose pages N-up with crop marks.")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="CSV of what was printed.")
@_text_pack_option
@_large_print_option
@_page_size_option
@click.option("--seed", type=int, hidden=True, help="Reproducible serials, for samples and tests only.")
@reports_errors
def generate(template: str, out: Path, count: int | None, roster: Path | None, sheet: str | None,
             manifest: Path | None, text_pack: Path | None, large_print: bool, page_size: str | None,
             seed: int | None) -> None:
    """Write a PDF of TEMPLATE ready to print at exact size."""
    from .generate import generate as run
    from .generate import make_copies, read_roster
    from .layout import build_layout
    from .template import resolve_template

    if count is not None and roster is not None:
        raise InputError("give --count or --roster, not both")
    template_model = resolve_template(template, text_pack)
    built = build_layout(template_model, large_print, page_size)
    copies = make_copies(count, read_roster(roster) if roster else None, seed)
    rows = run(built, copies, out, sheet, manifest, template_model.source)
    pdf_pages = max(int(r["pdf_page"]) for r in rows)  # type: ignore[call-overload]
    click.echo(f"{out}: {len(copies)} {template_model.form} form(s), {pdf_pages} PDF page(s)"
               + (f"; manifest {manifest}" if manifest else ""))


_db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path("formkit.sqlite"),
                          show_default=True, help="The SQLite store.")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@_db_option
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

    from .catalogue import Catalogue
    from .store import Store

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


@main.command()
@_db_option
@reports_errors
def status(db: Path) -> None:
    """List the pages in the store and their state."""
    from .store import Store

    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    store = Store(db, readonly=True)
    click.echo(f"{'file':40} {'page':>4}  {'status':12} {'form':16} {'serial':9} {'review':>6}  reason")
    for row in store.pages():
        click.echo(f"{row['path'][-40:]:40} {row['page_index'] + 1:4d}  {row['status']:12} "
                   f"{(row['form'] + ' p' + str(row['form_page'])) if row['form'] else '':16} {row['serial']:9} "
                   f"{row['review']:6d}  {row['reason']}")
    store.close()


@main.command(name="export")
@_db_option
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
    from .catalogue import shipped_catalogue
    from .export import export, read_codes
    from .store import Store

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


@main.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this computer needs the access token printed.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@reports_errors
def review(db: Path, host: str, port: int, no_browser: bool) -> None:
    """Open the review page: only what the scanner was unsure of, keyboard first."""
    import secrets
    import webbrowser

    from werkzeug.serving import make_server

    from scanner.assign import read_source_as

    from .catalogue import shipped_catalogue
    from .review.app import LOOPBACK, allowed_hosts_for, create_app

    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    token = None if host in LOOPBACK else secrets.token_urlsafe(16)
    catalogue = shipped_catalogue()
    # answers nothing until the port is known (--port 0 picks a free one), then only its own address
    app = create_app(db, catalogue, lambda source, payload: read_source_as(source, payload, catalogue), token,
                     allowed_hosts=set())
    server = make_server(host, port, app, threaded=True)
    app.config["ALLOWED_HOSTS"] = allowed_hosts_for(host, server.server_port)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{server.server_port}/" + (f"?token={token}" if token else "")
    click.echo(f"Reviewing {db} at {url}  (Ctrl+C to stop)")
    if not no_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")


if __name__ == "__main__":
    main()
