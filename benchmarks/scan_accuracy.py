"""Scanner accuracy and speed on synthetic filled forms with known answers.

    python benchmarks/scan_accuracy.py [--pages N] [--speed-pages N]

For each condition, pages of the shipped forms are filled at random (ticks, crosses, scribbles,
fills, blue/black pen and pencil, blanks, double marks, corrections, light pencil), crumpled in two
conditions (three to eight creases across boxes, lines and print: `tests.synthetic.crease_page`), and
degraded as a scanner or a phone would (in one condition with a lamp's reflection on the page:
`tests.synthetic.add_glare`). A value is *correct* when it matches and is not flagged, *review* when
flagged (*needless* when the field was neither a case that must be flagged, such as a double mark, nor a
fair hard case, such as a very light pencil tick), a *silent error* when it is wrong and not flagged.
Visual-analogue values count as correct within 1 mm (0.1 on a 0-10 line). Then a batch of 300 dpi A4
scans is timed through `formkit scan`'s batch runner with two workers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import cv2
import numpy as np

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.records import PageResult  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from scanner.ingest import darkest_channel  # noqa: E402
from scanner.pipeline import read_page  # noqa: E402
from tests.synthetic import (  # noqa: E402
    Truth,
    bend_page,
    crease_page,
    degrade_photo,
    degrade_scan,
    fill_page,
    glass_streaks,
    one_bit_copy,
    render_pdf,
    scanner_app_black_and_white,
    stick_note,
)

FORMS = ["k10", "alliance-check", "gas-followup", "goal-card", "vas-4line"]
CONDITIONS = {
    "flatbed 300 dpi, skewed, 1/3 upside down": "scan300",
    "copier 200 dpi, 1-bit": "scan200bw",
    "phone photo 3 MP": "photo3",
    "phone photo 12 MP": "photo12",
    "phone photo 12 MP, page not flat": "photo12bent",
    "phone photo 3 MP, page not flat": "photo3bent",
    "flatbed 300 dpi, crumpled": "scan300crumpled",
    "phone photo 12 MP, crumpled": "photo12crumpled",
    "phone photo 12 MP, glare": "photo12glare",
    # what a messenger app sends unless the photo goes as a file: 1600 x 1200 px, its JPEG compressed again
    "phone photo sent by messenger (2 MP, JPEG 60)": "photo2msg",
    # a photo in a dim room without the camera brightening it: levels x 0.35, sensor noise sigma 6
    "phone photo 7 MP, underexposed": "photo7dim",
    # a wide lens left uncorrected: barrel distortion k1 = -3 % about the frame's centre (the markers in the
    # page's corners cannot see how it bends the rows between them)
    "phone photo 7 MP, lens distortion": "photo7barrel",
    # a rolling shutter while the hand shakes: rows of the frame shifted sideways by up to 3 px, in waves
    "phone photo 3 MP, rolling-shutter wobble": "photo3wobble",
    # a phone held under a spotlight: its shadow's sharp edge (1.5 px) across the page, 30-50 % darker
    "phone photo 3 MP, sharp shadow edge": "photo3shadowedge",
    # a dirty scanner glass or a dusty sensor: one to three straight streaks down the whole scan, 0.1-0.35 mm
    # wide, 20-65 % dark (``tests.synthetic.glass_streaks``); on the copier, before its 1-bit threshold
    "flatbed 300 dpi, dirty glass streaks": "scan300streak",
    "copier 200 dpi, 1-bit, dirty glass streaks": "scan200bwstreak",
    # a page on a dark desk, the camera exposing for the desk: levels x 1.8, the paper clipped to white
    "phone photo 7 MP, over-exposed": "photo7bright",
    # a phone scanner app's black-and-white mode: the page flattened by the app, then thresholded against a
    # window of 1.3-4.3 mm around each pixel, which hollows solid black (``tests.synthetic``)
    "phone scanner app, black and white": "appbw",
    # a service printing its forms on canary-yellow paper (its blue a third of its red and green)
    "phone photo 3 MP, canary-yellow paper": "photo3canary",
    # a printer low on toner (or in its economy mode): print, markers and QR code at half their darkness
    "phone photo 3 MP, print faded": "photo3faded",
}
CANARY_PAPER = (255, 235, 90)  # RGB
DIM_LEVEL, DIM_NOISE = 0.35, 6.0
BRIGHT_LEVEL = 1.8
BARREL_K1 = -0.03
WOBBLE_PX = 3.0
MESSENGER_FRAME_PX = (1600, 1200)
MESSENGER_JPEG_QUALITY = 60


@cache
def blank_pages(form: str, dpi: int) -> tuple:
    layout = build_layout(resolve_template(form))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "f.pdf"
        generate(layout, make_copies(1, None, 7), pdf)
        return layout, tuple(render_pdf(pdf, dpi))


def make_page(condition: str, seed: int, photo_fill: tuple[float, float] | None = None, digits: dict | None = None):
    """A filled page (image, truth) degraded as ``condition`` says; a photo's page spans ``photo_fill`` (least,
    most) of the frame, when given; with ``digits`` (``tests.synthetic.load_digits``), digit and date boxes
    are written too."""
    rng = random.Random(seed)
    form = FORMS[seed % len(FORMS)]
    canary, faded = condition.endswith("canary"), condition.endswith("faded")
    condition = condition.removesuffix("canary").removesuffix("faded")
    dpi = 200 if condition in ("scan200bw", "scan200bwstreak", "photo3", "photo3bent", "photo2msg", "photo7dim",
                               "photo7bright", "photo7barrel", "photo3wobble", "photo3shadowedge") else 300
    layout, pages = blank_pages(form, dpi)
    index = rng.randrange(len(pages))
    blank = pages[index].copy()
    if faded:
        blank[:] = 255 - (255 - blank) // 2
    filled = fill_page(blank, dpi, layout.pages[index], rng, digits=digits)
    if canary:  # ink and print on it reflect the paper's colour too
        filled.image[:] = filled.image * (np.array(CANARY_PAPER, np.float32) / 255)
    if condition.endswith("note"):  # a sticky note over part of it: what it covers must be flagged
        for field, covered in stick_note(filled.image, dpi, layout.pages[index], rng).items():
            was = filled.truth.get(field) or Truth("")
            filled.truth[field] = Truth(was.value, must_review=True, scenario="covered") if covered else \
                Truth(was.value, must_review=was.must_review, may_review=True, scenario="touched")
        condition = condition.removesuffix("note")
    if condition.endswith("crumpled"):  # three to eight creases across boxes, lines and print
        crease_page(filled.image, dpi, rng, crumpled=True)
        condition = condition.removesuffix("crumpled")
    if condition == "scan300":
        image = degrade_scan(filled.image, dpi, rng, out_dpi=300, upside_down=rng.random() < 1 / 3)
    elif condition == "appbw":
        image = scanner_app_black_and_white(filled.image, dpi, rng, upside_down=rng.random() < 1 / 3)
    elif condition == "scan200bw":
        image = degrade_scan(filled.image, dpi, rng, out_dpi=200, one_bit=True, upside_down=rng.random() < 1 / 3)
    elif condition in ("scan300streak", "scan200bwstreak"):  # streaks along the scan, whichever way the page lay
        one_bit = condition == "scan200bwstreak"
        page = cv2.cvtColor(filled.image, cv2.COLOR_RGB2GRAY) if one_bit else filled.image
        image = glass_streaks(degrade_scan(page, dpi, rng, out_dpi=dpi, upside_down=rng.random() < 1 / 3), dpi, rng)
        if one_bit:
            image = one_bit_copy(image)
    else:
        frames = {"photo2msg": MESSENGER_FRAME_PX, "photo7dim": (3000, 2250), "photo7bright": (3000, 2250),
                  "photo3": (2000, 1500),
                  "photo3bent": (2000, 1500), "photo7barrel": (3000, 2250), "photo3wobble": (2000, 1500),
                  "photo3shadowedge": (2000, 1500)}
        frame = frames.get(condition, (4000, 3000))
        page = filled.image
        if condition in ("photo12bent", "photo3bent"):  # its middle raised or sunk by 0.4-0.9 mm: markers cannot see it
            page = bend_page(page, dpi, rng.choice([-1, 1]) * rng.uniform(0.4, 0.9))
        fill = rng.uniform(*photo_fill) if photo_fill else None
        image = degrade_photo(page, rng, frame_px=frame, fill=fill, glare=condition == "photo12glare")
        if condition == "photo7dim":
            noise = np.random.default_rng(seed).normal(0, DIM_NOISE, image.shape)
            image = np.clip(image.astype(np.float32) * DIM_LEVEL + noise, 0, 255).astype(np.uint8)
        if condition == "photo7bright":
            image = np.clip(image.astype(np.float32) * BRIGHT_LEVEL, 0, 255).astype(np.uint8)
        if condition == "photo2msg":
            sent = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, MESSENGER_JPEG_QUALITY])[1]
            image = cv2.imdecode(sent, cv2.IMREAD_COLOR)
        if condition == "photo7barrel":
            image = barrel(image, BARREL_K1)
        if condition == "photo3wobble":
            image = wobble(image, rng, WOBBLE_PX)
        if condition == "photo3shadowedge":
            image = shadow_edge(image, rng)
    return image, filled.truth


def barrel(image: np.ndarray, k1: float) -> np.ndarray:
    """``image`` as a lens with radial distortion ``k1`` (negative: barrel) about its centre sees it."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xs - w / 2) / (w / 2), (ys - h / 2) / (w / 2)
    f = 1 + k1 * (nx * nx + ny * ny)
    return cv2.remap(image, nx * f * w / 2 + w / 2, ny * f * w / 2 + h / 2, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=(90, 90, 90))


