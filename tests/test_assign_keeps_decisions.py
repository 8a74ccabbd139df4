"""A page assigned to a form page keeps the review decisions that still answer its new reading, by the rule
``formkit scan --reread`` keeps them by (the same field of the same form, read as when it was decided), and
drops the others, saying how many of each; both are audited. Readings are made up here (no image is read),
on both store backends."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.qrpayload import PagePayload
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.review import queue as decisions
from formkit.review.queue import SourcePage
from formkit.store import Store
from formkit_cli import main
from tests.conftest import both_backends

RIGHT, MISTAKE = "9R6E7NME", "NUJC7N3Q"  # two valid serials: the page's own, and one typed by mistake
ANSWERS = {f"k10_{n:02d}": "2" for n in range(1, 11)}


def k10_reading(info: InputFile, payload: PagePayload, k10_03: str = "3") -> PageResult:
    """The K10 page as the machine reads it as ``payload``: every answer sure but k10_03, a faint mark."""
    values = [FieldValue(name, "choice", k10_03 if name == "k10_03" else answer, 0.95, name == "k10_03",
                         "a faint mark" if name == "k10_03" else "", {"fill": 0.3}, b"crop " + name.encode())
              for name, answer in ANSWERS.items()]
    values.append(FieldValue("date_completed", "date", "2026-03-02", 0.99, False, "", {}, b"crop date"))
    return PageResult(info.path, 1, info.sha256, PageState.READ, "", payload.form, payload.version, payload.variant,
                      payload.page, payload.serial, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.2,
                      {"markers": 4}, b"\xff\xd8 page", values)


def payload(serial: str, form: str = "k10", page: int = 1) -> PagePayload:
    return PagePayload(form, 1, page, "N", serial, "")


def reviewed_page(db: Path | str) -> tuple[InputFile, int, int]:
    """A store holding one K10 page read as its own serial, k10_03 decided as 4; (its file, page id, value id)."""
    store = Store(db)
    info = InputFile("k10.jpg", hashlib.sha256(b"k10.jpg").hexdigest(), 1000, 1)
    input_id, _ = store.add_input(info)
    store.save_page(input_id, 0, k10_reading(info, payload(RIGHT)))
    [waiting] = decisions.queue(store)
    assert decisions.decide(store, waiting.value_id, "corrected", "4", "ann", waiting.value) == ""
    store.close()
    return info, waiting.page_id, waiting.value_id


def reader(info: InputFile, k10_03: str = "3"):
    """Reads the page as whatever it is said to be, k10_03 as ``k10_03`` (the machine's reading)."""
    return lambda source, chosen: k10_reading(info, chosen, k10_03)


def paged_reader(info: InputFile, k10_03: str = "3"):
    """As ``reader``, but another page number's questions are other fields, as on a real form."""
    def read(source: SourcePage, chosen: PagePayload) -> PageResult:
        result = k10_reading(info, chosen, k10_03)
        if chosen.page == 1:
            return result
        return dataclasses.replace(result, values=[dataclasses.replace(v, field=f"p{chosen.page}_{v.field}")
                                                   for v in result.values])
    return read


def assign_entries(store: Store) -> list[dict]:
    return [json.loads(r["detail"]) for r in store.audit_rows() if r["action"] == "assign-page"]


@both_backends
def test_a_page_assigned_by_mistake_and_back_keeps_its_decision(new_store):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    for serial in (MISTAKE, RIGHT):
        done = decisions.assign(store, page_id, payload(serial), "bob", reader(info))
        assert (done.problem, done.kept, done.dropped) == ("", {"k10_03": "4"}, {})
        assert done.decisions() == "Review decisions: 1 kept (the same question, read as before), 0 dropped."
        value = store.value(value_id)  # the same value: undo still finds the decision
        assert (value["value"], value["review"], value["reviewed_by"]) == ("4", "corrected", "ann")
        assert store.page(page_id)["serial"] == serial
        assert decisions.queue(store) == []
    assert [e["reviews_kept"] for e in assign_entries(store)] == [{"k10_03": "4"}, {"k10_03": "4"}]
    assert decisions.undo(store, "ann").field == "k10_03"
    assert [p.field for p in decisions.queue(store)] == ["k10_03"]
    store.close()


@both_backends
def test_a_decision_on_a_reading_that_changed_is_dropped_and_said(new_store):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    # the machine reads k10_03 otherwise now: the decision was about other ink
    done = decisions.assign(store, page_id, payload(MISTAKE), "bob", reader(info, k10_03="5"))
    assert (done.problem, done.kept, done.dropped) == ("", {}, {"k10_03": "4"})
    assert done.decisions() == ("Review decisions: 0 kept, 1 dropped (k10_03 was 4: not a question of this form page, "
                                "or read differently now; they come back if the page is assigned back and reads as "
                                "before).")
    [waiting] = decisions.queue(store)
    assert (waiting.field, waiting.value) == ("k10_03", "5")
    [entry] = assign_entries(store)
    assert (entry["reviews_kept"], entry["reviews_dropped"]) == ({}, {"k10_03": "4"})
    store.close()


@both_backends
def test_a_decision_overtaken_by_a_sure_reading_goes_to_review_again(new_store):
    """The new reading went in as the machine had it: read surely as 5, it was exported, the person's 4 gone
    without a flag. A re-read flags the same case again; so does assigning."""
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)

    def sure(source: SourcePage, chosen: PagePayload) -> PageResult:
        result = k10_reading(info, chosen, k10_03="5")
        result.values[2] = dataclasses.replace(result.values[2], needs_review=False, reason="")
        return result

    done = decisions.assign(store, page_id, payload(MISTAKE), "bob", sure)
    assert done.dropped == {"k10_03": "4"}
    [waiting] = decisions.queue(store)
    assert (waiting.field, waiting.value) == ("k10_03", "5")
    assert waiting.reason == "assigned: the value changed from '3' to '5' after review (corrected to '4' by ann)"
    store.close()


