"""The review page as admin staff use it over a week of returns: every decision ends where the reviewer
meant, nothing is lost, and nothing is silently wrong in the store or the export afterwards. A page said by
hand to be a form page can be taken back (undo, or from the page's own view) to what it was before; an
assignment form left open while the page changed (another reviewer, a scan) saves nothing. Readings are made
up here (no image is read, as in tests/test_assign_keeps_decisions.py), so each test takes well under a
second; one drives Debian's Chromium with the keyboard only."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
from pathlib import Path

from click.testing import CliRunner

from formkit.catalogue import shipped_catalogue
from formkit.export import export
from formkit.records import InputFile, PageResult, PageState
from formkit.review import queue as decisions
from formkit.review.app import create_app
from formkit.store import Store
from formkit_cli import main
from tests.conftest import both_backends
from tests.test_assign_keeps_decisions import MISTAKE, RIGHT, k10_reading, payload
from tests.test_review import launch_chromium, wait_for_focus

STAINED = InputFile("monday/stained.jpg", hashlib.sha256(b"stained").hexdigest(), 1000, 1)
CLEAN = InputFile("monday/clean.jpg", hashlib.sha256(b"clean").hexdigest(), 1000, 1)
OTHER = "G9JU46QJ"  # a third valid serial: another respondent's form


def read_as(source, chosen) -> PageResult:
    """The review app's reader: the page read as whatever it is said to be (k10_03 a faint mark, to review)."""
    return k10_reading(InputFile(source.path, source.sha256, 1000, 1), chosen)


def week_store(db: Path | str) -> tuple[int, int]:
    """A store as Monday's returns leave it: a K10 read by its QR (k10_03 waiting for review) and a page whose
    QR a stain hides (unidentified); (the read page's id, the unidentified page's id)."""
    store = Store(db)
    input_id, _ = store.add_input(CLEAN)
    store.save_page(input_id, 0, k10_reading(CLEAN, payload(RIGHT)))
    input_id, _ = store.add_input(STAINED)
    store.save_page(input_id, 0, PageResult(STAINED.path, 1, STAINED.sha256, PageState.UNIDENTIFIED,
                                            "no QR code or printed code found", image_jpeg=b"\xff\xd8 stained"))
    read = next(int(p["id"]) for p in store.pages() if p["status"] == "read")
    [unread] = store.unread_pages()
    store.close()
    return read, int(unread["id"])


def reviewer(db: Path | str, name: str = "ann"):
    """A browser session of the review app over ``db`` signed in as ``name``, and its CSRF token."""
    app = create_app(db, shipped_catalogue(), read_as)
    client = app.test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/who").get_data(as_text=True)).group(1)
    client.post("/who", data={"reviewer": name, "csrf": token})
    return client, token


def messages(response) -> list[str]:
    return re.findall(r'<p class="message" role="alert">([^<]*)</p>', response.get_data(as_text=True))


def assign_form(client, url: str, page_id: int) -> dict[str, str]:
    """The hidden fields of page ``page_id``'s assignment form as ``url`` shows it."""
    text = client.get(url).get_data(as_text=True)
    form = text[text.index(f'action="/assign/{page_id}"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


def decide_head(client, token: str, value: str) -> int:
    """Decide the value at the head of the session's queue as ``value``; its id."""
    url = client.get("/").headers["Location"]
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', client.get(url).get_data(as_text=True)))
    client.post(url, data={"csrf": token, "action": "save", "value": value, **shown})
    return int(url.rsplit("/", 1)[1])


def page_state(db: Path | str, page_id: int) -> tuple[str, str, str]:
    store = Store(db)
    row = store.page(page_id)
    store.close()
    return row["status"], row["form"], row["serial"]


def audited(db: Path | str, *actions: str) -> list[tuple[str, str, int]]:
    store = Store(db)
    rows = [(r["actor"], r["action"], r["page_id"]) for r in store.audit_rows() if r["action"] in actions]
    store.close()
    return rows


def formkit_export(db: Path, out: Path) -> None:
    """``formkit export --db db --out out``, as staff run it."""
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output


def assign_by_mistake_and_decide(db: Path | str, client, token: str, stained: int, decider: str) -> int:
    """The stained page assigned by ``client`` to the wrong serial, and its value to review decided as 4 by
    ``decider``; that value's id."""
    client.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE})
    store = Store(db)
    [on_it] = [p for p in decisions.queue(store) if p.page_id == stained]
    assert decisions.decide(store, on_it.value_id, "corrected", "4", decider, on_it.value) == ""
    store.close()
    return on_it.value_id


