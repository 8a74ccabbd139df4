"""Scan many files: every page ends read, blank, unidentified or rejected with a reason; one bad page
never stops the batch. Pages are read in worker processes and saved by this one, a page at a time.

The catalogue of templates is handed to each worker when it starts, so workers read with the same
templates and text packs whether they were forked or spawned.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import struct
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.pool import Pool
from pathlib import Path
from typing import NamedTuple, TypeVar

import cv2

from formkit.catalogue import Catalogue, shipped_catalogue
from formkit.cores import usable_cores
from formkit.records import InputFile, PageResult, PageState, ScanSummary, file_stamp, unopened_key
from formkit.store import UNREAD_STATES, Store

from .allocator import keep_freed_buffers
from .ingest import FILE_CHANGED, PageLoadError, describe, find_inputs, load_page
from .pipeline import read_image


class Job(NamedTuple):
    """One page to read: ``index`` of the file at ``path`` whose content hashed as ``sha``, and its size and
    modification time then (``ingest.file_stamp``; the time ``None``: the size alone is checked; no stamp: a copy
    of this process's own, not to be checked)."""

    path: str
    sha: str
    index: int
    stamp: tuple[int, int | None] | None = None


# Workers are replaced now and then, so memory stays flat over any number of pages; not often, as a new
# worker lays out its form and loads Tesseract and the digit networks again (0.4 s before its first filled
# page, docs/benchmarks.md#throughput), and one process reading 1,000 filled A4 pages peaked at 153 MB
# after the first and 169 MB after the last (measured 2026-12-02). Describing 8 files is a task too.
RECYCLE_AFTER_PAGES = 1000
DESCRIBE_CHUNK = 8

_worker_catalogue: Catalogue | None = None  # set in each worker by _start_worker
_started: Connection | None = None  # in a worker: where it says on which item it begins (``in_order``)
_BEGUN = struct.Struct("qqq")  # call, item index, worker's pid

# A worker that dies (killed by the system for memory, a crash in a library) takes its page with it, and the
# pool waits for that page for ever: the batch hung (2026-12). So the items are followed: which worker began
# each, and, while one is awaited, whether that worker still lives.
POLL_S = 1.0
LOST_AFTER_S = 3.0  # a worker gone with its item unanswered: its answer may still be on its way this long
# A page that keeps a worker busy this long (CPU seconds) ends that worker, and the page is lost as above: a
# 97 kB PDF whose page draws 2 million lines rendered for ever, the batch stalled behind it with nothing saved
# and never finished when run again (an adversarial pass, 2026-12-07; pdfium cannot be interrupted from Python,
# so the kernel ends the process). A page of a 600 dpi scan takes under 2 s.
ITEM_CPU_LIMIT_S = 120
FILE_GONE = "the file is gone or cannot be opened"  # since it was hashed: the page, not its content, was not read
STOPPED = ("the process reading it stopped before it finished (two minutes of work on one page, or killed for "
           "lack of memory?): the rest went on; check the file, or read it again with --jobs 1")
T = TypeVar("T")
R = TypeVar("R")


def read_job(job: Job, catalogue: Catalogue | None = None) -> list[PageResult]:
    """Load and read one page of a file: the form pages in it (several when cards lie side by side).
    Any failure becomes one rejected page with its reason."""
    result = PageResult(job.path, job.index + 1, job.sha, PageState.REJECTED)
    try:
        # a file written over while a batch reads it would mix two files' pages under one hash
        _check_unchanged(job)
        grey, _ = load_page(Path(job.path), job.index)
        _check_unchanged(job)
        return read_image(grey, result, catalogue or worker_catalogue())
    except PageLoadError as exc:
        result.reason = str(exc)
    except MemoryError:
        result.reason = "not enough memory to read this page"
    except Exception as exc:  # a bug must not stop the batch; the page says what happened
        result.reason = f"internal error while reading ({type(exc).__name__}: {exc})"
        result.quality = {"traceback": traceback.format_exc(limit=5)}
    return [result]


def scan(paths: list[str | Path], store: Store, jobs: int | None = None,
         progress: Callable[[int], None] | None = None, planned: Callable[[int], None] | None = None,
         catalogue: Catalogue | None = None, start_method: str = "fork", unread_again: bool = True) -> ScanSummary:
    """Read every page under ``paths`` into ``store`` with the templates of ``catalogue`` (the shipped
    ones when ``None``); ``planned`` is told how many pages will be read, ``progress`` is called once per
    page read. ``start_method`` is how worker processes start ('fork' or 'spawn'). Pages stored unidentified
    or rejected are read again unless ``unread_again`` is false (``plan``)."""
    catalogue = catalogue or shipped_catalogue()
    summary = ScanSummary()
    files, summary.missing, summary.ignored, summary.unreadable = find_inputs(
        paths, None if store.postgres else Path(store.path))
    # eight files a task, as workers are replaced after so many tasks (``RECYCLE_AFTER_PAGES``)
    chunks = [files[start:start + DESCRIBE_CHUNK] for start in range(0, len(files), DESCRIBE_CHUNK)]
    # fewer files than workers (a scanner's stack in one PDF, say): described here, and the workers started for
    # their pages; a pool sized by the files read a 1,020-page PDF on one core (an adversarial pass)
    few = len(files) < _workers(jobs)
    described = [info for chunk in chunks for info in _describe_all(chunk)] if few else []
    with worker_pool(jobs, sum(info.pages for info in described) if few else len(files), catalogue,
                     start_method) as pool:
        if not few:
            described = [info for chunk in (in_order(pool, _describe_all, chunks, _unopened_all) if pool else
                                            map(_describe_all, chunks)) for info in chunk]
        work, input_ids = plan(described, store, summary, unread_again)
        if planned:
            planned(len(work))
        # saved in the order of the files, whichever worker finishes first: of two images of one printed
        # page, the first file is the one read and the second the conflict, the same in every run
        results = in_order(pool, read_job, work, _stopped) if pool else (read_job(job, catalogue) for job in work)
        for found in results:
            save_readings(store, input_ids, found, summary)
            if progress:
                progress(1)
    return summary


def in_order(pool: Pool, function: Callable[[T], R], items: Sequence[T], lost: Callable[[T], R]) -> Iterator[R]:
    """``function`` of each of ``items`` in ``pool``'s workers (started by ``worker_pool``), in the order of
    ``items``; ``lost(item)`` for an item whose worker died before it answered."""
    call = next(_calls)  # the workers' word on an item is of this call's items, not an earlier one's
    pending = [pool.apply_async(_begin, (function, call, index, item)) for index, item in enumerate(items)]
    try:
        for index, (item, result) in enumerate(zip(items, pending, strict=True)):
            while True:
                try:
                    answer = result.get(timeout=POLL_S)
                    break
                except multiprocessing.TimeoutError:
                    worker = _began.get((call, index))
                    if worker is not None and not _alive(worker):
                        try:
                            answer = result.get(timeout=LOST_AFTER_S)
                        except multiprocessing.TimeoutError:
                            answer = lost(item)
                        break
            yield answer
    finally:
        for index in range(len(items)):
            _began.pop((call, index), None)


def _begin(function: Callable[[T], R], call: int, index: int, item: T) -> R:
    if _started is not None:
        say_begun(_started, call, index)
    # SIGVTALRM's default action (``_start_worker``) ends the process wherever it is, in a library's C code too
    signal.setitimer(signal.ITIMER_VIRTUAL, ITEM_CPU_LIMIT_S)
    try:
        return function(item)
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)


