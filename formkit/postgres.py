"""The PostgreSQL backend of the store: connection, the few differences from SQLite, and errors.

``formkit/store/`` keeps the one store API and its SQL, written for SQLite with ``?`` parameters; this
module runs that same SQL on PostgreSQL (psycopg 3, the ``scale`` extra):

- parameters: ``?`` becomes ``%s`` (and a literal ``%`` becomes ``%%``); rows answer ``row["name"]``,
  ``row[0]``, ``keys()`` and ``dict(row)`` as ``sqlite3.Row`` does;
- tables: made from the store's own ``CREATE TABLE`` statements, with ``INTEGER`` as ``BIGINT`` (an ``id``
  key as an identity column), ``REAL`` as ``DOUBLE PRECISION``, ``BLOB`` as ``BYTEA``, and ``TEXT`` in the
  "C" collation, so text sorts byte by byte as in SQLite whatever the database's locale;
- the audit log is append-only in the database: triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``
  (``INSERT ... ON CONFLICT DO UPDATE`` fires the update trigger);
- one writer at a time, as in SQLite: each write transaction first takes a transaction-level advisory
  lock, so what it reads is still true when it writes (two scans never both add the same page). A writer
  waiting over 30 s gives exit 8, as a busy SQLite store does;
- schema versions: ``meta`` holds the version as in SQLite. PostgreSQL stores begin at schema 3; a later
  schema adds its statements to ``STEPS``, run in one transaction when a store is opened for writing.

Reads outside a write transaction run each in their own (autocommit), as they do on SQLite.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .database import DatabaseURL, require
from .errors import InputError, OutputError, StoreBusyError, StoreError
from .records import first_few

ADVISORY_LOCK = 0x666F726D6B6974  # 'formkit': the store's write lock, per database
LOCK_TIMEOUT = "30s"  # as SQLite's busy timeout
CONNECT_TIMEOUT = 15  # seconds: an unreachable server is said so, not waited for
# libpq's settings a connection is given unless the URL (or, for connect_timeout, PGCONNECT_TIMEOUT) gives its own.
# A server behind a firewall that drops packets silently was never found gone: an idle connection was probed only
# after the system's 2 hours, a statement's unanswered packets resent for some 15 minutes (an adversarial pass,
# 2026-12-07); and formkit's connect_timeout replaced the URL's own. Now a dead idle connection is found within
# 30 + 3 x 10 s and a statement's packets unacknowledged for 60 s end it; a live but busy server's system answers
# the probes, so a long wait for the store's lock is not cut short.
CONNECTION_SETTINGS = {"connect_timeout": str(CONNECT_TIMEOUT), "keepalives": "1", "keepalives_idle": "30",
                       "keepalives_interval": "10", "keepalives_count": "3", "tcp_user_timeout": "60000"}
TCP_USER_TIMEOUT_LIBPQ = 120000  # libpq 12, the first to know tcp_user_timeout
IDLE_CHECK_S = 10.0  # a connection unused this long is checked (one round trip) before it is used again
FIRST_SCHEMA = 3  # the first schema a PostgreSQL store can have
STEPS: dict[int, tuple[str, ...]] = {}  # schema N: the statements that make a store of schema N one of N + 1
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION formkit_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'restrict_violation'; END $$
"""
GUARD_EVENTS = {"audit_no_update": "UPDATE ON audit FOR EACH ROW", "audit_no_delete": "DELETE ON audit FOR EACH ROW",
                "audit_no_truncate": "TRUNCATE ON audit FOR EACH STATEMENT"}