@both_backends
def test_a_decision_on_a_wrongly_identified_pages_field_is_not_carried_to_another_form(new_store):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    # another form whose fields happen to have the same names: its k10_03 is another question
    done = decisions.assign(store, page_id, payload(RIGHT, form="k10-copy"), "bob", reader(info))
    assert (done.problem, done.kept, done.dropped) == ("", {}, {"k10_03": "4"})
    assert [(v["field"], v["value"], v["review"]) for v in store.values() if v["field"] == "k10_03"] == \
        [("k10_03", "3", "")]
    [entry] = assign_entries(store)
    assert (entry["reviews_kept"], entry["reviews_dropped"]) == ({}, {"k10_03": "4"})
    store.close()


@both_backends
@pytest.mark.parametrize("mistake", [payload(RIGHT, page=2), payload(RIGHT, form="k10-copy"),
                                     payload(MISTAKE, form="k10-copy", page=2)], ids=["page", "form", "all"])
def test_a_page_assigned_to_another_form_page_by_mistake_and_back_gets_its_decision_back(new_store, mistake):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    done = decisions.assign(store, page_id, mistake, "bob", paged_reader(info))
    assert (done.problem, done.kept, done.dropped, done.restored) == ("", {}, {"k10_03": "4"}, {})
    assert not any(v["review"] for v in store.values())
    done = decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info))
    assert (done.problem, done.kept, done.dropped, done.restored) == ("", {}, {}, {"k10_03": "4"})
    assert done.decisions() == ("Review decisions: 0 kept, 0 dropped, 1 brought back (made before the page was "
                                "last assigned away from this form page).")
    [value] = [v for v in store.values() if v["field"] == "k10_03"]
    assert (value["value"], value["review"], value["reviewed_by"]) == ("4", "corrected", "ann")
    assert decisions.queue(store) == []
    assert assign_entries(store)[-1]["reviews_restored"] == {"k10_03": "4"}
    # under its old value id (free again here): undo finds it, and puts the machine's reading back in the queue
    assert value["value_id"] == value_id
    assert decisions.undo(store, "ann").field == "k10_03"
    assert [(p.field, p.value) for p in decisions.queue(store)] == [("k10_03", "3")]
    store.close()


