"""Pages not wholly seen: cut off by the scanner's glass or the photo's frame, or part covered by a note.

    python benchmarks/hidden_parts.py [--pages N]

Each page is made as `scan_accuracy.py` makes it (the shipped forms filled at random, digit and date boxes
written in held-back MNIST digits, degraded as a scanner or a phone would), then:
- *longer than the glass*: a flatbed scan loses its last 5-40 % of rows (a third of the pages lie upside
  down, so the cut falls at either end of the page);
- *past the frame*: a 12 MP photo whose page fills 80-95 % of the frame loses 10-35 % of the frame on one side;
- *a sticky note*: before the scan or photo, a note 38-76 mm square in a pale colour, with a few words on it
  and a soft shadow, is stuck over one field chosen at random and whatever else it reaches
  (`tests.synthetic.stick_note`).
A cut page's uncut image is read too: its registration (all four markers) says which fields lie partly past
the cut (`register.shares_outside`).

Per field: *hidden* are those partly past the cut or under the note, and *caught* those of them flagged; of
the other fields, *correct* read right and unflagged, *needless* flagged though neither a case that must be
flagged nor a fair hard one (as in scan_accuracy.py). A *silent error* is a field read wrong without a flag,
or a hidden field not flagged however it reads (what was under the note is not known to the reader): among the
hidden fields and among the others. Text areas count only under a note (the filling writes none: an area
under a note may hold writing). Pages whose QR code and printed code were both cut off or covered are
*unidentified* (kept for a person to name), not read.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_accuracy import _matches, make_page, with_truth  # noqa: E402

from formkit.layout import build_layout  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.pipeline import read_page  # noqa: E402
from scanner.register import Registration, shares_outside  # noqa: E402
from tests.synthetic import load_digits  # noqa: E402

DIGITS = load_digits(Path(__file__).resolve().parent.parent / "samples" / "handwriting" / "mnist-heldout.npz")
CONDITIONS = {"flatbed 300 dpi, page longer than the glass": "scan300",
              "phone photo 12 MP, page past the frame": "photo12",
              "flatbed 300 dpi, a sticky note on it": "scan300note",
              "phone photo 12 MP, a sticky note on it": "photo12note"}


def cut(image: np.ndarray, condition: str, rng: random.Random) -> tuple[np.ndarray, tuple[int, int]]:
    """``image`` cut as ``condition`` cuts it, and the cut image's top-left corner in ``image`` (rows, columns)."""
    h, w = image.shape[:2]
    if condition == "scan300":
        return image[: int(h * rng.uniform(0.6, 0.95))], (0, 0)
    side, lost = rng.choice(["top", "bottom", "left", "right"]), rng.uniform(0.10, 0.35)
    rows, columns = int(h * lost), int(w * lost)
    return {"top": (image[rows:], (rows, 0)), "bottom": (image[: h - rows], (0, 0)),
            "left": (image[:, columns:], (0, columns)), "right": (image[:, : w - columns], (0, 0))}[side]


def evaluate(job: tuple[str, int]) -> dict:
    condition, seed = job
    rng = random.Random(seed + 7919)
    image, truth = make_page(condition, seed, photo_fill=(0.8, 0.95), digits=DIGITS)
    grey = image if image.ndim == 2 else image.min(axis=2)
    if condition.endswith("note"):
        part, hidden = grey, {field for field, t in truth.items() if t.scenario == "covered"}
    else:
        part, hidden = _cut_page(grey, condition, rng)
    result = read_page(np.ascontiguousarray(part), PageResult("bench", 1, "", ""))
    out = {"read": result.status == "read", "fields": 0, "hidden": 0, "caught": 0, "inside": 0, "correct": 0,
           "needless": 0, "silent_hidden": 0, "silent_inside": 0}
    if result.status != "read" or hidden is None:
        return out
    for value, t in with_truth(result.values, truth):
        out["fields"] += 1
        wrong = t.must_review or not _matches(value.value, t.value, value.kind)
        if value.field in hidden:
            out["hidden"] += 1
            out["caught"] += value.needs_review
            out["silent_hidden"] += not value.needs_review
        else:
            out["inside"] += 1
            out["correct"] += not value.needs_review and not wrong
            out["needless"] += value.needs_review and not (t.must_review or t.may_review)
            out["silent_inside"] += not value.needs_review and wrong
    return out


def _cut_page(grey: np.ndarray, condition: str, rng: random.Random) -> tuple[np.ndarray, set[str] | None]:
    """``grey`` cut as ``condition`` cuts it, and the fields partly past the cut by the uncut image's
    registration (``None`` when the uncut image is not read)."""
    whole = read_page(grey, PageResult("bench", 1, "", ""))
    part, (top, left) = cut(grey, condition, rng)
    if whole.status != "read":
        return part, None
    page = build_layout(resolve_template(whole.form)).page(whole.form_page)
    shifted = np.array([[1.0, 0.0, -left], [0.0, 1.0, -top], [0.0, 0.0, 1.0]]) @ np.array(whole.transform)
    return part, set(shares_outside(page, Registration(shifted, 0.0, 4, 1.0), part.shape))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=60, help="pages per condition")
    parser.add_argument("--only", choices=list(CONDITIONS.values()), action="append",
                        help="this condition only (repeatable; default: all)")
    args = parser.parse_args()
    print(f"{'condition':45} {'pages':>5} {'read':>5} {'fields':>6} {'hidden':>6} {'caught':>6} "
          f"{'others: correct':>15} {'needless':>8} {'silent: hidden':>14} {'others':>6}")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for label, condition in CONDITIONS.items():
            if args.only and condition not in args.only:
                continue
            rows = pool.map(evaluate, [(condition, seed) for seed in range(args.pages)], chunksize=2)
            total = {k: sum(r[k] for r in rows) for k in rows[0]}
            inside = max(1, total["inside"])
            print(f"{label:45} {args.pages:5d} {total['read']:5d} {total['fields']:6d} {total['hidden']:6d} "
                  f"{total['caught']:6d} {100 * total['correct'] / inside:14.2f}% "
                  f"{100 * total['needless'] / inside:7.2f}% {total['silent_hidden']:14d} {total['silent_inside']:6d}",
                  flush=True)

if __name__ == "__main__":
    main()
