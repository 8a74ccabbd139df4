"""Rebuild samples/handwriting/mnist-heldout.npz: 600 MNIST digits from the split the recogniser never
trains on (scripts/train_digits.py holds them back), for the tests, the samples and the demo.

    python scripts/extract_heldout_digits.py --mnist PATH/mnist-train.npz
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "samples" / "handwriting" / "mnist-heldout.npz"
COUNT = 600


def main() -> None:
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "scripts" / "train_digits.py")
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", type=Path, required=True, help="the MNIST training set as .npz")
    args = parser.parse_args()
    data = np.load(args.mnist)
    chosen = np.sort(train.heldout_indices()[-COUNT:])
    np.savez_compressed(OUT, x=data["x"][chosen], y=data["y"][chosen], mnist_index=chosen)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB, {COUNT} digits)")


if __name__ == "__main__":
    main()
