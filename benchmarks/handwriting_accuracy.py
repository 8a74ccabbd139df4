"""Handwriting recognition: digits, digit and date fields, the printed-code fallback, and what each adds
to a page's reading time.

    python benchmarks/handwriting_accuracy.py [--digits N] [--pages N]

1. Digits: the 10,000 MNIST images held back from training (scripts/train_digits.py; none of them was
   seen in training or in choosing the acceptance threshold), each written into a printed box and
   captured as a scan or photo, cut out and recognised exactly as the scanner does. Reported: digits
   accepted and right, rejected (sent to review), accepted but wrong.
2. Fields: GAS follow-up and goal-card pages filled with those held-back digits (weights, dates), scanned
   at 300 dpi and photographed (12 MP and 3 MP): fields accepted and right, flagged, silent errors.
3. Printed code: pages whose QR code is covered by a stain; the share identified from the code printed
   under it (and any identified wrongly).
4. Time: digit recognition per page (all boxes of a page in one batch), Tesseract per written text area,
   and the printed-code fallback per page.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import TextField  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner import digits, handwriting  # noqa: E402
from scanner.pipeline import read_page  # noqa: E402
from tests.synthetic import degrade_photo, degrade_scan, fill_page, render_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "samples" / "handwriting" / "mnist-heldout.npz"


def _train_module():
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "scripts" / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-train.npz"  # the project's training data, if present


def heldout(limit: int) -> tuple[np.ndarray, np.ndarray, str]:
    train = _train_module()
    if MNIST.exists():
        data = np.load(MNIST)
        index = train.heldout_indices()[:limit]
        return data["x"][index], data["y"][index], f"{len(index)} held-back MNIST digits"
    data = np.load(SHIPPED)
    return data["x"][:limit], data["y"][:limit], f"{min(limit, len(data['y']))} shipped held-back digits"


def digit_accuracy(limit: int) -> None:
    x, y, what = heldout(limit)
    train = _train_module()
    started = time.perf_counter()
    boxes = np.stack([train.synthetic_box(image, 900_000_000 + i) for i, image in enumerate(x)])
    rendered = time.perf_counter() - started
    probabilities = digits.classify(boxes)
    threshold = digits.accept_probability()
    best, guess = probabilities.max(axis=1), probabilities.argmax(axis=1)
    accepted = best >= threshold
    right = guess == y
    print(f"## Digits: {what}, written into boxes and captured (rendered in {rendered:.0f} s)\n")
    print("| accepted and right | rejected (to review) | accepted but wrong | accuracy of accepted "
          "| top-1, no reject |")
    print("|---|---|---|---|---|")
    print(f"| {np.mean(accepted & right):.2%} | {np.mean(~accepted):.2%} | {np.mean(accepted & ~right):.3%} | "
          f"{np.mean(right[accepted]):.3%} | {np.mean(right):.2%} |")
    print(f"\nAcceptance threshold p >= {threshold:.3f} (chosen on validation images).\n")


def _digit_samples(limit: int) -> dict[int, list[np.ndarray]]:
    x, y, _ = heldout(limit)
    return {d: [x[i] for i in np.nonzero(y == d)[0]] for d in range(10)}


def field_accuracy(pages: int) -> None:
    samples = _digit_samples(10_000)
    conditions = {"flatbed 300 dpi": "scan", "phone 12 MP": "photo12", "phone 3 MP": "photo3"}
    print("## Digit and date fields on filled pages\n")
    print("| condition | fields | accepted and right | flagged | silent errors |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        blanks = {}
        for form in ("gas-followup", "goal-card"):
            layout = build_layout(resolve_template(form))
            generate(layout, make_copies(1, None, 3), Path(tmp) / f"{form}.pdf")
            blanks[form] = (layout, render_pdf(Path(tmp) / f"{form}.pdf", 300))
        for name, condition in conditions.items():
            total = right = flagged = wrong = 0
            for seed in range(pages):
                rng = random.Random(seed)
                form = ("gas-followup", "goal-card")[seed % 2]
                layout, images = blanks[form]
                index = len(images) - 1  # the page with the digit and date boxes
                filled = fill_page(images[index].copy(), 300, layout.pages[index], rng, hard=False, digits=samples)
                if condition == "scan":
                    captured = degrade_scan(filled.image, 300, rng)
                else:
                    frame = (4000, 3000) if condition == "photo12" else (2000, 1500)
                    captured = degrade_photo(filled.image, rng, frame)
                result = read_page(captured.min(axis=2) if captured.ndim == 3 else captured,
                                   PageResult("b", 1, "", ""))
                for value in result.values:
                    if value.kind not in ("digits", "date"):
                        continue
                    total += 1
                    truth = filled.truth[value.field].value
                    if value.needs_review:
                        flagged += 1
                    elif value.value == truth:
                        right += 1
                    else:
                        wrong += 1
            print(f"| {name} | {total} | {right / total:.1%} | {flagged / total:.1%} | {wrong} ({wrong / total:.2%}) |")
    print()


def printed_code(pages: int) -> None:
    print("## Printed code read when the QR code is stained\n")
    print("| condition | pages | identified, right | to review | identified wrongly | ms per page |")
    print("|---|---|---|---|---|---|")
    forms = ("k10", "alliance-check", "gas-followup", "goal-card")
    with tempfile.TemporaryDirectory() as tmp:
        for name, condition in {"flatbed 300 dpi": "scan", "phone 12 MP": "photo12", "phone 3 MP": "photo3"}.items():
            right = review = wrong = 0
            seconds = 0.0
            for seed in range(pages):
                rng = random.Random(seed)
                form = forms[seed % len(forms)]
                layout = build_layout(resolve_template(form))
                rows = generate(layout, make_copies(1, None, 1000 + seed), Path(tmp) / "p.pdf")
                index = rng.randrange(len(rows))
                image = render_pdf(Path(tmp) / "p.pdf", 300)[index]
                qr = layout.pages[index].qr
                s = 300 / 25.4
                x0, y0, size = qr.x_mm * s, qr.y_mm * s, qr.size_mm * s
                # a stain over the middle of the QR code, leaving the printed code under it
                cv2.ellipse(image, (int(x0 + size / 2), int(y0 + size / 2)), (int(size * 0.3), int(size * 0.25)),
                            rng.uniform(0, 180), 0, 360, (110, 80, 50), -1)
                if condition == "scan":
                    captured = degrade_scan(image, 300, rng)
                else:
                    captured = degrade_photo(image, rng, (4000, 3000) if condition == "photo12" else (2000, 1500))
                started = time.perf_counter()
                result = read_page(captured.min(axis=2), PageResult("b", 1, "", ""))
                seconds += time.perf_counter() - started
                if result.status == "read" and "identified_by" not in result.quality:
                    continue  # the QR survived the stain: not a fallback case
                if result.status == "read":
                    ok = result.serial == rows[index]["serial"] and result.form_page == index + 1
                    right += ok
                    wrong += not ok
                else:
                    review += 1
            n = right + review + wrong
            print(f"| {name} | {n} | {right / max(n, 1):.1%} | {review / max(n, 1):.1%} | {wrong} | "
                  f"{1000 * seconds / pages:.0f} |")
    print()


def timing() -> None:
    samples = _digit_samples(2000)
    layout = build_layout(resolve_template("gas-followup"))
    with tempfile.TemporaryDirectory() as tmp:
        generate(layout, make_copies(1, None, 3), Path(tmp) / "g.pdf")
        images = render_pdf(Path(tmp) / "g.pdf", 200)
    page = layout.pages[-1]
    filled = fill_page(images[-1].copy(), 200, page, random.Random(1), hard=False, digits=samples)
    from scanner.locate import find_markers, reduced
    from scanner.register import register, warp_page

    grey = filled.image.min(axis=2)
    reg = register(page, find_markers(grey, reduced(grey)))
    warped = warp_page(grey, page, reg)
    fields = [f for f in page.fields if f.kind in ("digits", "date")]
    boxes = sum(len(f.boxes) for f in fields)
    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        handwriting.read_boxes_fields(warped, fields)
    per_page = (time.perf_counter() - started) / runs
    text = next(f for f in page.fields if isinstance(f, TextField))
    scale = 8.0
    origin = (int((text.box.x_mm + 1) * scale), int((text.baselines_y_mm[0] - 0.8) * scale))
    cv2.putText(warped, "learn to cook", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.8, 30, 2, cv2.LINE_AA)
    started = time.perf_counter()
    for _ in range(5):
        handwriting.read_text_field(warped, text, "eng")
    tesseract = (time.perf_counter() - started) / 5
    print("## Time each recogniser adds\n")
    print(f"- digits: {1000 * per_page:.0f} ms for a page of {boxes} boxes in {len(fields)} fields "
          f"(cut out, normalised, one batch through the network)")
    print(f"- Tesseract: {1000 * tesseract:.0f} ms per written text area (blank areas: no call)")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=60)
    sections = {"digits": lambda: digit_accuracy(args.digits), "fields": lambda: field_accuracy(args.pages),
                "code": lambda: printed_code(args.pages), "timing": timing}
    parser.add_argument("--only", choices=list(sections), action="append",
                        help="run this section only (may be given more than once)")
    args = parser.parse_args()
    print(f"# Handwriting benchmark ({platform.processor() or platform.machine()}, {args.pages} pages each)\n")
    for name in args.only or sections:
        sections[name]()


if __name__ == "__main__":
    main()
