"""``formkit watch``: a network scanner's folder, read file by file as each is complete. Every test runs the
real command as a separate process on real files, and sends it real signals."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.store import Store
from formkit.template import resolve_template
from scanner.watch import Folder, Watch
from tests.conftest import both_backends
from tests.synthetic import render_pdf

# no xdist group: the module's fixture is cheap, and its tests mostly wait on the command, better spread over
# the workers. The waits are on what the command does (a page stored, the process ended) where it can be seen;
# a fixed time is waited only where the test needs time to pass (a file growing for longer than the settle
# time, a chance to read something twice).

DPI = 200
ROOT = Path(__file__).resolve().parent.parent
SETTLE = 1.0  # seconds; the default is 3, shortened to keep the tests quick


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, bytes]:
    """Four scanned K10 pages (four serials) as PNG files, and a 4-page PDF of four other serials."""
    tmp = tmp_path_factory.mktemp("scans")
    layout = build_layout(resolve_template("k10"))
    generate(layout, make_copies(4, None, 41), tmp / "k10.pdf")
    files = {}
    for number, image in enumerate(render_pdf(tmp / "k10.pdf", DPI)):
        path = tmp / f"page{number}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        files[path.name] = path.read_bytes()
    generate(layout, make_copies(4, None, 42), tmp / "four.pdf")
    files["four.pdf"] = (tmp / "four.pdf").read_bytes()
    return files


class Watching:
    """``formkit watch`` running as its own process; its output goes to files, read at any time."""

    def __init__(self, tmp: Path, *args: object) -> None:
        self.out, self.err = tmp / f"out-{time.monotonic_ns()}.txt", tmp / f"err-{time.monotonic_ns()}.txt"
        # -X faulthandler: a run that hangs is ended with SIGABRT, and prints where each of its threads was
        command = [sys.executable, "-X", "faulthandler", "-c",
                   "import sys; from formkit_cli import main; sys.exit(main())", "watch", *map(str, args)]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT,
                                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        wait_for(lambda: "Watching" in self.stdout() or "Reading" in self.stdout() or self.process.poll() is not None)

    def stdout(self) -> str:
        return self.out.read_text()

    def lines_about(self, name: str) -> list[str]:
        return [line for line in self.stdout().splitlines() if line.startswith(f"{name}:")]

    def finish(self, stop: int | None = None, timeout: float = 90) -> str:
        """Send ``stop`` (a signal), wait for the exit; exit 0 and no traceback; returns the output. (The wait is
        long: a run reading a PDF's pages with two workers while the test suite's Dask and PostgreSQL tests share
        the two cores once took over 30 s in CI, 2026-12-07; not seen again in ten runs.)"""
        if stop is not None:
            self.process.send_signal(stop)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=30)
            pytest.fail(f"still running {timeout} s later; where its threads were:\n{self.err.read_text()}")
        assert code == 0, self.err.read_text()
        assert "Traceback" not in self.err.read_text(), self.err.read_text()
        return self.stdout()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def watching(tmp_path) -> Iterator[Callable[..., Watching]]:
    started: list[Watching] = []

    def start(*args: object) -> Watching:
        started.append(Watching(tmp_path, *args))
        return started[-1]

    yield start
    for run in started:  # a failed test leaves nothing running
        run.kill()


def wait_for(condition: Callable[[], object], timeout: float = 30) -> None:
    until = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < until, "timed out"
        time.sleep(0.05)


def stored(db: Path) -> list[dict]:
    """Every page in the store: its file's name (relative to the inbox), index, state and the file's hash."""
    store = Store(db, readonly=True)
    try:
        rows = []
        for row in store.pages():
            source = store.page_source(row["id"])
            rows.append({"name": Path(row["path"]).name, "index": row["page_index"], "status": row["status"],
                         "sha256": source["sha256"]})
        return rows
    finally:
        store.close()


def reads(db: Path) -> list[str]:
    """The audit log's page readings: 'read-page', or 'reread-page' for a page read a second time."""
    store = Store(db, readonly=True)
    try:
        return [r["action"] for r in store.audit_rows() if r["action"].endswith("read-page")]
    finally:
        store.close()


