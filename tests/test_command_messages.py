"""What commands say when something is wrong: one line through formkit's errors with the README's exit code,
a hint that can be acted on (or pasted into a shell), and nothing changed on the way."""

from __future__ import annotations

import re
import shlex
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from werkzeug.serving import BaseWSGIServer

from formkit.records import InputFile
from formkit.store import Store
from formkit_cli import main
from formkit_cli.reviewing import listen
from tests.test_conventions import choice_value, page, states

SCANNED_AS = "scans ü/Фото 1.jpg"  # a path as scanned, with a space and letters a shell must not split
SHA = "ee8d" + "0" * 60


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def store_path(tmp_path) -> Path:
    """A store (in a folder whose name has a space) holding one K10 page read from ``SCANNED_AS``."""
    folder = tmp_path / "my forms"
    folder.mkdir()
    db = folder / "store ü.sqlite"
    store = Store(db)
    try:
        input_id, _ = store.add_input(InputFile(SCANNED_AS, SHA, 10, 1))
        store.save_page(input_id, 0, page("K7M3QX9C", 1, [choice_value("k10_01", states("2:filled"), "2")]))
    finally:
        store.close()
    return db


@pytest.fixture
def no_serving(monkeypatch) -> None:
    """Should review ever get as far as serving, return at once rather than block the test."""
    def serve_once(self: BaseWSGIServer, poll_interval: float = 0.5) -> None:
        self.server_close()

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", serve_once)


# review on a port or host it cannot listen on

def test_review_on_a_port_in_use_says_so_in_one_line_and_exits_2(store_path, no_serving):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = run("review", "--db", store_path, "--no-browser", "--port", port)
    assert code == 2, out
    assert out == (f"formkit: error: --port {port}: in use by another program; give another --port, or --port 0 "
                   "for any free one\n")


def test_review_on_a_host_that_is_not_an_address_exits_2(store_path, no_serving, monkeypatch):
    # not this computer's address: refused by bind without asking a name server
    code, out = run("review", "--db", store_path, "--no-browser", "--host", "192.0.2.1", "--port", "0")
    assert code == 2, out
    assert out.startswith("formkit: error: --host 192.0.2.1: not an address of this computer") and out.count("\n") == 1

    def unknown(*args: object, **kwargs: object) -> object:  # as a name server answers for 256.1.1.1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    code, out = run("review", "--db", store_path, "--no-browser", "--host", "256.1.1.1", "--port", "0")
    assert code == 2, out
    assert out == ("formkit: error: --host 256.1.1.1: no such address or host name (Name or service not known); "
                   "give an address of this computer, e.g. 127.0.0.1\n")


def test_port_0_listens_on_a_free_port():
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] != 0
    finally:
        sock.close()


def test_review_says_where_it_listens_and_when_it_stopped(store_path, no_serving):
    """Ctrl+C ends werkzeug's serve_forever quietly (it catches KeyboardInterrupt): 'Stopped.' never showed."""
    code, out = run("review", "--db", store_path, "--no-browser", "--port", "0")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith(f"Reviewing {store_path} at http://127.0.0.1:") and lines[-1] == "Stopped."
    # on 127.0.0.1 too, which every user of a shared computer (a terminal server) can open: an access token
    assert re.search(r"/\?token=[\w-]{16,}  \(Ctrl\+C to stop\)$", lines[0])


def test_review_starts_the_browser_without_the_token_in_its_command_line(store_path, no_serving, monkeypatch):
    """The browser was started with the address and its token as an argument, which any user of a shared
    computer can read (``ps``) while it starts: it is started with a page of this user's alone that sends it
    on to the address."""
    opened = []

    def browser(uri: str) -> bool:
        page = Path(uri.removeprefix("file://"))
        opened.append((uri, page.read_text(encoding="utf-8"), page.stat().st_mode & 0o777))
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    code, out = run("review", "--db", store_path, "--port", "0")
    assert code == 0, out
    address = re.search(r"at (http://\S+)", out).group(1)
    [(uri, page, mode)] = opened
    assert uri.startswith("file://") and "token" not in uri and mode == 0o600
    assert f'content="0;url={address}"' in page and "?token=" in address


# void's "To restore:" line can be pasted into a shell

def test_the_restore_hint_is_quoted_for_the_shell(store_path):
    code, out = run("void", "--db", store_path, "--input", SCANNED_AS, "--why", "scanned by mistake")
    assert code == 0, out
    [hint] = [line for line in out.splitlines() if line.startswith("To restore: ")]
    words = shlex.split(hint.removeprefix("To restore: "))
    assert words == ["formkit", "void", "--undo", "--db", str(store_path), "--input", SCANNED_AS]
    code, out = run(*words[1:])
    assert code == 0 and "voided -> read" in out, out


# void, assign and review refuse an empty file as status does, and leave it empty

@pytest.mark.parametrize("command", [
    ["void", "--page", "1", "--why", "x"],
    ["void", "--undo", "--input", "x.pdf"],
    ["assign", "--page", "1", "--form", "k10", "--page-no", "1", "--serial", "K7M3-QX9C"],
    ["review", "--no-browser", "--port", "0"],
])
def test_an_empty_file_is_no_store_for_commands_that_write(tmp_path, command, no_serving):
    empty = tmp_path / "zero.sqlite"
    empty.touch()
    status_code, status_out = run("status", "--db", empty)
    code, out = run(command[0], "--db", empty, *command[1:])
    assert (code, out) == (status_code, status_out) == (5, f"formkit: error: {empty}: no such store; run 'formkit "
                                                           "scan' first\n")
    assert empty.stat().st_size == 0 and sorted(tmp_path.iterdir()) == [empty]


