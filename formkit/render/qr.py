"""QR module matrices from reportlab's encoder (no extra dependency; why, with its cost, in docs/design.md)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from reportlab.graphics.barcode import qrencoder

from ..cores import usable_cores

QR_LEVEL = qrencoder.QRErrorCorrectLevel.M  # what formkit.layout.engine.qr_modules sizes codes for


def qr_matrix(payload: str, modules: int) -> list[list[bool]]:
    """The dark modules of a level-M alphanumeric QR code of exactly ``modules`` per side."""
    code = qrencoder.QRCode((modules - 17) // 4, QR_LEVEL)
    code.addData(qrencoder.QRAlphaNum(payload))
    code.make()
    return [[bool(m) for m in row] for row in code.modules]


def _matrix_job(job: tuple[str, int]) -> list[list[bool]]:
    return qr_matrix(*job)


def _leave_stopping_to_the_command() -> None:
    """In a worker: Ctrl+C and SIGTERM reach every process of the group (a terminal, 'timeout', 'kill -TERM -PGID'),
    and the command stops its workers itself. A worker ended by SIGTERM broke the pool while the command was
    cancelling what it had left: Python's pool printed a traceback (InvalidStateError) under the command's own
    'stopped (terminated)'."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def qr_matrices(jobs: list[tuple[str, int]], workers: int | None = None) -> Iterator[list[list[bool]]]:
    """``qr_matrix`` for each (payload, modules) job, in order. Choosing the best mask costs ~4 ms a
    code in pure Python, so long runs spread it over every core the process may use while the caller draws."""
    workers = workers or usable_cores()
    if workers < 2 or len(jobs) < 200:
        yield from map(_matrix_job, jobs)
        return
    with ProcessPoolExecutor(workers, initializer=_leave_stopping_to_the_command) as pool:
        yield from pool.map(_matrix_job, jobs, chunksize=32)
