"""The store's tables and the queries several of its parts share, written for SQLite; PostgreSQL runs
them as they are (``formkit/postgres.py`` translates types, parameters and the audit log's guards).

Schema versions: 1 kept values and the audit log; 2 keeps each review decision beside its value (the
audit log has them too); 3 keys pages by region as well (several cards in one image), keeps the state a
voided page had, refuses ``INSERT OR REPLACE`` on the audit log, and adds review claims and respondents'
fill conventions. ``opening.upgrade`` brings an older store up to date.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

from ..records import PageState

SCHEMA_VERSION = 3
UNREAD_STATES = (PageState.UNIDENTIFIED, PageState.REJECTED)
READ_STATES = (PageState.READ, PageState.CONFLICT)  # pages read: their values are exported
CONFLICT_REASON = "another image of this page was read before (page id {})"
GUARDS = ("audit_no_update", "audit_no_delete", "audit_no_replace")

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
    " v.needs_review, v.reason, v.id AS value_id, v.review, v.reviewed_by, v.reviewed_at,"
    " COALESCE(v.machine_value, '') AS machine_value"
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


def statements(script: str) -> list[str]:
    """The SQL statements of ``script``, one by one (a trigger's body has semicolons of its own)."""
    found, current = [], ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                found.append(current.strip())
            current = ""
    return found


def now() -> str:
    """The time as the store writes it: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def storable_path(path: str) -> str:
    """A file name as text the store can hold: a name that is not valid UTF-8 keeps its undecodable bytes
    as ``\\xNN`` escapes, so it is shown, never lost or refused."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
