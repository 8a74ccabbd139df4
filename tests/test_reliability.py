"""A week of real returns never stops a batch, and the store is nobody else's file: each guarantee listed
in docs/reliability.md, reproduced with the input that once broke it."""

from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from formkit.cores import usable_cores
from formkit.errors import ExitCode
from formkit.generate import Copy, generate, make_copies
from formkit.layout import build_layout
from formkit.records import PageResult
from formkit.store import Store
from formkit.template import resolve_template
from formkit_cli import main
from scanner.batch import scan
from scanner.pipeline import read_page
from tests.shared_pages import white_png
from tests.synthetic import degrade_scan, draw_mark, render_pdf

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("reliability")

DPI = 200
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def formkit_command(*args: str, user: str | None = None) -> list[str]:
    """The formkit command of this source tree, as a separate process (as ``user`` when given)."""
    command = [sys.executable, "-c", "import sys; from formkit_cli import main; sys.exit(main())", *map(str, args)]
    if user and os.geteuid() == 0:
        account = pwd.getpwnam(user)
        command = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", *command]
    return command


def run_formkit(*args: str, user: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(formkit_command(*args, user=user), capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)


@pytest.fixture
def open_tmp():
    """A folder any user may write in (pytest's own are private to their owner), for commands run as
    another user; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="formkit-test-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def inbox_for_anyone(folder: Path, pages: list[np.ndarray]) -> Path:
    """``folder``/inbox holding ``pages`` as 0.png, 1.png ..., which any user may read."""
    inbox = folder / "inbox"
    inbox.mkdir()
    for n, page in enumerate(pages):
        save(page, inbox / f"{n}.png").chmod(0o644)
    return inbox


@pytest.fixture(scope="module")
def k10_pages(tmp_path_factory) -> list[np.ndarray]:
    """Three filled K10 pages (three serials) as 200 dpi RGB scans."""
    tmp = tmp_path_factory.mktemp("k10")
    layout = build_layout(resolve_template("k10"))
    generate(layout, make_copies(3, None, 31), tmp / "k10.pdf")
    pages = []
    rng = random.Random(8)
    for image in render_pdf(tmp / "k10.pdf", DPI):
        for f in layout.pages[0].fields[:10]:
            draw_mark(image, DPI, f.options[rng.randrange(5)].box, "tick", rng)
        pages.append(degrade_scan(image, DPI, rng, out_dpi=DPI))
    return pages


def save(image: np.ndarray, path: Path) -> Path:
    """``image`` (RGB or grey) as a PNG or JPEG at ``path``; written by Python, since OpenCV's own writer
    crashes on a file name that is not valid UTF-8."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    path.write_bytes(cv2.imencode(path.suffix, bgr)[1].tobytes())
    return path


def read(image: np.ndarray) -> PageResult:
    return read_page(image if image.ndim == 2 else image.min(axis=2), PageResult("t", 1, "", "rejected"))


# A batch must never stop


def test_byte_identical_files_are_read_once_and_reported(tmp_path, k10_pages):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = save(k10_pages[0], inbox / "a.png")
    shutil.copy(first, inbox / "a (copy).png")
    save(k10_pages[1], inbox / "b.png")
    db = tmp_path / "s.sqlite"
    result = cli("scan", inbox, first, first, "--db", db, "--jobs", "1")  # a folder, a file in it, twice
    assert result.exit_code == 0, result.output
    assert "Pages read: 2," in result.output
    assert result.output.count("the same content as") == 1 and "a (copy).png" in result.output
    store = Store(db, readonly=True)
    assert len(store.pages()) == 2 and {r["status"] for r in store.pages()} == {"read"}
    store.close()
    # many copies: a screenful named, the rest counted (a folder of 2,000 printed 2,000 lines)
    for n in range(30):
        shutil.copy(first, inbox / f"copy {n:02d}.png")
    result = cli("scan", inbox, "--db", db, "--jobs", "1")
    assert result.output.count("the same content as") == 20 + 1 and "... and 11 more files" in result.output


def test_an_unreadable_file_and_an_undecodable_name_are_rejected_and_the_rest_read(open_tmp, k10_pages):
    tmp_path = open_tmp
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save(k10_pages[0], inbox / "good.png")
    locked = save(k10_pages[1], inbox / "locked.png")
    locked.chmod(0)
    odd_name = os.fsdecode(bytes(inbox) + b"/caf\xe9.png")
    save(k10_pages[2], Path(odd_name))
    inbox.chmod(0o777)
    db = tmp_path / "s.sqlite"
    done = run_formkit("scan", inbox, "--db", db, "--jobs", "2", user="nobody")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    store = Store(db, readonly=True)
    pages = {Path(r["path"]).name: r for r in store.pages()}
    assert pages["locked.png"]["status"] == "rejected" and "Permission denied" in pages["locked.png"]["reason"]
    assert pages["good.png"]["status"] == "read"
    assert pages["caf\\xe9.png"]["status"] == "read"  # the byte that is not UTF-8 kept as an escape


def test_two_scans_of_one_store_at_once_both_finish_and_store_each_page_once(tmp_path, k10_pages):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(6):  # each page twice, as PNG and as JPEG: three reads and three conflicts
        save(k10_pages[number % 3], inbox / f"p{number}.{'png' if number < 3 else 'jpg'}")
    db = tmp_path / "s.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    both = [subprocess.Popen(formkit_command("scan", inbox, "--db", db, "--jobs", "1"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in both]
    for process, (_, err) in zip(both, outputs, strict=True):
        assert process.returncode == 0 and "Traceback" not in err, err
    store = Store(db, readonly=True)
    pages = store.pages()
    assert len(pages) == 6 and len({(r["path"], r["page_index"]) for r in pages}) == 6
    assert sorted(r["status"] for r in pages) == ["conflict"] * 3 + ["read"] * 3


@pytest.mark.parametrize("image", ["black", "grey", "noise", "blurred form"])
def test_pages_without_contrast_are_rejected_not_blank(k10_pages, image):
    rng = np.random.default_rng(1)
    images = {"black": np.zeros((2339, 1654), np.uint8), "grey": np.full((2339, 1654), 128, np.uint8),
              "noise": rng.integers(0, 256, (2339, 1654), dtype=np.uint8),
              "blurred form": cv2.GaussianBlur(k10_pages[0].min(axis=2), (0, 0), 25)}
    result = read(images[image])
    assert result.status == "rejected", (result.status, result.reason)
    assert "not blank paper" in result.reason and result.image_jpeg


def test_empty_paper_is_still_blank():
    """The back of a duplex sheet: light paper, a little show-through and scanner noise, a shadow along
    the scanner lid's edge."""
    rng = np.random.default_rng(2)
    page = np.clip(rng.normal(238, 3, (2339, 1654)), 0, 255).astype(np.uint8)
    cv2.putText(page, "show-through", (300, 900), cv2.FONT_HERSHEY_SIMPLEX, 4, 226, 8)
    page[:, :25] = 90
    assert read(page).status == "blank"


def test_every_frame_of_a_tiff_is_checked_before_it_is_decoded(tmp_path, k10_pages):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = Image.fromarray(k10_pages[0])
    huge = Image.new("1", (12000, 12000), 1)  # 144 MP, a few KB compressed
    first.save(inbox / "stack.tif", save_all=True, append_images=[huge], compression="tiff_deflate")
    Image.new("L", (100000, 1), 255).save(inbox / "strip.png")
    store = Store(tmp_path / "s.sqlite")
    summary = scan([inbox], store, jobs=1)
    pages = {(Path(r["path"]).name, r["page_index"]): r for r in store.pages()}
    assert summary.pages["rejected"] == 2 and summary.pages["read"] == 0
    strip = pages[("strip.png", 0)]
    assert "too small or too narrow" in strip["reason"]
    # the whole TIFF is refused when described, before any frame is decoded
    assert "page 2: image too large (12000 x 12000 px" in pages[("stack.tif", 0)]["reason"]


def test_rejected_pages_are_read_again_with_what_they_lacked_and_keep_their_image(tmp_path):
    pack = tmp_path / "pack.yaml"
    wording = "A sentence long enough to wrap onto a second line, which moves every box below it down the page."
    pack.write_text("form: wai-sr\ntexts:\n  instructions: Mark one box per line.\n"
                    + "".join(f"  wai_{i:02d}: {wording}\n" for i in range(1, 13)), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert cli("generate", "wai-sr", "--text-pack", pack, "--out", tmp_path / "wai.pdf").exit_code == 0
    save(render_pdf(tmp_path / "wai.pdf", DPI)[0], inbox / "wai.png")
    db = tmp_path / "s.sqlite"
    assert "rejected: 1" in cli("scan", inbox, "--db", db, "--jobs", "1").output
    store = Store(db)
    [page] = store.pages()
    assert store.page_image(page["id"]) is not None  # review can show it
    store.close()
    again = cli("scan", inbox, "--db", db, "--jobs", "1", "--text-pack", pack)
    assert "Pages read: 1" in again.output, again.output
    assert [r["status"] for r in Store(db, readonly=True).pages()] == ["read"]
    missing = cli("scan", inbox, "--db", db, "--templates", tmp_path / "no-such-folder")
    assert missing.exit_code == ExitCode.INPUT and "no-such-folder" in missing.output


@pytest.mark.parametrize("serial", ["G9JU46Q3", "OOOOOOOO"])
def test_a_qr_serial_whose_check_character_fails_is_rejected(tmp_path, serial):
    layout = build_layout(resolve_template("k10"))
    generate(layout, [Copy(serial)], tmp_path / "forged.pdf")
    result = read(render_pdf(tmp_path / "forged.pdf", DPI)[0])
    assert result.status == "rejected" and "check character" in result.reason and serial in result.reason


# The store is not anyone's file


@pytest.fixture
def foreign_db(tmp_path) -> Path:
    db = tmp_path / "other.sqlite"
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE patients (name TEXT)")
    other.execute("INSERT INTO patients VALUES ('someone')")
    other.commit()
    other.close()
    return db


@pytest.mark.parametrize("command", [["status"], ["export", "--out", "x"], ["scan", "nothing-here"]])
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(foreign_db, command):
    before = foreign_db.read_bytes()
    result = cli(*command, "--db", foreign_db)
    assert result.exit_code == ExitCode.STORE and "not a formkit store" in result.output
    assert foreign_db.read_bytes() == before
    assert not Path(str(foreign_db) + "-wal").exists()


@pytest.fixture
def damaged_db(tmp_path) -> Path:
    """A formkit store whose pages table's page of the file was overwritten (a disk error, a bad copy)."""
    from tests.test_store_backends import add, file_info

    db = tmp_path / "damaged.sqlite"
    store = Store(db)
    add(store, file_info("a.jpg"))
    store.close()
    with sqlite3.connect(db) as plain:
        plain.execute("PRAGMA journal_mode=DELETE")
        root = plain.execute("SELECT rootpage FROM sqlite_master WHERE name='pages'").fetchone()[0]
        size = plain.execute("PRAGMA page_size").fetchone()[0]
    plain.close()
    with open(db, "r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\x0d\xff\xff\xff" + b"\xee" * 200)
    return db


@pytest.mark.parametrize("command", [["status"], ["export", "--out", "x"], ["scan", "page.png", "--jobs", "1"]])
def test_a_damaged_store_is_exit_7_saying_so_not_a_traceback(damaged_db, command):
    """SQLite's "database disk image is malformed" came out as a traceback and exit 1 (a bug's)."""
    page = damaged_db.with_name("page.png")
    cv2.imwrite(str(page), np.full((400, 300), 255, np.uint8))
    result = cli(*[str(page) if part == "page.png" else part for part in command], "--db", damaged_db)
    assert result.exit_code == ExitCode.STORE, result.output
    assert f"{damaged_db}: the store is damaged (database disk image is malformed); restore it from a backup" \
        in result.output


def test_a_store_whose_schema_version_is_no_number_is_damaged(tmp_path):
    db = tmp_path / "odd.sqlite"
    Store(db).close()
    with sqlite3.connect(db) as plain:
        plain.execute("UPDATE meta SET value='4a' WHERE key='schema'")
    plain.close()
    result = cli("status", "--db", db)
    assert result.exit_code == ExitCode.STORE and "its schema version ('4a') is no number" in result.output


def test_a_read_only_store_can_be_read(open_tmp, k10_pages):
    tmp_path = open_tmp
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save(k10_pages[0], inbox / "a.png")
    db = tmp_path / "s.sqlite"
    assert cli("scan", inbox, "--db", db, "--jobs", "1").exit_code == 0
    db.chmod(0o444)
    before = db.read_bytes()
    status = run_formkit("status", "--db", db, user="nobody")
    assert status.returncode == 0 and "read" in status.stdout, status.stderr
    export = run_formkit("export", "--db", db, "--out", tmp_path / "out", user="nobody")
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "out" / "k10.csv").exists() and db.read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="runs commands as two other users")
def test_a_colleague_who_may_only_read_a_shared_store_leaves_nothing_that_locks_its_owner_out(open_tmp, k10_pages):
    """A store in a shared folder, written by one user and read by another who may not write it: the reader's
    status and export used to leave the store's side files behind as theirs, so the owner's next scan failed
    ("the store is read-only here") until someone deleted them; in a folder the reader may not write, the
    reader could not read at all."""
    shared = open_tmp / "shared"
    shared.mkdir()
    shutil.chown(shared, "daemon", "daemon")
    shared.chmod(0o755)  # the owner's folder: others may read, not write
    inbox = inbox_for_anyone(open_tmp, k10_pages[:2])
    db = shared / "s.sqlite"
    assert run_formkit("scan", inbox / "0.png", "--db", db, "--jobs", "1", user="daemon").returncode == 0
    for where in (shared, open_tmp):
        if where is open_tmp:  # a folder anyone may write in
            db = shutil.move(db, open_tmp / "s.sqlite")
        status = run_formkit("status", "--db", db, user="nobody")
        assert status.returncode == 0 and "read" in status.stdout, status.stderr
        export = run_formkit("export", "--db", db, "--out", open_tmp / f"out-{where.name}", user="nobody")
        assert export.returncode == 0, export.stderr
        assert sorted(p.name for p in Path(db).parent.glob("s.sqlite*")) == ["s.sqlite"]
    scan = run_formkit("scan", inbox / "1.png", "--db", db, "--jobs", "1", user="daemon")
    assert scan.returncode == 0 and "Pages read: 1" in scan.stdout, scan.stderr


