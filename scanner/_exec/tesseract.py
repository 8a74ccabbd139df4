"""The ``tesseract`` program, run once per image through pytesseract: the fallback when the library
(``libtesseract``) cannot be used. Each call starts a process and loads the language model (0.1-0.2 s).

The child process inherits this one's environment: ``OMP_THREAD_LIMIT=1`` there keeps a Tesseract built
with OpenMP (Debian's is) to one thread.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import numpy as np


class TesseractMissing(RuntimeError):
    """The tesseract program (or pytesseract) is not installed."""


class TesseractFailed(RuntimeError):
    """Tesseract ran and failed, e.g. for lack of the language's data."""


def image_to_tsv(image: np.ndarray, language: str, psm: int, whitelist: str | None) -> str:
    """Tesseract's TSV for ``image`` (uint8, grey or RGB), as ``tesseract IMAGE - -l LANG --psm PSM tsv``
    prints it, header line included."""
    try:
        import pytesseract
    except ImportError as exc:
        raise TesseractMissing("pytesseract is not installed") from exc
    config = f"--psm {psm}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        return pytesseract.image_to_data(image, lang=language, config=config)
    except pytesseract.TesseractNotFoundError as exc:
        raise TesseractMissing("tesseract is not installed (apt-get install tesseract-ocr)") from exc
    except pytesseract.TesseractError as exc:
        raise TesseractFailed(exc.message.strip()[:200]) from exc


@cache
def version() -> str | None:
    """The program's version ("5.3.0"), or ``None`` when it is not installed."""
    out = _run("--version")
    found = re.search(r"tesseract v?(\d+\.\d+[.\w-]*)", out or "")
    return found.group(1) if found else None


@cache
def tessdata_dir() -> Path | None:
    """The folder the program reads its language data from, as ``tesseract --list-langs`` names it, or
    ``None`` when the program is not installed."""
    found = re.search(r'"(.+?)"', _run("--list-langs") or "")
    return Path(found.group(1)) if found else None


def _run(*args: str) -> str | None:
    try:
        import pytesseract

        command = pytesseract.pytesseract.tesseract_cmd
    except ImportError:
        command = "tesseract"
    try:
        done = subprocess.run([command, *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout + done.stderr  # older versions print the version to stderr
