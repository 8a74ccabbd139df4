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
