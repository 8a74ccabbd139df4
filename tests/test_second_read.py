"""A second read of the day's changes (2026-12-06): cases each change left open, found by trying them. Readings
are made up (no image is read), on both store backends where the store alone is concerned."""

from __future__ import annotations

import dataclasses
import hashlib
import re

from click.testing import CliRunner

from formkit.records import InputFile, PageResult, PageState
from formkit.review import queue as decisions
from formkit.store import Store, changes
from formkit_cli import main, pipeline
from tests.conftest import both_backends
from tests.test_assign_keeps_decisions import MISTAKE, RIGHT, k10_reading, payload, reviewed_page
from tests.test_review_workflows import CLEAN, OTHER, assign_form, messages, page_state, read_as, reviewer, week_store
from tests.test_store_backends import add, file_info, reading


def _waiting(store: Store) -> list[tuple[int, str, str]]:
    return [(int(r["page_id"]), r["field"], r["value"]) for r in store.review_queue("ann", -1)]


def _decided_on_a_then_voided(store: Store, b_q1: str = "5", action: str = "corrected",
                              decided: str = "4") -> tuple[int, int]:
    """Two images of a page, a (q1 '3', flagged) and b (q1 ``b_q1``, sure); ann decides q1 on a as ``decided``
    (``action``), then a is voided and b is read in its place: (a, b)."""
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3"))
    add(store, file_info("b.jpg"), reading(file_info("b.jpg"), q1=b_q1, flagged=False))
    a, b = (int(r["id"]) for r in store.pages())
    [waiting] = [r for r in store.review_queue("ann", -1) if r["field"] == "q1"]
    assert store.decide(int(waiting["value_id"]), action, decided, "ann", "3") == ""
    store.void_pages([a], "photographed twice", "bob")
    return a, b


@both_backends
def test_a_value_flagged_for_a_decision_on_a_page_voided_stays_flagged_when_read_again(new_store):
    """``formkit scan --reread`` of the image read in place of the voided one put its reading back with the
    machine's own flag (none): '5' was exported unflagged again, Ann's '4' unseen."""
    store = Store(new_store)
    a, b = _decided_on_a_then_voided(store)
    assert _waiting(store) == [(b, "q1", "5")]
    store.reread_page(b, reading(file_info("b.jpg"), q1="5", flagged=False))
    [flagged] = store.review_queue("ann", -1)
    assert (int(flagged["page_id"]), flagged["value"]) == (b, "5")
    assert f"ann decided '4' (corrected) on page {a}, voided since" in flagged["reason"]
    store.close()


def _lone_fill(result: PageResult, q1: str) -> PageResult:
    """``result`` with q1 a lone filled box (read as ``q1``, sure) and a form that says a fill is the answer."""
    raw = {"states": ["empty", "filled", "empty"], "multiple": False, "options": ["1", "2", "3"],
           "as_scanned": ["2", 0.6, True, "a lone filled box"]}
    q1_value = dataclasses.replace(result.values[0], value=q1, needs_review=False, reason="", raw=raw)
    return dataclasses.replace(result, values=[q1_value, *result.values[1:]], quality={"fill_means": "answer"})


@both_backends
def test_a_lone_fill_flagged_for_a_decision_on_a_page_voided_stays_flagged_when_another_page_comes(new_store):
    """The respondent's next page scanned decides the fill convention again, which read the lone fill back
    unflagged: the flag for Ann's decision on the voided image was gone, and so was the flag-value's purpose."""
    store = Store(new_store)
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3"))
    add(store, file_info("b.jpg"), _lone_fill(reading(file_info("b.jpg")), "2"))
    a, b = (int(r["id"]) for r in store.pages())
    [waiting] = [r for r in store.review_queue("ann", -1) if r["field"] == "q1"]
    assert store.decide(int(waiting["value_id"]), "corrected", "3", "ann", "3") == ""
    store.void_pages([a], "photographed twice", "bob")
    assert _waiting(store) == [(b, "q1", "2")]
    add(store, file_info("c.jpg"), _lone_fill(reading(file_info("c.jpg"), form_page=2), "2"))
    assert _waiting(store) == [(b, "q1", "2")]
    flags = [r for r in store.audit_rows() if r["action"] == "flag-value"]
    assert len(flags) == 1  # kept, not taken off and put back (audited again) at each page
    store.close()


