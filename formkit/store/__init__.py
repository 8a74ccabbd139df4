"""The store: inputs, pages, values with their crops, review decisions and an append-only audit log, in
an SQLite file or, with the ``scale`` extra, a PostgreSQL database (``--db postgresql://user@host/db``).
All of the project's SQL is in this package; it is written for SQLite and runs as it is on PostgreSQL
through ``formkit/postgres.py``, which holds what differs (types, the audit log's guards, locking, errors).

A page is saved with its values in one transaction, so an interrupted batch leaves only whole pages
behind and a re-run continues where it stopped. Pages are keyed by the content hash of their file and
their index in it: scanning the same file again changes nothing.

Only a missing or empty file becomes a new store. Anything else must already be a formkit store: a
foreign SQLite file, a store whose audit log or its guards are gone, or one written by a newer formkit
is refused (exit 7) and left as it was, byte for byte.

The store is one class, ``Store``, in parts: this module opens it and saves what the scanner reads and
answers the queries of export, status and reports; ``changes`` changes pages already stored (assigning,
voiding, restoring, re-reading), ``reviewing`` holds the review queue and decisions; ``schema`` has the
tables and the queries they share, ``opening`` what opening a store file takes, ``decisions`` the rule
that keeps a review decision when its page is read again.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..database import DatabaseURL, is_database_url
from ..errors import InputError, OutputError, StoreBusyError, StoreError
from ..records import InputFile, PageResult, PageState, file_stamp, unopened_key
from .changes import PageChanges, Reassigned, RereadOutcome, StateChange
from .opening import (
    BUSY_TIMEOUT_S,
    check_is_store,
    operational,
    reading_uri,
    upgrade,
    write_ahead_log,
    writing_refused,
)
from .reviewing import Reviewing, Undone
from .schema import (
    NO_REPLACE,
    READ_STATES,
    SCHEMA_VERSION,
    TABLES,
    UNREAD_STATES,
    VALUE_ROWS,
    WAITING,
    now,
    statements,
    storable_path,
)

__all__ = ["READ_STATES", "SCHEMA_VERSION", "UNREAD_STATES", "Reassigned", "RereadOutcome", "StateChange", "Store",
           "Undone", "now", "storable_path"]


class Store(PageChanges, Reviewing):
    """A formkit store at ``path`` (an SQLite file, or a ``postgresql://`` URL). ``readonly`` opens it for
    reading only (status, export, reports), which works on a store the user may not write to and never
    changes it. ``existing``: a store a scan made must be there (an empty file or database, or none, is
    refused as no store, never made into one): for commands that work on what was scanned."""

    def __init__(self, path: str | Path, readonly: bool = False, existing: bool = False) -> None:
        self.readonly = readonly
        self.postgres = is_database_url(path)
        if self.postgres:
            from .. import postgres

            self.path: Path | DatabaseURL = DatabaseURL(path)
            if existing and not self.path.exists():
                raise InputError(f"{self.path}: no such store; run 'formkit scan' first")
            self.db: Any = postgres.open_store(self.path, readonly, statements(TABLES), SCHEMA_VERSION)
            return
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():  # /dev/null, a pipe, a folder: SQLite's "disk I/O error"
            raise InputError(f"{self.path}: not a file, so no store: give --db a file (made by the first scan)")
        try:
            new = not self.path.exists() or self.path.stat().st_size == 0
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc.strerror or exc})") from exc
        if new and not self.path.parent.is_dir():
            raise InputError(f"{self.path}: no such folder ({self.path.parent}); make it, or give --db another path")
        if new and (readonly or existing):
            raise InputError(f"{self.path}: no such store; run 'formkit scan' first")
        if not new and not readonly and (refused := writing_refused(self.path)):
            raise OutputError(f"{self.path}: the store cannot be written here: {refused}. Commands that only read "
                              "it (status, export, report) still work")
        try:
            if not new:
                new = check_is_store(self.path)
                if new and (readonly or existing):
                    raise InputError(f"{self.path}: an empty store; run 'formkit scan' first")
            uri = reading_uri(self.path) if readonly else self.path.absolute().as_uri()
            self._as_it_lay = file_stamp(self.path.stat()) if "immutable=1" in uri else None
            self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
            self.db.row_factory = sqlite3.Row
            if not readonly:
                write_ahead_log(self.db)
                # Safe against a crash or kill of formkit; a power cut may lose the last pages saved, which
                # the next run reads again. A sync per page would cost more than reading it.
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            if new:  # in one write transaction: a second formkit creating the same store waits, then adds nothing
                self.db.executescript(f"BEGIN IMMEDIATE; {TABLES} {NO_REPLACE} INSERT OR IGNORE INTO meta "
                                      f"VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;")
            else:
                upgrade(self.db, self.path, self.readonly)
        except sqlite3.OperationalError as exc:
            raise operational(exc, self.path, writing=not readonly) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a formkit store ({exc})") from exc

    def close(self) -> None:
        """Close the store. Read as it lay on disk (``reading_uri``), it must still lie so: if a writer came
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
            raise operational(exc, self.path, writing=not self.readonly) from exc

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
                self._judge_form_again(result.form, result.serial)
            elif state is PageState.CONFLICT:
                self._flag_decisions_before_image(conflict_of, page_id, "scanner")
        return state

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

    # --- Reports (formkit/report) -------------------------------------------------------------------
    # Added for `formkit report`; self-contained: reads only, used by nothing else.

    def scan_dates(self) -> list[sqlite3.Row]:
        """Per printed form read (form, serial): the day its first page was read into the store (UTC,
        YYYY-MM-DD), for reports that date an occasion by its scan when no date is written on the form."""
        return self.db.execute(
            "SELECT form, serial, substr(MIN(read_at), 1, 10) AS scanned FROM pages WHERE status='read'"
            " GROUP BY form, serial ORDER BY form, serial").fetchall()

