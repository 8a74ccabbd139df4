"""Reports: the person report and the service report, from a store of real scanned forms.

Three people (P01-P03) return K10s, alliance checks and goal cards over two or three occasions. The forms
are printed, marked with known answers and dates in handwriting, scanned into a store and partly reviewed,
as in use. P01's second K10 has a double mark that nobody has reviewed yet: it stays pending.
"""

from __future__ import annotations

import csv
import math
import random
import statistics
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit.export import export, read_codes
from formkit.report.charts import bins, counts
from formkit.report.data import load_forms, pearson, person_data, service_data
from formkit.serial import normalise_serial
from formkit.store import Store
from formkit_cli import main
from tests.shared_pages import DATE_FIELDS, Return, print_and_fill, scan_and_review

# the tests share module-scoped fixtures: with --dist loadgroup they run on one xdist worker, which
# builds the fixtures once
pytestmark = pytest.mark.xdist_group("report")

NAMES = ("Alice Example", "Bob Sample", "Carol Placeholder")  # in the codes file only: never read, never printed


def _k10(*values: int) -> dict[str, int]:
    return {f"k10_{i:02d}": v for i, v in enumerate(values, start=1)}


def _ac(*values: int) -> dict[str, int]:
    return {f"ac_{i:02d}": v for i, v in enumerate(values, start=1)}


# form, answers, date written (DDMMYYYY), a field marked twice (left for review or reviewed below), person
PLAN = [
    Return("k10", _k10(4, 4, 3, 3, 3, 3, 3, 3, 3, 3), "12012026", person="P01"),  # 32
    Return("k10", _k10(3, 3, 3, 3, 3, 3, 3, 3, 3, 3), "16022026", ("k10_04",), "P01"),  # pending
    Return("k10", _k10(3, 3, 2, 3, 2, 2, 3, 2, 2, 2), "23032026", person="P01"),  # 24
    Return("k10", _k10(3, 3, 3, 3, 3, 3, 3, 3, 2, 2), "20012026", person="P02"),  # 28
    Return("k10", _k10(3, 3, 2, 3, 2, 3, 3, 2, 2, 2), "30032026", person="P02"),  # 25
    Return("k10", _k10(4, 4, 4, 4, 3, 4, 3, 3, 3, 3), "02022026", ("k10_09",), "P03"),  # 35 once k10_09 is reviewed
    Return("k10", _k10(2, 2, 2, 2, 2, 2, 2, 2, 2, 2), "06042026", person="P03"),  # 20
    Return("alliance-check", _ac(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3), "12012026", person="P01"),
    Return("alliance-check", _ac(4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4), "23032026", person="P01"),
    Return("alliance-check", _ac(3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4), "30032026", person="P02"),
    Return("alliance-check", _ac(5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4), "06042026", person="P03"),
    Return("goal-card", {"progress_1": 2, "progress_2": 4, "progress_3": 6, "goal": "Walk to the shops"}, "12012026",
           person="P01"),
    Return("goal-card", {"progress_1": 3, "progress_2": 3}, "20012026", person="P02"),
    Return("goal-card", {"progress_1": 1, "progress_2": 5, "progress_3": 8}, "02022026", person="P03"),
]
REVIEWED = {("P03", "k10_09"): "3"}  # decided by a reviewer in the fixture; P01's k10_04 waits


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Print, mark, scan and partly review the forms of PLAN; returns (folder, store path, codes file)."""
    tmp = tmp_path_factory.mktemp("report")
    # clean images, written fast: reading degraded scans is tested elsewhere; reports are tested here
    printed = print_and_fill(tmp, PLAN, random.Random(5), suffix=".jpg")
    codes_file = tmp / "codes.csv"
    with codes_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["serial", "code", "name"])
        writer.writeheader()
        writer.writerows({"serial": serial, "code": r.person, "name": NAMES[int(r.person[-1]) - 1]}
                         for serial, r in printed.items())
    planned = {normalise_serial(serial): r for serial, r in printed.items()}

    def review(row: dict) -> tuple[str, str] | None:
        # a reviewer types in dates the digit reader was unsure of, and settles P03's double mark
        back = planned[normalise_serial(row["serial"])]
        if row["field"] in DATE_FIELDS:
            return "corrected", f"{back.day[4:]}-{back.day[2:4]}-{back.day[:2]}"
        if (back.person, row["field"]) in REVIEWED:
            return "corrected", REVIEWED[(back.person, row["field"])]
        return None

    db = scan_and_review(tmp / "scans", tmp / "forms.sqlite", review, jobs=2)
    return tmp, db, codes_file


def _run(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _checked_text(pdf: Path) -> str:
    """The PDF's text, once qpdf finds it sound and every font is embedded DejaVu."""
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    listed = fonts.splitlines()[2:]
    assert listed and all("DejaVuSans" in line and " yes yes " in line for line in listed), fonts
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _forms(built):
    _, db, codes_file = built
    store = Store(db, readonly=True)
    try:
        return load_forms(store.values(), store.scan_dates(), read_codes(codes_file))
    finally:
        store.close()


