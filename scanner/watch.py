"""Watch a folder: find the files that are complete and new, and read them with the batch as they come.

A file is complete when its size and times have not changed for ``settle`` seconds, or at once when it
was renamed into place from a temporary name: a name that starts with '.', or ends with .part, .tmp or
.crdownload, or a file in a hidden folder, is never read. The folder is looked at every ``interval``
seconds (no inotify: it works the same on network shares). Each group of complete files is read by
``scanner.batch.scan``, so the store's guarantees hold: a file already stored is a no-op, and the pages of
a file cut short by a stop are read on the next run. A file whose copy paused for longer than ``settle`` is
read half-written, then again once it is whole: what the store holds of its half (the content the file now
begins with, read under its name) is then forgotten, and a line says so, but only if no page of the half was
read (a truncated image is rejected) and no one has worked on it (a person dealt with a page, or a reviewer's
claim is open): a reading someone has worked on is kept, and so is one with a page read, such as a PDF saved
again with an incremental update (the old file begins the new one). A file written over with other content
keeps both readings.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from formkit.catalogue import Catalogue
from formkit.errors import StoreError
from formkit.records import (
    FileReport,
    InputFile,
    PageResult,
    PageState,
    ScanSummary,
    file_sha256,
    file_stamp,
    unopened_key,
)
from formkit.store import Store, storable_path

from .batch import FILE_GONE, STOPPED, scan
from .ingest import FILE_CHANGED, find_inputs

TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload")
# What find_inputs's answer depends on in a folder without links: each folder's names and what each is (a
# folder, a regular file, something else), and where the folder really is. While these stay the same, a look
# takes its last answer again and only stats the files: a look at a folder of 40,000 scans took 2.0 s of CPU,
# each file's path resolved and parsed again. A link (its target, or what lies there, may change with nothing
# here changing) makes every look ask find_inputs again, as before.
Names = tuple[str, frozenset[tuple[str, frozenset[tuple[str, str]]]]]  # the root, really; each folder, its names
NAP_SECONDS = 0.1  # a wait between looks is cut into naps this long, so a stop is seen at once


def is_temporary(relative: Path) -> bool:
    """A file still being written under a temporary name (or in a hidden folder): never read as it is."""
    return (any(part.startswith(".") for part in relative.parts)
            or relative.name.lower().endswith(TEMPORARY_SUFFIXES))


@dataclass
class _Seen:
    signature: tuple[int, int, int]  # size, mtime, ctime (ns): any write, truncation or chmod changes it
    identity: tuple[int, int]  # device, inode
    since: float  # monotonic time this signature was first seen
    age: float  # seconds since the file last changed (its mtime or ctime) when first seen
    at_start: bool  # there at the first look
    looks: int = 1
    renamed: bool = False  # renamed into place from a temporary name
    changed: bool = False  # changed since it was first seen
    handed: bool = False  # given out to be read, with this signature


class Folder:
    """The files under ``root`` that ``formkit scan`` would read (``find_inputs``), each handed out once
    when it is complete, and again only when it changes.

    Complete means: seen unchanged on two looks, with ``settle`` seconds since it last changed (the time
    before the first look counts, by the file's mtime and ctime); or renamed into place from a temporary
    name (the same inode was a temporary file at the look before)."""

    def __init__(self, root: Path, settle: float, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.settle = settle
        self._clock, self._wall = clock, wall
        self._files: dict[Path, _Seen] = {}
        self._temporary: set[tuple[int, int]] = set()
        self._last_look: float | None = None  # the clock at the last look (None: no look yet)
        self.unreadable: list[tuple[str, str]] = []  # folders the last look could not list, and why
        self._unseen: set[Path] = set()  # files kept from earlier looks that the last one could not list
        self._listed: tuple[Names, list[tuple[Path, str]]] | None = None  # find_inputs's last answer, by Names

    def look(self) -> list[Path] | None:
        """The files complete now and not yet handed out, in name order; ``None`` when the folder is gone
        (a share unmounted): then nothing is forgotten, and the next look goes on from where it was."""
        if not self.root.is_dir():
            return None
        now, wall = self._clock(), self._wall()
        temporary = self._temporary_files()
        files = self._inputs()
        if files is None:  # gone since the check above
            return None
        present: dict[Path, os.stat_result] = {}
        for path, name in files:
            try:
                present[path] = os.stat(name)
            except OSError:  # gone since it was listed
                continue
        unlisted = [Path(folder) for folder, _ in self.unreadable]
        for path in set(self._files) - set(present):
            # under a folder that could not be listed (a share's network gone for a moment), not seen rather than
            # gone: forgotten, each of its files was read again once it could be, and said "already in the store"
            if not any(path.is_relative_to(folder) for folder in unlisted):
                del self._files[path]
        for path, stat in present.items():
            signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            identity = (stat.st_dev, stat.st_ino)
            seen = self._files.get(path)
            if seen is not None and seen.signature == signature and seen.identity == identity:
                seen.looks += 1
                continue
            age = max(0.0, wall - max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9)
            if self._last_look is not None:
                # new or changed since the last look, so unchanged since then at most, whatever its times say:
                # a share's clock minutes behind this one's made a file copied with pauses longer than a look's
                # interval (a scanner writing page by page) look settled, and read half-written
                age = min(age, now - self._last_look)
            renamed = identity in self._temporary and (seen is None or seen.identity != identity)
            at_start = seen.at_start if seen is not None else self._last_look is None
            self._files[path] = _Seen(signature, identity, now, age, at_start, renamed=renamed,
                                      changed=seen is not None)
        self._temporary = temporary
        self._last_look = now
        # a file kept while its folder cannot be listed is not handed out until it is seen again: handed out
        # unseen, it was said to be gone and never read once the share came back
        self._unseen = set(self._files) - set(present)
        return sorted(path for path, seen in self._files.items()
                      if path in present and not seen.handed and self._complete(seen, now))

    def _inputs(self) -> list[tuple[Path, str]] | None:
        """The files of find_inputs under the root that are not temporary, each with its path as text; None when
        the root is gone. Its last answer again while the folder's ``Names`` are the same: they are taken first,
        so that a change while find_inputs lists the folder makes the next look ask again."""
        names = self._names()
        if names is not None and self._listed is not None and self._listed[0] == names:
            self.unreadable = []  # an answer with a folder that could not be listed is never kept
            return self._listed[1]
        files, missing, _, self.unreadable = find_inputs([self.root])  # other files: no concern of ours
        if missing:
            return None
        kept = [(path, str(path)) for path in files if not is_temporary(path.relative_to(self.root))]
        self._listed = (names, kept) if names is not None and not self.unreadable else None
        return kept

    def _names(self) -> Names | None:
        """Every folder find_inputs walks, with its names and what each is; None where a link or a folder that
        cannot be listed is met (then find_inputs is asked, as it is the one to say which it is)."""
        folders, stack = [], [str(self.root)]
        while stack:
            folder = stack.pop()
            entries = []
            try:
                with os.scandir(folder) as listing:
                    for entry in listing:
                        if entry.is_symlink():
                            return None
                        kind = "d" if entry.is_dir(follow_symlinks=False) else \
                            "f" if entry.is_file(follow_symlinks=False) else "o"
                        entries.append((entry.name, kind))
                        if kind == "d" and not entry.name.startswith("."):  # find_inputs leaves hidden ones
                            stack.append(entry.path)
            except OSError:
                return None
            folders.append((folder, frozenset(entries)))
        return os.path.realpath(self.root), frozenset(folders)

    def _complete(self, seen: _Seen, now: float) -> bool:
        return seen.renamed or (seen.looks >= 2 and now - seen.since + seen.age >= self.settle)

    def _temporary_files(self) -> set[tuple[int, int]]:
        """Device and inode of every file under a temporary name: a file that shows up under a real name
        with one of them was renamed into place, so it is complete."""
        found: set[tuple[int, int]] = set()
        for folder, _, names in os.walk(self.root):
            hidden = any(part.startswith(".") for part in Path(folder).relative_to(self.root).parts)
            for name in names:  # is_temporary(relative / name), without making a path of each name
                if hidden or name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES):
                    try:
                        stat = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue
                    found.add((stat.st_dev, stat.st_ino))
        return found

    def hand_out(self, paths: list[Path]) -> None:
        """``paths`` were read as they were at the last look: not handed out again unless they change."""
        for path in paths:
            if path in self._files:
                self._files[path].handed = True

    def at_start(self, path: Path) -> bool:
        seen = self._files.get(path)
        return seen is not None and seen.at_start

    def waiting_from_start(self) -> tuple[list[Path], list[Path]]:
        """Files there at the first look and not read yet: (unchanged since, so still to be read once
        complete; changed since, so still being written)."""
        waiting = [p for p, s in sorted(self._files.items())
                   if s.at_start and not s.handed and p not in self._unseen]  # unseen: `--once` cannot read it
        return ([p for p in waiting if not self._files[p].changed], [p for p in waiting if self._files[p].changed])


class Stopped(Exception):
    """Raised between two pages when a stop was asked for: the page in hand is saved, the rest waits."""


class _ReportingStore(Store):
    """The store, telling the watch about each file and page as the batch saves it, and stopping the batch
    between two of them when asked. ``scanner.batch.scan`` adds each distinct file once (``add_input``),
    then saves its pages one by one (``save_page``)."""

    watch: Watch

    def add_input(self, info: InputFile) -> tuple[int, dict[int, PageState]]:
        self.watch.check_store()
        self.watch._forget_half_copy(info)  # first: the whole file's pages are then saved as if the half never was
        input_id, stored = super().add_input(info)
        stored = self._without_pages_missed(input_id, stored)
        self.watch._added(input_id, info, stored)
        return input_id, stored

    def _without_pages_missed(self, input_id: int, stored: dict[int, PageState]) -> dict[int, PageState]:
        """``stored`` but the pages rejected because the file went or changed while they were read: what they
        hold was never looked at, and here is that content again, so they are read (the watch reads no other
        page rejected again). A file renamed while the watch read it had its last pages rejected as gone, and
        under its new name was "already in the store": they were never read."""
        if PageState.REJECTED not in stored.values():
            return stored
        missed = set()
        for page_id in self.input_page_ids(input_id):
            row = self.page(page_id)
            if row is not None and row["status"] == PageState.REJECTED and (
                    row["reason"].startswith(FILE_GONE) or row["reason"] == FILE_CHANGED):
                missed.add(int(row["page_index"]))
        return {index: state for index, state in stored.items() if index not in missed}

    def save_page(self, input_id: int, page_index: int, result: PageResult) -> PageState | None:
        if result.reason == STOPPED and self.watch.stop_requested():
            # its worker was ended by the stop, not by the page: a SIGTERM to the whole process group (systemd
            # stopping the service) stored it rejected as "stopped before it finished", and the watch never
            # reads a rejected page again; left unsaved, it is read on the next run
            raise Stopped
        state = super().save_page(input_id, page_index, result)
        self.watch.check_store()  # after: a page saved into a store deleted meanwhile is not reported as read
        self.watch._saved(input_id, result, state)
        return state


class Watch:
    """Watch ``root`` and read its complete new files into the store at ``db`` until ``stop()`` says so,
    ``max_seconds`` have passed, or (``once``) the files there at the start are read. ``on_file`` is told
    how each file ended, as soon as its last page is saved; ``on_note`` gets warnings. ``totals`` adds up
    the run, whether it finished or was stopped. Opening the store may raise the store's errors."""

    def __init__(self, root: Path, db: Path, jobs: int | None = None, catalogue: Catalogue | None = None,
                 settle: float = 3.0, interval: float = 1.0, once: bool = False, max_seconds: float | None = None,
                 stop: Callable[[], bool] = lambda: False, on_file: Callable[[FileReport], None] = lambda r: None,
                 on_note: Callable[[str], None] = lambda text: None) -> None:
        self.root = Path(root)
        self.folder = Folder(self.root, settle)
        self.jobs, self.catalogue, self.interval, self.once = jobs, catalogue, interval, once
        self._deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        self._stop, self._on_file, self._on_note = stop, on_file, on_note
        self.totals = ScanSummary()
        self.files_read = 0  # files with at least one page stored in this run
        self.stopped = False  # by stop() or max_seconds, rather than done
        self._open: dict[int, tuple[FileReport, int]] = {}  # input id: report, pages left to save
        self._stored_before: dict[str, int] = {}  # files of this batch stored on an earlier run: their pages
        self.store = _ReportingStore(db)
        self.store.watch = self
        self._store_file = None
        if not self.store.postgres:
            with contextlib.suppress(OSError):  # not told: the check is left out, as on PostgreSQL
                self._store_file = _identity(Path(self.store.path))

    def close(self) -> None:
        self.store.close()

    def check_store(self) -> None:
        """Raise ``StoreError`` if the store's file was deleted, moved or replaced since the watch opened it:
        SQLite would go on writing to the file no longer there, every page read from then on lost while each
        line said it was read (an adversarial pass, 2026-12-07). The files stay in the folder: a watch started
        again reads those not in the store now at that path."""
        try:
            now = _identity(Path(self.store.path))
        except OSError:  # a share's moment of trouble (ESTALE, EIO): looked at again next time, not taken as gone
            return
        if self._store_file is not None and now != self._store_file:
            raise StoreError(f"{self.store.path}: the store was deleted, moved or replaced while the watch ran: "
                             "stopped, so that no page is saved where no one will find it. Start the watch again: "
                             "it reads the files not in the store at that path")

    def stop_requested(self) -> bool:
        return self._stop() or (self._deadline is not None and time.monotonic() >= self._deadline)

    def run(self) -> ScanSummary:
        """Watch until stopped (or, with ``once``, until the files there at the start are read)."""
        gone = False
        told: set[str] = set()  # folders that could not be listed, said once (until they can be again)
        while not self.stop_requested():
            self.check_store()
            ready = self.folder.look()
            for folder, why in self.folder.unreadable:
                if folder not in told:
                    self._on_note(f"{folder}: cannot be read ({why}): its files are not read")
            told = {folder for folder, _ in self.folder.unreadable}
            if ready is None:
                if not gone:
                    self._on_note(f"{self.root}: the folder is gone; waiting for it to come back")
                gone = True
                if self.once:
                    break
            else:
                if gone:
                    self._on_note(f"{self.root}: the folder is back")
                gone = False
                if self.once:
                    ready = [p for p in ready if self.folder.at_start(p)]
                if ready:
                    try:
                        self._read(ready)
                    except Stopped:
                        self.stopped = True
                        return self.totals
                    continue  # more may have come meanwhile: look again at once
                if self.once:
                    waiting, changing = self.folder.waiting_from_start()
                    if not waiting:
                        for path in changing:
                            self._report(FileReport(path, still_changing=True, at_start=True))
                        break
            self._nap(self.interval)
        self.stopped = self.stopped or self.stop_requested()
        return self.totals

    def _nap(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while not self.stop_requested() and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, NAP_SECONDS))

    def _read(self, paths: list[Path]) -> None:
        """Read ``paths`` with the batch; each file is reported as its last page is saved."""
        self._open, self._stored_before = {}, {}
        try:
            summary = scan(list(paths), self.store, self.jobs, catalogue=self.catalogue, unread_again=False)
        finally:  # stopped (or failed): the files cut short say how many of their pages wait
            for report, left in self._open.values():
                report.unfinished = left
                self._report(report)
            self._open = {}
        self.folder.hand_out(paths)
        for duplicate, first in summary.duplicates:
            at_start = self.folder.at_start(Path(duplicate))
            if first in self._stored_before:  # a copy of a file read on an earlier run: as that file is told
                self._report(FileReport(Path(duplicate), at_start=at_start, skipped_pages=self._stored_before[first]))
            else:
                self._report(FileReport(Path(duplicate), same_as=first, at_start=at_start))
        for missing in summary.missing:
            self._report(FileReport(Path(missing), gone=True))

    def _forget_half_copy(self, info: InputFile) -> None:
        """A file read while its copy was paused (for longer than ``settle``), and now read again whole: the
        reading of its half goes from the store (``Store.forget_half_copied``) if none of its pages was read (a
        truncated image, rejected) and no one has worked on it, and a line says so. A half with a page read (a
        PDF grown by an incremental update, a truncated JPEG that still decoded) or someone's work is kept, as
        is the reading of a file written over with other content."""
        if info.sha256 == unopened_key(info.path) or not info.size_bytes:
            return
        path = Path(info.path)
        if self.store.forget_half_copied(info.path, info.sha256, info.size_bytes,
                                         lambda size: _prefix_sha256(path, size, (info.size_bytes, info.modified_ns))):
            name = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            self._on_note(f"{storable_path(str(name))}: read again after it finished copying; "
                          "its half-copied reading dropped")

    def _added(self, input_id: int, info: InputFile, stored: dict[int, PageState]) -> None:
        path = Path(info.path)
        report = FileReport(path, at_start=self.folder.at_start(path))
        if info.error:  # one rejected page, unless it is stored already
            pages, to_read = 1, 0 if 0 in stored else 1
        else:  # the pages not stored (one stored unread stays so: `formkit scan` reads it again, not each look)
            pages = info.pages
            to_read = sum(1 for index in range(pages) if index not in stored)
        report.skipped_pages = pages - to_read
        if not to_read:
            self._stored_before[info.path] = pages
        if to_read:
            self._open[input_id] = (report, to_read)
        else:
            self._report(report)
        if self.stop_requested():
            raise Stopped

    def _saved(self, input_id: int, result: PageResult, state: PageState | None) -> None:
        if input_id not in self._open:
            return
        report, left = self._open[input_id]
        if state is None:  # another formkit saved this page first
            report.skipped_pages += 1
        else:
            report.pages[state] += 1
            if state != PageState.READ and result.reason:
                report.reasons[result.reason] += 1
            report.values_to_review += sum(v.needs_review for v in result.values)
        if left > 1:
            self._open[input_id] = (report, left - 1)
        else:
            del self._open[input_id]
            self._report(report)
        if self.stop_requested():
            raise Stopped

    def _report(self, report: FileReport) -> None:
        self.totals.pages.update(report.pages)
        for reason, pages in report.reasons.items():
            self.totals.note_reason(reason, str(report.path), pages)
        self.totals.values_to_review += report.values_to_review
        self.totals.skipped_pages += report.skipped_pages
        if report.same_as:
            self.totals.duplicates.append((str(report.path), report.same_as))
        if report.gone:
            self.totals.missing.append(str(report.path))
        self.files_read += report.stored > 0
        self._on_file(report)


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of the file at ``path`` (``None`` when there is none)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _prefix_sha256(path: Path, size: int, stamp: tuple[int, int]) -> str | None:
    """The SHA-256 of the first ``size`` bytes of ``path``, if it is still as it was hashed (``stamp``, its
    ``file_stamp`` then, as ``scanner.ingest.describe`` takes it); ``None`` if it changed since or cannot be read."""
    try:
        if size > stamp[0] or file_stamp(path.stat()) != stamp:
            return None
        digest = file_sha256(path, limit=size)
        if file_stamp(path.stat()) != stamp:  # written meanwhile
            return None
    except OSError:
        return None
    return digest
