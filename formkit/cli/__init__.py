"""The ``formkit`` command: a thin layer over the library, a module per group of commands. Errors exit
with their own code (``formkit.errors.ExitCode``). This package is the only part of ``formkit`` that
imports ``scanner``: it wires the image pipeline to the store, review and export."""

from . import exporting, fixing, printing, reporting, reviewing, scanning, status, watching  # noqa: F401  (each registers its commands)
from .base import main

__all__ = ["main"]
