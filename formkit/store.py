"""The store: inputs, pages, values with their crops, review decisions and an append-only audit log, in
an SQLite file or, with the ``scale`` extra, a PostgreSQL database (``--db postgresql://user@host/db``).
All of the project's SQL is in this module; it is written for SQLite and runs as it is on PostgreSQL
through ``formkit/postgres.py``, which holds what differs (types, the audit log's guards, locking, errors).

A page is saved with its values in one transaction, so an interrupted batch leaves only whole pages
behind and a re-run continues where it stopped. Pages are keyed by the content hash of their file and
their index in it: scanning the same file again changes nothing.

Only a missing or empty file becomes a new store. Anything else must already be a formkit store: a
foreign SQLite file, a store whose audit log or its guards are gone, or one written by a newer formkit
is refused (exit 7) and left as it was, byte for byte.

Pages read of one printed page. Among the pages read of one (form, serial, form page), exactly one is
``read`` and the others are ``conflict`` with it (``conflict_of``): the first read stays ``read``; when it
leaves (voided, or assigned to another form page), the earliest of its conflicts becomes ``read`` in its
place (``_settle``), and the respondent's fill convention is decided again.

Voiding. A person takes a page, or every page of an input, out of every export, queue, conflict and
fill-convention decision with ``void_pages``; nothing is deleted. A voided page has the state
``PageState.VOIDED``, its reason says why, and the columns ``voided_status`` and ``voided_reason`` keep the
state and reason it had, so ``restore_pages`` puts it back as it was (a page that was ``read`` is ``read``
again, and the page that took its place is a ``conflict`` again). Every query that serves export, review or
the fill convention selects pages by state (``read``, or ``read`` and ``conflict``), so a voided page is in
none of them. Both are audited (``void-page``, ``restore-page``, and ``page-state`` for each page whose
state follows), in one transaction.

Reassigning. ``replace_page`` reads any page that is not voided as the form page a person names: its old
and new form, page and serial go to the audit log (``assign-page``), and both printed pages are settled.
A review decision on the page stands when its field is still a field of the same form and the new reading
passes the re-reading's rule (``_decision_stands``); the others are dropped, and the log names both and
keeps the dropped ones whole (``decisions_dropped``): when the page is assigned back to the form page they
were made on, those that pass the same rule come back (a mistaken assignment undone loses nothing).

Re-reading. ``reread_page`` puts a new reading of a page read in place of the old one, value by value: a
reviewed value keeps its decision when the machine reads what it read before (or what the reviewer
decided, ``_decision_stands``); otherwise it is flagged again, saying what changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import conventions
from .database import DatabaseURL, is_database_url
from .errors import InputError, OutputError, StoreBusyError, StoreError
from .records import FieldValue, InputFile, PageResult, PageState, file_stamp, unopened_key
from .serial import format_serial

SCHEMA_VERSION = 3
UNREAD_STATES = (PageState.UNIDENTIFIED, PageState.REJECTED)
READ_STATES = (PageState.READ, PageState.CONFLICT)  # pages read: their values are exported
CONFLICT_REASON = "another image of this page was read before (page id {})"
GUARDS = ("audit_no_update", "audit_no_delete", "audit_no_replace")
BUSY_TIMEOUT_S = 30  # how long a command waits for another that is writing to the store
BUSY_RETRY_S = 0.05

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    input_id INTEGER NOT NULL REFERENCES inputs(id),
    page_index INTEGER NOT NULL,
    region INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    form TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    variant TEXT NOT NULL DEFAULT '',
    form_page INTEGER NOT NULL DEFAULT 0,
    serial TEXT NOT NULL DEFAULT '',
    transform TEXT,
    error_mm REAL,
    quality TEXT NOT NULL DEFAULT '{}',
    image BLOB,
    conflict_of INTEGER REFERENCES pages(id),
    read_at TEXT NOT NULL,
    voided_status TEXT NOT NULL DEFAULT '',
    voided_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (input_id, page_index, region)
);
CREATE INDEX IF NOT EXISTS pages_by_serial ON pages (form, serial, form_page);
CREATE INDEX IF NOT EXISTS inputs_by_path ON inputs (path);
CREATE TABLE IF NOT EXISTS field_values (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    field TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    confidence REAL NOT NULL,
    needs_review INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    raw TEXT NOT NULL DEFAULT '{}',
    crop BLOB,
    machine_value TEXT,
    review TEXT NOT NULL DEFAULT '',
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT NOT NULL DEFAULT '',
    UNIQUE (page_id, field)
);
CREATE TABLE IF NOT EXISTS claims (
    value_id INTEGER PRIMARY KEY REFERENCES field_values(id),
    reviewer TEXT NOT NULL,
    until TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    page_id INTEGER,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS respondents (
    form TEXT NOT NULL,
    serial TEXT NOT NULL,
    fill_means TEXT NOT NULL,
    decision TEXT NOT NULL,
    evidence TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (form, serial)
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
# INSERT OR REPLACE deletes the row it replaces without firing delete triggers: refuse it before it can.
NO_REPLACE = """
CREATE TRIGGER IF NOT EXISTS audit_no_replace BEFORE INSERT ON audit WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
VALUE_ROWS = (
    "SELECT p.id AS page_id, p.status, p.form, p.version, p.variant, p.form_page, p.serial, p.conflict_of,"
    " i.path AS source_file, p.page_index + 1 AS source_page, p.region + 1 AS source_region, v.field, v.kind,"
    " v.value, v.confidence,"
    " v.needs_review, v.reason, v.id AS value_id, v.review, v.reviewed_by"
    " FROM field_values v JOIN pages p ON p.id=v.page_id JOIN inputs i ON i.id=p.input_id"
    f" WHERE p.status IN ('{PageState.READ.value}', '{PageState.CONFLICT.value}')")
# A value (v) of a page read (p) that another image of the same page reads otherwise: that reading, as
# "'4' in file.jpg page 1" (the first such image), else NULL. Such a value waits for a person as a flagged
# one does, until a reviewer decides it; the export flags it too (formkit/exports/frames.py, ``_answers``).
OTHER_READING = (
    "(SELECT CASE WHEN w.value='' THEN '(blank)' ELSE '''' || w.value || '''' END || ' in ' || wi.path"
    " || ' page ' || (c.page_index + 1)"
    " FROM pages c JOIN field_values w ON w.page_id=c.id AND w.field=v.field JOIN inputs wi ON wi.id=c.input_id"
    f" WHERE c.form=p.form AND c.serial=p.serial AND c.form_page=p.form_page AND c.status='{PageState.CONFLICT.value}'"
    " AND w.value<>v.value"
    " ORDER BY c.id LIMIT 1)")
WAITING = f"v.review='' AND (v.needs_review=1 OR {OTHER_READING} IS NOT NULL)"
QUEUE_ROWS = (
    "SELECT v.id AS value_id, p.id AS page_id, v.field, v.kind, v.value, v.confidence,"
    f" CASE WHEN {OTHER_READING} IS NULL THEN v.reason"
    " ELSE v.reason || CASE WHEN v.reason='' THEN '' ELSE '; ' END || 'another image of this page reads '"
    f" || {OTHER_READING} END AS reason,"
    " p.form, p.version, p.variant, p.form_page, p.serial, i.path AS source_file, p.page_index + 1 AS source_page"
    " FROM field_values v JOIN pages p ON p.id=v.page_id JOIN inputs i ON i.id=p.input_id"
    f" WHERE {WAITING} AND p.status='{PageState.READ.value}'")


def _statements(script: str) -> list[str]:
    """The SQL statements of ``script``, one by one (a trigger's body has semicolons of its own)."""
    statements, current = [], ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                statements.append(current.strip())
            current = ""
    return statements


