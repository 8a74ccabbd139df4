"""A throwaway PostgreSQL cluster for the tests: Debian's ``initdb`` and ``pg_ctl`` in a temporary folder,
listening on 127.0.0.1 on a free port (its socket in that folder), durability off (it is thrown away),
stopped and deleted at the end. ``initdb`` refuses to run as root: as root, the cluster runs as
``nobody``. One cluster serves all of a run's test processes (``shared_cluster``: pytest-xdist's workers
share it through a file lock); each test gets a database of its own (``CREATE DATABASE``, a fraction of a
second).

Outside CI, the tests that need it are skipped when PostgreSQL's programs are not installed; in CI
(``CI=true``) they fail instead, so a missing install step is never hidden.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off "
            "-c max_connections=60 -c shared_buffers=16MB -c listen_addresses=127.0.0.1")


def binaries() -> Path | None:
    """The folder of PostgreSQL's server programs (the newest installed), or None."""
    found = shutil.which("pg_ctl")
    if found and Path(found).resolve().with_name("initdb").exists():
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(Path(f).parent.name)
                     if Path(f).parent.name.isdigit() else 0)
    return next((Path(f) for f in reversed(folders) if Path(f, "initdb").exists()), None)


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI, where the test script installs PostgreSQL."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests: scripts/setup.sh --test installs it)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of the tests' own; ``database()`` makes a new empty database and gives its URL."""

    def __init__(self, bin_dir: Path, settings: str = SETTINGS) -> None:
        self.bin, self.settings = bin_dir, settings
        self.folder = Path(tempfile.mkdtemp(prefix="formkit-pg-"))
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as nobody
            os.chown(self.folder, *_nobody())
            self.as_user = ["runuser", "-u", "nobody", "--"] if shutil.which("runuser") else \
                ["setpriv", f"--reuid={_nobody()[0]}", f"--regid={_nobody()[1]}", "--clear-groups"]
        self.port = 0
        self._names = itertools.count(1)

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> Cluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "formkit", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        for _ in range(5):  # another process may take the free port first
            self.port = _free_port()
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                          "-o", f"-p {self.port} -k {self.folder} {self.settings}", "start")
                return self
            except subprocess.CalledProcessError:
                continue
        raise RuntimeError(f"PostgreSQL did not start: {(self.folder / 'log').read_text(errors='replace')[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://formkit@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            if self.port:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _nobody() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _usable() -> Path:
    """PostgreSQL's programs and the driver, or skip (fail in CI)."""
    bin_dir = binaries()
    if bin_dir is None:
        unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed: apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable('psycopg is not installed: pip install "formkit[scale]"')
    return bin_dir  # type: ignore[return-value]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def shared_cluster(folder: Path) -> Iterator[Cluster]:
    """One cluster for every test process of a run (pytest-xdist's workers), noted in ``folder``: the first
    process to ask starts it, the last one done with it stops it (a file lock and a count of users)."""
    bin_dir = _usable()
    note = folder / "formkit-pg.json"
    with _locked(folder / "formkit-pg.lock"):
        state = json.loads(note.read_text()) if note.exists() else None
        running = Cluster(bin_dir)
        if state is None:
            running.start()
            state = {"users": 0}
        else:
            shutil.rmtree(running.folder, ignore_errors=True)
            running.folder, running.port = Path(state["folder"]), state["port"]
            running.data = running.folder / "data"
        state.update(users=state["users"] + 1, folder=str(running.folder), port=running.port)
        note.write_text(json.dumps(state))
    try:
        yield running
    finally:
        with _locked(folder / "formkit-pg.lock"):
            state = json.loads(note.read_text())
            state["users"] -= 1
            if state["users"]:
                note.write_text(json.dumps(state))
            else:
                running.stop()
                note.unlink()
