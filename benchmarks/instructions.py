"""Instructions a page costs to read, counted by valgrind's callgrind: a figure the machine's load and the
host's throttling do not move, for telling changes of a few per cent apart.

    python benchmarks/instructions.py [--pages N] [--k10] [--work DIR] [--tree DIR]

Reads the first N+1 pages that benchmarks/throughput.py generated into --work (run it first), one after
another in one process and one thread (``scanner.batch.read_job``, decoding included), under callgrind;
and once more with the first page alone. The difference, over N, is the instructions a page; the run
with one page is the imports, the loading of Tesseract and the digit networks, and that page. --tree is
the source tree to count (default: this one), so two trees can be compared on the same pages.

Why: on 2026-12-02 evening two runs of the same code minutes apart differed by up to 46 % in pages a second
(benchmarks/throughput.py) and by 20 % in CPU time a page, while callgrind gave the same count to the
million. Instructions are not time (a cache miss costs more than an add), so the pages-a-second targets
stay with throughput.py; this tells whether a change made the work smaller. About 40 s for 10 pages.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

READER = """
import sys
import cv2
cv2.setNumThreads(1)
sys.path.insert(0, sys.argv[1])
from scanner import batch
files = sys.argv[3:]
for path in files[:1 + int(sys.argv[2])]:
    batch.read_job(batch.Job(path, "x", 0))
"""


def count(tree: Path, pages: list[Path], n: int) -> int:
    """Instructions of reading the first ``n`` + 1 of ``pages`` with the scanner of ``tree``."""
    # the interpreter is started by its real path (below), which from a virtual environment is the base one: the
    # environment's packages are passed on as the path this one imports from
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", OMP_THREAD_LIMIT="1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "read.py"
        script.write_text(READER)
        # the interpreter itself, not a launcher script that starts it (pyenv's shims are shell scripts)
        python = os.path.realpath(sys.executable)
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", python,
                               str(script), str(tree), str(n), *map(str, pages)],
                              capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        sys.exit(f"callgrind failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--k10", action="store_true", help="blank-date K10 pages instead of filled alliance-check")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "formkit-benchmarks" / "throughput")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the source tree to count (default: this one)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt install valgrind)")
    folder = args.work / ("k10-300dpi" if args.k10 else "filled-mixeddpi")
    pages = sorted(folder.glob("p*.jpg"))[:args.pages + 1]
    if len(pages) < args.pages + 1:
        sys.exit(f"{folder} holds {len(pages)} page(s); generate them with benchmarks/throughput.py "
                 f"--pages {args.pages + 1} --jobs-list '' --work {args.work}" + (" --k10" if args.k10 else ""))
    first = count(args.tree.resolve(), pages, 0)
    all_pages = count(args.tree.resolve(), pages, args.pages)
    print(f"# instructions, {args.tree.resolve()}, {folder.name}")
    print(f"imports, loading and the first page: {first / 1e6:,.1f} M")
    print(f"a page after that: {(all_pages - first) / args.pages / 1e6:,.1f} M (mean of {args.pages})")


if __name__ == "__main__":
    main()
