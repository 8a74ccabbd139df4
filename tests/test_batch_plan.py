"""``scanner.batch.plan``: a file that could not be opened before, and now has, loses the rejected page stored
for it, whether it opens as content of its own or as a copy of a file read under another name."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time

from formkit.catalogue import shipped_catalogue
from formkit.records import InputFile, ScanSummary, unopened_key
from formkit.store import Store
from scanner.batch import in_order, plan, say_begun, worker_pool

LOCKED = "inbox/b.jpg"


def _unopened_then(store: Store) -> None:
    """A first scan that could not open ``LOCKED``: one rejected page, kept while it still cannot be opened."""
    unopened = InputFile(LOCKED, unopened_key(LOCKED), 0, 0, "cannot open the file (Permission denied)")
    for _ in range(2):
        plan([unopened], store, ScanSummary())
    assert [(r["path"], r["status"]) for r in store.pages()] == [(LOCKED, "rejected")]


def _opened(store: Store) -> list[dict]:
    return [json.loads(r["detail"]) for r in store.audit_rows() if r["action"] == "input-opened"]


def test_a_file_opened_now_as_its_own_content_loses_its_rejected_page(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    _unopened_then(store)
    info = InputFile(LOCKED, hashlib.sha256(b"b").hexdigest(), 1000, 1)
    work, _ = plan([info], store, ScanSummary())
    assert [(job.path, job.index) for job in work] == [(LOCKED, 0)]
    assert store.pages() == []
    assert [d["path"] for d in _opened(store)] == [LOCKED]
    store.close()


def test_a_file_opened_now_as_a_copy_of_another_loses_its_rejected_page(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    _unopened_then(store)
    sha = hashlib.sha256(b"a").hexdigest()
    summary = ScanSummary()
    work, input_ids = plan([InputFile("inbox/a.jpg", sha, 1000, 1), InputFile(LOCKED, sha, 1000, 1)], store, summary)
    assert summary.duplicates == [(LOCKED, "inbox/a.jpg")]
    assert [(job.path, job.index) for job in work] == [("inbox/a.jpg", 0)] and list(input_ids) == [sha]
    assert store.pages() == []
    assert [d["path"] for d in _opened(store)] == [LOCKED]
    store.close()


def _dies_on(item: tuple[int, int]) -> int:
    value, fatal = item
    if value == fatal:
        os.kill(os.getpid(), signal.SIGKILL)  # as the system kills a process for memory
    return value * 10


def _in_order_within(pool, items: list, seconds: float) -> list:
    answers: list[object] = []
    reading = threading.Thread(target=lambda: answers.extend(
        in_order(pool, _dies_on, items, lambda item: f"lost {item[0]}")), daemon=True)
    reading.start()
    reading.join(timeout=seconds)
    assert not reading.is_alive(), "the batch hangs"
    return answers


def _works_long_on(item: tuple[int, int]) -> int:
    value, endless = item
    started = time.process_time()
    while value == endless and time.process_time() - started < 30:
        pass  # as pdfium rendering a page of millions of lines, out of Python's reach
    return value * 10


def test_an_item_that_keeps_its_worker_busy_too_long_is_lost_not_the_batch(monkeypatch):
    """A page whose rendering never ended (a small PDF drawing millions of lines) stalled the batch for ever, with
    nothing saved: a worker is ended after ``ITEM_CPU_LIMIT_S`` of CPU on one item, which is answered as lost."""
    from scanner import batch

    monkeypatch.setattr(batch, "ITEM_CPU_LIMIT_S", 1)
    with worker_pool(2, 4, shipped_catalogue()) as pool:
        started = time.monotonic()
        answers = list(in_order(pool, _works_long_on, [(n, 2) for n in (1, 2, 3, 4)], lambda item: f"lost {item[0]}"))
        assert answers == [10, "lost 2", 30, 40] and time.monotonic() - started < 20


def test_a_worker_killed_while_reading_loses_its_item_not_the_batch():
    """The pool waited for a killed worker's page for ever: the scan hung at 0 % CPU. Its item is now
    answered as lost, the others as read, in order; over many quick items too (the workers' word on what
    they begin never fills its pipe), and a later call on the same pool is not confused by an earlier's."""
    with worker_pool(2, 4, shipped_catalogue()) as pool:
        assert _in_order_within(pool, [(n, 2) for n in (1, 2, 3, 4)], 60) == [10, "lost 2", 30, 40]
        many = _in_order_within(pool, [(n, 4000) for n in range(5000)], 120)
        assert many == [n * 10 if n != 4000 else "lost 4000" for n in range(5000)]
        assert _in_order_within(pool, [(n, -1) for n in range(4)], 60) == [0, 10, 20, 30]


def _say_begun_for_ever(channel, call: int) -> None:
    for index in range(10**9):
        say_begun(channel, call, index)


def test_a_worker_killed_while_it_says_which_item_it_begins_leaves_no_one_waiting():
    """The workers said which item each began over a queue whose writers share a lock: a worker ended while it
    held the lock (as the pool is ended when a batch stops) left the others, and this process ending the pool,
    waiting for it for ever. Writers killed mid-stream twenty times leave the channel open to the next, and
    every message whole."""
    import multiprocessing

    from scanner import batch

    context = multiprocessing.get_context("fork")
    heard, said = context.Pipe(duplex=False)
    listening = threading.Thread(target=batch._note_beginnings, args=(heard,), daemon=True)
    listening.start()
    for call in range(1000, 1020):
        writer = context.Process(target=_say_begun_for_ever, args=(said, call))
        writer.start()
        heard_from = time.monotonic() + 30
        while not any(key[0] == call for key in list(batch._began)):  # killed while it writes, not before
            assert time.monotonic() < heard_from, "the writer was never heard"
            time.sleep(0.001)
        writer.kill()
        writer.join()
    saying = threading.Thread(target=say_begun, args=(said, 999, 7), daemon=True)
    saying.start()
    saying.join(timeout=10)
    assert not saying.is_alive(), "waits for a lock the killed writer held"
    say_begun(said, -1, 0)
    listening.join(timeout=10)
    assert not listening.is_alive()
    assert batch._began.pop((999, 7)) == os.getpid()
    written = [key for key in batch._began if 1000 <= key[0] < 1020]
    assert {call for call, _ in written} == set(range(1000, 1020))  # none garbled: no other call was heard
    for key in written:
        del batch._began[key]
    heard.close()
    said.close()
