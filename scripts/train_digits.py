"""Rebuild scanner/models/digits.npz: the handwritten-digit recogniser.

    pip install torch==2.13.0        # training only; formkit runs the model in NumPy
    python scripts/train_digits.py [--mnist ../shared/data/mnist/mnist-train.npz] [--epochs 10] [--members 2]
                                   [--work /tmp/digits-training]   # keeps progress: a rerun resumes

Data: the 60,000 MNIST training digits, split by a fixed permutation (seed 0) into 45,000 for training,
5,000 for validation (the acceptance threshold is chosen on these) and 10,000 held back that neither
training nor validation sees (benchmarks/digit_accuracy.py reports on them; ``heldout_indices``).
Every digit is written into a synthetic printed box the way scanner.synthetic.draw_digit writes it on a
form, the box goes through a simulated scan or photo (resolution, blur, noise, JPEG, 1-bit copies), and
scanner.digits cuts it out exactly as the scanner does. Same seed, same data, same model.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formkit.layout.model import Box  # noqa: E402
from scanner import digits  # noqa: E402
from scanner.synthetic import draw_digit  # noqa: E402

DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-train.npz"
TRAIN, VALIDATION, HELDOUT = 45_000, 5_000, 10_000
# on validation: the threshold keeps wrong-but-accepted at or under this, half the target of 0.2 %, as a
# threshold chosen on one sample errs more on the next (measured: 0.2 % here gave 0.25 % on held-back digits)
MAX_WRONG_ACCEPTED = 0.001
VALIDATION_COPIES = 4  # each validation digit written four ways: 20,000 boxes to choose the threshold on


def split(n: int = 60_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    return order[HELDOUT + VALIDATION:], order[HELDOUT:HELDOUT + VALIDATION], order[:HELDOUT]


def heldout_indices() -> np.ndarray:
    return split()[2]


def synthetic_box(digit: np.ndarray, seed: int, neighbours: tuple[np.ndarray, ...] = ()) -> np.ndarray:
    """``digit`` written in a printed box between neighbouring boxes (written in with ``neighbours``, some
    of the time), captured, and cut out as the scanner does."""
    rng = random.Random(seed)
    px_per_mm = digits.WARP_PX_PER_MM
    w_mm, h_mm = rng.uniform(4.6, 6.9), rng.uniform(6.4, 9.2)
    gap_mm = rng.uniform(1.0, 1.7)
    margin = 3.0
    size = (int((h_mm + 2 * margin) * px_per_mm), int((w_mm + 2 * margin) * px_per_mm))
    paper = rng.uniform(175, 250)
    ss = 4  # draw the printed borders at 4x and shrink, for anti-aliased edges
    big = np.full((size[0] * ss, size[1] * ss), paper, np.float32)
    border = max(1, int(round(rng.uniform(0.18, 0.35) * px_per_mm * ss)))
    grey = rng.uniform(0, 110)
    for dx in (-(w_mm + gap_mm), 0.0, w_mm + gap_mm):
        x0 = int((margin + dx) * px_per_mm * ss)
        y0 = int(margin * px_per_mm * ss)
        cv2.rectangle(big, (x0, y0), (x0 + int(w_mm * px_per_mm * ss), y0 + int(h_mm * px_per_mm * ss)),
                      grey, border)
    image = cv2.resize(big, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    image = np.clip(image, 0, 255).astype(np.uint8)
    box = Box(margin, margin, w_mm, h_mm)
    pen = rng.choice(["black", "blue", "pencil", "black"])
    draw_digit(image, px_per_mm * 25.4, box, digit, rng, pen)
    for side, other in zip((-1, 1), neighbours, strict=False):
        if rng.random() < 0.6:
            beside = Box(margin + side * (w_mm + gap_mm), margin, w_mm, h_mm)
            draw_digit(image, px_per_mm * 25.4, beside, other, rng, pen)
    image = _capture(image, rng, copier_allowed=pen != "pencil")
    # Registration is never perfect: the box the scanner cuts is a little off.
    shifted = Box(margin + rng.gauss(0, 0.15), margin + rng.gauss(0, 0.15), w_mm, h_mm)
    side = digits.side_margin_mm([shifted, Box(shifted.x_mm + w_mm + gap_mm, shifted.y_mm, w_mm, h_mm)])
    return digits.normalise(digits.box_ink(image, shifted, side_margin_mm=side).soft)


def _capture(image: np.ndarray, rng: random.Random, copier_allowed: bool = True) -> np.ndarray:
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    out = image.astype(np.float32)
    gx = np.linspace(-1, 1, out.shape[1])[None, :]
    out *= 1 - rng.uniform(0, 0.15) * (0.5 + 0.5 * gx)  # uneven light
    source_px_per_mm = rng.uniform(4.0, 12.0)  # 3 MP photo of A4 ... 300 dpi scan
    factor = source_px_per_mm / digits.WARP_PX_PER_MM
    small = cv2.resize(out, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 1.0))
    small += np_rng.normal(0, rng.uniform(1, 8), small.shape)
    small = np.clip(small, 0, 255).astype(np.uint8)
    roll = rng.random()
    if roll < 0.12 and copier_allowed:
        small = np.where(small > rng.uniform(0.55, 0.75) * np.median(small), 255, 0).astype(np.uint8)
    elif roll < 0.6:
        small = cv2.imdecode(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(45, 90)])[1], 0)
    return cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def _render(job: tuple[np.ndarray, int]) -> np.ndarray:
    images, first_seed = job
    n = len(images)
    return np.stack([synthetic_box(d, first_seed + i, (images[(i + 1) % n], images[(i + 7) % n]))
                     for i, d in enumerate(images)])


def render_set(x: np.ndarray, copies: int, seed: int) -> np.ndarray:
    """``copies`` synthetic boxes of every digit in ``x``: (len(x) * copies, 28, 28)."""
    stacked = np.concatenate([x] * copies)
    chunk = 2000
    jobs = [(stacked[i:i + chunk], seed * 10_000_000 + i) for i in range(0, len(stacked), chunk)]
    with Pool(2) as pool:
        return np.concatenate(pool.map(_render, jobs))


def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int = 0):  # noqa: ANN201 - torch is imported here only
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    # no label smoothing: the probabilities it flattens are what the acceptance threshold reads
    data = torch.from_numpy(x[:, None].astype(np.float32))
    labels = torch.from_numpy(y.astype(np.int64))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    batch = 128
    steps = epochs * ((len(data) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(data), generator=generator)
        started, total = time.time(), 0.0
        for i in range(0, len(data), batch):
            idx = order[i:i + batch]
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data[idx]), labels[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(data):.4f} ({time.time() - started:.0f} s)", flush=True)
    model.eval()
    names = ["c1", "c2", "c3", "c4", "f1", "f2"]
    layers = [m for m in model if isinstance(m, nn.Conv2d | nn.Linear)]
    weights = {}
    for name, layer in zip(names, layers, strict=True):
        weights[f"{name}.w"] = layer.weight.detach().numpy().astype(np.float32)
        weights[f"{name}.b"] = layer.bias.detach().numpy().astype(np.float32)
    return weights


def choose_threshold(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """The lowest acceptance probability whose wrong-but-accepted share (of all digits) is at most
    ``MAX_WRONG_ACCEPTED``; with the accuracy of what is accepted and the reject rate."""
    best = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    # candidates: 0.5, 0.9, 0.99, ... in fine steps, up to 1 - 1e-6
    for threshold in 1 - np.logspace(np.log10(0.5), -6, 400):
        accepted = best >= threshold
        if np.mean(accepted & ~right) <= MAX_WRONG_ACCEPTED:
            return float(threshold), float(np.mean(right[accepted])), float(1 - np.mean(accepted))
    return 1.0, 1.0, 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--copies", type=int, default=4, help="synthetic boxes per training digit")
    parser.add_argument("--members", type=int, default=2,
                        help="networks trained from seeds 0, 1, ... whose probabilities are averaged (shipped: 2)")
    parser.add_argument("--work", type=Path,
                        help="keep the rendered boxes and each network here as it is done; a rerun resumes")
    parser.add_argument("--out", type=Path, default=digits.MODEL_PATH)
    args = parser.parse_args()
    data = np.load(args.mnist)
    x, y = data["x"], data["y"]
    train_idx, val_idx, _ = split(len(x))
    started = time.time()
    rendered = _cached(args.work, "rendered", lambda: _rendered(x, y, train_idx, val_idx, args.copies))
    train_x, train_y, val_x, val_y = (rendered[k] for k in ("train_x", "train_y", "val_x", "val_y"))
    print(f"{len(train_x)} training and {len(val_x)} validation boxes ready in {time.time() - started:.0f} s",
          flush=True)
    weights = {}
    for seed in range(args.members):
        member = _cached(args.work, f"member{seed}-{args.epochs}epochs",
                         lambda seed=seed: train(train_x, train_y, args.epochs, seed))
        weights.update({f"m{seed}.{name}": array.astype(np.float16) for name, array in member.items()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **weights, accept_probability=np.float32(0.5))
    tmp.replace(args.out)
    digits.MODEL_PATH = args.out  # judge the model just trained, wherever it was written
    digits._weights.cache_clear()
    digits._members.cache_clear()
    probabilities = digits.classify(val_x)
    threshold, accuracy, rejected = choose_threshold(probabilities, val_y)
    top1 = float(np.mean(probabilities.argmax(axis=1) == val_y))
    print(f"validation: top-1 {top1:.4%}; accept at p >= {threshold:.5f}: {accuracy:.4%} of accepted correct, "
          f"{rejected:.2%} rejected")
    np.savez_compressed(tmp, **weights, accept_probability=np.float32(threshold))
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


def _rendered(x: np.ndarray, y: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray,
              copies: int) -> dict[str, np.ndarray]:
    train_x = render_set(x[train_idx], copies, seed=1)
    train_y = np.concatenate([y[train_idx]] * copies)
    # A faint pencil digit can vanish in a 1-bit copy: nothing left to learn from.
    visible = train_x.sum(axis=(1, 2)) > 15
    return {"train_x": train_x[visible], "train_y": train_y[visible],
            "val_x": render_set(x[val_idx], VALIDATION_COPIES, seed=2),
            "val_y": np.concatenate([y[val_idx]] * VALIDATION_COPIES)}


def _cached(work: Path | None, name: str, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``make()``, or what an earlier run kept as ``work/name.npz``. The cache knows nothing of the code:
    empty ``work`` after changing how boxes are drawn, cut or learnt."""
    if work is None:
        return make()
    path = work / f"{name}.npz"
    if path.exists():
        with np.load(path) as kept:
            return {k: kept[k] for k in kept.files}
    made = make()
    work.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **made)
    tmp.replace(path)
    return made


if __name__ == "__main__":
    main()