def write_slowly(path: Path, data: bytes, chunks: int, pause: float, check: Callable[[], None]) -> None:
    """Write ``data`` to ``path`` a chunk at a time, as a scanner on a slow network does, calling ``check``
    after each chunk."""
    size = -(-len(data) // chunks)
    with path.open("wb") as handle:
        for start in range(0, len(data), size):
            handle.write(data[start:start + size])
            handle.flush()
            check()
            time.sleep(pause)


def test_a_file_is_read_once_when_complete_a_part_file_after_its_rename_and_a_restart_reads_only_new_files(
        tmp_path, scans, watching):
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    run = watching(inbox, "--db", db, "--jobs", "1", "--settle", SETTLE, "--interval", 0.2, "--max-seconds", 90)
    (inbox / ".page3.png").write_bytes(scans["page3.png"])  # a hidden name: never read
    (inbox / "b.png.part").write_bytes(scans["page1.png"])  # a .part file: not read, however long it stays

    # Written over 1.5 s (the first chunk to the last), longer than the settle time: nothing is read while it
    # grows, nor the .part file beside it, whole and unchanged all that time (longer than the settle time too).
    def nothing_read_yet() -> None:
        assert stored(db) == [], "a file was read before it was complete, or under a temporary name"

    write_slowly(inbox / "a.png", scans["page0.png"], chunks=6, pause=0.3, check=nothing_read_yet)
    # Renamed into place, the .part file is read (while a.png settles); a.png is read once it has settled.
    (inbox / "b.png.part").rename(inbox / "b.png")
    wait_for(lambda: len(stored(db)) == 2)
    pages = {page["name"]: page for page in stored(db)}
    assert sorted(pages) == ["a.png", "b.png"]  # never under a temporary or hidden name
    assert pages["a.png"]["status"] == pages["b.png"]["status"] == "read"
    assert pages["a.png"]["sha256"] == hashlib.sha256(scans["page0.png"]).hexdigest()  # the whole file, not a part
    time.sleep(1)  # time enough to read anything a second time, if it were to be

    output = run.finish(signal.SIGINT)
    assert run.lines_about("a.png") == ["a.png: read 1, conflicts 0, blank 0, unidentified 0, rejected 0; "
                                        "0 value(s) to review"]
    assert len(run.lines_about("b.png")) == 1 and not run.lines_about(".page3.png")
    assert "Stopped: 2 file(s) read." in output
    assert "Pages read: 2, with 0 value(s) to review; conflicts: 0; blank: 0; unidentified: 0; rejected: 0" in output
    assert reads(db) == ["read-page"] * 2

    # While it was stopped, two files came (one in a subfolder) and a copy of a file already read.
    (inbox / "sub").mkdir()
    (inbox / "sub" / "c.png").write_bytes(scans["page2.png"])
    (inbox / "d.png").write_bytes(scans["page3.png"])
    shutil.copy(inbox / "a.png", inbox / "a again.png")
    an_hour_ago = time.time() - 3600  # settled at the first look: read in one batch with a.png
    os.utime(inbox / "a again.png", (an_hour_ago, an_hour_ago))
    again = watching(inbox, "--db", db, "--jobs", "1", "--settle", SETTLE, "--interval", 0.2, "--once",
                     "--max-seconds", 60)
    output = again.finish()
    assert len(again.lines_about("sub/c.png")) == 1 and len(again.lines_about("d.png")) == 1
    # files there at the start whose content is stored already are not read, and not listed
    assert not again.lines_about("a.png") and not again.lines_about("b.png") and not again.lines_about("a again.png")
    assert "Done: 2 file(s) read." in output
    assert "Pages read: 2, with 0 value(s) to review" in output and "already in the store: 3" in output
    assert sorted(p["name"] for p in stored(db)) == ["a.png", "b.png", "c.png", "d.png"]
    assert {p["status"] for p in stored(db)} == {"read"}
    assert reads(db) == ["read-page"] * 4  # no page read twice


def test_a_file_renamed_into_place_is_read_without_waiting_to_settle(tmp_path, scans, watching):
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    # --max-seconds ends a watch by itself, as Ctrl+C does: this one, of an empty folder, ends meanwhile
    (tmp_path / "idle").mkdir()
    timed = watching(tmp_path / "idle", "--db", tmp_path / "idle.sqlite", "--interval", 0.2, "--max-seconds", 1)
    run = watching(inbox, "--db", db, "--jobs", "1", "--settle", 120, "--interval", 0.2, "--max-seconds", 60)
    (inbox / "scan.pdf.crdownload").write_bytes(scans["page0.png"])
    time.sleep(0.6)  # seen under its temporary name
    (inbox / "scan.pdf.crdownload").rename(inbox / "scan.png")
    wait_for(lambda: stored(db), timeout=6)  # long before the 120 s a new file must rest otherwise
    output = run.finish(signal.SIGINT)
    assert "Stopped: 1 file(s) read." in output and len(run.lines_about("scan.png")) == 1
    assert "Stopped: 0 file(s) read." in timed.finish()  # ended by --max-seconds (no signal sent)


def test_sigterm_while_a_pdf_is_read_keeps_whole_pages_and_the_next_run_reads_the_rest(tmp_path, scans, watching):
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    run = watching(inbox, "--db", db, "--jobs", "2", "--settle", 0.5, "--interval", 0.2, "--max-seconds", 60)
    (inbox / "four.pdf").write_bytes(scans["four.pdf"])
    wait_for(lambda: stored(db), timeout=20)
    output = run.finish(signal.SIGTERM)
    before = stored(db)
    assert 1 <= len(before) <= 4 and {p["status"] for p in before} == {"read"}
    if len(before) < 4:  # stopped between two pages: the file's line says how many wait
        assert f"stopped before {4 - len(before)} page(s): read on the next run" in output
    assert f"Pages read: {len(before)}," in output

    again = watching(inbox, "--db", db, "--jobs", "2", "--settle", 0.5, "--interval", 0.2, "--once")
    output = again.finish()
    assert sorted(p["index"] for p in stored(db)) == [0, 1, 2, 3]
    assert reads(db) == ["read-page"] * 4
    assert f"Pages read: {4 - len(before)}," in output


def test_a_file_moved_in_from_a_hidden_folder_is_complete_at_once_and_temporary_names_are_never_handed_out(tmp_path):
    png = cv2.imencode(".png", np.full((30, 40), 255, np.uint8))[1].tobytes()
    clock = [0.0]
    folder = Folder(tmp_path, settle=60, clock=lambda: clock[0])
    (tmp_path / ".sync").mkdir()
    (tmp_path / ".sync" / "a.png").write_bytes(png)  # a sync tool's folder: the file is still arriving there
    (tmp_path / "b.png.crdownload").write_bytes(png)
    assert folder.look() == []
    os.rename(tmp_path / ".sync" / "a.png", tmp_path / "a.png")
    clock[0] += 1
    assert folder.look() == [tmp_path / "a.png"]  # renamed into place: no need to wait 60 s for it to settle
    folder.hand_out([tmp_path / "a.png"])
    clock[0] += 3600
    assert folder.look() == [] and folder.look() == []  # the .crdownload, however long it rests


def test_a_page_left_unread_is_not_read_again_on_every_look(tmp_path, watching):
    """Run from cron with --once, a watch read a page left unread again on every run, said so and added to
    the audit log each time; `formkit scan` reads such pages again when asked (after adding a template)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "samples" / "scans" / "foreign-page.png", inbox / "x.png")
    old = time.time() - 3600
    os.utime(inbox / "x.png", (old, old))
    db = tmp_path / "s.sqlite"
    for run in range(2):
        output = watching(inbox, "--db", db, "--jobs", "1", "--settle", SETTLE, "--interval", 0.2, "--once",
                          "--max-seconds", 60).finish()
        assert ("Done: 1 file(s) read." if run == 0 else "Done: 0 file(s) read.") in output, output
        if run == 0:  # the totals name the file each reason came from, as a scan's do
            assert any(line.startswith("      1 x not a formkit page") and line.endswith(f"[{inbox / 'x.png'}]")
                       for line in output.splitlines()), output
    assert [p["status"] for p in stored(db)] == ["rejected"] and reads(db) == ["read-page"]


def test_a_file_read_half_copied_is_read_again_whole_and_only_the_whole_reading_is_kept(tmp_path, scans):
    """A copy that pauses longer than the settle time is handed out half-written; its half is read (a
    truncated JPEG: rejected), then the whole file once the copy completes. The half's reading (no page of it
    read) goes, and the watch says so: staff are not left a rejected page though nothing is wrong. A file
    overwritten with other content keeps both readings. The watch's own loop, on a clock of the test's."""
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()

    def jpeg(name: str) -> bytes:
        return cv2.imencode(".jpg", cv2.imdecode(np.frombuffer(scans[name], np.uint8), cv2.IMREAD_COLOR),
                            [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()

    photo, first, other = jpeg("page0.png"), jpeg("page1.png"), jpeg("page2.png")
    clock, wall0, halves = [0.0], time.time(), []
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in (
        ("photo", photo), ("photo half", photo[:len(photo) // 2]), ("first half", first[:len(first) // 2]),
        ("other", other))}

    def write_halves() -> None:
        (inbox / "photo.jpg").write_bytes(photo[:len(photo) // 2])
        (inbox / "other.jpg").write_bytes(first[:len(first) // 2])

    def settle() -> None:
        clock[0] += 2 * SETTLE

    def finish_copies() -> None:
        halves.extend(stored(db))  # the halves were read
        with (inbox / "photo.jpg").open("ab") as handle:  # the copy goes on where it paused
            handle.write(photo[len(photo) // 2:])
        (inbox / "other.jpg").write_bytes(other)  # written over with another file

    script, finished, notes = [write_halves, settle, finish_copies, settle], [], []
    folder = Folder(inbox, SETTLE, clock=lambda: clock[0], wall=lambda: wall0 + clock[0])

    def look() -> list[Path] | None:
        if script:
            script.pop(0)()
        ready = Folder.look(folder)
        if not script and ready == []:
            finished.append(True)
        return ready

    folder.look = look  # type: ignore[method-assign]
    until = time.monotonic() + 120
    watch = Watch(inbox, db, jobs=1, settle=SETTLE, interval=0, stop=lambda: bool(finished) or time.monotonic() > until,
                  on_note=notes.append)
    watch.folder = folder
    try:
        watch.run()
    finally:
        watch.close()
    assert finished, "the watch did not get through its looks in time"
    assert sorted((p["name"], p["sha256"]) for p in halves) == [("other.jpg", sha["first half"]),
                                                                 ("photo.jpg", sha["photo half"])]

    pages = stored(db)
    assert [(p["sha256"], p["status"]) for p in pages if p["name"] == "photo.jpg"] == [(sha["photo"], "read")]
    assert sorted(p["sha256"] for p in pages if p["name"] == "other.jpg") == sorted([sha["first half"], sha["other"]])
    assert notes == ["photo.jpg: read again after it finished copying; its half-copied reading dropped"]
    store = Store(db, readonly=True)
    try:
        assert sorted(r["sha256"] for r in store.inputs() if Path(r["path"]).name == "photo.jpg") == [sha["photo"]]
        assert [r["action"] for r in store.audit_rows()].count("input-half-copied") == 1
    finally:
        store.close()


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _reading(info: InputFile, state: PageState, index: int = 0) -> PageResult:
    """A made-up reading of page ``index`` of ``info``: K10 K7M3QX9C's first page, with one value, when ``state``
    is read; else the value alone (a page rejected keeps what it had)."""
    if state is PageState.READ:
        return PageResult(info.path, index + 1, info.sha256, state, form="k10", version=1, form_page=1,
                          serial="K7M3QX9C", values=[FieldValue("q1", "choice", "3", 0.9, True, "a faint mark")])
    return PageResult(info.path, index + 1, info.sha256, state, reason="truncated image",
                      values=[FieldValue("q1", "choice", "3", 0.4, True, "a faint mark")])


def _half(store: Store, name: str, *states: PageState) -> tuple[int, list[int]]:
    """An input of 100 bytes at in/NAME.jpg, its content named "NAME half", with a page in each of ``states``:
    its id and its pages' ids."""
    info = InputFile(f"in/{name}.jpg", _sha(f"{name} half"), 100, len(states))
    input_id = store.add_input(info)[0]
    for index, state in enumerate(states):
        store.save_page(input_id, index, _reading(info, state, index=index))
    return input_id, store.input_page_ids(input_id)


