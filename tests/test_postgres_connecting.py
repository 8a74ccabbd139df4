"""Connecting to a PostgreSQL store (``--db postgresql://...``): a login the server refused is told as what to fix
(exit 5), a server down or out of reach as one to try again (exit 7), and a connection whose server went silent
ends instead of waiting for ever. On throwaway clusters (tests/pg.py): the shared one (every login trusted) and,
for passwords, one of this module's own whose pg_hba.conf asks some users for one."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit_cli import main
from tests.pg import Cluster, _usable

PASSWORD = "right-pw-77"
HBA = """\
local all all trust
host all formkit 127.0.0.1/32 trust
host all alice,ghost 127.0.0.1/32 scram-sha-256
host all carol 127.0.0.1/32 reject
host all all 127.0.0.1/32 trust
"""


@pytest.fixture(scope="module")
def guarded() -> Iterator[Cluster]:
    """A cluster that asks alice (and the user it does not have, ghost) for a password and refuses carol."""
    cluster = Cluster(_usable())
    hba = cluster.folder / "hba.conf"
    hba.write_text(HBA)
    os.chmod(hba, 0o644)
    cluster.settings += f" -c hba_file={hba}"
    try:
        cluster.start()
        import psycopg

        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE alice LOGIN PASSWORD '{PASSWORD}'")
            admin.execute("CREATE ROLE nolog NOLOGIN")
            admin.execute("CREATE DATABASE forms OWNER alice")
        yield cluster
    finally:
        cluster.stop()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert isinstance(result.exception, SystemExit | None), result.output  # never a traceback
    return result.exit_code, result.output


@pytest.mark.parametrize(("user", "database", "said"), [
    ("alice:wrong-pw-3@", "forms", 'the server refused the password of user "alice"'),
    ("ghost:s0me-pw-4@", "forms", 'the server refused the password of user "ghost"'),  # the server says no more
    (f"alice:{PASSWORD}@", "nodb", 'the server has no database "nodb"'),
    ("alice@", "forms", "the server asks for a password and none was given"),
    ("nobody_here@", "forms", 'the server has no user (role) "nobody_here"'),
    ("nolog@", "forms", 'the server does not let user "nolog" log in'),
    ("carol@", "forms", "pg_hba.conf lets no such connection in"),
])
def test_a_login_the_server_refused_is_told_as_what_to_fix_not_as_a_server_to_wait_for(guarded, user, database,
                                                                                        said, tmp_path):
    """libpq gives no SQLSTATE for a connection that failed: a wrong password, user or database name was told
    "run the same command again once the database is reachable", exit 7, as if the server were down."""
    url = f"postgresql://{user}127.0.0.1:{guarded.port}/{database}"
    for command in (["status", "--db", url], ["scan", str(tmp_path), "--db", url]):
        code, output = run(*command)
        assert code == ExitCode.INPUT and said in output, output
        assert "reachable" not in output and "wrong-pw" not in output and "s0me-pw" not in output, output
        assert PASSWORD not in output, output


def test_a_wrong_password_is_told_so_where_the_server_has_a_standby_that_is_down(guarded):
    """Several hosts (a server and its standby): psycopg gives every host's failure; one refusing the password
    is what to fix, whichever host came last."""
    url = f"postgresql://alice:wrong-pw-3@127.0.0.1:{guarded.port},127.0.0.1:1/forms"
    code, output = run("status", "--db", url)
    assert code == ExitCode.INPUT and 'refused the password of user "alice"' in output, output
    assert "wrong-pw" not in output


def test_a_server_down_is_still_one_to_try_again(postgres):
    code, output = run("status", "--db", "postgresql://formkit:s3cr3t-pw@127.0.0.1:1/forms")
    assert code == ExitCode.STORE and "run the same command again once the database is reachable" in output, output
    assert "s3cr3t" not in output


def test_the_right_password_still_opens_the_store(guarded):
    code, output = run("status", "--db", f"postgresql://alice:{PASSWORD}@127.0.0.1:{guarded.port}/forms")
    assert code == ExitCode.INPUT and "no such store; run 'formkit scan' first" in output, output


def socket_settings(connection) -> dict[str, int]:
    """The keepalive settings of the socket libpq connected, as the system has them."""
    with socket.socket(fileno=os.dup(connection._conn.fileno())) as sock:
        return {"keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "idle_s": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "interval_s": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                "unacknowledged_ms": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)}


@pytest.mark.parametrize(("query", "keepalives", "connect_timeout"), [
    ("", {"keepalive": 1, "idle_s": 30, "interval_s": 10, "count": 3, "unacknowledged_ms": 60000}, "15"),
    ("?keepalives_idle=77&tcp_user_timeout=0&connect_timeout=4",
     {"keepalive": 1, "idle_s": 77, "interval_s": 10, "count": 3, "unacknowledged_ms": 0}, "4"),
], ids=["formkit's settings", "the URL's own"])
def test_a_connection_finds_a_silently_dropped_server_gone_unless_the_url_says_otherwise(postgres, query, keepalives,
                                                                                         connect_timeout):
    """A server behind a firewall that drops packets silently was never found gone: the system's keepalive
    probes only after 2 hours idle, a statement's packets resent for some 15 minutes. The settings are read back
    from the connection's socket; a URL's own are kept (formkit's connect_timeout replaced the URL's)."""
    from formkit.database import DatabaseURL
    from formkit.postgres import Connection

    db = Connection(DatabaseURL(postgres.database() + query))
    try:
        assert socket_settings(db) == keepalives
        assert db._conn.info.get_parameters()["connect_timeout"] == connect_timeout
    finally:
        db.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where connections are taken and never answered (a server hung, or a proxy whose server is gone)."""
    listener = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []
    done = threading.Event()

    def take() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                taken.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join()
        for sock in [*taken, listener]:
            sock.close()


def test_a_server_that_takes_the_connection_and_never_answers_is_given_up_on_in_the_urls_time(silent_server):
    code, output = run("status", "--db", f"postgresql://formkit:s3cr3t-pw@127.0.0.1:{silent_server}/forms"
                                         "?connect_timeout=2")
    assert code == ExitCode.STORE and "no answer in time (connect_timeout=2)" in output, output
    assert "run the same command again once the database is reachable" in output and "s3cr3t" not in output