GUARDS = tuple(GUARD_EVENTS)  # the audit log's triggers, by name
BUSY_STATES = {"55P03", "40P01", "40001", "53300", "57P03"}  # lock wait, deadlock, serialisation, no free connection
READ_ONLY_STATES = {"25006", "42501"}  # a read-only transaction, no privilege
# A login the server refused, in its words (PostgreSQL's English, as 15 words it): libpq gives a failed connection no
# SQLSTATE, only its text, so a wrong password or database name was told as a server out of reach, "run again once
# reachable" (an adversarial pass, 2026-12-07). Each is the user's to fix (exit 5); a server speaking another
# language is matched by none, and is told as before (exit 7, its own words quoted).
LOGIN_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), plain) for pattern, plain in (
    (r'database "(?P<name>.*)" does not exist',
     'the server has no database "{name}": check the database\'s name in the URL (or create it: createdb)'),
    (r'password authentication failed for user "(?P<name>.*)"',
     'the server refused the password of user "{name}" (it says the same of a user it does not have): check the '
     "user name and the password (in the URL, ~/.pgpass or PGPASSWORD)"),
    (r'role "(?P<name>.*)" does not exist', 'the server has no user (role) "{name}": check the user name in the URL'),
    (r'role "(?P<name>.*)" is not permitted to log in',
     'the server does not let user "{name}" log in (a role without LOGIN): give --db another user'),
    (r'permission denied for database "(?P<name>.*)"',
     'user may not connect to database "{name}" (no CONNECT privilege): ask its owner to grant it'),
    (r"no pg_hba\.conf entry for|pg_hba\.conf rejects connection",
     "the server's pg_hba.conf lets no such connection in (from this host, as this user, to this database): ask "
     "its administrator"),
    (r'(?P<method>\w+) authentication failed for user "(?P<name>.*)"',
     'the server refused user "{name}" ({method} authentication failed): check the user name in the URL'),
    (r"fe_sendauth: no password supplied",
     "the server asks for a password and none was given: put it in ~/.pgpass or PGPASSWORD (or the URL)"),
    (r"server does not support SSL, but SSL was required",
     "the URL asks for SSL (sslmode) and the server does not offer it: change sslmode, or the server"),
))
REFUSED_STATES = ("28", "3D")  # invalid authorization, no such database: where a driver gives the SQLSTATE


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """SQLite's ``?`` parameters as psycopg's ``%s``, with literal ``%`` doubled; ``?`` inside quotes stays."""
    out, quote = [], ""
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote:
            out.append(char)
            quote = "" if char == quote else quote
        elif char in "'\"":
            out.append(char)
            quote = char
        else:
            out.append("%s" if char == "?" else char)
    return "".join(out)


def tables_ddl(statements: Iterable[str]) -> list[str]:
    """The store's SQLite ``CREATE TABLE`` and ``CREATE INDEX`` statements, in PostgreSQL's types."""
    ddl = []
    for statement in statements:
        if not statement.upper().startswith(("CREATE TABLE", "CREATE INDEX")):
            continue
        statement = re.sub(r"\bid INTEGER PRIMARY KEY\b", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                           statement)
        for sqlite_type, postgres_type in (("INTEGER", "BIGINT"), ("REAL", "DOUBLE PRECISION"), ("BLOB", "BYTEA"),
                                           ("TEXT", 'TEXT COLLATE "C"')):
            statement = re.sub(rf"\b{sqlite_type}\b", postgres_type, statement)
        ddl.append(statement)
    return ddl


class Row(tuple):
    """A row as ``sqlite3.Row`` gives it: by position or by column name, with ``keys()``."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: Any) -> Any:
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name, i)
    return lambda values: Row(values, index)


def _read(url: DatabaseURL, psycopg: ModuleType) -> dict[str, str]:
    """The URL's settings as libpq reads them. Refused before connecting (exit 5): a URL libpq cannot read, or
    reads otherwise than it is written: a password holding '@' or '/' not percent-encoded, which libpq cut there
    and took the rest for the host (and said so in its messages: part of the password shown). It was a traceback
    for an unknown query parameter, and libpq's messages may quote the URL (an adversarial pass, 2026-12-07)."""
    try:
        libpq = psycopg.conninfo.conninfo_to_dict(str(url))
    except psycopg.ProgrammingError as exc:
        raise InputError(f"{url.shown}: not a PostgreSQL URL libpq can read ({url.hidden(_first_line(exc))})") \
            from None
    try:
        parts = urlsplit(url)
        given = parse_qs(parts.query)
        # an empty user or password ('user:@host', a variable unset) is left out by libpq: read as written
        misread = any(written is not None and key not in given
                      and (unquote(written) or None) != (libpq.get(key) or None)
                      for key, written in (("user", parts.username), ("password", parts.password)))
    except ValueError:
        misread = True
    # a password's '/' ends the host there for libpq: the user name taken for the host, the password for the port
    # (several hosts, each with its port, are libpq's way to name a server and its standbys: kept)
    misread = misread or not re.fullmatch(r"[0-9,]*", libpq.get("port") or "")
    if misread:
        raise InputError(f"{url.shown}: libpq would read this URL otherwise than it is written: in the user name and "
                         "password, write '@', ':', '/', '?' and '#' as %40, %3A, %2F, %3F and %23; better, keep "
                         "the password out of the URL (~/.pgpass or PGPASSWORD)")
    return libpq


