"""The store's guarantees on both backends, SQLite and PostgreSQL (a throwaway cluster, tests/pg.py), with
page readings made up here (no image is read, so these are fast): idempotent re-scans keyed by content
hash, one transaction per page, conflicts kept, voiding and restoring, the two-reviewer hold, undo,
re-reading, the append-only audit log enforced by the database itself, refusal of foreign, newer and
damaged stores, read-only use, and a writer that waits too long (exit 8)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode, StoreBusyError, StoreError
from formkit.records import FieldValue, InputFile, PageResult, PageState, unopened_key
from formkit.review import queue as decisions
from formkit.store import SCHEMA_VERSION, Store
from formkit_cli import main
from tests.conftest import both_backends

SERIAL = "K7M3QX9C"


def file_info(name: str, pages: int = 1) -> InputFile:
    return InputFile(name, hashlib.sha256(name.encode()).hexdigest(), 1000, pages)


def reading(info: InputFile, serial: str = SERIAL, form_page: int = 1, q1: str = "3", flagged: bool = True,
            page: int = 1) -> PageResult:
    """A K10-like page read: q1 (flagged for review when ``flagged``) and q2, with crops and an image."""
    values = [FieldValue("q1", "choice", q1, 0.95, flagged, "a faint mark" if flagged else "", {"fill": 0.2},
                         b"\x89PNG crop q1\x00\xff"),
              FieldValue("q2", "choice", "1", 0.875, False, "", {}, b"\x89PNG crop q2")]
    return PageResult(info.path, page, info.sha256, PageState.READ, "", "k10", 1, "", form_page, serial,
                      [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.25, {"contrast": 90},
                      b"\xff\xd8 jpeg bytes \x00", values)


def add(store: Store, info: InputFile, result: PageResult | None = None) -> tuple[int, PageState | None]:
    input_id, _ = store.add_input(info)
    return input_id, store.save_page(input_id, 0, result or reading(info))


def outside(db: Path | str):
    """A plain connection to the store, as anyone with the file or the database's address could open."""
    if isinstance(db, Path):
        return sqlite3.connect(db, isolation_level=None)
    import psycopg

    return psycopg.connect(db, autocommit=True)


def database_error(db: Path | str) -> type[Exception]:
    if isinstance(db, Path):
        return sqlite3.DatabaseError
    import psycopg

    return psycopg.Error


@both_backends
def test_a_file_scanned_again_changes_nothing_and_its_types_come_back_as_stored(new_store):
    store = Store(new_store)
    info = file_info("scans/b.jpg")
    input_id, state = add(store, info)
    assert state is PageState.READ
    audit = store.audit_rows()
    assert [r["action"] for r in audit] == ["input", "read-page", "fill-convention"]
    assert store.add_input(info) == (input_id, {0: PageState.READ})  # keyed by content hash
    assert store.save_page(input_id, 0, reading(info)) is None
    assert store.audit_rows() == audit
    [value] = [v for v in store.values() if v["field"] == "q1"]
    assert (value["value"], value["confidence"], value["needs_review"]) == ("3", 0.95, 1)
    assert store.crop(value["value_id"]) == b"\x89PNG crop q1\x00\xff"
    assert store.page_image(value["page_id"]) == b"\xff\xd8 jpeg bytes \x00"
    assert dict(store.page(value["page_id"]))["review"] == 1
    assert store.input_path(info.sha256) == "scans/b.jpg" and store.input_path("0" * 64) is None
    for name in ("scans/a.jpg", "scans/B.jpg", "scans/_.jpg"):  # text sorts byte by byte on both
        add(store, file_info(name))
    assert [r["path"] for r in store.pages()] == ["scans/B.jpg", "scans/_.jpg", "scans/a.jpg", "scans/b.jpg"]
    store.close()


@both_backends
def test_a_second_image_of_a_page_is_a_conflict_and_voiding_and_restoring_settle_it(new_store):
    store = Store(new_store)
    first_id, _ = add(store, file_info("first.jpg"))
    _, state = add(store, file_info("second.jpg"), reading(file_info("second.jpg"), q1="4"))
    assert state is PageState.CONFLICT
    first, second = (r["id"] for r in store.pages())
    assert {r["id"]: r["differ"] for r in store.pages()} == {first: 0, second: 1}
    changes = store.void_pages(store.input_page_ids(first_id), "scanned by mistake", "ann")
    assert [(c.page_id, c.new) for c in changes] == [(first, PageState.VOIDED), (second, PageState.READ)]
    assert {v["page_id"] for v in store.values()} == {second}
    store.restore_pages([first], "ann")
    assert {r["id"]: r["status"] for r in store.pages()} == {first: "read", second: "conflict"}
    actions = [r["action"] for r in store.audit_rows()]
    assert actions.count("void-page") == actions.count("restore-page") == 1 and "page-state" in actions
    store.close()


