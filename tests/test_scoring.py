"""Scoring rules against worked examples; the export's score columns, change file and codebook."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from formkit.catalogue import Catalogue, shipped_catalogue
from formkit.errors import InputError, TemplateError
from formkit.export import export
from formkit.report.data import latest_per_person, load_forms
from formkit.scoring import COMPLETE, Answer, gas_t_score, read_scoring, score_form
from formkit.scoring.occasions import Occasion, change_rows
from formkit.template import load_template


def _answers(**values: object) -> dict[str, Answer]:
    return {k: Answer("" if v is None else str(v)) for k, v in values.items()}


def _score(form: str, answers: dict[str, Answer], bands: dict[str, str] | None = None):
    from formkit.export import scales

    template = shipped_catalogue().find_template(form, 1)
    return score_form(read_scoring(template), answers, scales(template), bands)


@pytest.mark.parametrize(("ratings", "weights", "expected"), [
    ([0, 0, 0], [1, 1, 1], 50.00),
    ([1, 1, 1], [1, 1, 1], 63.69),
    ([-1, 0, 2], [1, 1, 1], 54.56),
    ([-2], [1], 30.00),
    ([-2, 0, -1, 2, 0, 1], [3, 5, 1, 4, 2, 6], 55.00),
])
def test_gas_t_score_matches_the_published_vectors(ratings, weights, expected):
    assert round(gas_t_score(ratings, weights), 2) == expected


def test_gas_followup_uses_the_written_weights_and_drops_unrated_goals():
    answers = _answers(gas_1=-2, weight_1=3, gas_2=0, weight_2=5, gas_3=-1, weight_3=1, gas_4=2, weight_4=4,
                       gas_5=None, weight_5=None)
    result = _score("gas-followup", answers)["gas_t"]
    assert result.status == "complete" and result.text(2) == "51.08"  # 50 + 10 * 1 / sqrt(86.4)
    one = _score("gas-followup", _answers(gas_1=-2, weight_1=7))["gas_t"]
    assert one.text(2) == "30.00" and "4 goal(s) without a rating" in one.reason


def test_gas_with_a_rating_but_some_weights_missing_is_invalid():
    result = _score("gas-followup", _answers(gas_1=1, weight_1=2, gas_2=1, weight_2=None))["gas_t"]
    assert result.status == "invalid" and "gas_2" in result.reason and result.value is None


def test_a_goal_given_a_weight_but_no_rating_makes_gas_invalid_not_left_out():
    """The form says to leave unused goals blank: a weight written means the goal was set, and leaving its
    rating out would change T without a word."""
    result = _score("gas-followup", _answers(gas_1=1, weight_1=2, gas_2=None, weight_2=2))["gas_t"]
    assert (result.value, result.status) == (None, "invalid")
    assert result.reason == "a weight is written but no rating: gas_2"


def test_a_rating_or_weight_found_illegible_makes_gas_invalid_not_left_out_or_weighted_equally():
    """A reviewer who cannot read a goal's weight decides "illegible" (stored as no value): taken for a weight
    never written, both weights illegible gave equal weights ("no weights written", T 56.20 where the weights
    written, 9 and 1, give 68.18), and a rating found illegible left its goal out (T 70.00 from the other goal
    alone). Something written that nobody can read is not a blank."""
    written = _answers(gas_1=2, weight_1=9, gas_2=-1, weight_2=1)
    assert _score("gas-followup", written)["gas_t"].text(2) == "68.18"
    for unreadable in ("weight_1", "gas_1"):
        answers = {**written, unreadable: Answer("", illegible=True)}
        result = _score("gas-followup", answers)["gas_t"]
        assert (result.value, result.status) == (None, "invalid")
        assert result.reason.startswith(f"illegible: {unreadable}")
    both = {**written, "weight_1": Answer("", illegible=True), "weight_2": Answer("", illegible=True)}
    assert _score("gas-followup", both)["gas_t"].reason.startswith("illegible: weight_1, weight_2")


def test_a_progress_rating_found_illegible_is_not_passed_over_for_another_occasions():
    """The latest rating written on a goal card, found illegible, was passed over: the one before it was
    exported as the latest, and the change computed to it. A rating found illegible before the latest one
    leaves both as they were; one before the first makes the change unknown."""
    ratings = _answers(progress_1=2, progress_2=5, progress_4=None)
    latest_unread = _score("goal-card", {**ratings, "progress_3": Answer("", illegible=True)})
    for score in ("progress_latest", "progress_change"):
        assert (latest_unread[score].value, latest_unread[score].status) == (None, "invalid")
        assert latest_unread[score].reason == "the latest rating written, progress_3, is illegible"
    between = _score("goal-card", {**_answers(progress_1=2, progress_3=5, progress_4=None),
                                   "progress_2": Answer("", illegible=True)})
    assert (between["progress_latest"].value, between["progress_change"].value) == (5, 3)
    first_unread = _score("goal-card", {**_answers(progress_2=2, progress_3=5, progress_4=None),
                                        "progress_1": Answer("", illegible=True)})
    assert first_unread["progress_latest"].value == 5
    assert first_unread["progress_change"].reason == "the first rating written, progress_1, is illegible"


def test_an_item_found_illegible_counts_as_missing_and_the_status_says_so():
    prorated = _score("k10", {**_k10(2, 2, 2, 2, 2, 2, 2, 2, 2, None), "k10_10": Answer("", illegible=True)})
    assert prorated["k10_total"].value == 20
    assert prorated["k10_total"].reason == "1 of 10 items missing; k10_10 illegible"


def test_the_export_scores_a_weight_a_reviewer_found_illegible_as_unreadable(tmp_path):
    rows = [_row("AAAA-AAA1", f, v, form="gas-followup") for f, v in
            [("goal_1", "Walk"), ("weight_1", ""), ("gas_1", "2"), ("goal_2", "Cook"), ("weight_2", "1"),
             ("gas_2", "-1")] + [(f"{kind}_{goal}", "") for goal in (3, 4, 5) for kind in ("goal", "weight", "gas")]]
    for row in rows:
        if row["field"] == "weight_1":
            row.update(review="illegible", reviewed_by="ann")
    export(rows, tmp_path)
    [wide] = _read(tmp_path / "gas-followup.csv")
    assert (wide["gas_t"], wide["gas_t_status"]) == ("", "invalid: illegible: weight_1 (each rated goal needs its "
                                                         "rating and any weight written)")


def _k10(*values: int | None) -> dict[str, Answer]:
    return _answers(**{f"k10_{i:02d}": v for i, v in enumerate(values, start=1)})


def test_a_score_no_review_can_make_is_invalid_at_once_not_waiting():
    waiting = {**_k10(1, 2, None, None, 1, 2, 3, 2, 1, 2), "k10_05": Answer("", needs_review=True)}
    result = _score("k10", waiting)["k10_total"]
    assert result.status == "invalid" and result.reason.startswith("2 of 10 items missing (at most 1 allowed)")
    assert "whatever the review of k10_05 decides" in result.reason
    one_blank = {**_k10(1, 2, None, 2, 1, 2, 3, 2, 1, 2), "k10_05": Answer("", needs_review=True)}
    assert _score("k10", one_blank)["k10_total"].status == "pending-review"  # the review decides: 1 or 2 missing


def test_k10_sum_and_default_bands():
    result = _score("k10", _k10(1, 2, 3, 2, 1, 2, 3, 2, 1, 2))["k10_total"]
    assert (result.value, result.status, result.band) == (19, "complete", "moderate")
    assert _score("k10", _k10(*[1] * 10))["k10_total"].band == "low"
    assert _score("k10", _k10(*[3] * 10))["k10_total"].band == "very high"


def test_k10_second_band_set_is_selectable():
    result = _score("k10", _k10(1, 2, 3, 2, 1, 2, 3, 2, 1, 2), {"k10_total": "likely-disorder"})["k10_total"]
    assert result.band == "likely well"


def test_k10_one_missing_item_is_prorated_and_two_make_it_invalid():
    one = _score("k10", _k10(2, 2, 3, 2, 2, 2, 3, 2, 2, None))["k10_total"]
    # sum 20 over 9 items: 20 / 9 * 10 = 22.2 -> 22
    assert (one.value, one.status) == (22, "prorated")
    half = _score("k10", _k10(2, 2, 2, 2, 2, 2, 2, 2, 3, None))["k10_total"]
    assert half.value == 21  # 19 / 9 * 10 = 21.1
    two = _score("k10", _k10(2, 2, 3, 2, 2, 2, 3, 2, None, None))["k10_total"]
    assert two.status == "invalid" and two.value is None and "2 of 10 items missing" in two.reason


def test_an_input_awaiting_review_leaves_the_score_pending_without_a_value():
    answers = _k10(2, 2, 3, 2, 2, 2, 3, 2, 2, 1)
    answers["k10_04"] = Answer("", needs_review=True)
    result = _score("k10", answers)["k10_total"]
    assert result.status == "pending-review" and result.value is None and "k10_04" in result.reason


def test_wai_sr_subscales_prorate_only_with_three_of_four_items():
    values = {f"wai_{i:02d}": 4 for i in range(1, 13)}
    values.update(wai_01=5, wai_02=5, wai_10=5, wai_12=5)  # Task items
    full = _score("wai-sr", _answers(**values))
    assert full["wai_task"].value == 20 and full["wai_goal"].value == 16 and full["wai_bond"].value == 16
    assert full["wai_total"].value == 52 and full["wai_mean"].text(2) == "4.33"
    values.update(wai_04=None)
    one_gone = _score("wai-sr", _answers(**values))
    assert one_gone["wai_goal"].status == "prorated" and one_gone["wai_goal"].value == 16
    values.update(wai_06=None)
    two_gone = _score("wai-sr", _answers(**values))
    assert two_gone["wai_goal"].status == "invalid" and two_gone["wai_task"].status == "complete"


def test_alliance_check_subscales_follow_its_own_item_groups():
    values = {f"ac_{i:02d}": 3 for i in range(1, 13)}
    values.update(ac_01=5, ac_04=5, ac_07=5, ac_10=5)
    result = _score("alliance-check", _answers(**values))
    assert result["ac_goal"].value == 20 and result["ac_task"].value == 12 and result["ac_total"].value == 44


def test_vas_total_to_one_decimal():
    result = _score("vas-4line", _answers(line_1=2.5, line_2=10.0, line_3=0.0, line_4=7.3))
    assert result["vas_total"].text(1) == "19.8" and result["vas_total"].status == "complete"


def test_goal_card_latest_progress_and_change_on_the_card():
    result = _score("goal-card", _answers(progress_1=2, progress_2=5, progress_3=None, progress_4=None))
    assert result["progress_latest"].value == 5 and result["progress_change"].value == 3
    single = _score("goal-card", _answers(progress_1=4))
    assert single["progress_change"].status == "invalid" and single["progress_latest"].value == 4


def test_a_scoring_mistake_names_the_template_line(tmp_path):
    source = (Path(shipped_catalogue().find_template("k10", 1).source)).read_text(encoding="utf-8")
    bad = source.replace("items: k10_01..k10_10", "items: k10_01..k10_11")
    path = tmp_path / "k10.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    line = next(i for i, text in enumerate(bad.splitlines(), start=1) if "- id: k10_total" in text)
    assert f"k10.yaml:{line}" in str(caught.value) and "k10_11" in str(caught.value)


def test_a_template_sets_the_reliable_change_its_report_counts_by(tmp_path):
    from formkit.report.data import reliable_change

    [k10] = [r for r in read_scoring(shipped_catalogue().find_template("k10", 1)).scores if r.id == "k10_total"]
    assert reliable_change(k10) == (6.0, "reliable change 6 points, as the template defines (reliable_change)")
    source = Path(shipped_catalogue().find_template("k10", 1).source).read_text(encoding="utf-8")
    own = tmp_path / "k10.yaml"
    own.write_text(source.replace("reliable_change: 6", "reliable_change: 8.5"), encoding="utf-8")
    [rule] = [r for r in read_scoring(load_template(own)).scores if r.id == "k10_total"]
    assert rule.reliable_change == 8.5
    refused = source.replace("reliable_change: 6", "reliable_change: 0")
    own.write_text(refused, encoding="utf-8")
    line = refused.splitlines().index("      reliable_change: 0") + 1
    with pytest.raises(TemplateError, match=f"k10.yaml:{line} .*'reliable_change' must be a number above 0"):
        load_template(own)
    without = [r for r in read_scoring(shipped_catalogue().find_template("alliance-check", 1)).scores]
    assert reliable_change(without[0])[0] is None


# --- export -------------------------------------------------------------------------------------------

def _row(serial: str, field: str, value: str, form: str = "k10", version: int = 1, review: bool = False,
         page_id: int = 1) -> dict[str, object]:
    return {"page_id": page_id, "status": "read", "form": form, "version": version, "variant": "N",
            "form_page": 1, "serial": serial, "conflict_of": None, "source_file": f"/scans/{serial}.png",
            "source_page": 1, "field": field, "kind": "choice", "value": value, "confidence": 0.99,
            "needs_review": int(review), "reason": "two or more marks" if review else "", "review": "",
            "reviewed_by": ""}


def _k10_rows(serial: str, values: list[int | None], date: str = "", review: str = "", page_id: int = 1,
              date_waiting: bool = False) -> list[dict[str, object]]:
    rows = [_row(serial, f"k10_{i:02d}", "" if v is None else str(v), review=f"k10_{i:02d}" == review,
                 page_id=page_id) for i, v in enumerate(values, start=1)]
    return rows + [_row(serial, "date_completed", date, review=date_waiting, page_id=page_id)]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_export_adds_scores_statuses_bands_change_and_a_codebook(tmp_path):
    rows = (_k10_rows("AAAA-AAA1", [3] * 10, "2026-01-10") + _k10_rows("BBBB-BBB2", [2] * 9 + [None], "2026-03-01")
            + _k10_rows("CCCC-CCC3", [2] * 8 + [None, None], "2026-02-01")
            + _k10_rows("DDDD-DDD4", [1] * 10, "2026-01-05", review="k10_02"))
    codes = {"AAAA-AAA1": "P01", "BBBB-BBB2": "P01", "CCCC-CCC3": "P01", "DDDD-DDD4": "P02"}
    export(rows, tmp_path, codes)
    wide = {r["serial"]: r for r in _read(tmp_path / "k10.csv")}
    assert wide["AAAA-AAA1"]["k10_total"] == "30" and wide["AAAA-AAA1"]["k10_total_band"] == "very high"
    assert wide["BBBB-BBB2"]["k10_total"] == "20" and wide["BBBB-BBB2"]["k10_total_status"].startswith("prorated")
    assert wide["CCCC-CCC3"]["k10_total"] == "" and wide["CCCC-CCC3"]["k10_total_status"].startswith("invalid: 2 of")
    assert wide["DDDD-DDD4"]["k10_total"] == "" and wide["DDDD-DDD4"]["k10_total_status"].startswith("pending")
    assert wide["AAAA-AAA1"]["person_code"] == "P01"
    change = {r["person_code"]: r for r in _read(tmp_path / "k10_change.csv")}
    # P01: first 2026-01-10 (30), latest 2026-03-01 (20); the invalid occasion in between is left out
    assert (change["P01"]["first_value"], change["P01"]["latest_value"], change["P01"]["change"]) == ("30", "20", "-10")
    assert change["P01"]["status"].startswith("complete") and "1 occasion(s)" in change["P01"]["status"]
    assert change["P02"]["status"].startswith("pending-review")
    book = _read(tmp_path / "codebook.csv")
    for name in ("k10.csv", "k10_long.csv", "k10_change.csv"):
        header = next(csv.reader((tmp_path / name).open(encoding="utf-8")))
        assert header == [r["variable"] for r in book if r["file"] == name]
    total = next(r for r in book if r["variable"] == "k10_total")
    assert "prorated" in total["rule"] and total["template"] == "k10" and total["versions"] == "1"
    item = next(r for r in book if r["variable"] == "k10_01")
    assert "1=None of the time" in item["allowed_values"]


def test_a_form_whose_page_was_not_read_is_not_scored_as_if_that_page_were_blank(tmp_path):
    """Goals 4 and 5 of the GAS follow-up: left blank on a page read, they are left out of the T-score; on a
    page never scanned (or voided), nobody knows their ratings, so there is no score."""
    first_page = [("goal_1", "Walk"), ("weight_1", "1"), ("gas_1", "2"), ("goal_2", "Cook"), ("weight_2", "1"),
                  ("gas_2", "2"), ("goal_3", "Read"), ("weight_3", "1"), ("gas_3", "2")]
    blank_goals = [(f"{kind}_{goal}", "") for goal in (4, 5) for kind in ("goal", "weight", "gas")]
    rows = [_row("AAAA-AAA1", f, v, form="gas-followup") for f, v in first_page + blank_goals]
    rows += [_row("BBBB-BBB2", f, v, form="gas-followup", page_id=2) for f, v in first_page]
    export(rows, tmp_path)
    wide = {r["serial"]: r for r in _read(tmp_path / "gas-followup.csv")}
    assert wide["AAAA-AAA1"]["gas_t"] == "77.39"
    assert wide["AAAA-AAA1"]["gas_t_status"] == "complete: 2 goal(s) without a rating left out"
    assert wide["BBBB-BBB2"]["gas_t"] == ""
    assert wide["BBBB-BBB2"]["gas_t_status"].startswith("invalid: not read: gas_4, weight_4, gas_5, weight_5")
    unread = _score("k10", {**_answers(**{f"k10_{i:02d}": 2 for i in range(1, 10)}), "k10_10": Answer("", read=False)})
    assert unread["k10_total"].value is None and unread["k10_total"].status == "invalid"


def test_the_change_waits_while_an_occasion_that_may_be_first_or_latest_awaits_review(tmp_path):
    rows = (_k10_rows("AAAA-AAA1", [1] * 10, "2026-01-01", page_id=1) + _k10_rows("AAAA-AAA2", [2] * 10, "2026-02-01",
                                                                                  page_id=2)
            + _k10_rows("AAAA-AAA3", [5] * 10, "2026-03-01", review="k10_04", page_id=3)  # may be the latest
            # P02: complete occasions, but the date of one waits for review: where it goes is not known
            + _k10_rows("BBBB-BBB1", [1] * 10, "2026-01-01", page_id=4) + _k10_rows("BBBB-BBB2", [3] * 10, "2026-03-01",
                                                                                   page_id=5)
            + _k10_rows("BBBB-BBB3", [2] * 10, "2026-02-01", page_id=6, date_waiting=True)
            # P03: the waiting occasion lies between the first and the latest: the change is known
            + _k10_rows("CCCC-CCC1", [1] * 10, "2026-01-01", page_id=7)
            + _k10_rows("CCCC-CCC2", [5] * 10, "2026-02-01", review="k10_04", page_id=8)
            + _k10_rows("CCCC-CCC3", [3] * 10, "2026-03-01", page_id=9))
    codes = {**{f"AAAA-AAA{i}": "P01" for i in (1, 2, 3)}, **{f"BBBB-BBB{i}": "P02" for i in (1, 2, 3)},
             **{f"CCCC-CCC{i}": "P03" for i in (1, 2, 3)}}
    export(rows, tmp_path, codes)
    change = {r["person_code"]: r for r in _read(tmp_path / "k10_change.csv")}
    assert change["P01"]["status"].startswith("pending-review") and change["P01"]["change"] == ""
    assert change["P02"]["status"].startswith("pending-review") and change["P02"]["change"] == ""
    assert (change["P03"]["change"], change["P03"]["status"]) == ("20", "complete; 1 occasion(s) without a usable "
                                                                  "score left out")


MOOD_WITH_A_WRITTEN_CODE = """form: mood
version: 1
title: Mood
licence: shippable
page: {size: A5}
scales:
  f: [{value: 1, label: Low}, {value: 2, label: Mid}, {value: 3, label: High}]
