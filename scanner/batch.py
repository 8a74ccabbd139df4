"""Scan many files: every page ends read, blank, unidentified or rejected with a reason; one bad page
never stops the batch. Pages are read in worker processes and saved by this one, a page at a time."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import InputFile, PageLoadError, describe, find_inputs, load_page
from .pipeline import read_page
from .results import REJECTED, PageResult
from .store import Store

Job = tuple[str, str, int]  # path, sha256, page index


@dataclass
class Summary:
    pages: Counter = field(default_factory=Counter)  # by status
    reasons: Counter = field(default_factory=Counter)  # rejected / unidentified reasons
    values_to_review: int = 0
    skipped_pages: int = 0  # already in the store
    missing: list[str] = field(default_factory=list)


def read_job(job: Job) -> PageResult:
    """Load and read one page; any failure becomes a rejected page with its reason."""
    path, sha, index = job
    result = PageResult(path, index + 1, sha, REJECTED)
    try:
        grey, _ = load_page(Path(path), index)
        return read_page(grey, result)
    except PageLoadError as exc:
        result.reason = str(exc)
    except MemoryError:
        result.reason = "not enough memory to read this page"
    except Exception as exc:  # a bug must not stop the batch; the page says what happened
        result.reason = f"internal error while reading ({type(exc).__name__}: {exc})"
        result.quality = {"traceback": traceback.format_exc(limit=5)}
    return result


def scan(paths: list[str | Path], store: Store, jobs: int | None = None,
         progress: Callable[[int], None] | None = None, planned: Callable[[int], None] | None = None) -> Summary:
    """Read every page under ``paths`` into ``store``; ``planned`` is told how many pages will be read,
    ``progress`` is called once per page read."""
    summary = Summary()
    files, summary.missing = find_inputs(paths)
    work: list[tuple[Job, int]] = []
    with _pool(jobs, len(files)) as pool:
        described = list(pool.imap(describe, files, chunksize=8)) if pool else [describe(f) for f in files]
        for info in described:
            _plan_input(store, info, summary, work)
        if planned:
            planned(len(work))
        input_of = {job: input_id for job, input_id in work}
        results = pool.imap_unordered(read_job, [job for job, _ in work], chunksize=1) if pool \
            else map(read_job, [job for job, _ in work])
        for result in results:
            job = (result.source_file, result.sha256, result.source_page - 1)
            result.status = store.save_page(input_of[job], job[2], result)
            _count(summary, result)
            if progress:
                progress(1)
    return summary


def _plan_input(store: Store, info: InputFile, summary: Summary, work: list[tuple[Job, int]]) -> None:
    """Record the input; queue its pages not yet in the store. A file that cannot be opened is stored
    as one rejected page with the reason."""
    input_id, done = store.add_input(info)
    if info.error:
        if 0 in done:
            summary.skipped_pages += 1
            return
        rejected = PageResult(info.path, 1, info.sha256, REJECTED, info.error)
        store.save_page(input_id, 0, rejected)
        _count(summary, rejected)
        return
    for index in range(info.pages):
        if index in done:
            summary.skipped_pages += 1
        else:
            work.append(((info.path, info.sha256, index), input_id))


@contextlib.contextmanager
def _pool(jobs: int | None, files: int):  # noqa: ANN202
    """A pool of worker processes, or ``None`` for one job (or one file): then all runs in this process."""
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or files == 0:
        yield None
        return
    # Workers are recycled now and then, so memory stays flat over thousands of pages.
    with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=200) as pool:
        yield pool


def _count(summary: Summary, result: PageResult) -> None:
    summary.pages[result.status] += 1
    if result.status != "read" and result.reason:
        summary.reasons[result.reason] += 1
    summary.values_to_review += sum(v.needs_review for v in result.values)
