"""Scan many files with the read step on a Dask distributed cluster (``formkit scan --cluster ADDRESS``).

This process finds, hashes and plans the files as ``scanner.batch`` does, and is still the only one that
writes to the store; each page is read by a task on the cluster (``read_job``, as in a local batch) and
saved, in its own transaction, as soon as its reading comes back. A killed client or a lost scheduler
leaves only whole pages saved, and running the same command again reads the rest. A lost worker's tasks
are run again elsewhere by Dask (the file's bytes sent again if they were lost with it); a page whose
tasks killed workers several times, or that failed on the cluster in any other way, is stored as
rejected with the reason, and so is read again on the next run.

The image files go to the workers as bytes, a few files at a time (a file is released once its pages are
read), unless ``shared_paths`` says the workers see the same paths (shared storage): then they read the
files themselves. Workers need formkit installed, and any ``--templates`` folder or text pack at the same
path as here.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from formkit.catalogue import Catalogue, shipped_catalogue
from formkit.database import require
from formkit.errors import InputError
from formkit.records import PageResult, PageState, ScanSummary
from formkit.store import Store

from .batch import Job, plan, prepare_worker_process, read_job, save_readings
from .ingest import FILE_CHANGED, PageLoadError, describe, find_inputs

IN_FLIGHT_PER_THREAD = 2  # pages handed to the cluster at once, per worker thread: enough to keep them busy
CONNECT_TIMEOUT = "20s"  # to reach the scheduler
WORKERS_WAIT_S = 30  # for a first worker, when the scheduler has none (workers may be starting with the scan)
# for a worker again when data is sent mid-scan and every worker is away (restarted after a loss): Dask's scatter
# waits as long as the client's timeout (30 s by default), and a worker restarted on a loaded machine took longer
# (the scan stopped, "lost the Dask cluster (TimeoutError: No valid workers found)": a flaky test, 2026-12-07)
WORKERS_BACK_S = 120
CACHED_FILES = 2  # files kept on a worker's disk, so several pages of one PDF are written there once
RESENDS = 3  # times a page is handed out again after its file's bytes were lost with a worker
WORKERS_LOST = (f"the workers reading this page were lost {RESENDS + 1} times (does it take more memory or time than a "
                "worker has?): the rest went on; the next run reads it again")
SHARED_FILE_DIFFERS = ("the worker's file at this path is not the file hashed here (written over since, or another "
                       "machine's file of the same name: is the share mounted alike on every worker?); scan it again")

_cache_lock = threading.Lock()
_cached: OrderedDict[str, Path] = OrderedDict()  # in a worker: content hash -> local copy


class ClusterError(InputError):
    """The cluster given by ``--cluster`` cannot be reached, or was lost (exit 5)."""


def read_shared(job: Job, catalogue: Catalogue) -> list[PageResult]:
    """On a worker: read one page of a file the worker sees at the same path (shared storage). Only the content
    the client hashed is read: the worker's file at that path may be another (another machine's mount, a copy
    not yet synced, a file written over with one of the same size), and was read and stored under the hashed
    file's content hash, its values as that page's (an adversarial pass, 2026-12-07)."""

    def content() -> bytes:
        try:
            return Path(job.path).read_bytes()
        except OSError as exc:
            raise PageLoadError(f"the file is gone or cannot be opened on the worker ({exc.strerror or exc})") \
                from exc

    return _read_copy(job, catalogue, content, SHARED_FILE_DIFFERS)


def read_sent(data: bytes, job: Job, catalogue: Catalogue) -> list[PageResult]:
    """On a worker: read one page of a file sent as ``data``; results name the file as the client does."""
    return _read_copy(job, catalogue, data, FILE_CHANGED)


def _read_copy(job: Job, catalogue: Catalogue, content: bytes | Callable[[], bytes], differs: str
               ) -> list[PageResult]:
    """Read one page of this worker's copy of the file whose content hashed as ``job.sha`` (``_local_copy``);
    ``differs``: the page's reason when ``content`` is not that content."""
    prepare_worker_process()  # one compute thread per task: the cluster's threads are its parallelism
    try:
        local = _local_copy(content, job.sha, Path(job.path).suffix.lower(), differs)
    except PageLoadError as exc:
        return [_rejected(job, str(exc))]
    results = read_job(Job(str(local), job.sha, job.index), catalogue)  # its own copy: no stamp to check
    for result in results:
        result.source_file = job.path
        result.reason = result.reason.replace(str(local), job.path)
    return results


def _local_copy(content: bytes | Callable[[], bytes], sha: str, suffix: str, differs: str = FILE_CHANGED) -> Path:
    """The file's content on this worker's disk (the loaders read files), kept for the next page of it;
    ``content`` is the bytes, or what reads them (not called when the copy is already here)."""
    with _cache_lock:
        if sha in _cached and _cached[sha].exists():
            _cached.move_to_end(sha)
            return _cached[sha]
        folder = Path(tempfile.gettempdir()) / f"formkit-worker-{os.getpid()}"
        if not folder.exists():
            folder.mkdir(mode=0o700)
            atexit.register(shutil.rmtree, folder, True)
        data = content() if callable(content) else content
        if hashlib.sha256(data).hexdigest() != sha:  # not the content the client hashed
            raise PageLoadError(differs)
        local = folder / f"{sha}{suffix}"
        partial = local.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(local)
        _cached[sha] = local
        while len(_cached) > CACHED_FILES:
            _, old = _cached.popitem(last=False)
            old.unlink(missing_ok=True)
        return local


def connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (e.g. tcp://10.0.0.5:8786)."""
    distributed = require("distributed", "--cluster")
    _check_address(address, distributed)
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"--cluster {address}: cannot reach the Dask scheduler ({exc})") from exc


def _check_address(address: str, distributed: Any) -> None:
    """Refuse an address Dask cannot connect to by its form (no scheme, an unknown one, no port), or a TLS one
    without TLS settings: the client made of one said so only after waiting 40 s more while it was thrown away,
    and printed a traceback (an adversarial pass, 2026-12-07)."""
    try:
        # HOST:PORT without a scheme is tcp, as Dask's client takes it
        scheme, location = distributed.comm.addressing.parse_address(address, strict=False)
        distributed.comm.registry.get_backend(scheme).get_address_host_port(location)
    except NotImplementedError:  # a scheme whose addresses Dask does not split (inproc, ucx): left to Dask
        return
    except ValueError as exc:
        raise ClusterError(f"--cluster {address}: not a Dask scheduler's address ({exc}); give one as "
                           "tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786") from exc
    if scheme in ("tls", "wss") and distributed.Security().get_connection_args("client").get("ssl_context") is None:
        # the client failed with a TypeError's traceback (exit 1)
        raise ClusterError(f"--cluster {address}: a {scheme}:// scheduler needs Dask's TLS settings for clients "
                           "(distributed.comm.tls.ca-file, .client.cert and .client.key in the Dask configuration)")


def scan(paths: list[str | Path], store: Store, cluster: str | Any, shared_paths: bool = False,
         progress: Callable[[int], None] | None = None, planned: Callable[[int], None] | None = None,
         catalogue: Catalogue | None = None) -> ScanSummary:
    """Read every page under ``paths`` into ``store`` on the Dask cluster ``cluster`` (a scheduler's address,
    or a ``distributed.Client``); as ``scanner.batch.scan``, with ``planned`` told how many pages will be
    read and ``progress`` called once per page saved."""
    distributed = require("distributed", "--cluster")
    catalogue = catalogue or shipped_catalogue()
    client = connect(cluster) if isinstance(cluster, str) else cluster
    try:
        with _client_logs_quiet():
            try:
                _wait_for_workers(client)
                summary = ScanSummary()
                files, summary.missing, summary.ignored, summary.unreadable = find_inputs(
                    paths, None if store.postgres else Path(store.path))
                work, input_ids = plan([describe(f) for f in files], store, summary)
                if planned:
                    planned(len(work))
                if work:
                    _read(client, distributed, work, input_ids, store, summary, shared_paths, catalogue, progress)
                return summary
            except ClusterError:
                # now, while quiet: closing a client that lost its scheduler logs it again (a caller's client too:
                # it has lost its cluster, and closed later it would say so with Dask's traceback)
                client.close()
                raise
    finally:
        if client is not cluster:
            client.close()


@contextlib.contextmanager
def _client_logs_quiet() -> Iterator[None]:
    """Dask's client logs a lost scheduler as an error with its traceback, thirty lines on the terminal before
    formkit's own message says what happened and what to do (exit 5): not while the scan runs."""
    logger = logging.getLogger("distributed.client")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _wait_for_workers(client: Any) -> None:
    """Return once the cluster has a worker; a scheduler without any (none started, or all gone) is said so (exit
    5), where it was a traceback after the client's timeout (an adversarial pass, 2026-12-07)."""
    if client.nthreads():
        return
    try:
        client.wait_for_workers(1, timeout=WORKERS_WAIT_S)
    except (OSError, TimeoutError) as exc:
        if client.status != "running":
            raise _lost(exc) from exc
        raise ClusterError(f"the Dask scheduler has no workers (none joined in {WORKERS_WAIT_S} s): start them, "
                           "e.g. 'dask worker SCHEDULER_ADDRESS --nthreads 1' on each reading machine") from exc