items:
  - {kind: digits, id: client_code, text: Client code, count: 4}
  - {kind: matrix, scale: f, rows: [{id: m1, text: One}, {id: m2, text: Two}]}
  - {kind: date, id: visit, text: Date}
scoring:
  person: client_code
  occasion_date: visit
  scores:
    - {id: mood_total, label: Mood total, method: sum, items: [m1, m2], change: true}
"""


def test_a_form_whose_written_person_code_waits_may_be_anyones_first_or_latest(tmp_path):
    """The code written on a form links it to the person's other forms: while it waits for review the form
    may be anyone's, so no person's change is settled where that form could be their first or latest."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mood.yaml").write_text(MOOD_WITH_A_WRITTEN_CODE, encoding="utf-8")
    catalogue = Catalogue([tmp_path / "templates"])

    def mood(serial: str, code: str, answer: int, date: str, page_id: int, code_waits: bool = False) -> list:
        fields = [("client_code", code, code_waits), ("m1", str(answer), False), ("m2", str(answer), False),
                  ("visit", date, False)]
        return [_row(serial, f, v, form="mood", review=waits, page_id=page_id) for f, v, waits in fields]

    rows = (mood("AAAA-AAA1", "0042", 1, "2026-01-01", 1) + mood("AAAA-AAA2", "0042", 2, "2026-02-01", 2)
            + mood("BBBB-BBB1", "0077", 1, "2026-01-01", 3) + mood("BBBB-BBB2", "0077", 3, "2026-02-01", 4)
            # 0099's forms lie on both sides of the form whose code waits: it cannot be first or latest
            + mood("CCCC-CCC1", "0099", 1, "2026-01-01", 5) + mood("CCCC-CCC2", "0099", 2, "2026-04-01", 6)
            + mood("WWWW-WWW1", "0042", 3, "2026-03-01", 7, code_waits=True))
    export(rows, tmp_path / "out", catalogue=catalogue)
    latest, pending = latest_per_person(load_forms(rows, catalogue=catalogue)["mood"], "mood_total")
    assert (latest, pending) == ({"0099": 4.0}, {"0042", "0077"})  # the reports' latest scores wait as well
    change = {r["person_code"]: r for r in _read(tmp_path / "out" / "mood_change.csv")}
    for code in ("0042", "0077"):
        assert change[code]["status"].startswith("pending-review: the person code of WWWW-WWW1 awaits review")
        assert change[code]["change"] == ""
    assert (change["0099"]["change"], change["0099"]["status"], change["0099"]["occasions"]) == ("2", "complete", "2")
    decided = [{**r, "needs_review": 0, "review": "accept", "reviewed_by": "ana"} if r["field"] == "client_code"
               else r for r in rows]
    export(decided, tmp_path / "after", catalogue=catalogue)
    change = {r["person_code"]: r for r in _read(tmp_path / "after" / "mood_change.csv")}
    assert (change["0042"]["change"], change["0042"]["occasions"], change["0042"]["status"]) == ("4", "3", "complete")
    assert change["0077"]["change"] == "4" and change["0077"]["status"] == "complete"


