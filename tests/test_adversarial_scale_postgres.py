"""A PostgreSQL store (``--db postgresql://...``) used as a service on several machines would use it, and the
ways it went wrong in an adversarial pass (2026-12-07). Each on a throwaway PostgreSQL cluster (tests/pg.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit_cli import main


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
