"""How many cores this process may use: what ``--jobs`` defaults to, and the most it is given.

``os.cpu_count()`` counts the host's cores. In a container held to two cores (``docker run --cpus 2``) on a
64-core server, or under ``taskset``, it still says 64: every worker past the cores a process may use reads
nothing faster and holds its own ~90 MB (32 workers on 2 cores took 2.9 GB, measured 2026-12-07).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), fewer when its control group's CPU quota gives
    it less time than that (rounded up: a quota of 1.5 cores is 2 workers). At least 1."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        allowed = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(allowed, quota) if quota else allowed)


def cgroup_cpu_quota(root: Path = CGROUP_ROOT, membership: Path = Path("/proc/self/cgroup")) -> int | None:
    """The cores' worth of CPU time this process's control group and those above it allow, rounded up: the
    tightest quota of cgroup v2's ``cpu.max`` or v1's ``cpu.cfs_quota_us``; None where none is set."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    quotas = []
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "":  # cgroup v2
            quotas += [_quota(folder / "cpu.max") for folder in _up_from(root, path)]
        elif "cpu" in controllers.split(","):  # cgroup v1
            base = root / controllers
            quotas += [_quota(folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us")
                       for folder in _up_from(base, path)]
    found = [q for q in quotas if q]
    return min(found) if found else None


def _up_from(root: Path, path: str) -> list[Path]:
    """``root`` joined with ``path`` (a control group's path), and each folder above it up to ``root``."""
    folder = root / path.strip("/")
    return [folder, *[p for p in folder.parents if p.is_relative_to(root)]]


def _quota(limit: Path, period: Path | None = None) -> int | None:
    """A quota's cores, rounded up: ``cpu.max`` holds "QUOTA PERIOD" (or "max PERIOD"), v1 two files of one
    number each (a quota of -1 is none)."""
    try:
        words = limit.read_text().split()
        if period is not None:
            words += period.read_text().split()
        quota, each = int(words[0]), int(words[1])
    except (OSError, ValueError, IndexError):  # "max", absent, unreadable
        return None
    return math.ceil(quota / each) if quota > 0 and each > 0 else None
