"""Something opaque over part of a box (a punched hole showing the dark behind the page, a fingertip) reads
as a mark there while the rest of the border shows: the row is flagged, not read as answered. A highlighter
over a ticked box lets the print through, and a fill a little over its border is a person's: neither is
flagged for it."""

from __future__ import annotations

import cv2
import numpy as np

from formkit.records import RAW_OVERLAID
from tests.test_light_marks import page_of, values_of
from tests.test_scan import DPI, option_box

MM = DPI / 25.4


def disc(field: str, value: int, colour: tuple[int, int, int], radius_mm: float, dx_mm: float, dy_mm: float,
         blur_mm: float = 0.0):
    """A ``page_of`` shade: a disc of ``colour`` centred ``dx_mm``, ``dy_mm`` from the box's centre."""
    def shade(image, page):
        box = option_box(page, field, value)
        centre = (int((box.x_mm + box.w_mm / 2 + dx_mm) * MM), int((box.y_mm + box.h_mm / 2 + dy_mm) * MM))
        cover = np.zeros(image.shape[:2], np.float32)
        cv2.circle(cover, centre, int(radius_mm * MM), 1.0, -1, cv2.LINE_AA)
        if blur_mm:
            cover = cv2.GaussianBlur(cover, (0, 0), blur_mm * MM)
        image[...] = (image * (1 - cover[..., None]) + np.float32(colour) * cover[..., None]).astype(np.uint8)
    return shade


def test_a_punched_hole_over_part_of_an_empty_box_is_flagged(tmp_path):
    """The hole (6 mm, the dark lid behind it) over the top of the box: read as its answer before."""
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)},
                            disc("k10_04", 3, (20, 20, 20), 3.0, 0.5, -3.2)))["k10_04"]
    assert row.needs_review and row.raw[RAW_OVERLAID] == ["3"]


def test_a_fingertip_over_a_corner_of_an_empty_box_is_flagged(tmp_path):
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)},
                            disc("k10_04", 5, (150, 110, 90), 9.0, 8.0, -5.5, blur_mm=0.4)))["k10_04"]
    assert row.needs_review and "5" in row.raw[RAW_OVERLAID]


def test_a_highlighted_tick_is_read(tmp_path):
    def highlighter(image, page):
        box = option_box(page, "k10_04", 2)
        stripe = image[int((box.y_mm - 2.5) * MM):int((box.y_mm + box.h_mm + 2.5) * MM)]  # the whole row
        stripe[...] = (stripe * (np.float32([255, 235, 80]) / 255)).astype(np.uint8)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (2, (25, 25, 35), 1.0)}, highlighter))["k10_04"]
    assert (row.value, row.needs_review) == ("2", False) and RAW_OVERLAID not in row.raw


def test_a_fill_a_little_over_its_border_is_a_persons(tmp_path):
    """A correction: box 1 filled, spilling 0.8 mm over its border, and box 4 ticked."""
    def spilled(image, page):
        box = option_box(page, "k10_04", 1)
        corners = [(box.x_mm - 0.8, box.y_mm - 0.8), (box.x_mm + box.w_mm + 0.8, box.y_mm + box.h_mm + 0.5)]
        cv2.rectangle(image, *[(int(x * MM), int(y * MM)) for x, y in corners], (25, 25, 35), -1)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (4, (25, 25, 35), 1.0)}, spilled))["k10_04"]
    assert (row.value, row.needs_review) == ("4", False) and RAW_OVERLAID not in row.raw


def test_a_lone_fill_spilling_far_past_its_box_stays_flagged(tmp_path):
    """Solid ink 2.5 mm past the box cannot be told from a hole's dark: flagged, whatever the convention."""
    def spilled(image, page):
        box = option_box(page, "k10_04", 2)
        corners = [(box.x_mm - 2.5, box.y_mm - 0.5), (box.x_mm + box.w_mm - 0.5, box.y_mm + box.h_mm - 0.5)]
        cv2.rectangle(image, *[(int(x * MM), int(y * MM)) for x, y in corners], (25, 25, 35), -1)
    row = values_of(page_of(tmp_path, "black", {"k10_04": (0, (0, 0, 0), 0.0)}, spilled))["k10_04"]
    assert row.needs_review and row.raw[RAW_OVERLAID] == ["2"]

