from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest


def rasterise(pdf: Path, dpi: int, out_dir: Path) -> list[np.ndarray]:
    """Grey pages of ``pdf`` at ``dpi``, as poppler renders them."""
    prefix = out_dir / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(prefix)], check=True)
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(out_dir.glob(f"{pdf.stem}-*.png"))]


@pytest.fixture
def write_template(tmp_path: Path):
    """Write YAML text to a template file and return its path."""

    def write(text: str, name: str = "form.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


MINIMAL = """\
form: test-form
version: 1
title: A test form
licence: shippable
page: {size: A5}
items:
  - kind: choice
    id: q1
    text: How are you?
    options:
      - {value: 1, label: Bad}
      - {value: 2, label: Good}
"""