def test_person_report_shows_the_code_never_a_name_and_marks_what_waits_for_review(built):
    tmp, db, codes_file = built
    _run("report", "person", "--db", db, "--codes", codes_file, "--person", "P01", "--out", tmp / "P01.pdf")
    text = _checked_text(tmp / "P01.pdf")
    assert "P01" in text and "Name:" in text
    assert not any(word in text for name in NAMES for word in name.split())
    assert "P02" not in text and "P03" not in text
    # P01's second K10 waits for review of a double mark: drawn hollow, the word "pending", no number
    assert "pending" in text and "hollow" in text
    assert "Goal 1" in text and "better" in text
    for label in ("12 Jan 2026", "16 Feb 2026", "23 Mar 2026"):  # occasion dates written on the forms
        assert label in text
    info = subprocess.run(["pdfinfo", str(tmp / "P01.pdf")], check=True, capture_output=True, text=True).stdout
    assert int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))) <= 2


def test_person_reports_for_everyone_one_file_each_named_by_code(built):
    tmp, db, codes_file = built
    out = tmp / "people"
    printed = _run("report", "person", "--db", db, "--codes", codes_file, "--all", "--large-print", "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["P01.pdf", "P02.pdf", "P03.pdf"]
    assert printed.split() == [str(out / f"P0{i}.pdf") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        text = _checked_text(out / f"P0{i}.pdf")
        assert f"P0{i}" in text and not any(word in text for name in NAMES for word in name.split())
    # P02 has nothing waiting for review: nothing on their summary says pending
    assert "pending" not in _checked_text(out / "P02.pdf")


def test_person_report_refuses_an_unknown_code_and_needs_one_choice(built):
    tmp, db, codes_file = built
    unknown = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes_file), "--person",
                                        "P99", "--out", str(tmp / "x.pdf")])
    assert unknown.exit_code == 5 and "P01, P02, P03" in unknown.output and not (tmp / "x.pdf").exists()
    neither = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--out", str(tmp / "x.pdf")])
    assert neither.exit_code == 2
    # a code of spaces is no code: it made a report of every form without one
    blank = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes_file), "--person",
                                      "  ", "--out", str(tmp / "x.pdf")])
    assert blank.exit_code == 2 and not (tmp / "x.pdf").exists()


def test_service_report_states_a_small_n_and_association_not_cause(built):
    tmp, db, codes_file = built
    _run("report", "service", "--db", db, "--codes", codes_file, "--out", tmp / "service.pdf")
    text = " ".join(_checked_text(tmp / "service.pdf").split())
    assert "n < 10" in text and "95 % CI" not in text
    assert "Association, not cause" in text
    assert "reliable change 6 points, as the template defines (reliable_change)" in text
    assert not any(word in text for name in NAMES for word in name.split())
    for heading in ("Forms returned, per month and per form", "Completion and review", "Scores: how they are spread",
                    "Change from the first to the latest occasion", "Research question"):
        assert heading in text