def test_undo_just_after_an_assignment_takes_the_assignment_back(tmp_path):
    """Undo after saying which page a stained page is took back the reviewer's decision before it, on another
    form ("Undone: your last decision on k10_03 (k10 9R6E-7NME)"), and left the page assigned to the wrong
    serial, with no way back to unidentified but voiding it. Now the page is unidentified again, as it was,
    and waits in the list of pages to identify; the decision before it stands."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    decided = decide_head(ann, token, "4")
    done = ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE,
                                                "seen": assign_form(ann, "/pages", stained)["seen"]},
                    follow_redirects=True)
    assert "If that was a mistake, press Undo." in messages(done)[0]
    assert page_state(db, stained) == ("read", "k10", MISTAKE)
    undone = ann.post("/undo", data={"csrf": token})
    assert undone.headers["Location"] == f"/pages/{stained}"
    [told] = messages(ann.get(undone.headers["Location"]))
    assert told == (f"Assignment taken back: page {stained} is no longer k10 page 1, NUJC-7N3Q; it is unidentified "
                    "again. Review decisions: none had been made on this page.")
    assert page_state(db, stained) == ("unidentified", "", "")
    store = Store(db)
    assert store.value(decided)["review"] == "corrected"  # the decision before the assignment stands
    assert [r["id"] for r in store.unread_pages()] == [stained]
    assert all(p.page_id != stained for p in decisions.queue(store))
    entries = [r for r in store.audit_rows() if r["page_id"] == stained and r["actor"] == "ann"]
    assert [r["action"] for r in entries] == ["assign-page", "assign-page", "unassign-page"]
    assert json.loads(entries[-1]["detail"])["audit_id"] == entries[0]["id"]
    store.close()
    # the next undo is the decision before it; the taking back is not undone in turn
    again = ann.post("/undo", data={"csrf": token})
    assert again.headers["Location"] == f"/value/{decided}"
    assert page_state(db, stained) == ("unidentified", "", "")


@both_backends
def test_undo_takes_back_the_decisions_made_since_an_assignment_first(new_store):
    """Undo goes back one decision at a time, newest first, an assignment among them: a value decided on the
    page after it was assigned is taken back before the assignment."""
    db = new_store
    _, stained = week_store(db)
    ann, token = reviewer(db)
    decided = assign_by_mistake_and_decide(db, ann, token, stained, "ann")
    first = ann.post("/undo", data={"csrf": token})
    assert first.headers["Location"] == f"/value/{decided}"
    assert page_state(db, stained) == ("read", "k10", MISTAKE)
    second = ann.post("/undo", data={"csrf": token})
    assert second.headers["Location"] == f"/pages/{stained}"
    assert page_state(db, stained) == ("unidentified", "", "")


@both_backends
def test_a_read_page_assigned_to_the_wrong_serial_is_taken_back_with_its_decisions(new_store):
    """A page the scanner read by its QR, said by hand to be another respondent's form, then taken back from
    its own view: it is read again as the form page it was, and the decision made on it before comes back."""
    read, _ = week_store(new_store)
    store = Store(new_store)
    [waiting] = [p for p in decisions.queue(store) if p.page_id == read]
    assert decisions.decide(store, waiting.value_id, "corrected", "4", "cy", waiting.value) == ""
    store.close()
    ann, token = reviewer(new_store)
    ann.post(f"/assign/{read}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": OTHER, "back": "page"})
    view = ann.get(f"/pages/{read}").get_data(as_text=True)
    assert "Before that it was <strong>k10 page 1, 9R6E-7NME</strong>" in view
    shown = re.search(r'name="assignment" value="(\d+)"', view).group(1)
    done = ann.post(f"/unassign/{read}", data={"csrf": token, "assignment": shown}, follow_redirects=True)
    assert messages(done) == [f"Assignment taken back: page {read} is no longer k10 page 1, G9JU-46QJ; it is k10 page "
                              "1, 9R6E-7NME again. Review decisions: 1 kept (the same question, read as before), 0 "
                              "dropped."]
    assert page_state(new_store, read) == ("read", "k10", RIGHT)
    store = Store(new_store)
    assert store.value(waiting.value_id)["value"] == "4" and decisions.queue(store) == []
    store.close()
    assert "Take that back" not in ann.get(f"/pages/{read}").get_data(as_text=True)  # nothing left to take back


def test_two_reviewers_taking_back_one_assignment_take_back_one(tmp_path):
    """Bob's page, shown before Ann took the assignment back, posted late: it took back the assignment before
    that one too. Now it is refused and the page stays as Ann left it."""
    db = tmp_path / "s.sqlite"
    read, _ = week_store(db)
    ann, token = reviewer(db)
    bob, bob_token = reviewer(db, "bob")
    ann.post(f"/assign/{read}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": OTHER})
    ann.post(f"/assign/{read}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE})
    shown = re.search(r'name="assignment" value="(\d+)"', bob.get(f"/pages/{read}").get_data(as_text=True)).group(1)
    ann.post(f"/unassign/{read}", data={"csrf": token, "assignment": shown})
    assert page_state(db, read) == ("read", "k10", OTHER)
    late = bob.post(f"/unassign/{read}", data={"csrf": bob_token, "assignment": shown}, follow_redirects=True)
    assert messages(late)[0].startswith("Not taken back: the page changed since it was shown")
    assert page_state(db, read) == ("read", "k10", OTHER)
    # taking back once more goes one step further: to the form page the scanner read
    view = bob.get(f"/pages/{read}").get_data(as_text=True)
    assert "Before that it was <strong>k10 page 1, 9R6E-7NME</strong>" in view
    bob.post(f"/unassign/{read}", data={"csrf": bob_token,
                                        "assignment": re.search(r'name="assignment" value="(\d+)"', view).group(1)})
    assert page_state(db, read) == ("read", "k10", RIGHT)
    assert "Take that back" not in bob.get(f"/pages/{read}").get_data(as_text=True)


def test_an_assignment_form_left_open_while_another_reviewer_assigned_the_page_saves_nothing(tmp_path):
    """Ann and Bob both had the list of pages to identify open; Bob's form, sent after Ann's, silently assigned
    the page Ann had just identified to the serial Bob typed."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    bob, bob_token = reviewer(db, "bob")
    bobs = assign_form(bob, "/pages", stained)
    ann.post(f"/assign/{stained}", data={**assign_form(ann, "/pages", stained), "csrf": token, "form": "k10:1",
                                         "page": "1", "serial": MISTAKE})
    late = bob.post(f"/assign/{stained}", data={**bobs, "csrf": bob_token, "form": "k10:1", "page": "1",
                                                "serial": OTHER}, follow_redirects=True)
    assert messages(late) == [f"Not assigned: page {stained} changed since it was shown (it is k10 page 1, NUJC-7N3Q "
                              "now); look at it again."]
    assert page_state(db, stained) == ("read", "k10", MISTAKE)
    assert audited(db, "assign-page") == [("ann", "assign-page", stained)]


