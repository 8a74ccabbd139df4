"""How long 1,000 personalised goal cards take to generate, and how large the PDF is.

Run: python benchmarks/print_speed.py [--count N]   (target: under 10 s on a 2-core machine)
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

# the repository's own code (and tests.synthetic), not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.template import resolve_template  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    roster = [f"C{i:04d}" for i in range(args.count)]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'run':32} {'seconds':>8} {'PDF pages':>10} {'PDF MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, sheet in (("goal-card, one page per side", None), ("goal-card, imposed on A4", "A4")):
            start = time.perf_counter()
            layout = build_layout(resolve_template("goal-card"))
            pdf = Path(tmp) / "cards.pdf"
            rows = generate(layout, make_copies(None, roster), pdf, sheet, Path(tmp) / f"manifest-{sheet}.csv")
            seconds = time.perf_counter() - start
            pages = max(int(r["pdf_page"]) for r in rows)
            print(f"{label:32} {seconds:8.2f} {pages:10d} {pdf.stat().st_size / 1e6:8.2f}")


if __name__ == "__main__":
    main()