@both_backends
def test_a_decision_brought_back_must_still_answer_the_reading(new_store):
    """Back on its own form page, the machine reads the question otherwise now: the old decision may be about
    other ink, so it stays out and the new reading goes to review saying why."""
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", paged_reader(info))
    done = decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info, k10_03="5"))
    assert (done.kept, done.dropped, done.restored) == ({}, {}, {})
    [waiting] = decisions.queue(store)
    assert (waiting.field, waiting.value) == ("k10_03", "5")
    assert waiting.reason.startswith("assigned: the value changed from '3' to '5' after review (corrected to '4'")
    store.close()


@both_backends
def test_the_latest_decisions_come_back_and_an_undone_one_stays_undone(new_store):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", paged_reader(info))
    assert decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info)).restored == {"k10_03": "4"}
    [restored] = [v for v in store.values() if v["field"] == "k10_03"]
    assert decisions.undo(store, "ann").field == "k10_03"  # taken back after it came back
    [waiting] = decisions.queue(store)
    assert decisions.decide(store, waiting.value_id, "corrected", "1", "cy", waiting.value) == ""
    decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", paged_reader(info))
    assert decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info)).restored == {"k10_03": "1"}
    [value] = [v for v in store.values() if v["field"] == "k10_03"]
    assert (value["value"], value["reviewed_by"]) == ("1", "cy")
    store.close()


@both_backends
def test_a_decision_brought_back_and_undone_stays_undone_when_the_page_is_assigned_again(new_store):
    """Found by a second read: an assignment to the same form page (a serial fixed) brought back, again, the
    decisions dropped before the page last came back there, an undone one too, which undo could then no
    longer take back."""
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", paged_reader(info))
    assert decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info)).restored == {"k10_03": "4"}
    assert decisions.undo(store, "ann").field == "k10_03"
    done = decisions.assign(store, page_id, payload(MISTAKE), "bob", paged_reader(info))
    assert (done.kept, done.restored) == ({}, {})
    assert [(p.field, p.value) for p in decisions.queue(store)] == [("k10_03", "3")]
    store.close()


@both_backends
def test_undo_takes_back_the_decision_on_its_own_field_when_value_ids_are_reused(new_store):
    """Found by a second read: SQLite reuses the highest deleted row id, so a page's values on another page
    number took its old ids, one was decided there, and the decision brought back under that id on the way
    back was taken for it by undo, which wrote the other field's reading into it."""
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)

    def read(source: SourcePage, chosen: PagePayload) -> PageResult:  # page 2's question reads 1
        return paged_reader(info, k10_03="3" if chosen.page == 1 else "1")(source, chosen)

    decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", read)
    [waiting] = [p for p in decisions.queue(store) if p.field == "p2_k10_03"]
    assert decisions.decide(store, waiting.value_id, "corrected", "4", "ann", waiting.value) == ""
    assert decisions.assign(store, page_id, payload(RIGHT), "bob", read).restored == {"k10_03": "4"}
    assert decisions.undo(store, "ann").field == "k10_03"  # her page-2 decision is not on this page now
    assert [(p.field, p.value) for p in decisions.queue(store)] == [("k10_03", "3")]
    # and the page-2 decision, never undone, comes back on page 2
    assert decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", read).restored == {"p2_k10_03": "4"}
    store.close()


@both_backends
def test_decisions_on_both_page_numbers_come_back_on_each_of_several_round_trips(new_store):
    info, page_id, value_id = reviewed_page(new_store)
    store = Store(new_store)
    for trip in range(3):
        done = decisions.assign(store, page_id, payload(RIGHT, page=2), "bob", paged_reader(info))
        if trip == 0:
            [waiting] = decisions.queue(store)
            assert decisions.decide(store, waiting.value_id, "corrected", "7", "cy", waiting.value) == ""
        else:
            assert done.restored == {"p2_k10_03": "7"}
        done = decisions.assign(store, page_id, payload(RIGHT), "bob", paged_reader(info))
        assert (done.restored, done.dropped) == ({"k10_03": "4"}, {"p2_k10_03": "7"})
        assert decisions.queue(store) == []
    assert decisions.undo(store, "ann").field == "k10_03"
    store.close()


