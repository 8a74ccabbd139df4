"""An adversarial pass over ``formkit watch``, ``void``, ``assign`` and ``status`` as admin staff use them
(2026-12-07): each test here failed before its fix."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from formkit.errors import StoreError
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import FileReport, InputFile, PageResult, PageState
from formkit.store import Store
from formkit.template import resolve_template
from formkit_cli import main
from scanner import batch
from scanner import watch as watch_module
from scanner.ingest import FILE_CHANGED, Inputs
from scanner.watch import Folder, Watch


def small_png(width: int) -> bytes:
    """A white page (no form on it: read at once, as blank); each width its own content."""
    return cv2.imencode(".png", np.full((700, width), 255, np.uint8))[1].tobytes()


def test_a_store_deleted_while_watching_stops_the_watch_instead_of_saving_pages_into_the_lost_file(tmp_path):
    """SQLite goes on writing to a store file deleted (or replaced by a backup moved over it) while the watch
    holds it open: every file read from then on was said to be read, and was in no store anyone could open."""
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    for name, width in (("a.png", 500), ("b.png", 501)):
        (inbox / name).write_bytes(small_png(width))
    told: list[FileReport] = []

    def on_file(report: FileReport) -> None:
        told.append(report)
        if len(told) == 1:  # a.png is saved: the store goes before b.png's page is saved
            for side in ("", "-wal", "-shm"):
                Path(f"{db}{side}").unlink(missing_ok=True)

    watch = Watch(inbox, db, jobs=1, settle=0, interval=0.05, once=True, max_seconds=60, on_file=on_file)
    try:
        with pytest.raises(StoreError, match="deleted, moved or replaced while the watch ran"):
            watch.run()
    finally:
        watch.close()
    assert [(r.path.name, r.stored, r.unfinished) for r in told] == [("a.png", 1, 0), ("b.png", 0, 1)]
    assert not db.exists()  # nothing made a new store in its place: the next watch reads both files again


def test_a_store_replaced_while_the_watch_is_idle_stops_it_at_the_next_look(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    looks = [0]

    def stop() -> bool:  # the watch's stop is asked at each look: the store is replaced at the second
        looks[0] += 1
        if looks[0] == 2:
            os.replace(tmp_path / "backup.sqlite", db)
        return looks[0] > 50

    watch = Watch(inbox, db, jobs=1, settle=0, interval=0.05, stop=stop)
    (tmp_path / "backup.sqlite").write_bytes(db.read_bytes())
    try:
        with pytest.raises(StoreError, match="deleted, moved or replaced"):
            watch.run()
    finally:
        watch.close()


def store_with_one_read_page(db: Path, path: Path, content: bytes) -> None:
    """A store holding ``content`` read from ``path``: one k10 page read."""
    store = Store(db)
    sha = hashlib.sha256(content).hexdigest()
    input_id, _ = store.add_input(InputFile(str(path), sha, len(content), 1))
    store.save_page(input_id, 0, PageResult(str(path), 1, sha, PageState.READ, form="k10", version=1, variant="N",
                                            form_page=1, serial="K7M3QX9C"))
    store.close()


def test_void_input_naming_a_file_written_over_since_it_was_scanned_does_not_void_what_it_held_before(tmp_path):
    """A scanner reuses scan0001.pdf: the file now holds a print run not scanned yet. Voiding it by name voided
    the real returns stored under that name, and said "Voided: scan0001.pdf" as if all was well."""
    db, scan = tmp_path / "forms.sqlite", tmp_path / "scan0001.pdf"
    store_with_one_read_page(db, scan, b"monday's returns")
    scan.write_bytes(b"tuesday's print run")
    for undo in ((), ("--undo",)):
        result = CliRunner().invoke(main, ["void", "--db", str(db), "--input", str(scan), "--why", "print run",
                                           *undo])
        assert result.exit_code == 5, result.output
        assert "this file's content is not in the store" in result.output
        assert hashlib.sha256(b"monday's returns").hexdigest()[:12] in result.output  # how to name it
    store = Store(db, readonly=True)
    assert [p["status"] for p in store.pages()] == ["read"]
    store.close()
    sha = hashlib.sha256(b"monday's returns").hexdigest()[:12]
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--input", sha, "--why", "print run"])
    assert result.exit_code == 0 and "read -> voided" in result.output
    scan.unlink()  # the file gone: its path as scanned names the input
    result = CliRunner().invoke(main, ["void", "--db", str(db), "--input", str(scan), "--undo"])
    assert result.exit_code == 0 and "voided -> read" in result.output


def test_a_new_file_on_a_share_whose_clock_lags_waits_the_settle_time_before_it_is_read(tmp_path):
    """A file's age was taken from its times on the share's clock: ten minutes behind this computer's, a file
    seen unchanged on two looks a second apart counted as settled, so a scanner writing a PDF page by page,
    pausing a few seconds between pages, had it read half-written."""
    clock = [0.0]
    folder = Folder(tmp_path, settle=3, clock=lambda: clock[0], wall=lambda: time.time() + 600)
    assert folder.look() == []
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7 the first page")  # the scanner pauses, scanning the next
    for _ in range(2):
        clock[0] += 1
        assert folder.look() == []  # unchanged for 2 s of its 3: not yet
    clock[0] += 1
    assert folder.look() == [tmp_path / "scan.pdf"]


_read_job, _lost = batch.read_job, batch._stopped


def read_but_ended_on_the_second_page(job: batch.Job, catalogue: object = None) -> list[PageResult]:
    """``read_job``, but the worker given the second page is ended, as a SIGTERM to the process group ends
    every worker."""
    if job.index == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return _read_job(job, catalogue)


def test_a_page_whose_worker_the_stop_ended_is_read_on_the_next_run_not_stored_rejected(tmp_path, monkeypatch):
    """systemd stops a service with a SIGTERM to each of its processes: the workers ended at once, and the page
    in hand was stored rejected ("the process reading it stopped before it finished ... lack of memory?"),
    which the watch never reads again: on the next run the PDF's other pages were read, never that one."""
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    generate(build_layout(resolve_template("k10")), make_copies(3, None, 43), inbox / "three.pdf")
    stop = [False]

    def lost_to_the_stop(job: batch.Job) -> list[PageResult]:  # the watch was told to stop as the worker ended
        stop[0] = True
        return _lost(job)

    monkeypatch.setattr(batch, "read_job", read_but_ended_on_the_second_page)
    monkeypatch.setattr(batch, "_stopped", lost_to_the_stop)
    told: list[FileReport] = []
    watch = Watch(inbox, db, jobs=2, settle=0, interval=0.05, once=True, max_seconds=120, stop=lambda: stop[0],
                  on_file=told.append)
    try:
        watch.run()
    finally:
        watch.close()
    assert watch.stopped
    store = Store(db, readonly=True)
    assert [p["status"] for p in store.pages()] == ["read"]  # the first page; the second is not stored at all
    store.close()
    assert [(r.stored, r.unfinished) for r in told] == [(1, 2)]

    monkeypatch.undo()
    again = Watch(inbox, db, jobs=2, settle=0, interval=0.05, once=True, max_seconds=120)
    try:
        again.run()
    finally:
        again.close()
    store = Store(db, readonly=True)
    assert [p["status"] for p in store.pages()] == ["read"] * 3
    store.close()


