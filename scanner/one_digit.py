"""Does a digit box hold one digit, or something else?

The digit networks (``digits.recognise``) know single digits only: a digit struck through or scribbled over,
or two digits squeezed into one box, is read as some digit, at times with full confidence (measured
2026-12-05, ``benchmarks/irregular_digits.py``: a 1 struck through read as 1 at p 0.978, "89" in one box as
8 at 0.994). A small judge (``models/one-digit.npz``, rebuilt by ``scripts/train_single_character.py``) reads
what the networks computed anyway (each one's last hidden layer), the ink's shape (``shape_features``) and
what a small network of its own makes of the box's pixels (``pixel_log_odds``: it sees a digit written over
another, which the digit networks' features mostly miss), and gives the log-odds that the box holds
something other than one digit. At or over its threshold, chosen so that at most 0.2 % of single digits of
any calibration writer set are flagged, the box goes to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formkit.atomic import write_arrays

from . import digits

JUDGE_PATH = Path(__file__).parent / "models" / "one-digit.npz"
INK_LEVEL = 0.3  # of a normalised box (ink 1): ink, for the shape's measures


def shape_features(images: np.ndarray) -> np.ndarray:
    """What the ink of each normalised box (N, 28, 28; ``digits.normalise``) says besides the networks:
    the share of its bounding box that is ink (a scribble fills it), the bounding box's width over its
    height (two digits side by side are wide), the ink's mean darkness over the bounding box, and its
    holes (a scribble's loops). (N, 4) float32; zeros for an empty image."""
    out = np.zeros((len(images), 4), np.float32)
    for i, image in enumerate(images):
        ink = image > INK_LEVEL
        ys, xs = np.nonzero(ink)
        if ys.size == 0:
            continue
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        out[i] = (ink.sum() / (h * w), w / h, image.sum() / (h * w), _holes(ink))
    return out


def _holes(ink: np.ndarray) -> int:
    """Pieces of paper that ink encloses (4-connected, so a diagonal gap in a stroke does not let one out)."""
    count = cv2.connectedComponents((~ink).astype(np.uint8), connectivity=4)[0]
    return max(0, count - 2)  # the paper round the ink, and the label of ink itself


def pixel_log_odds(images: np.ndarray, weights: dict[str, np.ndarray]) -> np.ndarray:
    """(N,) the pixel network's log-odds that each normalised box of ``images`` (N, 28, 28) is not one digit:
    ``weights`` are a network of the digit networks' shape (``digits.network_outputs``) with one output, run
    as they are (OpenCV's dnn, about 0.17 ms a box on one core; NumPy where it cannot, 0.64 ms)."""
    if len(images) == 0:
        return np.zeros(0, np.float32)
    hidden = digits._forward(images, [weights])[1][0]
    return (hidden @ weights["f2.w"][0] + weights["f2.b"][0]).astype(np.float32)


def judge_inputs(images: np.ndarray, features: list[np.ndarray],
                 pixels: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The judge's input for normalised boxes ``images`` (N, 28, 28) whose networks' last hidden layers are
    ``features`` (``digits.Readings.features``): each made unit length, then ``shape_features``, then, with
    the pixel network's ``pixels`` weights, its log-odds. (N, D)."""
    columns = [digits._unit(f.astype(np.float32)) for f in features] + [shape_features(images)]
    if pixels is not None:
        columns.append(pixel_log_odds(images, pixels)[:, None])
    return np.concatenate(columns, axis=1)


@dataclass(frozen=True)
class Judge:
    """``models/one-digit.npz``: a perceptron of one hidden layer on standardised ``judge_inputs``."""

    mean: np.ndarray
    sd: np.ndarray
    hidden_w: np.ndarray
    hidden_b: np.ndarray
    out_w: np.ndarray
    out_b: float
    threshold: float  # log-odds at or over which a box is judged not to hold one digit
    model: str  # digits.model_fingerprint() of the networks whose features it reads
    pixels: dict[str, np.ndarray] | None = None  # the pixel network (``pixel_log_odds``); None before 2026-12-05

    def log_odds(self, inputs: np.ndarray) -> np.ndarray:
        """(N,) log-odds that each row of ``inputs`` (``judge_inputs``) is something other than one digit."""
        hidden = np.maximum(((inputs - self.mean) / self.sd) @ self.hidden_w.T + self.hidden_b, 0)
        return hidden @ self.out_w + self.out_b

    def inputs(self, images: np.ndarray, features: list[np.ndarray]) -> np.ndarray:
        """``judge_inputs`` as this judge was trained on them (with its pixel network, if it has one)."""
        return judge_inputs(images, features, self.pixels)

    def save(self, path: Path) -> None:
        pixels = {f"pixels.{k}": v.astype(np.float32) for k, v in (self.pixels or {}).items()}
        write_arrays(path, {"mean": self.mean, "sd": self.sd, "hidden_w": self.hidden_w, "hidden_b": self.hidden_b,
                            "out_w": self.out_w, "out_b": np.float32(self.out_b),
                            "threshold": np.float64(self.threshold), "model": np.array(self.model)} | pixels)

    @classmethod
    def load(cls, path: Path) -> Judge:
        with np.load(path) as data:
            pixels = {k.split(".", 1)[1]: data[k].astype(np.float32) for k in data.files if k.startswith("pixels.")}
            return cls(*(data[k].astype(np.float32) for k in ("mean", "sd", "hidden_w", "hidden_b", "out_w")),
                       float(data["out_b"]), float(data["threshold"]), str(data["model"]), pixels or None)


def judge() -> Judge | None:
    """The judge in ``JUDGE_PATH`` if it was made for the digit networks loaded now, else ``None`` (with a
    warning: no box is then judged, as before the judge)."""
    return digits.made_for_these_networks(JUDGE_PATH, Judge.load, lambda j: j.model,
                                          "boxes holding something other than one digit are not looked for",
                                          "scripts/train_single_character.py")


def not_one_digit(images: np.ndarray, features: list[np.ndarray]) -> np.ndarray:
    """(N,) bool: whether each normalised box of ``images`` (N, 28, 28), whose networks' last hidden layers are
    ``features``, holds something other than one digit (struck through, scribbled over, two digits). All
    False without a judge for these networks, or without features (the NumPy fallback gives them too)."""
    found = judge()
    if found is None or not features or len(images) == 0:
        return np.zeros(len(images), bool)
    return found.log_odds(found.inputs(images, features)) >= found.threshold
