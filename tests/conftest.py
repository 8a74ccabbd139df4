from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

# Modules whose tests take long, mostly waiting on the commands they run: first among the tests that are not
# in an xdist group, so that a run on several workers ends with short tests (it ended with these, one worker
# finishing them while the other had nothing left to do).
RUN_FIRST = ("test_watch.py",)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker: the modules of ``RUN_FIRST`` first (each module's tests kept in their order),
    and with ``--dist loadgroup``, each test of an ``xdist_group`` carrying its group in its id, as pytest-xdist
    means it to, so that the group's tests run on one worker, which builds the module's shared pages once.

    pytest-xdist 3.8 writes the group to ``item._nodeid``, which pytest 9.2 no longer reads (a test's id is the
    structured ``item._id``): every group was silently split over the workers, and each worker built the
    group's module fixtures again (pytest-dev/pytest-xdist#1386). Nothing is done where pytest-xdist's own
    suffix took (the scheduler reads the group after the last '@')."""
    if not hasattr(config, "workerinput"):
        return
    items.sort(key=lambda item: item.path.name not in RUN_FIRST)  # a stable sort: every module stays whole
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        node_id = getattr(item, "_id", None)
        if not groups or item.nodeid.rfind("@") > item.nodeid.rfind("]") or node_id is None:
            continue
        # the id's path and names stay as they are; only its text, which the scheduler splits, gains the group
        try:
            object.__setattr__(node_id, "_str_cache", f"{item.nodeid}@{'_'.join(groups)}")
        except (AttributeError, TypeError):  # a pytest that keeps ids otherwise: groups split, tests still run
            return


def rasterise(pdf: Path, dpi: int, out_dir: Path) -> list[np.ndarray]:
    """Grey pages of ``pdf`` at ``dpi``, as poppler renders them."""
    prefix = out_dir / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(prefix)], check=True)
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(out_dir.glob(f"{pdf.stem}-*.png"))]


@pytest.fixture
def write_template(tmp_path: Path):
    """Write YAML text to a template file and return its path."""

    def write(text: str, name: str = "form.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


MINIMAL = """\
form: test-form
version: 1
title: A test form
licence: shippable
page: {size: A5}
items:
  - kind: choice
    id: q1
    text: How are you?
    options:
      - {value: 1, label: Bad}
      - {value: 2, label: Good}
"""


# --- Stores on both backends: SQLite, and PostgreSQL in a throwaway cluster (tests/pg.py) -------------------


@pytest.fixture(scope="session")
def postgres(tmp_path_factory, request):
    """A throwaway PostgreSQL cluster, one for all the run's xdist workers, stopped by the last one done."""
    from tests.pg import shared_cluster

    base = tmp_path_factory.getbasetemp()
    under_xdist = hasattr(request.config, "workerinput")  # then base is this worker's, inside the run's
    with shared_cluster(base.parent if under_xdist else base) as running:
        yield running


@pytest.fixture
def backend(request) -> str:
    """The store's backend: 'sqlite', unless a test parametrizes it (indirect) with 'postgresql'."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def new_store(backend, tmp_path, request) -> Path | str:
    """Where a test's new store goes: a new SQLite file, or a new, empty PostgreSQL database's URL."""
    if backend == "sqlite":
        return tmp_path / "store.sqlite"
    return request.getfixturevalue("postgres").database()


both_backends = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
_read_before: dict[tuple[str, int], list] = {}  # (content hash, page): what a batch read of it in this process


def remember_readings(monkeypatch, reuse: bool) -> None:
    """Keep what a batch (``scanner.batch``, one job) reads of each page, and with ``reuse`` give a page read
    before the same reading again: a test of the store on its second backend need not read the page again."""
    import scanner.batch as batch

    real = batch.read_job

    def read_job(job, catalogue=None):
        key = (job[1], job[2])
        if not (reuse and key in _read_before):
            _read_before[key] = real(job, catalogue)
        results = copy.deepcopy(_read_before[key])
        for result in results:
            result.source_file = job[0]
        return results

    monkeypatch.setattr(batch, "read_job", read_job)
