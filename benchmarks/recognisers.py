"""Time per call of the recognisers on one core, before and after keeping them loaded and fast:

- Tesseract on a written text area (the crop ``scanner.handwriting`` passes, from a generated goal card)
  and on a printed serial (one line, serial alphabet only, as ``scanner.identify`` reads it): before, the
  tesseract program started per image through pytesseract; after, libtesseract kept loaded in this
  process through tesserocr.
- The digit ensemble (four networks, probabilities averaged) on a page's batch of 9 boxes and of 64:
  before, the NumPy forward pass; after, OpenCV's dnn.

    python benchmarks/recognisers.py [--repeat 30]

One compute thread, as in a batch worker (BLAS and OpenMP limited before NumPy loads, cv2.setNumThreads(1)).
Before and after take turns, and each is repeated: the minimum is the figure to compare (other work on
the machine only adds time), the median says how steady it was.
"""

from __future__ import annotations

import os

for _variable in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import TextField  # noqa: E402
from formkit.serial import ALPHABET  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner import digits, handwriting, ocr  # noqa: E402
from scanner._exec import libtesseract, tesseract  # noqa: E402
from scanner.register import WARP_PX_PER_MM  # noqa: E402
from tests.synthetic import render_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "samples" / "handwriting" / "mnist-heldout.npz"


def text_area_crop() -> np.ndarray:
    """A goal card's "goal" area with a line written in it, cut out as ``read_text_field`` does."""
    layout = build_layout(resolve_template("goal-card"))
    with tempfile.TemporaryDirectory() as tmp:
        generate(layout, make_copies(1, None, 6), Path(tmp) / "card.pdf")
        page_image = render_pdf(Path(tmp) / "card.pdf", WARP_PX_PER_MM * 25.4)[0].min(axis=2)  # as registered
    area = next(f for f in layout.page(1).fields if isinstance(f, TextField) and f.id == "goal")
    origin = (int((area.box.x_mm + 1) * WARP_PX_PER_MM), int((area.baselines_y_mm[0] - 0.8) * WARP_PX_PER_MM))
    cv2.putText(page_image, "walk to the shop", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.9, 30, 2, cv2.LINE_AA)
    return handwriting._ink_only(page_image, area.box, area.baselines_y_mm, WARP_PX_PER_MM)


def serial_crop() -> np.ndarray:
    image = np.full((75, 355), 255, np.uint8)
    cv2.putText(image, "DHJ9-CX4C", (12, 55), cv2.FONT_HERSHEY_DUPLEX, 1.3, 0, 2, cv2.LINE_AA)
    return cv2.resize(image, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)


def race(before: Callable[[], object], after: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, taking turns."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, out in ((before, times[0]), (after, times[1])):
            started = time.perf_counter()
            run()
            out.append(1000 * (time.perf_counter() - started))
    return times


def row(what: str, before: list[float], after: list[float]) -> str:
    return (f"| {what} | {min(before):.1f} ({statistics.median(before):.1f}) | {min(after):.1f} "
            f"({statistics.median(after):.1f}) | {min(before) / min(after):.1f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"# Recognisers, ms per call on one core ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; minimum of {args.repeat}, median in brackets)\n")
    print(f"OpenCV {cv2.__version__}, NumPy {np.__version__}; tesseract program {tesseract.version()}, "
          f"libtesseract {libtesseract.library_version()} (tesserocr), tessdata {libtesseract.tessdata_for('eng')}\n")
    print("| call | before | after | faster |")
    print("| --- | ---: | ---: | ---: |")

    started = time.perf_counter()
    ensemble = digits._dnn_ensemble()
    dnn_setup = 1000 * (time.perf_counter() - started)
    with np.load(HELDOUT) as data:
        boxes = data["x"][:64].astype(np.float32) / 255
    if ensemble is None:
        print("| digits | OpenCV's dnn cannot run the networks here | | |")
    else:
        for n in (9, 64):
            batch = boxes[:n]
            print(row(f"digit ensemble, {n} boxes", *race(lambda b=batch: digits._classify_numpy(b),
                                                             lambda b=batch: digits.classify(b), args.repeat)))

    setups = []
    for name, image, single_line, whitelist in (("Tesseract, written text area", text_area_crop(), False, None),
                                                ("Tesseract, printed serial", serial_crop(), True, ALPHABET + "-")):
        psm = 7 if single_line else 6
        started = time.perf_counter()
        in_process = libtesseract.image_to_tsv(image, "eng", psm, whitelist)
        first_ms = 1000 * (time.perf_counter() - started)
        setups.append(f"{name.lower()}: first call {first_ms:.0f} ms")
        if in_process is None:
            print(f"| {name} | tesserocr or its tessdata is not installed | | |")
            continue
        assert ocr._words(in_process).text == ocr._words(tesseract.image_to_tsv(image, "eng", psm, whitelist)).text
        print(row(f"{name} ({image.shape[1]}×{image.shape[0]} px)",
                  *race(lambda i=image, p=psm, w=whitelist: tesseract.image_to_tsv(i, "eng", p, w),
                        lambda i=image, p=psm, w=whitelist: libtesseract.image_to_tsv(i, "eng", p, w),
                        max(5, args.repeat // 3))))
    print(f"\nOnce per worker process: the dnn network built and checked, {dnn_setup:.0f} ms; "
          + "; ".join(setups) + " (tessdata found, the language model loaded).")


if __name__ == "__main__":
    main()
