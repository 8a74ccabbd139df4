"""A PostgreSQL store (``--db postgresql://...``) used as a service on several machines would use it, and the
ways it went wrong in an adversarial pass (2026-12-07). Each on a throwaway PostgreSQL cluster (tests/pg.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit.store import Store
from formkit_cli import main
from tests.test_store_backends import file_info


def tables_and_rows(url: str) -> dict[str, list]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        tables = [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY 1")]
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in tables}


def database_with(postgres, *statements: str) -> str:
    import psycopg

    url = postgres.database()
    with psycopg.connect(url, autocommit=True) as db:
        for statement in statements:
            db.execute(statement)
    return url


@pytest.mark.parametrize("command", [["status"], ["scan", "{tmp}"], ["export", "--out", "{tmp}/out"]])
def test_a_database_with_another_programs_meta_table_is_not_a_store_and_is_left_as_it_was(postgres, command,
                                                                                           tmp_path):
    """``meta`` is a common name: another program's table of that name, without formkit's columns, stopped
    every command with a traceback (psycopg's UndefinedColumn, exit 1)."""
    url = database_with(postgres, "CREATE TABLE meta (id INTEGER, data TEXT)", "INSERT INTO meta VALUES (1, 'x')")
    before = tables_and_rows(url)
    arguments = [argument.format(tmp=tmp_path) for argument in command]
    result = CliRunner().invoke(main, [*arguments, "--db", url], catch_exceptions=False)
    assert result.exit_code == ExitCode.STORE and "not a formkit store" in result.output, result.output
    assert tables_and_rows(url) == before


def test_a_store_whose_schema_version_is_no_number_is_damaged_not_a_traceback(postgres, tmp_path):
    """The SQLite store says so; on PostgreSQL it was a ValueError's traceback (exit 1)."""
    url = database_with(postgres, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                        "INSERT INTO meta VALUES ('schema', 'three')", "CREATE TABLE inputs (id INTEGER)",
                        "CREATE TABLE pages (id INTEGER)", "CREATE TABLE field_values (id INTEGER)")
    for command in (["status"], ["scan", str(tmp_path)]):
        result = CliRunner().invoke(main, [*command, "--db", url], catch_exceptions=False)
        assert result.exit_code == ExitCode.STORE and "damaged" in result.output and "'three'" in result.output


@pytest.mark.parametrize(("url", "code"), [
    # a password holding '@': libpq cut it there and took the rest for the host, which its message showed, and
    # formkit's own hid only up to the first '@' (both showed 'ssw0rd-9f'); refused before connecting
    ("postgresql://formkit:p@ssw0rd-9f@127.0.0.1:{port}/x", ExitCode.INPUT),
    ("postgresql://formkit:p/ssw0rd-9f@127.0.0.1:{port}/x", ExitCode.INPUT),
    # a password in the query was shown in full
    ("postgresql://formkit@127.0.0.1:1/x?password=p-ssw0rd-9f", ExitCode.STORE),
    # libpq's own messages may quote the URL, or the part of it they could not read (a traceback for the first)
    ("postgresql://formkit:p-ssw0rd-9f@127.0.0.1:{port}/x?application=x", ExitCode.INPUT),
    ("postgresql://formkit:p-ssw0rd-9f@[::1/x", ExitCode.INPUT),
    ("postgresql://formkit:p-ssw0rd-9f%zz@127.0.0.1:{port}/x", ExitCode.INPUT),
])
def test_a_url_libpq_cannot_read_as_written_is_refused_and_no_part_of_its_password_shown(postgres, url, code):
    url = url.format(port=postgres.port)
    for command in (["status", "--db", url], ["scan", "--db", url, "nothing.png"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == code and isinstance(result.exception, SystemExit), result.output
        assert "ssw0rd" not in result.output and "9f" not in result.output and "***" in result.output, result.output


def test_a_url_with_odd_but_readable_parts_still_opens_the_store(postgres):
    """What the refusals above must not refuse: a percent-encoded password, libpq's options in the query, a
    server and its standby as two hosts (the first version refused these: the port was read as one number)."""
    url = postgres.database()
    Store(url).close()  # makes the store
    standby = url.replace(f":{postgres.port}/", f":{postgres.port},127.0.0.1:1/", 1)
    for odd in (url.replace("//formkit@", "//formkit:p%40ss%2Fw0rd@", 1) + "?sslmode=disable",
                url + "?options=-csearch_path%3Dpublic&application_name=x", standby,
                standby.replace("//formkit@", "//formkit:pw@", 1) + "?target_session_attrs=any",
                url.replace("//formkit@", "//formkit:@", 1)):  # an empty password: $PGPASS unset, trust auth
        result = CliRunner().invoke(main, ["status", "--db", odd])
        assert result.exit_code == 0, result.output


def end_formkits_sessions(url: str) -> None:
    """What a restart of the server, or its ending of idle sessions, does to formkit's connections."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        # waits up to 60 s until each is gone (PostgreSQL 14 on)
        admin.execute("SELECT pg_terminate_backend(pid, 60000) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND application_name = 'formkit'")


def test_a_store_whose_connection_was_lost_says_so_then_connects_again(postgres):
    """After the first statement that found the connection lost, the next one raised psycopg's own
    OperationalError ("the connection is closed"): a traceback, exit 1, where a command or the review app went
    on to use the store. It says so once (what was under way is gone), then connects again."""
    from formkit.errors import StoreError

    url = postgres.database()
    store = Store(url)
    end_formkits_sessions(url)
    with pytest.raises(StoreError, match="run the same command again"):
        store.pages()
    assert store.pages() == []
    store.close()


def test_a_connection_ended_while_idle_is_replaced_before_the_next_page_is_saved(postgres, monkeypatch):
    """A scan describes every file before it saves the first page, its connection unused meanwhile; a server
    that ends idle sessions (idle_session_timeout, a firewall), or restarted meanwhile, stopped every run of a
    large backlog at its first page (exit 7), and a watch at the first file after a restart."""
    from formkit import postgres as backend

    monkeypatch.setattr(backend, "IDLE_CHECK_S", 0.0, raising=False)  # checked however short the wait
    url = postgres.database()
    store = Store(url)
    end_formkits_sessions(url)
    assert store.add_input(file_info("a.jpg"))[1] == {}
    assert store.input_path(file_info("a.jpg").sha256) == "a.jpg"
    store.close()


def test_hiding_a_password_leaves_the_rest_of_a_message_and_url_readable():
    """The password hidden wherever it stood hid the user's name too when they were alike ('postgres:postgres':
    'user "***"'), every letter of a one-letter password, and an '@' in the query took the port and database
    for a password (a second read, 2026-12-07)."""
    from formkit.database import DatabaseURL

    said = 'password authentication failed for user "postgres"'
    assert DatabaseURL("postgresql://postgres:postgres@h/db").hidden(said) == said
    assert DatabaseURL("postgresql://u:p@h/db").hidden("upper pp") == "upper pp"
    assert DatabaseURL("postgresql://h:5432/db?application_name=a@b").shown == \
        "postgresql://h:5432/db?application_name=a@b"
    secret = DatabaseURL("postgresql://u:s3cr3t-9f@h/db")
    assert secret.shown == "postgresql://u:***@h/db" and secret.hidden("no s3cr3t-9f here") == "no *** here"