def _added(given: dict[str, str], psycopg: ModuleType) -> dict[str, str]:
    """What of ``CONNECTION_SETTINGS`` the URL and the environment (``given``) leave to formkit."""
    added = {key: value for key, value in CONNECTION_SETTINGS.items() if key not in given}
    if psycopg.pq.version() < TCP_USER_TIMEOUT_LIBPQ:
        added.pop("tcp_user_timeout", None)  # an older libpq refuses the setting it does not know
    return added


def _login_refusal(exc: Exception) -> str | None:
    """What to fix, where the server's words say it refused the login (``LOGIN_REFUSALS``), and those words."""
    lines = str(exc).strip().splitlines()  # several hosts: one line for each that was tried
    for pattern, plain in LOGIN_REFUSALS:
        for line in lines:
            if found := pattern.search(line):
                said = " ".join(line[max(line.find("connection to server"), 0):].split())
                return f"{plain.format(**found.groupdict())} ({said})"
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# What the store's schema holds, as tables: each table, view, materialized view, foreign table and sequence in it,
# but a sequence of a table's own column (an identity column's, as the store's ids are) and what an extension
# made (pg_stat_statements' views, where an administrator put it in template1: in every new database). Only
# tables were looked for: a database holding only another program's views or sequences was taken for an empty
# one, and a scan made a store in it (an adversarial pass, 2026-12-07).
RELATIONS = """
SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND NOT EXISTS (SELECT 1 FROM pg_depend d
WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
"""


@dataclass
class Found:
    """What a database holds: its tables (and views, sequences: ``RELATIONS``), the store's schema version, and
    the audit log's live guards."""

    tables: set[str]
    version: int | None
    guards: set[str]