@both_backends
def test_of_three_images_the_third_read_keeps_what_was_decided_on_the_first(new_store):
    """a decided, voided: b read and flagged. b voided too (a third photo is the best): c, read in place of b,
    which had no decision, was exported as '5' unflagged, Ann's '4' on a unseen."""
    store = Store(new_store)
    add(store, file_info("a.jpg"), reading(file_info("a.jpg"), q1="3"))
    for name in ("b.jpg", "c.jpg"):
        add(store, file_info(name), reading(file_info(name), q1="5", flagged=False))
    a, b, c = (int(r["id"]) for r in store.pages())
    [waiting] = [r for r in store.review_queue("ann", -1) if r["field"] == "q1"]
    assert store.decide(int(waiting["value_id"]), "corrected", "4", "ann", "3") == ""
    store.void_pages([a], "photographed twice", "bob")
    store.void_pages([b], "photographed twice", "bob")
    [flagged] = store.review_queue("ann", -1)
    assert (int(flagged["page_id"]), flagged["value"]) == (c, "5")
    assert f"ann decided '4' (corrected) on page {a}, voided since" in flagged["reason"]
    store.close()


@both_backends
def test_a_value_decided_illegible_on_a_page_voided_waits_where_the_other_image_reads_nothing(new_store):
    """Illegible is kept as no value: the other image reading nothing was taken as the same value and exported
    as not answered, where the person had seen ink they could not read."""
    store = Store(new_store)
    a, b = _decided_on_a_then_voided(store, b_q1="", action="illegible", decided="")
    [flagged] = store.review_queue("ann", -1)
    assert (int(flagged["page_id"]), flagged["value"]) == (b, "")
    assert f"ann decided it was illegible on page {a}, voided since; this image reads (blank)" in flagged["reason"]
    store.close()


AGAIN = InputFile("tuesday/again.jpg", hashlib.sha256(b"again").hexdigest(), 1000, 1)


