"""The shipped samples (samples/scans, rebuilt by samples/make_samples.py) read as their truth file says."""

import csv
from pathlib import Path

from click.testing import CliRunner

from formkit.serial import normalise_serial
from formkit_cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "scans"
HANDWRITTEN = ("date", "digits")  # truth.csv scenarios read by the digit recogniser


def test_scanning_the_shipped_samples_matches_their_known_answers(tmp_path):
    db, out = tmp_path / "s.sqlite", tmp_path / "csv"
    result = CliRunner().invoke(main, ["scan", str(SAMPLES), "--db", str(db), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "rejected: 2" in result.output and "blank: 1" in result.output
    assert CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(out)]).exit_code == 0
    read = {}
    for path in out.glob("*_long.csv"):
        for row in csv.DictReader(path.open(encoding="utf-8")):
            read[(normalise_serial(row["serial"]), row["field"])] = row  # K7M3-QX9C in the CSV
    truth = list(csv.DictReader((SAMPLES / "truth.csv").open(encoding="utf-8")))
    assert truth
    handwritten_wrong = []
    for t in truth:
        got = read[(normalise_serial(t["serial"]), t["field"])]
        if t["must_review"] == "1":
            assert got["needs_review"] == "1", (t, got)
        elif got["needs_review"] == "0":
            tolerance = 0.11 if t["scenario"] == "line" and t["value"] else 0
            if tolerance:
                assert abs(float(got["value"]) - float(t["value"])) <= tolerance, (t, got)
            elif t["scenario"] in HANDWRITTEN and got["value"] != t["value"]:
                handwritten_wrong.append((t, got))
            else:
                assert got["value"] == t["value"], (t, got)
    # Every mark must read right. Handwritten digits are MNIST's, some of which are ambiguous to any
    # reader: the benchmark measures the rate at which a wrong digit is accepted (0.17 % of digits);
    # here, among 13 handwritten values (69 digits), one such value is tolerated, not two.
    assert len(handwritten_wrong) <= 1, handwritten_wrong