def _forget(store: Store, name: str) -> list[int]:
    """``forget_half_copied`` for in/NAME.jpg grown to 200 bytes that begin with its half."""
    return store.forget_half_copied(f"in/{name}.jpg", _sha(name), 200, {100: _sha(f"{name} half")}.get)


@both_backends
def test_a_half_copied_reading_none_of_whose_pages_was_read_is_forgotten_and_named_by_content(new_store):
    """``Store.forget_half_copied`` alone, with made-up readings: a half whose pages were all rejected or
    unidentified goes, and the audit log names its pages by content and page index (page ids are reused by
    the next pages saved); a file that is not the half's continuation, or not larger, takes nothing away."""
    store = Store(new_store)
    try:
        half, pages = _half(store, "a", PageState.REJECTED, PageState.UNIDENTIFIED)
        assert store.forget_half_copied("in/a.jpg", _sha("a"), 200, lambda size: "not its start") == []
        assert store.forget_half_copied("in/a.jpg", _sha("a"), 100, {100: _sha("a half")}.get) == []  # not larger
        assert _forget(store, "a") == [half]
        assert [store.page(page) for page in pages] == [None, None] and list(store.inputs()) == []
        [forgotten] = [r for r in store.audit_rows() if r["action"] == "input-half-copied"]
        assert json.loads(forgotten["detail"])["pages"] == [[_sha("a half"), 0], [_sha("a half"), 1]]
    finally:
        store.close()


