"""Pages/s of `formkit scan --cluster` on a two-worker Dask LocalCluster against `--jobs 2`, and the
per-page costs behind docs/scaling.md.

    python benchmarks/cluster.py [--pages N] [--repeat R] [--work DIR] [--save-pages N] [--costs-only]

Pages: the filled-page set of benchmarks/throughput.py (alliance-check, a mark on every row, a written date,
a comment on 3 pages in 4; 200 and 300 dpi JPEG), made by its page maker and cached in --work.

Runs, each the real command in its own process with this source tree first on PYTHONPATH, into a new
SQLite store, timed from start to exit (start-up included):
- `formkit scan FOLDER --jobs 2`;
- `formkit scan FOLDER --cluster ADDRESS` against a LocalCluster of 2 worker processes with 1 thread each,
  started once beforehand, as a cluster is long-lived: the first run meets cold workers (they import
  formkit and load the digit model), later runs warm ones; the files sent as bytes, then `--shared-paths`.
The target: the cluster's overhead at most 15 % (warm, pages/s at least 0.85 x that of `--jobs 2`).

Per-page costs, for the estimate in docs/scaling.md:
- read: one core's seconds per page (``read_job`` here, over the first pages);
- describe: hashing and counting a file's pages on the client, per page;
- save: ``add_input`` and ``save_page`` per page, into SQLite (WAL, synchronous=NORMAL) and into PostgreSQL
  (a throwaway local cluster with its default durability: fsync and synchronous_commit on; and with
  synchronous_commit off, as SQLite's synchronous=NORMAL), over TCP on loopback; the readings above saved
  again as new pages; with the statements (round trips) per page;
- bytes: a page's file, sent to a worker, and its pickled reading, sent back;
- scheduler: the Dask scheduler's time per task (1,000 tiny tasks on the LocalCluster).
"""

from __future__ import annotations

import argparse
import copy
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from throughput import _cpu_model, _page_name, prepare  # noqa: E402