def now() -> str:
    """The time as the store writes it: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def storable_path(path: str) -> str:
    """A file name as text the store can hold: a name that is not valid UTF-8 keeps its undecodable bytes
    as ``\\xNN`` escapes, so it is shown, never lost or refused."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class StateChange:
    """A page whose state changed, and from and to what."""

    page_id: int
    old: PageState
    new: PageState


@dataclass(frozen=True)
class Undone:
    """A decision taken back: its field and value (``field`` '' and ``value_id`` 0 when there was none)."""

    field: str = ""
    value_id: int = 0


@dataclass(frozen=True)
class Reassigned:
    """What assigning a page to a form page did: the pages whose state changed, and the fields whose review
    decision was kept or dropped (each with the value the reviewer decided)."""

    changes: list[StateChange]
    kept: dict[str, str]
    dropped: dict[str, str]
    restored: dict[str, str] = field(default_factory=dict)  # dropped when the page last left this form page


@dataclass
class RereadOutcome:
    """What re-reading one page changed: values that took a new reading, reviewed values whose decision
    stands, reviewed values flagged again because the machine now reads something else."""

    page_id: int
    changed: int = 0
    kept: int = 0
    flagged_again: int = 0


class Store:
    """A formkit store at ``path`` (an SQLite file, or a ``postgresql://`` URL). ``readonly`` opens it for
    reading only (status, export, reports), which works on a store the user may not write to and never
    changes it. ``existing``: a store a scan made must be there (an empty file or database, or none, is
    refused as no store, never made into one): for commands that work on what was scanned."""

    def __init__(self, path: str | Path, readonly: bool = False, existing: bool = False) -> None:
        self.readonly = readonly
        self.postgres = is_database_url(path)
        if self.postgres:
            from . import postgres

            self.path: Path | DatabaseURL = DatabaseURL(path)
            if existing and not self.path.exists():
                raise InputError(f"{self.path}: no such store; run 'formkit scan' first")
            self.db: Any = postgres.open_store(self.path, readonly, _statements(TABLES), SCHEMA_VERSION)
            return
        self.path = Path(path)
        try:
            new = not self.path.exists() or self.path.stat().st_size == 0
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc.strerror or exc})") from exc
        if new and not self.path.parent.is_dir():
            raise InputError(f"{self.path}: no such folder ({self.path.parent}); make it, or give --db another path")
        if new and (readonly or existing):
            raise InputError(f"{self.path}: no such store; run 'formkit scan' first")
        try:
            if not new:
                new = self._check_is_store()
                if new and (readonly or existing):
                    raise InputError(f"{self.path}: an empty store; run 'formkit scan' first")
            uri = _reading_uri(self.path) if readonly else self.path.absolute().as_uri()
            self._as_it_lay = file_stamp(self.path.stat()) if "immutable=1" in uri else None
            self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
            self.db.row_factory = sqlite3.Row
            if not readonly:
                _write_ahead_log(self.db)
                # Safe against a crash or kill of formkit; a power cut may lose the last pages saved, which
                # the next run reads again. A sync per page would cost more than reading it.
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            if new:  # in one write transaction: a second formkit creating the same store waits, then adds nothing
                self.db.executescript(f"BEGIN IMMEDIATE; {TABLES} {NO_REPLACE} INSERT OR IGNORE INTO meta "
                                      f"VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;")
            else:
                self._upgrade()
        except sqlite3.OperationalError as exc:
            raise _operational(exc, self.path) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a formkit store ({exc})") from exc

    def _check_is_store(self) -> bool:
        """Refuse, without writing to it, a file that is not a whole formkit store; ``True`` when it is an
        SQLite file with no tables yet (another formkit is creating the store this moment)."""
        try:
            probe = sqlite3.connect(_reading_uri(self.path), uri=True, timeout=BUSY_TIMEOUT_S)
            try:
                names = {r[0] for r in probe.execute("SELECT name FROM sqlite_master")}
                found = probe.execute("SELECT value FROM meta WHERE key='schema'").fetchone() \
                    if "meta" in names else None
            finally:
                probe.close()
        except sqlite3.OperationalError as exc:  # no room for its shared-memory file, or locked: not foreign
            raise _operational(exc, self.path) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a formkit store ({exc})") from exc
        if not names:
            return True
        if found is None or not {"inputs", "pages", "field_values"} <= names:
            raise StoreError(f"{self.path}: not a formkit store (an SQLite file of something else); "
                             "give --db a new file name")
        version = int(found[0])
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer formkit (store schema {version}, this formkit "
                             f"reads {SCHEMA_VERSION}); upgrade formkit")
        missing = [n for n in ("audit", *GUARDS[:2]) if n not in names]
        if missing:
            raise StoreError(f"{self.path}: damaged: the audit log or its guards are missing ({', '.join(missing)});"
                             " restore the store from a backup")
        if version >= 3 and "audit_no_replace" not in names:
            raise StoreError(f"{self.path}: damaged: the audit log's guard audit_no_replace is missing; "
                             "restore the store from a backup")
        return False

    def _upgrade(self) -> None:
        version = int(self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            raise StoreError(f"{self.path}: written by an older formkit and read-only here; open it once with "
                             "write access (e.g. 'formkit scan' with no files) to upgrade it")
        # One transaction with the foreign keys off (they cannot change inside one): the pages table is
        # copied to change its key, and the references to it are checked before the commit.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            if version == 1:  # version 2 keeps review decisions beside each value (the audit log has them too)
                for column in ("machine_value TEXT", "review TEXT NOT NULL DEFAULT ''",
                               "reviewed_by TEXT NOT NULL DEFAULT ''", "reviewed_at TEXT NOT NULL DEFAULT ''"):
                    self.db.execute(f"ALTER TABLE field_values ADD COLUMN {column}")
            # version 3: pages keyed by region too (several cards in one image), voided pages keep the state
            # they had, the audit log refuses INSERT OR REPLACE, review claims and respondents' conventions
            have = {r["name"] for r in self.db.execute("PRAGMA table_info(pages)")}
            if "region" not in have:
                self._rebuild_pages(have)
            else:
                for column in ("voided_status", "voided_reason"):
                    if column not in have:
                        self.db.execute(f"ALTER TABLE pages ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
            for statement in _statements(TABLES + NO_REPLACE):
                self.db.execute(statement)  # creates only what is missing
            self.db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
            if self.db.execute("PRAGMA foreign_key_check").fetchall():
                raise StoreError(f"{self.path}: damaged: values or pages refer to pages that are not there")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    def _rebuild_pages(self, columns: set[str]) -> None:
        """Pages keyed by (input, page, region): several form pages may come from one image. SQLite changes
        a table's unique key only by copying the table (inside the upgrade's transaction)."""
        definition = next(s for s in _statements(TABLES) if s.startswith("CREATE TABLE IF NOT EXISTS pages ("))
        self.db.execute(definition.replace("CREATE TABLE IF NOT EXISTS pages (", "CREATE TABLE pages_keyed ("))
        kept = ", ".join(sorted(columns & {r["name"] for r in self.db.execute("PRAGMA table_info(pages_keyed)")}))
        self.db.execute(f"INSERT INTO pages_keyed ({kept}) SELECT {kept} FROM pages")
        self.db.execute("DROP TABLE pages")
        self.db.execute("ALTER TABLE pages_keyed RENAME TO pages")

    def close(self) -> None:
        """Close the store. Read as it lay on disk (``_reading_uri``), it must still lie so: if a writer came
        meanwhile, what was read may be torn, and ``StoreBusyError`` says to run the command again."""
        self.db.close()
        if getattr(self, "_as_it_lay", None) is not None and (
                file_stamp(self.path.stat()) != self._as_it_lay or Path(f"{self.path}-wal").exists()):
            raise StoreBusyError(f"{self.path}: another formkit command wrote to the store while this one read it: "
                                 "run this command again")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction, holding the store's write lock from its first read (so what it reads is still
        true when it writes: two scans of one store never both add the same page); a full disk or a store
        held too long by another writer becomes an error that names the store, and the transaction is
        rolled back, so the store stays as it was. On PostgreSQL, the same with the store's advisory lock."""
        if self.postgres:
            with self.db.writing() as db:
                yield db
            return
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                yield self.db
        except sqlite3.OperationalError as exc:
            raise _operational(exc, self.path) from exc

    # Scanning

    def add_input(self, info: InputFile) -> tuple[int, dict[int, PageState]]:
        """The input's id and the state of each of its pages already stored, by index (a file seen before)."""
        with self._writing() as db:
            added = db.execute("INSERT INTO inputs (sha256, path, size_bytes, pages, error, added_at)"
                               " SELECT ?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM inputs WHERE sha256=?)",
                               (info.sha256, storable_path(info.path), info.size_bytes, info.pages, info.error, now(),
                                info.sha256)).rowcount
            input_id = int(db.execute("SELECT id FROM inputs WHERE sha256=?", (info.sha256,)).fetchone()[0])
            if added:
                self.audit("scanner", "input", detail=json.dumps({"path": storable_path(info.path),
                                                                  "sha256": info.sha256}))
            self._forget_unopened(info)
        stored: dict[int, PageState] = {}
        for index, status in self.db.execute("SELECT page_index, status FROM pages WHERE input_id=?", (input_id,)):
            if int(index) not in stored or PageState(status) in UNREAD_STATES:  # one region unread: read it again
                stored[int(index)] = PageState(status)
        return input_id, stored

    def forget_unopened(self, info: InputFile) -> None:
        """``_forget_unopened`` for a file whose content the store holds under another name: no input is added
        for it (``scanner.batch.plan``), so ``add_input`` cannot."""
        with self._writing():
            self._forget_unopened(info)

    def _forget_unopened(self, info: InputFile) -> None:
        """A file that could not be opened before, and now has (``info`` hashes its content, even if what it
        holds is no page): the page rejected for it goes (its content was never known, so nothing of it is
        lost), and the file's pages are its own from now on. Audited. Inside the caller's transaction."""
        path = info.path
        if info.sha256 == unopened_key(path):  # not opened this time either: its record stays
            return
        unopened = self.db.execute("SELECT id, sha256, error FROM inputs WHERE sha256=?",
                                   (unopened_key(path),)).fetchone()
        if unopened is None:
            return
        pages = [int(r[0]) for r in self.db.execute("SELECT id FROM pages WHERE input_id=?", (unopened["id"],))]
        self.db.execute("DELETE FROM pages WHERE input_id=?", (unopened["id"],))
        self.db.execute("DELETE FROM inputs WHERE id=?", (unopened["id"],))
        self.audit("scanner", "input-opened", detail=json.dumps({"path": storable_path(path), "pages": pages,
                                                                 "was": unopened["error"]}))

    def forget_half_copied(self, path: str, sha256: str, size: int, prefix_sha256: Callable[[int], str | None]
                           ) -> list[int]:
        """Forget what the store holds of the file at ``path`` read while it was still being copied: each
        input stored earlier under that path, smaller than ``size``, whose content ``prefix_sha256`` (the hash
        of the file's first so many bytes now, ``None`` when it cannot tell) says the file now begins with, and
        none of whose pages was read (each rejected or unidentified, say: a truncated image). Its pages and
        their values go, as the page rejected for a file not opened does (``_forget_unopened``): the file as
        it is now (``sha256``) holds all of it.

        An earlier input with a page read is kept, whatever the file has become: a PDF saved again with an
        incremental update (appended to the file, so the old file begins the new one) keeps its reading, and
        so does a truncated JPEG that decoded into a page read; the new file's pages of the same printed
        pages are conflicts with them, as any other image of a page read is. So is an input someone has
        worked on: a person dealt with one of its pages (reviewed a value, voided, restored or assigned a
        page), or a reviewer's claim on one of its values has not run out; no one's work is thrown away.
        Audited (``input-half-copied``), its pages named by (sha256, page index): not by page id, as SQLite
        gives the ids of the last pages deleted to the next pages saved, the whole file's. Returns the ids of
        the inputs forgotten."""
        earlier = self.db.execute("SELECT id, sha256, size_bytes FROM inputs WHERE path=? AND sha256<>?"
                                  " AND size_bytes<?", (storable_path(path), sha256, size)).fetchall()
        halves = [row for row in earlier if prefix_sha256(int(row["size_bytes"])) == row["sha256"]]
        forgotten: list[int] = []
        if not halves:
            return forgotten
        with self._writing() as db:
            for half in halves:
                input_id = int(half["id"])
                pages = db.execute("SELECT id, status, page_index FROM pages WHERE input_id=?"
                                   " ORDER BY page_index, region", (input_id,)).fetchall()
                if any(PageState(p["status"]).was_read for p in pages):
                    continue  # its reading stays
                ids = [int(p["id"]) for p in pages]
                marks = ",".join("?" * len(ids))
                if ids and db.execute(f"SELECT 1 FROM audit WHERE page_id IN ({marks}) AND actor<>'scanner' LIMIT 1",
                                      ids).fetchone():
                    continue
                of_input = "SELECT id FROM pages WHERE input_id=?"
                if db.execute("SELECT 1 FROM claims WHERE until>? AND value_id IN (SELECT id FROM field_values"
                              f" WHERE page_id IN ({of_input})) LIMIT 1", (now(), input_id)).fetchone():
                    continue  # a reviewer has one of its values open
                db.execute("DELETE FROM claims WHERE value_id IN (SELECT id FROM field_values"
                           f" WHERE page_id IN ({of_input}))", (input_id,))
                db.execute(f"DELETE FROM field_values WHERE page_id IN ({of_input})", (input_id,))
                db.execute("DELETE FROM pages WHERE input_id=?", (input_id,))  # none read: no conflict_of names one
                if db.execute("DELETE FROM inputs WHERE id=?", (input_id,)).rowcount != 1:
                    continue  # another formkit forgot it first
                self.audit("scanner", "input-half-copied", detail=json.dumps(
                    {"path": storable_path(path), "sha256": half["sha256"], "size_bytes": int(half["size_bytes"]),
                     "pages": list(dict.fromkeys((half["sha256"], int(p["page_index"])) for p in pages)),
                     "now": {"sha256": sha256, "size_bytes": size}}))
                forgotten.append(input_id)
        return forgotten

    def save_page(self, input_id: int, page_index: int, result: PageResult) -> PageState | None:
        """Store a page and its values in one transaction; returns the state stored, or ``None`` when the
        page was already in the store (another copy of the file, or another scan on the same store, got
        there first). A second, different image of a page already read (same form, serial and page) is
        kept as a conflict, never overwriting the first. A page stored as rejected or unidentified is
        replaced by a new reading of it (scanned again with the template or text pack it lacked)."""
        state, reason, conflict_of = PageState(result.status), result.reason, None
        with self._writing() as db:
            old = db.execute("SELECT id, status FROM pages WHERE input_id=? AND page_index=? AND region=?",
                             (input_id, page_index, result.region)).fetchone()
            if old is not None and old["status"] not in UNREAD_STATES:
                return None
            if state is PageState.READ:
                first = db.execute(
                    "SELECT id FROM pages WHERE form=? AND serial=? AND form_page=? AND status=? ORDER BY id LIMIT 1",
                    (result.form, result.serial, result.form_page, PageState.READ.value)).fetchone()
                if first is not None:
                    state, conflict_of = PageState.CONFLICT, int(first[0])
                    reason = f"another image of this page was read before (page id {conflict_of})"
            row = (state.value, reason, result.form, result.version, result.variant, result.form_page,
                   result.serial, json.dumps(result.transform) if result.transform else None, result.error_mm,
                   json.dumps(result.quality, default=str), result.image_jpeg, conflict_of, now())
            if old is None:
                key = (input_id, page_index, result.region)
                page_id = int(db.execute(
                    "INSERT INTO pages (status, reason, form, version, variant, form_page, serial, transform,"
                    " error_mm, quality, image, conflict_of, read_at, input_id, page_index, region)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id", (*row, *key)).fetchone()[0])
                action = "read-page"
            else:
                page_id = int(old["id"])
                db.execute("UPDATE pages SET status=?, reason=?, form=?, version=?, variant=?, form_page=?,"
                           " serial=?, transform=?, error_mm=?, quality=?, image=COALESCE(?, image),"
                           " conflict_of=?, read_at=? WHERE id=?", (*row, page_id))
                db.execute("DELETE FROM field_values WHERE page_id=?", (page_id,))
                action = "reread-page"
            self._insert_values(page_id, result)
            self.audit("scanner", action, page_id, detail=json.dumps(
                {"status": state.value, "reason": reason, "values": len(result.values)}))
            if state is PageState.READ:
                self._decide_fill_convention(result.form, result.serial)
        return state

    def replace_page(self, page_id: int, result: PageResult, actor: str) -> Reassigned:
        """Put a new reading in place of a page a person said is another form page (an unidentified page,
        or one read as the wrong form, page or serial): the page keeps its id and source; its values are
        replaced, except that a review decision stands when its field is a field of the same form again and
        the new reading passes ``_decision_stands`` (a page assigned to a wrong serial by mistake and then
        back keeps what people decided about its ink; a decision on another form's field, or another page
        number's, is never carried over); where the field is read otherwise now, its new reading goes to
        review, as a re-read's does. Decisions dropped when the page last left the form page it is now
        assigned to come back by the same rule (``_dropped_when_it_left``). Its old and new form, page and
        serial, and the decisions kept, dropped (whole) and brought back, go to the audit log. A page read of a
        printed page already read becomes a conflict with it; the printed page it leaves gets another reading
        as its ``read`` one if it has any. Returns the pages whose state changed and the decisions kept,
        dropped and brought back. A voided page is refused
        (``ValueError``): restore it first. A page that was one of several in its image keeps its outline
        there (``region_of``, ``region_px`` in its quality) where the new reading does not give it: it is
        still that part of that image, to be read or assigned again on its own."""
        changes: list[StateChange] = []
        with self._writing() as db:
            old = db.execute("SELECT * FROM pages WHERE id=?", (page_id,)).fetchone()
            if old is None:
                raise ValueError(f"no page {page_id}")
            if old["status"] == PageState.VOIDED:
                raise ValueError(f"page {page_id} is voided")
            outline = {k: v for k, v in json.loads(old["quality"] or "{}").items() if k in ("region_of", "region_px")}
            quality = {**outline, **result.quality}
            state, reason, conflict_of = PageState(result.status), result.reason, None
            if state is PageState.READ:
                first = db.execute(
                    "SELECT id FROM pages WHERE form=? AND serial=? AND form_page=? AND status=? AND id<>?"
                    " ORDER BY id LIMIT 1",
                    (result.form, result.serial, result.form_page, PageState.READ.value, page_id)).fetchone()
                if first is not None:
                    state, conflict_of = PageState.CONFLICT, int(first[0])
                    reason = CONFLICT_REASON.format(conflict_of)
            db.execute(
                "UPDATE pages SET status=?, reason=?, form=?, version=?, variant=?, form_page=?, serial=?, transform=?,"
                " error_mm=?, quality=?, image=COALESCE(?, image), conflict_of=?, read_at=? WHERE id=?",
                (state.value, reason, result.form, result.version, result.variant,
                 result.form_page, result.serial, json.dumps(result.transform) if result.transform else None,
                 result.error_mm, json.dumps(quality, default=str), result.image_jpeg, conflict_of, now(),
                 page_id))
            old_values = db.execute("SELECT * FROM field_values WHERE page_id=?", (page_id,)).fetchall()
            reviewed = [r for r in old_values if r["review"]]
            new_readings = {v.field: v for v in result.values}
            # a field id names a question only within its form: another form's field of that name is another one
            readings = new_readings if old["form"] == result.form else {}
            standing = [r for r in reviewed
                        if r["field"] in readings and _decision_stands(r, readings[r["field"]].value)]
            kept = {r["field"]: r["value"] for r in standing}
            dropped_rows = [r for r in reviewed if r["field"] not in kept]
            dropped = {r["field"]: r["value"] for r in dropped_rows}
            # decisions dropped when the page last left this very form page (assigned elsewhere by mistake)
            # (a decision made since on the same question, kept or not, is the newer one)
            decided_since = {r["field"] for r in reviewed if r["field"] in readings}
            earlier = [r for r in _dropped_when_it_left(db, page_id, result.form, result.form_page)
                       if r["field"] in new_readings and r["field"] not in decided_since]
            back = [r for r in earlier if _decision_stands(r, new_readings[r["field"]].value)]
            restored = {r["field"]: r["value"] for r in back}
            db.execute("DELETE FROM claims WHERE value_id IN (SELECT id FROM field_values WHERE page_id=?)", (page_id,))
            db.executemany("DELETE FROM field_values WHERE id=?",
                           [(r["id"],) for r in old_values if r["field"] not in kept])
            for row in standing:
                _keep_decision(db, row, readings[row["field"]])
            for row in back:
                _restore_decision(db, page_id, row, new_readings[row["field"]])
            # a decision overtaken on the same question sends its new reading to review, as a re-read does
            overtaken = {r["field"]: r for r in earlier if r["field"] not in restored}
            overtaken |= {r["field"]: r for r in reviewed if r["field"] in readings and r["field"] not in kept}
            values = [replace(v, needs_review=True, reason=_overtaken(overtaken[v.field], v, "assigned"))
                      if v.field in overtaken else v for v in result.values if v.field not in kept | restored]
            self._insert_values(page_id, replace(result, values=values))
            before = {k: old[k] for k in ("status", "reason", "form", "version", "variant", "form_page", "serial")}
            after = {"status": state.value, "reason": reason, "form": result.form, "version": result.version,
                     "variant": result.variant, "form_page": result.form_page, "serial": result.serial}
            self.audit(actor, "assign-page", page_id, old=_identity(before), new=_identity(after),
                       detail=json.dumps({"old": before, "new": after, "values": len(result.values),
                                          "reviews_kept": kept, "reviews_restored": restored,
                                          "reviews_dropped": dropped,
                                          "decisions_dropped": [_decision_record(r) for r in dropped_rows]}))
            if PageState(old["status"]).was_read:
                self._settle(old["form"], old["serial"], old["form_page"], actor, changes)
                self._decide_fill_convention(old["form"], old["serial"])
            if state.was_read:
                self._decide_fill_convention(result.form, result.serial)
            if state.value != old["status"]:
                changes.insert(0, StateChange(page_id, PageState(old["status"]), state))
        return Reassigned(changes, kept, dropped, restored)

    def void_pages(self, page_ids: list[int], why: str, actor: str) -> list[StateChange]:
        """Take pages out of every export, queue, conflict and fill-convention decision, keeping them (and
        the state each had) for ``restore_pages``; pages already voided are left alone. A page read that
        leaves has its earliest conflict read in its place. Returns every page whose state changed."""
        changes: list[StateChange] = []
        with self._writing() as db:
            touched: dict[tuple[str, str, int], None] = {}
            for page_id in page_ids:
                row = db.execute("SELECT id, status, reason, form, serial, form_page FROM pages WHERE id=?",
                                 (page_id,)).fetchone()
                if row is None or row["status"] == PageState.VOIDED:
                    continue
                db.execute("UPDATE pages SET status=?, reason=?, voided_status=?, voided_reason=? WHERE id=?",
                           (PageState.VOIDED.value, f"voided: {why}", row["status"], row["reason"], page_id))
                self.audit(actor, "void-page", page_id, old=f"{row['status']}: {row['reason']}".rstrip(": "),
                           new=PageState.VOIDED.value, detail=json.dumps({"why": why}))
                changes.append(StateChange(page_id, PageState(row["status"]), PageState.VOIDED))
                if PageState(row["status"]).was_read:
                    touched[(row["form"], row["serial"], row["form_page"])] = None
            self._settle_all(touched, actor, changes)
        return changes

    def restore_pages(self, page_ids: list[int], actor: str) -> list[StateChange]:
        """Undo ``void_pages``: each voided page gets back the state and reason it had; a page that was the
        ``read`` one of its printed page is again, and the page read in its place is a conflict again."""
        changes: list[StateChange] = []
        with self._writing() as db:
            touched: dict[tuple[str, str, int], int | None] = {}
            for page_id in page_ids:
                row = db.execute("SELECT id, reason, form, serial, form_page, voided_status, voided_reason FROM pages"
                                 " WHERE id=? AND status=?", (page_id, PageState.VOIDED.value)).fetchone()
                if row is None:
                    continue
                state = PageState(row["voided_status"])
                db.execute("UPDATE pages SET status=?, reason=?, voided_status='', voided_reason='' WHERE id=?",
                           (state.value, row["voided_reason"], page_id))
                self.audit(actor, "restore-page", page_id, old=row["reason"],
                           new=f"{state.value}: {row['voided_reason']}".rstrip(": "))
                changes.append(StateChange(page_id, PageState.VOIDED, state))
                if state.was_read:
                    key = (row["form"], row["serial"], row["form_page"])
                    touched[key] = page_id if state is PageState.READ else touched.get(key)
            self._settle_all(touched, actor, changes)
        return changes

    def _settle_all(self, keys: dict[tuple[str, str, int], int | None], actor: str,
                    changes: list[StateChange]) -> None:
        """``_settle`` each printed page (with the page preferred as its reading, if any), then decide each
        respondent's fill convention again. Inside the caller's transaction."""
        for (form, serial, form_page), preferred in keys.items():
            self._settle(form, serial, form_page, actor, changes, preferred)
        for form, serial in dict.fromkeys((form, serial) for form, serial, _ in keys):
            self._decide_fill_convention(form, serial)

    def _settle(self, form: str, serial: str, form_page: int, actor: str, changes: list[StateChange],
                preferred: int | None = None) -> None:
        """Make exactly one page read of this printed page ``read``, the others conflicts with it: the
        ``preferred`` page if given, else the one ``read`` now, else the earliest. Inside the caller's
        transaction; each page whose state changes is audited and added to ``changes``."""
        rows = self.db.execute(
            "SELECT id, status, reason, conflict_of FROM pages WHERE form=? AND serial=? AND form_page=?"
            " AND status IN (?, ?) ORDER BY id", (form, serial, form_page, *READ_STATES)).fetchall()
        if not rows:
            return
        ids = [int(r["id"]) for r in rows]
        primary = preferred if preferred in ids else \
            next((int(r["id"]) for r in rows if r["status"] == PageState.READ), ids[0])
        for row in rows:
            if row["id"] == primary:
                state, conflict_of = PageState.READ, None
                reason = row["reason"] if row["status"] == PageState.READ else ""
            else:
                state, conflict_of, reason = PageState.CONFLICT, primary, CONFLICT_REASON.format(primary)
            if (row["status"], row["conflict_of"]) == (state.value, conflict_of):
                continue
            self.db.execute("UPDATE pages SET status=?, reason=?, conflict_of=? WHERE id=?",
                            (state.value, reason, conflict_of, row["id"]))
            self.audit(actor, "page-state", int(row["id"]), old=f"{row['status']}: {row['reason']}".rstrip(": "),
                       new=f"{state.value}: {reason}".rstrip(": "),
                       detail=json.dumps({"form": form, "serial": serial, "form_page": form_page}))
            if state.value != row["status"]:
                changes.append(StateChange(int(row["id"]), PageState(row["status"]), state))

    def reread_page(self, page_id: int, result: PageResult, actor: str = "scanner") -> RereadOutcome | None:
        """Put a new reading of a page read (the same form, page and serial) in place of the old one, in one
        transaction, value by value: values keep their ids; a value a person reviewed keeps the decision
        when the machine now reads what it read before or what the person decided, and is otherwise flagged
        again ("re-read: the value changed from X to Y after review"); any other value takes the new
        reading. Every value that changes is audited (``reread-value``), the page too (``reread-page``).
        ``None`` when the page is no longer a page read as that form page (voided or reassigned since)."""
        outcome = RereadOutcome(page_id)
        with self._writing() as db:
            page = db.execute("SELECT status, form, version, variant, form_page, serial FROM pages WHERE id=?",
                              (page_id,)).fetchone()
            if page is None or page["status"] not in READ_STATES or \
                    (page["form"], page["serial"], page["form_page"]) != (result.form, result.serial,
                                                                          result.form_page):
                return None
            db.execute("UPDATE pages SET version=?, variant=?, transform=?, error_mm=?, quality=?,"
                       " image=COALESCE(?, image), read_at=? WHERE id=?",
                       (result.version, result.variant, json.dumps(result.transform) if result.transform else None,
                        result.error_mm, json.dumps(result.quality, default=str), result.image_jpeg, now(), page_id))
            old = {r["field"]: r for r in db.execute("SELECT * FROM field_values WHERE page_id=?", (page_id,))}
            for v in result.values:
                raw = json.dumps(v.raw, default=float)
                row = old.pop(v.field, None)
                if row is None:
                    self._insert_values(page_id, PageResult("", 0, "", PageState.READ, values=[v]))
                    self.audit(actor, "reread-value", page_id, v.field, None, v.value)
                    outcome.changed += 1
                    continue
                if row["review"]:
                    if _decision_stands(row, v.value):
                        _keep_decision(db, row, v)
                        outcome.kept += 1
                        continue
                    seen = _read_at_decision(row)
                    reason = _overtaken(row, v, "re-read")
                    db.execute("UPDATE field_values SET kind=?, value=?, confidence=?, needs_review=1, reason=?,"
                               " raw=?, crop=COALESCE(?, crop), machine_value=NULL, review='', reviewed_by='',"
                               " reviewed_at='' WHERE id=?",
                               (v.kind, v.value, v.confidence, reason, raw, v.crop_jpeg, row["id"]))
                    self.audit(actor, "reread-value", page_id, v.field, row["value"], v.value, json.dumps(
                        {"value_id": row["id"], "review": row["review"], "reviewed_by": row["reviewed_by"],
                         "machine_value_before": seen, "flagged": True}))
                    outcome.flagged_again += 1
                    continue
                db.execute("UPDATE field_values SET kind=?, value=?, confidence=?, needs_review=?, reason=?, raw=?,"
                           " crop=COALESCE(?, crop), machine_value=NULL WHERE id=?",
                           (v.kind, v.value, v.confidence, int(v.needs_review), v.reason, raw, v.crop_jpeg, row["id"]))
                if (row["value"], bool(row["needs_review"])) != (v.value, v.needs_review):
                    self.audit(actor, "reread-value", page_id, v.field, row["value"], v.value, json.dumps(
                        {"value_id": row["id"], "needs_review": v.needs_review, "reason": v.reason}))
                    outcome.changed += 1
            for name, row in old.items():  # fields the layout no longer has
                db.execute("DELETE FROM claims WHERE value_id=?", (row["id"],))
                db.execute("DELETE FROM field_values WHERE id=?", (row["id"],))
                self.audit(actor, "reread-value", page_id, name, row["value"], None,
                           json.dumps({"value_id": row["id"], "removed": True}))
                outcome.changed += 1
            self.audit(actor, "reread-page", page_id, detail=json.dumps(
                {"values": len(result.values), "changed": outcome.changed, "reviews_kept": outcome.kept,
                 "flagged_again": outcome.flagged_again}))
            if page["status"] == PageState.READ:
                self._decide_fill_convention(result.form, result.serial)
        return outcome

    def _decide_fill_convention(self, form: str, serial: str) -> None:
        """Decide again, from every page read of this printed form, what a lone filled box means for its
        respondent, and read its lone fills that way (never one a person has reviewed). Inside the
        caller's transaction."""
        rows = self.db.execute(
            "SELECT v.id, v.value, v.confidence, v.needs_review, v.reason, v.raw, v.review, p.quality"
            " FROM field_values v JOIN pages p ON p.id=v.page_id WHERE p.form=? AND p.serial=? AND p.status=?"
            " AND v.kind='choice' ORDER BY p.id, v.id", (form, serial, PageState.READ.value)).fetchall()
        raws = [json.loads(r["raw"]) for r in rows]
        fields = [conventions.ChoiceStates(tuple(raw["states"]), raw.get("multiple", False)) if "states" in raw
                  else None for raw in raws]
        fill_means = json.loads(rows[-1]["quality"]).get("fill_means", "infer") if rows else "infer"
        convention = conventions.decide([f for f in fields if f is not None], fill_means)
        evidence = json.dumps(vars(convention.evidence))
        before = self.db.execute("SELECT decision, evidence FROM respondents WHERE form=? AND serial=?",
                                 (form, serial)).fetchone()
        if before is None or (before["decision"], before["evidence"]) != (convention.decision, evidence):
            self.db.execute("DELETE FROM respondents WHERE form=? AND serial=?", (form, serial))
            self.db.execute("INSERT INTO respondents (form, serial, fill_means, decision, evidence, decided_at)"
                            " VALUES (?,?,?,?,?,?)", (form, serial, fill_means, convention.decision, evidence, now()))
            self.audit("scanner", "fill-convention", field=serial, old=before["decision"] if before else None,
                       new=convention.decision,
                       detail=json.dumps({"form": form, "evidence": vars(convention.evidence)}))
        for row, raw, states in zip(rows, raws, fields, strict=True):
            if states is None or "as_scanned" not in raw or row["review"]:
                continue
            reading = conventions.apply(convention, states, raw["options"],
                                        conventions.Reading(*raw["as_scanned"]), conventions.flagged_otherwise(raw))
            current = (row["value"], row["confidence"], bool(row["needs_review"]), row["reason"])
            if current != (reading.value, reading.confidence, reading.needs_review, reading.reason):
                self.db.execute("UPDATE field_values SET value=?, confidence=?, needs_review=?, reason=? WHERE id=?",
                                (reading.value, reading.confidence, int(reading.needs_review), reading.reason,
                                 row["id"]))

    def _insert_values(self, page_id: int, result: PageResult) -> None:
        self.db.executemany(
            "INSERT INTO field_values (page_id, field, kind, value, confidence, needs_review, reason, raw, crop)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [(page_id, v.field, v.kind, v.value, v.confidence, int(v.needs_review), v.reason,
              json.dumps(v.raw, default=float), v.crop_jpeg) for v in result.values])

    def audit(self, actor: str, action: str, page_id: int | None = None, field: str | None = None,
              old: str | None = None, new: str | None = None, detail: str = "") -> None:
        """Append to the audit log, inside the caller's transaction."""
        self.db.execute("INSERT INTO audit (at, actor, action, page_id, field, old_value, new_value, detail)"
                        " VALUES (?,?,?,?,?,?,?,?)", (now(), actor, action, page_id, field, old, new, detail))

    # Reading

    def pages(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT p.id, i.path, p.page_index, p.region, p.status, p.reason, p.form, p.version, p.variant,"
            " p.form_page, p.serial, p.error_mm, p.conflict_of, p.quality,"
            f" (SELECT COUNT(*) FROM field_values v WHERE v.page_id=p.id AND {WAITING}) AS review,"
            " (SELECT COUNT(*) FROM field_values v JOIN field_values w ON w.page_id=p.conflict_of AND w.field=v.field"
            f" WHERE v.page_id=p.id AND v.value<>w.value AND p.status='{PageState.CONFLICT.value}') AS differ"
            " FROM pages p JOIN inputs i ON i.id=p.input_id ORDER BY i.path, p.page_index, p.region").fetchall()

    def values(self) -> list[sqlite3.Row]:
        """Every value of every page read (first reads and conflicts), with its provenance."""
        return self.db.execute(VALUE_ROWS + " ORDER BY p.form, p.serial, p.form_page, p.id, v.id").fetchall()

    def value(self, value_id: int) -> sqlite3.Row | None:
        """One value with its provenance and review columns."""
        return self.db.execute(
            "SELECT v.*, p.status AS page_status FROM field_values v JOIN pages p ON p.id=v.page_id WHERE v.id=?",
            (value_id,)).fetchone()

    def other_images(self, page_id: int) -> list[sqlite3.Row]:
        """The other images of the printed page read as ``page_id`` (its conflicts): id, path, page_index."""
        return self.db.execute(
            "SELECT c.id, i.path, c.page_index FROM pages p JOIN pages c ON c.form=p.form AND c.serial=p.serial"
            " AND c.form_page=p.form_page AND c.id<>p.id JOIN inputs i ON i.id=c.input_id"
            f" WHERE p.id=? AND c.status='{PageState.CONFLICT.value}' ORDER BY c.id", (page_id,)).fetchall()

    def audit_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM audit ORDER BY id")]

    def crop(self, value_id: int) -> bytes | None:
        row = self.db.execute("SELECT crop FROM field_values WHERE id=?", (value_id,)).fetchone()
        return row[0] if row else None

    def page_image(self, page_id: int) -> bytes | None:
        row = self.db.execute("SELECT image FROM pages WHERE id=?", (page_id,)).fetchone()
        return row[0] if row else None

    def input_path(self, sha256: str) -> str | None:
        """The path a file with this content was first scanned under, or None when it is new."""
        row = self.db.execute("SELECT path FROM inputs WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def page_source(self, page_id: int) -> sqlite3.Row | None:
        """Where a page came from: its status, index in its file, stored image, the file's path and hash."""
        return self.db.execute("SELECT p.status, p.page_index, p.image, p.quality, i.path, i.sha256 FROM pages p"
                               " JOIN inputs i ON i.id=p.input_id WHERE p.id=?", (page_id,)).fetchone()

    def inputs(self) -> list[sqlite3.Row]:
        """Every input file: id, content hash, path as scanned, pages, any load error, when added."""
        return self.db.execute("SELECT id, sha256, path, size_bytes, pages, error, added_at FROM inputs"
                               " ORDER BY id").fetchall()

    def input_page_ids(self, input_id: int) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT id FROM pages WHERE input_id=? ORDER BY page_index",
                                                   (input_id,))]

    def page(self, page_id: int) -> sqlite3.Row | None:
        """One page's state and identity, and its file, without images (``has_image``: whether one is kept)."""
        return self.db.execute(
            "SELECT p.id, p.input_id, p.page_index, p.status, p.reason, p.form, p.version, p.variant, p.form_page,"
            " p.serial, p.conflict_of, p.quality, p.read_at, p.voided_status, i.path, i.sha256,"
            " (p.image IS NOT NULL) AS has_image,"
            f" (SELECT COUNT(*) FROM field_values v WHERE v.page_id=p.id AND {WAITING}) AS review"
            " FROM pages p JOIN inputs i ON i.id=p.input_id WHERE p.id=?", (page_id,)).fetchone()

    def reread_candidates(self, form: str | None = None, unread: bool = True) -> list[sqlite3.Row]:
        """Pages to read again, without their images: every page read (of ``form`` only, if given) and, with
        ``unread``, every unidentified or rejected page."""
        states = [s.value for s in (*READ_STATES, *(UNREAD_STATES if unread else ()))]
        query = ("SELECT p.id, p.input_id, p.page_index, p.status, p.form, p.version, p.variant, p.form_page,"
                 " p.serial, p.quality, i.path, i.sha256 FROM pages p JOIN inputs i ON i.id=p.input_id"
                 f" WHERE p.status IN ({','.join('?' * len(states))})")
        if form is not None:
            return self.db.execute(query + " AND p.form=? ORDER BY p.id", (*states, form)).fetchall()
        return self.db.execute(query + " ORDER BY p.id", states).fetchall()

    def unread_pages(self) -> list[sqlite3.Row]:
        """Pages the scanner could not identify or read, with their stored image."""
        return self.db.execute(
            "SELECT p.id, i.path, p.page_index + 1 AS source_page, p.status, p.reason, p.read_at FROM pages p"
            " JOIN inputs i ON i.id=p.input_id WHERE p.status IN (?, ?) AND p.image IS NOT NULL ORDER BY p.id",
            [s.value for s in UNREAD_STATES]).fetchall()

    def page_counts(self) -> list[sqlite3.Row]:
        """Per page: the file's path, the page's state, its values flagged or reviewed, and reviewed."""
        return self.db.execute(
            # a conflict's own flags are never reviewed (its first image's values are): not counted
            "SELECT i.path, p.status, (SELECT COUNT(*) FROM field_values v WHERE v.page_id=p.id AND"
            f" p.status='{PageState.READ.value}' AND ({WAITING} OR v.review<>'')) AS flagged,"
            " (SELECT COUNT(*) FROM field_values v WHERE"
            " v.page_id=p.id AND v.review<>'') AS reviewed FROM pages p JOIN inputs i ON i.id=p.input_id"
            ).fetchall()

    # Review

    def review_queue(self, reviewer: str = "", limit: int = -1) -> list[sqlite3.Row]:
        """Values waiting for review (at most ``limit``), page by page in the order they were read; values
        another reviewer has open right now come last."""
        order = (" ORDER BY (SELECT COUNT(*) FROM claims c WHERE c.value_id=v.id AND c.reviewer<>? AND c.until>?),"
                 " p.id, v.id")
        if limit < 0:
            return self.db.execute(QUEUE_ROWS + order, (reviewer, now())).fetchall()
        return self.db.execute(QUEUE_ROWS + order + " LIMIT ?", (reviewer, now(), limit)).fetchall()

    def waiting_value(self, value_id: int) -> sqlite3.Row | None:
        """The value ``value_id`` if it is waiting for review."""
        return self.db.execute(QUEUE_ROWS + " AND v.id=?", (value_id,)).fetchone()

    def review_secret(self) -> bytes:
        """The key the review page signs its browser sessions with, made on first use and kept in the store:
        a page opened before ``formkit review`` was restarted still saves what was typed on it (each start
        drew a key of its own, and the value was lost). Whoever can read the store can read the key; they
        can change the store itself too."""
        query = "SELECT value FROM meta WHERE key='review-secret'"
        if (row := self.db.execute(query).fetchone()) is not None:  # no write lock to wait for, once made
            return bytes.fromhex(row[0])
        with self._writing() as db:
            if (row := db.execute(query).fetchone()) is not None:  # another server made it meanwhile
                return bytes.fromhex(row[0])
            key = secrets.token_hex(32)
            db.execute("INSERT INTO meta (key, value) VALUES ('review-secret', ?)", (key,))
            return bytes.fromhex(key)

    def claim(self, value_id: int, reviewer: str, seconds: int) -> None:
        """Hold a value for ``reviewer`` for ``seconds``: it is shown to others only after the rest."""
        until = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")
        with self._writing() as db:
            db.execute("DELETE FROM claims WHERE value_id=?", (value_id,))
            db.execute("INSERT INTO claims (value_id, reviewer, until) VALUES (?,?,?)", (value_id, reviewer, until))

    def review_progress(self) -> tuple[int, int]:
        """(values reviewed, values that needed review in all) on pages read."""
        done, left = self.db.execute(
            "SELECT SUM(CASE WHEN v.review<>'' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {WAITING} THEN 1 ELSE 0 END) FROM field_values v"
            " JOIN pages p ON p.id=v.page_id WHERE p.status=?", (PageState.READ.value,)).fetchone()
        return int(done or 0), int(done or 0) + int(left or 0)

    def decide(self, value_id: int, action: str, new_value: str, reviewer: str, seen_value: str) -> str:
        """Record a decision in one transaction; returns '' or why it was not recorded (someone else decided
        first, or the value changed since it was shown)."""
        with self._writing() as db:
            row = db.execute("SELECT page_id, field, value, needs_review, reason, review, reviewed_by FROM field_values"
                             " WHERE id=?", (value_id,)).fetchone()
            if row is None:
                return "no such value"
            if row["review"]:
                return f"already reviewed by {row['reviewed_by']}"
            if row["value"] != seen_value:
                return "the value changed since it was shown"
            changed = db.execute(
                "UPDATE field_values SET machine_value=COALESCE(machine_value, value), value=?, needs_review=0,"
                " review=?, reviewed_by=?, reviewed_at=? WHERE id=? AND review=''",
                (new_value, action, reviewer, now(), value_id)).rowcount
            if changed != 1:
                return "already reviewed"
            db.execute("DELETE FROM claims WHERE value_id=?", (value_id,))
            # what undo puts back: a value waiting only because another image reads it otherwise was not flagged
            self.audit(reviewer, f"review:{action}", row["page_id"], row["field"], row["value"], new_value,
                       json.dumps({"value_id": value_id, "needs_review": int(row["needs_review"]),
                                   "reason": row["reason"]}))
        return ""

    def undo(self, reviewer: str) -> Undone:
        """Take back ``reviewer``'s latest decision that still stands; returns which (empty when none)."""
        with self._writing() as db:
            undone = {json.loads(r["detail"]).get("audit_id") for r in db.execute(
                "SELECT detail FROM audit WHERE actor=? AND action='undo'", (reviewer,))}
            for entry in db.execute("SELECT * FROM audit WHERE actor=? AND action LIKE 'review:%' ORDER BY id DESC",
                                    (reviewer,)).fetchall():
                if entry["id"] in undone:
                    continue
                decided = json.loads(entry["detail"])
                value_id = decided["value_id"]
                restored = db.execute(
                    # the value is the machine's reading again, flagged as it was (decisions recorded before
                    # 2026-12-04 do not say: flagged); no record of the decision is left behind
                    # the same field of the same page too: an assignment brings a decision back under its old
                    # value id, which SQLite may have given another field meanwhile
                    "UPDATE field_values SET value=?, needs_review=?, reason=COALESCE(?, reason), machine_value=NULL,"
                    " review='', reviewed_by='', reviewed_at='' WHERE id=? AND reviewed_by=? AND value=?"
                    " AND page_id=? AND field=?",
                    (entry["old_value"], decided.get("needs_review", 1), decided.get("reason"), value_id, reviewer,
                     entry["new_value"], entry["page_id"], entry["field"])).rowcount
                if restored:
                    self.audit(reviewer, "undo", entry["page_id"], entry["field"], entry["new_value"],
                               entry["old_value"], json.dumps({"audit_id": entry["id"], "value_id": value_id}))
                    return Undone(str(entry["field"]), int(value_id))
        return Undone()

    # --- Reports (formkit/report) -------------------------------------------------------------------
    # Added for `formkit report`; self-contained: reads only, used by nothing else.

    def scan_dates(self) -> list[sqlite3.Row]:
        """Per printed form read (form, serial): the day its first page was read into the store (UTC,
        YYYY-MM-DD), for reports that date an occasion by its scan when no date is written on the form."""
        return self.db.execute(
            "SELECT form, serial, substr(MIN(read_at), 1, 10) AS scanned FROM pages WHERE status='read'"
            " GROUP BY form, serial ORDER BY form, serial").fetchall()