@both_backends
def test_a_half_copied_reading_with_a_page_read_or_someones_work_on_it_is_kept(new_store):
    """An earlier input with a page read stays (a PDF saved again with an incremental update begins with
    the file it was: its reading is no half's), and so does one a person dealt with, or whose value a
    reviewer has claimed and is looking at; a claim run out is no one's work."""
    store = Store(new_store)
    try:
        _, [read_page] = _half(store, "read", PageState.READ)
        other = InputFile("in/other.jpg", _sha("other"), 100, 1)
        store.save_page(other_id := store.add_input(other)[0], 0, _reading(other, PageState.READ))
        [other_page] = store.input_page_ids(other_id)
        assert store.page(other_page)["conflict_of"] == read_page  # another image of the page the half read
        _, [voided_page] = _half(store, "voided", PageState.REJECTED)
        store.void_pages([voided_page], "a torn page", "ann")
        _, [claimed_page] = _half(store, "claimed", PageState.REJECTED)
        lapsed, [lapsed_page] = _half(store, "lapsed", PageState.REJECTED)
        value = {int(v["page_id"]): int(v["id"]) for v in store.db.execute("SELECT id, page_id FROM field_values")}
        store.claim(value[claimed_page], "ann", 600)
        store.claim(value[lapsed_page], "bob", -60)

        assert _forget(store, "read") == []
        assert store.page(read_page)["status"] == "read" and store.page(other_page)["conflict_of"] == read_page
        assert _forget(store, "voided") == [] and store.page(voided_page)["status"] == "voided"
        assert _forget(store, "claimed") == [] and store.page(claimed_page)["status"] == "rejected"
        assert _forget(store, "lapsed") == [lapsed] and store.page(lapsed_page) is None
        assert sorted(r["path"] for r in store.inputs()) == ["in/claimed.jpg", "in/other.jpg", "in/read.jpg",
                                                             "in/voided.jpg"]
    finally:
        store.close()


