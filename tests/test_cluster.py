"""``formkit scan --cluster``: the read step on a real Dask distributed cluster (a LocalCluster of two
worker processes), the pages sent as bytes or read by the workers from shared paths, each saved as it
comes back, into SQLite or PostgreSQL; an interrupted run loses nothing saved and a rerun reads the rest.
One test uses the cluster (started once, whichever xdist worker runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from formkit.errors import ExitCode
from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.store import Store
from formkit.template import resolve_template
from formkit_cli import main
from scanner.batch import scan as scan_here
from tests.shared_pages import ticked_k10

DPI = 200


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason='Dask distributed is not installed: "formkit[scale]"')
    # the scheduler serves HTTP even without a dashboard, on 8787 unless told: any free port, so that a cluster
    # already on this machine (another test's) does not make it warn
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") \
            as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """A two-page PDF of blank K10 forms and one filled K10 form as a PNG: three pages."""
    tmp = tmp_path_factory.mktemp("cluster")
    folder = tmp / "inbox"
    folder.mkdir()
    generate(build_layout(resolve_template("k10")), make_copies(2, None, 91), folder / "blank-forms.pdf")
    image = ticked_k10(tmp / "filled.pdf", 92, 3, ("tick", "cross"), DPI)
    cv2.imwrite(str(folder / "filled.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


def readings(store: Store) -> set[tuple]:
    return {(Path(v["source_file"]).name, v["source_page"], v["serial"], v["field"], v["value"], v["needs_review"])
            for v in store.values()}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_pages_read_on_the_cluster_are_saved_as_they_come_and_a_rerun_finishes_an_interrupted_scan(
        dask_client, inbox, new_store, tmp_path):
    from scanner.cluster import scan

    store = Store(new_store)
    saved = []

    def stop_after_two(n: int) -> None:
        saved.append(n)
        if len(saved) == 2:
            raise KeyboardInterrupt  # the client killed: what was saved stays

    with pytest.raises(KeyboardInterrupt):
        scan([inbox], store, dask_client, progress=stop_after_two)
    assert len(store.pages()) == 2
    summary = scan([inbox], store, dask_client)
    assert summary.skipped_pages == 2 and sum(summary.pages.values()) == 1
    assert len(store.pages()) == 3 and {r["status"] for r in store.pages()} == {"read"}
    here = Store(tmp_path / "here.sqlite")
    scan_here([inbox], here, jobs=1)
    assert readings(store) == readings(here)
    assert sum(1 for r in store.audit_rows() if r["action"] == "read-page") == 3
    # through the command, the workers reading the files from the paths they share with it
    address = dask_client.scheduler.address
    db = tmp_path / "s.sqlite"
    result = CliRunner().invoke(main, ["scan", str(inbox / "blank-forms.pdf"), "--db", str(db), "--cluster", address,
                                       "--shared-paths"])
    assert result.exit_code == 0, result.output
    assert "Pages read: 2," in result.output and Store(db).pages()[0]["status"] == "read"


def test_cluster_options_are_checked_and_a_missing_dask_says_what_to_install(tmp_path, monkeypatch):
    import scanner.cluster

    monkeypatch.setattr(scanner.cluster, "CONNECT_TIMEOUT", "0.5s")
    db = str(tmp_path / "s.sqlite")
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", db, "--shared-paths"])
    assert result.exit_code == ExitCode.USAGE and "--shared-paths goes with --cluster" in result.output
    empty = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", db, "--cluster", ""])  # --cluster "$UNSET"
    assert empty.exit_code == ExitCode.USAGE and "--cluster needs a Dask scheduler's address" in empty.output
    unreachable = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", db, "--cluster", "tcp://127.0.0.1:1"])
    assert unreachable.exit_code == ExitCode.INPUT and "cannot reach the Dask scheduler" in unreachable.output
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if formkit[scale] were not installed
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--db", db, "--cluster", "tcp://127.0.0.1:8786"])
    assert result.exit_code == ExitCode.INPUT and 'pip install "formkit[scale]"' in result.output
    assert not Path(db).exists()  # refused before the store was made


def test_a_worker_lost_while_reading_loses_no_page(dask_client, inbox, tmp_path):
    """A worker's process killed while pages are on the cluster: Dask runs its tasks again on a worker
    left, and every page is saved once, read."""
    from scanner.cluster import scan

    store = Store(tmp_path / "lost.sqlite")
    killed = []

    def kill_a_worker_after_the_first_page(n: int) -> None:
        if not killed:
            busy = [address for address, tasks in dask_client.processing().items() if tasks]
            killed.append(busy[0] if busy else next(iter(dask_client.nthreads())))
            dask_client.restart_workers(killed, timeout=60)  # the nanny kills the process and starts a new one

    summary = scan([inbox], store, dask_client, progress=kill_a_worker_after_the_first_page)
    assert killed and sum(summary.pages.values()) == 3
    assert len(store.pages()) == 3 and {r["status"] for r in store.pages()} == {"read"}
    assert sum(1 for r in store.audit_rows() if r["action"] == "read-page") == 3