def test_service_report_numbers_are_the_numbers_export_writes(built):
    tmp, db, codes_file = built
    store = Store(db, readonly=True)
    export(store.values(), tmp / "csv", read_codes(codes_file))
    store.close()
    data = service_data(_forms(built))
    wide = {s.form: _read(tmp / "csv" / f"{s.form}.csv") for s in data.summaries}
    assert set(wide) == {"k10", "alliance-check", "goal-card"}
    for s in data.summaries:
        rows = wide[s.form]
        items = data.forms[s.form].items
        assert s.returned == len(rows) and s.with_code == sum(bool(r["person_code"]) for r in rows)
        assert s.waiting == sum(int(r["needs_review"]) for r in rows)
        assert s.reviewed == sum(int(r["reviewed"]) for r in rows)
        assert s.items_answered == sum(r[i] != "" for r in rows for i in items)
        date_field = data.forms[s.form].date_field
        by_month = Counter(r[date_field][:7] for r in rows)
        assert by_month == Counter({m: c[s.form] for m, c in data.months.items() if s.form in c})
    k10 = wide["k10"]
    assert sum(r["k10_total_status"].startswith("pending") for r in k10) == 1  # P01's second K10
    assert sum(int(r["reviewed"]) for r in k10) >= 1  # P03's double mark, settled by a reviewer
    for d in data.distributions:
        column = [float(r[d.score]) for r in wide[d.form] if r[d.score] != ""]
        assert sorted(d.values) == sorted(column), d.score
        assert d.pending == sum(r[f"{d.score}_status"].startswith("pending") for r in wide[d.form])
    for c in data.changes:
        rows = [r for r in _read(tmp / "csv" / f"{c.form}_change.csv") if r["score"] == c.score]
        assert c.changes == {r["person_code"]: float(r["change"]) for r in rows if r["change"] != ""}
        if c.changes:
            assert c.mean == pytest.approx(statistics.fmean(float(r["change"]) for r in rows if r["change"] != ""))
    k10_change = next(c for c in data.changes if c.score == "k10_total")
    assert k10_change.changes == {"P01": -8.0, "P02": -3.0, "P03": -15.0}
    assert (k10_change.improved(), k10_change.worsened()) == (2, 0)  # by 6 points or more
    goal = next(a for a in data.associations if a.x_score == "progress_latest")
    latest = {r["person_code"]: float(r["progress_latest"]) for r in wide["goal-card"]}  # one card each
    assert goal.pairs == [(p, latest[p], k10_change.changes[p]) for p in ("P01", "P02", "P03")]
    alliance = next(a for a in data.associations if a.x_score == "ac_total")
    newest: dict[str, tuple[str, float]] = {}
    for r in wide["alliance-check"]:
        if r["date_completed"] >= newest.get(r["person_code"], ("", 0.0))[0]:
            newest[r["person_code"]] = (r["date_completed"], float(r["ac_total"]))
    assert [(p, x) for p, x, _ in alliance.pairs] == [(p, newest[p][1]) for p in ("P01", "P02", "P03")]
    xs, ys = [x for _, x, _ in goal.pairs], [y for _, _, y in goal.pairs]
    assert goal.correlation.n == 3 and goal.correlation.r == pytest.approx(statistics.correlation(xs, ys))
    assert goal.correlation.low is None  # n < 10: no confidence interval


def test_the_period_keeps_only_the_forms_dated_in_it(built):
    data = service_data(_forms(built))
    _, db, codes_file = built
    store = Store(db, readonly=True)
    period = load_forms(store.values(), store.scan_dates(), read_codes(codes_file), start=date(2026, 2, 1),
                        end=date(2026, 3, 31))
    store.close()
    inside = service_data(period, date(2026, 2, 1), date(2026, 3, 31))
    assert inside.months == {"2026-02": {"goal-card": 1, "k10": 2}, "2026-03": {"alliance-check": 2, "k10": 2}}
    assert sum(sum(c.values()) for c in data.months.values()) == len(PLAN)
    # in the period nobody has two usable K10s: P01's first one there waits for review, the others have one each
    k10 = next(c for c in inside.changes if c.score == "k10_total")
    assert k10.changes == {} and k10.pending == 1 and k10.too_few == 2


def test_pearson_gives_a_fisher_z_interval_from_ten_people_and_none_below():
    xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    ys = [2, 1, 4, 3, 7, 5, 6, 9, 8, 12, 10, 11]
    c = pearson(xs, ys)
    r = statistics.correlation(xs, ys)
    z, se = math.atanh(r), 1 / math.sqrt(len(xs) - 3)
    assert c.r == pytest.approx(r) and c.n == 12
    assert (c.low, c.high) == pytest.approx((math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se)))
    few = pearson(xs[:9], ys[:9])
    assert few.r is not None and few.low is None and few.high is None and "fewer than 10" in few.note
    assert pearson([1, 2], [3, 4]).r is None