def test_an_assignment_form_left_open_while_a_scan_read_the_page_saves_nothing(tmp_path):
    """The page scanned again (its template installed since) was read by its QR while a reviewer had the list
    open: the form sent afterwards reassigned a page the scanner had read to the serial typed."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    shown = assign_form(ann, "/pages", stained)
    store = Store(db)
    input_id, _ = store.add_input(STAINED)
    assert store.save_page(input_id, 0, k10_reading(STAINED, payload(RIGHT))) is PageState.CONFLICT
    store.close()
    late = ann.post(f"/assign/{stained}", data={**shown, "csrf": token, "form": "k10:1", "page": "1",
                                                "serial": OTHER}, follow_redirects=True)
    assert messages(late)[0].startswith(f"Not assigned: page {stained} changed since it was shown")
    assert page_state(db, stained) == ("conflict", "k10", RIGHT)


def test_a_page_identified_by_hand_can_be_found_again(tmp_path):
    """Once assigned, a page left the list of pages to identify and nothing linked to it: a mistake seen later
    could not be put right from the review page."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE})
    listing = ann.get("/pages").get_data(as_text=True)
    assert 'id="no-pages"' in listing
    assert (f'<a href="/pages/{stained}">monday/stained.jpg, page 1</a>: now k10 page 1, NUJC-7N3Q\n'
            "    (was unidentified; by ann,") in listing
    assert 'id="unassign"' in ann.get(f"/pages/{stained}").get_data(as_text=True)


