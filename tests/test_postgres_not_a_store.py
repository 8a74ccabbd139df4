"""A PostgreSQL database that holds something other than a formkit store is refused alike by every command,
with the same message, and left as it was; an empty database becomes a store. On the throwaway cluster of
tests/pg.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit_cli import main


def relations(url: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        return db.execute("SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                          "ORDER BY 1").fetchall()


@pytest.mark.parametrize("made", [
    "CREATE TABLE customers (id INTEGER, name TEXT)",  # status said "no such store; run 'formkit scan' first"
    "CREATE VIEW totals AS SELECT 1 AS total",  # a scan made a store beside these: only tables were looked for
    "CREATE SEQUENCE invoice_numbers",
])
def test_status_and_scan_refuse_another_programs_database_alike_and_write_nothing(postgres, made, tmp_path):
    import psycopg

    url = postgres.database()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(made)
    before = relations(url)
    (tmp_path / "inbox").mkdir()
    said = set()
    for command in (["status"], ["status", "--flagged"], ["export", "--out", str(tmp_path / "out")],
                    ["scan", str(tmp_path / "inbox")], ["watch", str(tmp_path / "inbox"), "--once"]):
        result = CliRunner().invoke(main, [*command, "--db", url])
        assert result.exit_code == ExitCode.STORE, (command, result.output)
        said.add(result.output.strip().splitlines()[-1])
        assert relations(url) == before, command
    assert len(said) == 1, said
    name = made.split()[-1] if made.startswith("CREATE SEQUENCE") else made.split()[2]
    assert f"not a formkit store (a database of something else: it holds {name})" in said.pop()
    assert not (tmp_path / "out").exists()


def test_an_empty_database_still_becomes_a_store_and_its_own_sequences_are_not_another_programs(postgres,
                                                                                                 tmp_path):
    url = postgres.database()
    assert CliRunner().invoke(main, ["scan", str(tmp_path), "--db", url]).exit_code == 0
    assert any(kind == "S" for _, kind in relations(url))  # the ids' identity columns
    result = CliRunner().invoke(main, ["status", "--db", url])
    assert result.exit_code == 0 and "Pages: 0" in result.output, result.output


def test_what_an_extension_made_is_no_other_programs_and_a_store_is_made_beside_it(postgres, tmp_path):
    """An administrator may put an extension in template1 (then in every new database): its views are no other
    program's data."""
    import psycopg

    url = postgres.database()
    with psycopg.connect(url, autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_buffercache'").fetchone():
            pytest.skip("PostgreSQL's contrib extensions are not installed")
        db.execute("CREATE EXTENSION pg_buffercache")  # a view, pg_buffercache, in the database's schema
    assert ("pg_buffercache", "v") in relations(url)
    assert CliRunner().invoke(main, ["scan", str(tmp_path), "--db", url]).exit_code == 0
    result = CliRunner().invoke(main, ["status", "--db", url])
    assert result.exit_code == 0 and "Pages: 0" in result.output, result.output