def test_a_scan_refused_a_store_it_may_not_write_leaves_nothing_that_locks_it(open_tmp, k10_pages):
    """A scan of a store its user may not write (made read-only, or a colleague's) is refused before SQLite opens
    it: opened to write, SQLite made the store's side files first, with the store's permissions or as the
    colleague's, and the next scan, by the owner or once the store was writable again, was refused too (an
    adversarial pass, 2026-12-07). A side file left so by an older formkit is named, with what to do."""
    inbox = inbox_for_anyone(open_tmp, k10_pages[:2])
    db = open_tmp / "s.sqlite"
    assert run_formkit("scan", inbox / "0.png", "--db", db, "--jobs", "1", user="nobody").returncode == 0
    db.chmod(0o444)
    refused = run_formkit("scan", inbox / "1.png", "--db", db, "--jobs", "1", user="nobody")
    assert sorted(p.name for p in open_tmp.glob("s.sqlite*")) == ["s.sqlite"]
    assert refused.returncode == ExitCode.OUTPUT and "may not be written by you" in refused.stderr, refused.stderr
    db.chmod(0o644)
    shm = open_tmp / "s.sqlite-shm"
    shm.write_bytes(b"")
    shm.chmod(0o444)
    stale = run_formkit("scan", inbox / "1.png", "--db", db, "--jobs", "1", user="nobody")
    assert stale.returncode == ExitCode.OUTPUT and "s.sqlite-shm beside it may not be written" in stale.stderr
    shm.unlink()
    scan = run_formkit("scan", inbox / "1.png", "--db", db, "--jobs", "1", user="nobody")
    assert scan.returncode == 0 and "Pages read: 1" in scan.stdout, scan.stderr


