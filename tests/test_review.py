"""The review page: decisions in the store and its audit log, two reviewers, undo, security, and a real
browser (Debian's Chromium driven by Playwright) reviewing scanned forms with the keyboard. The tests marked
``both_backends`` run on an SQLite store and on a PostgreSQL one (tests/pg.py); the store's side of review
(two reviewers, claims, undo) runs on both in tests/test_store_backends.py."""

from __future__ import annotations

import contextlib
import csv
import html
import random
import re
import sqlite3
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from formkit.catalogue import shipped_catalogue
from formkit.export import export
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.review import queue as decisions
from formkit.review.app import create_app
from formkit.serial import format_serial
from formkit.store import SCHEMA_VERSION, Store
from formkit.template import resolve_template
from scanner.assign import read_source_as
from scanner.batch import scan
from tests.conftest import both_backends, remember_readings
from tests.shared_pages import stain_qr
from tests.synthetic import degrade_scan, draw_mark, render_pdf

DPI = 200
CHROMIUM = "/usr/bin/chromium"


def launch_chromium(playwright):
    """Debian's Chromium, headless, as a test drives it: no sandbox (tests may run as root), no GPU, and none of
    its own network traffic (updates, sync) while it runs."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run"])


def wait_for_focus(page, element_id: str) -> None:
    """Until the element ``element_id`` of ``page`` has the focus (the autofocus landed: letters typed before
    it would be lost). Playwright's own check, from its isolated world: ``page.wait_for_function`` evaluates
    its string in the page, which the app's Content Security Policy refuses whenever it has to poll."""
    from playwright.sync_api import expect

    expect(page.locator(f"#{element_id}")).to_be_focused()


@contextlib.contextmanager
def signed_in_browser(app, reviewer: str = "Ann"):
    """A page of Debian's Chromium on ``app``, served on a free local port, signed in as ``reviewer``; the
    browser and the server are stopped after the block."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.fill("#reviewer", reviewer)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            yield page
            browser.close()
    finally:
        server.shutdown()
        thread.join()


# row: (marks, the value a careful reviewer enters when the row is flagged)
MARKS = {"k10_01": ([("tick", 3)], "3"), "k10_02": ([("tick", 2), ("cross", 4)], "4"),
         "k10_03": ([("cross", 1), ("tick", 5)], "5"), "k10_04": ([("light", 2)], "2"),
         "k10_05": ([("cross", 2)], "2"), "k10_06": ([("tick", 1)], "1"), "k10_07": ([("light", 4)], "4"),
         "k10_08": ([("tick", 5)], "5"), "k10_09": ([("cross", 3)], "3"), "k10_10": ([("tick", 2)], "2")}


def app_for(db: Path | str, access_token: str | None = None):
    """The review app as ``formkit review`` wires it."""
    catalogue = shipped_catalogue()
    return create_app(db, catalogue, lambda source, payload: read_source_as(source, payload, catalogue), access_token)


@pytest.fixture(scope="module")
def k10_scan(tmp_path_factory) -> tuple[bytes, str]:
    """One K10 page with two double-marked rows and two faint pencil marks, scanned, as PNG bytes, and its
    serial: printed and marked once for the module's tests."""
    tmp = tmp_path_factory.mktemp("k10-scan")
    layout = build_layout(resolve_template("k10"))
    rows = generate(layout, make_copies(1, None, 21), tmp / "k10.pdf")
    image = render_pdf(tmp / "k10.pdf", DPI)[0]
    page = layout.pages[0]
    rng = random.Random(2)
    for field_id, (marks, _) in MARKS.items():
        field = next(f for f in page.fields if f.id == field_id)
        for style, value in marks:
            box = next(o.box for o in field.options if o.value == value)
            draw_mark(image, DPI, box, style, rng, "black")
    scan_png = cv2.imencode(".png", cv2.cvtColor(degrade_scan(image, DPI, rng, out_dpi=DPI), cv2.COLOR_RGB2BGR))[1]
    return scan_png.tobytes(), str(rows[0]["serial"])


