"""Pages cut from one image (an uncut A4 sheet of four cards) read again and assigned by hand: each keeps its
outline in the image, is read again on its own and saved to its own row (``formkit scan --reread``), and
can be assigned, read again and assigned again (``formkit assign``)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import cv2
import pytest

from formkit.catalogue import Catalogue
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.qrpayload import PagePayload
from formkit.records import InputFile, PageResult, PageState
from formkit.review import queue as decisions
from formkit.store import Store
from formkit.template import load_template
from scanner.batch import scan
from scanner.pipeline import read_image
from scanner.reread import read_checked, reread
from tests.conftest import both_backends
from tests.synthetic import render_pdf

pytestmark = pytest.mark.xdist_group("regions-again")

DPI = 200
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> tuple[Path, Catalogue, list[str], Path]:
    """A custom form ('mycard', the goal card renamed): its template folder's catalogue, the front of an
    uncut A4 sheet of four of them as a 200 dpi PNG, the serials on it, and a store of that image scanned
    without the template (every card rejected: 'not an installed template')."""
    tmp = tmp_path_factory.mktemp("regions")
    (tmp / "mytpl").mkdir()
    text = (ROOT / "templates" / "goal-card.yaml").read_text(encoding="utf-8")
    (tmp / "mytpl" / "mycard.yaml").write_text(text.replace("form: goal-card", "form: mycard", 1), encoding="utf-8")
    catalogue = Catalogue([tmp / "mytpl"])
    layout = build_layout(load_template(tmp / "mytpl" / "mycard.yaml"))
    rows = generate(layout, make_copies(4, None, 31), tmp / "cards.pdf", sheet="A4")
    serials = sorted(str(r["serial"]) for r in rows if int(r["pdf_page"]) == 1)
    assert len(serials) == 4
    (tmp / "inbox").mkdir()
    front = render_pdf(tmp / "cards.pdf", DPI)[0]
    cv2.imwrite(str(tmp / "inbox" / "sheet.png"), cv2.cvtColor(front, cv2.COLOR_RGB2BGR))
    db = tmp / "rejected.sqlite"
    store = Store(db)
    scan([tmp / "inbox"], store, jobs=1)
    store.close()
    return tmp / "inbox", catalogue, serials, db


def pages(store: Store) -> list[tuple[int, str, str, dict]]:
    """(region, state, serial, quality) of every page, by region."""
    return sorted((int(r["region"]), r["status"], r["serial"], json.loads(r["quality"])) for r in store.pages())


def test_cards_rejected_for_a_template_they_lacked_each_keep_their_outline_and_are_each_read_again(sheet, tmp_path):
    _, catalogue, serials, db = sheet
    shutil.copy(db, tmp_path / "s.sqlite")
    store = Store(tmp_path / "s.sqlite")
    before = pages(store)
    assert [(region, state) for region, state, _, _ in before] == [(p, "rejected") for p in range(4)]
    assert sorted(serial for _, _, serial, _ in before) == serials
    for _, _, _, quality in before:  # each rejected card can be found again in the image on its own
        assert quality["region_of"] == 4 and len(quality["region_px"]) == 4
    assert len({json.dumps(quality["region_px"]) for _, _, _, quality in before}) == 4
    assert all(store.page_image(int(r["id"])) for r in store.pages())  # its own image, for the review page

    summary = reread(store, catalogue, jobs=1)
    assert (summary.identified, summary.skipped, dict(summary.failed)) == ({"read": 4}, 0, {})
    after = pages(store)
    # each card read into its own row, as the card that row was: not the first card four times
    assert [(region, state, serial) for region, state, serial, _ in after] == \
        [(region, "read", serial) for region, _, serial, _ in before]
    for (_, _, _, old), (_, _, _, new) in zip(before, after, strict=True):
        assert new["region_of"] == 4 and new["region_px"] == old["region_px"]
    # read again, each is read within its own outline again
    summary = reread(store, catalogue, jobs=1)
    assert (summary.pages, dict(summary.failed)) == (4, {})
    store.close()


def test_cards_from_a_store_that_kept_no_outline_are_found_by_their_qr_and_saved_to_their_own_rows(sheet, tmp_path):
    _, catalogue, serials, db = sheet
    shutil.copy(db, tmp_path / "old.sqlite")
    old = sqlite3.connect(tmp_path / "old.sqlite")  # as an older scanner stored them: how many, not where
    old.execute("UPDATE pages SET quality='{\"region_of\": 4}'")
    old.execute("UPDATE pages SET serial='' WHERE region=2")  # and one whose QR the store does not say
    old.commit()
    old.close()
    store = Store(tmp_path / "old.sqlite")
    before = pages(store)

    summary = reread(store, catalogue, jobs=1)
    assert (summary.identified, summary.skipped) == ({"read": 3}, 0)
    [(reason, count)] = summary.failed.items()
    assert count == 1 and reason.startswith("page 3 of 4 in the image") and "no outline" in reason
    after = pages(store)
    assert [(region, state, serial) for region, state, serial, _ in after] == \
        [(region, "rejected" if region == 2 else "read", serial) for region, _, serial, _ in before]
    assert all(len(quality["region_px"]) == 4 for region, _, _, quality in after if region != 2)
    store.close()


def test_a_card_assigned_by_hand_keeps_its_outline_so_it_is_read_again_and_assigned_again(sheet, tmp_path):
    inbox, catalogue, serials, _ = sheet
    image = cv2.imread(str(inbox / "sheet.png"))
    first = read_image(image.min(axis=2), PageResult("sheet.png", 1, "sha", PageState.REJECTED), catalogue)[0]
    serial = first.serial
    assert serial in serials
    # the first card's QR code and printed code wiped off: nobody can tell which card it is but a person
    qr, px = catalogue.find_layout("mycard", 1, "N").page(1).qr, DPI / 25.4
    (x0, y0), _, _, _ = first.quality["region_px"]
    image[int(y0 + (qr.y_mm - 2) * px):int(y0 + (qr.y_mm + qr.size_mm + 8) * px),
          int(x0 + (qr.x_mm - 2) * px):int(x0 + (qr.x_mm + qr.size_mm + 2) * px)] = 255
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "wiped.png"), image)
    store = Store(tmp_path / "s.sqlite")
    scan([tmp_path / "in"], store, jobs=1, catalogue=catalogue)
    [unknown] = [r for r in store.pages() if r["status"] == PageState.UNIDENTIFIED]
    assert sorted(r["status"] for r in store.pages()) == ["read"] * 3 + ["unidentified"]
    outline = {k: v for k, v in json.loads(unknown["quality"]).items() if k in ("region_of", "region_px")}
    assert outline["region_of"] == 4 and len(outline["region_px"]) == 4
    layout = catalogue.find_layout("mycard", 1, "N")
    payload = PagePayload("mycard", 1, 1, "N", serial, layout.page(1).fingerprint)

    def read_as(source, chosen):
        return read_checked(source, chosen, catalogue)

    assert decisions.assign(store, int(unknown["id"]), payload, "ann", read_as).problem == ""
    quality = json.loads(store.page(int(unknown["id"]))["quality"])
    assert {k: quality.get(k) for k in outline} == outline and quality["markers"] >= 2
    for _ in range(2):  # read again twice: a reading again keeps the outline as well
        summary = reread(store, catalogue, jobs=1)
        assert (summary.pages, dict(summary.failed)) == (4, {})
        for row in store.pages():
            assert len(json.loads(row["quality"])["region_px"]) == 4
    assert decisions.assign(store, int(unknown["id"]), payload, "ann", read_as).problem == ""
    again = store.page(int(unknown["id"]))
    assert (again["status"], again["serial"]) == (PageState.READ, serial)
    store.close()


@both_backends
def test_replacing_a_page_cut_from_an_image_keeps_its_outline_there(new_store):
    store = Store(new_store)
    info = InputFile("glass.png", "ab" * 32, 1000, 1)
    input_id, _ = store.add_input(info)
    outline = {"region_of": 2, "region_px": [[10.0, 20.0], [300.0, 20.0], [300.0, 420.0], [10.0, 420.0]]}
    store.save_page(input_id, 0, PageResult(info.path, 1, info.sha256, PageState.UNIDENTIFIED, "QR code unreadable",
                                            region=1, quality=dict(outline)))
    [row] = store.pages()
    read = PageResult(info.path, 1, info.sha256, PageState.READ, "", "k10", 1, "", 1, "K7M3QX9C",
                      quality={"markers": 4})
    store.replace_page(int(row["id"]), read, "ann")
    assert json.loads(store.page(int(row["id"]))["quality"]) == {**outline, "markers": 4}
    store.close()