@pytest.mark.parametrize("option", ["--settle", "--interval", "--max-seconds"])
def test_watch_refuses_nan_seconds(tmp_path, option):
    """'nan' passed click's range checks: --settle nan let no file settle, so a --once run never ended and read
    nothing; --max-seconds nan never stopped."""
    result = CliRunner().invoke(main, ["watch", str(tmp_path), "--db", str(tmp_path / "s.sqlite"), "--once",
                                       option, "nan"])
    assert result.exit_code == 2 and "'nan' is not a number of seconds" in result.output, result.output
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("why", [f"{batch.FILE_GONE} (No such file or directory)", FILE_CHANGED])
def test_pages_rejected_because_the_file_went_or_changed_while_read_are_read_when_its_content_is_back(tmp_path, why):
    """A file renamed while the watch read it (named after the client, say): its last pages were rejected as
    gone, and under its new name the file was "already in the store", those pages never read; a restart did
    not read them either."""
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    content = small_png(500)
    sha = hashlib.sha256(content).hexdigest()
    store = Store(db)
    input_id, _ = store.add_input(InputFile(str(inbox / "scan0001.png"), sha, len(content), 1))
    store.save_page(input_id, 0, PageResult(str(inbox / "scan0001.png"), 1, sha, PageState.REJECTED, why))
    store.close()
    (inbox / "client-x.png").write_bytes(content)
    told: list[FileReport] = []
    watch = Watch(inbox, db, jobs=1, settle=0, interval=0.05, once=True, max_seconds=60, on_file=told.append)
    try:
        watch.run()
    finally:
        watch.close()
    store = Store(db, readonly=True)
    assert [(p["status"], p["reason"]) for p in store.pages()] == [("blank", "blank page")]
    store.close()
    assert [(r.path.name, r.stored, r.skipped_pages) for r in told] == [("client-x.png", 1, 0)]