@both_backends
def test_a_page_read_taken_back_from_a_mistaken_assignment_is_the_page_read_again(new_store):
    """A page photographed twice: the first image read (its k10_03 decided as 4), the second a conflict. The
    first assigned to a wrong serial by mistake, the second was read in its place; taking the assignment back
    said "it is k10 page 1, 9R6E-7NME again ... 1 kept", but left it a conflict: the export carried the second
    image's readings, and the decision, on a page no export reads, had to be made again."""
    read, _ = week_store(new_store)
    store = Store(new_store)
    input_id, _ = store.add_input(AGAIN)
    assert store.save_page(input_id, 0, k10_reading(AGAIN, payload(RIGHT))) is PageState.CONFLICT
    again = max(int(p["id"]) for p in store.pages())
    [waiting] = [p for p in decisions.queue(store) if p.page_id == read]
    assert decisions.decide(store, waiting.value_id, "corrected", "4", "ann", waiting.value) == ""
    store.close()
    ann, token = reviewer(new_store)
    ann.post(f"/assign/{read}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE, "back": "page"})
    assert page_state(new_store, again) == ("read", "k10", RIGHT)  # read in its place meanwhile
    shown = re.search(r'name="assignment" value="(\d+)"', ann.get(f"/pages/{read}").get_data(as_text=True)).group(1)
    done = ann.post(f"/unassign/{read}", data={"csrf": token, "assignment": shown}, follow_redirects=True)
    assert "it is k10 page 1, 9R6E-7NME again" in messages(done)[0]
    assert (page_state(new_store, read), page_state(new_store, again)) == \
        (("read", "k10", RIGHT), ("conflict", "k10", RIGHT))
    store = Store(new_store)
    assert store.value(waiting.value_id)["value"] == "4" and decisions.queue(store) == []
    store.close()


def test_an_assignment_form_left_open_while_the_page_was_voided_says_it_was_voided(tmp_path, monkeypatch):
    """The page voided (a duplicate) while a reviewer had its view open: the assignment sent afterwards was
    refused saying the page "changed since it was shown (it is k10 page 1, 9R6E-7NME now)", just what the
    reviewer had seen, never that it was voided. Read again by a scan as the same page, it said the same."""
    db = tmp_path / "s.sqlite"
    read, _ = week_store(db)
    ann, token = reviewer(db)
    shown = assign_form(ann, f"/pages/{read}", read)
    store = Store(db)
    decisions.void(store, [read], "photographed twice", "bob")
    store.close()
    late = ann.post(f"/assign/{read}", data={**shown, "csrf": token, "form": "k10:1", "page": "1", "serial": OTHER},
                    follow_redirects=True)
    assert messages(late) == [f"Not assigned: page {read} has been voided since it was shown; to assign it, restore "
                              f"it first (formkit void --undo --page {read})."]
    store = Store(db)
    decisions.restore(store, [read], "bob")
    shown = assign_form(ann, f"/pages/{read}", read)
    monkeypatch.setattr(changes, "now", lambda: "2099-01-01T00:00:00+00:00")  # read in a later second
    store.reread_page(read, k10_reading(CLEAN, payload(RIGHT)))
    store.close()
    late = ann.post(f"/assign/{read}", data={**shown, "csrf": token, "form": "k10:1", "page": "1", "serial": OTHER},
                    follow_redirects=True)
    assert messages(late) == [f"Not assigned: page {read} changed since it was shown (it was read again since); "
                              "look at it again."]
    assert page_state(db, read) == ("read", "k10", RIGHT)


def test_the_command_taking_back_an_assignment_refuses_a_print_size_it_would_ignore(tmp_path, monkeypatch):
    """``formkit assign --undo --page N --large-print`` took the assignment back as it was printed and said
    nothing of --large-print; as --form, --page-no and --serial, it is a usage error with --undo."""
    monkeypatch.setattr(pipeline, "reader", lambda catalogue: read_as)  # no image is read
    db = tmp_path / "s.sqlite"
    _, page_id, _ = reviewed_page(db)

    def run(*args: str):
        return CliRunner().invoke(main, ["assign", "--db", str(db), "--page", str(page_id), *args, "--by", "bob"])

    assert run("--form", "k10", "--page-no", "1", "--serial", MISTAKE).exit_code == 0
    refused = run("--undo", "--large-print")
    assert refused.exit_code == 2 and "give --page alone" in refused.output
    assert page_state(db, page_id) == ("read", "k10", MISTAKE)
    assert run("--undo").exit_code == 0 and page_state(db, page_id) == ("read", "k10", RIGHT)


@both_backends
def test_a_later_decision_on_the_image_read_meanwhile_is_not_shelved_when_the_page_comes_back(new_store, monkeypatch):
    """Ann decides q1 on a as 4; a is voided, b read in its place waits (Ann's 4 against its 5); Bob decides it
    5. a restored was read again with Ann's 4, exported unflagged, Bob's later 5 left unseen on b, a conflict
    now. Now a's q1 waits again, saying both decisions; Ann's is cleared (undo passes over it, the audit log
    keeps it), and once decided again nothing waits."""
    from formkit.store import reviewing

    clock = iter(f"2026-12-06T10:00:{s:02d}+00:00" for s in range(60))
    monkeypatch.setattr(reviewing, "now", lambda: next(clock))  # each decision a second after the one before
    store = Store(new_store)
    a, b = _decided_on_a_then_voided(store)
    [on_b] = store.review_queue("bob", -1)
    assert store.decide(int(on_b["value_id"]), "accepted", "5", "bob", "5") == ""
    store.restore_pages([a], "bob")
    [again] = store.review_queue("ann", -1)
    assert (int(again["page_id"]), again["field"], again["value"]) == (a, "q1", "4")
    assert f"bob decided '5' (accepted) on page {b}, another image of this page, after ann decided '4' " \
           "(corrected) on this one" in again["reason"]
    assert decisions.undo(store, "ann").field == ""  # her cleared decision is not hers to undo
    assert [r["action"] for r in store.audit_rows()][-1] == "flag-value"
    assert store.decide(int(again["value_id"]), "corrected", "5", "ann", "4") == ""
    store.void_pages([b], "photographed twice", "bob")  # settled again both ways: hers is the later decision now
    store.restore_pages([b], "bob")
    assert not store.review_queue("ann", -1)
    store.close()
