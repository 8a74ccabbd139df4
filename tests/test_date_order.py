"""Dates the boxes' digits read plainly, but that the day the page is read or the page's other dates make
doubtful: a date of filling in after the day the page is read, and a date written month first (MM DD YYYY in
DD MM YYYY boxes) whose day is 12 or less, a real date read the other way round. Before 2026-12-07 each was
accepted at 0.995-1.0 unflagged (9 of 26 month-first dates on 40 pages, harness mmdd)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest

from formkit.errors import TemplateError
from formkit.layout import build_layout
from formkit.layout.model import BoxesField
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.store import Store
from formkit.template import load_template, resolve_template
from scanner import handwriting
from scanner.dates import RAW_MONTH_FIRST, judge_dates, month_first
from scanner.pipeline import read_page
from tests.synthetic import degrade_scan, load_digits, write_digits
from tests.test_scan import DPI, printed

DIGITS = load_digits(Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz")
READ_ON = dt.date(2026, 12, 7)


def _date(field: str, iso: str, month_first_iso: str | None = None) -> FieldValue:
    raw = {RAW_MONTH_FIRST: month_first_iso} if month_first_iso else {}
    return FieldValue(field, "date", iso, 0.999, False, "", raw)


# --- the rules, on values -------------------------------------------------------------------------------------

def test_digits_that_make_a_date_only_month_first_are_told():
    assert month_first([0, 5, 2, 0, 2, 0, 2, 7]) == dt.date(2027, 5, 20)  # 05/20/2027: no 20th month
    assert month_first([0, 3, 1, 1, 2, 0, 2, 6]) is None  # 03/11/2026 is real day first: no evidence either way
    assert month_first([3, 1, 1, 3, 2, 0, 2, 6]) is None  # real neither way
    assert month_first([0, 5, 2, 0, 2, 0, 2, None]) is None


def test_a_date_of_filling_in_after_the_day_the_page_is_read_that_is_past_month_first_is_flagged():
    swap, later, grace, review = (_date("date_completed", "2026-12-11"), _date("date_completed", "2027-11-05"),
                                  _date("date_completed", "2026-12-08"), _date("review_date", "2026-12-11"))
    judge_dates([swap], {"date_completed": "past"}, READ_ON)  # 11/12/2026 month first: 12 November, already past
    assert swap.needs_review and swap.confidence <= 0.5
    assert swap.reason == ("the date of filling in, 11/12/2026, is after the day this page was read, 07/12/2026: "
                           "written month first? Then it is 12 November 2026")
    assert swap.raw["read_on"] == "2026-12-07"
    # later either way round: what the person wrote, not a misreading
    judge_dates([later], {"date_completed": "past"}, READ_ON)
    judge_dates([grace], {"date_completed": "past"}, READ_ON)  # a day ahead: another time zone
    judge_dates([review], {"review_date": "any"}, READ_ON)  # a review date may lie ahead
    assert not later.needs_review and not grace.needs_review and not review.needs_review
    judge_dates([swap := _date("date_completed", "2026-12-11")], {}, READ_ON)  # a date the template says nothing of
    assert not swap.needs_review


def test_a_date_that_may_be_month_first_beside_one_that_is_is_flagged():
    values = [_date("date_set", "2026-11-03"), _date("review_date", "", "2027-05-20"),
              _date("other", "2026-11-11"), _date("late", "2026-11-13")]
    judge_dates(values, {"date_set": "past"}, READ_ON)
    assert values[0].needs_review and values[0].reason == (
        "another date on this form is written month first (review_date: 05/20/2027, 20 May 2027): 03/11/2026 may "
        "be 11 March 2026")
    assert not values[2].needs_review and not values[3].needs_review  # 11/11 either way; no 13th month
    alone = [_date("date_set", "2026-11-03")]
    judge_dates(alone, {"date_set": "past"}, READ_ON)
    assert not alone[0].needs_review  # nothing on the page says which way round: as the boxes ask


def test_the_month_first_date_itself_says_what_it_is():
    boxes = [{"digit": d, "p": 0.999, "probs": [0.999 if k == d else 0.0001 for k in range(10)], "ink_mm2": 5.0}
             for d in (0, 5, 2, 0, 2, 0, 2, 7)]
    value = handwriting._resolve_date(BoxesField("d", "date", ()), boxes, 0.9, 0.99)
    assert value.needs_review and value.raw[RAW_MONTH_FIRST] == "2027-05-20"
    assert "not a real date: 05/20/2027 (written month first? Then it is 20 May 2027)" in value.reason


# --- the template -----------------------------------------------------------------------------------------

def test_a_date_says_when_it_lies_and_the_date_of_filling_in_is_past_by_default(tmp_path):
    assert resolve_template("k10").date_whens() == {"date_completed": "past"}
    assert resolve_template("goal-card").date_whens() == {"date_set": "past", "review_date": "any"}
    path = tmp_path / "t.yaml"
    path.write_text("form: t\nversion: 1\ntitle: T\nlicence: shippable\nitems:\n"
                    "  - {kind: date, id: seen, text: Seen}\n  - {kind: date, id: born, text: Born, when: any}\n"
                    "  - {kind: date, id: next, text: Next, when: past}\n  - {kind: date, id: on, text: On}\n"
                    "scoring: {occasion_date: on}\n")
    assert load_template(path).date_whens() == {"seen": "any", "born": "any", "next": "past", "on": "past"}
    path.write_text(path.read_text().replace("when: any", "when: later"))
    with pytest.raises(TemplateError, match="later"):
        load_template(path)


# --- read from a page -------------------------------------------------------------------------------------

def _card_back(tmp_path, date_set: str, review_date: str, seed: int = 3) -> np.ndarray:
    layout = build_layout(resolve_template("goal-card"))
    index = next(i for i, p in enumerate(layout.pages) if any(f.id == "date_set" for f in p.fields))
    page, image = layout.pages[index], printed("goal-card", tmp_path, seed=2)[0][index]
    fields = {f.id: f for f in page.fields}
    rng = random.Random(seed)  # handwriting the networks read plainly: only the order of day and month in doubt
    for field_id, text in (("date_set", date_set), ("review_date", review_date)):
        write_digits(image, DPI, fields[field_id].boxes, text, DIGITS, rng, "black")
    image = degrade_scan(image, DPI, random.Random(6), out_dpi=DPI)
    return image if image.ndim == 2 else image.min(axis=2)


def test_a_card_written_month_first_has_its_other_date_flagged(tmp_path):
    """As the harness's seed 13 ('Date set' 11/04/2027 accepted as 11 April 2027 at 1.0 beside 'Review on'
    05/20/2027): 03/11/2026 beside 05/20/2027, both written month first. Before, the date set was accepted as
    3 November 2026 unflagged."""
    grey = _card_back(tmp_path, "03112026", "05202027", seed=5)
    values = {v.field: v for v in read_page(grey, PageResult("t", 1, "", "", read_on=READ_ON)).values}
    assert values["review_date"].needs_review and "written month first? Then it is 20 May 2027" in \
        values["review_date"].reason, values["review_date"]
    date_set = values["date_set"]
    assert date_set.value == "2026-11-03" and date_set.needs_review and date_set.confidence <= 0.5, date_set
    assert date_set.reason == ("another date on this form is written month first (review_date: 05/20/2027, "
                               "20 May 2027): 03/11/2026 may be 11 March 2026")


def test_the_day_the_page_is_read_decides_whether_a_date_of_filling_in_is_too_late(tmp_path):
    grey = _card_back(tmp_path, "03092026", "01102026", seed=5)
    early = {v.field: v for v in read_page(grey, PageResult("t", 1, "", "", read_on=dt.date(2026, 6, 15))).values}
    assert early["date_set"].value == "2026-09-03" and early["date_set"].needs_review, early["date_set"]
    assert early["date_set"].reason.startswith("the date of filling in, 03/09/2026, is after the day this page was "
                                               "read, 15/06/2026: written month first? Then it is 9 March 2026")
    assert not early["review_date"].needs_review, early["review_date"]  # a review date may lie ahead
    later = {v.field: v for v in read_page(grey, PageResult("t", 1, "", "", read_on=READ_ON)).values}
    assert not later["date_set"].needs_review and later["date_set"].raw["read_on"] == "2026-12-07", later["date_set"]


# --- across the pages of one printed form ---------------------------------------------------------------------

def _form_page(number: int, values: list[FieldValue]) -> PageResult:
    return PageResult("f.png", number, "sha", PageState.READ, form="own", version=1, variant="N", form_page=number,
                      serial="K7M3QX9C", values=values)


def test_a_date_written_month_first_on_one_page_flags_the_forms_dates_on_its_others(tmp_path):
    """A form of one's own with a date on each page: page 2's 05/20/2027 is written month first, so page 1's
    03/11/2026, accepted when page 1 was read alone, goes to review; and comes back as it was when page 2 is
    voided."""
    store = Store(tmp_path / "s.sqlite")
    input_id, _ = store.add_input(InputFile("f.png", "sha", 1, 2))
    store.save_page(input_id, 0, _form_page(1, [_date("seen_on", "2026-11-03"), _date("born", "1990-05-30")]))
    values = {v["field"]: v for v in store.values()}
    assert not values["seen_on"]["needs_review"]
    later = FieldValue("next_on", "date", "", 0.49, True, "not a real date: 05/20/2027",
                       {RAW_MONTH_FIRST: "2027-05-20"})
    store.save_page(input_id, 1, _form_page(2, [later]))
    values = {v["field"]: v for v in store.values()}
    assert values["seen_on"]["needs_review"] and values["seen_on"]["confidence"] <= 0.5
    assert values["seen_on"]["reason"] == ("another date on this form is written month first (page 2, next_on: "
                                           "05/20/2027, 20 May 2027): 03/11/2026 may be 11 March 2026")
    assert not values["born"]["needs_review"]  # 30/05: no 30th month, read either way
    page_two_id = next(int(p["id"]) for p in store.pages() if p["form_page"] == 2)
    assert store.void_pages([page_two_id], "scanned twice", "ann")
    seen_on = next(v for v in store.values() if v["field"] == "seen_on")
    assert not seen_on["needs_review"] and seen_on["reason"] == "" and seen_on["confidence"] == 0.999
