"""Rebuild scanner/models/one-digit.npz: is what a box holds one digit, or something else?

    pip install torch==2.13.0        # training only; formkit runs the judge in NumPy and OpenCV
    python scripts/train_single_character.py --mnist PATH/mnist-train.npz [--work /tmp/single-training]

The digit networks (``scanner/models/digits.npz``) only know single digits: a digit struck through or
scribbled over, or two digits squeezed into one box, is read as some digit, at times with full confidence
(``benchmarks/irregular_digits.py``: a 1 struck through read as 1 at p 0.978, "89" in one box as 8 at 0.994).
This script teaches a small judge to tell such boxes from single digits. It reads the digit networks' last
hidden layers (``scanner.digits.recognise`` computes them anyway), the box's ink shape and what a small
network of its own, learnt here first from the boxes' pixels (``fit_pixels``), makes of the box (a digit
written over another shows in the pixels more than in the digit networks' features), and answers the
probability that the box holds something other than one digit. With ``--work``, the pixel network is kept
there too (``pixel-network.npz``) and reused by a rerun.

Single digits: MNIST training digits (some in other styles, ``digit_sources.styled``) and the other writers'
training parts, as the digit networks learn them. Not one digit, drawn by this script (``overwrite``, ``pair``,
``_render_rewritten``): a digit struck through (one stroke at any slant, or two, crossing it), scribbled over (a
zigzag, or a loose loop over it), or hatched; two digits side by side in one box, touching, overlapping or just
apart; and a digit corrected by writing another over it as firmly.
Every box goes through train_digits.synthetic_box: written, captured and cut out as the scanner does.

The threshold is chosen on digits neither the judge nor the networks learnt from (MNIST validation, the other
writers' calibration parts): the lowest log-odds that flags at most ``MAX_FLAGGED`` of single digits of every
source. The held-back digits are never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import digit_sources  # noqa: E402
import train_digits as train  # noqa: E402

from formkit.layout.model import Box  # noqa: E402
from scanner import digits, one_digit  # noqa: E402
from tests.synthetic import _Pen, draw_digit  # noqa: E402

MAX_FLAGGED = 0.002  # of single digits of any calibration source: a date's eight digits, 1.6 % of dates at most
SEEDS = {"single": 60, "overwritten": 61, "pairs": 62, "validation": 63, "other": 64, "check": 65, "rewritten": 66}
SINGLE_PER_SET = 20_000  # MNIST training digits drawn as single digits (and as many in other styles)
OVERWRITTEN = 24_000
REWRITTEN = 12_000
PAIRS = 16_000
# the other writers' calibration parts are small (1,791 and 500 digits): with two boxes a digit, optdigits'
# 0.2 % rested on its two highest-scoring boxes, and a judge trained on more digits written over took a
# threshold of 14.6 against 10.2 from them alone (2026-12-05); six captures of each steady it
OTHER_CALIBRATION_COPIES = 6
PIXEL_EPOCHS = 6
PAIR_LEAST_ASPECT = 0.9  # width over height of the ink of two digits side by side, as cut out


def overwrite(image: np.ndarray, box: Box, rng: random.Random, pen: str) -> None:
    """Strike through or scribble over what ``box`` of ``image`` (a box's grey cut-out at the scanner's 8 px/mm)
    holds: one stroke at any slant through the middle, two crossing strokes, a zigzag across or down, a
    loose loop, or three to five parallel strokes; in the writer's pen, running up to a millimetre past the
    digit."""
    width_mm = {"pencil": 0.25, "blue": 0.4, "black": 0.45}[pen] * rng.uniform(0.8, 1.4)
    stroke = _Pen(image, digits.WARP_PX_PER_MM * 25.4, pen, width_mm).stroke
    cx = box.x_mm + box.w_mm * rng.uniform(0.4, 0.6)
    cy = box.y_mm + box.h_mm * rng.uniform(0.4, 0.6)
    half_w, half_h = box.w_mm * rng.uniform(0.3, 0.6), box.h_mm * rng.uniform(0.3, 0.6)
    kind = rng.choice(["slash", "slash", "cross", "zigzag", "zigzag", "loop", "hatch"])

    def jitter() -> float:
        return rng.uniform(-0.3, 0.3)

    if kind in ("slash", "cross"):
        for _ in range(1 if kind == "slash" else 2):
            angle = rng.uniform(0, np.pi)  # any slant: across, down or corner to corner
            dx, dy = np.cos(angle) * half_w * 1.3, np.sin(angle) * half_h * 1.3
            stroke([(cx - dx + jitter(), cy - dy + jitter()), (cx + dx + jitter(), cy + dy + jitter())])
    elif kind == "zigzag":
        turns = rng.randint(3, 9)
        down = rng.random() < 0.3
        points = []
        for k in range(turns):
            along = -1 + 2 * k / (turns - 1)
            side = 1 if k % 2 else -1
            points.append((cx + (side * half_w if down else along * half_w) + jitter(),
                           cy + (along * half_h if down else side * half_h) + jitter()))
        stroke(points)
    elif kind == "loop":
        turns, steps = rng.uniform(1.5, 4), 40
        phase = rng.uniform(0, 2 * np.pi)
        drift = rng.uniform(-0.3, 0.3) * half_w
        stroke([(cx + np.cos(phase + t) * half_w * rng.uniform(0.8, 1.0) + drift * t / (2 * np.pi),
                 cy + np.sin(phase + t) * half_h * rng.uniform(0.8, 1.0))
                for t in np.linspace(0, turns * 2 * np.pi, steps)])
    else:  # hatching
        count = rng.randint(3, 5)
        angle = rng.uniform(0.2, 1.2) * rng.choice([-1, 1])
        for k in range(count):
            offset = (-1 + 2 * k / (count - 1)) * half_w
            dx, dy = np.sin(angle) * half_h, np.cos(angle) * half_h
            stroke([(cx + offset - dx + jitter(), cy - dy), (cx + offset + dx + jitter(), cy + dy)])


def pair(left: np.ndarray, right: np.ndarray, rng: random.Random) -> np.ndarray:
    """Two MNIST-like digits (28×28, ink 255) side by side as one image: overlapping by up to a fifth of
    their width, touching, or a few pixels apart; the second a little higher or lower."""
    def piece(d: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(d > 30)
        return d[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if ys.size else d

    a, b = piece(left), piece(right)
    gap = rng.randint(-max(1, min(a.shape[1], b.shape[1]) // 5), 3)
    shift = rng.randint(-3, 3)
    height = max(a.shape[0], b.shape[0]) + abs(shift) + 2
    width = a.shape[1] + b.shape[1] + max(gap, 0) + 2
    out = np.zeros((height, width), np.uint8)
    top_a, top_b = 1 + max(0, -shift), 1 + max(0, shift)
    out[top_a:top_a + a.shape[0], 1:1 + a.shape[1]] = a
    x_b = 1 + a.shape[1] + gap
    region = out[top_b:top_b + b.shape[0], x_b:x_b + b.shape[1]]
    np.maximum(region, b, out=region)
    return out


def _render_overwritten(job: tuple[np.ndarray, int]) -> np.ndarray:
    images, first_seed = job
    n = len(images)
    return np.stack([train.synthetic_box(d, first_seed + i, (images[(i + 1) % n], images[(i + 7) % n]),
                                         overwrite=overwrite) for i, d in enumerate(images)])


def _render_rewritten(job: tuple[np.ndarray, int]) -> np.ndarray:
    """Boxes whose digit was corrected by writing another digit over it, as firmly: (N, 2, 28, 28) in."""
    images, first_seed = job
    n = len(images)

    def over(second: np.ndarray) -> Callable[[np.ndarray, Box, random.Random, str], None]:
        def write(image: np.ndarray, box: Box, rng: random.Random, pen: str) -> None:
            draw_digit(image, digits.WARP_PX_PER_MM * 25.4, box, second, rng, pen, strength=(0.8, 1.0))
        return write

    return np.stack([train.synthetic_box(first, first_seed + i, (images[(i + 1) % n][0], images[(i + 7) % n][0]),
                                         overwrite=over(second)) for i, (first, second) in enumerate(images)])


def _render_pairs(job: tuple[np.ndarray, int]) -> np.ndarray:
    images, first_seed = job
    n = len(images)
    boxes = []
    for i in range(n):
        rng = random.Random(first_seed + i)
        boxes.append(train.synthetic_box(pair(images[i], images[(i + 3) % n], rng), first_seed + i,
                                         (images[(i + 1) % n], images[(i + 7) % n])))
    return np.stack(boxes)


def _rendered(render, x: np.ndarray, seed: int) -> np.ndarray:
    chunk = 2000
    jobs = [(x[i:i + chunk], seed * 10_000_000 + i) for i in range(0, len(x), chunk)]
    with Pool(2) as pool:
        return np.concatenate(pool.map(render, jobs))


def inputs(boxes: np.ndarray, pixels: dict[str, np.ndarray] | None) -> np.ndarray:
    """The judge's input for normalised boxes, as the scanner gives it (``one_digit.judge_inputs``)."""
    return one_digit.judge_inputs(boxes, list(digits.recognise(boxes).features), pixels)


