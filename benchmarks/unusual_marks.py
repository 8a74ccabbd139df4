"""Marks beside the boxes: respondents who circle a box, tick beside it or between two, or tick far past
it, read through the pipeline.

    python benchmarks/unusual_marks.py [--pages N] [--only STYLE]

For each way of marking and each condition, pages of k10, alliance-check, gas-followup and goal-card are
filled by one respondent (one pen: black, blue or pencil) who answers every single-choice row that way
(`tests.synthetic.draw_mark_beside`):

- *circle*: a loop 1-2.5 mm clear of the box all round, nothing in the box;
- *beside*: a tick 1-2 mm left of the box (not on the goal card, whose boxes are 1.2 mm apart: a tick
  beside one is in the next, and read as that box's);
- *between*: a tick on the paper halfway between the box and the next (on the goal card, astride both);
- *long*: a tick in the box twice its size, its tail far outside.

The first three are no answer a reader can take: a field must be flagged (*flagged*), and one read blank
or as an option without a flag is a *silent error*. A long tick is its box's answer: *right* is read so
and not flagged, *needless* is flagged. The rest of each page is left blank and not counted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import sys
from pathlib import Path

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scan_accuracy import blank_pages  # noqa: E402

from formkit.layout.model import ChoiceField  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from scanner.pipeline import read_page  # noqa: E402
from tests.synthetic import degrade_photo, degrade_scan, draw_mark_beside  # noqa: E402

FORMS = ["k10", "alliance-check", "gas-followup", "goal-card"]
STYLES = ["circle", "beside", "between", "long"]
CONDITIONS = {"flatbed 300 dpi": "scan300", "copier 200 dpi, 1-bit": "scan200bw", "phone photo 3 MP": "photo3",
              "phone photo 12 MP": "photo12"}


def make_page(style: str, condition: str, seed: int):
    """A degraded page (grey) and, per single-choice field, the option it was marked beside."""
    rng = random.Random(seed)
    forms = [f for f in FORMS if not (style == "beside" and f == "goal-card")]
    form = forms[seed % len(forms)]
    dpi = 200 if condition in ("scan200bw", "photo3") else 300
    layout, pages = blank_pages(form, dpi)
    choice_pages = [i for i, p in enumerate(layout.pages) if any(isinstance(f, ChoiceField) for f in p.fields)]
    index = rng.choice(choice_pages)
    image, pen = pages[index].copy(), rng.choice(["black", "blue", "pencil"])
    truth = {}
    for f in layout.pages[index].fields:
        if isinstance(f, ChoiceField) and not f.multiple:
            k = rng.randrange(len(f.options) - (style == "between"))
            neighbour = f.options[k + 1].box if style == "between" else None
            draw_mark_beside(image, dpi, f.options[k].box, style, rng, pen, neighbour=neighbour)
            truth[f.id] = str(f.options[k].value)
    if condition == "scan300":
        image = degrade_scan(image, dpi, rng, out_dpi=300, upside_down=rng.random() < 1 / 3)
    elif condition == "scan200bw":
        image = degrade_scan(image, dpi, rng, out_dpi=200, one_bit=True, upside_down=rng.random() < 1 / 3)
    else:
        image = degrade_photo(image, rng, frame_px=(4000, 3000) if condition == "photo12" else (2000, 1500))
    return (image if image.ndim == 2 else image.min(axis=2)), truth


def evaluate(job: tuple[str, str, int]) -> dict:
    style, condition, seed = job
    grey, truth = make_page(style, condition, seed)
    result = read_page(grey, PageResult("bench", 1, "", ""))
    out = {"read": result.status == "read", "fields": 0, "flagged": 0, "right": 0, "silent": []}
    for value in result.values if out["read"] else []:
        if value.field not in truth:
            continue
        out["fields"] += 1
        if value.needs_review:
            out["flagged"] += 1
        elif style == "long" and value.value == truth[value.field]:
            out["right"] += 1
        else:
            out["silent"].append(f"seed {seed} {value.field}: read {value.value!r}, marked beside "
                                 f"{truth[value.field]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=40, help="pages per way of marking and condition")
    parser.add_argument("--only", choices=STYLES, action="append", help="this way of marking only (repeatable)")
    args = parser.parse_args()
    print(f"machine: {multiprocessing.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print(f"{'marked':8} {'condition':24} {'pages':>5} {'read':>5} {'fields':>6} {'flagged':>8} {'right':>7} "
          f"{'silent':>6}")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for style in args.only or STYLES:
            for label, condition in CONDITIONS.items():
                rows = pool.map(evaluate, [(style, condition, seed) for seed in range(args.pages)], chunksize=2)
                fields = max(1, sum(r["fields"] for r in rows))
                silent = [s for r in rows for s in r["silent"]]
                print(f"{style:8} {label:24} {args.pages:5d} {sum(r['read'] for r in rows):5d} {fields:6d} "
                      f"{100 * sum(r['flagged'] for r in rows) / fields:7.1f}% "
                      f"{100 * sum(r['right'] for r in rows) / fields:6.1f}% {len(silent):6d}", flush=True)
                for line in silent[:5]:
                    print(f"    silent: {line}")


if __name__ == "__main__":
    main()