def test_decisions_on_a_page_taken_back_come_back_when_it_is_assigned_there_again(tmp_path):
    """Bob decided a value on a page Ann had assigned; Ann took the assignment back: Bob's decision is dropped
    (the page has no values now), kept whole in the audit log, and comes back when the page is assigned to
    that form page again."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    assign_by_mistake_and_decide(db, ann, token, stained, "bob")
    told = messages(ann.post("/undo", data={"csrf": token}, follow_redirects=True))[-1]
    assert told.endswith("Review decisions: 0 kept, 1 dropped (k10_03 was 4: not a question of this form page, or "
                         "read differently now; they come back if the page is assigned back and reads as before).")
    again = ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE},
                     follow_redirects=True)
    assert "1 brought back" in messages(again)[-1]
    store = Store(db)
    [value] = [v for v in store.values() if v["page_id"] == stained and v["field"] == "k10_03"]
    assert (value["value"], value["reviewed_by"]) == ("4", "bob")
    store.close()


def test_a_voided_pages_assignment_is_passed_over_by_undo_and_comes_back_with_the_page(tmp_path):
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    ann, token = reviewer(db)
    ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE})
    store = Store(db)
    decisions.void(store, [stained], "photographed twice", "ann")
    store.close()
    assert messages(ann.post("/undo", data={"csrf": token}, follow_redirects=True))[-1].startswith("Nothing of yours")
    assert 'id="unassign"' not in ann.get(f"/pages/{stained}").get_data(as_text=True)
    store = Store(db)
    decisions.restore(store, [stained], "ann")
    store.close()
    assert ann.post("/undo", data={"csrf": token}).headers["Location"] == f"/pages/{stained}"
    assert page_state(db, stained) == ("unidentified", "", "")


def test_the_export_carries_each_decision_and_nothing_of_an_assignment_taken_back(tmp_path):
    """A decided value is exported as decided, with who decided it and how; a page whose assignment was taken
    back leaves no row behind for the serial it was wrongly given."""
    db = tmp_path / "s.sqlite"
    read, stained = week_store(db)
    ann, token = reviewer(db)
    decide_head(ann, token, "4")
    ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": MISTAKE})
    formkit_export(db, tmp_path / "before")
    ann.post("/undo", data={"csrf": token})
    formkit_export(db, tmp_path / "after")
    before = list(csv.DictReader((tmp_path / "before" / "k10.csv").open(encoding="utf-8")))
    assert sorted(r["serial"] for r in before) == ["9R6E-7NME", "NUJC-7N3Q"]
    [wide] = list(csv.DictReader((tmp_path / "after" / "k10.csv").open(encoding="utf-8")))
    assert (wide["serial"], wide["k10_03"], wide["needs_review"], wide["reviewed"]) == ("9R6E-7NME", "4", "0", "1")
    long = [r for r in csv.DictReader((tmp_path / "after" / "k10_long.csv").open(encoding="utf-8"))
            if r["field"] == "k10_03"]
    assert [(r["value"], r["review"], r["reviewed_by"], r["source_file"], r["page_id"]) for r in long] == \
        [("4", "corrected", "ann", "monday/clean.jpg", str(read))]
    # what the machine read before the decision, and when it was made: provenance from the file alone
    store = Store(db)
    [decided] = [store.value(int(r["value_id"])) for r in store.values() if r["field"] == "k10_03"]
    store.close()
    assert (long[0]["machine_value"], long[0]["reviewed_at"]) == (decided["machine_value"], decided["reviewed_at"])
    assert long[0]["machine_value"] not in ("", "4") and long[0]["reviewed_at"].startswith("20")
    untouched = [r for r in csv.DictReader((tmp_path / "after" / "k10_long.csv").open(encoding="utf-8"))
                 if not r["review"]]
    assert untouched and all(r["machine_value"] == r["reviewed_at"] == "" for r in untouched)


def test_a_stained_page_is_identified_and_taken_back_with_the_keyboard_only_in_chromium(tmp_path):
    """Tab to the serial on the list of pages to identify, type it, Enter; Alt+Z takes the assignment back."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    guess = [decisions.LayoutFit("k10", 1, "N", 1, 0.9)]  # the scanner's best guess, as its ranking gives it
    app = create_app(db, shipped_catalogue(), read_as, rank=lambda source: guess)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/pages")
            wait_for_focus(page, "reviewer")
            page.keyboard.type("Ann")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.goto(f"http://127.0.0.1:{server.server_port}/pages")
            for _ in range(30):  # Tab through the header's links and the form, to the serial
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.name") == "serial":
                    break
            page.keyboard.type(MISTAKE)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert "If that was a mistake, press Undo." in page.locator(".message").inner_text()
            assert page_state(db, stained) == ("read", "k10", MISTAKE)
            with page.expect_navigation():
                page.keyboard.press("Alt+z")
            assert "Assignment taken back" in page.locator(".message").inner_text()
            assert page.url.endswith(f"/pages/{stained}")
            browser.close()
    finally:
        server.shutdown()
    assert page_state(db, stained) == ("unidentified", "", "")


