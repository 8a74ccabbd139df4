"""The SQLite store: inputs, pages, values with their crops, and an append-only audit log.

A page is saved with its values in one transaction, so an interrupted batch leaves only whole pages
behind and a re-run continues where it stopped. Pages are keyed by the content hash of their file and
their index in it: scanning the same file again changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from formkit.errors import FormkitError

from .ingest import InputFile
from .results import READ, PageResult

SCHEMA_VERSION = 2
CONFLICT = "conflict"

SCHEMA = """
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
    UNIQUE (input_id, page_index)
);
CREATE INDEX IF NOT EXISTS pages_by_serial ON pages (form, serial, form_page);
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
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class StoreError(FormkitError):
    exit_code = 7


def now() -> str:
    """The time as the store writes it: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # Safe against a crash or kill of formkit; a power cut may lose the last pages saved, which
            # the next run reads again. A sync per page would cost more than reading it.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
            found = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a formkit store ({exc})") from exc
        if found is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) == 1:
            self._upgrade_from_1()
        elif int(found[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema {found[0]}, this formkit reads {SCHEMA_VERSION}")
        self.db.row_factory = sqlite3.Row

    def _upgrade_from_1(self) -> None:
        """Version 2 keeps review decisions beside each value (the audit log has them too)."""
        with self.db:
            for column in ("machine_value TEXT", "review TEXT NOT NULL DEFAULT ''",
                           "reviewed_by TEXT NOT NULL DEFAULT ''", "reviewed_at TEXT NOT NULL DEFAULT ''"):
                self.db.execute(f"ALTER TABLE field_values ADD COLUMN {column}")
            self.db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def add_input(self, info: InputFile) -> tuple[int, set[int]]:
        """The input's id and the page indexes already stored for it (a file seen before)."""
        with self.db:
            row = self.db.execute("SELECT id FROM inputs WHERE sha256=?", (info.sha256,)).fetchone()
            if row is None:
                cursor = self.db.execute(
                    "INSERT INTO inputs (sha256, path, size_bytes, pages, error, added_at) VALUES (?,?,?,?,?,?)",
                    (info.sha256, info.path, info.size_bytes, info.pages, info.error, now()))
                self.audit("scanner", "input", detail=json.dumps({"path": info.path, "sha256": info.sha256}))
                return int(cursor.lastrowid), set()
        done = {r[0] for r in self.db.execute("SELECT page_index FROM pages WHERE input_id=?", (row[0],))}
        return int(row[0]), done

    def save_page(self, input_id: int, page_index: int, result: PageResult) -> str:
        """Store a page and its values in one transaction; returns the status stored. A second, different
        image of a page already read (same form, serial and page) is kept with status 'conflict', never
        overwriting the first."""
        status, reason, conflict_of = result.status, result.reason, None
        with self.db:
            if status == READ:
                first = self.db.execute(
                    "SELECT id FROM pages WHERE form=? AND serial=? AND form_page=? AND status=? ORDER BY id LIMIT 1",
                    (result.form, result.serial, result.form_page, READ)).fetchone()
                if first is not None:
                    status, conflict_of = CONFLICT, int(first[0])
                    reason = f"another image of this page was read before (page id {conflict_of})"
            cursor = self.db.execute(
                "INSERT INTO pages (input_id, page_index, status, reason, form, version, variant, form_page, serial,"
                " transform, error_mm, quality, image, conflict_of, read_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (input_id, page_index, status, reason, result.form, result.version, result.variant, result.form_page,
                 result.serial, json.dumps(result.transform) if result.transform else None, result.error_mm,
                 json.dumps(result.quality), result.image_jpeg, conflict_of, now()))
            page_id = int(cursor.lastrowid)
            self._insert_values(page_id, result)
            self.audit("scanner", "read-page", page_id, detail=json.dumps(
                {"status": status, "reason": reason, "values": len(result.values)}))
        return status

    def replace_page(self, page_id: int, result: PageResult, actor: str) -> None:
        """Put a new reading in place of an unread page (a person said which form page it is): the page
        keeps its id and source, its old status and reason go to the audit log."""
        with self.db:
            old = self.db.execute("SELECT status, reason FROM pages WHERE id=?", (page_id,)).fetchone()
            self.db.execute(
                "UPDATE pages SET status=?, reason=?, form=?, version=?, variant=?, form_page=?, serial=?, transform=?,"
                " error_mm=?, quality=?, image=COALESCE(?, image), read_at=? WHERE id=?",
                (result.status, result.reason, result.form, result.version, result.variant, result.form_page,
                 result.serial, json.dumps(result.transform) if result.transform else None, result.error_mm,
                 json.dumps(result.quality), result.image_jpeg, now(), page_id))
            self.db.execute("DELETE FROM field_values WHERE page_id=?", (page_id,))
            self._insert_values(page_id, result)
            self.audit(actor, "assign-page", page_id, old=f"{old['status']}: {old['reason']}",
                       new=f"{result.form} v{result.version} page {result.form_page} {result.serial}: {result.status}")

    def _insert_values(self, page_id: int, result: PageResult) -> None:
        self.db.executemany(
            "INSERT INTO field_values (page_id, field, kind, value, confidence, needs_review, reason, raw, crop)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [(page_id, v.field, v.kind, v.value, v.confidence, int(v.needs_review), v.reason,
              json.dumps(v.raw, default=float), v.crop_png) for v in result.values])

    def audit(self, actor: str, action: str, page_id: int | None = None, field: str | None = None,
              old: str | None = None, new: str | None = None, detail: str = "") -> None:
        self.db.execute("INSERT INTO audit (at, actor, action, page_id, field, old_value, new_value, detail)"
                        " VALUES (?,?,?,?,?,?,?,?)", (now(), actor, action, page_id, field, old, new, detail))

    def pages(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT p.id, i.path, p.page_index, p.status, p.reason, p.form, p.version, p.variant, p.form_page,"
            " p.serial, p.error_mm, p.conflict_of,"
            " (SELECT COUNT(*) FROM field_values v WHERE v.page_id=p.id AND v.needs_review) AS review"
            " FROM pages p JOIN inputs i ON i.id=p.input_id ORDER BY i.path, p.page_index").fetchall()

    def values(self) -> list[sqlite3.Row]:
        """Every value of every page read (first reads and conflicts), with its provenance."""
        return self.db.execute(
            "SELECT p.id AS page_id, p.status, p.form, p.version, p.variant, p.form_page, p.serial, p.conflict_of,"
            " i.path AS source_file, p.page_index + 1 AS source_page, v.field, v.kind, v.value, v.confidence,"
            " v.needs_review, v.reason, v.id AS value_id, v.review, v.reviewed_by"
            " FROM field_values v JOIN pages p ON p.id=v.page_id"
            " JOIN inputs i ON i.id=p.input_id ORDER BY p.form, p.serial, p.form_page, p.id, v.id").fetchall()

    def audit_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM audit ORDER BY id")]
