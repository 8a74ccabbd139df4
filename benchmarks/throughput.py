"""Throughput and memory of `formkit scan` on batches of filled A4 pages, 1 job against 2.

    python benchmarks/throughput.py [--pages N] [--k10] [--jobs-list 1,2] [--repeat R] [--work DIR]
                                    [--dpi mixed|200|300]

The target it measures: filled A4 pages (choice marks on every row, a written date on every page, a
written comment on at least 70 % of pages; 200-300 dpi greyscale JPEG) at least 25 pages/s with
`formkit scan --jobs 2` on a 2-core machine, and at least 1.7x the pages/s of --jobs 1; blank-date K10
pages (--k10) at least 35 pages/s with two jobs; the largest process under 250 MB over 2,000 pages.

Pages: alliance-check forms, each a distinct printed copy (its own serial), with a mark on each of the 12
rows (one style per page: tick, cross or scribble; black, blue or pencil), the date written in the date
boxes with held-back MNIST digits, and on 3 pages in 4 a comment of a few words in the text area; rendered
at 300 dpi, scanned (skew, offset, noise) at 300 or 200 dpi (--dpi), saved as greyscale JPEG, quality 85.
With --k10: K10 pages filled and scanned at 300 dpi exactly as benchmarks/scan_accuracy.py's speed test
builds them (random answers, double marks, corrections, light pencil; the date left blank).

The pages are generated once into --work (by default ~/.cache/formkit-benchmarks/throughput) and reused
by later runs; delete that folder after changing tests/synthetic.py. Each run is the real command in its own
process, `python -m formkit_cli scan FOLDER --db NEW.sqlite --jobs J`, with this source tree first on
PYTHONPATH and compiled to bytecode first as pip compiles an installed package, into a fresh store; the time
is the command's wall time, start-up included (also shown alone, on an empty folder), and its CPU time (user +
system, the workers' included: the figure to compare on a shared machine, where wall time depends on what else
runs). Memory is sampled from /proc every 0.1 s over the command's process tree: the largest peak resident
size (VmHWM) of any one process, and the largest sum of all of them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import cv2

# the repository's own code (and tests.synthetic), not an installed copy
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from formkit.generate import generate, make_copies  # noqa: E402
from formkit.layout import build_layout  # noqa: E402
from formkit.layout.model import BoxesField, ChoiceField, Page, TextField  # noqa: E402
from formkit.template import resolve_template  # noqa: E402
from tests.synthetic import (  # noqa: E402
    degrade_scan,
    draw_mark,
    fill_page,
    load_digits,
    render_pdf,
    write_digits,
    write_text,
)

DIGITS = ROOT / "samples" / "handwriting" / "mnist-heldout.npz"
CHUNK = 20  # copies per generated PDF: a 300 dpi page is 26 MB in memory
TARGETS = {"filled": 25.0, "k10": 35.0}  # pages/s with two jobs
TARGET_RATIO, TARGET_MB, TARGET_MB_PAGES = 1.7, 250, 2000
PHRASES = ("I feel better", "thank you for listening", "more time please", "can we meet earlier",
           "things are hard at work", "my sister came with me", "the last meeting was good", "not sure it helps",
           "sleep is still bad", "it helps to write things down", "next week is hard for me", "the kids are ok")


def _comment(rng: random.Random) -> str:
    return "\n".join(rng.sample(PHRASES, rng.randint(1, 3)))


def _fill_alliance(image, page: Page, rng: random.Random, digits, comment: bool) -> None:
    """A mark on every row, the date written in, and (when ``comment``) a few words in the text area."""
    pen = rng.choice(["black", "blue", "black", "blue", "pencil"])
    ink = "blue" if pen == "blue" else "black"
    style = rng.choice(["tick", "tick", "cross", "cross", "scribble"])
    for f in page.fields:
        if isinstance(f, ChoiceField):
            draw_mark(image, 300, rng.choice(f.options).box, style, rng, pen)
        elif isinstance(f, BoxesField) and f.kind == "date":
            day = date(2024, 1, 1) + timedelta(days=rng.randrange(1500))
            write_digits(image, 300, f.boxes, day.strftime("%d%m%Y"), digits, rng, ink)
        elif isinstance(f, TextField) and comment:
            write_text(image, 300, f.box, _comment(rng), rng, ink, f.baselines_y_mm)


@dataclass(frozen=True)
class Chunk:
    kind: str  # "filled" or "k10"
    dpi: str  # "mixed", "200" or "300"
    start: int
    count: int
    folder: str


def _page_name(i: int) -> str:
    return f"p{i:05d}.jpg"


def _out_dpi(kind: str, dpi: str, i: int) -> int:
    if dpi == "mixed":
        return 300 if i % 2 == 0 else 200
    return int(dpi)


def _has_comment(i: int) -> bool:
    return i % 4 != 3  # 75 % of pages


def _make_chunk(chunk: Chunk) -> int:
    """Generate, fill, scan and save the pages ``start .. start + count - 1``; returns pages written."""
    folder = Path(chunk.folder)
    form = "k10" if chunk.kind == "k10" else "alliance-check"
    layout = build_layout(resolve_template(form))
    digits = load_digits(DIGITS) if chunk.kind == "filled" else None
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "copies.pdf"
        # as scan_accuracy.speed: serials from seed 1000 + chunk start for K10; other seeds for the filled set
        generate(layout, make_copies(chunk.count, None, (1000 if chunk.kind == "k10" else 50_000) + chunk.start), pdf)
        blanks = render_pdf(pdf, 300)
    for offset, blank in enumerate(blanks):
        i = chunk.start + offset
        if chunk.kind == "k10":
            rng = random.Random(i)
            image = fill_page(blank, 300, layout.pages[0], rng).image
        else:
            rng = random.Random(1_000_000 + i)
            _fill_alliance(blank, layout.pages[0], rng, digits, _has_comment(i))
            image = blank
        image = degrade_scan(image, 300, rng, out_dpi=_out_dpi(chunk.kind, chunk.dpi, i))
        temp = folder / f".{_page_name(i)}.part.jpg"  # a dot-name: never read by the scan, if left behind
        cv2.imwrite(str(temp), cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), [cv2.IMWRITE_JPEG_QUALITY, 85])
        os.replace(temp, folder / _page_name(i))
    return len(blanks)


def prepare(kind: str, dpi: str, pages: int, work: Path) -> Path:
    """The folder of cached pages for this set, with at least ``pages`` pages; missing ones are made."""
    folder = work / f"{kind}-{dpi}dpi"
    folder.mkdir(parents=True, exist_ok=True)
    todo = [Chunk(kind, dpi, start, min(CHUNK, pages - start), str(folder)) for start in range(0, pages, CHUNK)
            if not all((folder / _page_name(i)).exists() for i in range(start, min(start + CHUNK, pages)))]
    if todo:
        print(f"generating {sum(c.count for c in todo)} page(s) into {folder} ...", flush=True)
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            made = sum(pool.imap_unordered(_make_chunk, todo))
        print(f"  {made} page(s) in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def _proc_children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _proc_kb(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) of ``pid`` in kB, or zeros once it has gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


def _tree_memory_kb(root: int) -> tuple[int, int]:
    """The largest peak resident size of any process in ``root``'s tree, and the tree's resident total now."""
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += _proc_children(pid)
    sizes = [_proc_kb(pid) for pid in tree]
    return max((hwm for _, hwm in sizes), default=0), sum(rss for rss, _ in sizes)


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system time of the command and its workers
    largest_kb: int
    total_kb: int
    output: str
    returncode: int


def compiled_tree_env() -> dict[str, str]:
    """The environment that runs this source tree (first on PYTHONPATH), its bytecode compiled first into
    its __pycache__ folders, as an installed wheel runs: pip compiles a package when it installs it, while
    a source tree under PYTHONDONTWRITEBYTECODE (set on some machines) is compiled again at every start
    (measured 2026-12: 0.1 s of a scan's start-up)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "formkit"), str(ROOT / "scanner")],
                   check=True)
    return env