def test_files_in_a_folder_that_could_not_be_listed_for_a_moment_are_not_read_again(tmp_path, monkeypatch):
    """A share's network gone for a moment: the folder could not be listed, every file seen in it was forgotten,
    and once it could be listed again each was hashed again and said to be "already in the store"."""
    clock = [0.0]
    folder = Folder(tmp_path, settle=0, clock=lambda: clock[0])
    (tmp_path / "sub").mkdir()
    for name in ("a.png", "sub/b.png"):
        (tmp_path / name).write_bytes(small_png(500))
    folder.look()
    clock[0] += 1
    assert folder.look() == [tmp_path / "a.png", tmp_path / "sub" / "b.png"]
    folder.hand_out([tmp_path / "a.png", tmp_path / "sub" / "b.png"])
    for unlisted, listed in ((tmp_path, []), (tmp_path / "sub", [tmp_path / "a.png"])):
        with monkeypatch.context() as patched:
            patched.setattr(watch_module, "find_inputs", lambda paths, unlisted=unlisted, listed=listed: Inputs(
                listed, [], [], [(str(unlisted), "Host is down")]))
            patched.setattr(Folder, "_names", lambda self: None)  # as a folder that cannot be listed gives
            clock[0] += 1
            assert folder.look() == []
        for _ in range(2):
            clock[0] += 1
            assert folder.look() == []  # listed again: nothing new


def test_a_file_not_yet_settled_when_its_folder_cannot_be_listed_is_handed_out_once_it_is_seen_again(
        tmp_path, monkeypatch):
    """Kept while its folder could not be listed, a file not yet handed out was handed out unseen once its time
    had passed: said to be gone, and never read when the share came back (a second read, 2026-12-07). Nor does
    `--once` wait for it (``waiting_from_start``) while it cannot be seen."""
    clock = [0.0]
    folder = Folder(tmp_path, settle=3, clock=lambda: clock[0], wall=lambda: 1e9 + clock[0])
    (tmp_path / "sub").mkdir()
    scan_file = tmp_path / "sub" / "b.png"
    scan_file.write_bytes(small_png(500))
    for _ in range(2):
        assert folder.look() == []  # seen, not settled yet
        clock[0] += 1
    with monkeypatch.context() as patched:
        patched.setattr(watch_module, "find_inputs", lambda paths: Inputs([], [], [], [(str(tmp_path / "sub"),
                                                                                        "Host is down")]))
        patched.setattr(Folder, "_names", lambda self: None)  # as a folder that cannot be listed gives
        for _ in range(3):
            clock[0] += 1
            assert folder.look() == []  # its time has passed, but it cannot be seen
        assert folder.waiting_from_start() == ([], [])
    clock[0] += 1
    assert folder.look() == [scan_file]


@pytest.mark.parametrize("words", [["status", "--db", "{long}.sqlite"], ["watch", "{long}", "--once"],
                                   ["void", "--input", "{long}", "--why", "x"]])
def test_a_name_too_long_for_a_file_is_bad_input_not_a_traceback(tmp_path, words):
    long = "a" * 300  # longer than any file name may be
    db = tmp_path / "s.sqlite"
    store_with_one_read_page(db, tmp_path / "scan.png", b"returns")
    args = [word.format(long=long) for word in words]
    if "--db" not in args:
        args += ["--db", str(db)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 5, result.output
    assert result.output.startswith("formkit: error: aaaa") and "File name too long" in result.output


def test_a_moment_s_trouble_reading_the_store_s_file_does_not_stop_the_watch(tmp_path, monkeypatch):
    """A stat of the store failing for a moment on a share (ESTALE, EIO) was taken for a store deleted or
    replaced, and stopped a long-running watch (a second read, 2026-12-07); only a store gone or another stops it."""
    import errno

    db = tmp_path / "s.sqlite"
    (tmp_path / "in").mkdir()
    watch = Watch(tmp_path / "in", db, jobs=1, settle=0, interval=0.05, once=True)
    try:
        real = Path.stat

        def flaky(path, *args, **kwargs):
            if path == Path(watch.store.path):
                raise OSError(errno.ESTALE, "Stale file handle")
            return real(path, *args, **kwargs)

        with monkeypatch.context() as patched:
            patched.setattr(Path, "stat", flaky)
            watch.check_store()  # no StoreError
        db.unlink()
        with pytest.raises(StoreError, match="deleted, moved or replaced"):
            watch.check_store()
    finally:
        watch.close()
