"""Rebuild scanner/models/digits-acceptance.npz: when a digit the networks read is accepted without review.

    python scripts/calibrate_digits.py [--mnist PATH/mnist-train.npz] [--more-digits DIR]

Run it after scripts/train_digits.py: the file is made for the networks in scanner/models/digits.npz (it
holds their fingerprint) and the scanner ignores it, with a warning, for any other networks.

Why: networks trained on MNIST's writers alone were as sure of shapes unlike those writers' (a continental
1 with its flag, a 7 with a bar, a digit stretched to fill its box) as of ordinary ones, and wrong far more
often there; networks trained on other writers too still meet shapes none of their writers made.
``scanner.digits.recognise`` therefore grows a digit's doubt (1 - the ensemble's probability) e-fold for
each standard deviation its features lie further than usual from the training digits of the class it was
read as, and this script chooses the threshold on that.

1. Bank: ``BANK_PER_CLASS`` digits of each class from MNIST's training part (train_digits.split), some in
   the styles the networks were trained with (digit_sources.styled), and the other writers' digits they
   were trained on, written into boxes and captured as the scanner sees them, through the networks: each
   network's last hidden layer, unit length, on its ``AXES`` principal axes.
2. Calibration digits, all written into synthetic printed boxes with train_digits.render_set (pen, pencil,
   4-12 px/mm capture, neighbours) and cut out by the scanner's own code:
   - MNIST validation: the 5,000 validation digits, four boxes each (the boxes train_digits chose its
     threshold on), and once more stretched to fill a square frame (``as_mnist``);
   - other writers (digit_sources.MORE_DIGITS): the calibration part (a quarter, ``digit_sources.parts``)
     of the US Postal Service's zip-code digits (usps-train.npz) and of the NIST-form digits of optdigits
     (optdigits-train.npz), each digit as it comes and stretched to fill its frame, ``CALIBRATION_COPIES``
     boxes of each: these sets are small, and one capture of each digit would judge the threshold by a
     handful of boxes.
3. The distances' median and spread on the MNIST validation boxes.
4. The threshold: the lowest of train_digits' candidates at which every calibration source keeps
   wrong-but-accepted at or under train_digits.MAX_WRONG_ACCEPTED (0.1 %, half the 0.2 % target), and
   never lower than the networks' own threshold (digits.npz, chosen on MNIST validation digits by the
   probability alone): the distance only adds doubt. The calibration sources hold no shape that none of
   the training sets has, so they cannot vouch for a lower one: for networks fine-tuned on other writers
   (an experiment of 2026-12-02) they allowed 0.88 against the networks' 0.97.
5. The dates' threshold (digits.accept_date_share): ``DATES_PER_SOURCE`` dates per calibration source,
   each digit one of that source's boxes of the digit, resolved as a date field is, ``DATE_SAMPLES``
   times: with the boxes as they are, then with boxes drawn from them again with replacement; the lowest
   candidate, not under the digits' threshold, at which every source keeps wrong dates accepted at or
   under ``MAX_WRONG_DATES`` in ``DATES_SURE`` of its samples. The wrong dates rest on a few boxes read
   wrongly and surely (nine of MNIST's 20,000 at the digits' threshold), so one draw can pass by luck:
   chosen on half of each source's digits, the threshold of the networks of 2026-12-03 was 0.9674, on the
   other half 0.9968. Held-back dates (benchmarks/handwriting_accuracy.py --only dates) seemed to be
   accepted wrongly 4-6 times as often as these at the same threshold; most of those rest on held-back
   digits labelled otherwise than they are written (benchmarks/written_otherwise.py): set aside, 2 of
   4,500 (0.044 %) at 0.9915, as here.

The held-back quarters of USPS and optdigits (benchmarks/handwriting_accuracy.py reports on them), the
parts the networks were trained on (train_digits.py) and MNIST's held-back digits are never read here.

Measured choices (2026-12, calibration parts only): distances in the last hidden layer to the nearest bank
digit of the class beat class means (Mahalanobis), earlier layers, pixel distances, the margin to the
nearest other class and the networks' agreement, which added nothing to the probability; 16 axes and 500
digits a class did as well as the full features and 2,000 a class. A doubt growing e-fold a standard
deviation (``DOUBT_PER_SD``) kept 0.1 % wrong-but-accepted on every source at 4.8 % of MNIST validation
digits rejected, against 7.1 % for a higher threshold on the probability alone; steeper growth did no
better and moves the threshold away from the probability scale that dates and ranges are judged on
(scanner.handwriting). The errors left are confident readings of shapes near another class's training
digits (a continental 1 is an MNIST 7): only training on such writers removes them (train_digits.py
trains on them since 2026-12-02).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # train_digits, as a module its render_set's worker processes find

import digit_sources  # noqa: E402
import train_digits  # noqa: E402

from scanner import digits  # noqa: E402
from scanner.dates import most_likely_date, plausible_years  # noqa: E402

MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-train.npz"
BANK_PER_CLASS = 500
AXES = 16
DOUBT_PER_SD = 1.0
CALIBRATION_COPIES = 3
# Dates: a date is wrong when any of its eight digits is, so the likeliest date's share of the weight has a
# threshold of its own (digits.accept_date_share), chosen on dates written with each source's calibration
# boxes: at most MAX_WRONG_DATES of them accepted but wrong (half the digits' target, as for digits) in
# DATES_SURE of DATE_SAMPLES draws, each from the boxes resampled (step 5 of the docstring says why).
DATES_PER_SOURCE = 10_000
MAX_WRONG_DATES = 0.001
DATE_SAMPLES = 100
DATES_SURE = 0.95
DATE_RANGE = (dt.date(2020, 1, 1), dt.date(2030, 12, 31))  # days forms are filled in or reviewed, around now
# render_set seeds (each box's seed is seed * 10,000,000 + its index): train_digits uses 1, 2, 20 and 21
SEEDS = {"mnist-val-stretched": 3, "usps": 4, "optdigits": 5, "bank": 6}


def _features(boxes: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    return digits._forward(boxes)


def make_bank(train, x: np.ndarray, y: np.ndarray, more: Path
              ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The digits the networks learnt from, in boxes: the first ``BANK_PER_CLASS`` MNIST training digits of
    each class (in the split's order), each drawn through digit_sources.styled (some in other styles), and
    the other writers' digits of the training part; each network's centre, principal axes and projected
    features."""
    train_idx = train.split(len(x))[0]
    chosen = np.concatenate([train_idx[y[train_idx] == c][:BANK_PER_CLASS] for c in range(10)])
    images, labels = [digit_sources.styled(x[chosen], y[chosen], seed=SEEDS["bank"])], [y[chosen]]
    for other, other_labels in digit_sources.training_parts(more).values():
        images.append(other)
        labels.append(other_labels)
    boxes = train.render_set(np.concatenate(images), 1, seed=SEEDS["bank"])
    y = np.concatenate(labels)
    _, features = _features(boxes)
    centres, axes, banks = [], [], []
    for f in features:
        unit = digits._unit(f.astype(np.float32))
        centre = unit.mean(axis=0)
        _, _, vt = np.linalg.svd(unit - centre, full_matrices=False)
        centres.append(centre)
        axes.append(vt[:AXES])
        # as the file keeps it, rounded to float16: the threshold is chosen with the bank the scanner reads
        banks.append(digits._unit(digits.project(f, centre, vt[:AXES]).astype(np.float16).astype(np.float32)))
    return centres, axes, banks, y.astype(np.int64)