def test_a_value_another_reviewer_has_open_says_so_and_stays_theirs(tmp_path):
    """The last values of a queue go to both reviewers: Bob saw nothing of Ann having the value open, typed his
    answer and was told "Not saved"; and opening it took it from her, so her next value was the one he had
    open. Now he is told before he types, the value stays Ann's, and he is offered another to go on with."""
    db = tmp_path / "s.sqlite"
    week_store(db)
    store = Store(db)
    second_file = InputFile("monday/second.jpg", "2" * 64, 1000, 1)
    input_id, _ = store.add_input(second_file)
    store.save_page(input_id, 0, k10_reading(second_file, payload(MISTAKE)))
    first, second = decisions.queue(store)
    store.close()
    ann, _ = reviewer(db)
    bob, _ = reviewer(db, "bob")
    assert ann.get("/").headers["Location"] == f"/value/{first.value_id}"
    assert 'id="also-open"' not in ann.get(f"/value/{first.value_id}").get_data(as_text=True)
    assert bob.get("/").headers["Location"] == f"/value/{second.value_id}"  # Ann's comes last for Bob
    shown = bob.get(f"/value/{first.value_id}").get_data(as_text=True)  # a link, Back, or the last value left
    assert re.search(r'id="also-open">ann has this value open too: if you both\s+decide it, only the first decision '
                     r'is saved. <a href="/">Go on\s+with another value</a>', shown)
    store = Store(db)
    assert [p.value_id for p in decisions.queue(store, "ann")] == [first.value_id, second.value_id]
    store.close()
    assert 'id="also-open"' not in ann.get(f"/value/{first.value_id}").get_data(as_text=True)


def test_odd_posts_to_take_back_or_assign_are_refused_not_server_errors(tmp_path):
    db = tmp_path / "s.sqlite"
    read, stained = week_store(db)
    ann, token = reviewer(db)
    for assignment in ("", "x", "-1", "9" * 40, "\u0663", "\x00"):
        response = ann.post(f"/unassign/{read}", data={"csrf": token, "assignment": assignment}, follow_redirects=True)
        assert response.status_code == 200 and messages(response)[-1].startswith("Not taken back")
    assert ann.post(f"/unassign/{2**63 - 1}", data={"csrf": token}).status_code == 404
    assert ann.post(f"/unassign/{read}", data={"assignment": "1"}).status_code == 400  # no CSRF token
    for seen in ("", "x" * 10_000, "\x00"):
        response = ann.post(f"/assign/{stained}", data={"csrf": token, "form": "k10:1", "page": "1", "serial": RIGHT,
                                                        "seen": seen}, follow_redirects=True)
        assert response.status_code == 200 and messages(response)[-1].startswith("Not assigned: page")
    assert page_state(db, read) == ("read", "k10", RIGHT) and page_state(db, stained)[0] == "unidentified"


