"""Where the digit recogniser's training, calibration and benchmark digits come from (scripts/digit_sources.py):
the parts of the other writers' sets never overlap, so no digit the networks are trained on or the threshold is
chosen on is counted in the benchmark; the styles draw what they say."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.scripts import script_module

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sources():
    return script_module("digit_sources")


@pytest.mark.parametrize("n", [7291, 1934, 250])
def test_parts_share_no_digit_and_keep_blocks_whole(sources, n):
    parts = sources.parts(n)
    together = np.concatenate(list(parts.values()))
    assert len(together) == len(set(together.tolist())) == n
    blocks = {part: set((index // sources.BLOCK).tolist()) for part, index in parts.items()}
    assert not blocks["training"] & blocks["calibration"]
    assert not (blocks["training"] | blocks["calibration"]) & blocks["held-back"]
    total = -(-n // sources.BLOCK)
    assert len(blocks["calibration"]) == total // 2 - total // 4
    assert len(blocks["held-back"]) == (total - total // 2) - (total - total // 2) // 2
    assert len(blocks["training"]) == total // 4 + (total - total // 2) // 2


def test_the_held_back_quarter_lies_in_the_benchmarks_half_of_before(sources):
    """Training took half of the half held back before: what is held back now was held back then too, so
    networks trained before are judged on digits they never saw, and figures compare across the change."""
    n = 1934
    blocks = -(-n // sources.BLOCK)
    before = np.random.default_rng(0).permutation(blocks)[:blocks // 2]
    held_back_before = np.nonzero(~np.isin(np.arange(n) // sources.BLOCK, before))[0]
    held_back = sources.parts(n)["held-back"]
    assert len(held_back) >= n // 4
    assert np.isin(held_back, held_back_before).all()


def _plain_one() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    cv2.line(image, (14, 4), (14, 23), 255, 2)
    return image


def _plain_seven() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    cv2.line(image, (7, 4), (20, 4), 255, 2)
    cv2.line(image, (20, 4), (12, 23), 255, 2)
    return image


def test_a_continental_one_gets_a_flag_down_to_the_left(sources):
    plain = sources.padded(_plain_one())
    styled = sources.continental_one(plain, random.Random(3))
    added = (styled > 127) & ~(plain > 127)
    ys, xs = np.nonzero(added)
    top = np.nonzero(plain > 127)[0].min()
    assert added.sum() >= 8
    assert (xs < 18).mean() > 0.6 and ys.min() <= top + 2  # starts at the top, reaches left of the stem (x 18)


def test_a_seven_gets_a_bar_across_its_stem(sources):
    plain = sources.padded(_plain_seven())
    styled = sources.barred_seven(plain, random.Random(4))
    rows = np.nonzero(((styled > 127) & ~(plain > 127)).any(axis=1))[0]
    assert rows.size and rows.min() > 12  # below the top stroke (row 8 in the frame)
    widest = max(int((styled[r] > 127).sum()) for r in rows)
    assert widest >= 6  # across the stem, not along it


def _open_four() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    cv2.line(image, (8, 4), (8, 15), 255, 2)  # the open left stroke
    cv2.line(image, (8, 15), (21, 15), 255, 2)
    cv2.line(image, (17, 4), (17, 23), 255, 2)
    return image


def _shut_at_the_top(four: np.ndarray) -> bool:
    """In the row a third of the way down the 4, no paper between its left stroke and its stem is reachable
    from around the digit: the top is closed by a stroke or filled in."""
    ys, xs = np.nonzero(four)
    row = int(ys.min() + 0.3 * (ys.max() - ys.min()))
    outside = np.zeros((four.shape[0] + 2, four.shape[1] + 2), np.uint8)
    cv2.floodFill((~four).astype(np.uint8), outside, (0, 0), 1, flags=4 | (1 << 8))  # mask 1 where reachable
    inked = np.nonzero(four[row])[0]
    return not outside[row + 1, inked.min() + 1:inked.max() + 1].any()


def test_a_four_is_closed_at_the_top(sources):
    open_four = sources.padded(_open_four())
    assert not _shut_at_the_top(open_four > 127)  # the measure can tell: the 4 given is open
    holes = []
    for seed in range(40):
        closed = sources.closed_four(open_four, random.Random(seed)) > 127
        assert _shut_at_the_top(closed)
        ys, xs = np.nonzero(closed)
        stem_top_x = xs[ys <= ys.min() + 1].mean()
        assert ys.max() >= 25 and xs.max() > stem_top_x + 1  # the stem goes down; the crossbar runs past it
        box_rows = np.nonzero((open_four > 127).any(axis=1))[0]
        assert box_rows.min() - 3 <= ys.min() and ys.max() <= box_rows.max() + 3  # in the 4's box and stroke
        holes.append(cv2.connectedComponents((~closed).astype(np.uint8), connectivity=4)[0] - 1 >= 2)
    assert any(holes) and not all(holes)  # paper closed in at the top, and tops filled in


def test_styles_change_only_ones_sevens_and_fours(sources):
    digits = np.stack([_plain_one(), _plain_seven(), _open_four(), _plain_one()])
    labels = np.array([1, 7, 4, 3])  # the last drawn like a 1 but labelled 3: never styled as a 1
    out = sources.styled(digits, labels, seed=0, share=1.0, stretched_share=0.0)
    assert out.shape == (4, sources.STYLED_PX, sources.STYLED_PX)
    for changed in range(3):
        assert not np.array_equal(out[changed], sources.padded(digits[changed]))
    assert np.array_equal(out[3], sources.padded(digits[3]))


def test_each_render_of_the_training_mix_is_new_boxes(tmp_path, monkeypatch):
    """scripts/train_digits.py renders the training digits ``renders`` times: each time other boxes,
    captures and styles, or more renders would only repeat the same images."""
    train = script_module("train_digits")
    with np.load(Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz") as data:
        x, y = data["x"][:200], data["y"][:200].astype(np.int64)
    for name, size in (("usps", 16), ("optdigits", 32)):  # other writers' sets, one block to train on
        smaller = np.stack([cv2.resize(d, (size, size), interpolation=cv2.INTER_AREA) for d in x[:400 // 2]])
        np.savez(tmp_path / f"{name}-train.npz", x=np.concatenate([smaller, smaller]), y=np.concatenate([y, y]))
    monkeypatch.setattr(train, "OTHER_COPIES", {"usps": 1, "optdigits": 1})
    index = np.arange(20)
    once = train._training_set(x, y, index, 1, tmp_path, renders=1)
    twice = train._training_set(x, y, index, 1, tmp_path, renders=2)
    half = len(once["y"])
    assert np.array_equal(twice["x"][:half], once["x"])  # the first render is the one-render set
    second = twice["x"][half:]
    assert len(second) >= 0.9 * half  # (a faint digit lost in a 1-bit copy is left out)
    first_boxes = {box.tobytes() for box in once["x"]}
    assert not any(box.tobytes() in first_boxes for box in second)  # no box of the second is a copy