def _read_at_decision(row: Any) -> str:
    """What the machine read of a reviewed value (a ``field_values`` row) when the person decided it."""
    return row["machine_value"] if row["machine_value"] is not None else row["value"]


def _decision_stands(row: Any, reading: str) -> bool:
    """Whether a person's decision on a value (a reviewed ``field_values`` row) still answers a new machine
    reading of its field: the machine reads what it read when the person decided, or what the person decided.
    Anything else means the ink is read otherwise now, and the decision may be about other ink. The one rule
    for re-reading (``reread_page``) and assigning (``replace_page``)."""
    return reading in (_read_at_decision(row), row["value"])


def _overtaken(row: Any, reading: FieldValue, how: str) -> str:
    """Why a value whose review decision (on ``row``) no longer stands goes to review again: the field,
    read again (``how``: "re-read", "assigned"), now reads otherwise; with the new reading's own reason."""
    seen = _read_at_decision(row)
    decided = "" if row["value"] == seen else f" to {_shown(row['value'])}"
    reason = (f"{how}: the value changed from {_shown(seen)} to {_shown(reading.value)} after review"
              f" ({row['review']}{decided} by {row['reviewed_by']})")
    return "; ".join(filter(None, [reason, reading.reason]))


def _keep_decision(db: Any, row: Any, reading: FieldValue) -> None:
    """Keep the decision on ``row`` (value, review, machine value, id: undo still finds it), taking only the
    new reading's raw measures and crop, which show the ink as it is read now. Inside the caller's transaction."""
    db.execute("UPDATE field_values SET raw=?, crop=COALESCE(?, crop) WHERE id=?",
               (json.dumps(reading.raw, default=float), reading.crop_jpeg, row["id"]))