def test_an_assignment_landing_while_another_reads_the_page_wins_alone(tmp_path):
    """Reading a page as the form page chosen takes a second or so: another reviewer's assignment landing in
    that second was overwritten by the slower one, with no word to either."""
    db = tmp_path / "s.sqlite"
    _, stained = week_store(db)
    store = Store(db)
    seen = decisions.page_seen(store.page(stained))

    def slow_read(source, chosen):  # Bob's assignment lands while Ann's reading is under way
        assert decisions.assign(Store(db), stained, payload(MISTAKE), "bob", read_as, seen).problem == ""
        return read_as(source, chosen)

    done = decisions.assign(store, stained, payload(OTHER), "ann", slow_read, seen)
    assert done.changed and done.problem.startswith(f"not assigned: page {stained} changed since it was shown")
    assert page_state(db, stained) == ("read", "k10", MISTAKE)
    assert audited(db, "assign-page") == [("bob", "assign-page", stained)]
    store.close()


def test_a_value_open_while_its_page_was_read_again_saves_nothing_onto_the_new_reading(tmp_path):
    """``formkit scan --reread`` read the page again while a reviewer had a value open: the form sent
    afterwards is refused, and the new reading waits for review."""
    db = tmp_path / "s.sqlite"
    read, _ = week_store(db)
    ann, token = reviewer(db)
    url = ann.get("/").headers["Location"]
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', ann.get(url).get_data(as_text=True)))
    store = Store(db)
    assert store.reread_page(read, k10_reading(CLEAN, payload(RIGHT), k10_03="5")).changed == 1
    store.close()
    late = ann.post(url, data={"csrf": token, "action": "save", "value": "4", **shown}, follow_redirects=True)
    assert messages(late)[-1] == "Not saved: the value changed since it was shown."
    store = Store(db)
    [waiting] = decisions.queue(store)
    assert (waiting.field, waiting.value, store.value(waiting.value_id)["review"]) == ("k10_03", "5", "")
    store.close()


def test_a_page_voided_with_a_decision_on_it_and_restored_exports_the_decision_again(tmp_path):
    """Voided, the page and its decision leave the export and the queue; restored, the decision is exported
    again as it was, and can still be undone. Going back to the value while the page was voided said only
    "Saved already", as if it would be exported."""
    db = tmp_path / "s.sqlite"
    read, _ = week_store(db)
    ann, token = reviewer(db)
    decided = decide_head(ann, token, "4")
    store = Store(db)
    decisions.void(store, [read], "scanned twice", "bob")
    export(store.values(), tmp_path / "voided")
    store.close()
    assert not (tmp_path / "voided" / "k10.csv").exists()
    assert messages(ann.get(f"/value/{decided}", follow_redirects=True))[-1] == (
        "Saved already: you decided k10_03 as &#39;4&#39; (corrected); its page has been voided since, so it is in no "
        "export unless the page is restored.")
    store = Store(db)
    decisions.restore(store, [read], "bob")
    export(store.values(), tmp_path / "restored")
    store.close()
    [wide] = list(csv.DictReader((tmp_path / "restored" / "k10.csv").open(encoding="utf-8")))
    assert (wide["k10_03"], wide["needs_review"], wide["reviewed"]) == ("4", "0", "1")
    assert ann.post("/undo", data={"csrf": token}).headers["Location"] == f"/value/{decided}"


def test_an_assignment_that_cannot_be_read_back_stays_and_says_why(tmp_path):
    """The page cannot be read again as the form page it was (here its reading is refused): nothing changes,
    the reviewer is told why and shown the page, where it can be said which page it is."""
    db = tmp_path / "s.sqlite"
    read, _ = week_store(db)
    refuse = []

    def reader(source, chosen):
        if refuse:
            return PageResult(source.path, 1, source.sha256, PageState.REJECTED, "the page does not look like k10 "
                              "page 1", quality={"misfit": True})
        return read_as(source, chosen)

    client = create_app(db, shipped_catalogue(), reader).test_client()
    with client.session_transaction() as s:
        s["reviewer"], s["csrf"] = "ann", "t"
    client.post(f"/assign/{read}", data={"csrf": "t", "form": "k10:1", "page": "1", "serial": MISTAKE})
    refuse.append(True)
    undone = client.post("/undo", data={"csrf": "t"})
    assert undone.headers["Location"] == f"/pages/{read}"
    assert messages(client.get(undone.headers["Location"]))[-1] == \
        "Not taken back: the page does not look like k10 page 1."
    assert page_state(db, read) == ("read", "k10", MISTAKE)
    assert audited(db, "unassign-page") == []