@both_backends
def test_an_unidentified_page_assigned_has_no_decision_to_keep(new_store):
    store = Store(new_store)
    info = InputFile("stained.jpg", hashlib.sha256(b"stained").hexdigest(), 1000, 1)
    input_id, _ = store.add_input(info)
    store.save_page(input_id, 0, PageResult(info.path, 1, info.sha256, PageState.UNIDENTIFIED, "no QR code",
                                            image_jpeg=b"\xff\xd8 stained"))
    [row] = store.unread_pages()
    done = decisions.assign(store, int(row["id"]), payload(RIGHT), "bob", reader(info))
    assert (done.problem, done.kept, done.dropped) == ("", {}, {})
    assert done.decisions() == "Review decisions: none had been made on this page."
    assert [p.field for p in decisions.queue(store)] == ["k10_03"]
    store.close()


def test_a_refused_assignment_keeps_every_decision_and_says_why(tmp_path):
    info, page_id, value_id = reviewed_page(tmp_path / "s.sqlite")
    store = Store(tmp_path / "s.sqlite")

    def misfit(source: SourcePage, chosen: PagePayload) -> PageResult:
        return PageResult(info.path, 1, info.sha256, PageState.REJECTED, "the page does not look like k10 page 2",
                          quality={"misfit": True})

    done = decisions.assign(store, page_id, payload(MISTAKE, page=2), "bob", misfit)
    assert done.problem.startswith("not assigned: the page does not look like")
    assert store.value(value_id)["review"] == "corrected" and assign_entries(store) == []
    store.close()


@pytest.fixture
def fake_reader(monkeypatch):
    """``formkit assign`` reading the page as the K10 of ``k10_reading`` (no image is read)."""
    from formkit_cli import pipeline

    def reader_for(catalogue):
        return lambda source, chosen: k10_reading(InputFile(source.path, source.sha256, 1000, 1), chosen)

    monkeypatch.setattr(pipeline, "reader", reader_for)


@both_backends
def test_the_command_assigning_by_mistake_and_back_keeps_the_decision_and_the_score(new_store, fake_reader,
                                                                                      tmp_path):
    _, page_id, _ = reviewed_page(new_store)
    outputs = []
    for serial in ("NUJC-7N3Q", "9R6E-7NME"):
        result = CliRunner().invoke(main, ["assign", "--db", str(new_store), "--page", str(page_id), "--form", "k10",
                                           "--page-no", "1", "--serial", serial, "--by", "bob"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    result = CliRunner().invoke(main, ["export", "--db", str(new_store), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "k10.csv", newline="", encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    assert row["k10_03"] == "4"
    assert [v for k, v in row.items() if k.startswith("k10_total") and "status" in k] == ["complete"]
    assert all("Review decisions: 1 kept (the same question, read as before), 0 dropped." in o for o in outputs)


def test_the_command_takes_back_an_assignment_made_by_mistake(tmp_path, fake_reader):
    """``formkit assign --undo --page N`` does what the review page's "Take that back" does: the page read as
    the wrong serial is its own serial again, its decision kept; a second --undo has nothing to take back and
    says so; --undo with a form page named is a usage error."""
    db = tmp_path / "s.sqlite"
    _, page_id, value_id = reviewed_page(db)

    def run(*args: str):
        return CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(page_id), *args, "--by", "bob"])

    assert run("--form", "k10", "--page-no", "1", "--serial", MISTAKE).exit_code == 0
    result = run("--undo")
    assert result.exit_code == 0, result.output
    own = {"form": "k10", "version": 1, "form_page": 1, "serial": RIGHT, "variant": ""}
    assert f"is {decisions.describe_page(own)} again" in result.output
    store = Store(db)
    assert store.page(page_id)["serial"] == RIGHT
    assert (store.value(value_id)["value"], store.value(value_id)["review"]) == ("4", "corrected")
    assert [r["action"] for r in store.audit_rows()][-1] == "unassign-page"
    store.close()
    again = run("--undo")
    assert again.exit_code == 5 and "can be taken back" in again.output
    assert run("--undo", "--serial", MISTAKE).exit_code == 2
    assert "--page-no, --serial missing" in run("--form", "k10").output
