"""Folds and creases: a straight line that runs through a choice box or across a visual-analogue line and
on, well beyond it, is the paper's crease (a card folded in a pocket, a crumpled page), not a person's mark.

A person's tick, cross or slash stays within a millimetre or two of the box it answers, and a mark on a
visual-analogue line within a few millimetres of the line; a crease crosses printed text, borders and
the paper between them for centimetres. So the ink in question is fitted with a straight axis, and the
page is looked at along that axis beyond the ink's ends, on both sides, against the paper just beside it.

Pixels here are those of the registered page (``px_per_mm``, 8 after ``register.warp_page``), positions
(x, y) from its top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

AXIS_MAX_SPREAD_MM = 0.35  # the ink's spread across its axis (standard deviation): a crease is one thin line
AXIS_MIN_LENGTH_MM = 2.0  # shorter ink gives no direction to follow
BEYOND_MM = (1.5, 6.0)  # along the axis, past the ink's ends: where a crease still shows, a mark no longer
LINE_ONE_WAY_MM = 10.0  # a visual-analogue line's crossing that runs on this far one way alone is a crease too
BESIDE_MM = 1.0  # the paper it is compared with, this far to either side of the axis
STEP_MM = 0.25  # between samples along the axis
DARKER = 0.06  # a sample is on the line when this share darker than the paper beside it
ON_LINE_SHARE = 0.7  # of the samples on each side, for a crease (printed text crossed gives far fewer)
TURN_DEGREES = (0, -4, 4, -8, 8, -12, 12)  # the directions tried around the ink's own
# A line thinner than a pixel (a dirty scanner glass's streak, 1-bit) gives from its few pixels by a mark a
# direction true to a pixel at best: followed 6 mm, it drifts off a degree's slant within a few millimetres
# (a streak through a blank visual-analogue line read as a mark at 0.8-0.95, 2026-12-06). So each sample along
# the axis is the darkest of it and the points this many pixels to either side.
ACROSS_PX = 1.0


@dataclass(frozen=True)
class Axis:
    centre: np.ndarray  # (x, y) px
    direction: np.ndarray  # unit (dx, dy)
    spread_px: float  # standard deviation across the axis
    ends_px: tuple[float, float]  # the ink's extent along the axis, from the centre (negative, positive)


def ink_axis(points_xy: np.ndarray) -> Axis | None:
    """The straight axis of ``points_xy`` (N, 2) pixel positions: their centre, main direction, spread
    across it and extent along it; ``None`` for fewer than three points."""
    if len(points_xy) < 3:
        return None
    points = points_xy.astype(np.float64)
    centre = points.mean(axis=0)
    x, y = (points - centre).T
    sxx, syy, sxy = float(x @ x) / len(x), float(y @ y) / len(x), float(x @ y) / len(x)
    # the 2 x 2 covariance's eigenvectors in closed form: most of the cost of np.linalg on so few points
    angle = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    direction = np.array([np.cos(angle), np.sin(angle)])
    across = 0.5 * (sxx + syy) - np.hypot(0.5 * (sxx - syy), sxy)
    along = x * direction[0] + y * direction[1]
    return Axis(centre, direction, float(np.sqrt(max(across, 0.0))), (float(along.min()), float(along.max())))


def thin_line(points_xy: np.ndarray, px_per_mm: float, max_spread_mm: float = AXIS_MAX_SPREAD_MM) -> Axis | None:
    """The axis of the ink at ``points_xy`` when it is one thin straight line (``max_spread_mm`` across, at
    least ``AXIS_MIN_LENGTH_MM`` long), as a crease is; else ``None``."""
    axis = ink_axis(points_xy)
    if axis is None or axis.spread_px > max_spread_mm * px_per_mm \
            or axis.ends_px[1] - axis.ends_px[0] < AXIS_MIN_LENGTH_MM * px_per_mm:
        return None
    return axis


def runs_on(page: np.ndarray, points_xy: np.ndarray, px_per_mm: float, one_way_mm: float | None = None,
            beyond_mm: tuple[float, float] = BEYOND_MM) -> bool:
    """Whether the ink at ``points_xy`` (pixels of ``page``, 2-D uint8 grey) is one thin straight line that
    goes on beyond both of its ends (``beyond_mm``: from and to how far past them it is looked for), or, given
    ``one_way_mm``, that far beyond one of them (a crease of a crumpled page may end just past what it
    crosses): a crease, not a mark."""
    axis = thin_line(points_xy, px_per_mm)
    if axis is None:
        return False
    reach_mm = max(beyond_mm[1], one_way_mm or 0.0)
    on_line = _on_line(page, axis, beyond_mm[0], reach_mm, px_per_mm)  # (directions, 2 ends, samples)
    near = on_line[..., :int(round((beyond_mm[1] - beyond_mm[0]) / STEP_MM))].mean(axis=2)
    if np.any(np.all(near >= ON_LINE_SHARE, axis=1)):
        return True
    return one_way_mm is not None and bool(np.any(on_line.mean(axis=2) >= ON_LINE_SHARE))


def _on_line(page: np.ndarray, axis: Axis, from_mm: float, reach_mm: float, px_per_mm: float) -> np.ndarray:
    """Along ``axis`` turned by each of ``TURN_DEGREES``, past each end of its ink, every ``STEP_MM`` from
    ``from_mm`` to ``reach_mm``: whether the page there (the darkest within ``ACROSS_PX`` across the axis)
    is ``DARKER`` than the brighter of the two points ``BESIDE_MM`` to either side (off the page counts as
    paper). (directions, 2, samples) bool."""
    angles = np.deg2rad(np.array(TURN_DEGREES, np.float64))
    cos, sin = np.cos(angles), np.sin(angles)
    dx, dy = axis.direction
    directions = np.stack([cos * dx - sin * dy, sin * dx + cos * dy], axis=1)  # (A, 2)
    steps = np.arange(from_mm, reach_mm, STEP_MM) * px_per_mm
    distances = np.stack([axis.ends_px[0] - steps, axis.ends_px[1] + steps])  # (2 ends, N)
    on = axis.centre + distances[None, :, :, None] * directions[:, None, None, :]  # (A, 2, N, xy)
    unit = np.stack([-directions[:, 1], directions[:, 0]], axis=1)[:, None, None, :]
    normals, nudge = unit * BESIDE_MM * px_per_mm, unit * ACROSS_PX
    points = np.stack([on, on + nudge, on - nudge, on + normals, on - normals]).astype(np.float32)  # (5, A, 2, N, xy)
    xs, ys = (np.ascontiguousarray(points[..., k].reshape(-1, points.shape[-2])) for k in (0, 1))
    grey = cv2.remap(page, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=255).astype(np.float32).reshape(points.shape[:-1])
    return grey[:3].min(axis=0) < np.maximum(grey[3], grey[4]) * (1.0 - DARKER)