def test_a_store_in_a_folder_its_user_may_not_write_is_read_and_not_written(open_tmp, k10_pages):
    """Where the store may be written but not its folder, status and export read it as it lies (SQLite could
    not make the side files it reads through, and every command failed "the store is read-only here", exit 7);
    a scan is refused with exit 6, naming the folder."""
    inbox, folder = inbox_for_anyone(open_tmp, k10_pages[:2]), open_tmp / "store"
    folder.mkdir()
    folder.chmod(0o777)
    db = folder / "s.sqlite"
    assert run_formkit("scan", inbox / "0.png", "--db", db, "--jobs", "1", user="nobody").returncode == 0
    folder.chmod(0o555)
    try:
        status = run_formkit("status", "--db", db, user="nobody")
        assert status.returncode == 0 and "read" in status.stdout, status.stderr
        export = run_formkit("export", "--db", db, "--out", open_tmp / "out", user="nobody")
        assert export.returncode == 0 and (open_tmp / "out" / "k10.csv").exists(), export.stderr
        scan = run_formkit("scan", inbox / "1.png", "--db", db, "--jobs", "1", user="nobody")
        assert scan.returncode == ExitCode.OUTPUT and f"its folder {folder} may not be written" in scan.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]
    finally:
        folder.chmod(0o777)