K10_WORDING = ("None", "A little", "Some", "Most", "All")


def _k10_version_2(folder: Path, option: Callable[[int, str], str], bands: tuple[str, str] | None = None
                   ) -> Catalogue:
    """A catalogue of a K10 version 2 written into ``folder``/templates: each of version 1's options
    ``{value: v, label: L of the time}`` written as ``option(v, L)``, and its bands replaced (``bands``: old,
    new) if given."""
    v2 = Path(shipped_catalogue().find_template("k10", 1).source).read_text(encoding="utf-8")
    v2 = v2.replace("version: 1", "version: 2", 1).replace(*(bands or ("", "")))
    for value, label in enumerate(K10_WORDING, start=1):
        v2 = v2.replace(f"{{value: {value}, label: {label} of the time}}", option(value, label))
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "k10-v2.yaml").write_text(v2, encoding="utf-8")
    return Catalogue([folder / "templates"])


def _k10_in_two_versions(first: int, second: int) -> list[dict[str, object]]:
    """One person's K10 in version 1 (every item ``first``), then in version 2 (``second``)."""
    return (_k10_rows("AAAA-AAA1", [first] * 10, "2026-01-10", page_id=1)
            + [{**r, "version": 2} for r in _k10_rows("AAAA-AAA2", [second] * 10, "2026-02-10", page_id=2)])


