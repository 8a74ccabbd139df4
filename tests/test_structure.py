"""The rule between the two packages: nothing in ``formkit`` imports ``scanner`` but the command layer's
``formkit/cli/pipeline.py`` (docs/design.md, "Structure of the code"), at any depth of a module."""

from __future__ import annotations

import ast
from pathlib import Path

FORMKIT = Path(__file__).resolve().parent.parent / "formkit"


def _imports_scanner(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        if any(n == "scanner" or n.startswith("scanner.") for n in names):
            lines.append(node.lineno)
    return lines


def test_only_the_command_layers_pipeline_module_imports_scanner():
    found = {str(p.relative_to(FORMKIT)): lines for p in sorted(FORMKIT.rglob("*.py"))
             if (lines := _imports_scanner(p))}
    assert set(found) == {"cli/pipeline.py"}, found


def test_reading_pages_loads_none_of_reportlabs_drawing_packages():
    """Its graphics and platypus packages cost a scan 0.15-0.19 s of start-up (measured 2026-12-02); only
    printing draws. A scan's modules, a page laid out: only the font metrics (pdfbase) may be loaded."""
    import subprocess
    import sys

    code = ("import sys; from formkit.cli import main; from scanner import batch; "
            "from formkit.catalogue import shipped_catalogue; shipped_catalogue().find_layout('k10', 1, 'N'); "
            "print(sorted(m for m in sys.modules if m.startswith(('reportlab.graphics', 'reportlab.platypus'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=FORMKIT.parent).stdout
    assert out.strip() == "[]"