def calibration_sets(train, x: np.ndarray, y: np.ndarray, more: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Boxes and labels of each calibration source."""
    val_idx = train.split(len(x))[1]
    sets = {"MNIST validation": (train.render_set(x[val_idx], train.VALIDATION_COPIES, seed=2),
                                 np.concatenate([y[val_idx]] * train.VALIDATION_COPIES)),
            "MNIST validation, stretched": (
                train.render_set(np.stack([digit_sources.as_mnist(d, True) for d in x[val_idx]]), 1,
                                 seed=SEEDS["mnist-val-stretched"]), y[val_idx])}
    for name in digit_sources.OTHER_WRITERS:
        images, labels, _ = digit_sources.other_writers(name, "calibration", more)
        sets[f"{name} calibration part"] = (train.render_set(images, CALIBRATION_COPIES, seed=SEEDS[name]),
                                            np.concatenate([labels] * CALIBRATION_COPIES))
    return sets


def lowest_threshold(train, judged: dict[str, list[tuple[np.ndarray, np.ndarray]]], max_wrong: float,
                     floor: float = 0.0, sure: float = 1.0) -> float:
    """The lowest of train_digits' candidate thresholds, not under ``floor``, at which every source's
    wrong-but-accepted share is at most ``max_wrong`` in a share ``sure`` of its samples (1: in all).
    ``judged``: per source, its samples, each (what is compared with the threshold: a digit's trusted
    probability or a date's share, whether the reading is right)."""
    for threshold in train.THRESHOLD_CANDIDATES:
        if threshold >= floor and all(
                np.quantile([np.mean((score >= threshold) & ~right) for score, right in samples], sure) <= max_wrong
                for samples in judged.values()):
            return float(threshold)
    return 1.0


def date_shares(trusted: np.ndarray, labels: np.ndarray, seed: int, count: int = DATES_PER_SOURCE
                ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` dates (days in ``DATE_RANGE``), each digit a random box of that digit among ``trusted``
    (N, 10), the boxes' trusted probabilities with their ``labels``, resolved as the scanner resolves a date
    field: (the likeliest date's share of the weight (count,), whether it is the date written (count,))."""
    rng = np.random.default_rng(seed)
    by_digit = [np.flatnonzero(labels == d) for d in range(10)]
    span = (DATE_RANGE[1] - DATE_RANGE[0]).days + 1
    years = plausible_years()
    shares, right = np.empty(count), np.empty(count, bool)
    for n, offset in enumerate(rng.integers(0, span, count)):
        day = DATE_RANGE[0] + dt.timedelta(days=int(offset))
        boxes = [rng.choice(by_digit[int(c)]) for c in day.strftime("%d%m%Y")]
        best, shares[n] = most_likely_date(trusted[boxes], years)
        right[n] = best == day.isoformat()
    return shares, right


def resampled_date_shares(trusted: np.ndarray, labels: np.ndarray, seed: int, samples: int = DATE_SAMPLES,
                          count: int = DATES_PER_SOURCE) -> list[tuple[np.ndarray, np.ndarray]]:
    """``date_shares`` ``samples`` times: written with the boxes as they are, then each time with the boxes
    drawn again from them with replacement (a bootstrap), so that a threshold chosen on these holds for
    other boxes than these few confident wrong ones."""
    rng = np.random.default_rng(seed)
    out = [date_shares(trusted, labels, seed, count)]
    for k in range(1, samples):
        drawn = rng.integers(0, len(labels), len(labels))
        out.append(date_shares(trusted[drawn], labels[drawn], seed=1000 * (seed + 1) + k, count=count))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=MNIST,
                        help="the MNIST training set as .npz (x: 60,000 28x28 uint8 images, y: labels)")
    parser.add_argument("--more-digits", type=Path, default=digit_sources.MORE_DIGITS,
                        help="folder with usps-train.npz and optdigits-train.npz")
    parser.add_argument("--model", type=Path, default=digits.MODEL_PATH, help="the networks to calibrate for")
    parser.add_argument("--out", type=Path, default=digits.ACCEPTANCE_PATH)
    args = parser.parse_args()
    digits.MODEL_PATH = args.model
    train = train_digits
    started = time.time()
    with np.load(args.mnist) as data:
        x, y = data["x"], data["y"].astype(np.int64)
    centres, axes, banks, labels = make_bank(train, x, y, args.more_digits)
    sets = calibration_sets(train, x, y, args.more_digits)
    print(f"bank of {len(labels)} training digits and {sum(len(s[1]) for s in sets.values())} calibration boxes "
          f"ready in {time.time() - started:.0f} s", flush=True)
    outputs = {name: _features(boxes) for name, (boxes, _) in sets.items()}
    probe = digits.Acceptance(0.5, DOUBT_PER_SD, 0.0, 1.0, tuple(centres), tuple(axes), tuple(banks), labels,
                              digits.model_fingerprint())
    raw = {name: probe.raw_distance(f, p.argmax(axis=1)) for name, (p, f) in outputs.items()}
    validation = raw["MNIST validation"]
    median, spread = float(np.median(validation)), float(np.std(validation))
    trusted, dates = {}, {}
    for k, (name, (p, _)) in enumerate(outputs.items()):
        digit = p.argmax(axis=1)
        # as the scanner has them (digits.recognise): the likeliest digit's probability lowered, float32
        probabilities = digits.trusted_probabilities(p, (raw[name] - median) / spread, DOUBT_PER_SD)
        trusted[name] = (probabilities[np.arange(len(digit)), digit], digit == sets[name][1])
        dates[name] = resampled_date_shares(probabilities, sets[name][1], seed=k)
    old = float(digits._weights()["accept_probability"])
    threshold = max(lowest_threshold(train, {name: [judged] for name, judged in trusted.items()},
                                     train.MAX_WRONG_ACCEPTED), old)
    date_threshold = lowest_threshold(train, dates, MAX_WRONG_DATES, floor=threshold, sure=DATES_SURE)
    acceptance = dataclasses.replace(probe, threshold=threshold, median=median, sd=spread,
                                     date_threshold=date_threshold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    acceptance.save(args.out)
    print(f"\naccept at p >= {threshold:.5f} (doubt x e per standard deviation beyond the median distance "
          f"{median:.4f}, sd {spread:.4f}); the networks' probability alone: p >= {old:.5f}\n")
    print("| calibration source | boxes | rule | accepted and right | rejected | accepted but wrong |")
    print("|---|---|---|---|---|---|")
    for name, (p, _) in outputs.items():
        trust, right = trusted[name]
        for rule, accepted in (("probability alone", p.max(axis=1) >= old), ("with distance", trust >= threshold)):
            print(f"| {name} | {len(right)} | {rule} | {np.mean(accepted & right):.2%} | {np.mean(~accepted):.2%} | "
                  f"{np.mean(accepted & ~right):.3%} ({int(np.sum(accepted & ~right))}) |")
    print("\nStricter thresholds with distance (for a service whose writers are unlike MNIST's): rejected, "
          "accepted but wrong\n")
    print("| p >= | " + " | ".join(trusted) + " |")
    print("|---" * (len(trusted) + 1) + "|")
    for stricter in (0.98, 0.99, 0.995, 0.998):
        cells = [f"{np.mean(trust < stricter):.2%}, {np.mean((trust >= stricter) & ~right):.3%}"
                 for trust, right in trusted.values()]
        print(f"| {stricter} | " + " | ".join(cells) + " |")
    print(f"\nDates ({DATE_SAMPLES} samples of {DATES_PER_SOURCE:,} a source, {DATE_RANGE[0].year}-"
          f"{DATE_RANGE[1].year}, each digit a calibration box of that digit, the boxes drawn again with replacement "
          f"after the first): accept the likeliest at a share >= {date_threshold:.5f}; accepted and right, the mean "
          f"of the samples; accepted but wrong, the boxes as they are and in {DATES_SURE:.0%} of the samples\n")
    print("| share >= | " + " | ".join(dates) + " |")
    print("|---" * (len(dates) + 1) + "|")
    for share in sorted({threshold, date_threshold, 0.98, 0.99, 0.995}):
        cells = []
        for samples in dates.values():
            wrong = [np.mean((s >= share) & ~r) for s, r in samples]
            cells.append(f"{np.mean([np.mean((s >= share) & r) for s, r in samples]):.1%} right, "
                         f"{wrong[0]:.3%} / {np.quantile(wrong, DATES_SURE):.3%} wrong")
        print(f"| {share:.4f} | " + " | ".join(cells) + " |")
    print(f"\nwrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
