"""The ``formkit`` command: a thin layer over the library, a module per group of commands. Errors exit
with their own code (``formkit.errors.ExitCode``). Its ``pipeline`` module is the only one that imports
``scanner`` (``formkit`` never does): through it the commands wire the image pipeline to the store, review and
export."""

import os

# One compute thread per process: batches run one worker process per core, and threads inside each
# (OpenBLAS, OpenMP in a Tesseract build) would compete for the same cores. Set before numpy or OpenCV
# load, so forked workers inherit it; a user's own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_THREAD_LIMIT"):
    os.environ.setdefault(_variable, "1")

# each module registers its commands
from . import exporting, fixing, printing, redcap, reporting, reviewing, scanning, status, watching  # noqa: E402, F401
from .base import main  # noqa: E402

__all__ = ["main"]
