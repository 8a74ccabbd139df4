"""Markers and QR codes whose solid black a small-window threshold hollowed out.

A phone scanner app's black-and-white mode compares each pixel with the mean of a small window around it.
Deep inside a black area wider than the window a pixel is as dark as its mean, so it turns white: a solid
shape comes out as its outline, a band along its edges on its black side. ArUco reads a marker's cells at
their centres and zxing finds a QR code by its solid finder patterns, so such a page was rejected as "no
formkit markers or QR code" (`scan_accuracy.py`'s scanner-app pages: 24 % of 300 identified, 2026-12-06).

Both are read here from what such a threshold leaves. A marker candidate (a quad ArUco found but could not
decode) is compared with each printed marker, each way round, hollowed as such a threshold would hollow it.
A QR code, where the markers place it, is read module by module: a module with ink in it is black; a run of
modules without ink is black when the ink around it lies away from it (the inside of a hollowed area), white
when the ink hugs its border (the black side of a true edge).
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from formkit import markers

CELL_PX = 12  # a marker candidate is compared at 12 px a cell
# outline thicknesses tried, in px at CELL_PX: from a 1 px outline up to a marker left solid
OUTLINE_PX = np.arange(1, int(1.5 * CELL_PX) + 1)
# a candidate is a marker when its best fit (F1 of black pixels, 0-1) is at least MIN_FIT and beats the best
# fit of every other id by MIN_MARGIN. Measured 2026-12-06 on 2,753 candidates of 48 binarised pages (21, 31
# and 51 px windows at 300 and 200 dpi): the printed markers' outlines fit at 0.76 or more and beat every
# other id by 0.11 or more; no other quad fitting 0.6 or more beat a second id by over 0.049 (0.061 below that)
MIN_MARGIN = 0.08
MIN_FIT = 0.7


@cache
def _outline_templates() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(templates, their black pixel counts, the marker id and the quarter turns of each): every printed
    marker, each way round, as a threshold of each ``OUTLINE_PX`` leaves it, flattened at ``CELL_PX`` a cell."""
    rows, ids, turned = [], [], []
    for marker_id in markers.CORNER_IDS.values():
        for turns in range(4):
            cells = np.pad(np.rot90(markers.marker_cells(marker_id), turns), 1)  # a cell of white paper around
            black = np.kron(cells, np.ones((CELL_PX, CELL_PX), np.uint8))
            inside = cv2.distanceTransform(black, cv2.DIST_L2, 3)  # distance to the nearest white pixel
            for outline in OUTLINE_PX:
                rows.append(((black > 0) & (inside <= outline))[CELL_PX:-CELL_PX, CELL_PX:-CELL_PX].ravel())
                ids.append(marker_id)
                turned.append(turns)
    templates = np.array(rows, np.float32)
    return templates, templates.sum(axis=1), np.array(ids), np.array(turned)


@cache
def _printed(marker_id: int) -> np.ndarray:
    """Marker ``marker_id``'s printed black at ``CELL_PX`` a cell (True black)."""
    return np.kron(markers.marker_cells(marker_id), np.ones((CELL_PX, CELL_PX), bool))


def marker_from_outline(image: np.ndarray, quad: np.ndarray) -> tuple[int, np.ndarray] | None:
    """The printed marker in ``quad`` ((4, 2) corners in ``image``'s pixels, clockwise as ArUco gives its
    candidates), read from what a small-window threshold left of it: (id, corners ordered as printed, TL TR
    BR BL), or None when no marker fits clearly better than every other."""
    observed = _marker_black(image, quad).ravel().astype(np.float32)
    templates, counts, ids, turned = _outline_templates()
    fit = 2 * (templates @ observed) / np.maximum(counts + observed.sum(), 1)
    best = int(fit.argmax())
    marker_id = int(ids[best])
    if fit[best] < MIN_FIT or fit[best] - fit[ids != marker_id].max() < MIN_MARGIN:
        return None
    # the template turned ``turns`` quarters anticlockwise puts the printed top-left at corner ``turns`` back
    return marker_id, np.roll(quad, int(turned[best]), axis=0).astype(np.float32)


