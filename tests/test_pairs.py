"""Client and worker forms in pairs (formkit/pairs.py): printed with ``--pair``, filled, scanned, paired and
compared; and the rules, on rows made by hand.

Scanned: three goal cards printed with ``goal-card --pair`` for P01 (two goals set on one day) and P02. P01's
first pair comes back complete; in P01's second, the worker marked review #2 twice and nobody has
reviewed it yet (pending-review); P02's worker form never comes back (unpaired). P03's alliance check is
printed with ``--pair``; P04's client and worker alliance checks are printed apart and find each other by
person code and date.
"""

from __future__ import annotations

import csv
import random
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.exports.frames import scored_tables
from formkit.pairs import PAIRS, codebook_rows, link, pair_tables, worker_form
from formkit.serial import normalise_serial
from formkit.store import Store
from formkit_cli import main

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("pairs")

ITEMS_GOAL, ITEMS_TASK, ITEMS_BOND = (1, 4, 7, 10), (2, 5, 8, 11), (3, 6, 9, 12)


def _ac(by_item: dict[int, int]) -> dict[str, int]:
    return {f"ac_{i:02d}": v for i, v in by_item.items()}


def _subscales(goal: int, task: int, bond: int) -> dict[str, int]:
    return _ac({**dict.fromkeys(ITEMS_GOAL, goal), **dict.fromkeys(ITEMS_TASK, task),
                **dict.fromkeys(ITEMS_BOND, bond)})


