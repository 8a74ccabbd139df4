"""The cores formkit may use: what ``--jobs`` defaults to and is held to."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from formkit import cores
from formkit.catalogue import shipped_catalogue
from formkit.cores import cgroup_cpu_quota
from formkit_cli import main
from scanner import batch


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_counts_in_cores_rounded_up_and_the_tightest_above_wins(tmp_path):
    membership = tmp_path / "cgroup"
    membership.write_text("0::/docker/abc\n")
    _write(tmp_path / "fs" / "docker" / "abc" / "cpu.max", "150000 100000\n")  # 1.5 cores: 2 workers
    assert cgroup_cpu_quota(tmp_path / "fs", membership) == 2
    _write(tmp_path / "fs" / "docker" / "cpu.max", "100000 100000\n")  # the parent allows one
    assert cgroup_cpu_quota(tmp_path / "fs", membership) == 1


def test_no_quota_where_none_is_set(tmp_path):
    membership = tmp_path / "cgroup"
    membership.write_text("0::/user.slice\n")
    _write(tmp_path / "fs" / "user.slice" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(tmp_path / "fs", membership) is None
    assert cgroup_cpu_quota(tmp_path / "fs", tmp_path / "absent") is None


def test_a_cgroup_v1_quota_is_read_from_the_cpu_controller(tmp_path):
    membership = tmp_path / "cgroup"
    membership.write_text("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n")
    _write(tmp_path / "fs" / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "300000\n")
    _write(tmp_path / "fs" / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_period_us", "100000\n")
    _write(tmp_path / "fs" / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")  # the root: none
    _write(tmp_path / "fs" / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_quota(tmp_path / "fs", membership) == 3


def test_more_jobs_than_cores_start_one_worker_a_core_and_the_command_says_so(monkeypatch, tmp_path):
    """32 workers on 2 cores read no faster than 2 and took 2.9 GB (an adversarial pass, 2026-12-07)."""
    monkeypatch.setattr(batch, "usable_cores", lambda: 2)
    with batch.worker_pool(8, 100, shipped_catalogue()) as pool:
        assert pool is not None and len(pool._pool) == 2
    with batch.worker_pool(None, 100, shipped_catalogue()) as pool:
        assert pool is not None and len(pool._pool) == 2
    monkeypatch.setattr(cores, "usable_cores", lambda: 2)
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "none"), "--db", str(tmp_path / "s.sqlite"),
                                       "--jobs", "8"])
    assert "--jobs 8, but formkit may use 2 core(s) here: reading with 2 worker process(es)" in result.output


def test_more_jobs_than_the_one_usable_core_still_read_in_a_worker_of_their_own(monkeypatch):
    """Held to one core (a container's --cpus 1, taskset), --jobs 4 read every page in the command's own
    process: no worker's CPU limit, so a page that never ends stopped the batch (a second read, 2026-12-07).
    A pool of one worker keeps that limit; --jobs 1 still reads here."""
    monkeypatch.setattr(batch, "usable_cores", lambda: 1)
    with batch.worker_pool(4, 100, shipped_catalogue()) as pool:
        assert pool is not None and len(pool._pool) == 1
    with batch.worker_pool(1, 100, shipped_catalogue()) as pool:
        assert pool is None
