"""Read stored pages again: as the form page a person names (checked against the page's ink first), or
every page of a store with the current templates and model (``formkit scan --reread``).

A page is read from its source file when that is still there with the same content hash, else from the
image the store kept (``scanner.assign.read_source_as``). A page that was one of several in its image (cards
on a scanner's glass, an uncut sheet) is read within its own outline there and saved to its own row. Pages
are read in worker processes, as in ``scanner.batch``; this process alone writes to the store, one
transaction per page.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from formkit.catalogue import Catalogue
from formkit.qrpayload import PagePayload
from formkit.records import PageResult, PageState, RereadSummary
from formkit.review.queue import LayoutFit, SourcePage, misfit_of
from formkit.serial import format_serial
from formkit.store import Store

from .assign import load_source, read_source_as
from .batch import STOPPED, in_order, worker_catalogue, worker_pool
from .identify import CLEAR_WINNER, MIN_EVIDENCE, print_match
from .locate import find_markers, reduced
from .pipeline import read_image, read_page
from .register import MAX_ERROR_MM, register

CHUNK_PAGES = 64  # pages whose stored images are fetched at once: memory stays flat over a large store


@dataclass(frozen=True)
class Unread:
    """An unidentified or rejected page, read again from scratch: its row (input, page index, region) and,
    when its QR was read, the form page it says it is (form, serial, form page)."""

    input_id: int
    page_index: int
    region: int = 0
    key: tuple[str, str, int] | None = None


Job = tuple[int, SourcePage, PagePayload | Unread]  # page id, where it is, what it was read as (or that it was not)


def rank_layouts(source: SourcePage, catalogue: Catalogue) -> list[LayoutFit]:
    """Every installed layout page (normal and large print) whose markers fit the page's, with how well
    its printed boxes and lines match the page's ink (``scanner.identify.print_match``), best first.
    Empty when fewer than two markers are found. Uses the stored image when there is one (a quick look)."""
    grey = load_source(source, stored_first=True)
    if grey is None:
        return []
    found = find_markers(grey, reduced(grey))
    if found.count < 2:
        return []
    fits = []
    for layout in catalogue.candidate_layouts():
        for page in layout.pages:
            reg = register(page, found)
            if reg is None or reg.error_mm > MAX_ERROR_MM:
                continue
            fits.append(LayoutFit(layout.form, layout.version, layout.variant, page.number,
                                  round(float(print_match(grey, page, reg)), 3)))
    return sorted(fits, key=lambda f: -f.match)


def misfit(fits: list[LayoutFit], payload: PagePayload) -> str:
    """'' unless the named layout page clearly does not fit the page's ink: it explains less than
    ``MIN_EVIDENCE`` of it and another layout explains at least ``CLEAR_WINNER`` times more."""
    return misfit_of(fits, payload, MIN_EVIDENCE, CLEAR_WINNER)


def read_checked(source: SourcePage, payload: PagePayload, catalogue: Catalogue) -> PageResult:
    """The page read as ``payload`` (``scanner.assign.read_source_as``), unless its ink clearly does not
    fit that layout: then a rejected result whose reason says what it looks like, ``quality["misfit"]``."""
    problem = misfit(rank_layouts(source, catalogue), payload)
    if problem:
        return PageResult(source.path, source.page_index + 1, source.sha256, PageState.REJECTED, problem,
                          quality={"misfit": True})
    return read_source_as(source, payload, catalogue)


def reread(store: Store, catalogue: Catalogue, form: str | None = None, jobs: int | None = None,
           progress: Callable[[int], None] | None = None, planned: Callable[[int], None] | None = None,
           start_method: str = "fork") -> RereadSummary:
    """Read every page read of ``store`` (of ``form`` only, if given) again with ``catalogue``'s templates
    and the current model, as the form page it was read as; without ``form``, also every unidentified or
    rejected page, from scratch. Each page is saved in its own transaction (``Store.reread_page``, which
    keeps review decisions whose value is unchanged). A page read before that cannot be read now keeps
    its old reading and is counted in ``failed`` with the reason."""
    summary = RereadSummary()
    work: list[Job] = []
    unread: dict[int, Unread] = {}
    candidates = store.reread_candidates(form, unread=form is None)
    regions = _regions(store, candidates)
    for row in candidates:
        source = SourcePage.stored(row["path"], row["sha256"], row["page_index"], None, row["quality"])
        if not PageState(row["status"]).was_read:
            key = (row["form"], row["serial"], int(row["form_page"])) if row["form"] and row["serial"] else None
            unread[int(row["id"])] = Unread(int(row["input_id"]), int(row["page_index"]),
                                            regions.get(int(row["id"]), 0), key)
            work.append((int(row["id"]), source, unread[int(row["id"])]))
            continue
        layout = catalogue.stored_layout(row)
        if isinstance(layout, str):
            summary.failed[layout] += 1
            continue
        if not 1 <= row["form_page"] <= len(layout.pages):
            summary.failed[f"'{row['form']}' has no page {row['form_page']}"] += 1
            continue
        work.append((int(row["id"]), source, PagePayload(row["form"], row["version"], row["form_page"],
                                                          row["variant"], row["serial"],
                                                          layout.page(row["form_page"]).fingerprint)))
    if planned:
        planned(len(work))
    with worker_pool(jobs, len(work), catalogue, start_method) as pool:
        for start in range(0, len(work), CHUNK_PAGES):
            chunk = [_with_image(store, job) for job in work[start:start + CHUNK_PAGES]]
            results = in_order(pool, _read_job, chunk, _stopped) if pool else \
                (_read_job(job, catalogue) for job in chunk)
            for page_id, result in results:
                if result is None:  # its worker died: the page keeps its reading
                    summary.failed[STOPPED] += 1
                else:
                    _save(store, summary, page_id, result, unread.get(page_id))
                if progress:
                    progress(1)
    return summary


def _stopped(job: Job) -> tuple[int, None]:
    return job[0], None


def _regions(store: Store, candidates: list) -> dict[int, int]:
    """Page id -> its region in its image (0, 1, ...), for the pages that were one of several in their image
    (looked up only when there are such pages)."""
    if not any(json.loads(row["quality"] or "{}").get("region_of", 1) > 1 for row in candidates):
        return {}
    return {int(row["id"]): int(row["region"]) for row in store.pages()}


def _with_image(store: Store, job: Job) -> Job:
    """The job with the page's stored image, needed when its source file is gone or changed."""
    page_id, source, payload = job
    row = store.page_source(page_id)
    image = row["image"] if row is not None else None
    return page_id, SourcePage(source.path, source.sha256, source.page_index, image, source.region_px,
                               source.regions), payload