# code, client answers, worker answers (None: never comes back), date written, worker field marked twice
GOALS = [
    ("P01", {"progress_1": 3, "progress_2": 5, "progress_3": 7},
     {"goal_match": "similar", "progress_1": 4, "progress_2": 5, "progress_3": 4}, "12012026", None),
    ("P01", {"progress_1": 2, "progress_2": 6}, {"goal_match": "same", "progress_1": 2, "progress_2": 6}, "12012026",
     "progress_2"),
    ("P02", {"progress_1": 1}, None, "20012026", None),
]
# code, printed as a pair or apart, client answers, worker answers, date written
ALLIANCE = [
    ("P03", "pair", _subscales(4, 4, 4), _subscales(3, 3, 3), "30032026"),
    ("P04", "apart", _subscales(5, 5, 5), _subscales(4, 3, 5), "06042026"),
]


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def _roster(path: Path, codes: list[str]) -> Path:
    path.write_text("name,code\n" + "".join(f"Someone {i},{c}\n" for i, c in enumerate(codes)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """Print (with --pair and apart), fill, scan and partly review the forms of GOALS and ALLIANCE; returns
    (store rows, codes, folder, scan dates)."""
    from formkit.export import read_codes
    from formkit.layout import build_layout
    from formkit.layout.model import BoxesField, ChoiceField, TextField
    from formkit.template import resolve_template
    from tests.shared_pages import DATE_FIELDS, handwritten_digits, mark_page, scan_and_review, write_page
    from tests.synthetic import render_pdf

    tmp = tmp_path_factory.mktemp("pairs")
    scans = tmp / "scans"
    scans.mkdir()
    digits = handwritten_digits()
    rng = random.Random(8)
    runs = [  # (generate arguments, {(form, copy index): (answers, date, field marked twice)}, manifest)
        (["goal-card", "--pair", "--roster", str(_roster(tmp / "goals.csv", [g[0] for g in GOALS]))],
         {**{("goal-card", i): (g[1], g[3], None) for i, g in enumerate(GOALS)},
          **{("goal-review-worker", i): (g[2], g[3], g[4]) for i, g in enumerate(GOALS) if g[2] is not None}}),
        (["alliance-check", "--pair", "--roster", str(_roster(tmp / "ac.csv", ["P03"]))],
         {("alliance-check", 0): (ALLIANCE[0][2], ALLIANCE[0][4], None),
          ("alliance-check-worker", 0): (ALLIANCE[0][3], ALLIANCE[0][4], None)}),
        (["alliance-check", "--roster", str(_roster(tmp / "ac4.csv", ["P04"]))],
         {("alliance-check", 0): (ALLIANCE[1][2], ALLIANCE[1][4], None)}),
        (["alliance-check-worker", "--roster", str(_roster(tmp / "acw4.csv", ["P04"]))],
         {("alliance-check-worker", 0): (ALLIANCE[1][3], ALLIANCE[1][4], None)}),
    ]
    manifests, truth, twice = [], {}, set()
    for number, (args, plan) in enumerate(runs):
        pdf, manifest = tmp / f"run{number}.pdf", tmp / f"run{number}.csv"
        _run("generate", *args, "--out", str(pdf), "--manifest", str(manifest), "--seed", str(20 + number))
        manifests.append(manifest)
        rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
        order = list(dict.fromkeys(r["serial"] for r in rows))
        layouts = {}
        for row, image in zip(rows, render_pdf(pdf, 200), strict=True):
            form, serial = row["form"], normalise_serial(row["serial"])
            if (form, order.index(row["serial"])) not in plan:
                continue  # the half that never comes back
            answers, day, double = plan[(form, order.index(row["serial"]))]
            page = layouts.setdefault(form, build_layout(resolve_template(form))).page(int(row["form_page"]))
            for f in page.fields:
                if isinstance(f, ChoiceField):
                    truth[(form, serial, f.id)] = str(answers.get(f.id, ""))
                    if f.id == double and f.id in answers:
                        twice.add((form, serial, f.id))
                elif isinstance(f, BoxesField) and f.id in DATE_FIELDS:
                    truth[(form, serial, f.id)] = f"{day[4:]}-{day[2:4]}-{day[:2]}"
                elif isinstance(f, TextField):
                    truth[(form, serial, f.id)] = ""  # left blank
            mark_page(image, page, answers, day, (double,) if double else (), digits, rng)
            write_page(image, scans / f"{form}-{serial}-{row['form_page']}.jpg")

    def review(row: dict) -> tuple[str, str] | None:
        # a reviewer settles whatever the reader was unsure of, except the worker's double mark: it stays pending
        key = (row["form"], row["serial"], row["field"])
        if key not in twice and key in truth:
            return "corrected" if truth[key] else "blank", truth[key]
        return None

    store = Store(scan_and_review(scans, tmp / "forms.sqlite", review, jobs=2), readonly=True)
    rows, scan_dates = store.values(), store.scan_dates()
    store.close()
    return rows, read_codes(*manifests), tmp, scan_dates, twice


@pytest.fixture(scope="module")
def tables(scanned):
    rows, codes, *_ = scanned
    return {name: (columns, out, described) for name, columns, out, described in pair_tables(rows, codes)}


def _by_person(table: list[dict], code: str) -> list[dict]:
    return [r for r in table if r["person_code"] == code]


def test_printed_pairs_carry_one_serial_and_both_halves_come_back_under_it(scanned):
    rows, codes, tmp, *_ = scanned
    manifest = list(csv.DictReader((tmp / "run0.csv").open(encoding="utf-8")))
    cards = [r["serial"] for r in manifest if r["form"] == "goal-card" and r["form_page"] == "1"]
    workers = [r["serial"] for r in manifest if r["form"] == "goal-review-worker"]
    assert cards == workers and len(set(cards)) == 3
    assert [int(r["pdf_page"]) for r in manifest] == list(range(1, 10))  # the worker's forms follow the cards'
    assert {r["code"] for r in manifest if r["serial"] == cards[0]} == {"P01"}
    read = {(r["form"], r["serial"]) for r in rows if r["status"] == "read"}
    first = normalise_serial(cards[0])
    assert {("goal-card", first), ("goal-review-worker", first)} <= read  # one serial, two forms, no clash
    assert codes[first] == "P01"


def test_pairs_from_the_tables_the_export_made_are_the_pairs_from_its_rows(scanned, tables):
    """The export hands ``pair_tables`` the tables it made (``forms``) rather than have them made again."""
    rows, codes, *_ = scanned
    given = pair_tables(rows, codes, forms=scored_tables(rows, codes))
    assert {name: (columns, out, described) for name, columns, out, described in given} == tables


def test_goal_pair_compares_progress_review_by_review_and_at_the_latest(tables):
    columns, rows, _ = tables["goal-card_pairs.csv"]
    complete = [r for r in _by_person(rows, "P01") if r["status"] == "complete"]
    assert len(complete) == 1
    row = complete[0]
    assert row["linked_by"] == "serial" and row["pair_id"] == row["client_serial"] == row["worker_serial"]
    assert row["occasion_date"] == "2026-01-12" and row["worker_goal_match"] == "similar"
    assert [row[f"client_progress_{i}"] for i in (1, 2, 3, 4)] == ["3", "5", "7", ""]
    assert [row[f"worker_progress_{i}"] for i in (1, 2, 3, 4)] == ["4", "5", "4", ""]
    assert [row[f"progress_{i}_diff"] for i in (1, 2, 3, 4)] == ["-1", "0", "3", ""]
    assert [row[f"progress_{i}_agree"] for i in (1, 2, 3, 4)] == [1, 1, 0, ""]
    assert (row["latest_review"], row["latest_diff"], row["latest_agree"], row["latest_status"]) == (3, "3", 0,
                                                                                                     "complete")
    assert set(row) == set(columns)


def test_a_pair_with_a_value_waiting_for_review_is_pending_and_computes_nothing_from_it(tables):
    _, rows, _ = tables["goal-card_pairs.csv"]
    [row] = [r for r in _by_person(rows, "P01") if r["status"] != "complete"]
    assert row["status"].startswith("pending-review") and "worker progress_2" in row["status"]
    assert row["linked_by"] == "serial" and row["worker_progress_2"] == "" and row["progress_2_diff"] == ""
    assert (row["progress_1_diff"], row["progress_1_agree"]) == ("0", 1)  # checked values still compare
    assert row["latest_status"].startswith("pending-review") and row["latest_diff"] == ""
    assert row["worker_needs_review"] >= 1
    # P01 set both goals on one day: the person's consensus waits for the second goal
    for r in _by_person(rows, "P01"):
        assert r["consensus_share"] == "" and r["consensus_status"].startswith("pending-review")


def test_a_card_whose_worker_half_never_came_back_is_unpaired(tables):
    _, rows, _ = tables["goal-card_pairs.csv"]
    [row] = _by_person(rows, "P02")
    assert row["status"] == "unpaired: the worker's form has not come back"
    assert row["worker_serial"] == "" and row["pair_id"] == "" and row["client_progress_1"] == "1"
    assert row["latest_status"] == row["consensus_status"] == "unpaired" and row["progress_1_diff"] == ""
    assert rows[-1] is row  # unpaired rows come last


def test_alliance_gap_is_client_minus_worker_linked_by_serial_or_by_person_and_date(tables):
    _, rows, _ = tables["alliance-check_pairs.csv"]
    p03, p04 = _by_person(rows, "P03"), _by_person(rows, "P04")
    assert len(p03) == len(p04) == 1
    p03, p04 = p03[0], p04[0]
    assert p03["linked_by"] == "serial" and p04["linked_by"] == "person-date"
    assert p04["pair_id"] == f"{p04['client_serial']}+{p04['worker_serial']}"
    assert p04["client_serial"] != p04["worker_serial"] and p04["occasion_date"] == "2026-04-06"
    assert (p03["client_ac_total"], p03["worker_ac_total"], p03["ac_total_gap"]) == ("48.0", "36.0", "12.0")
    assert [p03[f"{s}_gap"] for s in ("ac_goal", "ac_task", "ac_bond")] == ["4.0", "4.0", "4.0"]
    assert [p04[f"{s}_gap"] for s in ("ac_total", "ac_goal", "ac_task", "ac_bond")] == ["12.0", "4.0", "8.0", "0.0"]
    for row in (p03, p04):
        assert row["status"] == "complete"
        assert all(row[f"{s}_gap_status"] == "complete" for s in ("ac_total", "ac_goal", "ac_task", "ac_bond"))


def test_every_column_of_the_pairs_files_is_in_the_codebook(tables):
    for name, (columns, rows, described) in tables.items():
        assert set(described) == set(columns) and all(len(d) == 4 and d[0] for d in described.values())
        entries = codebook_rows((name, columns, rows, described))
        assert [e["variable"] for e in entries] == columns and {e["file"] for e in entries} == {name}
        spec = next(s for s in PAIRS.values() if s.file_name == name)
        assert entries[0]["template"] == f"{spec.client};{spec.worker}"
        assert entries[0]["versions"] == f"{spec.client} 1; {spec.worker} 1"


def test_the_person_report_shows_the_two_views_side_by_side(scanned, tmp_path):
    from formkit.report.data import load_forms, person_data
    from formkit.report.person import person_pdf

    rows, codes, _, scan_dates, _ = scanned
    forms = load_forms(rows, scan_dates, codes)
    text = {}
    for code in ("P01", "P04"):
        pdf = tmp_path / f"{code}.pdf"
        pdf.write_bytes(person_pdf(person_data(forms, code)))
        text[code] = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                                    text=True).stdout
        assert "How your worker sees it" in text[code]
        assert "(worker)" not in text[code]  # a worker's form is never shown on its own
    # goals: the client's and the worker's rating at each review, the worker's double mark pending
    assert re.search(r"You\s+3\s+5\s+7\n\s*Your worker\s+4\s+5\s+4\n", text["P01"])
    assert re.search(r"You\s+2\s+6\n\s*Your worker\s+2\s+pending\n", text["P01"])
    # the alliance: both totals, the gap of the total and of goals, tasks and bond (client minus worker)
    assert re.search(r"6 Apr 2026\s+60\s+48\s+12\s+4\s+8\s+0\n", text["P04"])


# --- The rules, on rows made by hand --------------------------------------------------------------------

def _rows(form: str, serial: str, values: dict[str, str], waiting: tuple[str, ...] = ()) -> list[dict]:
    return [{"page_id": 1, "status": "read", "form": form, "version": 1, "variant": "N", "form_page": 1,
             "serial": serial, "conflict_of": None, "source_file": "a.png", "source_page": 1, "field": f,
             "kind": "choice", "value": v, "confidence": 0.9, "needs_review": int(f in waiting), "reason": "",
             "review": "", "reviewed_by": ""} for f, v in values.items()]


SERIALS = ["K7M3QX9C", "AAAAAAAA", "CCCCCCCC", "DDDDDDDD", "EEEEEEEE", "FFFFFFFF"]


def test_consensus_share_is_over_a_persons_goals_on_one_occasion():
    day = {"date_set": "2026-02-03"}
    rows = [*_rows("goal-card", SERIALS[0], {**day, "progress_1": "5", "progress_2": "7"}),
            *_rows("goal-review-worker", SERIALS[0], {**day, "progress_1": "5", "progress_2": "5"}),
            *_rows("goal-card", SERIALS[1], {**day, "progress_1": "4"}),
            *_rows("goal-review-worker", SERIALS[1], {**day, "progress_1": "5"}),
            *_rows("goal-card", SERIALS[2], {**day, "progress_1": "4"}),
            *_rows("goal-review-worker", SERIALS[2], {**day, "progress_1": "8"}),
            # another day: its own occasion
            *_rows("goal-card", SERIALS[3], {"date_set": "2026-03-03", "progress_1": "2"}),
            *_rows("goal-review-worker", SERIALS[3], {"date_set": "2026-03-03", "progress_1": "2"})]
    codes = dict.fromkeys(SERIALS[:4], "P09")
    [(name, _, out, _)] = pair_tables(rows, codes)
    assert name == "goal-card_pairs.csv" and len(out) == 4
    first_day = [r for r in out if r["occasion_date"] == "2026-02-03"]
    assert sorted(r["latest_agree"] for r in first_day) == [0, 0, 1]  # 7 vs 5, 4 vs 8 disagree; 4 vs 5 agrees
    assert {(r["consensus_share"], r["consensus_goals"], r["consensus_status"]) for r in first_day} == \
        {("0.333", 3, "complete")}
    [later] = [r for r in out if r["occasion_date"] == "2026-03-03"]
    assert (later["consensus_share"], later["consensus_goals"]) == ("1.000", 1)


def test_person_and_date_link_only_one_form_of_each_side_and_never_a_pending_date():
    rows = [*_rows("alliance-check", SERIALS[0], {"date_completed": "2026-05-01"}),
            *_rows("alliance-check", SERIALS[1], {"date_completed": "2026-05-01"}),
            *_rows("alliance-check-worker", SERIALS[2], {"date_completed": "2026-05-01"}),
            *_rows("alliance-check", SERIALS[3], {"date_completed": "2026-05-02"}, waiting=("date_completed",)),
            *_rows("alliance-check-worker", SERIALS[4], {"date_completed": "2026-05-02"})]
    codes = dict.fromkeys(SERIALS, "P10")
    [(_, _, out, _)] = pair_tables(rows, codes)
    assert len(out) == 5 and all(r["status"].startswith("unpaired") for r in out)
    assert sum("cannot tell which go together" in r["status"] for r in out) == 3
    assert any("waits for review" in r["status"] for r in out)
    # no worker's form at all: pairing is not in use, and no pairs file is made
    assert pair_tables(_rows("alliance-check", SERIALS[0], {"date_completed": "2026-05-01"})) == []


def test_a_gap_is_invalid_or_pending_when_a_sides_score_is():
    answers = {f"ac_{i:02d}": "3" for i in range(1, 13)}
    rows = [*_rows("alliance-check", SERIALS[0], {**answers, "ac_01": "", "ac_04": ""}),  # goals: 2 missing
            *_rows("alliance-check-worker", SERIALS[0], {**answers, "ac_03": "4"}, waiting=("ac_03",))]
    [(_, _, [row], _)] = pair_tables(rows)
    assert row["ac_goal_gap"] == "" and row["ac_goal_gap_status"].startswith("invalid: client")
    assert row["ac_bond_gap_status"].startswith("pending-review: worker") and row["ac_bond_gap"] == ""
    assert (row["ac_task_gap"], row["ac_task_gap_status"]) == ("0.0", "complete")
    assert row["status"] == "pending-review: waiting for review: worker ac_03"


def test_link_pairs_by_serial_first_whatever_the_dash():
    clients = [("K7M3-QX9C", "P1", "2026-01-01")]
    workers = [("K7M3QX9C", "", ""), ("AAAA-AAAA", "P1", "2026-01-01")]
    links = link(clients, workers, lambda t: t)
    assert [(lk.client, lk.worker, lk.linked_by) for lk in links if lk.paired] == \
        [(clients[0], workers[0], "serial")]
    assert [lk.worker for lk in links if not lk.paired] == [workers[1]]
    assert worker_form("goal-card") == "goal-review-worker" and worker_form("k10") is None


def test_an_export_without_csv_says_the_pairs_are_written_as_csv_only(tmp_path):
    from formkit.export import export

    answers = {f"ac_{i:02d}": "3" for i in range(1, 13)}
    rows = [*_rows("alliance-check", SERIALS[0], answers), *_rows("alliance-check-worker", SERIALS[0], answers)]
    written = export(rows, tmp_path, formats=("xlsx",))
    assert any("pairs are written as CSV only" in note for note in written.notes)
    assert not any("CSV only" in note for note in export(rows, tmp_path / "csv", formats=("csv", "xlsx")).notes)
