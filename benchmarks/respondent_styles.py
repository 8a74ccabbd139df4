"""People who fill boxes: single-choice fields marked the way respondents really mark them, read through
the whole pipeline, store included.

    python benchmarks/respondent_styles.py [--forms N] [--seed S] [--only CONDITION] [--keep DIR]

The target it measures: single-choice fields with a realistic mix of marks (ticks, crosses, fills, dots,
slashes; a respondent keeps to one style; 2 % double marks that must be flagged): at most 3 % of fields
to review in all, 0 silent errors, on 300 dpi scans, 1-bit copies and 3-12 MP photos; K10 forms filled
that way: at least 90 % of forms get a total without review.

Respondents: each printed form (one serial) is filled by one respondent, who marks every row in one style
(tick, cross, dot, slash, or fill: one respondent in seven fills the box in) with one pen (black, blue or
pencil). 2 % of fields get a double mark in that style (must be flagged). About 10 % of respondents (none
of those who fill) follow the printed convention once: they fill the wrong box in, then mark the right one
(a correction; the marked box is the answer). Forms alternate between k10 and alliance-check (all rows
single-choice); the date and comment are left blank and not counted.

Each condition's pages are written to a folder and read by `scanner.batch.scan` into a new store, with
two jobs, since whether a lone filled box is the answer or a cancelled one is decided per serial in the
store, across the pages of one form. The store's values are compared with the truth: *correct* is right
and not flagged, *review* is flagged (fields of a page not read count as review), *needless* is flagged
although it is no double mark, a *silent error* is wrong and not flagged (a double mark not flagged is
one). For K10, the store is exported (formkit.export) and a form counts when k10.csv has its k10_total and
the total's status is not pending-review; a total not pending review that differs from the true sum is
counted as a wrong total.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import cv2

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.export import export  # noqa: E402
from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import ChoiceField  # noqa: E402
from formkit.serial import normalise_serial  # noqa: E402
from formkit.store import Store  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.batch import scan  # noqa: E402
from tests.synthetic import degrade_photo, degrade_scan, draw_mark, draw_respondent_mark, render_pdf  # noqa: E402

FORMS = ("k10", "alliance-check")
CONDITIONS = {
    "flatbed 300 dpi": "scan300",
    "copier 200 dpi, 1-bit": "scan200bw",
    "phone photo 3 MP": "photo3",
    "phone photo 12 MP": "photo12",
}
STYLES = {"tick": 3, "cross": 3, "dot": 3, "slash": 3, "fill": 2}  # weights out of 14: one in seven fills
DOUBLE_MARKS = 0.02  # of fields
CORRECTING = 0.10  # of respondents, all among those who do not fill
K10_ITEMS = [f"k10_{i:02d}" for i in range(1, 11)]


@dataclass
class FieldTruth:
    value: str
    must_review: bool
    scenario: str  # "answer", "double mark" or "correction"


@dataclass
class FormTruth:
    serial: str
    form: str
    style: str
    pen: str
    fields: dict[str, FieldTruth] = field(default_factory=dict)


@cache
def _layout(form: str):
    return build_layout(resolve_template(form))


def make_form(job: tuple[str, int, int, str]) -> FormTruth:
    """Print, fill, capture and save form ``index`` of ``condition``; returns what it says."""
    condition, index, seed, folder = job
    rng = random.Random(f"{seed}-{condition}-{index}")
    form = FORMS[index % len(FORMS)]
    layout = _layout(form)
    dpi = 300 if condition in ("scan300", "photo12") else 200
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "form.pdf"
        rows = generate(layout, make_copies(1, None, rng.randrange(1 << 40)), pdf)
        image = render_pdf(pdf, dpi)[0]
    style = rng.choices(list(STYLES), weights=list(STYLES.values()))[0]
    pen = rng.choice(["black", "blue", "black", "blue", "pencil"])
    truth = FormTruth(str(rows[0]["serial"]), form, style, pen)
    choices = [f for f in layout.pages[0].fields if isinstance(f, ChoiceField) and not f.multiple]
    correcting = style != "fill" and rng.random() < CORRECTING * sum(STYLES.values()) / \
        (sum(STYLES.values()) - STYLES["fill"])
    corrected = rng.choice(choices) if correcting else None
    for f in choices:
        if rng.random() < DOUBLE_MARKS:
            for option in rng.sample(f.options, 2):
                draw_respondent_mark(image, dpi, option.box, style, rng, pen)
            truth.fields[f.id] = FieldTruth("", True, "double mark")
        elif f is corrected:
            cancelled, chosen = rng.sample(f.options, 2)
            draw_mark(image, dpi, cancelled.box, "fill", rng, "black" if pen == "pencil" else pen)
            draw_respondent_mark(image, dpi, chosen.box, style, rng, pen)
            truth.fields[f.id] = FieldTruth(str(chosen.value), False, "correction")
        else:
            chosen = rng.choice(f.options)
            draw_respondent_mark(image, dpi, chosen.box, style, rng, pen)
            truth.fields[f.id] = FieldTruth(str(chosen.value), False, "answer")
    name = Path(folder) / f"form{index:04d}"
    if condition == "scan300":
        captured = degrade_scan(image, dpi, rng, out_dpi=300, upside_down=rng.random() < 1 / 3)
        cv2.imwrite(f"{name}.jpg", cv2.cvtColor(captured, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    elif condition == "scan200bw":
        captured = degrade_scan(image, dpi, rng, out_dpi=200, one_bit=True, upside_down=rng.random() < 1 / 3)
        cv2.imwrite(f"{name}.png", captured)
    else:
        frame = (4000, 3000) if condition == "photo12" else (2000, 1500)
        captured = degrade_photo(image, rng, frame_px=frame)
        cv2.imwrite(f"{name}.jpg", cv2.cvtColor(captured, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return truth


@dataclass
class Tally:
    fields: int = 0
    correct: int = 0
    review: int = 0
    needless: int = 0
    silent: int = 0
    must: int = 0
    caught: int = 0

    def add(self, truth: FieldTruth, row) -> None:
        self.fields += 1
        self.must += truth.must_review
        flagged = row is None or bool(row["needs_review"])
        if flagged:
            self.review += 1
            self.caught += truth.must_review
            self.needless += not truth.must_review
        elif not truth.must_review and row["value"] == truth.value:
            self.correct += 1
        else:
            self.silent += 1


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def run_condition(label: str, condition: str, forms: int, seed: int, work: Path) -> dict:
    folder = work / condition / "pages"
    folder.mkdir(parents=True)
    started = time.perf_counter()
    jobs = [(condition, i, seed, str(folder)) for i in range(forms)]
    with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
        truths = pool.map(make_form, jobs, chunksize=1)
    made = time.perf_counter() - started
    serials = Counter(t.serial for t in truths)
    assert max(serials.values()) == 1, "two forms share a serial"
    store = Store(work / condition / "store.sqlite")
    started = time.perf_counter()
    try:
        summary = scan([folder], store, jobs=2)
        rows = store.values()
        read_seconds = time.perf_counter() - started
        out = work / condition / "export"
        out.mkdir()
        export(rows, out)
    finally:
        store.close()
    found = {(r["serial"], r["field"]): r for r in rows if r["status"] == "read"}
    total, by_style, corrections = Tally(), defaultdict(Tally), Tally()
    fill_single = Counter()
    for t in truths:
        for field_id, truth in t.fields.items():
            row = found.get((t.serial, field_id))
            total.add(truth, row)
            by_style["double" if truth.scenario == "double mark" else t.style].add(truth, row)
            if truth.scenario == "correction":
                corrections.add(truth, row)
            if t.style == "fill" and truth.scenario == "answer":
                if row is None or row["needs_review"]:
                    fill_single["flagged"] += 1
                elif row["value"] == truth.value:
                    fill_single["accepted"] += 1
                else:
                    fill_single["wrong"] += 1
    k10 = _k10_totals([t for t in truths if t.form == "k10"], out / "k10.csv")
    return {"label": label, "forms": forms, "read": summary.pages["read"], "pages": len(truths),
            "total": total, "by_style": by_style, "corrections": corrections, "fill": fill_single, "k10": k10,
            "made": made, "read_seconds": read_seconds}


def _k10_totals(truths: list[FormTruth], path: Path) -> dict:
    """K10 forms with a total not pending review; their ceiling (forms without a double mark); wrong totals."""
    exported = {}
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            exported = {normalise_serial(row["serial"]): row for row in csv.DictReader(handle)}  # K7M3-QX9C
    result = Counter(forms=len(truths))
    for t in truths:
        clean = not any(f.must_review for f in t.fields.values())
        result["clean"] += clean
        row = exported.get(t.serial)
        if row is None or not row.get("k10_total") or row.get("k10_total_status", "").startswith("pending-review"):
            continue
        result["scored"] += 1
        true_total = sum(int(t.fields[item].value) for item in K10_ITEMS) if clean else None
        if true_total is None or float(row["k10_total"]) != true_total:
            result["wrong"] += 1
    return result


def report(results: list[dict]) -> None:
    print(f"\n{'condition':24} {'forms':>5} {'read':>5} {'fields':>6} {'correct':>8} {'review':>7} {'needless':>8} "
          f"{'silent err':>10} {'must-flag caught':>16} {'K10 total, no review':>22}")
    for r in results:
        t, k = r["total"], r["k10"]
        scored = f"{k['scored']} of {k['forms']} ({_pct(k['scored'], k['forms'])})" if k["forms"] else "-"
        print(f"{r['label']:24} {r['forms']:5d} {r['read']:5d} {t.fields:6d} {_pct(t.correct, t.fields):>8} "
              f"{_pct(t.review, t.fields):>7} {_pct(t.needless, t.fields):>8} {t.silent:10d} "
              f"{t.caught:7d} of {t.must:<6d} {scored:>22}")
    print("\nK10 totals: ceiling = forms without a double mark (a flagged item leaves the total pending review); "
          "wrong = a total not pending review that differs from the true sum")
    for r in results:
        k = r["k10"]
        print(f"  {r['label']:24} ceiling {k['clean']} of {k['forms']} ({_pct(k['clean'], k['forms'])}), "
              f"wrong totals {k['wrong']}")
    print("\nFields of respondents who fill the box in (single answers): accepted and right / flagged / wrong")
    for r in results:
        f = r["fill"]
        n = sum(f.values())
        print(f"  {r['label']:24} {n:4d} fields: accepted {f['accepted']} ({_pct(f['accepted'], n)}), "
              f"flagged {f['flagged']} ({_pct(f['flagged'], n)}), wrong {f['wrong']}")
    styles = [*STYLES, "double"]
    print("\nBy respondent style: fields, review %, silent errors (double = double marks, all styles; "
          "corrections are counted in their respondent's style too)")
    print(f"  {'condition':24} " + " ".join(f"{s:>20}" for s in [*styles, "corrections"]))
    for r in results:
        cells = []
        for s in styles:
            t = r["by_style"].get(s, Tally())
            cells.append(f"{t.fields:4d} {_pct(t.review, t.fields):>7} {t.silent:3d}")
        c = r["corrections"]
        cells.append(f"{c.fields:4d} {_pct(c.review, c.fields):>7} {c.silent:3d}")
        print(f"  {r['label']:24} " + " ".join(f"{cell:>20}" for cell in cells))
    print("\nTime: " + "; ".join(f"{r['label']}: made in {r['made']:.0f} s, read in {r['read_seconds']:.0f} s"
                                for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forms", type=int, default=60, help="printed forms per condition (k10 and "
                        "alliance-check alternately)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=list(CONDITIONS.values()), action="append",
                        help="this condition only (may be given more than once)")
    parser.add_argument("--keep", type=Path, help="keep the pages, stores and exports in this new folder")
    args = parser.parse_args()
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: not empty")
    print(f"# Respondent styles, {datetime.now().isoformat(timespec='seconds')}: {args.forms} forms per condition, "
          f"seed {args.seed}")
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = []
        for label, condition in CONDITIONS.items():
            if args.only and condition not in args.only:
                continue
            results.append(run_condition(label, condition, args.forms, args.seed, work))
            print(f"  {label}: done", flush=True)
        report(results)


if __name__ == "__main__":
    main()
