"""A digit box holding something other than one digit: a digit scribbled over, crossed out or written over
with another, two digits touching in one box. The digit networks know single digits only and read such a box
as some digit, at times sure of it; the judge (scanner.one_digit, scripts/train_single_character.py) sends it
to review. Ordinary digits are left alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from formkit.layout.model import Box, BoxesField
from scanner import digits, handwriting, one_digit
from tests.scripts import script_module
from tests.synthetic import draw_digit, draw_mark

HELDOUT = Path(__file__).parent.parent / "samples" / "handwriting" / "mnist-heldout.npz"
WEIGHT = BoxesField("weight", "digits", (Box(10.0, 10.0, 6.0, 8.0),), 0, 9)
DPI = digits.WARP_PX_PER_MM * 25.4


@pytest.fixture(scope="module")
def train():
    """scripts/train_digits.py: ``synthetic_box`` writes into a printed box, captures it and cuts it out as
    the scanner does."""
    return script_module("train_digits")


@pytest.fixture(scope="module")
def heldout():
    with np.load(HELDOUT) as data:
        return data["x"], data["y"]


def _as_weights(boxes: np.ndarray) -> list:
    """Each box read as a one-box weight field 0-9, as the scanner resolves one."""
    ink = digits.BoxInk(np.zeros((1, 1), np.float32), 3.0)
    accept = digits.accept_probability()
    return [handwriting._resolve_digits(WEIGHT, [handwriting._box_reading(ink, guess)], accept)
            for guess in handwriting.digit_guesses(boxes)]


def _scribbled(image: np.ndarray, box: Box, rng, pen: str) -> None:
    draw_mark(image, DPI, box, "scribble", rng, pen)


def _crossed(image: np.ndarray, box: Box, rng, pen: str) -> None:
    draw_mark(image, DPI, box, "cross", rng, pen)


@pytest.mark.parametrize("overwrite", [_scribbled, _crossed])
def test_a_digit_scribbled_over_or_crossed_out_is_never_accepted(train, heldout, overwrite):
    """Held-back digits with a zigzag or a cross over them (tests.synthetic's marks, not the training
    script's strokes): most are judged not to be one digit. Accepted as a weight: 7 of 40 without the judge
    (either mark), 1 and 2 with it (an 8 under a small zigzag, still an 8 to the eye; a 7 crossed out read as
    8)."""
    x, _ = heldout
    boxes = np.stack([train.synthetic_box(x[i], 900 + i, overwrite=overwrite) for i in range(40)])
    values = _as_weights(boxes)
    assert sum(not v.needs_review for v in values) <= 2
    assert sum("may not hold one digit" in v.reason for v in values) >= 30


def _touching(left: np.ndarray, right: np.ndarray, overlap_px: int) -> np.ndarray:
    """Two MNIST digits side by side, the second's ink ``overlap_px`` over the first's right edge."""
    def piece(d: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(d > 30)
        return d[ys.min():ys.max() + 1, xs.min():xs.max() + 1]

    a, b = piece(left), piece(right)
    out = np.zeros((max(a.shape[0], b.shape[0]) + 2, a.shape[1] + b.shape[1] + 2), np.uint8)
    out[1:1 + a.shape[0], 1:1 + a.shape[1]] = a
    x = 1 + a.shape[1] - overlap_px
    np.maximum(out[1:1 + b.shape[0], x:x + b.shape[1]], b, out=out[1:1 + b.shape[0], x:x + b.shape[1]])
    return out


def test_two_digits_touching_in_one_box_are_mostly_judged_not_one_digit(train, heldout):
    """Squeezed so close that no paper lies between them (``digits.side_by_side`` sees one piece). Accepted
    as a weight: 4 of 40 without the judge, 2 with it."""
    x, _ = heldout
    boxes = np.stack([train.synthetic_box(_touching(x[i], x[i + 100], 2), 950 + i) for i in range(40)])
    values = _as_weights(boxes)
    assert sum(not v.needs_review for v in values) <= 2
    assert sum("may not hold one digit" in v.reason for v in values) >= 25


def _written_over(second: np.ndarray):
    """An overwrite (``train.synthetic_box``) writing ``second`` over the box's digit as firmly."""
    def write(image: np.ndarray, box: Box, rng, pen: str) -> None:
        draw_digit(image, DPI, box, second, rng, pen, strength=(0.9, 1.0))
    return write


def test_a_digit_corrected_by_writing_another_over_it_is_mostly_sent_to_review(train, heldout):
    """A held-back digit with another held-back digit written over it as firmly, 403 pairs. Accepted as a
    weight without the judge: 101-102 (34-39 as the digit underneath, a silent error); with the judge of
    the networks of 2026-12-03, 64 (21); with the judge reading the digit networks alone, 72 (28); with its
    pixel network (2026-12-05), 52 (16). Eighty pairs, as this test took until 2026-12-05, are too few: the
    same networks accepted 7 and 13 of them."""
    x, y = heldout
    pairs = [(i, i + 150) for i in range(len(y) - 150) if y[i] != y[i + 150]]
    boxes = np.stack([train.synthetic_box(x[i], 1200 + i, overwrite=_written_over(x[j])) for i, j in pairs])
    values = _as_weights(boxes)
    accepted = [(v, i) for v, (i, _) in zip(values, pairs, strict=True) if not v.needs_review]
    assert len(accepted) <= 0.2 * len(pairs)
    assert sum(v.value == str(y[i]) for v, i in accepted) <= 0.05 * len(pairs)
    assert sum("may not hold one digit" in v.reason for v in values) >= 0.6 * len(pairs)


def test_ordinary_digits_are_rarely_taken_for_anything_else(train, heldout):
    x, _ = heldout
    boxes = np.stack([train.synthetic_box(x[i], 700_000 + i) for i in range(300, 600)])
    assert sum(guess[3] for guess in handwriting.digit_guesses(boxes)) <= 2


def test_the_judge_is_for_the_shipped_networks():
    judge = one_digit.judge()
    assert judge is not None and judge.model == digits.model_fingerprint()


def test_the_judge_keeps_its_pixel_network(tmp_path, train, heldout):
    """Saved and loaded, the judge reads a box's pixels through its own network as before; the pixel
    network's log-odds are one column of its inputs, and they stand higher for a digit written over
    another than for the digit alone."""
    judge = one_digit.judge()
    assert judge.pixels is not None and judge.pixels["f2.w"].shape == (1, 64)
    judge.save(tmp_path / "judge.npz")
    again = one_digit.Judge.load(tmp_path / "judge.npz")
    x, y = heldout
    plain = np.stack([train.synthetic_box(x[i], 1200 + i) for i in range(40)])
    over = np.stack([train.synthetic_box(x[i], 1200 + i, overwrite=_written_over(x[i + 150]))
                     for i in range(40) if y[i] != y[i + 150]])
    features = list(digits.recognise(plain).features)
    assert np.array_equal(again.inputs(plain, features), judge.inputs(plain, features))
    assert judge.inputs(plain, features).shape[1] == one_digit.judge_inputs(plain, features).shape[1] + 1
    pixel_over, pixel_plain = (one_digit.pixel_log_odds(b, judge.pixels) for b in (over, plain))
    assert np.median(pixel_over) > np.median(pixel_plain) + 5


def test_the_pixel_network_runs_in_numpy_as_in_opencv(monkeypatch, train, heldout):
    """Without OpenCV's dnn, the NumPy pass gives the pixel network's log-odds, the same."""
    weights = one_digit.judge().pixels
    assert digits._dnn_ensemble([weights]) is not None, "OpenCV's dnn is not used"
    assert digits._dnn_ensemble([weights]) is digits._dnn_ensemble([weights])  # made once, not per page
    x, _ = heldout
    boxes = np.stack([train.synthetic_box(x[i], 1300 + i, overwrite=_scribbled if i % 2 else None)
                      for i in range(20)])
    fast = one_digit.pixel_log_odds(boxes, weights)
    monkeypatch.setattr(digits, "_dnn_ensemble", lambda members=None: None)
    assert np.abs(one_digit.pixel_log_odds(boxes, weights) - fast).max() < 1e-3


def test_a_judge_made_for_other_networks_is_not_used(monkeypatch, tmp_path, train, heldout):
    """Its features would be another network's: ignored, with a warning, and no box judged."""
    stale = tmp_path / "one-digit.npz"
    dataclasses.replace(one_digit.judge(), model="0" * 16).save(stale)
    monkeypatch.setattr(one_digit, "JUDGE_PATH", stale)
    monkeypatch.setattr(digits, "_loaded", {})
    x, _ = heldout
    boxes = np.stack([train.synthetic_box(x[0], 1, overwrite=_scribbled)])
    with pytest.warns(RuntimeWarning, match="made for other networks"):
        assert not one_digit.not_one_digit(boxes, list(digits.recognise(boxes).features)).any()


def test_a_range_never_decides_a_box_judged_not_one_digit():
    """A weight of 1-9 whose box the networks read as 4 with full confidence: the range would accept it, but
    the box may hold a digit crossed out, and the reason says so."""
    probs = [0.0] * 10
    probs[4] = 1.0
    box = {"digit": 4, "p": 1.0, "probs": probs, "ink_mm2": 3.0, "p_networks": 1.0, "not_one_digit": True}
    value = handwriting._resolve_digits(BoxesField("w", "digits", (Box(0, 0, 6, 8),), 1, 9), [box], 0.9)
    assert value.needs_review and "box 1 may not hold one digit" in value.reason, value
    date = handwriting._resolve_date(BoxesField("d", "date", tuple(Box(7 * i, 0, 6, 8) for i in range(8))),
                                     [dict(box, not_one_digit=i == 3) for i in range(8)], 0.9, 0.9)
    assert date.needs_review and "box 4 may not hold one digit" in date.reason, date