def _sample_memory(process: subprocess.Popen, memory: list[int]) -> None:
    while process.poll() is None:
        peak, total = _tree_memory_kb(process.pid)
        memory[0], memory[1] = max(memory[0], peak), max(memory[1], total)
        time.sleep(0.1)


def run_scan(folder: Path, db: Path, jobs: int, env: dict[str, str]) -> Run:
    """`formkit scan FOLDER --db DB --jobs J` in its own process, with ``env`` (``compiled_tree_env``)."""
    command = [sys.executable, "-m", "formkit_cli", "scan", str(folder), "--db", str(db), "--jobs", str(jobs)]
    with tempfile.TemporaryFile("w+") as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=db.parent)
        memory = [0, 0]  # largest peak of one process, largest sum
        sampler = threading.Thread(target=_sample_memory, args=(process, memory), daemon=True)
        sampler.start()
        output, _ = process.communicate()  # the end is timed exactly; memory is sampled beside it
        seconds = time.perf_counter() - start
        sampler.join()
        largest, total = memory
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command's workers were waited for by it
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if process.returncode:
            err.seek(0)
            output += err.read()[-2000:]
    return Run(seconds, cpu, largest, total, output.strip(), process.returncode)


def measure(folder: Path, pages: int, jobs_list: list[int], repeat: int, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "pages"  # exactly the first ``pages`` cached pages, as links
        batch.mkdir()
        for i in range(pages):
            (batch / _page_name(i)).symlink_to(folder / _page_name(i))
        megabytes = sum((folder / _page_name(i)).stat().st_size for i in range(pages)) / 1e6
        print(f"batch: {pages} page(s), {megabytes:.0f} MB of JPEG ({megabytes / pages:.2f} MB a page)")
        empty = Path(tmp) / "empty"
        empty.mkdir()
        env = compiled_tree_env()
        idle = run_scan(empty, Path(tmp) / "idle.sqlite", max(jobs_list), env)
        print(f"command start-up and exit alone (an empty folder, --jobs {max(jobs_list)}): {idle.seconds:.2f} s\n")
        best: dict[int, Run] = {}
        for jobs in jobs_list:
            for attempt in range(repeat):
                db = Path(tmp) / f"run-{jobs}-{attempt}.sqlite"
                run = run_scan(batch, db, jobs, env)
                db.unlink(missing_ok=True)
                first = run.output.splitlines()[0] if run.output else "(no output)"
                print(f"--jobs {jobs} run {attempt + 1}: {run.seconds:6.2f} s {pages / run.seconds:6.1f} pages/s, "
                      f"CPU {1000 * run.cpu_seconds / pages:.0f} ms a page, "
                      f"largest process {run.largest_kb / 1024:4.0f} MB, all processes {run.total_kb / 1024:4.0f} MB"
                      + (f", EXIT {run.returncode}" if run.returncode else ""), flush=True)
                print(f"    {first}")
                for line in run.output.splitlines()[1:]:
                    if not line.startswith("Store:"):
                        print(f"    {line}")
                if jobs not in best or run.seconds < best[jobs].seconds:
                    best[jobs] = run
    print(f"\nbest of {repeat}:")
    for jobs, run in best.items():
        net = run.seconds - idle.seconds
        print(f"  --jobs {jobs}: {pages / run.seconds:6.1f} pages/s ({run.seconds:.2f} s), CPU "
              f"{1000 * run.cpu_seconds / pages:.0f} ms a page (start-up included), largest process "
              f"{run.largest_kb / 1024:.0f} MB" + (f"; {pages / net:.1f} pages/s net of start-up" if net > 0 else ""))
    if 1 in best and 2 in best:
        ratio = best[1].seconds / best[2].seconds
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"  2 jobs / 1 job: {ratio:.2f}x (target >= {TARGET_RATIO}x: {verdict})")
    if 2 in best:
        rate = pages / best[2].seconds
        print(f"  --jobs 2: target >= {TARGETS[kind]:.0f} pages/s: {'met' if rate >= TARGETS[kind] else 'NOT met'}")
    largest = max(run.largest_kb for run in best.values()) / 1024
    note = "" if pages >= TARGET_MB_PAGES else f" (indicative: the target is over {TARGET_MB_PAGES} pages)"
    print(f"  largest process {largest:.0f} MB: target < {TARGET_MB} MB: {'met' if largest < TARGET_MB else 'NOT met'}"
          + note)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--k10", action="store_true", help="blank-date K10 pages instead of filled alliance-check")
    parser.add_argument("--jobs-list", default="1,2", help="comma-separated --jobs values to time (default 1,2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per --jobs value; the best is kept")
    parser.add_argument("--dpi", choices=["mixed", "200", "300"],
                        help="scan resolution: mixed (half 300, half 200; the default for filled pages) or one")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "formkit-benchmarks" / "throughput",
                        help="where generated pages are kept and reused")
    args = parser.parse_args()
    jobs_list = [int(j) for j in args.jobs_list.split(",") if j.strip()]
    kind = "k10" if args.k10 else "filled"
    dpi = args.dpi or ("300" if args.k10 else "mixed")
    print(f"# formkit scan throughput, {datetime.now().isoformat(timespec='seconds')}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()}, "
          f"load average {load}")
    if kind == "k10":
        print(f"pages: K10, blank date, random answers as scan_accuracy's speed test; {dpi} dpi greyscale JPEG q85")
    else:
        with_comment = sum(_has_comment(i) for i in range(args.pages))
        print(f"pages: alliance-check, a mark on all 12 rows, a written date on every page, a written comment on "
              f"{with_comment} of {args.pages} ({100 * with_comment / max(1, args.pages):.0f} %); "
              f"{'200 and 300' if dpi == 'mixed' else dpi} dpi greyscale JPEG q85")
    folder = prepare(kind, dpi, args.pages, args.work)
    if not jobs_list:  # --jobs-list "": make the pages and stop
        return
    measure(folder, args.pages, jobs_list, max(1, args.repeat), kind)


if __name__ == "__main__":
    main()
