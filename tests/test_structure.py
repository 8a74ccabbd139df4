"""The rule between the packages: the core (``formkit``) never imports the image pipeline (``scanner``), at any
depth of a module; only the command layer (``formkit_cli``) wires the two (docs/design.md, "Structure of the
code")."""

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


def test_the_core_never_imports_the_image_pipeline_and_the_command_layer_does():
    found = {str(p.relative_to(FORMKIT)): lines for p in sorted(FORMKIT.rglob("*.py"))
             if (lines := _imports_scanner(p))}
    assert found == {}, found
    wiring = FORMKIT.parent / "formkit_cli" / "pipeline.py"
    assert _imports_scanner(wiring)  # the rule's test looks where imports are: it finds the command layer's


def test_reading_pages_loads_none_of_reportlabs_drawing_packages():
    """Its graphics and platypus packages cost a scan 0.15-0.19 s of start-up (measured 2026-12-02); only
    printing draws. A scan's modules, a page laid out: only the font metrics (pdfbase) may be loaded."""
    import subprocess
    import sys

    code = ("import sys; from formkit_cli import main; from scanner import batch; "
            "from formkit.catalogue import shipped_catalogue; shipped_catalogue().find_layout('k10', 1, 'N'); "
            "print(sorted(m for m in sys.modules if m.startswith(('reportlab.graphics', 'reportlab.platypus'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=FORMKIT.parent).stdout
    assert out.strip() == "[]"


SQL_CALLS = ("execute", "executemany", "executescript")


def _sql_calls(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS]


def test_all_sql_runs_in_the_store_package():
    """Scoring, export, review and the scanner reach the data only through ``formkit.store`` (and the
    PostgreSQL backend that runs the store's SQL), so every value can be traced to what the store did."""
    root = FORMKIT.parent
    found = {str(p.relative_to(root)) for package in ("formkit", "formkit_cli", "scanner")
             for p in sorted((root / package).rglob("*.py")) if _sql_calls(p)}
    allowed = {str(p.relative_to(root)) for p in (FORMKIT / "store").glob("*.py")} | {"formkit/postgres.py"}
    assert found and found <= allowed, sorted(found - allowed)


def test_every_package_is_installed_with_the_wheel():
    """pyproject.toml names the packages one by one (templates/ is installed as formkit.templates): a
    package missing there works from a checkout and fails once installed."""
    import tomllib

    root = FORMKIT.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(p.parent.relative_to(root).parts) for package in ("formkit", "formkit_cli", "scanner")
                for p in (root / package).rglob("__init__.py")}
    assert packages - listed == set()