def say_begun(channel: Connection, call: int, index: int) -> None:
    """Tell ``_note_beginnings`` that this process begins item ``index`` of ``call``: one write of 28 bytes,
    whole or not at all (a pipe's writes up to PIPE_BUF, at least 512 bytes, are), under no lock."""
    channel.send_bytes(_BEGUN.pack(call, index, os.getpid()))


def _note_beginnings(started: Connection) -> None:
    """In this process, while a pool lives: each item's worker as the workers tell it (``say_begun``), read as
    it comes, until a call of -1 (``worker_pool``)."""
    while True:
        call, index, pid = _BEGUN.unpack(started.recv_bytes())
        if call < 0:
            return
        _began[(call, index)] = pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _stopped(job: Job) -> list[PageResult]:
    return [PageResult(job.path, job.index + 1, job.sha, PageState.REJECTED, STOPPED)]


def _describe_all(paths: list[Path]) -> list[InputFile]:
    return [describe(path) for path in paths]


def _unopened_all(paths: list[Path]) -> list[InputFile]:
    return [InputFile(str(path), unopened_key(str(path)), 0, 0, f"cannot open the file: {STOPPED}") for path in paths]


def plan(described: list[InputFile], store: Store, summary: ScanSummary, unread_again: bool = True
         ) -> tuple[list[Job], dict[str, int]]:
    """The pages to read of the files ``described`` (``ingest.describe``), each input recorded in ``store``
    (its id by content hash). The same content under several names is read once, under the name the store
    already knows it by when it does (a copy added later is the one reported), else the first in name order.
    Pages stored unidentified or rejected are read again (the templates, text packs or model may have changed
    since), unless ``unread_again`` is false: ``formkit watch`` reads each file once, not on every look."""
    work: list[Job] = []
    input_ids: dict[str, int] = {}
    first_path: dict[str, str] = {}
    known = {info.sha256: store.input_path(info.sha256) for info in described}
    for info in sorted(described, key=lambda i: i.path != known[i.sha256]):
        if info.sha256 in first_path:
            summary.duplicates.append((info.path, first_path[info.sha256]))
            store.forget_unopened(info)  # a copy of a file read under another name: no input of its own
            continue
        first_path[info.sha256] = info.path
        input_ids[info.sha256] = _plan_input(store, info, summary, work, unread_again)
    return work, input_ids


def save_readings(store: Store, input_ids: dict[str, int], found: list[PageResult], summary: ScanSummary) -> None:
    """Save the pages one job read, each in its own transaction, and count them in ``summary``."""
    for result in found:
        state = store.save_page(input_ids[result.sha256], result.source_page - 1, result)
        if state is None:  # another scan of this store saved the page first
            summary.skipped_pages += 1
        else:
            result.status = state
            _count(summary, result)