def test_versions_that_code_a_form_otherwise_are_labelled_each_as_it_is_and_not_compared(tmp_path):
    """Version 2 of a K10 coded 0-4 (bands 0-40) beside the shipped 1-5: its answers are not labelled with
    version 1's options, the codebook gives both codings and rules, and no change is computed between them."""
    import pyreadstat

    catalogue = _k10_version_2(tmp_path, lambda value, label: f"{{value: {value - 1}, label: {label} of the time}}",
                               ("[[10, 15, low], [16, 21, moderate], [22, 29, high], [30, 50, very high]]",
                                "[[0, 5, low], [6, 11, moderate], [12, 19, high], [20, 40, very high]]"))
    rows = _k10_in_two_versions(5, 4)
    export(rows, tmp_path / "out", {"AAAA-AAA1": "P01", "AAAA-AAA2": "P01"}, catalogue=catalogue,
           formats=("csv", "sav"))
    wide = {r["serial"]: r for r in _read(tmp_path / "out" / "k10.csv")}
    assert (wide["AAAA-AAA1"]["k10_total"], wide["AAAA-AAA2"]["k10_total"]) == ("50", "40")
    book = {r["variable"]: r for r in _read(tmp_path / "out" / "codebook.csv") if r["file"] == "k10.csv"}
    assert "version 1: 1=None of the time" in book["k10_01"]["allowed_values"]
    assert "version 2: 0=None of the time" in book["k10_01"]["allowed_values"]
    assert "version 2: 0–5=low" in book["k10_total_band"]["allowed_values"]
    assert "not comparable" in book["k10_total"]["rule"]
    data, meta = pyreadstat.read_sav(str(tmp_path / "out" / "k10.sav"))
    # "4" is "Most of the time" in one version, "All of the time" in the other: only why a cell is empty is labelled
    assert set(meta.variable_value_labels["k10_01"].values()) == {"not answered", "invalid", "waiting for review"}
    assert "coded differently by version" in meta.column_names_to_labels["k10_01"]
    with pytest.raises(InputError, match="version 2 codes k10_01 otherwise than an earlier version"):
        export(rows, tmp_path / "redcap", catalogue=catalogue, formats=("redcap",))
    [change] = _read(tmp_path / "out" / "k10_change.csv")
    assert change["change"] == "" and change["status"].startswith("invalid: the first and latest occasions are of "
                                                                  "template versions that compute k10_total otherwise")


