"""Outputs are all-or-nothing: special files are never replaced, and a full disk is exit 6 with the path,
no partial output and no temporary file left behind, and a store that still opens.

The full-disk tests are real: the ``formkit`` command runs in a user and mount namespace
(``unshare -rm``) with a small tmpfs mounted where it writes, and every check of what is left on the
tmpfs runs in the same shell, before the namespace (and the tmpfs) goes away."""

from __future__ import annotations

import errno
import json
import os
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from formkit.atomic import atomic_outputs, write_arrays
from formkit.errors import ExitCode, OutputError
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.serial import format_serial
from formkit.store import Store
from formkit.template import resolve_template
from scanner.batch import scan
from tests.synthetic import render_pdf

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("outputs")

ROOT = Path(__file__).resolve().parents[1]  # the source tree the subprocesses run
FORMKIT = [sys.executable, "-m", "formkit_cli"]


@dataclass
class Run:
    rc: int
    out: str
    err: str


def formkit(*args: str | Path, cwd: Path) -> Run:
    done = subprocess.run([*FORMKIT, *map(str, args)], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=600)
    return Run(done.returncode, done.stdout, done.stderr)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def assert_one_error_line(run: Run, *words: str) -> None:
    """Exit 6 with one error line on stderr, and no traceback, that holds each of ``words``. (scan's
    progress bar may be on stderr too.)"""
    lines = [line for line in run.err.splitlines() if line.strip() and line != "Reading pages"]
    assert run.rc == ExitCode.OUTPUT, run.err
    assert len(lines) == 1 and lines[0].startswith("formkit: error: "), run.err
    for word in words:
        assert word in lines[0], (word, lines[0])


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# Special files are refused, before anything is written


def test_a_fifo_is_refused_and_left_as_it_was(tmp_path):
    fifo = tmp_path / "out.pdf"
    os.mkfifo(fifo)
    run = formkit("generate", "k10", "--out", fifo, cwd=tmp_path)
    assert_one_error_line(run, str(fifo), "named pipe")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert entries(tmp_path) == ["out.pdf"]  # no temporary file either


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_symlink_is_refused_even_to_a_regular_file(tmp_path, dangling):
    real, link = tmp_path / "real.pdf", tmp_path / "out.pdf"
    if not dangling:
        real.write_bytes(b"old")
    link.symlink_to(real.name)
    run = formkit("generate", "k10", "--out", link, cwd=tmp_path)
    assert_one_error_line(run, str(link), "symbolic link")
    assert os.path.islink(link) and os.readlink(link) == real.name
    if dangling:
        assert entries(tmp_path) == ["out.pdf"]
    else:
        assert real.read_bytes() == b"old" and entries(tmp_path) == ["out.pdf", "real.pdf"]


def test_a_refused_manifest_means_no_pdf_either(tmp_path):
    pdf, fifo = tmp_path / "out.pdf", tmp_path / "manifest.csv"
    os.mkfifo(fifo)
    run = formkit("generate", "k10", "--out", pdf, "--manifest", fifo, cwd=tmp_path)
    assert_one_error_line(run, str(fifo))
    assert entries(tmp_path) == ["manifest.csv"]


def test_a_folder_or_a_file_given_twice_is_refused(tmp_path):
    (tmp_path / "k10.csv").mkdir()
    with pytest.raises(OutputError, match="k10.csv: is a folder"), atomic_outputs(tmp_path / "k10.csv"):
        pytest.fail("the block must not run")
    with pytest.raises(OutputError, match="given twice"), atomic_outputs(tmp_path / "a", tmp_path / "." / "a"):
        pytest.fail("the block must not run")
    assert entries(tmp_path) == ["k10.csv"]