def _plan_input(store: Store, info: InputFile, summary: ScanSummary, work: list[Job], unread_again: bool) -> int:
    """Record the input and queue its pages not yet read (``plan``); returns its id. A file that cannot be
    opened is stored as one rejected page with the reason."""
    input_id, stored = store.add_input(info)
    if info.error:
        if 0 in stored:
            summary.skipped_pages += 1
            return input_id
        rejected = PageResult(info.path, 1, info.sha256, PageState.REJECTED, info.error)
        if store.save_page(input_id, 0, rejected) is not None:
            _count(summary, rejected)
        return input_id
    for index in range(info.pages):
        if index in stored and (stored[index] not in UNREAD_STATES or not unread_again):
            summary.skipped_pages += 1
        else:
            work.append(Job(info.path, info.sha256, index, (info.size_bytes, info.modified_ns)))
    return input_id


def _check_unchanged(job: Job) -> None:
    """Refuse a page of a file written since it was hashed (``PageLoadError``)."""
    if job.stamp is None:
        return
    try:
        stamp = file_stamp(os.stat(job.path))
    except OSError as exc:
        raise PageLoadError(f"{FILE_GONE} ({exc.strerror or exc})") from exc
    size, modified_ns = job.stamp
    if stamp[0] != size or modified_ns is not None and stamp[1] != modified_ns:
        raise PageLoadError(FILE_CHANGED)


def worker_catalogue() -> Catalogue:
    """The catalogue this worker was started with (the shipped one outside a worker)."""
    return _worker_catalogue or shipped_catalogue()


def prepare_worker_process() -> None:
    """What a process that reads pages beside others needs: one compute thread (the workers already use
    every core) and the buffers a page frees kept for the next page (``allocator``)."""
    cv2.setNumThreads(1)
    keep_freed_buffers()


def _start_worker(catalogue: Catalogue, started: Connection | None = None) -> None:
    global _worker_catalogue, _started
    # a worker ends on SIGTERM as the pool expects when it ends its workers, whatever handler the command forked
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Ctrl+C reaches every process of the terminal's group: the command stops its workers itself. Interrupted in
    # the middle of sending a page back, a worker printed its traceback and could leave the pool waiting for the
    # rest of that page for ever (1 of 68 Ctrl+C in an adversarial pass, 2026-12-07)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGVTALRM, signal.SIG_DFL)  # the end of an item's CPU time (``ITEM_CPU_LIMIT_S``)
    _worker_catalogue, _started = catalogue, started
    prepare_worker_process()


_began: dict[tuple[int, int], int] = {}  # in this process: (call, item index) -> the worker that began it
_calls = itertools.count()


def _workers(jobs: int | None) -> int:
    """The workers ``jobs`` asks for: by default one per core this process may use, and never more (more
    would read no faster and each hold its own memory)."""
    cores = usable_cores()
    return min(jobs, cores) if jobs else cores


@contextlib.contextmanager
def worker_pool(jobs: int | None, items: int, catalogue: Catalogue, start_method: str = "fork"
                ) -> Iterator[Pool | None]:
    """A pool of worker processes (``jobs``, default all cores, at most one per item and one per core this
    process may use), each started with ``catalogue``; or ``None`` for one job, one core or one item: then all
    runs in this process. More jobs than usable cores make a smaller pool, a pool of one too: its worker's CPU
    limit (``ITEM_CPU_LIMIT_S``) and its own memory still keep a page that never ends from stopping the batch."""
    if min(jobs or os.cpu_count() or 1, items) <= 1:
        keep_freed_buffers()  # the pages are read in this process
        yield None
        return
    # OpenCV's thread pool, once started (the digit network starts it), hangs a forked child that uses
    # it; with one thread it is stopped here, before the fork, and the children use none.
    cv2.setNumThreads(1)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_THREAD_LIMIT"):
        os.environ.setdefault(variable, "1")  # spawned workers load their libraries with these
    workers = max(1, min(_workers(jobs), items))
    context = multiprocessing.get_context(start_method)
    # a pipe, not a queue: a queue's writers share a lock, and a worker ended while it held the lock (by the pool
    # as a stop ends it, just as the worker began a page; by the system) left every other writer waiting for it
    # for ever, this process too as it ended the pool (likely why a watch stopped by SIGTERM hung in CI on
    # 2026-12-07). A message this short is written whole in one write, or not at all, with no lock.
    heard, started = context.Pipe(duplex=False)
    listening = threading.Thread(target=_note_beginnings, args=(heard,), daemon=True)
    listening.start()
    try:
        with context.Pool(workers, _start_worker, (catalogue, started), maxtasksperchild=RECYCLE_AFTER_PAGES) as pool:
            yield pool
    finally:
        say_begun(started, -1, 0)
        listening.join(timeout=5)
        started.close()
        heard.close()


def _count(summary: ScanSummary, result: PageResult) -> None:
    summary.pages[result.status] += 1
    if result.status != PageState.READ and result.reason:
        summary.note_reason(result.reason, result.source_file)
    summary.values_to_review += sum(v.needs_review for v in result.values)