@both_backends
def test_a_page_is_saved_whole_or_not_at_all(new_store, monkeypatch):
    store = Store(new_store)
    info = file_info("a.jpg")
    input_id, _ = store.add_input(info)

    def fail(*_args):
        raise RuntimeError("killed between the page and its values")

    monkeypatch.setattr(store, "_insert_values", fail)
    with pytest.raises(RuntimeError):
        store.save_page(input_id, 0, reading(info))
    monkeypatch.undo()
    assert store.pages() == [] and [r["action"] for r in store.audit_rows()] == ["input"]
    assert store.save_page(input_id, 0, reading(info)) is PageState.READ  # the next run saves it
    store.close()


@both_backends
def test_the_review_pages_session_key_is_made_once_and_kept_in_the_store(new_store):
    """So that 'formkit review' started again, or a second server over one PostgreSQL store, signs sessions
    with the same key: a page opened before a restart still saves."""
    first = Store(new_store).review_secret()
    assert len(first) == 32
    assert Store(new_store).review_secret() == first
    with Store(new_store)._writing():  # a scan writing a page: a review server starting does not wait for it
        assert Store(new_store).review_secret() == first


@both_backends
def test_two_reviewers_hold_values_apart_never_overwrite_each_other_and_undo(new_store):
    add(Store(new_store), file_info("a.jpg"))
    add(Store(new_store), file_info("b.jpg"), reading(file_info("b.jpg"), serial="AAAABBBB"))
    ann, bob = Store(new_store), Store(new_store)
    first, second = decisions.queue(ann)
    decisions.claim(ann, first.value_id, "ann")
    assert [p.value_id for p in decisions.queue(bob, "bob")] == [second.value_id, first.value_id]
    assert [p.value_id for p in decisions.queue(ann, "ann", limit=1)] == [first.value_id]
    assert decisions.decide(ann, first.value_id, "corrected", "4", "ann", first.value) == ""
    assert decisions.decide(bob, first.value_id, "corrected", "5", "bob", first.value) == "already reviewed by ann"
    assert ann.review_progress() == (1, 2)
    assert decisions.undo(bob, "bob").field == "" and decisions.undo(ann, "ann").field == "q1"
    row = bob.value(first.value_id)
    assert (row["value"], row["needs_review"], row["review"], row["machine_value"]) == ("3", 1, "", None)
    assert [(r["actor"], r["action"]) for r in ann.audit_rows() if r["actor"] != "scanner"] == \
        [("ann", "review:corrected"), ("ann", "undo")]


@both_backends
def test_a_page_read_again_keeps_decisions_whose_value_did_not_change(new_store):
    store = Store(new_store)
    info = file_info("a.jpg")
    add(store, info)
    [pending] = decisions.queue(store)
    decisions.decide(store, pending.value_id, "corrected", "4", "ann", pending.value)
    page_id = pending.page_id
    outcome = store.reread_page(page_id, reading(info, q1="4"))
    assert (outcome.kept, outcome.flagged_again) == (1, 0)
    outcome = store.reread_page(page_id, reading(info, q1="2"))
    assert outcome.flagged_again == 1
    assert "changed from '3' to '2' after review" in store.value(pending.value_id)["reason"]
    assert store.reread_candidates("k10")[0]["id"] == page_id and store.reread_candidates("gas") == []
    store.close()


@both_backends
def test_a_decision_taken_back_leaves_no_trace_for_a_later_reread(new_store):
    """After an undo the value is the machine's reading again: a later decision is judged against what the
    machine reads then, not against the reading the undone decision saw."""
    store = Store(new_store)
    info = file_info("a.jpg")
    add(store, info, reading(info, q1="4"))
    [pending] = decisions.queue(store)
    decisions.decide(store, pending.value_id, "corrected", "3", "ann", pending.value)
    assert decisions.undo(store, "ann").field == "q1"
    store.reread_page(pending.page_id, reading(info, q1="5"))
    [again] = decisions.queue(store)
    decisions.decide(store, again.value_id, "corrected", "3", "ann", again.value)
    outcome = store.reread_page(pending.page_id, reading(info, q1="5"))  # what the machine read at the decision
    assert (outcome.kept, outcome.flagged_again) == (1, 0)
    assert (store.value(pending.value_id)["value"], store.value(pending.value_id)["review"]) == ("3", "corrected")
    store.close()