def wobble(image: np.ndarray, rng: random.Random, amplitude_px: float) -> np.ndarray:
    """Each row of ``image`` shifted sideways by up to ``amplitude_px``, in 2-5 waves down the frame."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = amplitude_px * np.sin(ys / h * np.pi * rng.uniform(2, 5) + rng.uniform(0, 2 * np.pi))
    return cv2.remap(image, (xs + dx).astype(np.float32), ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def shadow_edge(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A shadow 30-50 % dark over one side of a sharp (1.5 px) slanting edge across ``image``."""
    h, w = image.shape[:2]
    x0, slope = rng.uniform(0.3, 0.6) * w, rng.uniform(-0.4, 0.4)
    shade = np.zeros((h, w), np.float32)
    cv2.fillPoly(shade, [np.array([[0, 0], [x0, 0], [x0 + slope * h, h], [0, h]], np.int32)], 1.0)
    shade = cv2.GaussianBlur(shade, (0, 0), 1.5) * rng.uniform(0.3, 0.5)
    return np.clip(image * (1 - shade[..., None]), 0, 255).astype(np.uint8)


def evaluate(job: tuple[str, int]) -> dict:
    condition, seed = job
    image, truth = make_page(condition, seed)
    grey = darkest_channel(image)  # as the scanner turns a colour image grey
    result = read_page(grey, PageResult("bench", 1, "", ""))
    out = {"identified": result.status == "read", "fields": 0, "correct": 0, "review": 0, "silent": 0,
           "must_review": 0, "caught": 0, "needless": 0, "vas_err": []}
    if result.status != "read":
        return out
    for value, t in with_truth(result.values, truth):
        out["fields"] += 1
        out["must_review"] += t.must_review
        if value.needs_review:
            out["review"] += 1
            out["caught"] += t.must_review
            out["needless"] += not (t.must_review or t.may_review)
        elif not t.must_review and _matches(value.value, t.value, value.kind):
            out["correct"] += 1
            if value.kind == "line" and t.value:
                out["vas_err"].append(abs(float(value.value) - float(t.value)) * 10)
        else:
            out["silent"] += 1
    return out