@pytest.fixture
def scanned(k10_scan, tmp_path, new_store, monkeypatch) -> tuple[Path | str, str]:
    """A store of this test's own with the page of ``k10_scan`` read (an SQLite file, or a PostgreSQL
    database for a test run on both backends)."""
    scan_png, serial = k10_scan
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "k10.png").write_bytes(scan_png)
    db = new_store
    store = Store(db)
    remember_readings(monkeypatch, reuse=not isinstance(db, Path))
    scan([folder], store, jobs=1)
    monkeypatch.undo()
    assert decisions.queue(store), "the page should have values to review"
    store.close()
    return db, serial


def test_two_reviewers_never_overwrite_each_other_and_undo_restores(scanned):  # both backends: test_store_backends
    db, _ = scanned
    first, second = Store(db), Store(db)
    item = decisions.queue(first)[0]
    assert decisions.decide(first, item.value_id, "corrected", "4", "ann", item.value) == ""
    refused = decisions.decide(second, item.value_id, "corrected", "5", "bob", item.value)
    assert refused == "already reviewed by ann"
    assert first.value(item.value_id)["value"] == "4"
    assert decisions.undo(second, "bob").field == ""  # bob decided nothing
    assert decisions.undo(first, "ann").field == item.field
    row = first.value(item.value_id)
    assert (row["value"], row["needs_review"], row["review"]) == (item.value, 1, "")
    actions = [(r["actor"], r["action"], r["field"]) for r in first.audit_rows() if r["actor"] in ("ann", "bob")]
    assert actions == [("ann", "review:corrected", item.field), ("ann", "undo", item.field)]


def test_posts_without_the_csrf_token_are_refused(scanned):
    db, _ = scanned
    client = app_for(db).test_client()
    page = client.get("/who").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    refused = client.post("/who", data={"reviewer": "ann"})
    assert refused.status_code == 400 and "Nothing was saved" in refused.get_data(as_text=True)
    assert client.post("/who", data={"reviewer": "ann", "csrf": token}).status_code == 302
    item_url = client.get("/").headers["Location"]
    assert client.post(item_url, data={"value": "4"}).status_code == 400


def test_a_decision_is_saved_only_onto_the_value_shown_as_it_read_when_shown(scanned):
    """The page posts what it showed: a page assigned elsewhere meanwhile (whose re-read values may take the
    ids of another page's, or keep their own on another form), read again with another value, or whose value
    waits now for another reason takes no decision, and the reviewer is told why; before, the decision landed on
    whatever value had that id now, as final."""
    db, serial = scanned
    client = app_for(db).test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/who").get_data(as_text=True)).group(1)
    client.post("/who", data={"reviewer": "ann", "csrf": token})
    url = client.get("/").headers["Location"]
    page = client.get(url).get_data(as_text=True)
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', page))
    assert set(shown) == {"seen_field", "seen_page", "seen_value", "seen_form", "seen_reason"}
    value_id = int(url.rsplit("/", 1)[1])
    posted = {"csrf": token, "action": "save", "value": "4"}
    # a page assigned to another form keeps its value ids, and its field of the same name is another question; a
    # second image that reads the value otherwise, come in meanwhile, changes why it waits (unseen by the person)
    for changed, told in (({"seen_field": "k10_99"}, "its page was read again meanwhile"),
                          ({"seen_form": "k10-worker 1 " + serial}, "its page was read again meanwhile"),
                          ({"seen_value": shown["seen_value"] + "9"}, "the value changed since it was shown"),
                          ({"seen_reason": shown["seen_reason"] + " (shown before)"},
                           "why this value waits changed since it was shown")):
        answer = client.post(url, data={**posted, **shown, **changed}, follow_redirects=True).get_data(as_text=True)
        assert f"Not saved: {told}" in answer
        assert Store(db).value(value_id)["review"] == ""
    client.post(url, data={**posted, **shown})
    row = Store(db).value(value_id)
    assert (row["value"], row["reviewed_by"]) == ("4", "ann")


