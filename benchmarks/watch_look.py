"""The CPU time of one look of ``formkit watch`` at a large folder (``scanner.watch.Folder.look``): the first look,
which lists the folder, and the looks after it, with every file already handed out and nothing changed.

Run: python benchmarks/watch_look.py [--files N] [--folders F]   (a folder of 40,000 one-byte .jpg files in 8
sub-folders by default; they are never decoded, only listed and stat'ed)
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

# the repository's own code, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.watch import Folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=40_000)
    parser.add_argument("--folders", type=int, default=8)
    parser.add_argument("--looks", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in range(args.files):
            folder = root / f"day{n % args.folders}"
            folder.mkdir(exist_ok=True)
            (folder / f"scan-{n:06d}.jpg").write_bytes(b"x")
        watched = Folder(root, settle=0)
        for look in range(args.looks):
            started = time.process_time()
            ready = watched.look() or []
            watched.hand_out(ready)  # read: from now on, each look finds nothing new
            print(f"look {look + 1}: {time.process_time() - started:.3f} s of CPU, {len(ready)} file(s) complete")


if __name__ == "__main__":
    main()