def test_a_version_that_keeps_the_values_and_rewords_them_is_not_one_redcap_coding(tmp_path):
    """Version 2 of a K10 keeping the values 1-5 and reversing their wording (1 = All of the time): REDCap
    compared the values only, labelled both versions' answers with version 1's wording, and imported a
    version 2 "All of the time" as "None of the time". Now it is refused, as a change of values is."""
    reversed_wording = _k10_version_2(
        tmp_path / "reversed", lambda value, label: f"{{value: {value}, label: {K10_WORDING[5 - value]} of the time}}")
    rows = _k10_in_two_versions(5, 5)
    with pytest.raises(InputError, match="version 2 codes k10_01 otherwise than an earlier version"):
        export(rows, tmp_path / "redcap", catalogue=reversed_wording, formats=("redcap",))
    alike = _k10_version_2(tmp_path / "alike", lambda value, label: f"{{value: {value}, label: {label.lower()}  OF "
                                                                    "the time}")  # case and spacing aside: alike
    export(rows, tmp_path / "alike" / "out", catalogue=alike, formats=("redcap",))


def test_an_answer_outside_the_installed_coding_is_kept_as_text_in_spss_and_stata(tmp_path):
    """A form of a K10 version not installed that coded its answers as letters: <form>.csv shows 'c', the SPSS
    and Stata files coded it -8 and .b, "invalid" (which means a reviewer found it illegible). Now the column is
    written as text there, as the CSV has it."""
    import pyreadstat

    rows = _k10_rows("AAAA-AAA1", [3] * 10, "2026-01-10", page_id=1)
    rows += [{**r, "version": 9, "value": "c" if r["field"] == "k10_01" else r["value"]}
             for r in _k10_rows("AAAA-AAA2", [3] * 10, "2026-02-10", page_id=2)]
    export(rows, tmp_path, formats=("csv", "sav", "dta"))
    assert [r["k10_01"] for r in _read(tmp_path / "k10.csv")] == ["3", "c"]
    for read, name in ((pyreadstat.read_sav, "k10.sav"), (pyreadstat.read_dta, "k10.dta")):
        data, _ = read(str(tmp_path / name), user_missing=True)
        assert list(data["k10_01"]) == ["3", "c"]


