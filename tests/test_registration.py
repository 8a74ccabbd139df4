"""Markers found coarse and refined in the full image, the warp of the fields alone, and a marker that is
not square left out of the fit."""

import random

import cv2
import numpy as np
import pytest

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.template import resolve_template
from scanner.locate import Markers, find_all_markers, reduced, refine_corners
from scanner.register import (
    MAX_ERROR_MM,
    REVIEW_ERROR_MM,
    _regions,
    marker_points_mm,
    register,
    warp_fields,
    warp_page,
)
from tests.synthetic import degrade_scan, render_pdf

DPI = 300


@pytest.fixture(scope="module")
def alliance(tmp_path_factory):
    """An alliance check scanned at 300 dpi (so detection runs on a reduced image), its page and layout."""
    tmp = tmp_path_factory.mktemp("alliance")
    layout = build_layout(resolve_template("alliance-check"))
    generate(layout, make_copies(1, None, 5), tmp / "a.pdf")
    rgb = render_pdf(tmp / "a.pdf", DPI)[0]
    scan = degrade_scan(rgb, DPI, random.Random(3), out_dpi=DPI)
    return cv2.cvtColor(scan, cv2.COLOR_RGB2GRAY), layout.pages[0]


def _true_corners(page, found: Markers) -> dict[int, np.ndarray]:
    """Each marker's corners as the fit of all four puts them: the reference for single markers."""
    reg = register(page, found)
    assert reg is not None
    return {i: cv2.perspectiveTransform(marker_points_mm(page, i).reshape(-1, 1, 2), reg.mm_to_px).reshape(4, 2)
            for i in found.corners}


def test_markers_found_in_the_reduced_image_register_the_page_to_a_tenth_of_a_millimetre(alliance):
    grey, page = alliance
    small = reduced(grey)
    assert small[1] < 1.0
    detections = find_all_markers(grey, small)
    assert sorted(i for i, _ in detections) == [0, 1, 2, 3]
    reg = register(page, Markers(dict(detections)))
    assert reg is not None and reg.error_mm < 0.1


def test_refinement_brings_a_corner_back_from_a_pixel_off(alliance):
    grey, page = alliance
    found = Markers(dict(find_all_markers(grey)))
    truth = _true_corners(page, found)
    for marker_id, quad in found.corners.items():
        pushed = quad + np.float32([[1.5, -1.0], [-1.0, 1.5], [1.2, 1.2], [-1.5, -1.0]])
        refined = refine_corners(grey, pushed)
        assert np.abs(refined - truth[marker_id]).max() < 0.5, marker_id


@pytest.mark.parametrize("enlarged", [1, 2])  # 300 dpi, and 600 dpi (shrunk more than 2x: blurred first)
def test_the_fields_warp_like_the_whole_page_where_they_are_read(alliance, enlarged):
    grey, page = alliance
    grey = cv2.resize(grey, None, fx=enlarged, fy=enlarged, interpolation=cv2.INTER_CUBIC) if enlarged > 1 else grey
    grey = grey.copy()
    grey[::7, ::5] = 0  # a fine pattern that only a blur keeps from aliasing
    reg = register(page, Markers(dict(find_all_markers(grey))))
    whole, fields = warp_page(grey, page, reg), warp_fields(grey, page, reg)
    assert whole.shape == fields.shape
    inside = np.zeros(whole.shape, bool)
    for rows, columns in _regions(page, 5.0, whole.shape, 8.0):
        inside[rows, columns] = True
    difference = np.abs(whole.astype(int) - fields.astype(int))
    assert difference[inside].max() <= 1  # the same map, shifted: at most a rounding apart
    assert np.mean(difference[inside] > 0) < 0.01
    assert (fields[~inside] == 255).all()
    assert 0.1 < inside.mean() < 0.6


def _cover_part_of(grey: np.ndarray, quad: np.ndarray, share: float) -> np.ndarray:
    """``grey`` with a white strip over one side of the marker ``quad``: its edge slanted, as a
    neighbouring card lying over it at another angle."""
    covered = grey.copy()
    top_left, top_right, bottom_right, bottom_left = quad
    strip = np.array([bottom_left + share * (top_left - bottom_left) + [0, 3], bottom_right + [0, 0],
                      bottom_right + [0, 60], bottom_left + [0, 60]], np.int32)
    cv2.fillPoly(covered, [strip], 255)
    return covered


def test_a_marker_partly_covered_is_left_out_and_the_page_is_not_flagged(alliance):
    grey, page = alliance
    found = Markers(dict(find_all_markers(grey)))
    quad = found.corners[2]
    for share in np.linspace(0.1, 0.2, 6):
        covered = _cover_part_of(grey, quad, share)
        detections = dict(find_all_markers(covered))
        if sorted(detections) != [0, 1, 2, 3]:
            continue  # covered too much to be detected at all
        every = register(page, Markers(detections))
        assert every is not None
        if not REVIEW_ERROR_MM < _all_four_error(page, detections) <= MAX_ERROR_MM:
            continue
        assert every.left_out == (2,)
        assert every.markers_used == 3 and every.error_mm <= REVIEW_ERROR_MM
        return
    pytest.skip("no covering in this image put the page between the review and refusal limits")


def _all_four_error(page, detections) -> float:
    mm = np.concatenate([marker_points_mm(page, i) for i in sorted(detections)])
    px = np.concatenate([detections[i] for i in sorted(detections)]).astype(np.float64)
    mm_to_px, _ = cv2.findHomography(mm, px, 0)
    back = cv2.perspectiveTransform(px.reshape(-1, 1, 2), np.linalg.inv(mm_to_px)).reshape(-1, 2)
    return float(np.max(np.linalg.norm(back - mm, axis=1)))


def test_square_markers_are_all_kept_even_on_a_poorly_fitting_page(alliance):
    """A page out of shape (every marker square, one of them the wrong size for the others) keeps every
    marker: its poor fit must flag it, not be explained away."""
    grey, page = alliance
    found = dict(find_all_markers(grey))
    for scale in np.linspace(1.05, 1.2, 7):
        moved = dict(found)
        centre = found[2].mean(axis=0)
        moved[2] = (centre + (found[2] - centre) * scale).astype(np.float32)  # still square
        if REVIEW_ERROR_MM < _all_four_error(page, moved) <= MAX_ERROR_MM:
            reg = register(page, Markers(moved))
            assert reg is not None and reg.left_out == () and reg.markers_used == 4
            assert reg.error_mm > REVIEW_ERROR_MM
            return
    pytest.fail("no size put the page between the review and refusal limits")
