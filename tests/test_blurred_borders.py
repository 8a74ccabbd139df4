"""A blurred capture (a 2 MP photo, a messenger app's copy, the far side of a photo taken at an angle) spreads
each box's printed border over the inside of the box. That is the border, not a faint mark: empty boxes read
empty, unflagged, whether the paper is grey or clipped to white; a light tick on such a page is still seen."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanner import marks
from tests.test_light_marks import LIGHT_PENCIL, tick
from tests.test_scan import DPI, K10_MARKS, marked_k10, option_box, read

SCALE = DPI / 25.4  # px per mm


def blurred(image: np.ndarray, blur_mm: float, px_per_mm: float, paper: int, seed: int = 0) -> np.ndarray:
    """``image`` (RGB at ``DPI``) as a blurred, small capture: Gaussian blur of ``blur_mm``, brought to
    ``px_per_mm``, its white at ``paper`` (255: clipped), sensor noise, JPEG 70."""
    out = cv2.GaussianBlur(image, (0, 0), blur_mm * SCALE).astype(np.float32) * (paper / 255)
    f = px_per_mm / SCALE
    out = cv2.resize(out, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    if paper < 255:
        out += np.random.default_rng(seed).normal(0, 2.0, out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 70])[1], cv2.IMREAD_COLOR)


@pytest.fixture(scope="module")
def k10_page(tmp_path_factory):
    return marked_k10(tmp_path_factory.mktemp("k10"))


@pytest.mark.parametrize("paper", [225, 255])
@pytest.mark.parametrize("blur_mm, px_per_mm", [(0.3, 4.0), (0.4, 6.0)])
def test_boxes_of_a_blurred_capture_read_as_marked_without_faint_marks(k10_page, paper, blur_mm, px_per_mm):
    image, _, serial = k10_page
    result = read(blurred(image, blur_mm, px_per_mm, paper))
    assert result.status == "read" and result.serial == serial
    values = {v.field: v for v in result.values}
    for field, (_, expected, _) in K10_MARKS.items():
        v = values[field]
        assert "faint" not in v.reason, (field, v.reason, v.raw)
        if not v.needs_review:
            assert v.value == expected, (field, v)


@pytest.mark.parametrize("paper", [225, 255])
def test_a_light_tick_on_a_blurred_capture_is_not_read_blank_unflagged(k10_page, paper):
    image, page, _ = k10_page
    image = image.copy()
    tick(image, option_box(page, "k10_03", 4), LIGHT_PENCIL)  # k10_03 is left blank by K10_MARKS
    v = {v.field: v for v in read(blurred(image, 0.4, 6.0, paper)).values}["k10_03"]
    assert v.needs_review or v.value == "4", v


def test_the_border_blur_taken_away_is_only_what_fades_inwards_from_a_side():
    inside = np.zeros((24, 24), np.float32)
    inside[:, :3] = [[0.9, 0.5, 0.3]]  # the left side's border, blurred inwards
    inside[10:14, 0:20] = 0.6  # a stroke from that side to past the middle
    blur = marks.border_blur(inside, marks.WEAK_LEVEL, 8.0)
    assert np.allclose(blur[:, 5:], 0)  # nothing beyond the blur's reach (0.6 mm at 8 px/mm: 5 px), ...
    assert np.allclose((inside - blur)[10:14, 5:20], 0.6)  # ... so the stroke keeps its ink there
    assert np.allclose((inside - blur)[:10, :3], 0)  # the blurred border is all taken away
    crossing = np.zeros((24, 24), np.float32)
    crossing[10:14, :20] = 0.6  # a stroke across the left side alone: a fifth of its length
    assert not marks.border_blur(crossing, marks.WEAK_LEVEL, 8.0).any()