def test_a_pdf_grown_by_an_incremental_update_keeps_its_reading_and_a_rejected_half_goes(tmp_path):
    """The watch's side, on files: the file's first bytes are hashed as they lie now (only while it is as it
    was when read). A PDF saved again with an incremental update (appended: the old file begins the new
    one) keeps the reading of its first version, and nothing is said; the rejected half of a copy that
    paused goes, and a line says so; a file changed since it was hashed takes nothing away."""
    inbox, db = tmp_path / "inbox", tmp_path / "forms.sqlite"
    inbox.mkdir()
    first = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    update = b"2 0 obj << /Annots [] >> endobj\ntrailer << /Root 1 0 R /Prev 9 >>\n%%EOF\n"
    photo = bytes(range(256)) * 40

    def written(name: str, data: bytes) -> InputFile:
        (inbox / name).write_bytes(data)
        return InputFile(str(inbox / name), _sha(data), len(data), 1, modified_ns=(inbox / name).stat().st_mtime_ns)

    def arrived(name: str, data: bytes, state: PageState) -> None:
        info = written(name, data)
        store.save_page(store.add_input(info)[0], 0, _reading(info, state))

    store, notes = Store(db), []
    try:
        arrived("form.pdf", first, PageState.READ)
        arrived("photo.jpg", photo[:3000], PageState.REJECTED)
        arrived("copy.jpg", photo[:2000], PageState.REJECTED)
    finally:
        store.close()
    watch = Watch(inbox, db, settle=SETTLE, on_note=notes.append)
    try:
        watch._forget_half_copy(written("form.pdf", first + update))
        assert notes == []
        watch._forget_half_copy(written("photo.jpg", photo))
        assert notes == ["photo.jpg: read again after it finished copying; its half-copied reading dropped"]
        changed = written("copy.jpg", photo)
        (inbox / "copy.jpg").write_bytes(photo + b"more")  # written since it was hashed: it cannot tell
        watch._forget_half_copy(changed)
        assert len(notes) == 1
    finally:
        watch.close()
    pages = stored(db)
    assert sorted((p["name"], p["status"], p["sha256"]) for p in pages) == sorted(
        [("form.pdf", "read", _sha(first)), ("copy.jpg", "rejected", _sha(photo[:2000]))])


