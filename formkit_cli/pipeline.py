"""The one module of the command layer that reaches the image pipeline (``scanner``): the commands read,
re-read and watch through these functions; the core (``formkit``) never imports it. What passes through is
``formkit``'s own records (``formkit.records``, ``formkit.review.queue``), never a type of ``scanner``.
Each import is made on first use, so a command that reads no image (status, export, report) never loads
OpenCV or Tesseract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from formkit.catalogue import Catalogue
from formkit.qrpayload import PagePayload
from formkit.records import PageResult, RereadSummary, ScanSummary
from formkit.review.queue import LayoutFit, SourcePage
from formkit.store import Store


def scan_files(paths: list[str], store: Store, jobs: int | None, catalogue: Catalogue,
               planned: Callable[[int], None], progress: Callable[[int], None]) -> ScanSummary:
    """Every page under ``paths`` read into ``store`` on this machine's cores (``scanner.batch.scan``)."""
    from scanner.batch import scan

    return scan(paths, store, jobs, progress=progress, planned=planned, catalogue=catalogue)


def connect_cluster(address: str) -> Any:
    """A client of the Dask scheduler at ``address`` (``scanner.cluster.connect``)."""
    from scanner.cluster import connect

    return connect(address)


def scan_on_cluster(paths: list[str], store: Store, client: Any, shared_paths: bool, catalogue: Catalogue,
                    planned: Callable[[int], None], progress: Callable[[int], None]) -> ScanSummary:
    """Every page under ``paths`` read on a Dask cluster, each saved as it returns (``scanner.cluster.scan``)."""
    from scanner.cluster import scan

    return scan(paths, store, client, shared_paths, progress=progress, planned=planned, catalogue=catalogue)


def reread(store: Store, catalogue: Catalogue, form: str | None, jobs: int | None,
           planned: Callable[[int], None], progress: Callable[[int], None]) -> RereadSummary:
    """The stored pages read again (``scanner.reread.reread``)."""
    from scanner.reread import reread as read_again

    return read_again(store, catalogue, form, jobs, progress=progress, planned=planned)


def reader(catalogue: Catalogue) -> Callable[[SourcePage, PagePayload], PageResult]:
    """Reads a stored page as the form page a person chose, refusing a clear misfit
    (``scanner.reread.read_checked``): for ``assign`` and the review page."""
    from scanner.reread import read_checked

    return lambda source, chosen: read_checked(source, chosen, catalogue)


def ranker(catalogue: Catalogue) -> Callable[[SourcePage], list[LayoutFit]]:
    """The form pages a stored page most likely is, best first (``scanner.reread.rank_layouts``)."""
    from scanner.reread import rank_layouts

    return lambda source: rank_layouts(source, catalogue)


def watcher(folder: Path, db: Any, jobs: int | None, catalogue: Catalogue, settle: float, interval: float,
            once: bool, max_seconds: float | None, stop: Callable[[], bool], **callbacks: Any) -> Any:
    """The watch of ``folder`` (``scanner.watch.Watch``)."""
    from scanner.watch import Watch

    return Watch(folder, db, jobs, catalogue, settle, interval, once, max_seconds, stop, **callbacks)