def test_device_nodes_are_never_replaced(tmp_path):
    """As root, ``--out /dev/full`` once put the PDF in place of the device. A device node of our own is
    tried first, so a formkit that would replace it fails here before it can touch /dev/null."""
    if os.geteuid() != 0:
        pytest.skip("only root can make device nodes and replace /dev/null")
    own = tmp_path / "null"
    try:
        os.mknod(own, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    run = formkit("generate", "k10", "--out", own, cwd=tmp_path)
    assert_one_error_line(run, str(own), "character device")
    assert stat.S_ISCHR(os.lstat(own).st_mode) and entries(tmp_path) == ["null"]

    dev_null = Path("/dev/null")
    before = os.lstat(dev_null)
    assert stat.S_ISCHR(before.st_mode)
    run = formkit("generate", "k10", "--out", dev_null, cwd=tmp_path)
    assert_one_error_line(run, "/dev/null", "character device")
    after = os.lstat(dev_null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not list(Path("/dev").glob(".null.*.part"))


# A write that fails inside the block


def test_an_oserror_while_writing_becomes_an_output_error_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    expected = r"cannot write .*out\.csv: No space left on device; nothing was written"
    with pytest.raises(OutputError, match=expected), atomic_outputs(target) as temps:
        temps[0].write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert target.read_text() == "old" and entries(tmp_path) == ["out.csv"]


def test_an_oserror_about_another_file_is_not_called_an_output_error(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_outputs(tmp_path / "new" / "out.csv"):
        (tmp_path / "missing-input").read_text()
    assert entries(tmp_path) == []  # the folder made for the output is gone again



def test_arrays_are_written_whole_or_the_old_file_is_kept(tmp_path):
    import numpy as np

    target = tmp_path / "model.npz"
    write_arrays(target, {"w": np.arange(3)})
    with np.load(target) as kept:
        assert kept["w"].tolist() == [0, 1, 2]

    class Unwritable:
        def __array__(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="No space left on device"):
        write_arrays(target, {"w": np.arange(5), "v": Unwritable()})
    with np.load(target) as kept:
        assert kept["w"].tolist() == [0, 1, 2]
    assert entries(tmp_path) == ["model.npz"]

# A full disk, for real


@cache
def _namespaces() -> str:
    """'' when a user and mount namespace with a tmpfs can be made here, else why not."""
    try:
        done = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run unshare: {exc}"
    if done.returncode:
        return f"cannot mount a tmpfs in a user namespace ('unshare -rm' failed: {done.stderr.strip()})"
    return ""


needs_namespaces = pytest.mark.skipif(bool(_namespaces()), reason=_namespaces() or "-")


def on_small_disk(tmp_path: Path, size: str, *commands: list[str | Path]) -> tuple[list[Run], list[str]]:
    """Run ``commands`` one after another in one namespace, with a tmpfs of ``size`` on tmp_path/small;
    'formkit' as a command's first word is this source tree's formkit. Returns each command's result and
    what is on the tmpfs at the end."""
    small, logs = tmp_path / "small", tmp_path / "logs"
    small.mkdir()
    logs.mkdir()
    q = shlex.quote
    script = [f"mount -t tmpfs -o size={size} tmpfs {q(str(small))} || exit 99"]
    for i, command in enumerate(commands):
        argv = [*(FORMKIT if command[0] == "formkit" else [command[0]]), *command[1:]]
        script.append(f"{shlex.join(map(str, argv))} >{q(str(logs / f'{i}.out'))} 2>{q(str(logs / f'{i}.err'))};"
                      f" echo $? >{q(str(logs / f'{i}.rc'))}")
    script.append(f"find {q(str(small))} -mindepth 1 >{q(str(logs / 'left'))}")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    runs = [Run(int((logs / f"{i}.rc").read_text()), (logs / f"{i}.out").read_text(), (logs / f"{i}.err").read_text())
            for i in range(len(commands))]
    left = [str(Path(p).relative_to(small)) for p in (logs / "left").read_text().splitlines()]
    return runs, left


FILL = ("import os, sys; d, keep = sys.argv[1], int(sys.argv[2]); s = os.statvfs(d); "
        "open(os.path.join(d, 'filler'), 'wb').write(bytes(max(0, s.f_bavail * s.f_frsize - keep)))")


def fill(folder: Path, keep: int) -> list[str | Path]:
    """A command that fills ``folder``'s file system but for ``keep`` bytes."""
    return [sys.executable, "-c", FILL, folder, str(keep)]


CHECK = ("import json, sqlite3, sys; db = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); "
         "print(json.dumps([db.execute('PRAGMA integrity_check').fetchone()[0], dict(db.execute("
         "'SELECT p.serial, COUNT(v.id) FROM pages p LEFT JOIN field_values v ON v.page_id=p.id GROUP BY p.id'))]))")


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """Two printed k10 pages as scans (PNG), by name: (image, serial)."""
    tmp = tmp_path_factory.mktemp("pages")
    layout = build_layout(resolve_template("k10"))
    made = {}
    for name, seed in (("first", 11), ("second", 12)):
        pdf = tmp / f"{name}.pdf"
        rows = generate(layout, make_copies(1, None, seed), pdf)
        png = tmp / f"{name}.png"
        Image.fromarray(render_pdf(pdf, 200)[0]).save(png)
        made[name] = (png, str(rows[0]["serial"]))
    return made


@pytest.fixture(scope="module")
def store_with_a_page(tmp_path_factory, pages) -> Path:
    db = tmp_path_factory.mktemp("store") / "store.sqlite"
    store = Store(db)
    try:
        summary = scan([str(pages["first"][0])], store, jobs=1)
    finally:
        store.close()
    assert summary.pages["read"] == 1
    return db


@needs_namespaces
def test_generate_on_a_full_disk_is_exit_6_and_leaves_nothing(tmp_path):
    out = tmp_path / "small" / "cards" / "out.pdf"
    (run,), left = on_small_disk(tmp_path, "64k", ["formkit", "generate", "k10", "--count", "200", "--out", out])
    assert_one_error_line(run, str(out), "No space left on device")
    assert left == []  # no PDF, no temporary file, not even the folder made for it


@needs_namespaces
def test_generate_with_its_manifest_on_a_full_disk_writes_no_pdf_either(tmp_path):
    pdf, manifest = tmp_path / "out.pdf", tmp_path / "small" / "manifest.csv"
    (run,), left = on_small_disk(tmp_path, "4k", ["formkit", "generate", "k10", "--count", "200", "--out", pdf,
                                                  "--manifest", manifest])
    assert_one_error_line(run, "No space left on device")
    assert left == [] and entries(tmp_path) == ["logs", "small"]


@needs_namespaces
def test_export_on_a_full_disk_is_exit_6_and_leaves_no_csv(tmp_path, store_with_a_page):
    out = tmp_path / "small" / "csv"
    (run,), left = on_small_disk(tmp_path, "4k", ["formkit", "export", "--db", store_with_a_page, "--out", out])
    assert_one_error_line(run, str(out), "No space left on device")
    assert left == []


@needs_namespaces
def test_scan_on_a_full_disk_is_exit_6_and_the_store_keeps_whole_pages(tmp_path, pages):
    small = tmp_path / "small"
    db = small / "store.sqlite"
    (first, second) = (pages["first"], pages["second"])
    runs, left = on_small_disk(
        tmp_path, "1m",
        ["formkit", "scan", first[0], "--db", db, "--jobs", "1"],
        fill(small, 64 * 1024),  # room to open the store, not to save a page with its image
        ["formkit", "scan", second[0], "--db", db],
        ["formkit", "status", "--db", db],
        [sys.executable, "-c", CHECK, db])
    scanned, _, full, status, check = runs
    assert scanned.rc == 0, scanned.err
    assert_one_error_line(full, str(db))
    assert status.rc == 0, status.err
    assert format_serial(first[1]) in status.out and format_serial(second[1]) not in status.out
    integrity, values_by_serial = json.loads(check.out)
    assert integrity == "ok", check.err
    assert list(values_by_serial) == [first[1]] and values_by_serial[first[1]] >= 10  # the page with its values
    assert "store.sqlite" in left




@needs_namespaces
@pytest.mark.parametrize("keep", [pytest.param(0, id="no-room"), pytest.param(16 * 1024, id="16k")])
def test_scan_with_no_room_to_open_the_store_is_exit_6_and_the_store_is_kept(tmp_path, pages, keep):
    small = tmp_path / "small"
    db = small / "store.sqlite"
    first, second = pages["first"], pages["second"]
    runs, _ = on_small_disk(
        tmp_path, "1m",
        ["formkit", "scan", first[0], "--db", db, "--jobs", "1"],
        fill(small, keep),
        ["formkit", "scan", second[0], "--db", db],
        ["rm", small / "filler"],
        ["formkit", "status", "--db", db])
    scanned, _, full, _, status = runs
    assert scanned.rc == 0, scanned.err
    assert_one_error_line(full, str(db))
    assert status.rc == 0 and format_serial(first[1]) in status.out and format_serial(second[1]) not in status.out, \
        status.err


@needs_namespaces
@pytest.mark.parametrize("keep", [pytest.param(16 * 1024, id="16k"), pytest.param(64 * 1024, id="64k")])
def test_scan_into_a_new_store_on_a_full_disk_is_exit_6_and_works_once_there_is_room(tmp_path, pages, keep):
    small = tmp_path / "small"
    db = small / "store.sqlite"
    runs, _ = on_small_disk(
        tmp_path, "1m",
        fill(small, keep),
        ["formkit", "scan", pages["first"][0], "--db", db, "--jobs", "1"],
        ["rm", small / "filler"],
        ["formkit", "scan", pages["first"][0], "--db", db, "--jobs", "1"],
        ["formkit", "status", "--db", db])
    _, full, _, again, status = runs
    assert_one_error_line(full, str(db))
    assert again.rc == 0, again.err
    assert status.rc == 0 and format_serial(pages["first"][1]) in status.out, status.err