@both_backends
def test_an_answer_another_image_reads_otherwise_waits_for_a_person_whose_decision_settles_it(new_store):
    """Two images of one page that disagree on an answer neither flagged: the export cannot tell which is
    right, so the answer is in the review queue (saying what the other image reads) until a person decides."""
    from formkit.exports.frames import scored_tables

    store = Store(new_store)
    add(store, file_info("first.jpg"), reading(file_info("first.jpg"), q1="3", flagged=False))
    add(store, file_info("second.jpg"), reading(file_info("second.jpg"), q1="4", flagged=False))
    [waiting] = decisions.queue(store)
    assert (waiting.field, waiting.value) == ("q1", "3")
    assert waiting.reason == "another image of this page reads '4' in second.jpg page 1"
    assert store.review_progress() == (0, 1) and decisions.pending(store, waiting.value_id) == waiting
    [wide] = scored_tables(store.values())["k10"].wide.rows
    assert (wide["q1"], wide["q2"], wide["needs_review"]) == ("", "1", 1)
    assert decisions.decide(store, waiting.value_id, "corrected", "4", "ann", "3") == ""
    assert decisions.queue(store) == [] and store.review_progress() == (1, 1)
    [wide] = scored_tables(store.values())["k10"].wide.rows
    assert (wide["q1"], wide["needs_review"]) == ("4", 0)
    store.close()


@both_backends
def test_a_file_that_could_not_be_opened_and_now_can_ends_as_its_pages_alone(new_store):
    """Refused once (no permission), the file is stored as one rejected page under a hash of its name; read
    once it can be opened, that page goes, so the file does not end both rejected and read."""
    store = Store(new_store)
    unopened = InputFile("inbox/b.pdf", unopened_key("inbox/b.pdf"), 0, 0, "cannot open the file (Permission denied)")
    input_id, _ = store.add_input(unopened)
    store.save_page(input_id, 0, PageResult("inbox/b.pdf", 1, unopened.sha256, PageState.REJECTED, unopened.error))
    store.add_input(unopened)  # still unreadable on the next run: nothing changes
    assert [(r["path"], r["status"]) for r in store.pages()] == [("inbox/b.pdf", "rejected")]
    opened = InputFile("inbox/b.pdf", hashlib.sha256(b"its content").hexdigest(), 1000, 1)
    add(store, opened, reading(opened))
    assert [(r["path"], r["status"]) for r in store.pages()] == [("inbox/b.pdf", "read")]
    assert "input-opened" in [r["action"] for r in store.audit_rows()]
    store.close()


@both_backends
def test_a_decision_undone_on_a_value_two_images_read_differently_leaves_it_as_it_was(new_store):
    """Undo put every value back flagged: one that waited only because another image read it otherwise
    stayed flagged, with no reason, once that image was voided."""
    store = Store(new_store)
    add(store, file_info("first.jpg"), reading(file_info("first.jpg"), q1="3", flagged=False))
    second_id, _ = add(store, file_info("second.jpg"), reading(file_info("second.jpg"), q1="4", flagged=False))
    [waiting] = decisions.queue(store)
    assert store.page(waiting.page_id)["review"] == 1  # as the queue and progress count it
    assert [r["flagged"] for r in store.page_counts() if r["status"] == "read"] == [1]
    assert decisions.decide(store, waiting.value_id, "accepted", "3", "ann", "3") == ""
    assert decisions.undo(store, "ann").field == "q1"
    row = store.value(waiting.value_id)
    assert (row["value"], row["needs_review"], row["reason"]) == ("3", 0, "")
    assert [p.value_id for p in decisions.queue(store)] == [waiting.value_id]  # waits again, for the other image
    store.void_pages(store.input_page_ids(second_id), "a second photo", "ann")
    assert decisions.queue(store) == []
    store.close()


@both_backends
def test_a_file_unopened_before_ends_as_one_state_whatever_it_holds_now(new_store):
    store = Store(new_store)
    for path, content, error in (("inbox/copy.jpg", "a.jpg", ""), ("inbox/broken.pdf", "broken", "not a readable PDF")):
        unopened = InputFile(path, unopened_key(path), 0, 0, "cannot open the file (Permission denied)")
        input_id, _ = store.add_input(unopened)
        store.save_page(input_id, 0, PageResult(path, 1, unopened.sha256, PageState.REJECTED, unopened.error))
        opened = InputFile(path, hashlib.sha256(content.encode()).hexdigest(), 10, 0 if error else 1, error)
        if not error:
            add(store, file_info("a.jpg"))  # the same content, read before under another name
        store.add_input(opened)
        assert not [r for r in store.pages() if r["path"] == path and "Permission" in (r["reason"] or "")], path
    store.close()