def fit_pixels(single: np.ndarray, other: np.ndarray, epochs: int = PIXEL_EPOCHS, seed: int = 0
               ) -> dict[str, np.ndarray]:
    """The pixel network (``one_digit.pixel_log_odds``): the digit networks' shape (two convolutions of 16
    channels, a pooling, two of 32, a pooling, a dense layer of 64) with one output, learnt from the boxes
    (N, 28, 28) of ``single`` digits (0) and of ``other`` things (1), each batch moved up to a pixel each way
    (the scanner centres the ink by its mass, not exactly). Its weights as ``digits.network_outputs`` names
    them, float32."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))
    x = torch.from_numpy(np.concatenate([single, other]).astype(np.float32)[:, None])
    y = torch.from_numpy(np.concatenate([np.zeros(len(single)), np.ones(len(other))]).astype(np.float32))
    batch = 128
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, pct_start=0.15,
                                                   total_steps=epochs * -(-len(x) // batch))
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            dy, dx = torch.randint(-1, 2, (2,), generator=generator).tolist()
            optimiser.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(
                net(torch.roll(x[idx], shifts=(dy, dx), dims=(2, 3)))[:, 0], y[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        print(f"pixel network, epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}", flush=True)
    layers = {"c1": net[0], "c2": net[2], "c3": net[5], "c4": net[7], "f1": net[11], "f2": net[14]}
    return {f"{name}.{part}": tensor.detach().numpy().astype(np.float32)
            for name, layer in layers.items() for part, tensor in (("w", layer.weight), ("b", layer.bias))}


def fit(x: np.ndarray, y: np.ndarray, epochs: int = 30, seed: int = 0) -> one_digit.Judge:
    """A perceptron of one hidden layer (64 units) on ``x`` (N, D) standardised, ``y`` 1 for not one digit;
    its threshold still to choose (infinite)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    data = torch.from_numpy(((x - mean) / sd).astype(np.float32))
    labels = torch.from_numpy(y.astype(np.float32))
    model = nn.Sequential(nn.Linear(x.shape[1], 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(data), generator=generator)
        total = 0.0
        for i in range(0, len(data), 256):
            idx = order[i:i + 256]
            optimiser.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(data[idx])[:, 0], labels[idx])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        if epoch % 5 == 4:
            print(f"judge, epoch {epoch + 1}/{epochs}: loss {total / len(data):.4f}", flush=True)
    model.eval()
    first, last = model[0], model[3]
    return one_digit.Judge(mean.astype(np.float32), sd.astype(np.float32), first.weight.detach().numpy(),
                           first.bias.detach().numpy(), last.weight.detach().numpy()[0],
                           float(last.bias.detach().numpy()[0]), float("inf"), digits.model_fingerprint())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, required=True)
    parser.add_argument("--more-digits", type=Path, default=digit_sources.MORE_DIGITS)
    parser.add_argument("--work", type=Path, help="keep the rendered boxes here; a rerun reuses them")
    parser.add_argument("--out", type=Path, default=one_digit.JUDGE_PATH)
    args = parser.parse_args()
    data = np.load(args.mnist)
    x, y = data["x"], data["y"]
    train_idx, val_idx, _ = train.split(len(x))
    rng = np.random.default_rng(0)
    chosen = rng.permutation(train_idx)
    started = time.time()

    def single() -> dict[str, np.ndarray]:
        images = [x[chosen[:SINGLE_PER_SET]],
                  digit_sources.styled(x[chosen[SINGLE_PER_SET:2 * SINGLE_PER_SET]],
                                       y[chosen[SINGLE_PER_SET:2 * SINGLE_PER_SET]], seed=SEEDS["single"])]
        images += [other for other, _ in digit_sources.training_parts(args.more_digits).values()]
        return {"x": np.concatenate([train.render_set(i, 1, seed=SEEDS["single"] + 10 * k)
                                     for k, i in enumerate(images)])}

    def not_single() -> dict[str, np.ndarray]:
        pool = x[chosen[2 * SINGLE_PER_SET:]]
        over = _rendered(_render_overwritten, pool[rng.integers(0, len(pool), OVERWRITTEN)], SEEDS["overwritten"])
        pairs = _rendered(_render_pairs, pool[rng.integers(0, len(pool), PAIRS)], SEEDS["pairs"])
        labels = y[chosen[2 * SINGLE_PER_SET:]]
        first, second = rng.integers(0, len(pool), REWRITTEN), rng.integers(0, len(pool), REWRITTEN)
        while (same := labels[first] == labels[second]).any():  # a digit traced over again is one digit
            second[same] = rng.integers(0, len(pool), int(same.sum()))
        rewritten = _rendered(_render_rewritten, np.stack([pool[first], pool[second]], axis=1), SEEDS["rewritten"])
        # a pair whose second digit fell mostly outside the box is cut out as one digit: not to be learnt as
        # something else. Side by side, two digits are wider than tall
        pairs = pairs[one_digit.shape_features(pairs)[:, 1] >= PAIR_LEAST_ASPECT]
        return {"x": np.concatenate([over, pairs, rewritten])}

    ones = train._cached(args.work, "single", single)["x"]
    others = train._cached(args.work, "not-single", not_single)["x"]
    print(f"{len(ones)} single digits and {len(others)} other boxes in {time.time() - started:.0f} s", flush=True)
    pixels = train._cached(args.work, "pixel-network", lambda: fit_pixels(ones, others))
    features = np.concatenate([inputs(ones, pixels), inputs(others, pixels)])
    labels = np.concatenate([np.zeros(len(ones)), np.ones(len(others))])
    judge = dataclasses.replace(fit(features, labels), pixels=pixels)

    calibration = {"MNIST validation": train.render_set(x[val_idx], 2, seed=SEEDS["validation"])}
    for name in digit_sources.OTHER_WRITERS:
        images, _, _ = digit_sources.other_writers(name, "calibration", args.more_digits)
        calibration[f"{name} calibration part"] = train.render_set(images, OTHER_CALIBRATION_COPIES,
                                                                   seed=SEEDS["other"])
    scores = {name: judge.log_odds(inputs(boxes, pixels)) for name, boxes in calibration.items()}
    threshold = float(max(np.quantile(s, 1 - MAX_FLAGGED) for s in scores.values()))
    judge = dataclasses.replace(judge, threshold=threshold)
    check_pool, check_labels = x[val_idx], y[val_idx]
    differ = np.flatnonzero(check_labels[:1000] != check_labels[1000:2000])
    rewritten = np.stack([check_pool[differ], check_pool[differ + 1000]], axis=1)
    check = {"struck or scribbled": _rendered(_render_overwritten, check_pool[:3000], SEEDS["check"]),
             "two in a box": _rendered(_render_pairs, check_pool[3000:5000], SEEDS["check"] + 1),
             "another digit over it": _rendered(_render_rewritten, rewritten, SEEDS["check"] + 2)}
    print(f"threshold: log-odds {threshold:.2f}")
    for name, s in scores.items():
        print(f"  {name}: {np.mean(s >= threshold):.3%} of single digits flagged")
    for name, boxes in check.items():
        print(f"  {name} (MNIST validation digits): {np.mean(judge.log_odds(inputs(boxes, pixels)) >= threshold):.1%} "
              "flagged")
    judge.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
