"""The ``formkit`` command group, how every command reports errors, and the options several share."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sqlite3
import stat
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any

import click

from formkit.database import is_database_url
from formkit.errors import ExitCode, FormkitError, InputError, OutputError
from formkit.records import FILES_NAMED
from formkit.template.schema import PAGE_SIZES_MM

HELP_OPTIONS = ["-h", "--help"]


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``FormkitError`` into one line on stderr and its exit code."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            with _terminated_as_stopped():
                return command(*args, **kwargs)
        except FormkitError as exc:
            say(f"formkit: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # locked, no room (said where they happen), or a bug's own
                raise  # (an IntegrityError, a ProgrammingError: formkit's, never cured by restoring a backup)
            # a store damaged past what opening it checks (a page of its file overwritten): whatever the command
            # was doing is rolled back, and no command can go on with it
            where = f"{kwargs['db']}: " if kwargs.get("db") else ""
            say(f"formkit: error: {where}the store is damaged ({exc}); restore it from a backup", err=True)
            sys.exit(ExitCode.STORE)
        except KeyboardInterrupt:  # not exit 1, which says a bug
            click.echo("\nformkit: stopped (Ctrl+C); what was saved is kept: run the command again to go on",
                       err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Terminated:
            click.echo("\nformkit: stopped (terminated); what was saved is kept: run the command again to go on",
                       err=True)
            sys.exit(ExitCode.TERMINATED)
        except BrokenPipeError:  # the reader went away (status | head): no traceback, and nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(ExitCode.BROKEN_PIPE)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG and exc.filename is not None:  # a path given: no file can have it
                name = printable(os.fsdecode(exc.filename))
                say(f"formkit: error: {name if len(name) <= 80 else name[:79] + '…'}: {exc.strerror}", err=True)
                sys.exit(ExitCode.INPUT)
            if exc.filename is not None or exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # the command's own lines could not be written (> /dev/full): what it did stands, files included
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            click.echo(f"formkit: error: cannot write the command's output ({os.strerror(exc.errno)})", err=True)
            sys.exit(ExitCode.OUTPUT)

    return run


class Terminated(BaseException):
    """SIGTERM reached the command (a timeout, a shutdown, 'docker stop'). Not an ``Exception``, as
    KeyboardInterrupt is not: the reading of one page catches every ``Exception`` as that page's failure."""


@contextlib.contextmanager
def _terminated_as_stopped() -> Iterator[None]:
    """SIGTERM stops the command as Ctrl+C does: the page in hand is not saved, what was saved is kept, and it
    says so (exit 143), instead of dying with worker tracebacks. Worker processes forked meanwhile inherit the
    handler: in them it ends the process as SIGTERM does, so a pool can still end its workers."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    owner = os.getpid()

    def on_terminate(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Group(click.Group):
    """The command group: ``-h`` works as ``--help`` on every command, and the list of commands shows each
    one's ``short_help``, or else its whole first sentence (wrapped), never one cut off in the middle."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=Group, context_settings={"help_option_names": HELP_OPTIONS})
@click.version_option(package_name="formkit")
def main() -> None:
    """Print paper forms, read them back from scans and photos, export results."""
    # Pillow warns of what it meets in a damaged file ("Corrupt EXIF data") with a line of its own source: the
    # page is rejected with its reason all the same, and the warning told users nothing they could act on
    warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


template_argument = click.argument("template")
text_pack_option = click.option("--text-pack", type=click.Path(dir_okay=False, path_type=Path),
                                help="Wording for text-pack forms, supplied by your organisation.")
large_print_option = click.option("--large-print", is_flag=True, help="Larger text and boxes for low vision.")
page_size_option = click.option("--page-size", type=click.Choice(list(PAGE_SIZES_MM)),
                                help="Print on another page size than the template's.")


class StoreLocation(click.ParamType):
    """``--db``: an SQLite file (a ``Path``), or a PostgreSQL database as ``postgresql://user@host/db`` (a
    ``DatabaseURL``; the ``scale`` extra)."""

    name = "FILE|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from formkit.database import DatabaseURL, is_database_url

        if is_database_url(value):
            return DatabaseURL(value)
        return click.Path(dir_okay=False, path_type=Path).convert(value, param, ctx)


db_option = click.option("--db", type=StoreLocation(), default=Path("formkit.sqlite"), show_default=True,
                         help="The store: an SQLite file, or a PostgreSQL database as postgresql://user@host/db "
                              '(needs pip install "formkit[scale]").')


def _jobs_within_cores(ctx: click.Context, param: click.Parameter, jobs: int | None) -> int | None:
    """``--jobs`` as given; more than the cores this process may use is said to be read with fewer."""
    from formkit.cores import usable_cores

    cores = usable_cores()
    if jobs is not None and jobs > cores:
        say(f"note: --jobs {jobs}, but formkit may use {cores} core(s) here: reading with {cores} worker "
            "process(es), as more would read no faster and each take its own memory", err=True)
    return jobs