@both_backends
def test_the_audit_log_is_append_only_in_the_database_itself(new_store):
    store = Store(new_store)
    add(store, file_info("a.jpg"))
    store.close()
    db, error = outside(new_store), database_error(new_store)
    forged = ["UPDATE audit SET actor='someone else'", "DELETE FROM audit"]
    forged.append("INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, 'now', 'x', 'forged')"
                  if isinstance(new_store, Path) else "TRUNCATE audit")
    if not isinstance(new_store, Path):
        forged.append("INSERT INTO audit (id, at, actor, action) VALUES (1, 'now', 'x', 'forged')"
                      " ON CONFLICT (id) DO UPDATE SET actor='x'")
    for statement in forged:
        with pytest.raises(error, match="append-only"):
            db.execute(statement)
    db.close()
    assert [r["action"] for r in Store(new_store).audit_rows()] == ["input", "read-page", "fill-convention"]


@both_backends
def test_a_store_without_its_guards_or_from_a_newer_formkit_is_refused_and_left_as_it_was(new_store):
    add(Store(new_store), file_info("a.jpg"))
    db = outside(new_store)
    db.execute(f"UPDATE meta SET value='{SCHEMA_VERSION + 1}' WHERE key='schema'")
    with pytest.raises(StoreError, match="newer formkit"):
        Store(new_store)
    db.execute(f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema'")
    db.execute("DROP TRIGGER audit_no_delete" + ("" if isinstance(new_store, Path) else " ON audit"))
    for readonly in (False, True):
        with pytest.raises(StoreError, match="damaged.*audit_no_delete"):
            Store(new_store, readonly=readonly)
    audit = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    assert audit == 3  # nothing was written
    db.close()


def test_a_database_of_something_else_is_refused_and_left_untouched(postgres):
    url = postgres.database()
    db = outside(url)
    db.execute("CREATE TABLE patients (name TEXT)")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="not a formkit store"):
            Store(url, readonly=readonly)
    tables = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert tables == {"patients"}
    db.close()
    empty = postgres.database()
    with pytest.raises(StoreError, match="no formkit store"):
        Store(empty, readonly=True)
    result = CliRunner().invoke(main, ["status", "--db", empty])
    assert result.exit_code == ExitCode.INPUT and "no such store" in result.output


def test_an_older_postgresql_store_is_upgraded_when_opened_for_writing(postgres):
    url = postgres.database()
    add(Store(url), file_info("a.jpg"))
    db = outside(url)
    db.execute("DROP TABLE respondents")
    db.execute("UPDATE meta SET value='2' WHERE key='schema'")
    with pytest.raises(StoreError, match="older formkit and read-only"):
        Store(url, readonly=True)
    store = Store(url)
    assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == str(SCHEMA_VERSION)
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 0
    add(store, file_info("b.jpg"), reading(file_info("b.jpg"), serial="AAAABBBB"))
    assert len(store.pages()) == 2
    db.close()


@both_backends
def test_a_read_only_store_reads_and_refuses_writes(new_store):
    add(Store(new_store), file_info("a.jpg"))
    store = Store(new_store, readonly=True)
    assert len(store.values()) == 2 and store.scan_dates()[0]["form"] == "k10"
    with pytest.raises(StoreError, match="read-only"):
        store.add_input(file_info("b.jpg"))
    store.close()


def test_a_writer_waiting_too_long_for_another_is_told_the_store_is_busy(postgres, monkeypatch):
    from formkit import postgres as backend

    url = postgres.database()
    monkeypatch.setattr(backend, "LOCK_TIMEOUT", "200ms")
    holder, waiter = Store(url), Store(url)
    with holder._writing(), pytest.raises(StoreBusyError, match="busy"):
        waiter.add_input(file_info("a.jpg"))
    assert waiter.add_input(file_info("a.jpg"))[1] == {}  # free again: it goes through