DECISION_COLUMNS = ("id", "field", "value", "reason", "machine_value", "review", "reviewed_by", "reviewed_at")


def _decision_record(row: Any) -> dict[str, Any]:
    """A reviewed value as the audit log keeps a decision dropped by an assignment: enough to bring it back."""
    return {k: row[k] for k in DECISION_COLUMNS}


def _dropped_when_it_left(db: Any, page_id: int, form: str, form_page: int) -> list[dict[str, Any]]:
    """The decisions dropped (``_decision_record``) when page ``page_id`` was last assigned away from ``form``
    page ``form_page``: none if it never was, if it has been assigned back there since (they were offered
    back then: one undone since must stay undone), or if that assignment was logged before they were kept."""
    for entry in db.execute("SELECT detail FROM audit WHERE page_id=? AND action='assign-page' ORDER BY id DESC",
                            (page_id,)).fetchall():
        detail = json.loads(entry["detail"] or "{}")
        left, came = detail.get("old", {}), detail.get("new", {})
        if (left.get("form"), left.get("form_page")) == (form, form_page):
            return list(detail.get("decisions_dropped", []))
        if (came.get("form"), came.get("form_page")) == (form, form_page):
            return []
    return []


def _restore_decision(db: Any, page_id: int, record: dict[str, Any], reading: FieldValue) -> None:
    """Put a decision dropped by an earlier assignment back on ``reading`` of page ``page_id``, with the
    new reading's kind, confidence, raw measures and crop (as ``_keep_decision`` keeps one), under its old
    value id when that is free (so that undo still finds it). Inside the caller's transaction."""
    columns = ("page_id", "field", "kind", "value", "confidence", "needs_review", "reason", "raw", "crop",
               "machine_value", "review", "reviewed_by", "reviewed_at")
    values = (page_id, record["field"], reading.kind, record["value"], reading.confidence, 0, record["reason"],
              json.dumps(reading.raw, default=float), reading.crop_jpeg, record["machine_value"], record["review"],
              record["reviewed_by"], record["reviewed_at"])
    if db.execute("SELECT 1 FROM field_values WHERE id=?", (record["id"],)).fetchone() is None:
        columns, values = ("id", *columns), (record["id"], *values)
    db.execute(f"INSERT INTO field_values ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)


def _shown(value: str | None) -> str:
    """A value in a message: quoted, '(blank)' when empty."""
    return f"'{value}'" if value else "(blank)"


def _identity(page: dict[str, Any]) -> str:
    """A page as the audit log names it: form, version, page and printed serial, and its state."""
    if not page["form"]:
        return f"{page['status']}: {page['reason']}".rstrip(": ")
    serial = format_serial(page["serial"]) if page["serial"] else ""
    return f"{page['form']} v{page['version']} page {page['form_page']} {serial}: {page['status']}"


def _reading_uri(path: Path) -> str:
    """The URI that opens the store at ``path`` for reading only, leaving no file behind.

    Opening a store in write-ahead-log mode, SQLite makes its side files (-wal, -shm) when no one has it
    open, owned by whoever opens it, with the store's permissions: a colleague who may only read the store
    made files its owner could then not write ("the store is read-only here" on the owner's next scan, until
    someone deleted them), and in a folder the reader may not write, could not read at all. So a reader who
    may not write the store reads it as it lies on disk (``immutable``: no side files, no locks) when no
    writer has it open (no -wal file); while one has, through that writer's side files. Read as it lies, a
    store written meanwhile may be read torn: ``Store.close`` then refuses what was read."""
    uri = path.absolute().as_uri() + "?mode=ro"
    if not os.access(path, os.W_OK) and not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def _write_ahead_log(db: sqlite3.Connection) -> None:
    """Put the store in write-ahead-log mode, waiting up to ``BUSY_TIMEOUT_S`` for another formkit that
    holds it: SQLite answers a change of journal mode on a locked file at once, without the busy timeout
    (two scans starting together on one new store: 3 of 14 runs of tests/test_reliability.py's test failed
    "database is locked" before, measured 2026-12-03; 0 of 20 since)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(BUSY_RETRY_S)


def _operational(exc: sqlite3.OperationalError, path: Path) -> Exception:
    """An SQLite operational error as the formkit error a user can act on."""
    text = str(exc)
    if "full" in text or getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_SHMSIZE":
        return OutputError(f"{path}: the disk is full ({text}); nothing of the last page was kept: free space "
                           "and run the same command again")
    if "locked" in text or "busy" in text:
        return StoreBusyError(f"{path}: the store is busy: another formkit command is writing to it; "
                              "wait for it to finish and run this again")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path}: the store is read-only here ({text})")
    return StoreError(f"{path}: the store cannot be used ({text})")
