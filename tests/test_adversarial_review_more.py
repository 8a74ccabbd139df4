"""An adversarial pass over the review page and its workflow: each test is a way a reviewer could decide a value
they did not see, or have a decision stored otherwise than they meant. Stores are made up with the store's own
API (no image is read), so each test takes well under a second."""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path

from PIL import Image, ImageDraw

from formkit.catalogue import shipped_catalogue
from formkit.layout.model import Box, ChoiceBox, ChoiceField, field_box
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.review.app import create_app
from formkit.review.inputs import hint, parse
from formkit.store import Store
from tests.test_review_workflows import reviewer

SERIAL = "9R6E7NME"
PAGE_FILE = InputFile("monday/k10.jpg", hashlib.sha256(b"k10").hexdigest(), 1000, 1)


def k10_page_image(mark_on: str) -> bytes:
    """A K10 page 1 as the store keeps it (flat, upright, 4 px/mm), white but for a black block on ``mark_on``'s
    boxes."""
    page = shipped_catalogue().find_layout("k10", 1, "N").page(1)
    scale = 4
    image = Image.new("L", (round(page.width_mm * scale), round(page.height_mm * scale)), 255)
    box = field_box(next(f for f in page.fields if f.id == mark_on))
    ImageDraw.Draw(image).rectangle((box.x_mm * scale, box.y_mm * scale, (box.x_mm + box.w_mm) * scale,
                                     (box.y_mm + box.h_mm) * scale), fill=0)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def store_with_uncropped_value(db: Path, page_image: bytes | None) -> int:
    """A K10 page whose k10_03 waits for review with no crop kept (as a value the store flags after the scan);
    the value's id."""
    store = Store(db)
    input_id, _ = store.add_input(PAGE_FILE)
    values = [FieldValue("k10_03", "choice", "2", 0.95, True, "another reading disagrees", {}, None)]
    store.save_page(input_id, 0, PageResult(PAGE_FILE.path, 1, PAGE_FILE.sha256, PageState.READ, "", "k10", 1, "N", 1,
                                            SERIAL, [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], 0.2, {"markers": 4},
                                            page_image, values))
    value_id = int(store.db.execute("SELECT id FROM field_values WHERE field='k10_03'").fetchone()[0])
    store.close()
    return value_id