def printed_black_share(image: np.ndarray, quad: np.ndarray, marker_id: int) -> float:
    """The share of marker ``marker_id``'s printed black, in ``quad`` (corners as printed, TL TR BR BL) of
    ``image``, that is black: about 1 on a scan or a 1-bit copy, less where a threshold hollowed it."""
    return float(_marker_black(image, quad)[_printed(marker_id)].mean())


def _marker_black(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The square ``quad`` of ``image`` (corners in its pixels, clockwise from its first) rectified at
    ``CELL_PX`` a marker cell, True where black."""
    side = markers.CELLS * CELL_PX
    square = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    warp = cv2.getPerspectiveTransform(quad.astype(np.float32), square)
    return cv2.warpPerspective(image, warp, (side, side), flags=cv2.INTER_LINEAR, borderValue=255) < 128


def markers_from_outlines(image: np.ndarray, candidates: list[np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """The candidate quads of ``image`` that are hollowed markers (``marker_from_outline``), every one: an
    image may hold several cards (about 1 ms a candidate; a page of checkboxes gives a few hundred)."""
    return [found for quad in candidates if (found := marker_from_outline(image, quad)) is not None]


EDGE_REACH = 1.5  # modules either side of where the layout puts a symbol's edge that it is looked for
MARGIN_SHARE = 0.05  # of a module on each side, left out when its ink is measured
STRIP_START, STRIP_END = 0.05, 0.3  # the band inside a neighbouring module where its outline would lie
STRIP_ALONG = 0.3  # only the middle of each shared edge: a neighbour's outline along another side crosses its ends
INK_SHARE = 0.2  # of a module's inside: a module with ink


def qr_modules_from_outlines(binary: np.ndarray, modules: int, quiet: int) -> np.ndarray:
    """The QR code's modules (``modules`` x ``modules`` bools, True black) read from ``binary`` (bool, True
    where black: the code rectified with about ``quiet`` modules of quiet zone on each side), solid or
    hollowed.

    The grid is laid from the symbol's own edges (``symbol_box``). A module with ink in it is black. The
    others form runs (4-connected); a run is white when the ink of its neighbours lies along its border (a
    hollowed black area's outline is on its black side), black when the band of the neighbours along it is
    blank (the run is the hollow inside a black area)."""
    top, left, bottom, right = symbol_box(binary, modules, quiet)
    height, width = (bottom - top) / modules, (right - left) / modules
    n = modules + 2
    # one row and column of quiet zone around the symbol: the paper every run at the symbol's edge meets
    ys = top + (np.arange(n + 1) - 1) * height
    xs = left + (np.arange(n + 1) - 1) * width
    inky = np.zeros((n, n), bool)
    for r in range(1, n - 1):
        for c in range(1, n - 1):
            patch = binary[int(ys[r] + MARGIN_SHARE * height):int(ys[r + 1] - MARGIN_SHARE * height),
                           int(xs[c] + MARGIN_SHARE * width):int(xs[c + 1] - MARGIN_SHARE * width)]
            inky[r, c] = patch.size > 0 and patch.mean() >= INK_SHARE
    count, runs = cv2.connectedComponents((~inky).astype(np.uint8), connectivity=4)
    black = inky.copy()
    for run in range(1, count):
        if run == runs[0, 0]:
            continue  # the quiet zone is paper
        band = _band_along(binary, runs == run, inky, ys, xs)
        if band is not None and band < 0.5:
            black |= runs == run
    return black[1:-1, 1:-1]


def symbol_box(binary: np.ndarray, modules: int, quiet: int) -> tuple[float, float, float, float]:
    """(top, left, bottom, right) in px of the QR symbol in ``binary``, laid out with ``quiet`` modules of
    quiet zone: each edge where the finder pattern on it starts, so a grid off by a fraction of a module
    (registration, a page printed slightly scaled) is laid right. An edge not found stays where the layout
    puts it."""
    n = modules + 2 * quiet
    size_y, size_x = binary.shape[0] / n, binary.shape[1] / n
    # across the middle of the finder patterns: the top-left one's rows and columns, which the top-right and
    # bottom-left ones share
    rows = binary[int((quiet + 1) * size_y):int((quiet + 6) * size_y), :].mean(axis=0)
    columns = binary[:, int((quiet + 1) * size_x):int((quiet + 6) * size_x)].mean(axis=1)
    edges = []
    for profile, size, expected, first in ((columns, size_y, quiet * size_y, True),
                                           (rows, size_x, quiet * size_x, True),
                                           (columns, size_y, (n - quiet) * size_y, False),
                                           (rows, size_x, (n - quiet) * size_x, False)):
        lo = int(max(0, expected - EDGE_REACH * size))
        inked = np.flatnonzero(profile[lo:int(expected + EDGE_REACH * size)] >= 0.5)
        edges.append(expected if not inked.size else lo + (inked[0] if first else inked[-1] + 1))
    return float(edges[0]), float(edges[1]), float(edges[2]), float(edges[3])


def _band_along(binary: np.ndarray, run: np.ndarray, inky: np.ndarray, ys: np.ndarray, xs: np.ndarray
                ) -> float | None:
    """The share of black in the bands of the inked modules next to ``run``, along the edges they share
    with it (module ``r, c`` spans rows ``ys[r]..ys[r + 1]`` and columns ``xs[c]..xs[c + 1]``); None when no
    inked module borders it."""
    height, width = ys[1] - ys[0], xs[1] - xs[0]
    middle = 0.5 - STRIP_ALONG / 2, 0.5 + STRIP_ALONG / 2
    inked, total = 0, 0
    for r, c in zip(*np.nonzero(run), strict=True):
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            nr, nc = r + dr, c + dc
            if not (0 <= nr < run.shape[0] and 0 <= nc < run.shape[1]) or not inky[nr, nc]:
                continue
            if dr:  # the band inside the neighbour, STRIP_START-STRIP_END of a module from the shared edge
                edge = ys[r + (dr > 0)]
                y0, y1 = sorted((edge + dr * STRIP_START * height, edge + dr * STRIP_END * height))
                x0, x1 = xs[c] + middle[0] * width, xs[c] + middle[1] * width
            else:
                edge = xs[c + (dc > 0)]
                x0, x1 = sorted((edge + dc * STRIP_START * width, edge + dc * STRIP_END * width))
                y0, y1 = ys[r] + middle[0] * height, ys[r] + middle[1] * height
            patch = binary[int(y0):max(int(y1), int(y0) + 1), int(x0):max(int(x1), int(x0) + 1)]
            inked += int(patch.sum())
            total += patch.size
    return inked / total if total else None


def with_function_patterns(black: np.ndarray) -> np.ndarray:
    """``black`` (a QR code's modules, True black) with the patterns every code of its size has drawn as
    they are: the three finder patterns and their white separators, the timing rows and, from version 2
    to 6, the one alignment pattern. A finder's 3 x 3 centre hollowed to one module looks exactly like a
    white module inside a black ring, and zxing finds a code only by its finders."""
    n = black.shape[0]
    fixed = black.copy()
    ring = np.zeros((7, 7), bool)
    ring[[0, -1], :] = ring[:, [0, -1]] = True
    ring[2:5, 2:5] = True
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        fixed[max(r - 1, 0):r + 8, max(c - 1, 0):c + 8] = False  # the separator around it
        fixed[r:r + 7, c:c + 7] = ring
    fixed[6, 8:n - 8] = np.arange(8, n - 8) % 2 == 0
    fixed[8:n - 8, 6] = np.arange(8, n - 8) % 2 == 0
    version = (n - 17) // 4
    if 2 <= version <= 6:
        centre = n - 7
        fixed[centre - 2:centre + 3, centre - 2:centre + 3] = True
        fixed[centre - 1:centre + 2, centre - 1:centre + 2] = False
        fixed[centre, centre] = True
    return fixed


def qr_image_from_outlines(crop: np.ndarray, quiet_modules: int, modules: int) -> np.ndarray:
    """A clean image, 8 px a module, of the QR code in ``crop`` (uint8 grey, the code of ``modules`` a side
    and its quiet zone of ``quiet_modules`` rectified), read module by module (``qr_modules_from_outlines``)."""
    # a median over 3 px clears the speckle a small window makes of paper grain
    binary = cv2.medianBlur(cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1], 3) > 0
    black = np.pad(with_function_patterns(qr_modules_from_outlines(binary, modules, quiet_modules)), quiet_modules)
    return np.kron(np.where(black, 0, 255).astype(np.uint8), np.ones((8, 8), np.uint8))