def test_two_scans_saving_the_same_pages_at_once_store_each_once(postgres):
    url = postgres.database()
    infos = [file_info(f"p{i}.jpg") for i in range(12)]
    stored: list[PageState | None] = []

    def scan_all() -> None:
        store = Store(url)
        for info in infos:
            input_id, _ = store.add_input(info)
            stored.append(store.save_page(input_id, 0, reading(info, serial=f"{info.path[:-4]:A<8}"[:8].upper())))
        store.close()

    threads = [threading.Thread(target=scan_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored.count(None) == 12 and len(Store(url).pages()) == 12


def test_a_postgresql_url_without_the_driver_says_what_to_install(postgres, monkeypatch):
    import sys

    url = postgres.database()
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if formkit[scale] were not installed
    for command in (["status", "--db", url], ["scan", "x.png", "--db", url], ["export", "--db", url, "--out", "o"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == ExitCode.INPUT, result.output
        assert 'pip install "formkit[scale]"' in result.output


def test_an_unreachable_database_is_explained(postgres):
    url = postgres.url("postgres").replace(f":{postgres.port}/", ":1/")
    result = CliRunner().invoke(main, ["status", "--db", url])
    assert result.exit_code == ExitCode.STORE and "cannot connect to the database" in result.output


def test_messages_never_show_a_password_given_in_the_url(postgres):
    url = postgres.database().replace("//formkit@", "//formkit:s3cret-word@", 1)
    for command in (["status", "--db", url], ["export", "--db", url, "--out", "o"],
                    ["void", "--db", url, "--input", "missing.png", "--why", "test"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code != 0 and "s3cret-word" not in result.output, result.output
        assert "***" in result.output, result.output


@both_backends
def test_a_page_assigned_by_hand_is_read_as_that_page_and_audited(new_store):
    store = Store(new_store)
    info = file_info("stained.jpg")
    input_id, state = add(store, info, PageResult(info.path, 1, info.sha256, PageState.UNIDENTIFIED, "no QR code",
                                                 image_jpeg=b"\xff\xd8 stained"))
    assert state is PageState.UNIDENTIFIED
    [unread] = store.unread_pages()
    changes = store.replace_page(unread["id"], reading(info), "ann").changes
    assert [(c.old, c.new) for c in changes] == [(PageState.UNIDENTIFIED, PageState.READ)]
    assert store.page_image(unread["id"]) == b"\xff\xd8 jpeg bytes \x00"
    [entry] = [r for r in store.audit_rows() if r["action"] == "assign-page"]
    assert (entry["actor"], entry["old_value"]) == ("ann", "unidentified: no QR code")
    assert entry["new_value"].startswith("k10 v1 page 1 K7M3-QX9C")
    assert store.add_input(info) == (input_id, {0: PageState.READ})
    store.close()


def test_a_role_given_only_what_formkit_needs_cannot_alter_the_audit_log(postgres):
    """docs/scaling.md: the store owned by one role, formkit logging in as another with only the grants
    given there; that role scans, and can neither change the audit log nor drop or disable its guards."""
    import psycopg

    url = postgres.database()
    add(Store(url), file_info("a.jpg"))
    role = f"scan_{url.rsplit('/', 1)[1]}"
    with psycopg.connect(url, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN")
        for grant in ("SELECT, INSERT, UPDATE, DELETE ON inputs, pages, field_values, claims, respondents",
                      "SELECT ON meta", "SELECT, INSERT ON audit", "USAGE ON ALL SEQUENCES IN SCHEMA public"):
            owner.execute(f"GRANT {grant} TO {role}")
    scanning = url.replace("formkit@", f"{role}@")
    add(Store(scanning), file_info("b.jpg"), reading(file_info("b.jpg"), serial="AAAABBBB"))
    assert len(Store(scanning, readonly=True).pages()) == 2
    with psycopg.connect(scanning, autocommit=True) as db:
        for statement in ("DROP TRIGGER audit_no_delete ON audit", "ALTER TABLE audit DISABLE TRIGGER ALL",
                          "DELETE FROM audit", "UPDATE audit SET actor='x'", "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(statement)


def test_a_store_read_as_it_lay_and_written_meanwhile_is_not_trusted(tmp_path, monkeypatch):
    """A reader who may not write the store reads it as it lies on disk, without locks: a scan that wrote to
    it meanwhile may have torn what was read, so closing says so (exit 8: run the command again)."""
    from formkit.store import opening

    db = tmp_path / "s.sqlite"
    owner = Store(db)
    add(owner, file_info("a.jpg"))
    owner.close()
    monkeypatch.setattr(opening.os, "access", lambda path, mode: False)  # as a colleague who may only read
    reader = Store(db, readonly=True)
    assert len(reader.values()) == 2
    monkeypatch.undo()  # the owner, who may write
    writer = Store(db)
    add(writer, file_info("b.jpg"))
    with pytest.raises(StoreBusyError, match="wrote to the store while this one read it"):
        reader.close()
    writer.close()
    monkeypatch.setattr(opening.os, "access", lambda path, mode: False)
    quiet = Store(db, readonly=True)
    quiet.values()
    quiet.close()  # nothing written meanwhile: nothing said