def test_text_option_values_that_are_one_number_stay_text_in_spss_and_stata():
    from formkit.exports.variables import Variable, option_numbers
    from formkit.template.schema import Option

    def variable(*values: object) -> Variable:
        return Variable("team", "Team", "choice", tuple(Option(v, f"team {v}") for v in values))

    assert variable(1, 2, 3).numeric and variable("1", "2.5", "-1").numeric
    assert not variable("1", "01", "1.0").numeric  # as numbers, all three would be 1
    big = variable("1", "123456789012345678901234567890")  # quoted, past the nine digits a whole number may have
    assert not big.numeric and option_numbers(big.options) is None  # and so no range of 1 to 1.2e+29
    assert option_numbers(variable(3, "-1", 2).options) == [3.0, -1.0, 2.0]


@pytest.mark.parametrize(("change", "comparable"), [
    ("labels reversed", False),  # 5 means "None" in one version, "All" in the other: the same range, not alike
    ("a band renamed", True),  # bands name values: the values are alike
    ("mean for sum", False),  # another rule over the same items (its score's columns share the field's prefix)
])
def test_a_change_is_computed_only_between_versions_scored_alike(tmp_path, change, comparable):
    source = MOOD_WITH_A_WRITTEN_CODE.replace("{id: mood_total", "{id: m, bands: {sets: {s: [[0, 3, low], [4, 9, "
                                              "high]]}}")
    v2 = source.replace("version: 1", "version: 2")
    if change == "labels reversed":
        v2 = v2.replace("{value: 1, label: Low}, {value: 2, label: Mid}, {value: 3, label: High}",
                        "{value: 1, label: High}, {value: 2, label: Mid}, {value: 3, label: Low}")
    elif change == "a band renamed":
        v2 = v2.replace("[4, 9, high]", "[4, 9, higher]")
    else:
        v2 = v2.replace("method: sum", "method: mean")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "v1.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "t" / "v2.yaml").write_text(v2, encoding="utf-8")

    def mood(serial: str, version: int, answer: int, date: str, page_id: int) -> list:
        return [{**_row(serial, f, v, form="mood", page_id=page_id), "version": version}
                for f, v in (("client_code", "0042"), ("m1", str(answer)), ("m2", str(answer)), ("visit", date))]

    rows = mood("AAAA-AAA1", 1, 1, "2026-01-01", 1) + mood("AAAA-AAA2", 2, 3, "2026-02-01", 2)
    export(rows, tmp_path / "out", catalogue=Catalogue([tmp_path / "t"]), formats=("csv", "sav"))
    [row] = _read(tmp_path / "out" / "mood_change.csv")
    assert (row["status"] == "complete") == comparable, row
    assert (row["change"] != "") == comparable