def test_a_decision_stands_when_only_the_fill_conventions_counts_changed_since_it_was_shown(scanned):
    """A lone fill's reason gives the form's counts of fills and ticks, and they grow when another page of the
    form is read: a reviewer's Enter on page 1 was refused ("why this value waits changed") because page 2 came
    in meanwhile, though nothing about the value had."""
    import sqlite3

    db, _ = scanned
    client = app_for(db).test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/who").get_data(as_text=True)).group(1)
    client.post("/who", data={"reviewer": "ann", "csrf": token})
    url = client.get("/").headers["Location"]
    value_id = int(url.rsplit("/", 1)[1])
    counts = ("a box filled in alone; whether this person fills boxes to answer or to cancel is unclear (on this "
              "form 1 field(s) answered by a filled box alone, {} by a tick or cross, 0 correction(s) (a filled box "
              "beside a tick or cross))")
    with sqlite3.connect(db) as plain:
        plain.execute("UPDATE field_values SET reason=? WHERE id=?", (counts.format(1), value_id))
    plain.close()
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', client.get(url).get_data(as_text=True)))
    assert "1 by a tick" in html.unescape(shown["seen_reason"])
    with sqlite3.connect(db) as plain:  # page 2 read meanwhile: more ticks on the form
        plain.execute("UPDATE field_values SET reason=? WHERE id=?", (counts.format(3), value_id))
    plain.close()
    seen = {k: html.unescape(v) for k, v in shown.items()}
    client.post(url, data={"csrf": token, "action": "save", "value": seen["seen_value"] or "", **seen})
    assert Store(db).value(value_id)["reviewed_by"] == "ann"


def test_a_value_two_images_read_otherwise_links_the_other_image(scanned, tmp_path):
    from formkit.records import FieldValue, InputFile, PageResult, PageState

    db, serial = scanned
    store = Store(db)
    first = next(p for p in store.pages() if p["status"] == "read")
    info = InputFile("second.jpg", "9" * 64, 1, 1)
    input_id, _ = store.add_input(info)
    values = [FieldValue(r["field"], "choice", "" if r["field"] == "k10_06" else r["value"], 0.99,
                         r["field"] == "k10_01")  # a flag of the second image's own: never reviewed
              for r in store.values() if r["page_id"] == first["id"]]
    assert store.save_page(input_id, 0, PageResult("second.jpg", 1, info.sha256, PageState.READ, "", "k10", 1, "", 1,
                                                   serial, values=values)) is PageState.CONFLICT
    [waiting] = [p for p in decisions.queue(store) if p.field == "k10_06"]
    assert waiting.reason.endswith("another image of this page reads (blank) in second.jpg page 1")
    # the done page's counts agree with the queue's: a conflict's own flags are never reviewed
    assert sum(batch["flagged"] for batch in decisions.batch_summary(store)) == decisions.progress(store)[1]
    store.close()
    client = app_for(db).test_client()
    with client.session_transaction() as s:
        s["reviewer"] = "ann"
    page = client.get(f"/value/{waiting.value_id}").get_data(as_text=True)
    other = next(p["id"] for p in Store(db).pages() if p["status"] == "conflict")
    assert f'href="/pages/{other}">second.jpg, page 1</a>' in page


@both_backends
def test_images_are_served_by_id_only_and_a_token_guards_other_addresses(scanned):
    db, _ = scanned
    client = app_for(db).test_client()
    with client.session_transaction() as s:
        s["reviewer"] = "ann"
    assert client.get("/crop/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/page/1.jpg").status_code == 200
    guarded = app_for(db, access_token="s3cret").test_client()
    refused = guarded.get("/")
    assert refused.status_code == 403
    assert "the address &#39;formkit review&#39; printed" in refused.get_data(as_text=True)
    assert guarded.get("/?token=wrong").status_code == 403
    assert guarded.get("/?token=s3cret").status_code == 302  # on to the name form