TARGET_OVERHEAD = 0.15


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds used so far by the running processes ``pids``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def timed_scan(folder: Path, db: Path, options: list[str], cluster_pids: list[int]) -> tuple[float, float, str]:
    """`formkit scan FOLDER --db DB OPTIONS` in its own process: wall seconds, the CPU seconds it took (the
    command, its worker processes, and the Dask cluster's processes and scheduler), its first output line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "formkit_cli", "scan", str(folder), "--db", str(db), *options]
    before = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    cluster_before = _cpu_seconds(cluster_pids)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=db.parent)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    cpu += _cpu_seconds(cluster_pids) - cluster_before
    return seconds, cpu, done.stdout.splitlines()[0] if done.stdout else ""


def compare(batch: Path, pages: int, repeat: int, client: object, tmp: Path) -> None:
    """Time each way of scanning; the CPU seconds a page took tell the overhead even on a loaded machine."""
    address = client.scheduler.address  # type: ignore[attr-defined]
    workers = list(client.run(os.getpid).values())  # type: ignore[attr-defined]
    nannies = [int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for pid in workers]
    runs: dict[str, list[tuple[float, float]]] = {}
    plan = [("--jobs 2", ["--jobs", "2"]), ("cluster, cold workers", ["--cluster", address])] + \
        [("--jobs 2", ["--jobs", "2"]), ("cluster, files sent", ["--cluster", address]),
         ("cluster, --shared-paths", ["--cluster", address, "--shared-paths"])] * repeat
    for n, (name, options) in enumerate(plan):
        db = tmp / f"run-{n}.sqlite"
        seconds, cpu, first = timed_scan(batch, db, options, workers + nannies)
        db.unlink(missing_ok=True)
        runs.setdefault(name, []).append((seconds, cpu))
        print(f"  {name:24s} {seconds:7.2f} s {pages / seconds:6.1f} pages/s; CPU {1000 * cpu / pages:6.1f} ms a page"
              f"   {first[:60]}", flush=True)
    print(f"\nbest of each (load average now {os.getloadavg()[0]:.1f}; 'idle' = 2 cores / CPU a page):")
    best = {name: (pages / min(s for s, _ in times), min(c for _, c in times) / pages) for name, times in runs.items()}
    for name, (rate, cpu) in best.items():
        print(f"  {name:24s} {rate:6.1f} pages/s measured; CPU {1000 * cpu:6.1f} ms a page, "
              f"{2 / cpu:5.1f} pages/s idle")
    for name in ("cluster, files sent", "cluster, --shared-paths"):
        by_wall = 1 - best[name][0] / best["--jobs 2"][0]
        by_cpu = best[name][1] / best["--jobs 2"][1] - 1
        verdict = "met" if max(by_wall, by_cpu) <= TARGET_OVERHEAD else "NOT met"
        print(f"  {name}: overhead against --jobs 2: {100 * by_wall:+.1f} % in pages/s, {100 * by_cpu:+.1f} % in CPU"
              f" a page (target <= {100 * TARGET_OVERHEAD:.0f} %: {verdict})")


def read_costs(batch: Path, count: int) -> list:
    """Read the first ``count`` pages here, one core; print the costs per page; return the readings."""
    from scanner.batch import Job, read_job
    from scanner.ingest import describe

    files = [batch / _page_name(i) for i in range(count)]
    start = time.perf_counter()
    infos = [describe(f) for f in files]
    describe_s = (time.perf_counter() - start) / count
    read_job(Job(str(files[0]), infos[0].sha256, 0))  # load the models first
    start = time.process_time()
    readings = [read_job(Job(str(f), info.sha256, 0))[0] for f, info in zip(files, infos, strict=True)]
    read_s = (time.process_time() - start) / count
    size = sum(f.stat().st_size for f in files) / count
    result = sum(len(pickle.dumps(r)) for r in readings) / count
    print(f"  read (one core, CPU time):  {1000 * read_s:7.1f} ms a page")
    print(f"  describe (hash, count):     {1000 * describe_s:7.1f} ms a page")
    print(f"  file sent to a worker:      {size / 1e3:7.0f} kB a page;  reading sent back: {result / 1e3:5.0f} kB")
    return readings


def save_costs(readings: list, count: int, tmp: Path) -> None:
    """Seconds per page to add its file and save its reading, into SQLite and PostgreSQL."""
    from formkit import postgres
    from formkit.records import InputFile
    from formkit.store import Store

    stores: list[tuple[str, object]] = [("SQLite", tmp / "save.sqlite")]
    cluster = None
    try:
        from tests.pg import Cluster, binaries

        bin_dir = binaries()
        if bin_dir is not None:
            cluster = Cluster(bin_dir, settings="-c listen_addresses=127.0.0.1 -c max_connections=20").start()
            stores.append(("PostgreSQL (local, durable)", cluster.database()))
            # as SQLite's synchronous=NORMAL: a crash of the server may lose the last pages, read again next run
            stores.append(("PostgreSQL, synchronous_commit off",
                           cluster.database() + "?options=-c%20synchronous_commit%3Doff"))
    except ImportError as exc:
        print(f"  (no PostgreSQL: {exc})")
    statements = 0
    real_execute = postgres.Connection.execute

    def counting(self, sql, params=()):  # every statement is one round trip to the server
        nonlocal statements
        statements += 1
        return real_execute(self, sql, params)

    try:
        for name, location in stores:
            store = Store(location)
            postgres.Connection.execute = counting  # type: ignore[method-assign]
            statements = 0
            start = time.perf_counter()
            for i in range(count):
                result = copy.copy(readings[i % len(readings)])
                result.sha256, result.serial = f"{i:064x}", f"S{i:07d}"
                input_id, _ = store.add_input(InputFile(f"page-{i}.jpg", result.sha256, 500_000, 1))
                store.save_page(input_id, 0, result)
            seconds = (time.perf_counter() - start) / count
            postgres.Connection.execute = real_execute  # type: ignore[method-assign]
            trips = f", {statements / count:.0f} statements a page" if statements else ""
            print(f"  save into {name:28s} {1000 * seconds:6.2f} ms a page ({1 / seconds:5.0f} pages/s){trips}")
            store.close()
    finally:
        postgres.Connection.execute = real_execute  # type: ignore[method-assign]
        if cluster is not None:
            cluster.stop()


def scheduler_cost(client: object, tasks: int = 1000) -> None:
    start = time.perf_counter()
    futures = client.map(abs, range(-tasks, 0), pure=False)  # type: ignore[attr-defined]
    client.gather(futures)  # type: ignore[attr-defined]
    per_task = (time.perf_counter() - start) / tasks
    print(f"  Dask, per tiny task (2 workers): {1000 * per_task:5.2f} ms ({1 / per_task:5.0f} tasks/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="warm runs of each; the best is kept")
    parser.add_argument("--save-pages", type=int, default=300, help="pages saved to time each store")
    parser.add_argument("--costs-only", action="store_true", help="only the per-page costs, not the scans")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "formkit-benchmarks" / "throughput")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    print(f"# formkit scan --cluster against --jobs 2, {datetime.now().isoformat(timespec='seconds')}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()}, "
          f"load average {load}")
    folder = prepare("filled", "mixed", args.pages, args.work)
    with tempfile.TemporaryDirectory() as name, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        tmp = Path(name)
        batch = tmp / "pages"
        batch.mkdir()
        for i in range(args.pages):
            (batch / _page_name(i)).symlink_to(folder / _page_name(i))
        if not args.costs_only:
            print(f"\n{args.pages} filled pages; LocalCluster: 2 workers x 1 thread, started before the runs")
            compare(batch, args.pages, max(1, args.repeat), client, tmp)
        print("\nper-page costs:")
        scheduler_cost(client)
        readings = read_costs(batch, min(30, args.pages))
        save_costs(readings, args.save_pages, tmp)


if __name__ == "__main__":
    main()