jobs_option = click.option("--jobs", type=click.IntRange(1, 64), callback=_jobs_within_cores,
                           help="Worker processes (default and most: the cores formkit may use).")
templates_option = click.option("--templates", "template_dirs", multiple=True,
                                type=click.Path(file_okay=False, path_type=Path),
                                help="A folder of your own templates (may be repeated).")
text_packs_option = click.option("--text-pack", "text_packs", multiple=True,
                                 type=click.Path(dir_okay=False, path_type=Path),
                                 help="The text pack a form was printed with; it names its form (may be repeated).")
codes_option = click.option("--codes", "codes", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                            help="CSV mapping serials to person codes ('serial' and 'code' columns; the generate "
                                 "manifest). Repeat for several print runs. Other columns, names among them, are "
                                 "never read.")
bands_option = click.option("--bands", "bands", multiple=True, metavar="SCORE=SET",
                            help="Use another band set for a score, e.g. k10_total=likely-disorder (repeatable).")


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[tuple[Callable[[int], None], Callable[[int], None], Callable[[str], None]]]:
    """``(planned, progress, relabel)`` callbacks for a batch: a bar on stderr from the moment the batch says
    how many items it will read, advanced as each is done, named anew when its work changes (a long last
    step after the items), closed however the block ends."""
    bar: Any = None

    def planned(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label=label, file=sys.stderr)
        bar.__enter__()

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done)

    def relabel(text: str) -> None:
        if bar is not None:
            bar.label = text
            bar.render_progress()

    try:
        yield planned, progress, relabel
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def parse_bands(bands: tuple[str, ...]) -> dict[str, str]:
    """``--bands SCORE=SET`` options as {score: band set}; exit 5 on a malformed one."""
    chosen = {}
    for spec in bands:
        score, _, band_set = spec.partition("=")
        if not score.strip() or not band_set.strip():
            raise InputError(f"--bands {spec}: write SCORE=SET, e.g. k10_total=likely-disorder")
        chosen[score.strip()] = band_set.strip()
    return chosen


def person_codes(codes: tuple[Path, ...]) -> dict[str, str] | None:
    """The ``--codes`` files read (``export.read_codes``: serial -> person code), or None without any; a
    missing file exits 5, and each serial formkit never prints (a typing slip) is warned about."""
    from formkit.export import read_codes

    if not codes:
        return None
    for path in codes:  # checked here, not by click (which exits 2), as every missing input file exits 5
        if not path.is_file():
            raise InputError(f"--codes {path}: no such file")
    found = read_codes(*codes)
    for typo in found.typos[:FILES_NAMED]:
        click.echo(f"formkit: warning: {typo}", err=True)
    if len(found.typos) > FILES_NAMED:
        click.echo(f"formkit: warning: and {len(found.typos) - FILES_NAMED} more such serial(s)", err=True)
    return found


def read_inputs(db: Any, codes: tuple[Path, ...], text_packs: tuple[Path, ...]) -> dict[Path, str]:
    """The files a report or an export reads, which its output must never replace: the store (when it is a file, not a
    PostgreSQL database), the codes files and the text packs (templates are folders, never an output)."""
    inputs = {} if is_database_url(db) else {Path(db): "store"}
    inputs.update({path: "codes file" for path in codes})
    inputs.update({path: "text pack" for path in text_packs})
    return inputs


def missing_wording(template: Any, text_pack: Path | str | None) -> str:
    """Why some of ``template``'s wording would show as placeholders such as [key], in words, or '' where
    none would: a form whose wording comes from a text pack, given none (``text_pack`` None), or a pack
    without some of the keys the form prints. What printing refuses and a REDCap dictionary warns of."""
    from formkit.template.check import listing

    if text_pack is None and (template.placeholders or template.licence == "text-pack"):
        return "its wording comes from a text pack, and none was given"
    if template.placeholders:
        return f"the text pack has no wording for key(s) {listing(list(template.placeholders))}"
    return ""


def printable(text: str) -> str:
    """``text`` with control characters as escapes (a file name holding a carriage return wrote over its own
    line, one holding a newline split it)."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def say(line: str, err: bool = False) -> None:
    """``click.echo`` of one line that stays one line, whatever file names it holds (``printable``)."""
    click.echo(printable(line), err=err)


def refuse_to_replace_what_is_no_pdf(out: Path) -> None:
    """A PDF printed before is replaced; any other file at ``out`` (a store given as --out by a slip: every
    page read and the audit log gone) is refused before anything is drawn."""
    try:
        if not stat.S_ISREG(out.lstat().st_mode):
            return  # a link, a device, a pipe (never opened here: a pipe would wait): the writing refuses it
        with out.open("rb") as existing:
            start = existing.read(5)
    except OSError:
        return  # none there, or cannot be read: writing it will say why
    if start and start != b"%PDF-":  # an empty file (made by mktemp, say) holds nothing to lose
        raise OutputError(f"{out}: already exists and is not a PDF (a formkit store, a manifest?): nothing was "
                          "written; give --out another name")