def test_histogram_bins_hold_every_value_the_highest_too():
    edges = bins([10, 15, 50], 10, 50)
    assert edges[0] <= 10 and edges[-1] >= 50 and sum(counts([10, 15, 50], edges)) == 3
    whole = bins([0, 10], 0, 10)
    assert counts([0, 10], whole)[0] == 1 and counts([0, 10], whole)[-1] == 1


def test_person_data_refuses_a_code_with_no_forms(built):
    from formkit.errors import InputError

    with pytest.raises(InputError, match="P42"):
        person_data(_forms(built), "P42")


def _value(serial: str, form: str, field: str, value: str, review: bool = False) -> dict[str, object]:
    """A value as ``Store.values()`` gives it."""
    return {"page_id": 1, "status": "read", "form": form, "version": 1, "variant": "N", "form_page": 1,
            "serial": serial, "conflict_of": None, "source_file": f"/scans/{serial}.png", "source_page": 1,
            "field": field, "kind": "choice", "value": value, "confidence": 0.99, "needs_review": int(review),
            "reason": "two or more marks" if review else "", "review": "", "reviewed_by": "", "value_id": 1}


def test_gas_and_wai_sr_are_charted_and_an_undated_form_shows_its_scan_date(tmp_path):
    from formkit.report.person import person_pdf
    from formkit.report.service import service_pdf

    rows = [_value("WAIA-AAA1", "wai-sr", f"wai_{i:02d}", "3") for i in range(1, 13)]
    rows += [_value("WAIA-AAA1", "wai-sr", "date_completed", "2026-01-05")]
    rows += [_value("WAIB-BBB2", "wai-sr", f"wai_{i:02d}", "4") for i in range(1, 13)]
    rows += [_value("WAIB-BBB2", "wai-sr", "date_completed", "")]  # no date written (a page read has its blank)
    rows += [_value("GASA-AAA1", "gas-followup", f, v) for f, v in
             (("gas_1", "1"), ("weight_1", "2"), ("gas_2", "0"), ("weight_2", "1"), ("date_completed", "2026-02-01"))]
    rows += [_value("GASB-BBB2", "gas-followup", f, v, review=f == "gas_2") for f, v in
             (("gas_1", "2"), ("weight_1", "2"), ("gas_2", "1"), ("weight_2", "1"), ("date_completed", "2026-04-01"))]
    rows += [_value(serial, "gas-followup", f"{kind}_{goal}", "") for serial in ("GASA-AAA1", "GASB-BBB2")
             for goal in (3, 4, 5) for kind in ("gas", "weight")]  # goals left blank, on pages that were read
    codes = {s: "Q01" for s in ("WAIAAAA1", "WAIBBBB2", "GASAAAA1", "GASBBBB2")}
    forms = load_forms(rows, [{"form": "wai-sr", "serial": "WAIBBBB2", "scanned": "2026-05-01"}], codes)
    wai = forms["wai-sr"].occasions
    assert [(o.day, o.dated_by) for o in wai] == [(date(2026, 1, 5), "form"), (date(2026, 5, 1), "scan")]
    assert [o.scores["wai_total"].value for o in wai] == [36.0, 48.0]
    gas = {o.serial: o.scores["gas_t"] for o in forms["gas-followup"].occasions}
    assert gas["GASB-BBB2"].pending and gas["GASB-BBB2"].value is None and gas["GASB-BBB2"].provisional is not None
    (tmp_path / "q.pdf").write_bytes(person_pdf(person_data(forms, "Q01")))
    text = " ".join(_checked_text(tmp_path / "q.pdf").split())
    assert "(WAI-SR)" in text and "as expected" in text and "pending" in text
    assert "1 May 2026*" in text and "No date was written on this form" in text
    (tmp_path / "s.pdf").write_bytes(service_pdf(service_data(forms)))
    assert "Not answerable yet" in " ".join(_checked_text(tmp_path / "s.pdf").split())  # no K10 in this store


