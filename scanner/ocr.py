"""Tesseract, through pytesseract: one call per image, words with their confidences.

Tesseract is the only external program the scanner runs. Each call starts a process (about 0.1-0.2 s),
so callers pass whole text areas, never single words, and only areas that hold ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """Words in ``image`` (uint8 grey, dark ink on white). ``single_line`` for one line of print;
    ``whitelist`` limits the characters Tesseract may answer with."""
    import pytesseract

    config = f"--psm {7 if single_line else 6}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        data = pytesseract.image_to_data(image, lang=language, config=config, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr)") from exc
    except pytesseract.TesseractError as exc:
        raise OcrUnavailable(f"tesseract failed for language '{language}': {exc.message.strip()[:200]}") from exc
    words: list[tuple[str, float]] = []
    lines: dict[tuple[int, int, int], list[str]] = {}
    for text, conf, block, paragraph, line in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                                   data["line_num"], strict=True):
        text = text.strip()
        if not text:
            continue
        words.append((text, max(0.0, float(conf)) / 100))
        lines.setdefault((block, paragraph, line), []).append(text)
    return OcrText("\n".join(" ".join(w) for w in lines.values()), tuple(words))