class Connection:
    """A connection to a PostgreSQL store with the part of ``sqlite3.Connection``'s interface the store
    uses (``execute``, ``executemany``, ``close``) and ``writing()``, its write transaction."""

    def __init__(self, url: DatabaseURL, readonly: bool = False) -> None:
        psycopg = require("psycopg", "a PostgreSQL store (--db postgresql://...)")
        self.url, self.readonly, self._psycopg = url, readonly, psycopg
        # read once here: a reconnect (``_alive``) connects as the first connection did
        given = _read(url, psycopg)
        if "connect_timeout" not in given and os.environ.get("PGCONNECT_TIMEOUT"):
            given["connect_timeout"] = os.environ["PGCONNECT_TIMEOUT"]
        self._added = _added(given, psycopg)
        self._connect_timeout = str(given.get("connect_timeout", CONNECT_TIMEOUT))
        self._transactions = 0  # writing() blocks open (a block inside another is a savepoint of its transaction)
        self._connect()

    def _connect(self) -> None:
        try:
            self._conn = self._psycopg.connect(str(self.url), autocommit=True, row_factory=_rows,
                                               application_name="formkit", **self._added)
        except self._psycopg.errors.ConnectionTimeout as exc:
            raise StoreError(f"{self.url.shown}: cannot connect to the database: the server gave no answer in time "
                             f"(connect_timeout={self._connect_timeout}); nothing of an unfinished page was kept: run "
                             "the same command again once the database is reachable") from exc
        except self._psycopg.Error as exc:
            raise self._mapped(exc, "cannot connect to the database") from exc
        try:
            self._run("execute", f"SET lock_timeout = '{LOCK_TIMEOUT}'", ())
            if self.readonly:
                self._run("execute", "SET default_transaction_read_only = on", ())
        except BaseException:
            self._conn.close()
            raise

    def _alive(self) -> None:
        """Between transactions, a connection lost while it was idle (the server restarted, an idle session
        ended by the server or a firewall) replaced by a new one. A scan holds its connection unused while it
        describes every file before saving the first page: where idle sessions end sooner, every run of a large
        backlog stopped there, exit 7, and a watch stopped at the first file after a restart of the server (an
        adversarial pass, 2026-12-07). Never inside a transaction: what it did is gone with the connection."""
        if self._transactions:
            return
        if not self._conn.closed and time.monotonic() - self._used < IDLE_CHECK_S:
            return
        if not self._conn.closed:
            try:
                self._conn.execute("SELECT 1")
                return
            except self._psycopg.Error:
                self._conn.close()
        self._connect()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement of the store's SQL; returns the cursor (fetchone, fetchall, rowcount, rows)."""
        self._alive()
        return self._run("execute", sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        self._alive()
        return self._run("executemany", sql, list(rows))

    def _run(self, method: str, sql: str, params: Any) -> Any:
        try:
            cursor = self._conn.cursor()  # on a connection lost earlier: "the connection is closed", mapped too
            getattr(cursor, method)(translate(sql), params)
        except self._psycopg.Error as exc:
            raise self._mapped(exc) from exc
        finally:
            self._used = time.monotonic()
        return cursor

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction holding the store's write lock from its start; rolled back on any error."""
        self._alive()
        self._transactions += 1
        try:
            with self._conn.transaction():
                self.execute("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK,))
                yield self
        except self._psycopg.Error as exc:  # the commit itself, or the connection lost meanwhile
            raise self._mapped(exc) from exc
        finally:
            self._transactions -= 1

    def close(self) -> None:
        self._conn.close()

    def _mapped(self, exc: Exception, doing: str = "the store cannot be used") -> Exception:
        """A psycopg error as the formkit error a user can act on; other errors (a bug) as they are. A login the
        server refused (a wrong password, user or database name) is the user's to fix, exit 5: known by the
        server's words (``LOGIN_REFUSALS``), or by its SQLSTATE where a driver gives one."""
        state = getattr(exc, "sqlstate", None) or ""
        where, text = self.url.shown, self.url.hidden(_first_line(exc))
        if not state and (refusal := _login_refusal(exc)):  # a statement's error, with its SQLSTATE, may quote data
            return InputError(self.url.hidden(f"{where}: cannot connect: {refusal}"))
        if state.startswith(REFUSED_STATES):
            return InputError(f"{where}: cannot connect: the server refused the login ({text}): check the user, "
                              "password and database")
        if state == "53100":
            return OutputError(f"{where}: the database's disk is full ({text}); nothing of the last page was "
                               "kept: free space and run the same command again")
        if state in BUSY_STATES:
            return StoreBusyError(f"{where}: the store is busy: another formkit command is writing to it ({text}); "
                                  "wait for it to finish and run this again")
        if state in READ_ONLY_STATES:
            return StoreError(f"{where}: the store is read-only here ({text})")
        unreachable = not state and isinstance(exc, self._psycopg.OperationalError)
        if unreachable or state.startswith(("08", "57")):
            return StoreError(f"{where}: {doing} ({text}); nothing of an unfinished page was kept: run the same "
                              "command again once the database is reachable")
        return exc

    # The store's tables, their version and their guards

    def found(self) -> Found:
        tables = {r[0] for r in self.execute(RELATIONS)}
        version = None
        # another program's table may be called meta too: asked for columns it lacks, it stopped formkit with a
        # traceback (an adversarial pass, 2026-12-07); without formkit's columns it is not a store's meta
        if "meta" in tables and {"key", "value"} <= self._columns("meta"):
            row = self.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            version = self._version(row[0]) if row else None
        guards = {r[0] for r in self.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit') AND NOT tgisinternal"
            " AND tgenabled <> 'D'")} if "audit" in tables else set()
        return Found(tables, version, guards)

    def _columns(self, table: str) -> set[str]:
        return {r[0] for r in self.execute("SELECT column_name FROM information_schema.columns WHERE "
                                           "table_schema = current_schema() AND table_name = ?", (table,))}

    def _version(self, value: Any) -> int:
        """The store's schema version as ``meta`` holds it; text that is no number is a damaged store."""
        try:
            return int(value)
        except (TypeError, ValueError):
            raise StoreError(f"{self.url.shown}: damaged: its schema version ({str(value)[:40]!r}) is no number; "
                             "restore the store from a backup") from None

    def create(self, statements: list[str], version: int) -> None:
        """Make the store in an empty database, in one transaction (a second formkit creating the same store
        waits for the lock, then finds it made)."""
        with self.writing():
            if self.found().tables:
                return
            for statement in tables_ddl(statements):
                self.execute(statement)
            self._guard()
            self.execute("INSERT INTO meta VALUES ('schema', ?)", (str(version),))

    def upgrade(self, statements: list[str], version: int) -> None:
        """Bring a store of an older schema up to ``version`` in one transaction: each step in ``STEPS``,
        then whatever table or guard is still missing."""
        with self.writing():
            current = self.found().version or FIRST_SCHEMA
            for step in range(current, version):
                for statement in STEPS.get(step, ()):
                    self.execute(statement)
            for statement in tables_ddl(statements):
                self.execute(statement)  # IF NOT EXISTS: creates only what is missing
            self._guard()
            self.execute("UPDATE meta SET value=? WHERE key='schema'", (str(version),))

    def _guard(self) -> None:
        have = self.found().guards
        if set(GUARDS) <= have:
            return
        self.execute(GUARD_FUNCTION)
        for name in GUARDS:
            if name not in have:
                self.execute(f"CREATE TRIGGER {name} BEFORE {GUARD_EVENTS[name]}"
                             " EXECUTE FUNCTION formkit_audit_append_only()")


def open_store(url: DatabaseURL, readonly: bool, statements: list[str], version: int) -> Connection:
    """A connection to the store in the database at ``url``, made there if the database is empty (unless
    ``readonly``), upgraded if older. A database of something else, a store whose audit log or its guards
    are gone, or one written by a newer formkit is refused (exit 7) and left as it was."""
    db = Connection(url, readonly)
    try:
        found = db.found()
        if not found.tables:
            if readonly:
                raise StoreError(f"{url.shown}: no formkit store in this database; run 'formkit scan' first")
            db.create(statements, version)
            found = db.found()
        _check(url, found, version)
        if found.version is not None and found.version < version:
            if readonly:
                raise StoreError(f"{url.shown}: written by an older formkit and read-only here; open it once with "
                                 "write access (e.g. 'formkit scan' with no files) to upgrade it")
            db.upgrade(statements, version)
    except BaseException:
        db.close()
        raise
    return db


def _check(url: DatabaseURL, found: Found, version: int) -> None:
    if found.version is None or not {"inputs", "pages", "field_values"} <= found.tables:
        raise StoreError(f"{url.shown}: not a formkit store (a database of something else: it holds "
                         f"{first_few(sorted(found.tables))}); give "
                         "--db a database of its own, or an empty one")
    if found.version > version:
        raise StoreError(f"{url.shown}: written by a newer formkit (store schema {found.version}, this formkit "
                         f"reads {version}); upgrade formkit")
    missing = [n for n in ("audit", *GUARDS) if n not in found.tables | found.guards]
    if missing:
        raise StoreError(f"{url.shown}: damaged: the audit log or its guards are missing ({', '.join(missing)}); "
                         "restore the store from a backup")


def holds_store(url: DatabaseURL) -> bool:
    """Whether the database at ``url`` holds anything: a formkit store, or something else, which opening it
    refuses. Only a store's ``meta`` table was looked for: ``formkit status`` on a database of another program's
    tables said "no such store; run 'formkit scan' first" (exit 5), and the scan then refused it, "not a formkit
    store" (exit 7), as every command does an SQLite file of something else (an adversarial pass, 2026-12-07)."""
    db = Connection(url, readonly=True)
    try:
        return bool(db.execute(f"SELECT EXISTS ({RELATIONS})").fetchone()[0])
    finally:
        db.close()
