"""libtesseract inside this process, through tesserocr (``pip install tesserocr``; its wheels bundle
libtesseract 5): the language model is loaded once and kept, so a text area costs about 10 ms instead of
the 0.1-0.2 s of starting the ``tesseract`` program (``tesseract.py``) and loading the model every time.

One engine (a ``PyTessBaseAPI``) per (language, page segmentation mode, character whitelist), made on first
use in the process that uses it and reused: a forked worker never uses its parent's (they are left alone,
not freed, so the parent's pages stay shared). An engine reads one image at a time.

The language data comes from ``TESSDATA_PREFIX`` when set (as for the program), else from the usual install
locations (Debian's first), else from the folder ``tesseract --list-langs`` names; nothing is downloaded.
``image_to_tsv`` answers ``None`` when the library is missing or cannot read the language (the caller then
runs the program), and gives the same TSV as the program of the same Tesseract version.

Threads: the PyPI wheels' libtesseract is built without OpenMP and reads on the calling thread. A build
with OpenMP reads ``OMP_THREAD_LIMIT`` when it loads: it is set to 1 here before the import unless the
environment already sets it (one worker process per core must not start threads of its own).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from . import tesseract

MAX_ENGINES = 6  # engines kept per process: the first takes ~65 MB with the library, each further one ~12 MB (eng)
KNOWN_TESSDATA = (
    "/usr/share/tesseract-ocr/5/tessdata",  # Debian, Ubuntu
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",  # Fedora, Arch, Alpine
    "/usr/local/share/tessdata",  # built from source, Homebrew on Intel
    "/opt/homebrew/share/tessdata",  # Homebrew on Apple silicon
)

EngineKey = tuple[str, int, str | None]  # language, page segmentation mode, whitelist


@dataclass
class _Engine:
    api: object  # tesserocr.PyTessBaseAPI
    lock: threading.Lock = field(default_factory=threading.Lock)  # one image at a time


_engines: OrderedDict[EngineKey, _Engine | None] = OrderedDict()  # None: this key cannot be read by the library
_inherited: list[OrderedDict] = []  # a parent's engines, kept but never used after a fork
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked process makes its own engines (and lock: another thread may have held the parent's)."""
    global _engines, _lock
    _inherited.append(_engines)
    _engines, _lock = OrderedDict(), threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _limit_threads() -> None:
    """One OpenMP thread for Tesseract, here and in the program run as fallback, unless the environment
    says otherwise. Read by libgomp when it loads: before tesserocr is imported."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@cache
def _tesserocr():
    """The tesserocr module, or ``None`` when it is not installed (or its libtesseract cannot load)."""
    _limit_threads()
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


def available() -> bool:
    return _tesserocr() is not None


def library_version() -> str | None:
    """libtesseract's version ("5.5.4"), or ``None`` without tesserocr."""
    module = _tesserocr()
    return module.tesseract_version().split()[1].lstrip("v") if module else None


def tessdata_for(language: str) -> Path | None:
    """The first language-data folder holding every language of ``language`` ("eng", "eng+fra"); ``None``
    when none does."""
    names = [f"{code}.traineddata" for code in language.split("+") if code]
    for folder in _tessdata_candidates():
        if names and all((folder / name).is_file() for name in names):
            return folder
    return None


def _tessdata_candidates():
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        yield Path(prefix)
        yield Path(prefix) / "tessdata"  # Tesseract 3 pointed at the parent folder
    yield from (Path(p) for p in KNOWN_TESSDATA)
    listed = tesseract.tessdata_dir()  # last: starting the program takes 0.3 s or more
    if listed:
        yield listed


def image_to_tsv(image: np.ndarray, language: str, psm: int, whitelist: str | None) -> str | None:
    """Tesseract's TSV for ``image`` (uint8, grey or RGB) as the program prints it (header line included), or
    ``None`` when the library cannot read it here (not installed, language data not found, another kind
    of image): then run the program instead. Errors of the library propagate as ``RuntimeError``."""
    _limit_threads()
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) \
            or min(image.shape[:2]) == 0:
        return None
    engine = _engine((language, psm, whitelist or None))
    if engine is None:
        return None
    pixels = np.ascontiguousarray(image)
    height, width = pixels.shape[:2]
    depth = 1 if pixels.ndim == 2 else 3
    with engine.lock:
        api = engine.api
        try:
            api.SetImageBytes(pixels.tobytes(), width, height, depth, width * depth)
            api.Recognize()
            tsv = api.GetTSVText(0)
        finally:
            api.Clear()
    return TSV_HEADER + (tsv or "")


TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


def _engine(key: EngineKey) -> _Engine | None:
    with _lock:
        if key in _engines:
            _engines.move_to_end(key)
            return _engines[key]
        engine = _engines[key] = _new_engine(*key)
        while len(_engines) > MAX_ENGINES:
            _, old = _engines.popitem(last=False)
            if old is not None:
                with old.lock:
                    old.api.End()
        return engine


def _new_engine(language: str, psm: int, whitelist: str | None) -> _Engine | None:
    module = _tesserocr()
    folder = tessdata_for(language) if module else None
    if folder is None:
        return None
    variables = {"debug_file": os.devnull}  # warnings such as "Estimating resolution as 410" go nowhere
    if whitelist:
        variables["tessedit_char_whitelist"] = whitelist
    try:
        api = module.PyTessBaseAPI(path=str(folder) + os.sep, lang=language, psm=psm, variables=variables)
    except RuntimeError:  # data for another Tesseract version, or damaged
        return None
    return _Engine(api)
