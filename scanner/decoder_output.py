"""What image libraries write to standard error themselves, caught so that it can be said with its file.

libpng, libjpeg and libtiff print their own errors and warnings to file descriptor 2 ("libpng error: PNG
input buffer is incomplete"), naming no file: in a batch of hundreds of pages a user could not tell which
file a line was about (found by an adversarial pass, 2026-12-07). Caught around a page's decoding, they
join that page's reason for rejection, or are said again with the file's name.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

STDERR_FD = 2


@contextlib.contextmanager
def caught_stderr(lines: list[str]) -> Iterator[None]:
    """Within the block, what is written to file descriptor 2 is kept, not shown; after it, its non-empty
    lines are added to ``lines``. Nothing is caught where descriptor 2 is closed, or where other threads run
    (a Dask worker's, the review page's): the descriptor is the whole process's, and two threads redirecting
    it in turn could leave it pointing at a closed file."""
    if threading.active_count() > 1:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            sys.stderr.flush()  # what Python wrote before the block is shown, not caught
            caught = stack.enter_context(tempfile.TemporaryFile())
            saved = os.dup(STDERR_FD)
        except (OSError, ValueError):  # no temporary file, or descriptor 2 closed: the page is still read
            caught = None
        if caught is None:
            yield
            return
        os.dup2(caught.fileno(), STDERR_FD)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, STDERR_FD)
            os.close(saved)
            caught.seek(0)
            lines += [line.strip() for line in caught.read().decode("utf-8", "replace").splitlines() if line.strip()]
