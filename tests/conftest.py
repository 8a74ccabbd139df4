from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest


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