def with_truth(values: list, truth: dict) -> list[tuple]:
    """Each value of a page whose field has a truth, with it (fields the filling left alone are not counted)."""
    return [(value, truth[value.field]) for value in values if value.field in truth]


def _matches(read: str, truth: str, kind: str) -> bool:
    if kind == "line" and read and truth:
        return abs(float(read) - float(truth)) <= 0.1 + 1e-6
    return read == truth


def accuracy(pages: int, only: list[str] | None = None) -> None:
    print(f"{'condition':42} {'pages':>5} {'identified':>10} {'fields':>6} {'correct':>8} {'review':>7} "
          f"{'needless':>8} {'silent err':>10} {'must-flag caught':>16} {'VAS err mm':>10}")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for label, condition in CONDITIONS.items():
            if only and condition not in only:
                continue
            # 12 MP photos take long to make: a third as many, but glare is what that condition is about
            n = pages if not condition.startswith("photo12") or condition == "photo12glare" else max(10, pages // 3)
            rows = pool.map(evaluate, [(condition, seed) for seed in range(n)], chunksize=4)
            total = {k: sum(r[k] for r in rows) for k in ("identified", "fields", "correct", "review", "silent",
                                                          "must_review", "caught", "needless")}
            vas = [e for r in rows for e in r["vas_err"]]
            f = max(1, total["fields"])
            print(f"{label:42} {n:5d} {100 * total['identified'] / n:9.1f}% {total['fields']:6d} "
                  f"{100 * total['correct'] / f:7.2f}% {100 * total['review'] / f:6.2f}% "
                  f"{100 * total['needless'] / f:7.2f}% "
                  f"{100 * total['silent'] / f:9.3f}% {total['caught']:7d} of {total['must_review']:<6d} "
                  f"{(sum(vas) / len(vas) if vas else 0):10.2f}")


def speed(pages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "scans"
        folder.mkdir()
        layout = build_layout(resolve_template("k10"))
        pdf = Path(tmp) / "k10.pdf"
        for chunk in range(0, pages, 20):  # 20 pages at a time: a 300 dpi page is 26 MB in memory
            generate(layout, make_copies(min(20, pages - chunk), None, 1000 + chunk), pdf)
            for offset, blank in enumerate(render_pdf(pdf, 300)):
                rng = random.Random(chunk + offset)
                filled = fill_page(blank, 300, layout.pages[0], rng)
                image = degrade_scan(filled.image, 300, rng, out_dpi=300)
                cv2.imwrite(str(folder / f"p{chunk + offset:04d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2GRAY),
                            [cv2.IMWRITE_JPEG_QUALITY, 85])
        # The real command, in its own process tree, so its memory is measured alone.
        command = [sys.executable, "-m", "formkit_cli", "scan", str(folder), "--db", str(Path(tmp) / "b.sqlite"),
                   "--jobs", "2"]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, _tree_peak_rss_kb(process.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        summary = process.stdout.read().strip().splitlines()[0] if process.stdout else ""
        print(f"\nspeed: {pages} A4 k10 pages, 300 dpi greyscale JPEG, `formkit scan --jobs 2`: {seconds:.1f} s, "
              f"{pages / seconds:.1f} pages/s, largest process {peak_kb / 1024:.0f} MB")
        print("  " + summary)


def _tree_peak_rss_kb(root: int) -> int:
    """The largest resident size among ``root`` and its descendants, from /proc."""
    table = subprocess.run(["ps", "-eo", "pid=,ppid=,rss="], capture_output=True, text=True).stdout.split()
    rows = [(int(table[i]), int(table[i + 1]), int(table[i + 2])) for i in range(0, len(table), 3)]
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid, _ in rows:
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return max((rss for pid, _, rss in rows if pid in tree), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300, help="pages per condition")
    parser.add_argument("--speed-pages", type=int, default=200)
    parser.add_argument("--only", choices=list(CONDITIONS.values()), action="append",
                        help="measure this condition only (repeatable; default: all)")
    args = parser.parse_args()
    print(f"machine: {multiprocessing.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    if args.speed_pages:
        speed(args.speed_pages)  # first: no worker of the accuracy run is counted in its memory
    if args.pages:
        accuracy(args.pages, args.only)


if __name__ == "__main__":
    main()
