"""The pairs file and the reports read the store as ``formkit export`` does, and a report never writes over
what it reads.

1. A pair's values and scores are the export's: a value a reviewer decided is settled even when another image
   of its page reads it otherwise, and an answer of a page never read makes a score invalid, not prorated.
2. A person's latest occasion whose date waits for review (even when the guess is no date at all) is not
   taken as settled by the service report, as the export's change file does not take it.
3. ``formkit report`` refuses an --out that is its store, a codes file or a text pack (exit 6), unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from formkit.exports.frames import scored_tables
from formkit.pairs import pair_tables
from formkit.report.data import latest_per_person, load_forms
from formkit_cli import main
from tests.test_pairs import SERIALS, _rows
from tests.test_report_order import _k10

ROOT = Path(__file__).resolve().parents[1]
AC = {f"ac_{i:02d}": "3" for i in range(1, 13)}
SUBSCALES = ("ac_total", "ac_goal", "ac_task", "ac_bond")


def _pair_and_export(rows: list[dict], codes: dict[str, str] | None = None) -> tuple[dict, dict]:
    """The one row of alliance-check_pairs.csv and the client's row of alliance-check.csv."""
    [(name, _, [pair], _)] = pair_tables(rows, codes)
    [wide] = scored_tables(rows, codes)["alliance-check"].wide.rows
    assert name == "alliance-check_pairs.csv"
    return pair, wide


def _second_image_reads_ac_01_as_4(client: list[dict]) -> list[dict]:
    return [dict(r, status="conflict", page_id=2, source_file="b.png", value="4", review="", reviewed_by="")
            for r in client if r["field"] == "ac_01"]


# 1. pairs ------------------------------------------------------------------------------------------------

def test_a_pair_value_a_reviewer_decided_no_longer_waits_though_another_image_reads_it_otherwise():
    client = _rows("alliance-check", SERIALS[0], AC)
    conflict = _second_image_reads_ac_01_as_4(client)
    worker = _rows("alliance-check-worker", SERIALS[0], AC)
    # before anyone decides: the value waits, in the export and in the pair alike
    pair, wide = _pair_and_export(client + conflict + worker)
    assert wide["ac_total_status"].startswith("pending-review") and wide["needs_review"] == 1
    assert pair["ac_total_gap_status"].startswith("pending-review: client") and pair["client_needs_review"] == 1
    assert pair["status"] == "pending-review: waiting for review: client ac_01"
    # a reviewer confirmed the first reading: settled in both
    for r in client:
        if r["field"] == "ac_01":
            r["review"], r["reviewed_by"] = "confirmed", "ann"
    pair, wide = _pair_and_export(client + conflict + worker, {SERIALS[0]: "P1"})
    assert (wide["ac_total"], wide["ac_total_status"], wide["needs_review"]) == ("36.0", "complete", 0)
    assert (pair["client_ac_total"], pair["ac_total_gap"], pair["ac_total_gap_status"]) == ("36.0", "0.0", "complete")
    assert (pair["client_needs_review"], pair["status"], pair["person_code"]) == (0, "complete", "P1")


def test_a_paired_form_with_a_page_not_read_is_not_scored_as_if_left_blank():
    # ac_01 is absent from the client's rows (its page not scanned, or voided); ac_02 was read and left blank
    client = _rows("alliance-check", SERIALS[0], {k: v for k, v in AC.items() if k != "ac_01"} | {"ac_02": ""})
    worker = _rows("alliance-check-worker", SERIALS[0], AC)
    pair, wide = _pair_and_export(client + worker)
    assert wide["ac_total"] == "" and wide["ac_total_status"].startswith("invalid: not read: ac_01")
    for score in ("ac_total", "ac_goal"):  # both read ac_01: no score, as in the export (never prorated)
        assert pair[f"client_{score}"] == wide[score] == ""
        assert pair[f"{score}_gap"] == ""
        assert pair[f"{score}_gap_status"] == f"invalid: client: {wide[f'{score}_status'].removeprefix('invalid: ')}"
    # ac_task reads ac_02, read and blank: prorated from the answers given, as the export does
    assert (pair["client_ac_task"], pair["ac_task_gap_status"]) == (wide["ac_task"], "prorated")
    assert wide["ac_task_status"].startswith("prorated")


