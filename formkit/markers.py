"""The four ArUco registration markers: which ids, in which corner, and their bit patterns.

Measured on this project's machine, 2026-11 (docs/design.md): a dictionary holding only the four printed
ids, taken from the first four entries of the 4x4 predefined dictionary with 3 correction bits, detected
all four markers in 98 % of heavily blurred images against 0-8 % for the stock dictionary, with no wrong ids. Those four
ids are at least 7 bits apart, so 3 correction bits are safe.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

# Corner-specific ids let the scanner tell orientation from the markers alone.
CORNER_IDS = {"top-left": 0, "top-right": 1, "bottom-right": 2, "bottom-left": 3}
CELLS = 6  # 4x4 data bits plus a one-cell black border
MAX_CORRECTION_BITS = 3


@cache
def dictionary() -> cv2.aruco.Dictionary:
    """The four-marker dictionary the forms are printed with and the scanner detects with."""
    stock = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    return cv2.aruco.Dictionary(stock.bytesList[: len(CORNER_IDS)], 4, MAX_CORRECTION_BITS)


@cache
def marker_cells(marker_id: int) -> np.ndarray:
    """``CELLS`` x ``CELLS`` boolean array, True where the printed marker is black (row 0 at top)."""
    image = cv2.aruco.generateImageMarker(dictionary(), marker_id, CELLS, borderBits=1)
    cells = image < 128
    cells.setflags(write=False)
    return cells
