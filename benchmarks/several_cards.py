"""Several goal cards in one image, against the same cards scanned one at a time.

    python benchmarks/several_cards.py [--sets N] [--seed S]

Flatbed-style scans hold four filled goal cards each (the back: two handwritten dates and four 0-10
progress rows), laid two by two on an A4 glass, each turned 0 or 180 degrees and a few degrees off,
scanned at 200 or 300 dpi; photos hold two or three cards on a desk, at 3 or 12 MP. Each card is also
scanned alone, the same way; a photographed card also alone with as many pixels as it had in the group
photo (a card alone fills more of the frame: this row tells what grouping costs beyond fewer pixels).
Printed: cards identified, and per field correct (right and not flagged), flagged for review, and
silently wrong (wrong and not flagged), for each way; a value read into the wrong card would count as
silently wrong.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.records import PageResult, PageState  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.pipeline import read_image  # noqa: E402
from tests.synthetic import degrade_photo, degrade_scan, fill_page, lay_cards, load_digits, render_pdf  # noqa: E402

DPI = 300
SILENT: list[str] = []  # each silently wrong value, printed under the table
DIGITS = Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"


def filled_cards(count: int, seed: int, tmp: Path) -> list[tuple[np.ndarray, str, dict[str, str]]]:
    """``count`` card backs filled at random: (300 dpi RGB image, serial, truth by field)."""
    layout = build_layout(resolve_template("goal-card"))
    rows = generate(layout, make_copies(count, None, seed), tmp / "cards.pdf")
    samples = load_digits(DIGITS)
    rng = random.Random(seed)
    cards = []
    for image, row in zip(render_pdf(tmp / "cards.pdf", DPI), rows, strict=True):
        if int(row["form_page"]) != 2:
            continue
        filled = fill_page(image, DPI, layout.pages[1], rng, hard=False, digits=samples)
        cards.append((filled.image, str(row["serial"]), {k: t.value for k, t in filled.truth.items()}))
    return cards


def tally(results: list[PageResult], truth: dict[str, dict[str, str]], totals: dict[str, int]) -> None:
    for result in results:
        if result.status != PageState.READ or result.serial not in truth:
            continue
        totals["identified"] += 1
        for value in result.values:
            expected = truth[result.serial].get(value.field)
            if expected is None:
                continue
            totals["fields"] += 1
            if value.needs_review:
                totals["review"] += 1
            elif value.value == expected:
                totals["correct"] += 1
            else:
                totals["silent"] += 1
                SILENT.append(f"{result.source_file}: card {result.serial}, {value.field}: read {value.value!r}, "
                              f"written {expected!r} (confidence {value.confidence:.3f})")


def grey(image: np.ndarray) -> np.ndarray:
    return image.min(axis=2) if image.ndim == 3 else image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=15, help="images per condition")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"# Several cards in one image, {datetime.now().isoformat(timespec='seconds')}, {args.sets} images a "
          f"condition\nmachine: 2 cores, {platform.machine()}, Python {platform.python_version()}\n")
    conditions = [("flatbed, 4 cards", 4), ("phone photo, 2-3 cards", 3)]
    print("| condition | cards | identified | fields | correct | to review | silently wrong | ms an image |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, per_image in conditions:
            together = {k: 0 for k in ("identified", "fields", "correct", "review", "silent")}
            alone, alike = dict(together), dict(together)
            cards_total, seconds_together, seconds_alone = 0, 0.0, 0.0
            for number in range(args.sets):
                seed = args.seed * 1000 + number
                rng = random.Random(seed)
                count = per_image if per_image == 4 else rng.choice([2, 3])
                cards = filled_cards(count, seed, Path(tmp))
                truth = {serial: values for _, serial, values in cards}
                cards_total += len(cards)
                turns = [rng.choice([0, 180]) for _ in cards]
                angles = [rng.uniform(-4, 4) for _ in cards]
                glass = lay_cards([c for c, _, _ in cards], turns, angles, gap_px=rng.choice([0, 20, 60]))
                if per_image == 4:
                    out_dpi = rng.choice([200, 300])
                    image = degrade_scan(glass, DPI, rng, out_dpi=out_dpi)
                    singles = [degrade_scan(c, DPI, rng, out_dpi=out_dpi) for c, _, _ in cards]
                else:
                    frame = rng.choice([(2000, 1500), (4000, 3000)])
                    image = degrade_photo(glass[: 200 + 2 * 1300], rng, frame, fill=0.9)
                    singles = [degrade_photo(c, rng, frame, fill=0.5) for c, _, _ in cards]
                started = time.perf_counter()
                read_together = read_image(grey(image), PageResult("glass", 1, "", PageState.REJECTED))
                seconds_together += time.perf_counter() - started
                tally(read_together, truth, together)
                started = time.perf_counter()
                for single in singles:
                    tally(read_image(grey(single), PageResult("card", 1, "", PageState.REJECTED)), truth, alone)
                seconds_alone += time.perf_counter() - started
                if per_image != 4:  # each card alone again, with as many pixels as it had in the group photo
                    for (card, _, _), scale in zip(cards, _scales(read_together, cards), strict=True):
                        if scale:
                            single = degrade_photo(card, rng, frame, scale=scale)
                            tally(read_image(grey(single), PageResult("card", 1, "", PageState.REJECTED)), truth,
                                  alike)
            rows = [(f"{name}, together", together, seconds_together, args.sets),
                    (f"{name}, one at a time", alone, seconds_alone, cards_total)]
            if per_image != 4:
                rows.append((f"{name}, one at a time, pixels per card as together", alike, None, cards_total))
            for label, t, seconds, images in rows:
                f = max(1, t["fields"])
                ms = "" if seconds is None else f"{1000 * seconds / images:.0f}"
                print(f"| {label} | {cards_total} | {t['identified']} | {t['fields']} | {t['correct'] / f:.1%} | "
                      f"{t['review'] / f:.1%} | {t['silent']} | {ms} |")
    for line in SILENT:
        print(f"- silently wrong: {line}")


def _scales(results: list[PageResult], cards: list[tuple[np.ndarray, str, dict[str, str]]]) -> list[float | None]:
    """Per card, the photo's pixels per pixel of the card's 300 dpi image in the group photo (None when
    the card was not read there)."""
    by_serial = {r.serial: r.quality.get("source_px_per_mm") for r in results if r.status == PageState.READ}
    return [by_serial[serial] / (DPI / 25.4) if by_serial.get(serial) else None for _, serial, _ in cards]


if __name__ == "__main__":
    main()