def test_a_latest_occasion_whose_illegible_date_waits_is_not_taken_as_settled_as_in_the_change_file():
    codes = {"AAAAAAA1": "P1", "AAAAAAA2": "P1"}
    for guess in ("2026-03-05", ""):  # the machine's guess reads as a date, or is illegible
        rows = _k10("AAAA-AAA1", 4, "2026-01-05", page_id=1) + \
            _k10("AAAA-AAA2", 2, guess, page_id=2, pending="date_completed")
        forms = load_forms(rows, [], codes)
        [change] = forms["k10"].change
        assert change["status"].startswith("pending-review"), guess
        assert latest_per_person(forms["k10"], "k10_total") == ({}, {"P1"}), guess


# 3. reports never write over what they read --------------------------------------------------------------

def _store(folder: Path) -> tuple[Path, Path]:
    """A store with two K10s of P1, and the codes file: (store, codes)."""
    from formkit.records import FieldValue, InputFile, PageResult, PageState
    from formkit.store import Store

    db = folder / "s.sqlite"
    store = Store(db)
    serials = ("KAAA-AAA1", "KAAA-AAA2")
    for index, (serial, (answer, day)) in enumerate(zip(serials, (("4", "2026-01-10"), ("2", "2026-03-01")),
                                                        strict=True)):
        input_id, _ = store.add_input(InputFile(f"/scans/k{index}.png", f"sha{index}", 100, 1))
        values = [FieldValue(f"k10_{i:02d}", "choice", answer, 0.99, False) for i in range(1, 11)]
        store.save_page(input_id, 0, PageResult(
            f"/scans/k{index}.png", 1, f"sha{index}", PageState.READ, form="k10", version=1, variant="N",
            form_page=1, serial=serial.replace("-", ""),
            values=[*values, FieldValue("date_completed", "date", day, 0.99, False)]))
    store.close()
    codes = folder / "codes.csv"
    codes.write_text("serial,code\n" + "".join(f"{s},P1\n" for s in serials), encoding="utf-8")
    return db, codes


def _refused(args: list[object], kept: Path, what: str) -> None:
    before = kept.read_bytes()
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 6, result.output
    assert f"is the {what} this command reads" in result.output and str(kept) in result.output
    assert kept.read_bytes() == before


def test_a_report_refuses_to_write_over_its_store_codes_file_or_text_pack(tmp_path):
    db, codes = _store(tmp_path)
    pack = tmp_path / "pack.yaml"
    shutil.copy(ROOT / "samples" / "text-packs" / "wai-sr-example.yaml", pack)
    _refused(["report", "service", "--db", db, "--out", db], db, "store")
    _refused(["report", "service", "--db", db, "--codes", codes, "--out", codes], codes, "codes file")
    _refused(["report", "service", "--db", db, "--text-pack", pack, "--out", pack], pack, "text pack")
    _refused(["report", "person", "--db", db, "--codes", codes, "--person", "P1", "--out", db], db, "store")
    _refused(["report", "person", "--db", db, "--codes", codes, "--person", "P1", "--out", codes], codes,
             "codes file")
    # --all writes a folder of PDFs named by code: P1.pdf there is the codes file it reads
    folder = tmp_path / "all"
    folder.mkdir()
    named = folder / "P1.pdf"
    shutil.copy(codes, named)
    _refused(["report", "person", "--db", db, "--codes", named, "--all", "--out", folder], named, "codes file")
    # other outputs are written as ever
    result = CliRunner().invoke(main, ["report", "person", "--db", str(db), "--codes", str(codes), "--all",
                                       "--out", str(tmp_path / "pdfs")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pdfs" / "P1.pdf").read_bytes().startswith(b"%PDF")


def test_a_postgresql_store_is_no_file_to_refuse():
    from formkit.database import DatabaseURL
    from formkit_cli.base import read_inputs

    codes = (Path("codes.csv"),)
    assert read_inputs(DatabaseURL("postgresql://formkit@db.example.org/forms"), codes, ()) == {codes[0]: "codes file"}
    assert read_inputs(Path("s.sqlite"), (), (Path("p.yaml"),)) == {Path("s.sqlite"): "store",
                                                                     Path("p.yaml"): "text pack"}
