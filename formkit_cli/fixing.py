"""Fixing mistakes: a file scanned by mistake (void, and restore), a page read as the wrong form page (assign).

Both are audited under ``--by`` (your login name unless given), in one transaction each."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import click

from formkit.errors import InputError
from formkit.records import file_sha256, formkit_command, unopened_key

from . import pipeline
from .base import db_option, main, reports_errors, templates_option, text_packs_option


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a user entry)
        return "formkit"


def _someone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():  # an audit entry by no one says nothing
        raise click.BadParameter("give a name for the audit log (or leave --by out: your login name)")
    return value.strip()


by_option = click.option("--by", default=_login, show_default="your login name", callback=_someone,
                         help="Who is doing this, for the audit log.")

PAGE_ID_MAX = 2**63 - 1  # the store's ids are 64-bit: a larger number is no page (not a traceback)


@main.command(short_help="Take a file scanned by mistake, or a page, out of exports and review (--undo restores).")
@db_option
@click.option("--input", "input_name", metavar="FILE_OR_SHA",
              help="Every page of this input: the file (by its content), its path as scanned, or its SHA-256 "
                   "(or its first 8 or more hex digits).")
@click.option("--page", "page_id", type=click.IntRange(1, PAGE_ID_MAX),
              help="One page, by the id 'formkit status' shows.")
@click.option("--why", help="Why, kept in the audit log (needed to void).")
@click.option("--undo", is_flag=True, help="Restore voided pages as they were.")
@by_option
@reports_errors
def void(db: Path, input_name: str | None, page_id: int | None, why: str | None, undo: bool, by: str) -> None:
    """Take an input (all its pages) or a page out of every export and review queue, e.g. a file scanned
    by mistake. Nothing is deleted: the pages stay in the store, and --undo restores them as they were.
    A page read that is voided gives its place to another image of the same page, if there is one."""
    from formkit.review import queue as decisions
    from formkit.store import Store

    if (input_name is None) == (page_id is None):
        raise click.UsageError("give --input FILE_OR_SHA or --page ID (one of them)")
    why = " ".join((why or "").split())
    if not undo and not why:
        raise click.UsageError("say --why (it is kept in the audit log)")
    store = Store(db, existing=True)
    try:
        page_ids, what = _pages_named(store, input_name, page_id)
        changes = decisions.restore(store, page_ids, by) if undo else decisions.void(store, page_ids, why, by)
        if not changes:
            click.echo(f"Nothing changed: {what} has no voided page." if undo else
                       f"Nothing changed: {what} is voided already.")
            return
        click.echo(f"{'Restored' if undo else 'Voided'}: {what}")
        for change in changes:
            row = store.page(change.page_id)
            click.echo(f"  page id {change.page_id} ({_where(row)}): {change.old} -> {change.new}")
        if not undo:
            target = ("--input", input_name) if input_name is not None else ("--page", page_id)
            click.echo(f"To restore: {formkit_command('void', '--undo', '--db', db, *target)}")
    finally:
        store.close()


def _pages_named(store: Any, input_name: str | None, page_id: int | None) -> tuple[list[int], str]:
    """The page ids ``--input`` or ``--page`` name, and how to name them in a message."""
    from formkit.review import queue as decisions

    if page_id is not None:
        if store.page(page_id) is None:
            raise InputError(f"no page with id {page_id} in the store ('formkit status' lists them)")
        return [page_id], f"page id {page_id}"
    assert input_name is not None
    content = None
    if Path(input_name).is_file():
        try:
            content = file_sha256(Path(input_name))
        except OSError as exc:
            raise InputError(f"{input_name}: cannot read it ({exc.strerror or exc})") from exc
    found = decisions.find_input(store, input_name, content)
    if not found:
        digits = input_name.strip().lower()
        if len(digits) < decisions.SHA_PREFIX and decisions.is_hex(digits):
            raise InputError(f"{input_name}: no such input in the store; to name one by its SHA-256, give its first "
                             f"{decisions.SHA_PREFIX} or more hex digits")
        raise InputError(f"{input_name}: no such input in the store (give the file, its path as scanned, or its "
                         "SHA-256)")
    if content is not None and any(i["sha256"] not in (content, unopened_key(i["path"])) for i in found):
        raise InputError(_other_content(input_name, found))
    if len(found) > 1:
        listing = "; ".join(f"{i['path']} ({i['sha256'][:12]})" for i in found)
        raise InputError(f"{input_name}: names {len(found)} inputs ({listing}); give more of the SHA-256")
    [chosen] = found
    return store.input_page_ids(chosen["id"]), f"{chosen['path']} ({chosen['pages']} page(s), " \
                                               f"SHA-256 {chosen['sha256'][:12]}…)"


def _other_content(input_name: str, found: list[dict[str, Any]]) -> str:
    """Why ``--input`` naming a file whose content the store does not hold is refused, though an input of
    the same path is there (``found``): that input is what the file held when it was scanned, before it was
    written over (a scanner reusing scan0001.pdf), or another file of that name; voiding it in the file's
    name took real pages out of every export without a word (an adversarial pass, 2026-12-07)."""
    held = "; ".join(f"{i['path']}: {i['pages']} page(s), SHA-256 {i['sha256'][:12]}" for i in found)
    return (f"{input_name}: this file's content is not in the store (not scanned yet?), but the store holds "
            f"other content read under that name ({held}): the file was written over since, or is another "
            "file of that name. To name what the store holds, give --input its SHA-256 (12 digits will do)")


def _where(row: Any) -> str:
    from formkit.review.queue import describe_page

    where = f"{row['path']} page {row['page_index'] + 1}"
    return f"{where}, {describe_page(row)}" if row["form"] else where


@main.command(short_help="Say which form page a page is: an unidentified page, or one read as the wrong one.")
@db_option
@click.option("--page", "page_id", type=click.IntRange(1, PAGE_ID_MAX), required=True,
              help="The page, by the id 'formkit status' shows.")
@click.option("--form", "form_spec", metavar="FORM[:VERSION]",
              help="The form it is, e.g. k10 (the version it was read as, else the latest installed) or k10:1.")
@click.option("--page-no", type=click.IntRange(1, 999), help="Which page of the form it is.")
@click.option("--serial", help="The code printed under the QR, e.g. K7M3-QX9C (or K7M3QX9C).")
@click.option("--large-print/--normal-print", default=None,
              help="Printed in large print or not (default: as the page was read, else normal).")
@click.option("--undo", is_flag=True,
              help="Take back the assignment by hand that made the page what it is: it is again what it was.")
@templates_option
@text_packs_option
@by_option
@reports_errors
def assign(db: Path, page_id: int, form_spec: str | None, page_no: int | None, serial: str | None,
           large_print: bool | None, undo: bool, template_dirs: tuple[Path, ...], text_packs: tuple[Path, ...],
           by: str) -> None:
    """Say which form page a page is, and read it again as that page: an unidentified page, or one read as
    the wrong form, page or serial (--form, --page-no and --serial). A form whose printed boxes and lines
    clearly do not fit the page is refused. The old and new form, page and serial go to the audit log. A
    review decision is kept when its question is on the page again and read as when it was made (as --reread
    keeps one); the others are dropped, and come back by the same rule if the page is assigned back to the
    form page they were made on. The command says how many of each. With --undo, the page's assignment by
    hand is taken back, as the review page's "Take that back" does."""
    from formkit.catalogue import Catalogue
    from formkit.review import queue as decisions
    from formkit.store import Store

    named = {"--form": form_spec, "--page-no": page_no, "--serial": serial}
    # --large-print given with --undo was ignored without a word: the page is put back as it was printed
    if undo and (any(v is not None for v in named.values()) or large_print is not None):
        raise click.UsageError("--undo takes back the page's assignment: give --page alone")
    if not undo and (missing := [k for k, v in named.items() if v is None]):
        raise click.UsageError(f"say which page it is: {', '.join(missing)} missing (or --undo)")
    catalogue = Catalogue(template_dirs, text_packs)
    store = Store(db, existing=True)
    try:
        row = store.page(page_id)
        if row is None:
            raise InputError(f"no page with id {page_id} in the store ('formkit status' lists them)")
        if undo:
            _take_back(store, page_id, by, catalogue)
            return
        assert form_spec is not None and page_no is not None and serial is not None
        form, _, typed_version = form_spec.partition(":")
        if typed_version and not typed_version.isdecimal():
            raise click.BadParameter(f"'{form_spec}': write FORM or FORM:VERSION, e.g. k10:1", param_hint="--form")
        version = int(typed_version) if typed_version else None
        if version is None and row["form"] == form and \
                any(f == form and v == row["version"] for f, v, _ in catalogue.installed_forms()):
            version = row["version"]
        if large_print is None:
            large_print = row["variant"] == "L"
        payload = decisions.payload_for(catalogue, form, version, page_no, serial, large_print)
        if isinstance(payload, str):
            raise InputError(payload)
        before = _where(row) + f": {row['status']}"
        done = decisions.assign(store, page_id, payload, by, pipeline.reader(catalogue))
        if done.problem:
            raise InputError(f"page id {page_id}: {done.problem}")
        after = store.page(page_id)
        waiting = f"; {after['review']} value(s) to review" if after["review"] else ""
        click.echo(f"Page id {page_id} was {before}")
        click.echo(f"  now {decisions.describe_page(after)}: {after['status']}{waiting}"
                   + (f" ({after['reason']})" if after["reason"] else ""))
        click.echo(f"  {done.decisions()}")
    finally:
        store.close()


def _take_back(store: Any, page_id: int, by: str, catalogue: Any) -> None:
    """``assign --undo``: the page's standing assignment by hand taken back (``queue.unassign``), or why not."""
    from formkit.review import queue as decisions

    done = decisions.unassign(store, page_id, None, by, pipeline.reader(catalogue), catalogue)
    if done.problem:
        raise InputError(f"page id {page_id}: {done.problem}")
    click.echo(done.message())
