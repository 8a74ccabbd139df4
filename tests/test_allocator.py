"""Workers keep the large buffers a page read frees, for the next page (``scanner.allocator``)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")

FREED_BUFFER = """
import numpy as np
from scanner.allocator import keep_freed_buffers
if {keep}:
    assert keep_freed_buffers()
def resident_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024
np.ones(1000)  # NumPy's own start-up allocations first
before = resident_mb()
buffer = np.ones(24 * 1024 * 1024, np.uint8)  # a decoded 300 dpi A4 page is 9 MB, a 12 MP photo 12
del buffer
print(round(resident_mb() - before))
"""


def _kept_mb(keep: bool) -> int:
    done = subprocess.run([sys.executable, "-c", FREED_BUFFER.format(keep=keep)], capture_output=True, text=True,
                          timeout=60, check=True)
    return int(done.stdout)


def test_a_freed_page_buffer_stays_in_the_process_for_the_next_page():
    assert _kept_mb(keep=True) >= 20


def test_without_the_setting_glibc_returns_it_to_the_kernel():
    """The test above is not true of every process: glibc's default gives such a buffer back."""
    assert _kept_mb(keep=False) <= 4