def test_an_undated_occasion_takes_its_place_by_scan_order(tmp_path):
    """Scanned first with no date written: the person's first occasion, not their latest."""
    rows = (_k10_rows("ZZZZ-ZZZ1", [5] * 10, "", page_id=1) + _k10_rows("AAAA-AAA2", [1] * 10, "2026-01-01", page_id=2)
            + _k10_rows("BBBB-BBB3", [3] * 10, "2026-03-01", page_id=3))
    export(rows, tmp_path, {"ZZZZ-ZZZ1": "P01", "AAAA-AAA2": "P01", "BBBB-BBB3": "P01"})
    [change] = _read(tmp_path / "k10_change.csv")
    assert (change["first_serial"], change["latest_serial"], change["change"]) == ("ZZZZ-ZZZ1", "BBBB-BBB3", "-20")
    assert "undated occasion(s) ordered by scan order" in change["status"]


def test_reverse_scoring_an_answer_without_a_numbered_scale_is_a_template_error(tmp_path):
    path = tmp_path / "mood.yaml"
    path.write_text("""form: mood-check
version: 1
title: Mood check
licence: shippable
scales:
  agree: [{value: 1, label: No}, {value: 2, label: Somewhat}, {value: 3, label: Yes}]
items:
  - {kind: choice, id: calm, text: I felt calm, scale: agree}
  - {kind: line, id: mood, text: My mood, left: Low, right: High, min: 0, max: 10}
scoring:
  scores:
    - {id: mood_sum, method: sum, items: [calm, mood], reverse: [mood]}
""", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"mood\.yaml:12 .*'reverse' needs choices numbered on a scale; mood"):
        load_template(path)