def test_a_page_opened_before_the_review_server_restarted_still_saves(scanned):
    """Each start of 'formkit review' drew its own session key, so a value typed on a page opened before a
    restart was refused and lost: the store keeps the key now. An access token still holds only while it is
    the server's: a session opened with the old one must show the new one."""
    db, _ = scanned
    served = app_for(db)
    cookie = served.config["SESSION_COOKIE_NAME"]  # the store's own: the same after a restart
    before = served.test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', before.get("/who").get_data(as_text=True)).group(1)
    before.post("/who", data={"reviewer": "ann", "csrf": token})
    url = before.get("/").headers["Location"]
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', before.get(url).get_data(as_text=True)))
    after = app_for(db).test_client()  # the server started again over the same store
    after.set_cookie(cookie, before.get_cookie(cookie).value)
    saved = after.post(url, data={"csrf": token, "action": "save", "value": "4", **shown})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    row = Store(db).value(int(url.rsplit("/", 1)[1]))
    assert (row["value"], row["reviewed_by"]) == ("4", "ann")

    first = app_for(db, access_token="one").test_client()
    assert first.get("/?token=one").status_code == 302
    second = app_for(db, access_token="two").test_client()
    second.set_cookie(cookie, first.get_cookie(cookie).value)
    assert second.get("/").status_code == 403
    assert second.get("/?token=two").status_code == 302
    assert app_for(db, access_token="one").test_client().get("/").status_code == 403  # no session, no entry