def _asked(call: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """``call`` of the client (data sent to the cluster, a question to the scheduler), a lost scheduler or cluster
    as ``ClusterError``: a page was stored as rejected, "cannot open the file", when the cluster, not its file,
    was gone, and the scan then stopped with a traceback (an adversarial pass, 2026-12-07)."""
    try:
        return call(*args, **options)
    except (OSError, TimeoutError, RuntimeError) as exc:  # RuntimeError: the client's connections closed
        raise _lost(exc) from exc


def _scatter(client: Any, data: Any, **options: Any) -> Any:
    """``data`` sent to the cluster (``client.scatter``, as ``_asked``), waiting up to ``WORKERS_BACK_S`` for a
    worker when none is there; a cluster whose workers do not come back in that time is said so (exit 5)."""
    try:
        return _asked(client.scatter, data, hash=False, timeout=WORKERS_BACK_S, **options)
    except ClusterError as exc:
        if isinstance(exc.__cause__, TimeoutError) and client.status == "running" and not client.nthreads():
            raise ClusterError(f"the Dask cluster has had no workers for {WORKERS_BACK_S} s; the pages read so far "
                               "are saved: start its workers and run the same command again") from exc.__cause__
        raise


def _lost(exc: BaseException) -> ClusterError:
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else ""  # Dask's second line says to re-run
    return ClusterError(f"lost the Dask cluster ({type(exc).__name__}: {said}); the pages read so far are saved: "
                        "run the same command again to read the rest")


def _read(client: Any, distributed: Any, work: list[Job], input_ids: dict[str, int], store: Store,
          summary: ScanSummary, shared_paths: bool, catalogue: Catalogue,
          progress: Callable[[int], None] | None) -> None:
    """Hand the pages to the cluster a few at a time and save each reading as it comes back."""
    remote_catalogue = _scatter(client, catalogue, broadcast=True)
    pages_left = Counter(job.path for job in work)
    sent: dict[str, Any] = {}  # path -> the file's bytes on the cluster, while pages of it are being read
    jobs = iter(work)
    running = distributed.as_completed(loop=client.loop)
    submitted: dict[Any, tuple[Job, Any]] = {}  # task -> its page, and the file's bytes it was given
    again: list[Job] = []  # pages to hand out again: their file's bytes were lost with a worker
    resent: Counter[Job] = Counter()
    limit, done = 0, 0

    def submit_more() -> None:
        nonlocal limit, remote_catalogue
        if done % 50 == 0:  # workers may come and go: look again now and then (a round trip to the scheduler)
            limit = max(4, IN_FLIGHT_PER_THREAD * sum(_asked(client.nthreads).values()))
        while len(submitted) < limit:
            job = again.pop() if again else next(jobs, None)
            if job is None:
                return
            if remote_catalogue.status != "finished":
                # scattered, it has no lineage either: lost with the last worker holding it (a cluster of one
                # worker, or all of them restarted), every page handed out after was cancelled at once, and the
                # scan stopped. Sent again only for a page to read: after the last page, it waited for a worker
                remote_catalogue = _scatter(client, catalogue, broadcast=True)
            if shared_paths:
                future = client.submit(read_shared, job, remote_catalogue, pure=False)
                submitted[future] = (job, None)
            else:
                if job.path not in sent:
                    try:
                        data = Path(job.path).read_bytes()
                    except OSError as exc:  # gone or unreadable since it was planned
                        finish(job, [_rejected(job, f"cannot open the file ({exc.strerror or exc})")])
                        continue
                    sent[job.path] = _scatter(client, data)
                future = client.submit(read_sent, sent[job.path], job, remote_catalogue, pure=False)
                submitted[future] = (job, sent[job.path])
            running.add(future)

    def finish(job: Job, results: list[PageResult]) -> None:
        nonlocal done
        save_readings(store, input_ids, results, summary)
        pages_left[job.path] -= 1
        if not pages_left[job.path] and job.path in sent:
            sent.pop(job.path).release()
        done += 1
        if progress:
            progress(1)

    submit_more()
    for future in running:
        job, data = submitted.pop(future)
        if future.status == "cancelled" and client.status == "running" and resent[job] < RESENDS:
            # scattered bytes have no lineage: when the worker holding them is lost, the tasks given them are
            # cancelled, not run again, so the file is sent again and its page handed out again
            resent[job] += 1
            if data is not None and sent.get(job.path) is data:
                del sent[job.path]
            again.append(job)
        elif future.status == "cancelled" and client.status == "running":
            # a page whose workers keep being lost: that page rejected, not the scan stopped as if the cluster were
            # gone (and stopped again at the same page on every run; an adversarial pass, 2026-12-07)
            finish(job, [_rejected(job, WORKERS_LOST)])
        else:
            finish(job, _results(future, job, client, distributed))
        submit_more()


def _results(future: Any, job: Job, client: Any, distributed: Any) -> list[PageResult]:
    """A task's readings; a task that failed on the cluster is one rejected page with the reason. A lost
    scheduler stops the scan (the pages saved so far stay)."""
    try:
        return future.result()
    except (distributed.client.FutureCancelledError, OSError, TimeoutError) as exc:
        if client.status != "running" or isinstance(exc, distributed.client.FutureCancelledError):
            raise _lost(exc) from exc
        reason = f"the cluster could not read this page ({type(exc).__name__}: {exc})"
    except Exception as exc:  # KilledWorker, or formkit missing on a worker: the next run reads it again
        reason = f"the cluster could not read this page ({type(exc).__name__}: {exc})"
    return [_rejected(job, reason)]


def _rejected(job: Job, reason: str) -> PageResult:
    return PageResult(job.path, job.index + 1, job.sha, PageState.REJECTED, reason)