def _unscored_pdf_text(tmp_path: Path, rows: list[dict[str, object]], code: str) -> str:
    from formkit.report.person import person_pdf

    serials = sorted({str(r["serial"]) for r in rows})
    forms = load_forms(rows, [], {s: code for s in serials})
    (tmp_path / f"{code}.pdf").write_bytes(person_pdf(person_data(forms, code)))
    return " ".join(_checked_text(tmp_path / f"{code}.pdf").split())


def test_a_k10_alliance_or_gas_form_of_a_version_with_no_template_is_listed_without_scores(tmp_path):
    # an organisation's own version 2 of the K10, the alliance check and the GAS follow-up, not installed: no rules
    rows = [{**_value(serial, form, field, value), "version": 2}
            for serial, form, day in (("KTWA-AAA1", "k10", "2026-01-05"), ("ACTW-AAA1", "alliance-check", "2026-02-05"),
                                      ("GSTW-AAA1", "gas-followup", "2026-03-05"))
            for field, value in (("item_1", "3"), ("date_completed", day))]
    text = _unscored_pdf_text(tmp_path, rows, "Q02")
    for heading in ("How you have been feeling", "How our work together is going", "How far your goals were reached"):
        assert heading in text
    assert text.count("It has no scores to show here") == 3


def _diary_store(folder: Path) -> tuple[Path, Path, Path]:
    """A store with two forms of an organisation's own template 'diary' for P7 (scanned with --templates):
    (store, codes file, templates folder)."""
    from formkit.records import FieldValue, InputFile, PageResult, PageState

    templates = folder / "templates"
    templates.mkdir()
    (templates / "diary.yaml").write_text(
        "form: diary\nversion: 1\ntitle: Diary check\nlicence: shippable\n"
        "scales:\n  five: [{value: 1, label: Never}, {value: 2, label: Rarely}, {value: 3, label: Sometimes}, "
        "{value: 4, label: Often}, {value: 5, label: Always}]\n"
        "items:\n  - {kind: matrix, scale: five, rows: [{id: d_01, text: I slept well.}, "
        "{id: d_02, text: I ate well.}]}\n"
        "  - {kind: date, id: visit_date, text: Date}\n"
        "scoring:\n  occasion_date: visit_date\n  scores:\n"
        "    - {id: d_total, label: Diary total, method: sum, items: [d_01, d_02], change: true}\n", encoding="utf-8")
    db = folder / "diary.sqlite"
    store = Store(db)
    serials = ("DIAA-AAA1", "DIAB-BBB2")
    for index, (serial, (a, b, day)) in enumerate(zip(serials, (("2", "3", "2026-01-10"), ("4", "5", "2026-03-01")),
                                                      strict=True)):
        input_id, _ = store.add_input(InputFile(f"/scans/d{index}.png", f"sha{index}", 100, 1))
        store.save_page(input_id, 0, PageResult(
            f"/scans/d{index}.png", 1, f"sha{index}", PageState.READ, form="diary", version=1, variant="N",
            form_page=1, serial=serial.replace("-", ""),
            values=[FieldValue("d_01", "choice", a, 0.99, False), FieldValue("d_02", "choice", b, 0.99, False),
                    FieldValue("visit_date", "date", day, 0.99, False)]))
    store.close()
    codes = folder / "codes.csv"
    codes.write_text("serial,code\n" + "".join(f"{s},P7\n" for s in serials), encoding="utf-8")
    return db, codes, templates


def test_reports_take_the_templates_and_text_packs_the_export_takes(tmp_path):
    db, codes, templates = _diary_store(tmp_path)
    _run("report", "person", "--db", db, "--codes", codes, "--person", "P7", "--templates", templates,
         "--out", tmp_path / "P7.pdf")
    person = " ".join(_checked_text(tmp_path / "P7.pdf").split())
    assert "Diary check" in person and "10 Jan 2026 5" in person and "1 Mar 2026 9" in person
    _run("report", "service", "--db", db, "--codes", codes, "--templates", templates, "--out", tmp_path / "s.pdf")
    service = " ".join(_checked_text(tmp_path / "s.pdf").split())
    assert "100 % (4 of 4)" in service and "(0 of 0)" not in service  # the diary's items, answered
    assert "d_total: no reliable change is defined" in service
    # without --templates the diary cannot be scored: the command says so, and how to mend it
    result = CliRunner().invoke(main, ["report", "service", "--db", str(db), "--codes", str(codes), "--out",
                                       str(tmp_path / "s0.pdf")])
    assert result.exit_code == 0 and "diary version 1: no installed template" in result.output
    assert "--templates" in result.output
    # a text pack is read as the export reads it: a missing one stops the command before anything is written
    missing = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes), "--all",
                                        "--text-pack", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "all")])
    assert missing.exit_code == ExitCode.INPUT and "nope.yaml" in missing.output and not (tmp_path / "all").exists()


