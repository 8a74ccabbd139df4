"""What a filled box means, decided per respondent: from one page, and again in the store when another
page of the same printed form arrives."""

from __future__ import annotations

import random

import cv2
import pytest

from formkit.conventions import ANSWER, CANCEL, UNDECIDED, ChoiceStates, decide
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import FieldValue, InputFile, PageResult, PageState
from formkit.store import Store
from formkit.template import resolve_template
from scanner.batch import scan
from scanner.pipeline import apply_fill_convention
from tests.synthetic import degrade_scan, draw_mark, render_pdf

DPI = 200
OPTIONS = ["1", "2", "3", "4", "5"]


def states(*marks: str) -> ChoiceStates:
    """A five-box single choice with ``marks`` as (index:state) pairs, e.g. '2:filled'."""
    boxes = ["empty"] * 5
    for mark in marks:
        index, state = mark.split(":")
        boxes[int(index)] = state
    return ChoiceStates(tuple(boxes))


def test_the_decision_follows_the_evidence():
    fills = [states("0:filled"), states("3:filled"), states("2:heavy"), states()]
    assert decide(fills).decision == ANSWER
    assert decide(fills[:2]).decision == UNDECIDED  # two fills are too little to go on
    assert decide([*fills, states("1:marked")]).decision == UNDECIDED  # both styles on one form
    assert decide([*fills, states("1:filled", "2:marked")]).decision == CANCEL  # a correction
    assert decide(fills, "cancel").decision == CANCEL and decide([], "answer").decision == ANSWER
    assert decide([states("1:marked")] * 5).decision == UNDECIDED  # a ticker: nothing to decide


def choice_value(field: str, value_states: ChoiceStates, value: str = "", review: bool = False,
                 reason: str = "") -> FieldValue:
    return FieldValue(field, "choice", value, 0.9 if not review else 0.5, review, reason,
                      {"states": list(value_states.states), "options": OPTIONS, "multiple": False})


def lone_fill(field: str, index: int) -> FieldValue:
    return choice_value(field, states(f"{index}:filled"), OPTIONS[index], True,
                        "a filled box and no other mark: a cancelled answer, or the answer?")


def page(serial: str, number: int, values: list[FieldValue]) -> PageResult:
    apply_fill_convention(values, "infer", page_flagged=False)
    return PageResult("f.png", number, "sha", PageState.READ, form="k10", version=1, variant="N",
                      form_page=number, serial=serial, quality={"fill_means": "infer"}, values=values)


def test_the_store_decides_again_when_another_page_of_the_form_arrives(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    input_id, _ = store.add_input(InputFile("f.png", "sha", 1, 2))
    first = page("K7M3QX9C", 1, [lone_fill(f"a{i}", i % 5) for i in range(4)])
    assert not any(v.needs_review for v in first.values)  # on this page alone: a person who fills
    store.save_page(input_id, 0, first)
    values = {v["field"]: v for v in store.values()}
    assert values["a1"]["value"] == "2" and not values["a1"]["needs_review"]
    assert "answers by filling" in values["a1"]["reason"]
    # the second page shows a correction: this person fills to cancel, so lone fills go to review
    second = page("K7M3QX9C", 2, [choice_value("b1", states("0:filled", "3:marked"), "4")])
    store.save_page(input_id, 1, second)
    values = {v["field"]: v for v in store.values()}
    assert values["a1"]["needs_review"] and "fills a box to cancel" in values["a1"]["reason"]
    assert values["b1"]["value"] == "4" and not values["b1"]["needs_review"]
    assert [r["new_value"] for r in store.audit_rows() if r["action"] == "fill-convention"] == [ANSWER, CANCEL]


def test_a_reviewed_value_is_never_changed_by_a_later_decision(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    input_id, _ = store.add_input(InputFile("f.png", "sha", 1, 2))
    store.save_page(input_id, 0, page("K7M3QX9C", 1, [lone_fill("a0", 0), lone_fill("a1", 1),
                                                      choice_value("a2", states("2:marked"), "3")]))
    item = next(v for v in store.values() if v["field"] == "a0")
    assert item["needs_review"]  # both styles: flagged
    assert store.decide(item["value_id"], "corrected", "5", "ann", item["value"]) == ""
    more_fills = [lone_fill(f"b{i}", i) for i in range(5)]
    store.save_page(input_id, 1, page("K7M3QX9C", 2, more_fills))
    assert store.value(item["value_id"])["value"] == "5"


@pytest.mark.parametrize("style, expected_review", [("fill", False), ("tick", False)])
def test_a_k10_answered_by_filling_every_box_gets_its_answers(tmp_path, style, expected_review):
    layout = build_layout(resolve_template("k10"))
    generate(layout, make_copies(1, None, 12), tmp_path / "k10.pdf")
    image = render_pdf(tmp_path / "k10.pdf", DPI)[0]
    rng = random.Random(3)
    answers = {}
    for f in layout.pages[0].fields[:10]:
        option = rng.choice(f.options)
        draw_mark(image, DPI, option.box, style, rng, "black")
        answers[f.id] = str(option.value)
    inbox = tmp_path / "in"
    inbox.mkdir()
    cv2.imwrite(str(inbox / "k10.png"), cv2.cvtColor(degrade_scan(image, DPI, rng, out_dpi=DPI), cv2.COLOR_RGB2BGR))
    store = Store(tmp_path / "s.sqlite")
    scan([inbox], store, jobs=1)
    values = {v["field"]: v for v in store.values()}
    for field, answer in answers.items():
        assert values[field]["value"] == answer and bool(values[field]["needs_review"]) == expected_review, field


def test_a_form_that_says_fills_cancel_keeps_lone_fills_flagged(tmp_path):
    values = [lone_fill(f"a{i}", i) for i in range(5)]
    apply_fill_convention(values, "cancel", page_flagged=False)
    assert all(v.needs_review and "the form says a filled box means 'cancel'" in v.reason for v in values)
    answered = [lone_fill(f"a{i}", i) for i in range(2)]
    apply_fill_convention(answered, "answer", page_flagged=False)
    assert [(v.value, v.needs_review) for v in answered] == [("1", False), ("2", False)]
    blurry = [lone_fill(f"a{i}", i) for i in range(5)]
    apply_fill_convention(blurry, "answer", page_flagged=True)
    assert all(v.needs_review for v in blurry)
