"""Watching: read each new file in a folder (a network scanner's share) into the store once it is complete."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from formkit.errors import FormkitError, InputError
from formkit.records import FileReport

from . import pipeline
from .base import db_option, jobs_option, main, reports_errors, say, templates_option, text_packs_option
from .scanning import summary_lines

_watching = False  # set while the watch is running: its worker processes leave Ctrl+C to it
_fork_hook_registered = False


class Seconds(click.FloatRange):
    """A number of seconds in a range, and a number: 'nan' passes every comparison ``FloatRange`` makes, and
    --settle nan let no file settle (a --once run from cron never ended, reading nothing), --max-seconds nan
    never stopped."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


@main.command(name="watch", short_help="Read each new file in a folder into the store once it is complete.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@db_option
@jobs_option
@templates_option
@text_packs_option
@click.option("--settle", type=Seconds(0, 3600), default=3.0, show_default=True,
              help="Seconds a file's size and times must stay unchanged before it is read.")
@click.option("--interval", type=Seconds(0.05, 3600), default=1.0, show_default=True,
              help="Seconds between two looks at the folder.")
@click.option("--once", is_flag=True, help="Read the complete files there now, then exit (for cron).")
@click.option("--max-seconds", type=Seconds(0, min_open=True), help="Stop after this many seconds.")
@reports_errors
def watch_command(folder: Path, db: Path, jobs: int | None, template_dirs: tuple[Path, ...],
                  text_packs: tuple[Path, ...], settle: float, interval: float, once: bool,
                  max_seconds: float | None) -> None:
    """Read every new image or PDF under FOLDER into the store once it is complete (unchanged for --settle
    seconds, or renamed into place from a .part, .tmp, .crdownload or dot name). Files already there and
    not yet in the store are read first. Ctrl+C or SIGTERM: the page in hand is saved, then the totals are
    printed."""
    from formkit.catalogue import Catalogue

    if not folder.is_dir():  # a file is refused by click (exit 2)
        raise InputError(f"{folder}: no such folder")
    catalogue = Catalogue(template_dirs, text_packs)
    with _stop_on_signals() as stop:
        watcher = pipeline.watcher(folder, db, jobs, catalogue, settle, interval, once, max_seconds, stop,
                        on_file=lambda report: _print_file(report, folder),
                        on_note=lambda text: click.echo(f"formkit: warning: {text}", err=True))
        if once:
            click.echo(f"Reading the complete files in {folder} into {db}")
        else:
            click.echo(f"Watching {folder} (every {interval:g} s; a file is read once unchanged for {settle:g} s)."
                       " Ctrl+C to stop.")
        outcome = "Done"
        try:
            watcher.run()
            if watcher.stopped:
                outcome = "Stopped"
        except KeyboardInterrupt:  # a second Ctrl+C: stopped at once; a page cut short is read next time
            outcome = "Stopped at once"
        except FormkitError:
            outcome = "Stopped by an error"
            raise
        finally:
            watcher.close()
            _print_totals(watcher, outcome, db)


def _print_file(report: FileReport, folder: Path) -> None:
    """One line for a file, as its last page is saved; nothing for a file there at the start and read
    on an earlier run."""
    name = _shown(report.path, folder)
    if report.gone:
        say(f"{name}: gone before it was read")
    elif report.same_as:
        say(f"{name}: the same content as {_shown(Path(report.same_as), folder)}: read once")
    elif report.still_changing:
        say(f"{name}: still being written: left for the next run")
    elif not report.stored and not report.unfinished:
        if not report.at_start:
            say(f"{name}: already in the store ({report.skipped_pages} page(s))")
    else:
        pages = report.pages
        line = (f"{name}: read {pages['read']}, conflicts {pages['conflict']}, blank {pages['blank']}, "
                f"unidentified {pages['unidentified']}, rejected {pages['rejected']}; "
                f"{report.values_to_review} value(s) to review")
        if report.skipped_pages:
            line += f"; already in the store: {report.skipped_pages}"
        if report.unfinished:
            line += f"; stopped before {report.unfinished} page(s): read on the next run"
        if report.reasons:
            line += "  (" + "; ".join(report.reasons) + ")"
        say(line)


def _print_totals(watcher: Any, outcome: str, db: Path) -> None:
    say(f"{outcome}: {watcher.files_read} file(s) read.")
    for line in summary_lines(watcher.totals, db):
        say(line)


def _shown(path: Path, folder: Path) -> str:
    """A file's name under the folder, printable whatever its bytes (as the store keeps it)."""
    from formkit.store import storable_path

    with contextlib.suppress(ValueError):
        path = path.relative_to(folder)
    return storable_path(str(path))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Ctrl+C (SIGINT) or SIGTERM asks the watch to stop after the page in hand; a second one stops it at
    once (the store keeps whole pages only). Worker processes forked meanwhile ignore Ctrl+C, which a
    terminal sends to them too, and end on SIGTERM as usual, so the batch can end them."""
    global _watching, _fork_hook_registered
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield lambda: False
        return
    owner, asked = os.getpid(), [0]

    def on_signal(signum: int, frame: object) -> None:
        if os.getpid() != owner:  # a worker forked before the hook below could reset it
            return
        asked[0] += 1
        if asked[0] > 1:
            raise KeyboardInterrupt

    if not _fork_hook_registered:
        os.register_at_fork(after_in_child=_reset_signals_in_worker)
        _fork_hook_registered = True
    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    _watching = True
    try:
        yield lambda: asked[0] > 0
    finally:
        _watching = False
        for number, handler in previous.items():
            signal.signal(number, handler)


def _reset_signals_in_worker() -> None:
    if _watching:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