def test_forms_from_two_template_versions_export_together(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    k10 = Path(shipped_catalogue().find_template("k10", 1).source).read_text(encoding="utf-8")
    (folder / "k10-v2.yaml").write_text(k10.replace("version: 1\n", "version: 2\n", 1), encoding="utf-8")
    two_versions = Catalogue([folder])
    assert two_versions.find_template("k10", 2) is not None
    rows = _k10_rows("AAAA-AAA1", [3] * 10) + [dict(r, version=2) for r in _k10_rows("BBBB-BBB2", [1] * 10)]
    export(rows, tmp_path, catalogue=two_versions)
    wide = {r["serial"]: r for r in _read(tmp_path / "k10.csv")}
    assert (wide["AAAA-AAA1"]["version"], wide["BBBB-BBB2"]["version"]) == ("1", "2")
    assert wide["BBBB-BBB2"]["k10_total"] == "10"
    assert next(r for r in _read(tmp_path / "codebook.csv") if r["variable"] == "k10_total")["versions"] == "1;2"


def test_excel_option_writes_a_byte_order_mark(tmp_path):
    export(_k10_rows("AAAA-AAA1", [3] * 10), tmp_path, bom=True)
    assert (tmp_path / "k10.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_end_to_end_scores_match_the_answers_that_were_marked(tmp_path):
    """Print K10 and alliance-check forms, fill them at random (clear marks only), scan photos and scans of
    them, export, and check every score against the one computed from the known answers."""
    import random

    import cv2

    from formkit.export import scales
    from formkit.generate import generate, make_copies
    from formkit.layout import build_layout
    from formkit.serial import format_serial
    from formkit.store import Store
    from formkit.template import resolve_template
    from scanner.batch import scan
    from tests.synthetic import degrade_scan, fill_page, render_pdf

    folder = tmp_path / "scans"
    folder.mkdir()
    expected: dict[str, dict[str, str]] = {}
    rng = random.Random(11)
    for seed, (form, copies) in enumerate((("k10", 3), ("alliance-check", 2))):
        layout = build_layout(resolve_template(form))
        pdf = tmp_path / f"{form}.pdf"
        manifest = generate(layout, make_copies(copies, None, seed=seed), pdf)
        for index, image in enumerate(render_pdf(pdf, 200)):
            row = manifest[index]
            filled = fill_page(image, 200, layout.page(int(row["form_page"])), rng, hard=False)
            truth = {k: Answer(t.value) for k, t in filled.truth.items()}
            template = shipped_catalogue().find_template(form, 1)
            scores = score_form(read_scoring(template), truth, scales(template))
            rules = {r.id: r for r in read_scoring(template).scores}
            printed = format_serial(str(row["serial"]))  # the CSVs write the serial as printed on the form
            expected[printed] = {k: r.text(rules[k].decimals) for k, r in scores.items()}
            expected[printed].update({f"{k}_status": r.status for k, r in scores.items()})
            scanned = degrade_scan(filled.image, 200, rng, out_dpi=200, upside_down=index % 2 == 1)
            cv2.imwrite(str(folder / f"{form}-{index}.png"), cv2.cvtColor(scanned, cv2.COLOR_RGB2BGR))
    store = Store(tmp_path / "s.sqlite")
    scan([folder], store, jobs=1)
    export(store.values(), tmp_path / "out")
    seen = 0
    for form in ("k10", "alliance-check"):
        for row in _read(tmp_path / "out" / f"{form}.csv"):
            for key, value in expected[row["serial"]].items():
                got = row[key].split(":")[0] if key.endswith("_status") else row[key]
                assert got == value, (row["serial"], key)
            seen += 1
    assert seen == 5


def test_an_unknown_band_set_or_score_is_a_clear_error(tmp_path):
    from formkit.errors import InputError

    rows = _k10_rows("AAAA-AAA1", [3] * 10)
    with pytest.raises(InputError, match="the sets are four-level, likely-disorder"):
        export(rows, tmp_path, band_choice={"k10_total": "nope"})
    with pytest.raises(InputError, match="k10_sum"):
        export(rows, tmp_path, band_choice={"k10_sum": "four-level"})
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_form_of_a_version_not_installed_says_so_where_the_other_versions_have_scores(tmp_path):
    rows = _k10_rows("AAAA-AAA1", [3] * 10) + [dict(r, version=2) for r in _k10_rows("BBBB-BBB2", [1] * 10)]
    export(rows, tmp_path)
    wide = {r["serial"]: r for r in _read(tmp_path / "k10.csv")}
    assert wide["AAAA-AAA1"]["k10_total"] == "30"
    assert wide["BBBB-BBB2"]["k10_total"] == ""
    assert wide["BBBB-BBB2"]["k10_total_status"] == "invalid: version 2 of k10 is not installed (--templates)"


def test_a_form_whose_person_code_waits_leaves_a_change_pending_when_its_date_would_reorder_the_persons_own():
    """An undated occasion goes after the latest date scanned before it. A form whose written person code waits
    for review (dated 2025-01-01, scanned first) put P1's undated occasion after it, so P1's change ran from that
    undated one (10) to one dated 2024-06-01 (20): +10, complete, unflagged. Were the waiting form P1's, their
    occasions would run 2024-06-01, 2025-01-01, undated: -10. The change waits for review."""
    waiting = Occasion("", "S-X", "2025-01-01", 1, 30.0, COMPLETE, person_waiting=True)
    undated = Occasion("P1", "S-B", "", 3, 10.0, COMPLETE)
    dated = Occasion("P1", "S-A", "2024-06-01", 5, 20.0, COMPLETE)
    [row] = change_rows("k10_total", [waiting, undated, dated], 0)
    assert str(row["status"]).startswith("pending-review") and not row.get("change")
    [alone] = change_rows("k10_total", [undated, dated], 0)  # without it: the order by scan, as before
    assert str(alone["status"]).startswith("complete")
