"""Scanning: images, PDFs and folders into the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from formkit.errors import ExitCode
from formkit.records import ScanSummary, first_few, formkit_command

from . import pipeline
from .base import (
    db_option,
    jobs_option,
    main,
    progress_bar,
    reports_errors,
    say,
    templates_option,
    text_packs_option,
)

DUPLICATES_NAMED = 20  # files of the same content as another, each on a line of its own, before "and N more"


@main.command(short_help="Read images, PDFs and folders into the store; --reread reads its pages again.")
@click.argument("paths", nargs=-1)
@db_option
@jobs_option
@templates_option
@text_packs_option
@click.option("--reread", is_flag=True,
              help="Read the pages already in the store again with the current templates and model (after an "
                   "upgrade or a new text pack), keeping review decisions whose value is unchanged.")
@click.option("--form", help="With --reread: only the pages of this form.")
@click.option("--cluster", metavar="ADDRESS",
              help="Read the pages on a Dask distributed cluster, e.g. tcp://SCHEDULER:8786 (workers need formkit "
                   'installed; pip install "formkit[scale]"); each page is saved as it comes back.')
@click.option("--shared-paths", is_flag=True,
              help="With --cluster: the workers see the files at the same paths (shared storage), so they read "
                   "them there instead of being sent them.")
@reports_errors
def scan(paths: tuple[str, ...], db: Path, jobs: int | None, template_dirs: tuple[Path, ...],
         text_packs: tuple[Path, ...], reread: bool, form: str | None, cluster: str | None,
         shared_paths: bool) -> None:
    """Read every page of the images, PDFs and folders in PATHS into the store. With --reread, read the
    store's pages again (from their files when still there unchanged, else from the images it kept).
    With --cluster, the pages of PATHS are read on a Dask cluster (--reread still reads here, --jobs)."""
    from formkit.catalogue import Catalogue
    from formkit.store import Store

    if not paths and not reread:
        raise click.UsageError("give the files or folders to scan, or --reread")
    if form is not None and not reread:
        raise click.UsageError("--form goes with --reread")
    if cluster is not None and not cluster.strip():
        # an unset variable in a script (--cluster "$SCHEDULER") read every page here, on one machine, unsaid
        raise click.UsageError("--cluster needs a Dask scheduler's address, e.g. tcp://10.0.0.5:8786; it was empty")
    if shared_paths and not cluster:
        raise click.UsageError("--shared-paths goes with --cluster")
    if cluster and not paths:
        raise click.UsageError("--cluster reads the files given; --reread alone reads here (with --jobs)")
    catalogue = Catalogue(template_dirs, text_packs)
    if not paths:
        _reread(db, catalogue, form, jobs)
        return
    if cluster:
        summary = _scan_on_cluster(paths, db, cluster, shared_paths, catalogue)
    else:
        store = Store(db)
        try:
            with progress_bar("Reading pages") as (planned, progress, _):
                summary = pipeline.scan_files(list(paths), store, jobs, catalogue, planned, progress)
        finally:
            store.close()
    _report(summary, db)
    if reread:
        _reread(db, catalogue, form, jobs)
    if summary.missing or summary.unreadable:
        sys.exit(ExitCode.INPUT)


def _scan_on_cluster(paths: tuple[str, ...], db: Path, address: str, shared_paths: bool, catalogue: Any) -> Any:
    """``scan --cluster``: the pages read on the Dask cluster at ``address`` (reached before the store is
    opened or made), each saved as it comes back."""
    from formkit.store import Store

    client = pipeline.connect_cluster(address)
    try:
        store = Store(db)
        try:
            with progress_bar("Reading pages on the cluster") as (planned, progress, _):
                return pipeline.scan_on_cluster(list(paths), store, client, shared_paths, catalogue, planned,
                                                progress)
        finally:
            store.close()
    finally:
        client.close()


def _report(summary: Any, db: Path) -> None:
    """What a scan read, in a few lines."""
    for missing in summary.missing:
        say(f"formkit: warning: {missing}: no such file or folder", err=True)
    for folder, why in summary.unreadable:
        say(f"formkit: warning: {folder}: cannot be read ({why}): its files were not read", err=True)
    files = [p for p in summary.ignored if p.is_file()]
    for left, why in ((files, "neither images nor PDFs"),
                      ([p for p in summary.ignored if p not in files], "not files (a link to nothing, a pipe)")):
        if left:
            say(f"formkit: note: not read, as {why}: {first_few([str(p) for p in left])}", err=True)
    # each named, up to a screenful: a folder of 2,000 copies printed 2,000 such lines (an adversarial pass)
    for duplicate, first in summary.duplicates[:DUPLICATES_NAMED]:
        say(f"{duplicate}: the same content as {first}: read once")
    if len(summary.duplicates) > DUPLICATES_NAMED:
        say(f"... and {len(summary.duplicates) - DUPLICATES_NAMED} more files with the same content as another "
            "file given: read once")
    for line in summary_lines(summary, db):
        say(line)


def summary_lines(summary: ScanSummary, db: Path) -> list[str]:
    """The pages of a scan (or a watch) by how they ended; each reason a page was not read, with the files it
    came from where the summary kept them; where to see every such page."""
    pages = summary.pages
    lines = [f"Pages read: {pages['read']}, with {summary.values_to_review} value(s) to review; "
             f"conflicts: {pages['conflict']}; blank: {pages['blank']}; unidentified: {pages['unidentified']}; "
             f"rejected: {pages['rejected']}; already in the store: {summary.skipped_pages}"]
    for reason, count in summary.reasons.most_common():
        named = first_few(summary.reason_files.get(reason, []), counted=False)
        lines.append(f"  {count:5d} x {reason}" + (f"  [{named}]" if named else ""))
    unread = [formkit_command("status", "--db", db, "--state", state)
              for state in ("rejected", "unidentified") if pages[state]]
    if unread:
        lines.append("Every such page: " + "; ".join(unread))
    lines.append(f"Store: {db}")
    return lines


def _reread(db: Path, catalogue: Any, form: str | None, jobs: int | None) -> None:
    """``scan --reread``: every page of the store read again, a transaction a page; a summary."""
    from formkit.store import Store

    store = Store(db, existing=True)
    try:
        with progress_bar("Reading stored pages again") as (planned, progress, _):
            summary = pipeline.reread(store, catalogue, form, jobs, planned, progress)
    finally:
        store.close()
    click.echo(f"Pages read again: {summary.pages}; values changed: {summary.changed}; review decisions kept: "
               f"{summary.kept}; reviewed values flagged again (the reading changed): {summary.flagged_again}")
    if summary.identified or summary.unchanged_unread:
        now_read = ", ".join(f"{state} {n}" for state, n in sorted(summary.identified.items()))
        click.echo(f"Unidentified or rejected pages: {summary.unchanged_unread} still are"
                   + (f"; now {now_read}" if now_read else ""))
    if summary.skipped:
        click.echo(f"Changed by someone else meanwhile, left as they are: {summary.skipped}")
    if summary.failed:
        click.echo(f"Could not be read again (their old reading is kept): {sum(summary.failed.values())}")
        for reason, count in summary.failed.most_common():
            click.echo(f"  {count:5d} x {reason}")
    click.echo(f"Store: {db}")