def test_the_service_change_table_tells_the_client_and_worker_alliance_apart_and_says_each_rule_once(tmp_path):
    from formkit.report.service import service_pdf

    rows = [_value(serial, form, f"ac_{i:02d}", value) for serial, day in (("ACPA-AAA1", "2026-01-05"),
                                                                          ("ACPB-BBB2", "2026-02-05"))
            for form, value in (("alliance-check", "4"), ("alliance-check-worker", "3")) for i in range(1, 13)]
    rows += [_value(serial, form, "date_completed", day) for serial, day in (("ACPA-AAA1", "2026-01-05"),
                                                                              ("ACPB-BBB2", "2026-02-05"))
             for form in ("alliance-check", "alliance-check-worker")]
    forms = load_forms(rows, [], {"ACPAAAA1": "Q03", "ACPBBBB2": "Q03"})
    (tmp_path / "s.pdf").write_bytes(service_pdf(service_data(forms)))
    _checked_text(tmp_path / "s.pdf")
    layout = subprocess.run(["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"], check=True, capture_output=True,
                            text=True).stdout
    ac_rows = [line.split() for line in layout.splitlines() if "ac_total" in line and "no rule" in line]
    assert len(ac_rows) == 2 and ac_rows[0] != ac_rows[1]
    assert {row[0] for row in ac_rows} == {"alliance-check", "alliance-check-"}  # the worker's id wraps at '-'
    assert " ".join(layout.split()).count("ac_total: no reliable change is defined") == 1


def test_the_person_report_says_why_a_form_was_not_scored_in_plain_words(tmp_path):
    rows = [_value("KNRA-AAA1", "k10", f"k10_{i:02d}", "3") for i in range(1, 6)]  # the second page was never read
    rows += [_value("KNRB-BBB2", "k10", f"k10_{i:02d}", "" if i > 7 else "2") for i in range(1, 11)]  # 3 blank
    rows += [_value(serial, "k10", "date_completed", day) for serial, day in (("KNRA-AAA1", "2026-01-05"),
                                                                              ("KNRB-BBB2", "2026-02-05"))]
    rows += [_value("GNRA-AAA1", "gas-followup", f, v) for f, v in
             (("gas_1", "1"), ("weight_1", "2"), ("gas_2", "0"), ("weight_2", ""), ("date_completed", "2026-03-01"))]
    rows += [_value("GNRA-AAA1", "gas-followup", f"{kind}_{goal}", "") for goal in (3, 4, 5)
             for kind in ("gas", "weight")]
    text = _unscored_pdf_text(tmp_path, rows, "Q04")
    assert "5 Jan 2026: not scored \u2013 a page of this form was not scanned." in text
    assert "5 Feb 2026: not scored \u2013 too many questions were left blank." in text
    assert "1 Mar 2026: not scored \u2013 a goal was rated without saying how much it matters." in text
    for internal in ("k10_0", "gas_2", "weight_2", "not read", "items missing", "voided"):
        assert internal not in text
    from formkit.report.person import OTHER_REASON, plain_reason

    assert plain_reason("waiting for review of k10_04, k10_05") == "some answers are still being checked"
    assert plain_reason("no items answered") == "no questions were answered"
    assert plain_reason("no goal rated") == "no goal was rated"
    assert plain_reason("a weight is zero or negative") == "a goal\u2019s importance was marked as 0 or less"
    assert plain_reason("k10_03 is not a single number ('2;3')") == "an answer could not be read as a single number"
    assert plain_reason("one rating only: change needs two") == "there is only one rating so far: a change needs two"
    assert plain_reason("no rating yet") == "there is no rating yet"
    assert plain_reason("something new: field_9") == OTHER_REASON and "field_9" not in OTHER_REASON