def test_a_crop_is_served_as_the_image_it_is_jpeg_now_png_in_older_stores(scanned):
    db, _ = scanned
    item = decisions.queue(Store(db))[0]
    client = app_for(db).test_client()
    with client.session_transaction() as s:
        s["reviewer"] = "ann"
    served = client.get(f"/crop/{item.value_id}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    crop = cv2.imdecode(np.frombuffer(served.get_data(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop is not None and min(crop.shape) > 20
    old = cv2.imencode(".png", crop)[1].tobytes()  # as scans before 2026-12 stored crops
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE field_values SET crop=? WHERE id=?", (old, item.value_id))
    served = client.get(f"/crop/{item.value_id}.jpg")
    assert served.mimetype == "image/png" and served.get_data() == old


def test_a_reviewer_works_through_the_queue_with_the_keyboard_in_chromium(scanned, tmp_path):
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    db, serial = scanned
    server = make_server("127.0.0.1", 0, app_for(db), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    flagged = {p.field for p in decisions.queue(Store(db))}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            wait_for_focus(page, "reviewer")
            page.keyboard.type("Ann Reviewer")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.screenshot(path=str(tmp_path / "review.png"))
            # a wrong answer first, then undo it with the keyboard
            first_field = page.locator("h1").inner_text().split()[0]
            page.fill("#value", "1")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            with page.expect_navigation():
                page.keyboard.press("Alt+z")
            assert "Undone" in page.locator(".message").inner_text()
            reviewed = []
            for _ in range(len(flagged) + 1):
                if page.locator("#all-done").count():
                    break
                field_id = page.locator("h1").inner_text().split()[0]
                page.fill("#value", MARKS[field_id][1])
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                reviewed.append(field_id)
            assert page.locator("#all-done").count() == 1
            browser.close()
    finally:
        server.shutdown()
    assert first_field in reviewed and set(reviewed) == flagged
    store = Store(db)
    export(store.values(), tmp_path / "out")
    wide = next(csv.DictReader((tmp_path / "out" / "k10.csv").open(encoding="utf-8")))
    assert wide["serial"] == format_serial(serial) and wide["needs_review"] == "0"
    assert all(wide[f] == MARKS[f][1] for f in MARKS)
    assert wide["k10_total_status"] == "complete" and wide["reviewed"] == str(len(flagged))
    actors = {r["actor"] for r in store.audit_rows()}
    audit = [r for r in store.audit_rows() if r["actor"] == "Ann Reviewer"]
    assert audit, f"no decision logged under the typed name; actors: {actors}"
    assert [r["action"] for r in audit[:2]] == ["review:corrected", "undo"]
    assert {r["field"] for r in audit[2:]} == flagged and all(r["at"] for r in audit)
    if screenshot := __import__("os").environ.get("FORMKIT_SCREENSHOT"):
        Path(screenshot).write_bytes((tmp_path / "review.png").read_bytes())


def test_an_unidentified_page_can_be_assigned_by_hand_and_is_read(tmp_path):
    layout = build_layout(resolve_template("k10"))
    rows = generate(layout, make_copies(1, None, 31), tmp_path / "k10.pdf")
    image = render_pdf(tmp_path / "k10.pdf", DPI)[0]
    page = layout.pages[0]
    field = next(f for f in page.fields if f.id == "k10_01")
    draw_mark(image, DPI, next(o.box for o in field.options if o.value == 4), "cross", random.Random(1))
    stain_qr(image, page, DPI)  # coffee over the QR code and the code printed under it
    folder = tmp_path / "batch"
    folder.mkdir()
    cv2.imwrite(str(folder / "stained.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    db = tmp_path / "s.sqlite"
    store = Store(db)
    scan([folder], store, jobs=1)
    [unread] = decisions.unread_pages(store)
    assert unread["status"] == "unidentified"
    client = app_for(db).test_client()
    with client.session_transaction() as s:
        s["reviewer"], s["csrf"] = "ann", "t"
    assert "stained.png" in client.get("/pages").get_data(as_text=True)
    form = {"csrf": "t", "form": "k10:1", "page": "1", "serial": "AAAA-AAAA"}
    bad = client.post(f"/assign/{unread['id']}", data=form, follow_redirects=True)
    assert "not a valid serial" in bad.get_data(as_text=True)
    serial = str(rows[0]["serial"])
    client.post(f"/assign/{unread['id']}", data={"csrf": "t", "form": "k10:1", "page": "1", "serial": serial})
    [row] = [r for r in store.pages() if r["id"] == unread["id"]]
    assert (row["status"], row["form"], row["serial"]) == ("read", "k10", serial)
    value = next(v for v in store.values() if v["field"] == "k10_01")
    assert value["value"] == "4"
    assert any(r["action"] == "assign-page" and r["actor"] == "ann" for r in store.audit_rows())


def test_a_store_written_before_review_existed_is_upgraded_when_opened(scanned):
    db, _ = scanned
    old = sqlite3.connect(db)  # the store as formkit 0.1 left it: schema 1, no review columns, no claims
    for column in ("machine_value", "review", "reviewed_by", "reviewed_at"):
        old.execute(f"ALTER TABLE field_values DROP COLUMN {column}")
    old.execute("DROP TABLE claims")
    old.execute("DROP TRIGGER audit_no_replace")
    old.execute("UPDATE meta SET value='1' WHERE key='schema'")
    old.commit()
    old.close()
    store = Store(db)
    item = decisions.queue(store, limit=1)[0]
    assert decisions.decide(store, item.value_id, "blank", "", "ann", item.value) == ""
    store.close()
    upgraded = sqlite3.connect(db)
    assert upgraded.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == str(SCHEMA_VERSION)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # the guard added by the upgrade
        upgraded.execute("INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, 'now', 'x', 'forged')")


def _signed_in(db: Path | str):
    client = app_for(db).test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/who").get_data(as_text=True)).group(1)
    client.post("/who", data={"reviewer": "ann", "csrf": token})
    return client, token


def _decide_head(client, token: str, value: str) -> int:
    """Decide the value at the head of ann's queue as ``value``; its id."""
    url = client.get("/").headers["Location"]
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', client.get(url).get_data(as_text=True)))
    client.post(url, data={"csrf": token, "action": "save", "value": value, **shown})
    return int(url.rsplit("/", 1)[1])


def test_undo_passes_over_a_decision_on_a_page_voided_since(scanned):
    """Undo took back a decision on a page voided after it: nothing changed that the reviewer could see (the
    page is in no queue or export), and the decision they meant to take back was left. Once the page is
    restored, its decision can be undone again."""
    db, _ = scanned
    store = Store(db)
    item = decisions.queue(store)[0]
    assert decisions.decide(store, item.value_id, "corrected", "4", "ann", item.value) == ""
    store.void_pages([item.page_id], "photographed twice", "ann")
    assert decisions.undo(store, "ann").field == ""
    assert store.value(item.value_id)["value"] == "4"
    store.restore_pages([item.page_id], "ann")
    assert decisions.undo(store, "ann").field == item.field
    assert store.value(item.value_id)["review"] == ""


def test_undo_shows_the_value_it_took_back_and_a_second_enter_is_not_called_unsaved(scanned):
    """After an undo the page opened the head of the queue, which may be another form's field of the same name;
    a second press of Enter said "Not saved: it was reviewed meanwhile by ann", of ann's own decision."""
    db, _ = scanned
    client, token = _signed_in(db)
    first = _decide_head(client, token, "4")
    url = f"/value/{first}"
    again = client.post(url, data={"csrf": token, "action": "save", "value": "4"}, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "Saved already: you decided" in text and "Not saved" not in text
    second = _decide_head(client, token, "3")
    undone = client.post("/undo", data={"csrf": token})
    assert undone.headers["Location"].endswith(f"/value/{second}")
    page = client.get(undone.headers["Location"]).get_data(as_text=True)
    assert "Undone: your last decision on" in page and "here it is again" in page
    assert Store(db).value(first)["review"] and not Store(db).value(second)["review"]


def test_the_last_decision_of_a_session_can_be_undone(scanned):
    """The summary shown once nothing waits had no undo button, and Alt+Z there raised a script error."""
    db, _ = scanned
    client, token = _signed_in(db)
    while client.get("/").status_code == 302:
        _decide_head(client, token, "1")
    done = client.get("/").get_data(as_text=True)
    assert 'id="all-done"' in done or 'id="values-done"' in done
    assert 'id="undo-form"' in done
    assert client.post("/undo", data={"csrf": token}).headers["Location"].startswith("/value/")


def test_a_held_alt_z_undoes_one_decision_and_shortcuts_go_by_the_keys_place(scanned):
    """Holding Alt+Z posted an undo on every repeat: decisions taken back that the page never showed. On a Mac
    Option+B types "∫", so matching the key's letter left the shortcuts dead there."""
    db, _ = scanned
    with signed_in_browser(app_for(db)) as page:
        for answer in ("1", "2"):
            page.fill("#value", answer)
            with page.expect_navigation():
                page.keyboard.press("Enter")
        page.keyboard.down("Alt")
        with page.expect_navigation():
            for _ in range(4):  # the first press, then the key's repeats
                page.keyboard.down("z")
        page.keyboard.up("z")
        page.keyboard.up("Alt")
        page.wait_for_load_state()
        assert "Undone" in page.locator(".message").inner_text()
        # Option+B on a Mac: the key in B's place, typing another letter
        with page.expect_navigation():
            page.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', "
                          "{key: '∫', code: 'KeyB', altKey: true, bubbles: true}))")
    actions = [r["action"] for r in Store(db).audit_rows() if r["actor"] == "Ann"]
    assert actions == ["review:corrected", "review:corrected", "undo", "review:blank"]


def test_a_reviewer_name_of_invisible_characters_is_refused(scanned):
    """A zero-width space passed for a name, an invisible actor in the audit log; a right-to-left override
    turned the log's lines around."""
    db, _ = scanned
    client = app_for(db).test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/who").get_data(as_text=True)).group(1)
    refused = client.post("/who", data={"reviewer": "\u200b\u200b", "csrf": token})
    assert refused.status_code == 200 and "Please type your name" in refused.get_data(as_text=True)
    client.post("/who", data={"reviewer": "A\u202eB", "csrf": token})
    with client.session_transaction() as s:
        assert s["reviewer"] == "AB"


def test_a_link_to_a_value_that_does_not_wait_says_why_truly(scanned):
    """A value never flagged was "does not wait for review: it no longer waits for review: its page was read
    again meanwhile", and an id that never was, "its page was read again meanwhile (assigned...)"."""
    db, _ = scanned
    client, _ = _signed_in(db)
    sure = next(r["value_id"] for r in Store(db).values() if not r["needs_review"])
    text = client.get(f"/value/{sure}", follow_redirects=True).get_data(as_text=True)
    assert "That value does not wait for review: it is not flagged (read surely, or read again since)." in text
    text = client.get("/value/99999", follow_redirects=True).get_data(as_text=True)
    assert "there is no such value now" in text


def test_a_page_whose_file_could_not_be_read_offers_no_assignment(tmp_path):
    """A corrupt file's rejected page showed a broken image and a form to say which form page it is, which
    could only fail ("neither the source file nor a stored image... is available")."""
    from formkit.records import InputFile, PageResult, PageState

    db = tmp_path / "s.sqlite"
    store = Store(db)
    info = InputFile("corrupt.jpg", "c" * 64, 10, 1)
    input_id, _ = store.add_input(info)
    store.save_page(input_id, 0, PageResult("corrupt.jpg", 1, info.sha256, PageState.REJECTED,
                                            "not a readable image"))
    page_id = store.pages()[0]["id"]
    store.close()
    client, _ = _signed_in(db)
    text = client.get(f"/pages/{page_id}").get_data(as_text=True)
    assert 'id="no-image"' in text and "<select" not in text and "/page/" not in text


def test_a_handwritten_answer_over_several_lines_can_be_accepted_or_corrected_and_its_crop_is_never_kept(tmp_path):
    """A browser posts the line breaks of the value shown as CR LF: the store's LF no longer matched ('the value
    changed since it was shown') and the answer could never be saved; a one-line input also glued its lines.
    Crops were kept by the browser for an hour under an id SQLite may give another value after an assignment."""
    from formkit.records import FieldValue, InputFile, PageResult, PageState

    db = tmp_path / "s.sqlite"
    store = Store(db)
    input_id, _ = store.add_input(InputFile("a.jpg", "a" * 64, 1, 1))
    guess = "I want to\nsee my sister"
    store.save_page(input_id, 0, PageResult("a.jpg", 1, "a" * 64, PageState.READ, form="alliance-check", version=1,
                                            variant="N", form_page=1, serial="K7M3QX9C", values=[
        FieldValue("comments", "text", guess, 0.5, True, "handwriting: check it", {}, b"\xff\xd8crop")]))
    store.close()
    client, token = _signed_in(db)
    url = client.get("/").headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert '<textarea id="value" name="value"' in page and f">{guess}</textarea>" in page
    shown = dict(re.findall(r'name="(seen_\w+)" value="([^"]*)"', page))
    posted = {"csrf": token, "action": "save", **{k: v.replace("\n", "\r\n") for k, v in shown.items()}}
    answer = client.post(url, data={**posted, "value": "I want to\r\nsee my sisters"}, follow_redirects=True)
    assert "Not saved" not in answer.get_data(as_text=True)
    row = Store(db).value(int(url.rsplit("/", 1)[1]))
    assert (row["value"], row["review"], row["machine_value"]) == ("I want to\nsee my sisters", "corrected", guess)
    crop = client.get(f"/crop/{row['id']}.jpg")
    assert crop.headers["Cache-Control"] == "no-store"
