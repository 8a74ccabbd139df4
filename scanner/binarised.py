"""Pages that arrive already black and white: a copier's or scanner's 1-bit mode, a phone scanner app's
black-and-white mode.

Such a threshold turns paper grain into speckle: a small-window one (a scanner app's) leaves dots of a
few pixels all over the paper, and inside empty boxes they were read as faint marks. Measured 2026-12-06 on
pages of the five shipped forms filled at random, each page at 300 dpi with grain left unsmoothed,
thresholded 10 grey levels under the mean of 21, 31 and 51 px windows, 24 pages each, every field read as
it looks: 85-98 of 146 fields right and unflagged, 130-133 with the speckle cleared (the grey pages: 138).
Speckle that small is no one's mark, so a page full of it is cleared of it before it is read.
"""

from __future__ import annotations

import cv2
import numpy as np

# Told by its paper, its ink and how little lies between: in a thresholded page, even one resampled (a PDF
# rendered at another resolution) or saved as JPEG, paper is white to within 8 levels, most ink black to within
# 8, and only the edges of strokes are grey; in a grey scan the paper has grain, in a photo the desk and the
# light's fall-off are grey. Measured 2026-12-06 on 30 pages of each of `scan_accuracy.py`'s conditions: every
# 1-bit copy and scanner-app page told (58 of 60 resized to two thirds, 41 of 60 saved again as JPEG of
# quality 50), no scan or photo (paper at 247 or over: at most 0.68 of a scan's paper, up to 0.99 of an
# over-exposed photo's, whose grey is ten times its ink or more).
PAPER_LEVEL, INK_LEVEL = 247, 8
PAPER_SHARE, INK_SHARE = 0.98, 0.65
MAX_GREY_PER_INK = 1.0
MIN_INK_SHARE = 0.001  # of the page: a white page is not a thresholded one
# a speckle is at most this many pixels, 8-connected: 0.03 mm² at 300 dpi, 0.1 mm² at 150 dpi, where a pen's
# dot 0.5 mm across is 0.2 mm²
SPECKLE_PX = 4
# A page is speckled when this share of its pixels are black with no black neighbour: the edges of print and
# writing make a few (1-bit copies of the benchmark: 1-605 a million), grain thresholded unsmoothed many
# (5,642-6,499 a million at 10 levels under the mean, where clearing it took the fields read right from
# 85-98 to 130-133 of 146; 96-115 a million at 15 levels, where it gained one field in 140). Finding
# them costs a 3 x 3 sum (4 ms a 200 dpi page); clearing the specks, 20-30 ms more.
SPECKLED_LONE_PIXELS = 1000e-6


def looks_binarised(grey: np.ndarray) -> bool:
    """Whether ``grey`` (uint8) was thresholded to black and white (a 1-bit copy, a scanner app's
    black-and-white page), perhaps resampled or compressed since. Judged on every fourth pixel of every
    fourth row: paper (over 192) white to within 8 levels, ink (under 64) mostly black to within 8, and no
    more grey between than ink."""
    # counted by OpenCV (float32, exact to 2**24 pixels: a sixteenth of an 80 MP page is 5 M): NumPy's
    # bincount turns every pixel into an int64 first, 2-3 ms a 200 dpi page against 0.4
    sample = np.ascontiguousarray(grey[::4, ::4])
    levels = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    ink, paper = int(levels[:64].sum()), int(levels[193:].sum())
    if ink < MIN_INK_SHARE * levels.sum() or not paper:
        return False
    between = int(levels.sum()) - paper - ink
    return bool(levels[PAPER_LEVEL:].sum() >= PAPER_SHARE * paper and levels[:INK_LEVEL + 1].sum() >= INK_SHARE * ink
                and between <= MAX_GREY_PER_INK * ink)


def despeckled(grey: np.ndarray) -> np.ndarray:
    """``grey`` (uint8, a thresholded page) with every piece of black of at most ``SPECKLE_PX`` pixels
    made white, when the page is speckled (``SPECKLED_LONE_PIXELS``); otherwise ``grey`` itself."""
    black = (grey < 128).astype(np.uint8)
    around = cv2.boxFilter(black, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    if np.count_nonzero((around == 1) & (black == 1)) < SPECKLED_LONE_PIXELS * black.size:
        return grey
    count, labels, stats, _ = cv2.connectedComponentsWithStats(black, connectivity=8)
    speckle = stats[:, cv2.CC_STAT_AREA] <= SPECKLE_PX
    speckle[0] = False  # the paper
    out = grey.copy()
    out[speckle[labels]] = 255
    return out
