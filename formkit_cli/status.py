"""Where things stand: totals by state, the pages in the store and their state, or the values waiting for
review (``--flagged``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from formkit.records import PageState

from .base import db_option, main, printable, reports_errors

MAX_QUESTION = 60  # characters of a question shown in --flagged (the rest is on the form)


@main.command(short_help="Totals by state and every page; --flagged lists the values waiting for review.")
@db_option
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in PageState]),
              help="Only pages in this state (may be repeated).")
@click.option("--form", help="Only pages of this form, e.g. k10.")
@click.option("--file", "file_part", metavar="TEXT", help="Only pages of files whose path contains TEXT.")
@click.option("--flagged", is_flag=True, help="List the values waiting for review instead, one a line.")
@click.option("--templates", "template_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of your own templates (for the questions' wording with --flagged).")
@click.option("--text-pack", "text_packs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A text pack (for the questions' wording with --flagged; may be repeated).")
@reports_errors
def status(db: Path, states: tuple[str, ...], form: str | None, file_part: str | None, flagged: bool,
           template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...]) -> None:
    """Totals by state, then every page with its state and why (a read page: how many values wait for
    review). With --flagged, every value waiting for review: its page, field, question, the machine's guess,
    confidence and why."""
    from formkit.store import Store

    store = Store(db, readonly=True, existing=True)
    try:
        if flagged:
            if states:
                raise click.UsageError("--state lists pages; --flagged lists values on pages read")
            _flagged(store, form, file_part, template_dirs, text_packs)
            pages = store.pages() if form is not None else []
        else:
            pages = store.pages()
            _pages(pages, set(states), form, file_part)
        if form is not None:
            _note_other_forms(pages, form, template_dirs, text_packs)
    finally:
        store.close()


def _note_other_forms(pages: list[Any], form: str, template_dirs: tuple[Path, ...],
                      text_packs: tuple[Path, ...]) -> None:
    """A note on stderr when none of the store's ``pages`` is of ``form``: a typo (K10 for k10) otherwise
    looks like a store with nothing of that form in it."""
    held = sorted({str(r["form"]) for r in pages if r["form"]})
    if form in held:
        return
    if held:
        click.echo(f"formkit: note: no page in the store is of form '{form}'; it holds: {', '.join(held)}", err=True)
        return
    from formkit.catalogue import Catalogue

    installed = sorted({f for f, _, _ in Catalogue(template_dirs, text_packs).installed_forms()})
    click.echo(f"formkit: note: no page in the store is of form '{form}' (no page is of any form yet); the "
               f"installed forms: {', '.join(installed)}", err=True)


def _pages(everything: list[Any], states: set[str], form: str | None, file_part: str | None) -> None:
    """The totals and the table of ``everything``, the store's pages, as far as the filters let through."""
    from formkit.serial import format_serial

    rows = [r for r in everything if (not states or r["status"] in states) and (form is None or r["form"] == form)
            and (file_part is None or file_part in r["path"])]
    counts = Counter(PageState(r["status"]) for r in rows)
    waiting = sum(r["review"] for r in rows if r["status"] == PageState.READ)
    filtered = len(rows) != len(everything)
    click.echo(f"Pages: {len(rows)}" + (f" (of {len(everything)} in the store)" if filtered else ""))
    if rows:  # a header over no rows says nothing
        click.echo(_table(("state", "pages"), [(s.value, str(counts[s])) for s in PageState if counts[s]],
                          right={1}, indent="  "))
    click.echo(f"Values to review: {waiting}")
    if not rows:
        return
    click.echo("")
    table = []
    for r in rows:
        shown_form = f"{r['form']} p{r['form_page']}" + (" L" if r["variant"] == "L" else "") if r["form"] else ""
        table.append((str(r["id"]), r["path"], str(r["page_index"] + 1), r["status"], shown_form,
                      format_serial(r["serial"]) if r["serial"] else "", _why(r)))
    click.echo(_table(("id", "file", "page", "state", "form", "serial", "reason"), table, right={0, 2}))


def _why(row: Any) -> str:
    """The page's reason; for a page read with values flagged, how many wait for review; for a conflict,
    on how many values it disagrees with the page read first."""
    parts = [row["reason"]]
    if row["status"] == PageState.READ and row["review"]:
        parts.append(f"{row['review']} value{'s' if row['review'] != 1 else ''} to review")
    if row["status"] == PageState.CONFLICT and row["differ"]:
        parts.append(f"{row['differ']} value{'s' if row['differ'] != 1 else ''} differ from it")
    return "; ".join(p for p in parts if p)


def _flagged(store: Any, form: str | None, file_part: str | None, template_dirs: tuple[Path, ...],
             text_packs: tuple[Path, ...]) -> None:
    from formkit.catalogue import Catalogue
    from formkit.review.queue import question_text
    from formkit.serial import format_serial

    catalogue = Catalogue(template_dirs, text_packs)
    rows = [r for r in store.review_queue() if (form is None or r["form"] == form)
            and (file_part is None or file_part in r["source_file"])]
    click.echo(f"Values waiting for review: {len(rows)}")
    if not rows:
        return
    table = []
    for r in rows:
        question = question_text(catalogue, r["form"], r["version"], r["field"])
        if len(question) > MAX_QUESTION:
            question = question[:MAX_QUESTION - 1] + "…"
        table.append((str(r["page_id"]), f"{r['form']} p{r['form_page']}", format_serial(r["serial"]), r["field"],
                      question, r["value"] if r["value"] != "" else "(blank)", f"{r['confidence']:.3f}", r["reason"]))
    click.echo(_table(("page", "form", "serial", "field", "question", "guess", "confidence", "reason"), table,
                      right={0, 6}))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] | set[int] = frozenset(),
           indent: str = "") -> str:
    """Columns as wide as their widest cell (the last one unpadded), two spaces apart; ``right`` aligns
    those columns to the right."""
    rows = [[printable(str(c)) for c in row] for row in rows]
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    lines = []
    for row in (headers, *rows):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        if len(headers) - 1 not in right:
            cells[-1] = str(row[-1])
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)
