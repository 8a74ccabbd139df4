"""Opening a store file: refusing what is not a whole formkit store, upgrading an older one, reading one
the user may not write, and SQLite's errors as messages a user can act on."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..errors import OutputError, StoreBusyError, StoreError
from .schema import GUARDS, NO_REPLACE, SCHEMA_VERSION, TABLES, statements

BUSY_TIMEOUT_S = 30  # how long a command waits for another that is writing to the store
BUSY_RETRY_S = 0.05


def check_is_store(path: Path) -> bool:
    """Refuse, without writing to it, a file that is not a whole formkit store; ``True`` when it is an
    SQLite file with no tables yet (another formkit is creating the store this moment)."""
    try:
        probe = sqlite3.connect(reading_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            names = {r[0] for r in probe.execute("SELECT name FROM sqlite_master")}
            found = probe.execute("SELECT value FROM meta WHERE key='schema'").fetchone() \
                if "meta" in names else None
        finally:
            probe.close()
    except sqlite3.OperationalError as exc:  # no room for its shared-memory file, or locked: not foreign
        raise operational(exc, path, writing=False) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a formkit store ({exc})") from exc
    if not names:
        return True
    if found is None or not {"inputs", "pages", "field_values"} <= names:
        raise StoreError(f"{path}: not a formkit store (an SQLite file of something else); "
                         "give --db a new file name")
    try:
        version = int(found[0])
    except (TypeError, ValueError):
        raise StoreError(f"{path}: damaged: its schema version ({str(found[0])[:40]!r}) is no number; restore the "
                         "store from a backup") from None
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: written by a newer formkit (store schema {version}, this formkit "
                         f"reads {SCHEMA_VERSION}); upgrade formkit")
    missing = [n for n in ("audit", *GUARDS[:2]) if n not in names]
    if missing:
        raise StoreError(f"{path}: damaged: the audit log or its guards are missing ({', '.join(missing)});"
                         " restore the store from a backup")
    if version >= 3 and "audit_no_replace" not in names:
        raise StoreError(f"{path}: damaged: the audit log's guard audit_no_replace is missing; "
                         "restore the store from a backup")
    return False


def upgrade(db: sqlite3.Connection, path: Path, readonly: bool) -> None:
    """Bring a store of an older schema up to this one's, in one transaction (refused when ``readonly``)."""
    version = int(db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if readonly:
        raise StoreError(f"{path}: written by an older formkit and read-only here; open it once with "
                         "write access (e.g. 'formkit scan' with no files) to upgrade it")
    # One transaction with the foreign keys off (they cannot change inside one): the pages table is
    # copied to change its key, and the references to it are checked before the commit.
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        db.execute("BEGIN IMMEDIATE")
        if version == 1:  # version 2 keeps review decisions beside each value (the audit log has them too)
            for column in ("machine_value TEXT", "review TEXT NOT NULL DEFAULT ''",
                           "reviewed_by TEXT NOT NULL DEFAULT ''", "reviewed_at TEXT NOT NULL DEFAULT ''"):
                db.execute(f"ALTER TABLE field_values ADD COLUMN {column}")
        # version 3: pages keyed by region too (several cards in one image), voided pages keep the state
        # they had, the audit log refuses INSERT OR REPLACE, review claims and respondents' conventions
        have = {r["name"] for r in db.execute("PRAGMA table_info(pages)")}
        if "region" not in have:
            rebuild_pages(db, have)
        else:
            for column in ("voided_status", "voided_reason"):
                if column not in have:
                    db.execute(f"ALTER TABLE pages ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
        for statement in statements(TABLES + NO_REPLACE):
            db.execute(statement)  # creates only what is missing
        db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
        if db.execute("PRAGMA foreign_key_check").fetchall():
            raise StoreError(f"{path}: damaged: values or pages refer to pages that are not there")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.execute("PRAGMA foreign_keys=ON")


def rebuild_pages(db: sqlite3.Connection, columns: set[str]) -> None:
    """Pages keyed by (input, page, region): several form pages may come from one image. SQLite changes
    a table's unique key only by copying the table (inside the upgrade's transaction)."""
    definition = next(s for s in statements(TABLES) if s.startswith("CREATE TABLE IF NOT EXISTS pages ("))
    db.execute(definition.replace("CREATE TABLE IF NOT EXISTS pages (", "CREATE TABLE pages_keyed ("))
    kept = ", ".join(sorted(columns & {r["name"] for r in db.execute("PRAGMA table_info(pages_keyed)")}))
    db.execute(f"INSERT INTO pages_keyed ({kept}) SELECT {kept} FROM pages")
    db.execute("DROP TABLE pages")
    db.execute("ALTER TABLE pages_keyed RENAME TO pages")


def reading_uri(path: Path) -> str:
    """The URI that opens the store at ``path`` for reading only, leaving no file behind.

    Opening a store in write-ahead-log mode, SQLite makes its side files (-wal, -shm) when no one has it
    open, owned by whoever opens it, with the store's permissions: a colleague who may only read the store
    made files its owner could then not write ("the store is read-only here" on the owner's next scan, until
    someone deleted them), and in a folder the reader may not write, could not read at all. So a reader who
    may not write the store (``writing_refused``) reads it as it lies on disk (``immutable``: no side files, no
    locks) when no writer has it open (no -wal file); while one has, through that writer's side files. Read as
    it lies, a store written meanwhile may be read torn: ``Store.close`` then refuses what was read."""
    uri = path.absolute().as_uri() + "?mode=ro"
    if writing_refused(path) is not None and not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def writing_refused(path: Path) -> str | None:
    """Why this user may not write the existing store at ``path``, found before SQLite opens it; ``None`` when
    nothing stands in the way. Opened to write and refused there, SQLite had already made the store's side
    files (-wal, -shm), owned by this user with the store's permissions: a colleague's scan of a store they
    may only read, or a scan while the store was read-only, left files that kept its owner's next scans out
    (an adversarial pass, 2026-12-07). And in a folder this user may not write there are no side files to
    make at all."""
    if not os.access(path, os.W_OK):
        return "the store file may not be written by you (its permissions, or a read-only disk)"
    folder = path.absolute().parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} may not be written by you, and a store being written keeps two files beside it"
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if side.exists() and not os.access(side, os.W_OK):
            return (f"{side.name} beside it may not be written by you: left by a command of another user, or run while "
                    "the store was read-only. When no formkit command is running, make it yours or writable (do not "
                    "delete a -wal file that is not empty: it holds pages not yet in the store)")
    return None


def write_ahead_log(db: sqlite3.Connection) -> None:
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


def operational(exc: sqlite3.OperationalError, path: Path, writing: bool = True) -> Exception:
    """An SQLite operational error as the formkit error a user can act on; ``writing``: met by a command that
    writes to the store (else by one that only reads it)."""
    text = str(exc)
    if "full" in text or getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_SHMSIZE":
        if not writing:  # a reader of a store others write needs room for its shared-memory file
            return OutputError(f"{path}: the disk is full ({text}): even reading the store needs a little room "
                               "beside it; free space and run the same command again")
        return OutputError(f"{path}: the disk is full ({text}); nothing of the last page was kept: free space "
                           "and run the same command again")
    if "locked" in text or "busy" in text:
        return StoreBusyError(f"{path}: the store is busy: another formkit command is writing to it; "
                              "wait for it to finish and run this again")
    if not writing and ("readonly" in text or "read-only" in text):
        return StoreError(f"{path}: the store is read-only here ({text})")  # opened to read, asked to write
    if "readonly" in text or "read-only" in text or (writing and "unable to open" in text and path.exists()):
        # not a store that is wrong (exit 7): one this command may not write (a read-only disk or folder)
        return OutputError(f"{path}: the store cannot be written here ({text}): is its disk or folder read-only? "
                           "Commands that only read it (status, export, report) still work")
    if writing and "unable to open" in text and not path.exists() and path.parent.is_dir():
        # no store there yet, and none can be made: the folder, not a store, is what is wrong (exit 6, as above)
        return OutputError(f"{path}: a new store cannot be made here ({text}): is the folder read-only, or not "
                           "yours? Give --db a file in a folder you may write to")
    return StoreError(f"{path}: the store cannot be used ({text})")