def test_a_value_flagged_without_a_crop_shows_its_field_cut_out_of_the_page_image(tmp_path):
    """A value flagged by the store after the scan (another image of its page reads it otherwise, the fill
    convention decided from the form's other pages) has no crop: the page showed a broken image beside 'Machine
    read: 2', and the reviewer could accept it without seeing the field."""
    value_id = store_with_uncropped_value(tmp_path / "s.sqlite", k10_page_image("k10_03"))
    client, _ = reviewer(tmp_path / "s.sqlite")
    page = client.get(f"/value/{value_id}").get_data(as_text=True)
    assert 'id="crop"' in page and 'id="no-image"' not in page
    served = client.get(f"/crop/{value_id}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.get_data())) as crop:
        pixels = crop.convert("L").tobytes()
    assert min(crop.size) > 10
    assert sum(p < 100 for p in pixels) > len(pixels) / 3  # the field's ink, not white page


def test_a_value_with_no_image_at_all_says_so_instead_of_a_broken_image(tmp_path):
    value_id = store_with_uncropped_value(tmp_path / "s.sqlite", None)
    client, _ = reviewer(tmp_path / "s.sqlite")
    page = client.get(f"/value/{value_id}").get_data(as_text=True)
    assert 'id="no-image"' in page and 'id="crop"' not in page
    assert client.get(f"/crop/{value_id}.jpg").status_code == 404


def store_with_handwriting(db: Path, guess: str) -> int:
    """A page whose handwritten comment the machine read as ``guess``, waiting for review; the value's id."""
    store = Store(db)
    input_id, _ = store.add_input(PAGE_FILE)
    store.save_page(input_id, 0, PageResult(PAGE_FILE.path, 1, PAGE_FILE.sha256, PageState.READ, form="alliance-check",
                                            version=1, variant="N", form_page=1, serial="K7M3QX9C", values=[
        FieldValue("comments", "text", guess, 0.5, True, "handwriting: check it", {}, b"\xff\xd8crop")]))
    value_id = int(store.db.execute("SELECT id FROM field_values WHERE field='comments'").fetchone()[0])
    store.close()
    return value_id


def shown_fields(client, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    return {k: html.unescape(v) for k, v in re.findall(r'name="(seen_\w+)" value="([^"]*)"', page)}


def test_a_correction_typed_in_decomposed_unicode_is_stored_composed_as_the_machine_reads(tmp_path):
    """'Zoë' typed or pasted as e + a combining diaeresis (a Mac file name, some keyboards) looks the same as the
    machine's 'Zoë', yet was stored as other characters: 'corrected', and unequal to 'Zoë' in every export."""
    value_id = store_with_handwriting(tmp_path / "s.sqlite", "Zo\u00eb")
    client, token = reviewer(tmp_path / "s.sqlite")
    url = f"/value/{value_id}"
    client.post(url, data={"csrf": token, "action": "save", "value": "Zoe\u0308", **shown_fields(client, url)})
    row = Store(tmp_path / "s.sqlite").value(value_id)
    assert (row["value"], row["review"]) == ("Zo\u00eb", "accepted")


def messages(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="message" role="alert">([^<]*)</p>',
                                                 response.get_data(as_text=True))]


def test_another_answer_posted_onto_a_value_already_decided_is_not_saved_not_saved_already(tmp_path):
    """Back to a value just decided (or a second tab on it), another answer typed and Enter: the page said
    "Saved already: you decided k10_03 as '4'" of a '5' that was not saved, and the reviewer went on."""
    value_id = store_with_uncropped_value(tmp_path / "s.sqlite", k10_page_image("k10_03"))
    client, token = reviewer(tmp_path / "s.sqlite")
    url = f"/value/{value_id}"
    shown = shown_fields(client, url)
    client.post(url, data={"csrf": token, "action": "save", "value": "4", **shown})
    other = client.post(url, data={"csrf": token, "action": "save", "value": "5", **shown}, follow_redirects=True)
    assert messages(other)[0].startswith("Not saved: you had decided k10_03 as '4' (corrected).")
    assert "press Undo" in messages(other)[0]
    assert Store(tmp_path / "s.sqlite").value(value_id)["value"] == "4"
    again = client.post(url, data={"csrf": token, "action": "save", "value": " 4 ", **shown}, follow_redirects=True)
    assert messages(again)[0] == "Saved already: you decided k10_03 as '4' (corrected)."
    illegible = client.post(url, data={"csrf": token, "action": "illegible", **shown}, follow_redirects=True)
    assert messages(illegible)[0].startswith("Not saved: you had decided k10_03 as '4'")


def test_two_review_servers_on_one_computer_keep_their_own_sessions(tmp_path):
    """A browser sends 127.0.0.1's cookies to every port: a second 'formkit review' (another store, another
    port) set its "session" cookie over the first's, whose next Enter found the reviewer signed out (and with a
    token, refused the page): the value typed there was lost, at each switch between the two tabs."""
    store_with_uncropped_value(tmp_path / "a.sqlite", None)
    store_with_uncropped_value(tmp_path / "b.sqlite", None)
    first, second = (create_app(tmp_path / name, shipped_catalogue(), lambda source, chosen: None)
                     for name in ("a.sqlite", "b.sqlite"))
    browser_a, browser_b = first.test_client(), second.test_client()  # one browser: its cookies copied across
    token = re.search(r'name="csrf" value="([^"]+)"', browser_a.get("/who").get_data(as_text=True)).group(1)
    browser_a.post("/who", data={"reviewer": "ann", "csrf": token})
    name = first.config["SESSION_COOKIE_NAME"]
    browser_b.set_cookie(name, browser_a.get_cookie(name).value)
    token = re.search(r'name="csrf" value="([^"]+)"', browser_b.get("/who").get_data(as_text=True)).group(1)
    browser_b.post("/who", data={"reviewer": "ann", "csrf": token})
    name = second.config["SESSION_COOKIE_NAME"]
    browser_a.set_cookie(name, browser_b.get_cookie(name).value)
    assert "/value/" in browser_a.get("/").headers["Location"]


def test_a_choice_whose_option_value_holds_a_space_can_be_typed():
    """A template may give a box a text value with a space ("not sure": only ';' is refused); the review page split
    what was typed at spaces, so that answer could never be recorded: 'one answer only', or 'not one of'."""
    box = Box(0.0, 0.0, 1.0, 1.0)
    options = tuple(ChoiceBox(v, v, box) for v in ("yes", "no", "not sure"))
    one, several = ChoiceField("sure", False, options), ChoiceField("which", True, options)
    assert parse(one, " not sure ") == ("not sure", "")
    assert parse(several, "not sure") == ("not sure", "")
    assert parse(several, "not sure; yes") == ("yes;not sure", "")
    assert parse(several, "yes no") == ("yes;no", "")
    assert parse(one, "yes no")[1] == "one answer only"
    assert "separated by ';'" in hint(several).help


def test_letters_typed_with_altgr_or_a_macs_option_into_written_text_are_no_shortcuts(tmp_path):
    """Polish 'ż' is AltGr+Z (Alt with Ctrl, on Windows) and a Mac's Option+I starts 'î': typed into a handwritten
    answer they were taken for Alt+Z and Alt+I, took back the reviewer's last decision or saved the answer as
    illegible, mid-word. Driven in Debian's Chromium, keys as the browser reports them."""
    from tests.test_review import signed_in_browser, wait_for_focus

    db = tmp_path / "s.sqlite"
    first = store_with_uncropped_value(db, k10_page_image("k10_03"))
    store = Store(db)
    other = InputFile("monday/comments.jpg", hashlib.sha256(b"comments").hexdigest(), 1000, 1)
    input_id, _ = store.add_input(other)
    store.save_page(input_id, 0, PageResult(other.path, 1, other.sha256, PageState.READ, form="alliance-check",
                                            version=1, variant="N", form_page=1, serial="K7M3QX9C", values=[
        FieldValue("comments", "text", "Zo", 0.5, True, "handwriting: check it", {}, b"\xff\xd8crop")]))
    store.close()
    with signed_in_browser(create_app(db, shipped_catalogue(), lambda source, chosen: None)) as page:
        page.fill("#value", "4")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        wait_for_focus(page, "value")
        assert page.locator("textarea#value").count() == 1
        page.keyboard.press("End")  # after the machine's "Zo", selected as the page opens
        for key, code, more in (("ż", "KeyZ", {"ctrlKey": True}), ("Dead", "KeyI", {}),
                                ("ż", "KeyZ", {"modifierAltGraph": True})):
            page.dispatch_event("#value", "keydown", {"key": key, "code": code, "altKey": True, **more})
        page.keyboard.insert_text("fia Łężîk")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    store = Store(db)
    assert (store.value(first)["value"], store.value(first)["reviewed_by"]) == ("4", "Ann")  # not taken back
    row = store.db.execute("SELECT value, review FROM field_values WHERE field='comments'").fetchone()
    assert (row["value"], row["review"]) == ("Zofia Łężîk", "corrected")


def test_a_value_whose_template_is_gone_is_still_stored_as_its_kind(tmp_path):
    """A page read as a form version no longer installed: its layout gone, every answer was taken as free text,
    so a date corrected as '14/05/2026' was stored so (not 2026-05-14) and a choice took any word."""
    db = tmp_path / "s.sqlite"
    store = Store(db)
    input_id, _ = store.add_input(PAGE_FILE)
    store.save_page(input_id, 0, PageResult(PAGE_FILE.path, 1, PAGE_FILE.sha256, PageState.READ, "", "k10", 99, "N", 1,
                                            SERIAL, values=[
        FieldValue("date_completed", "date", "2026-03-02", 0.4, True, "digit(s) in box 4 unclear", {}, b"\xff\xd8"),
        FieldValue("k10_03", "choice", "2", 0.4, True, "a faint mark", {}, b"\xff\xd8"),
        FieldValue("k10_04", "choice", "3", 0.4, True, "a faint mark", {}, b"\xff\xd8")]))
    ids = {r["field"]: r["id"] for r in store.db.execute("SELECT id, field FROM field_values")}
    store.close()
    client, token = reviewer(db)
    answers = {"date_completed": "14/05/2026", "k10_03": "almost", "k10_04": "3"}
    said = {}
    for name, typed in answers.items():
        url = f"/value/{ids[name]}"
        shown = shown_fields(client, url)
        said[name] = messages(client.post(url, data={"csrf": token, "action": "save", "value": typed, **shown},
                                          follow_redirects=True))
    store = Store(db)
    assert (store.value(ids["date_completed"])["value"], store.value(ids["date_completed"])["review"]) == (
        "2026-05-14", "corrected")
    assert store.value(ids["k10_03"])["review"] == "" and "template is not installed" in said["k10_03"][0]
    assert (store.value(ids["k10_04"])["value"], store.value(ids["k10_04"])["review"]) == ("3", "accepted")


def test_a_reviewer_name_typed_decomposed_is_the_same_reviewer(tmp_path):
    """'José' typed with a combining accent on one computer and composed on another were two reviewers: undo on
    the second found nothing of theirs to take back, and claims warned José of himself."""
    value_id = store_with_uncropped_value(tmp_path / "s.sqlite", k10_page_image("k10_03"))
    first, token = reviewer(tmp_path / "s.sqlite", "Jose\u0301")
    url = f"/value/{value_id}"
    first.post(url, data={"csrf": token, "action": "save", "value": "4", **shown_fields(first, url)})
    second, token = reviewer(tmp_path / "s.sqlite", "Jos\u00e9")
    undone = second.post("/undo", data={"csrf": token}, follow_redirects=True)
    assert messages(undone)[0].startswith("Undone: your last decision on k10_03")
    assert Store(tmp_path / "s.sqlite").value(value_id)["review"] == ""


def test_enter_pressed_twice_on_a_value_whose_template_is_gone_says_saved_already(tmp_path):
    """The reading accepted, then the same post again (Enter twice): "Not saved: you had decided ... To change it,
    press Undo", of the very decision saved (a second read, 2026-12-07)."""
    from tests.test_review_workflows import reviewer

    db = tmp_path / "s.sqlite"
    store = Store(db)
    input_id, _ = store.add_input(PAGE_FILE)
    store.save_page(input_id, 0, PageResult(PAGE_FILE.path, 1, PAGE_FILE.sha256, PageState.READ, "", "k10", 99, "N", 1,
                                            SERIAL, values=[
        FieldValue("k10_04", "choice", "3", 0.4, True, "a faint mark", {}, b"\xff\xd8")]))
    value_id = int(store.db.execute("SELECT id FROM field_values").fetchone()[0])
    store.close()
    client, token = reviewer(db)
    url = f"/value/{value_id}"
    shown = shown_fields(client, url)
    for _ in range(2):
        said = messages(client.post(url, data={"csrf": token, "action": "save", "value": "3", **shown},
                                    follow_redirects=True))
    assert said and not said[0].startswith("Not saved"), said
    assert Store(db).value(value_id)["value"] == "3"