# messages that say what is wrong

def test_a_date_that_does_not_exist_is_called_so(store_path):
    code, out = run("report", "service", "--db", store_path, "--from", "2024-02-30", "--out", "x.pdf")
    assert code == 2 and "'2024-02-30' is not a real date" in out and "YYYY-MM-DD" not in out, out
    code, out = run("report", "service", "--db", store_path, "--to", "2024/02/28", "--out", "x.pdf")
    assert code == 2 and "write the date as YYYY-MM-DD" in out, out


def test_a_short_hash_prefix_says_how_many_digits_it_needs(store_path):
    code, out = run("void", "--db", store_path, "--input", SHA[:4], "--why", "x")
    assert code == 5 and "give its first 8 or more hex digits" in out, out
    code, out = run("void", "--db", store_path, "--input", SHA[:8], "--why", "x")
    assert code == 0 and "read -> voided" in out, out
    code, out = run("void", "--db", store_path, "--input", "nosuch.pdf", "--why", "x")
    assert code == 5 and "hex digits" not in out and "no such input" in out, out


def test_status_of_a_form_the_store_does_not_hold_names_the_ones_it_does(store_path, tmp_path):
    for flagged in ([], ["--flagged"]):
        code, out = run("status", "--db", store_path, "--form", "K10", *flagged)
        assert code == 0 and "formkit: note: no page in the store is of form 'K10'; it holds: k10" in out, out
        code, out = run("status", "--db", store_path, "--form", "k10", *flagged)
        assert code == 0 and "note" not in out, out
    Store(tmp_path / "new.sqlite").close()
    code, out = run("status", "--db", tmp_path / "new.sqlite", "--form", "nosuch")
    assert code == 0 and "no page is of any form yet" in out and "goal-card" in out and "k10" in out, out


def test_hints_to_paste_never_show_a_database_password():
    """The scan summary's 'Every such page: formkit status --db ...' printed str() of a PostgreSQL URL, the
    password in it, one line above 'Store: postgresql://u:***@h/db'."""
    from formkit.database import DatabaseURL
    from formkit.records import ScanSummary
    from formkit_cli.scanning import summary_lines

    summary = ScanSummary()
    summary.pages["rejected"] = 1
    summary.note_reason("not a formkit page", "x.png")
    lines = summary_lines(summary, DatabaseURL("postgresql://u:secret@h/db"))
    assert "secret" not in "\n".join(lines)
    assert "Every such page: formkit status --db 'postgresql://u:***@h/db' --state rejected" in lines


def test_status_shows_control_characters_of_a_file_name_as_escapes(tmp_path):
    """A carriage return in a file name wrote over its own line of the status table; a newline split it."""
    db = tmp_path / "s.sqlite"
    store = Store(db)
    try:
        input_id, _ = store.add_input(InputFile("inbox/a\rb\nc.png", "d" * 64, 10, 1))
        store.save_page(input_id, 0, page("K7M3QX9C", 1, [choice_value("k10_01", states("2:filled"), "2")]))
    finally:
        store.close()
    code, out = run("status", "--db", db)
    assert code == 0 and "inbox/a\\x0db\\x0ac.png" in out and "\r" not in out


def test_scan_keeps_each_line_whole_whatever_a_file_name_holds(tmp_path):
    """A newline in a file name split the scan's summary (its 'same content as' line, the files listed after a
    reason) across lines, the second looking like a line of its own."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    picture = np.full((40, 40), 255, np.uint8)  # too small to hold a form page: rejected, its file named
    for name in ("a.png", "b\nc.png"):
        assert cv2.imwrite(str(folder / name), picture)
    code, out = run("scan", folder, "--db", tmp_path / "s.sqlite", "--jobs", "1")
    assert code != 2, out
    assert "b\\x0ac.png" in out and not any(line.startswith("c.png") for line in out.splitlines())


def test_a_file_name_with_control_characters_stays_on_its_line(tmp_path):
    """generate, report and export printed a name holding a carriage return raw (the terminal wrote the rest over
    its own line), as did every error line; status and scan escaped it."""
    name = tmp_path / "a\rb.pdf"
    result = CliRunner().invoke(main, ["generate", "k10", "--out", str(name)])
    assert result.exit_code == 0 and "a\\x0db.pdf: 1 k10 form(s)" in result.output and "\r" not in result.output
    refused = CliRunner().invoke(main, ["status", "--db", str(tmp_path / "no\rfolder" / "x.sqlite")])
    assert refused.exit_code != 0 and "\r" not in refused.output and "no\\x0dfolder" in refused.output


def test_a_damaged_image_is_rejected_without_pillows_own_warning_lines(tmp_path):
    """A TIFF cut short printed Pillow's "UserWarning: Corrupt EXIF data" with a line of Pillow's source before
    the scan's lines: nothing a user could act on. The page is rejected with its reason, as before."""
    import subprocess
    import sys

    cut = tmp_path / "half.tif"
    cut.write_bytes((Path(__file__).parent.parent / "samples" / "scans" / "copier-stack.tif").read_bytes()[:20_000])
    ran = subprocess.run([sys.executable, "-m", "formkit_cli", "scan", str(cut), "--db", str(tmp_path / "s.db"),
                          "--jobs", "1"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "rejected: 1" in ran.stdout
    assert "Warning" not in ran.stderr and "site-packages" not in ran.stderr, ran.stderr