def _save(store: Store, summary: RereadSummary, page_id: int, result: PageResult, unread: Unread | None) -> None:
    if unread is not None:
        if result.quality.get("not_found_again"):
            summary.failed[result.reason] += 1  # the page keeps its old state, and the reason is said
            return
        if result.status in (PageState.UNIDENTIFIED, PageState.REJECTED):
            summary.unchanged_unread += 1  # the page as it was says as much, often more (its source's reason)
            return
        result.region = unread.region  # its own row, whichever of the image's pages it was read as
        state = store.save_page(unread.input_id, unread.page_index, result)
        if state is None:
            summary.skipped += 1
        else:
            summary.identified[state] += 1
        return
    if result.status != PageState.READ:
        summary.failed[result.reason] += 1
        return
    outcome = store.reread_page(page_id, result)
    if outcome is None:
        summary.skipped += 1
        return
    summary.pages += 1
    summary.changed += outcome.changed
    summary.kept += outcome.kept
    summary.flagged_again += outcome.flagged_again


def _read_job(job: Job, catalogue: Catalogue | None = None) -> tuple[int, PageResult]:
    """Read one stored page; any failure becomes a rejected result with its reason."""
    page_id, source, what = job
    catalogue = catalogue or worker_catalogue()
    result = PageResult(source.path, source.page_index + 1, source.sha256, PageState.REJECTED)
    try:
        if isinstance(what, PagePayload):
            return page_id, read_source_as(source, what, catalogue)
        grey = load_source(source)
        if grey is None:
            result.reason = "neither the source file nor a stored image of the page is available"
            return page_id, result
        if source.regions > 1:
            return page_id, read_region(grey, source, what, result, catalogue)
        return page_id, read_page(grey, result, catalogue)
    except MemoryError:
        result.reason = "not enough memory to read this page"
    except Exception as exc:  # a bug must not stop the run; the page keeps its old reading
        result.reason = f"internal error while re-reading ({type(exc).__name__}: {exc})"
        result.quality = {"traceback": traceback.format_exc(limit=5)}
    return page_id, result


def read_region(grey: np.ndarray, source: SourcePage, unread: Unread, result: PageResult,
                catalogue: Catalogue) -> PageResult:
    """One of several pages of an image read again from scratch (``grey`` from ``load_source``): the page
    found where its outline is (``grey`` is then that outline alone, the rest white; a neighbour's edge
    may show), or, when the store kept no outline of it (an older store), the page found in the whole image
    that its QR said it is. The result is for the page's own row (``unread.region``) and keeps its outline;
    when the page cannot be told apart in the image again, it is rejected with why, and
    ``quality["not_found_again"]``: the page keeps its old state, and the reason is reported."""
    found = read_image(grey, result, catalogue)
    mine = next((r for r in found if unread.key is not None and (r.form, r.serial, r.form_page) == unread.key), None)
    if mine is None and source.region_px is not None:
        middle = np.array(grey.shape[::-1], float) / 2
        nearest = min(found, key=lambda r: _distance(r, middle, len(found)))
        mine = nearest if unread.key is None or not nearest.serial else None
    if mine is None:
        form, serial, page = unread.key or ("", "", 0)
        said = f"{form} page {page}, serial {format_serial(serial)}" if unread.key else "its QR code never read"
        if source.region_px is not None:
            why = "that page is no longer found within its outline in the image"
        elif unread.key:
            why = (f"none of the {len(found)} page(s) read in the image now is that page, and the store kept no "
                   "outline of it")
        else:
            why = (f"it cannot be told apart from the {len(found)} page(s) read in the image: the store kept no "
                   "outline of it")
        result.status, result.quality = PageState.REJECTED, {"not_found_again": True}
        result.reason = f"page {unread.region + 1} of {source.regions} in the image ({said}): {why}"
        return result
    mine.region = unread.region
    mine.quality.update(source.outline())
    return mine


def _distance(result: PageResult, middle: np.ndarray, pages: int) -> float:
    """How far the middle of the page ``result`` found lies from ``middle`` (pixels); 0 when it was the one
    page found, infinite when it was one of several and not placed."""
    if pages == 1:
        return 0.0
    corners = result.quality.get("region_px")
    return float(np.linalg.norm(np.mean(corners, axis=0) - middle)) if corners else float("inf")