def test_the_audit_log_cannot_be_replaced_or_dropped(tmp_path, k10_pages):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save(k10_pages[0], inbox / "a.png")
    db = tmp_path / "s.sqlite"
    assert cli("scan", inbox, "--db", db, "--jobs", "1").exit_code == 0
    outside = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        outside.execute("INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, 'now', 'x', 'forged')")
    outside.execute("DROP TABLE audit")
    outside.commit()
    outside.close()
    before = db.read_bytes()
    result = cli("status", "--db", db)
    assert result.exit_code == ExitCode.STORE and "damaged" in result.output
    assert cli("scan", inbox, "--db", db).exit_code == ExitCode.STORE
    assert db.read_bytes() == before


# Hostile files in one batch with good pages


def hostile_files(folder: Path, good_page: np.ndarray) -> list[str]:
    """A few dozen files that have broken readers, written into ``folder``; returns their names."""
    png = cv2.imencode(".png", good_page)[1].tobytes()
    jpeg = cv2.imencode(".jpg", good_page)[1].tobytes()
    files: dict[str, bytes] = {
        "empty.jpg": b"", "empty.pdf": b"", "empty.png": b"", "empty.tif": b"",
        "truncated.png": png[: len(png) // 3], "truncated.jpg": jpeg[: len(jpeg) // 2],
        "truncated-header.png": png[:20], "text.jpg": b"this is not an image\n" * 50,
        "html.pdf": b"<html><body>not a pdf</body></html>", "png-named.pdf": png, "jpeg-named.tif": jpeg,
        "pdf-header-only.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "zeros.png": bytes(4096),
        "random.jpg": np.random.default_rng(3).integers(0, 256, 20000, dtype=np.uint8).tobytes(),
        "weird name ünïcødé.png": png[: len(png) // 4], "--looks-like-an-option.png": png[: len(png) // 2],
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    bad = list(files)
    for name, size in (("one-pixel.png", (1, 1)), ("strip.png", (100000, 1)), ("tall.png", (1, 60000)),
                       ("bomb.png", (20000, 20000))):
        (folder / name).write_bytes(white_png(*size))  # as Pillow writes them, each size made once a process
        bad.append(name)
    big_frame = Image.new("1", (12000, 12000), 1)
    Image.fromarray(good_page).save(folder / "stack.tif", save_all=True, append_images=[big_frame],
                                    compression="tiff_deflate")
    bad.append("stack.tif")
    for name, colour in (("black.png", 0), ("grey.png", 128)):
        cv2.imwrite(str(folder / name), np.full((1100, 850), colour, np.uint8))
        bad.append(name)
    cv2.imwrite(str(folder / "noise.png"), np.random.default_rng(4).integers(0, 256, (1100, 850), dtype=np.uint8))
    bad.append("noise.png")
    return bad


def test_a_batch_of_hostile_files_and_good_pages_reads_every_good_page(tmp_path, k10_pages):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    grey_pages = [p.min(axis=2) for p in k10_pages]
    bad = hostile_files(inbox, grey_pages[0])
    good = [save(page, inbox / f"good-{n}.png").name for n, page in enumerate(grey_pages)]
    layout = build_layout(resolve_template("k10"))
    generate(layout, [Copy("G9JU46Q3")], tmp_path / "forged.pdf")
    save(render_pdf(tmp_path / "forged.pdf", DPI)[0], inbox / "forged-qr.png")
    bad.append("forged-qr.png")
    db = tmp_path / "s.sqlite"
    done = run_formkit("scan", inbox, "--db", db, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    store = Store(db, readonly=True)
    pages: dict[str, list] = {}
    for row in store.pages():
        pages.setdefault(Path(row["path"]).name, []).append(row)
    for name in good:
        assert [r["status"] for r in pages[name]] == ["read"], name
    for name in bad:
        if name in ("png-named.pdf", "jpeg-named.tif"):
            # another page's content under a wrong extension: the same bytes as a good page, or read as itself
            continue
        if name not in pages:  # the same bytes as another file (the four empty ones): read once, reported
            assert f"{name}: the same content as" in done.stdout, f"{name} left no trace"
            continue
        for row in pages[name]:
            assert row["status"] == "rejected" and row["reason"], (name, row["status"], row["reason"])
            assert "internal error" not in row["reason"], (name, row["reason"])


def test_ctrl_c_and_a_reader_that_goes_away_are_not_reported_as_bugs(tmp_path, k10_pages, monkeypatch):
    """Exit 1 says a bug. Ctrl+C exits 130 saying what to do; `formkit status | head -1` exits 141 quietly."""
    from formkit_cli import pipeline

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "scan_files", interrupted)
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", str(tmp_path / "s.sqlite")])
    assert result.exit_code == ExitCode.INTERRUPTED == 130 and "run the command again" in result.output
    monkeypatch.undo()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        save(k10_pages[n], inbox / f"{n}.png")
    db = tmp_path / "s.sqlite"
    assert cli("scan", inbox, "--db", db, "--jobs", "1").exit_code == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    status = subprocess.Popen(formkit_command("status", "--db", db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, cwd=ROOT)
    assert status.stdout is not None
    status.stdout.close()  # as `head -1` does once it has its line; here before the first
    assert status.wait(timeout=60) == ExitCode.BROKEN_PIPE and status.stderr.read() == b""


def test_ctrl_c_during_a_batch_stops_it_without_the_workers_tracebacks(tmp_path, k10_pages):
    """Ctrl+C reaches every process of the terminal's group: each worker printed its KeyboardInterrupt
    traceback (5 of 8 runs of an adversarial pass, 2026-12-07), and one interrupted while sending a page back
    could leave the command waiting for ever. The workers leave Ctrl+C to the command."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rng = np.random.default_rng(3)
    for n in range(24):  # each file other bytes: every page is read, none skipped as seen before
        page = k10_pages[n % 3].astype(np.int16) + rng.integers(-2, 3, k10_pages[0].shape)
        save(np.clip(page, 0, 255).astype(np.uint8), inbox / f"{n:02d}.png")
    # the installed command, as a terminal starts it (``python -c`` showed the tracebacks far less often)
    command = [str(Path(sys.executable).with_name("formkit")), "scan", str(inbox), "--db", str(tmp_path / "s.sqlite"),
               "--jobs", "4"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    deadline = time.monotonic() + 60
    while len(_children(run.pid)) < min(4, usable_cores()) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)  # until the workers are reading pages
    time.sleep(0.5)
    os.killpg(run.pid, signal.SIGINT)  # as a terminal sends it
    _, errors = run.communicate(timeout=60)
    assert run.returncode == ExitCode.INTERRUPTED and "Traceback" not in errors, errors


def test_the_workers_leave_ctrl_c_to_the_command():
    """What the test above catches only some of the time (where a worker is when Ctrl+C comes decides whether
    it prints), every time: a worker of the pool ignores SIGINT, and still ends on SIGTERM."""
    from formkit.catalogue import shipped_catalogue
    from scanner.batch import worker_pool

    with worker_pool(2, 2, shipped_catalogue()) as pool:
        assert pool is not None
        handlers = pool.map(_signal_handlers, range(2))
    assert handlers == [(signal.SIG_IGN, signal.SIG_DFL)] * 2


def _signal_handlers(_: int) -> tuple:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (its workers)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_sigterm_and_a_full_standard_output_are_not_reported_as_bugs(tmp_path, k10_pages, monkeypatch):
    """SIGTERM (a cron timeout, docker stop) ended a scan with exit 143, no word and workers' tracebacks; output
    sent to a full disk ended in a traceback after the work was done."""
    from formkit_cli import pipeline

    def terminated(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler stops the command before this ends
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr(pipeline, "scan_files", terminated)
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", str(tmp_path / "s.sqlite")])
    assert result.exit_code == ExitCode.TERMINATED == 143 and "stopped (terminated)" in result.output
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back as it was
    monkeypatch.undo()
    # reading a page (with --jobs 1, in this process) catches every failure as that page's, but not this one
    import scanner.batch
    from formkit_cli.base import Terminated

    def stopped_while_reading(*_args, **_kwargs):
        raise Terminated

    monkeypatch.setattr(scanner.batch, "read_image", stopped_while_reading)
    save(k10_pages[0], tmp_path / "page.png")
    with pytest.raises(Terminated):
        scanner.batch.read_job(scanner.batch.Job(str(tmp_path / "page.png"), "x", 0))
    monkeypatch.undo()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save(k10_pages[0], inbox / "0.png")
    db = tmp_path / "s.sqlite"
    assert cli("scan", inbox, "--db", db, "--jobs", "1").exit_code == 0
    with open("/dev/full", "w") as full:
        status = subprocess.run(formkit_command("status", "--db", db), stdout=full, stderr=subprocess.PIPE,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, timeout=60)
    assert status.returncode == ExitCode.OUTPUT and b"Traceback" not in status.stderr
    assert b"cannot write the command's output" in status.stderr


def test_a_change_by_no_one_or_to_a_page_id_no_store_holds_is_a_usage_error(tmp_path):
    """'--by ""' wrote audit entries by no one; a page id past 64 bits ended in an OverflowError traceback."""
    db = tmp_path / "s.sqlite"
    Store(db).close()
    for args in (["--page", "1", "--by", " "], ["--page", str(2**64)]):
        result = cli("void", "--db", db, "--why", "a test", *args)
        assert result.exit_code == ExitCode.USAGE and "Traceback" not in result.output, (args, result.output)


def test_a_store_in_a_missing_folder_or_an_empty_file_is_bad_input_not_a_damaged_store(tmp_path):
    result = cli("scan", tmp_path, "--db", tmp_path / "no-such-folder" / "s.sqlite")
    assert result.exit_code == ExitCode.INPUT and "no such folder" in result.output
    # a device or a pipe given as the store: "the store cannot be used (disk I/O error)", exit 7, no advice
    for device in ("/dev/null", "/dev/zero"):
        result = cli("status", "--db", device)
        assert result.exit_code == ExitCode.INPUT and "not a file, so no store" in result.output, result.output
    (tmp_path / "empty.sqlite").write_bytes(b"")
    for command in ("status", "export"):
        result = cli(command, "--db", tmp_path / "empty.sqlite", *(["--out", tmp_path / "out"] * (command == "export")))
        assert result.exit_code == ExitCode.INPUT and "store" in result.output, (command, result.output)


def test_a_store_that_cannot_be_written_here_is_an_output_error_not_a_damaged_store(tmp_path):
    """On a read-only disk a scan said 'the store cannot be used' with exit 7 (a store that is wrong); a
    command that only reads, on a full disk, said 'nothing of the last page was kept'."""
    import sqlite3

    from formkit.errors import OutputError, StoreError
    from formkit.store.opening import operational

    db = tmp_path / "s.sqlite"
    db.write_bytes(b"")
    for text in ("attempt to write a readonly database", "unable to open database file"):
        error = operational(sqlite3.OperationalError(text), db)
        assert isinstance(error, OutputError) and "cannot be written here" in str(error), text
    full = operational(sqlite3.OperationalError("database or disk is full"), db, writing=False)
    assert isinstance(full, OutputError) and "last page" not in str(full) and "even reading" in str(full)
    assert isinstance(operational(sqlite3.OperationalError("unable to open database file"), tmp_path / "none",
                                  writing=False), StoreError)


def test_a_new_store_that_cannot_be_made_is_a_folder_problem_and_a_missing_text_pack_is_bad_input(tmp_path):
    """A new store in a folder the user may not write to was exit 7 ("the store cannot be used"), as if a store
    were wrong; a --text-pack that does not exist was exit 3, a template error. The README says 6 and 5."""
    from formkit.errors import OutputError, StoreError
    from formkit.store.opening import operational

    unable = sqlite3.OperationalError("unable to open database file")
    made = operational(unable, tmp_path / "new.sqlite")
    assert isinstance(made, OutputError) and "a new store cannot be made here" in str(made)
    assert isinstance(operational(unable, tmp_path / "no-folder" / "new.sqlite"), StoreError)
    result = cli("generate", "wai-sr", "--out", tmp_path / "w.pdf", "--text-pack", tmp_path / "nosuch.yaml")
    assert result.exit_code == ExitCode.INPUT and "nosuch.yaml: cannot read file" in result.output


def test_a_code_far_too_long_is_named_cut_short(tmp_path):
    """A roster cell of 5,000 characters was echoed whole: one error line of 5,123 characters."""
    roster = tmp_path / "roster.csv"
    roster.write_text("code\n" + "x" * 5000 + "\n", encoding="utf-8")
    result = cli("generate", "k10", "--roster", roster, "--out", tmp_path / "k10.pdf")
    assert result.exit_code == ExitCode.INPUT and "(5002 characters) must be 1-16 letters" in result.output
    assert len(result.output) < 300
