"""The reports take a person's occasions in the order the export's change file does, and count each person
in one note only: a report never shows another direction of change than the export."""

from __future__ import annotations

from formkit.report.data import load_forms, person_data, service_data


def _k10(serial: str, total_item: int, date: str, page_id: int, pending: str = "") -> list[dict[str, object]]:
    """A K10 page read (its ten answers all ``total_item``, its date ``date``) as ``Store.values()`` gives it."""
    fields = [(f"k10_{i:02d}", str(total_item)) for i in range(1, 11)] + [("date_completed", date)]
    return [{"page_id": page_id, "status": "read", "form": "k10", "version": 1, "variant": "N", "form_page": 1,
             "serial": serial, "conflict_of": None, "source_file": f"/scans/{serial}.png", "source_page": 1,
             "field": field, "kind": "choice", "value": value, "confidence": 0.99,
             "needs_review": int(field == pending), "reason": "", "review": "", "reviewed_by": "",
             "value_id": page_id * 100 + n} for n, (field, value) in enumerate(fields)]


def _goal_card(serial: str, rating: str, page_id: int, pending: bool = False) -> list[dict[str, object]]:
    fields = [("progress_1", rating)] + [(f"progress_{i}", "") for i in (2, 3, 4)] + [("date_set", "2026-01-02")]
    return [{"page_id": page_id, "status": "read", "form": "goal-card", "version": 1, "variant": "N", "form_page": 1,
             "serial": serial, "conflict_of": None, "source_file": f"/scans/{serial}.png", "source_page": 1,
             "field": field, "kind": "choice", "value": value, "confidence": 0.99,
             "needs_review": int(pending and field == "progress_1"), "reason": "", "review": "", "reviewed_by": "",
             "value_id": page_id * 100 + n} for n, (field, value) in enumerate(fields)]


def test_an_undated_occasion_scanned_first_is_first_in_the_person_report_as_in_the_change_file():
    rows = _k10("UNDA-TED1", 2, "", page_id=1) + _k10("JANU-ARY1", 4, "2026-01-05", page_id=2) \
        + _k10("FEBR-UAR1", 3, "2026-02-01", page_id=3)
    codes = {"UNDATED1": "P1", "JANUARY1": "P1", "FEBRUAR1": "P1"}
    forms = load_forms(rows, [{"form": "k10", "serial": "UNDATED1", "scanned": "2026-03-01"}], codes)
    shown = [o.serial for o in person_data(forms, "P1").occasions["k10"]]
    [change] = forms["k10"].change
    assert shown == ["UNDA-TED1", "JANU-ARY1", "FEBR-UAR1"]
    assert (change["first_serial"], change["latest_serial"]) == (shown[0], shown[-1])


def test_a_person_whose_latest_goal_card_waits_is_counted_once_beside_the_k10_change():
    rows = (_k10("AAAA-AAA1", 4, "2026-01-05", page_id=1) + _k10("AAAA-AAA2", 2, "2026-03-05", page_id=2)
            + _goal_card("GOAL-AAA1", "5", page_id=3, pending=True))
    codes = {"AAAAAAA1": "P1", "AAAAAAA2": "P1", "GOALAAA1": "P1"}
    service = service_data(load_forms(rows, [], codes))
    [goal] = [a for a in service.associations if a.x_score == "progress_latest"]
    assert "1 whose latest goal-card waits for review" in goal.left_out
    assert "no usable goal-card score" not in goal.left_out


def test_the_notes_name_each_person_of_the_k10_change_file_once_and_no_one_without_a_k10():
    """P2's latest K10 and latest goal card both wait: counted in two notes. P3 has no K10 at all, only a goal
    card waiting: counted as left out of a plot P3 could never be in."""
    rows = (_k10("AAAA-AAA1", 3, "2026-01-05", page_id=1) + _k10("AAAA-AAA2", 2, "2026-03-05", page_id=2)
            + _goal_card("GOAL-AAA1", "6", page_id=3)
            + _k10("BBBB-BBB1", 3, "2026-01-06", page_id=4) + _k10("BBBB-BBB2", 2, "2026-03-06", page_id=5,
                                                                   pending="k10_03")
            + _goal_card("GOAL-BBB1", "6", page_id=6, pending=True) + _goal_card("GOAL-CCC1", "4", page_id=7,
                                                                                  pending=True))
    codes = {"AAAAAAA1": "P1", "AAAAAAA2": "P1", "GOALAAA1": "P1", "BBBBBBB1": "P2", "BBBBBBB2": "P2",
             "GOALBBB1": "P2", "GOALCCC1": "P3"}
    service = service_data(load_forms(rows, [], codes))
    [goal] = [a for a in service.associations if a.x_score == "progress_latest"]
    assert goal.left_out == "1 whose first or latest K10 waits for review"


def test_a_date_waiting_for_review_with_no_date_guessed_is_still_being_checked_not_unwritten():
    rows = _k10("AAAA-AAA1", 3, "", page_id=1, pending="date_completed")
    forms = load_forms(rows, [{"form": "k10", "serial": "AAAAAAA1", "scanned": "2026-03-01"}], {"AAAAAAA1": "P1"})
    [occasion] = person_data(forms, "P1").occasions["k10"]
    assert occasion.dated_by == "pending"  # "?": still being checked; "*" said no date was written


def test_a_person_whose_k10s_are_of_versions_scored_otherwise_is_named_so_not_as_having_too_few():
    from formkit.report.data import NOT_COMPARABLE, ChangeSummary

    summary = ChangeSummary("k10", "k10_total", "K10 total", {"P2": -10.0}, {"P1": NOT_COMPARABLE}, "lower", None, "")
    assert (summary.not_comparable, summary.too_few, summary.pending) == (1, 0, 0)


def test_a_chart_title_is_cut_to_its_chart_at_a_word():
    from formkit.layout.text import register_fonts
    from formkit.report.charts import fitted

    register_fonts()
    title = "K10 total (10-50; higher means more distress)"
    cut = fitted(title, 7.5, 120, bold=True)
    assert cut.endswith("\u2026") and title.startswith(cut[:-1]) and len(cut) < len(title)
    assert fitted("K10 total", 7.5, 120, bold=True) == "K10 total"
