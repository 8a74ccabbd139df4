"""Workers keep the large buffers a page read frees, for the next page (``scanner.allocator``)."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from formkit.catalogue import shipped_catalogue
from scanner.batch import worker_pool

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def _mallinfo() -> _MallInfo2:
    mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    mallinfo2.restype = _MallInfo2
    return mallinfo2()


def freed_buffer_mb(_: object = None) -> tuple[int, int]:
    """For a 24 MB buffer (a decoded 300 dpi A4 page is 9 MB, a 12 MP photo 12) allocated and freed in this
    process: how many MB of it were a fresh mapping from the kernel, and by how many MB the heap shrank
    when it was freed. Counted by glibc (``mallinfo2``), whatever the process did before."""
    before = _mallinfo()
    buffer = np.ones(24 * MB, np.uint8)
    during = _mallinfo()
    del buffer
    after = _mallinfo()
    return round((during.hblkhd - before.hblkhd) / MB), round((during.arena - after.arena) / MB)


def _in_new_process(keep: bool) -> tuple[int, int]:
    script = ("from scanner.allocator import keep_freed_buffers\n"
              f"assert {keep} is False or keep_freed_buffers()\n"
              "from tests.test_allocator import freed_buffer_mb\n"
              "print(*freed_buffer_mb())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True,
                          cwd=ROOT)
    mapped, returned = done.stdout.split()
    return int(mapped), int(returned)


def test_a_freed_page_buffer_stays_in_the_process_for_the_next_page():
    assert _in_new_process(keep=True) == (0, 0)


def test_without_the_setting_glibc_maps_it_afresh():
    """The test above is not true of every process: by default glibc maps such a buffer from the kernel
    and unmaps it when freed."""
    mapped, _ = _in_new_process(keep=False)
    assert mapped >= 20


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_scan_workers_keep_a_freed_page_buffer(start_method):
    with worker_pool(2, 2, shipped_catalogue(), start_method) as pool:
        assert pool is not None
        assert pool.apply(freed_buffer_mb) == (0, 0)
