"""Several form pages in one image: goal cards laid on a flatbed's glass, an uncut sheet of imposed
cards, a photo of a few cards, an A4 form photographed beside a card."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import PageResult, PageState
from formkit.template import resolve_template
from scanner.pipeline import read_image
from tests.synthetic import degrade_photo, draw_mark, lay_cards, render_pdf

DPI = 300


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """Four goal-card backs (four serials) with a progress rating ticked on each, as 300 dpi RGB images,
    and the rating each one carries."""
    tmp = tmp_path_factory.mktemp("cards")
    layout = build_layout(resolve_template("goal-card"))
    rows = generate(layout, make_copies(4, None, 17), tmp / "cards.pdf")
    images = render_pdf(tmp / "cards.pdf", DPI)
    back = layout.pages[1]
    rng = random.Random(5)
    out = []
    for image, row in zip(images, rows, strict=True):
        if int(row["form_page"]) != 2:
            continue
        field = next(f for f in back.fields if f.id == "progress_1")
        option = field.options[rng.randrange(len(field.options))]
        draw_mark(image, DPI, option.box, "cross", rng, "blue")
        out.append((image, str(row["serial"]), str(option.value)))
    return out


def lay_on_glass(cards, turns: list[int], angles: list[float], gap_px: int = 0) -> np.ndarray:
    """The cards on a white A4 flatbed image (300 dpi), two by two (see tests.synthetic.lay_cards)."""
    return lay_cards([image for image, _, _ in cards], turns, angles, gap_px)


def read(image: np.ndarray) -> list[PageResult]:
    grey = image.min(axis=2) if image.ndim == 3 else image
    return read_image(grey, PageResult("glass.png", 1, "sha", PageState.REJECTED))


def test_four_cards_on_the_glass_are_four_pages_each_with_its_own_values(cards):
    results = read(lay_on_glass(cards, [0, 180, 0, 180], [2.0, -3.0, 1.0, -1.5], gap_px=0))
    assert [r.status for r in results] == [PageState.READ] * 4, [r.reason for r in results]
    assert sorted(r.region for r in results) == [0, 1, 2, 3]
    expected = {serial: rating for _, serial, rating in cards}
    for result in results:
        assert result.serial in expected
        value = next(v for v in result.values if v.field == "progress_1")
        assert value.value == expected[result.serial] and not value.needs_review, (result.serial, value)
        assert len(result.quality["region_px"]) == 4
    assert len({r.serial for r in results}) == 4


def test_a_card_partly_off_the_glass_is_rejected_and_the_others_read(cards):
    glass = lay_on_glass(cards, [0, 0, 180, 0], [0.0, 1.0, -2.0, 0.5], gap_px=40)
    h = cards[0][0].shape[0]
    cut = 200 + 2 * (h + 40) - int(0.55 * h)  # the bottom row's lower half is off the glass
    glass = glass[:cut]
    results = read(glass)
    read_ok = [r for r in results if r.status == PageState.READ]
    rejected = [r for r in results if r.status == PageState.REJECTED]
    assert len(read_ok) >= 2 and all(r.serial for r in read_ok)
    for r in rejected:
        assert "outside the image or under another page" in r.reason or "marker" in r.reason


def test_a_photo_of_three_cards_reads_each(cards):
    glass = lay_on_glass(cards[:3] + [(np.full_like(cards[0][0], 250), "", "")], [0, 90, 270, 0],
                         [4.0, -2.0, 3.0, 0.0], gap_px=60)
    # a 6.75 MP phone photo (the cards at about 160 dpi in it): as hard to read as a 12 MP one or harder, and
    # about half the pixels to make and to search
    photo = degrade_photo(glass, random.Random(2), (3000, 2250), fill=0.9)
    results = [r for r in read(photo) if r.status == PageState.READ]
    expected = {serial: rating for _, serial, rating in cards[:3]}
    assert sorted(r.serial for r in results) == sorted(expected)
    for result in results:
        value = next(v for v in result.values if v.field == "progress_1")
        assert value.value == expected[result.serial] or value.needs_review


def test_an_uncut_sheet_of_imposed_cards_is_read_card_by_card(tmp_path):
    layout = build_layout(resolve_template("goal-card"))
    rows = generate(layout, make_copies(4, None, 23), tmp_path / "sheet.pdf", sheet="A4")
    sheets = render_pdf(tmp_path / "sheet.pdf", 200)
    results = read(sheets[0])
    on_sheet = {(str(r["serial"]), int(r["form_page"])) for r in rows if int(r["pdf_page"]) == 1}
    assert len(results) == len(on_sheet) >= 4
    assert all(r.status == PageState.READ for r in results), [r.reason for r in results]
    assert {(r.serial, r.form_page) for r in results} == on_sheet


def test_an_a4_form_beside_a_card_is_read_as_itself(tmp_path, cards):
    k10 = build_layout(resolve_template("k10"))
    rows = generate(k10, make_copies(1, None, 29), tmp_path / "k10.pdf")
    page = render_pdf(tmp_path / "k10.pdf", 150)[0]  # A4 at 150 dpi beside a card at 300 dpi: a desk photo
    desk = np.full((2200, 2600, 3), 235, np.uint8)
    desk[50:50 + page.shape[0], 50:50 + page.shape[1]] = page
    card = cards[0][0][::2, ::2]
    desk[300:300 + card.shape[0], 1500:1500 + card.shape[1]] = card
    results = read(desk)
    assert sorted((r.form, r.status) for r in results) == [("goal-card", PageState.READ), ("k10", PageState.READ)]
    assert next(r for r in results if r.form == "k10").serial == str(rows[0]["serial"])


def test_a_batch_stores_each_card_as_its_own_page_with_its_region(tmp_path, cards):
    from formkit.export import export
    from formkit.review.queue import SourcePage
    from formkit.store import Store
    from scanner.assign import read_source_as
    from scanner.batch import scan

    inbox = tmp_path / "glass"
    inbox.mkdir()
    glass = lay_on_glass(cards, [0, 180, 180, 0], [1.0, -2.0, 0.0, 2.5], gap_px=10)
    cv2.imwrite(str(inbox / "four-cards.png"), cv2.cvtColor(glass, cv2.COLOR_RGB2BGR))
    store = Store(tmp_path / "s.sqlite")
    summary = scan([inbox], store, jobs=1)
    assert summary.pages == {"read": 4}
    pages = store.pages()
    assert sorted(r["region"] for r in pages) == [0, 1, 2, 3] and {r["page_index"] for r in pages} == {0}
    expected = {serial: rating for _, serial, rating in cards}
    ratings = {v["serial"]: v["value"] for v in store.values() if v["field"] == "progress_1"}
    assert ratings == expected
    # provenance: the long CSV says which page of the image each value came from
    export(store.values(), tmp_path / "out")
    long = (tmp_path / "out" / "goal-card_long.csv").read_text(encoding="utf-8")
    assert "source_region" in long.splitlines()[0]
    # a card read again from its source file is read within its own region, with its own markers
    for row in pages:
        source = store.page_source(row["id"])
        region = SourcePage(source["path"], source["sha256"], source["page_index"], None,
                            SourcePage.region_of(source["quality"]))
        assert region.region_px is not None
        from formkit.catalogue import shipped_catalogue
        from formkit.qrpayload import PagePayload
        layout = shipped_catalogue().find_layout(row["form"], row["version"], row["variant"])
        payload = PagePayload(row["form"], row["version"], row["form_page"], row["variant"], row["serial"],
                              layout.page(row["form_page"]).fingerprint)
        again = read_source_as(region, payload, shipped_catalogue())
        assert again.status == PageState.READ, again.reason
        assert next(v.value for v in again.values if v.field == "progress_1") == expected[row["serial"]]
    # scanning again changes nothing
    assert scan([inbox], store, jobs=1).skipped_pages == 1 and len(store.pages()) == 4


def test_a_store_from_before_regions_is_upgraded_and_takes_several_pages_of_one_image(tmp_path, cards):
    import sqlite3

    from formkit.store import SCHEMA_VERSION, Store
    from scanner.batch import scan

    inbox = tmp_path / "glass"
    inbox.mkdir()
    cv2.imwrite(str(inbox / "one.png"), cv2.cvtColor(cards[0][0], cv2.COLOR_RGB2BGR))
    db = tmp_path / "old.sqlite"
    scan([inbox], Store(db), jobs=1)
    old = sqlite3.connect(db)  # the pages table as schema 2 had it: one page per file page, no region
    columns = [r[1] for r in old.execute("PRAGMA table_info(pages)") if r[1] not in ("region",)]
    old.executescript(
        "PRAGMA foreign_keys=OFF; BEGIN;"
        "CREATE TABLE pages_old AS SELECT " + ", ".join(columns) + " FROM pages;"
        "DROP TABLE pages;"
        "CREATE TABLE pages (id INTEGER PRIMARY KEY, input_id INTEGER NOT NULL REFERENCES inputs(id),"
        " page_index INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', form TEXT NOT NULL"
        " DEFAULT '', version INTEGER NOT NULL DEFAULT 0, variant TEXT NOT NULL DEFAULT '', form_page INTEGER NOT NULL"
        " DEFAULT 0, serial TEXT NOT NULL DEFAULT '', transform TEXT, error_mm REAL, quality TEXT NOT NULL DEFAULT"
        " '{}', image BLOB, conflict_of INTEGER REFERENCES pages(id), read_at TEXT NOT NULL,"
        " UNIQUE (input_id, page_index));"
        "INSERT INTO pages SELECT id, input_id, page_index, status, reason, form, version, variant, form_page, serial,"
        " transform, error_mm, quality, image, conflict_of, read_at FROM pages_old;"
        "DROP TABLE pages_old; DROP TABLE respondents; DROP TRIGGER audit_no_replace;"
        "UPDATE meta SET value='2' WHERE key='schema'; COMMIT;")
    old.close()
    values_before = len(Store(db).values())
    upgraded = sqlite3.connect(db)
    assert upgraded.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == str(SCHEMA_VERSION)
    assert "region" in [r[1] for r in upgraded.execute("PRAGMA table_info(pages)")]
    assert upgraded.execute("PRAGMA foreign_key_check").fetchall() == []
    upgraded.close()
    glass = lay_on_glass(cards, [0, 0, 180, 180], [0.0, 1.0, 2.0, -1.0], gap_px=30)
    cv2.imwrite(str(inbox / "four.png"), cv2.cvtColor(glass, cv2.COLOR_RGB2BGR))
    store = Store(db)
    assert len(store.values()) == values_before > 0
    summary = scan([inbox], store, jobs=1)
    assert summary.pages["read"] + summary.pages["conflict"] == 4


def _covered(image: np.ndarray, top_mm: float, bottom_mm: float, left_mm: float, right_mm: float) -> np.ndarray:
    """``image`` (300 dpi) with a dark blot over the rectangle given in mm."""
    px = DPI / 25.4
    out = image.copy()
    out[int(top_mm * px):int(bottom_mm * px), int(left_mm * px):int(right_mm * px)] = 30
    return out


def test_a_card_whose_qr_is_covered_is_told_by_its_printed_code_or_kept_as_unidentified(cards):
    qr = build_layout(resolve_template("goal-card")).pages[1].qr
    band = (qr.y_mm + qr.size_mm / 4, qr.y_mm + 3 * qr.size_mm / 4)
    qr_covered = _covered(cards[0][0], *band, qr.x_mm, qr.x_mm + qr.size_mm)
    code_bottom_mm = qr.y_mm + qr.size_mm + 8  # the printed code sits under the QR
    qr_and_code_covered = _covered(cards[1][0], band[0], code_bottom_mm, qr.x_mm - 2, qr.x_mm + qr.size_mm + 2)
    laid = [(qr_covered, *cards[0][1:]), (qr_and_code_covered, *cards[1][1:]), *cards[2:]]
    results = read(lay_on_glass(laid, [0, 180, 0, 180], [2.0, -3.0, 1.0, -1.5], gap_px=0))
    assert sorted(r.region for r in results) == [0, 1, 2, 3], [r.reason for r in results]
    read_ok = {r.serial: r for r in results if r.status == PageState.READ}
    assert sorted(read_ok) == sorted([cards[0][1], cards[2][1], cards[3][1]])
    by_code = read_ok[cards[0][1]]
    assert by_code.quality["identified_by"].startswith("printed code")
    value = next(v for v in by_code.values if v.field == "progress_1")
    assert value.value == cards[0][2] and not value.needs_review
    [unidentified] = [r for r in results if r.status == PageState.UNIDENTIFIED]
    assert "QR code unreadable" in unidentified.reason and unidentified.image_jpeg
    # its region is the covered card's own, apart from every card that was read
    centre = np.mean(unidentified.quality["region_px"], axis=0)
    card_width_px = cards[0][0].shape[1]
    for r in read_ok.values():
        assert np.linalg.norm(centre - np.mean(r.quality["region_px"], axis=0)) > 0.8 * card_width_px


def test_a_second_card_without_a_readable_qr_beside_one_that_has_it_is_read_too(cards):
    qr = build_layout(resolve_template("goal-card")).pages[1].qr
    qr_covered = _covered(cards[1][0], qr.y_mm + qr.size_mm / 4, qr.y_mm + 3 * qr.size_mm / 4, qr.x_mm,
                          qr.x_mm + qr.size_mm)
    blank = (np.full_like(cards[0][0], 250), "", "")
    results = read(lay_on_glass([cards[0], (qr_covered, *cards[1][1:]), blank, blank], [0, 180, 0, 0],
                                [1.0, -2.0, 0.0, 0.0], gap_px=20))
    assert sorted((r.serial, r.status) for r in results) == sorted([(cards[0][1], PageState.READ),
                                                                    (cards[1][1], PageState.READ)])