def test_a_look_at_an_unchanged_folder_does_not_list_it_again_and_misses_no_change(tmp_path, monkeypatch):
    """A look at a folder of 40,000 scans took 2 s of CPU, every file's path listed, resolved and parsed again:
    now find_inputs is asked again only when a folder's names change (and on every look where a link is),
    and every file is still looked at, so that one written over in place is seen too."""
    import scanner.watch as watch_module
    from scanner.ingest import find_inputs

    asked: list[int] = []

    def counted(paths):
        asked.append(1)
        return find_inputs(paths)

    monkeypatch.setattr(watch_module, "find_inputs", counted)
    png = cv2.imencode(".png", np.full((30, 40), 255, np.uint8))[1].tobytes()
    (tmp_path / "day1").mkdir()
    for name in ("a.png", "day1/b.png", "notes.txt"):
        (tmp_path / name).write_bytes(png)
    clock = [0.0]
    folder = Folder(tmp_path, settle=0, clock=lambda: clock[0])

    def look() -> list[str]:
        clock[0] += 1
        ready = folder.look() or []
        folder.hand_out(ready)
        return [p.relative_to(tmp_path).as_posix() for p in ready]

    look()
    assert look() == ["a.png", "day1/b.png"] and look() == [] and len(asked) == 1
    (tmp_path / "a.png").write_bytes(png + b"\0")  # written over in place: no name changes
    look()
    assert look() == ["a.png"] and len(asked) == 1
    changes = [
        lambda: (tmp_path / "day1" / "c.png").write_bytes(png),  # a new file in a folder seen before
        lambda: (tmp_path / "day2").mkdir() or (tmp_path / "day2" / "d.png").write_bytes(png),  # in a new folder
        lambda: os.rename(tmp_path / "day1" / "b.png", tmp_path / "day1" / "b2.png"),  # renamed
        lambda: os.rename(tmp_path / "notes.txt", tmp_path / "e.png"),  # renamed to a name that is read
        lambda: (tmp_path / "day2" / "d.png").unlink() or (tmp_path / "day2" / "d.png").mkdir(),  # a file made a folder
    ]
    expected = [["day1/c.png"], ["day2/d.png"], ["day1/b2.png"], ["e.png"], []]
    for change, seen in zip(changes, expected, strict=True):
        before = len(asked)
        change()
        assert look() + look() == seen and len(asked) == before + 1
        assert look() == [] and len(asked) == before + 1
    os.symlink(tmp_path / "day1", tmp_path / "linked")  # a link: asked on every look, as before
    before = len(asked)
    look(), look(), look()
    assert len(asked) == before + 3
