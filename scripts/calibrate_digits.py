"""Rebuild scanner/models/digits-acceptance.npz: when a digit the networks read is accepted without review.

    python scripts/calibrate_digits.py [--mnist PATH/mnist-train.npz] [--more-digits DIR]

Run it after scripts/train_digits.py: the file is made for the networks in scanner/models/digits.npz (it
holds their fingerprint) and the scanner ignores it, with a warning, for any other networks.

Why: the networks, trained on MNIST's writers, are as sure of shapes unlike those writers' (a continental 1
with its flag, a 7 with a bar, a digit stretched to fill its box) as of ordinary ones, and wrong far more
often there. ``scanner.digits.recognise`` therefore grows a digit's doubt (1 - the ensemble's probability)
e-fold for each standard deviation its features lie further than usual from the training digits of the
class it was read as, and this script chooses the threshold on that.

1. Bank: ``BANK_PER_CLASS`` digits of each class from MNIST's training part (train_digits.split), written
   into boxes and captured as the scanner sees them, through the networks: each network's last hidden
   layer, unit length, on its ``AXES`` principal axes.
2. Calibration digits, all written into synthetic printed boxes with train_digits.render_set (pen, pencil,
   4-12 px/mm capture, neighbours) and cut out by the scanner's own code:
   - MNIST validation: the 5,000 validation digits, four boxes each (the boxes train_digits chose its
     threshold on), and once more stretched to fill a square frame (``as_mnist``);
   - other writers (``MORE_DIGITS``): the calibration half (``halves``) of the US Postal Service's zip-code
     digits (usps-train.npz) and of the NIST-form digits of optdigits (optdigits-train.npz), each digit
     twice: as it comes and stretched to fill its frame.
3. The distances' median and spread on the MNIST validation boxes.
4. The threshold: the lowest of train_digits' candidates at which every calibration source keeps
   wrong-but-accepted at or under train_digits.MAX_WRONG_ACCEPTED (0.1 %, half the 0.2 % target).

The held-back halves of USPS and optdigits (benchmarks/handwriting_accuracy.py reports on them) and
MNIST's held-back digits are never read here. The sets carry no writer ids, so the halves are made of
blocks of ``BLOCK`` consecutive digits (in USPS, consecutive digits are mostly one zip code, one writer),
the blocks dealt at random (seed 0).

Measured choices (2026-12, calibration parts only): distances in the last hidden layer to the nearest bank
digit of the class beat class means (Mahalanobis), earlier layers, pixel distances, the margin to the
nearest other class and the networks' agreement, which added nothing to the probability; 16 axes and 500
digits a class did as well as the full features and 2,000 a class. A doubt growing e-fold a standard
deviation (``DOUBT_PER_SD``) kept 0.1 % wrong-but-accepted on every source at 4.8 % of MNIST validation
digits rejected, against 7.1 % for a higher threshold on the probability alone; steeper growth did no
better and moves the threshold away from the probability scale that dates and ranges are judged on
(scanner.handwriting). The errors left are confident readings of shapes near another class's training
digits (a continental 1 is an MNIST 7): only training on such writers removes them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # train_digits, as a module its render_set's worker processes find

import train_digits  # noqa: E402

from scanner import digits  # noqa: E402

MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-train.npz"
MORE_DIGITS = ROOT.parent / "shared" / "data" / "more-digits"
OTHER_WRITERS = ("usps", "optdigits")
BLOCK = 100  # consecutive digits kept together when a set is halved
BANK_PER_CLASS = 500
AXES = 16
DOUBT_PER_SD = 1.0
NARROW = 0.45  # a digit narrower than this (width / height), a plain 1, is not stretched: nobody writes 1 as a block
# render_set seeds (each box's seed is seed * 10,000,000 + its index): train_digits uses 1 and 2
SEEDS = {"mnist-val-stretched": 3, "usps": 4, "optdigits": 5, "bank": 6}


def as_mnist(image: np.ndarray, stretch: bool = False) -> np.ndarray:
    """A digit image (any size, ink high, grey or binary) as MNIST draws one: 28×28 uint8, ink 255, the ink's
    bounding box scaled to 20 px on its long side, the aspect kept, centred by mass; with ``stretch``, scaled
    to fill a 20×20 square instead, as USPS fills its frame (a digit narrower than ``NARROW`` is left
    narrow). Strokes keep their width relative to the digit."""
    ink = image.astype(np.float32) / max(1.0, float(image.max()))
    ys, xs = np.nonzero(ink > 0.12)
    out = np.zeros((28, 28), np.float32)
    if ys.size == 0:
        return out.astype(np.uint8)
    piece = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = piece.shape
    if stretch and w / h > NARROW:
        th = tw = 20
    else:
        scale = 20 / max(h, w)
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.clip(cv2.resize(piece, (tw, th), interpolation=cv2.INTER_AREA if th < h else cv2.INTER_LINEAR), 0, 1)
    total = float(small.sum()) or 1.0
    cy = float((small.sum(axis=1) * np.arange(th)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(tw)).sum()) / total
    oy = min(max(int(round(13.5 - cy)), 0), 28 - th)
    ox = min(max(int(round(13.5 - cx)), 0), 28 - tw)
    out[oy:oy + th, ox:ox + tw] = small
    return np.round(out * 255).astype(np.uint8)


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the calibration half and the held-back half of a set of ``n`` digits: blocks of ``BLOCK``
    consecutive digits, dealt at random (``seed``), half the blocks each."""
    blocks = -(-n // BLOCK)
    calibration_blocks = np.random.default_rng(seed).permutation(blocks)[:blocks // 2]
    calibration = np.isin(np.arange(n) // BLOCK, calibration_blocks)
    return np.nonzero(calibration)[0], np.nonzero(~calibration)[0]


def other_writers(name: str, part: str, folder: Path = MORE_DIGITS, limit: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``part`` ("calibration" or "held-back") of set ``name`` (usps, optdigits) as MNIST-like images:
    (images (2N, 28, 28) uint8, labels (2N,), stretched (2N,) bool): every digit as it comes, then every
    digit stretched to fill its frame; the first ``limit`` digits of the part only, if given."""
    with np.load(folder / f"{name}-train.npz") as data:
        x, y = data["x"], data["y"].astype(np.int64)
    index = halves(len(y))[0 if part == "calibration" else 1][:limit]
    images = np.stack([as_mnist(x[i], stretch) for stretch in (False, True) for i in index])
    return images, np.concatenate([y[index], y[index]]), np.repeat([False, True], len(index))


def _features(boxes: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    return digits._forward(boxes)


def make_bank(train, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray],
                                                            np.ndarray]:
    """The first ``BANK_PER_CLASS`` training digits of each class (in the split's order), in boxes: each
    network's centre, principal axes and projected features."""
    train_idx = train.split(len(x))[0]
    chosen = np.concatenate([train_idx[y[train_idx] == c][:BANK_PER_CLASS] for c in range(10)])
    boxes = train.render_set(x[chosen], 1, seed=SEEDS["bank"])
    y = y[chosen]
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
                train.render_set(np.stack([as_mnist(d, True) for d in x[val_idx]]), 1,
                                 seed=SEEDS["mnist-val-stretched"]), y[val_idx])}
    for name in OTHER_WRITERS:
        images, labels, _ = other_writers(name, "calibration", more)
        sets[f"{name} calibration half"] = (train.render_set(images, 1, seed=SEEDS[name]), labels)
    return sets


def choose_threshold(train, trusted: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The lowest of train_digits' candidate thresholds at which every source's wrong-but-accepted share is
    at most ``MAX_WRONG_ACCEPTED``. ``trusted``: per source, (p, right)."""
    for threshold in 1 - np.logspace(np.log10(0.5), -6, 400):
        if all(np.mean((p >= threshold) & ~right) <= train.MAX_WRONG_ACCEPTED for p, right in trusted.values()):
            return float(threshold)
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=MNIST,
                        help="the MNIST training set as .npz (x: 60,000 28x28 uint8 images, y: labels)")
    parser.add_argument("--more-digits", type=Path, default=MORE_DIGITS,
                        help="folder with usps-train.npz and optdigits-train.npz")
    parser.add_argument("--model", type=Path, default=digits.MODEL_PATH, help="the networks to calibrate for")
    parser.add_argument("--out", type=Path, default=digits.ACCEPTANCE_PATH)
    args = parser.parse_args()
    digits.MODEL_PATH = args.model
    train = train_digits
    started = time.time()
    with np.load(args.mnist) as data:
        x, y = data["x"], data["y"].astype(np.int64)
    centres, axes, banks, labels = make_bank(train, x, y)
    sets = calibration_sets(train, x, y, args.more_digits)
    print(f"bank of {len(labels)} training digits and {sum(len(s[1]) for s in sets.values())} calibration boxes "
          f"ready in {time.time() - started:.0f} s", flush=True)
    outputs = {name: _features(boxes) for name, (boxes, _) in sets.items()}
    probe = digits.Acceptance(0.5, DOUBT_PER_SD, 0.0, 1.0, tuple(centres), tuple(axes), tuple(banks), labels,
                              digits.model_fingerprint())
    raw = {name: probe.raw_distance(f, p.argmax(axis=1)) for name, (p, f) in outputs.items()}
    validation = raw["MNIST validation"]
    median, spread = float(np.median(validation)), float(np.std(validation))
    trusted = {}
    for name, (p, _) in outputs.items():
        digit = p.argmax(axis=1)
        distance = (raw[name] - median) / spread
        best = p[np.arange(len(digit)), digit]
        trust = digits.trusted_probability(best, distance, DOUBT_PER_SD)
        trusted[name] = (trust, digit == sets[name][1])
    threshold = choose_threshold(train, trusted)
    acceptance = dataclasses.replace(probe, threshold=threshold, median=median, sd=spread)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    acceptance.save(args.out)
    old = float(digits._weights()["accept_probability"])
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
    print(f"\nwrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
