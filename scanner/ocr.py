"""Tesseract: one call per image, words with their confidences.

Tesseract runs inside this process through its library when tesserocr is installed (``_exec.libtesseract``:
the language model stays loaded, about 10 ms a text area), else as the ``tesseract`` program through
pytesseract (``_exec.tesseract``: a process and a model load per call, 0.1-0.2 s). Both give the same
words and confidences for the same Tesseract version. Callers pass whole text areas, never single words,
and only areas that hold ink.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ._exec import libtesseract, tesseract


class OcrUnavailable(RuntimeError):
    """Tesseract, or its data for the language asked for, is not installed."""


@dataclass(frozen=True)
class OcrText:
    text: str
    words: tuple[tuple[str, float], ...]  # each word and its confidence, 0..1

    @property
    def confidence(self) -> float:
        """The weakest word's confidence (0 when nothing was read): one bad word is enough to review."""
        return min((c for _, c in self.words), default=0.0)


def read_text(image: np.ndarray, language: str = "eng", single_line: bool = False,
              whitelist: str | None = None) -> OcrText:
    """Words in ``image`` (2-D uint8 grey, dark ink on white, any size; Tesseract reads best at 20-40 px
    per line of text). ``single_line`` for one line of print; ``whitelist`` limits the characters
    Tesseract may answer with. Returns the text and each word with its confidence in 0..1."""
    psm = 7 if single_line else 6  # one line of text; else one uniform block of text
    tsv = None
    with contextlib.suppress(RuntimeError):  # the library failed: the program may still read it
        tsv = libtesseract.image_to_tsv(image, language, psm, whitelist)
    if tsv is None:
        try:
            tsv = tesseract.image_to_tsv(image, language, psm, whitelist)
        except tesseract.TesseractMissing as exc:
            raise OcrUnavailable(str(exc)) from exc
        except tesseract.TesseractFailed as exc:
            raise OcrUnavailable(f"tesseract failed for language '{language}': {exc}") from exc
    return _words(tsv)


def _words(tsv: str) -> OcrText:
    """The words of Tesseract's TSV output, each with its confidence in whole percent as the TSV gives it
    (read as pytesseract does), and the text line by line."""
    rows = [row.split("\t") for row in tsv.strip("\n").split("\n")[1:]]
    words: list[tuple[str, float]] = []
    lines: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        if len(row) < 11:
            continue
        text = row[11].strip() if len(row) > 11 else ""
        if not text:
            continue
        words.append((text, max(0.0, float(int(float(row[10])))) / 100))
        lines.setdefault((row[2], row[3], row[4]), []).append(text)
    return OcrText("\n".join(" ".join(w) for w in lines.values()), tuple(words))
