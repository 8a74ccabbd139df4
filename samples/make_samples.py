"""Rebuild samples/scans/: filled forms with known answers, as a flatbed scanner and a phone deliver them.

    python samples/make_samples.py        (deterministic: same seed, same files)

Writes a multi-page scanned PDF (one page upside down), a TIFF stack with a blank back page, phone
photos of a two-sided goal card, a foreign page and a corrupt file, plus truth.csv with the answers.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from tests.synthetic import degrade_photo, degrade_scan, fill_page, load_digits, render_pdf  # noqa: E402

OUT = Path(__file__).resolve().parent / "scans"
HANDWRITING = load_digits(Path(__file__).resolve().parent / "handwriting" / "mnist-heldout.npz")
DPI = 200


def filled_pages(form: str, copies: int, seed: int, rng: random.Random, truth: list[dict]) -> list[np.ndarray]:
    layout = build_layout(resolve_template(form))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "forms.pdf"
        printed = generate(layout, make_copies(copies, None, seed), pdf)
        images = render_pdf(pdf, DPI)
    pages = []
    for row, image in zip(printed, images, strict=True):
        page = layout.page(int(row["form_page"]))
        filled = fill_page(image, DPI, page, rng, digits=HANDWRITING)
        for field, t in filled.truth.items():
            truth.append({"form": form, "serial": row["serial"], "field": field, "value": t.value,
                          "must_review": int(t.must_review), "scenario": t.scenario})
        pages.append(filled.image)
    return pages


def main() -> None:
    rng = random.Random(2026)
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    truth: list[dict] = []

    # A flatbed stack of questionnaires as one PDF, the second page upside down.
    stack = filled_pages("k10", 2, 1, rng, truth) + filled_pages("alliance-check", 1, 2, rng, truth)
    scans = [degrade_scan(p, DPI, rng, out_dpi=DPI, upside_down=(i == 1)) for i, p in enumerate(stack)]
    pil = [Image.fromarray(s) for s in scans]
    pil[0].save(OUT / "flatbed-questionnaires.pdf", save_all=True, append_images=pil[1:], resolution=DPI,
                quality=80)

    # A duplex TIFF: a GAS follow-up (two pages) then a blank back, 1-bit like an office copier.
    gas = filled_pages("gas-followup", 1, 3, rng, truth)
    blank = np.full_like(gas[0], 255)
    tiff = [Image.fromarray(degrade_scan(p, DPI, rng, out_dpi=DPI, one_bit=True)).convert("1")
            for p in [*gas, blank]]
    tiff[0].save(OUT / "copier-stack.tif", save_all=True, append_images=tiff[1:], compression="group4")

    # Phone photos of both sides of two goal cards, on a desk.
    for i, page in enumerate(filled_pages("goal-card", 2, 4, rng, truth)):
        photo = degrade_photo(page, rng, frame_px=(2000, 1500))
        cv2.imwrite(str(OUT / f"phone-goal-card-{i + 1}.jpg"), photo, [cv2.IMWRITE_JPEG_QUALITY, 85])

    # A K10 with coffee over its QR code: identified from the code printed under it.
    stained = filled_pages("k10", 1, 5, rng, truth)[0]
    qr = build_layout(resolve_template("k10")).pages[0].qr
    px = DPI / 25.4
    centre = (int((qr.x_mm + qr.size_mm / 2) * px), int((qr.y_mm + qr.size_mm / 2) * px))
    cv2.ellipse(stained, centre, (int(qr.size_mm * 0.3 * px), int(qr.size_mm * 0.25 * px)), 30, 0, 360,
                (110, 80, 50), -1)
    cv2.imwrite(str(OUT / "stained-qr.png"), cv2.cvtColor(degrade_scan(stained, DPI, rng, out_dpi=DPI),
                                                          cv2.COLOR_RGB2BGR))

    # A page that is not a formkit form, and a file that is not an image at all.
    foreign = np.full((1100, 850), 255, np.uint8)
    cv2.putText(foreign, "Minutes of the team meeting", (60, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    for y in range(200, 1000, 40):
        cv2.line(foreign, (60, y), (790, y), 0, 2)
    cv2.imwrite(str(OUT / "foreign-page.png"), foreign)
    (OUT / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this file was cut short")

    with (OUT / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["form", "serial", "field", "value", "must_review", "scenario"])
        writer.writeheader()
        writer.writerows(truth)
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")


if __name__ == "__main__":
    main()
