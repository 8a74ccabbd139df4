"""Export what the store holds: per form a wide CSV (a row per serial) and a long CSV (a row per value,
with its confidence, review flag and source). Reads only from the store; writes atomically."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from .atomic import atomic_outputs
from .catalogue import find_layout

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
LONG_COLUMNS = ["serial", "form", "version", "form_page", "field", "value", "confidence", "needs_review", "reason",
                "source_file", "source_page", "page_id"]


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula; numbers such as -2 stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.match(value):
        return "'" + value
    return value


def _field_order(form: str, version: int, variant: str, seen: list[str]) -> list[str]:
    """Columns in layout order when the template is known, else in the order values were stored."""
    layout = find_layout(form, version, variant)
    if isinstance(layout, str):
        return seen
    ordered = [f.id for p in layout.pages for f in p.fields]
    return ordered + [f for f in seen if f not in ordered]


def export(rows: list[Any], out_dir: Path) -> dict[str, tuple[Path, Path]]:
    """Write ``<form>.csv`` and ``<form>_long.csv`` for each form in ``rows`` (``Store.values()``)."""
    by_form: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_form[row["form"]].append(row)
    written: dict[str, tuple[Path, Path]] = {}
    outputs: list[tuple[Path, list[str], list[dict[str, Any]]]] = []
    for form, form_rows in sorted(by_form.items()):
        wide_cols, wide, long = _tables(form, form_rows)
        wide_path, long_path = out_dir / f"{form}.csv", out_dir / f"{form}_long.csv"
        outputs += [(wide_path, wide_cols, wide), (long_path, LONG_COLUMNS, long)]
        written[form] = (wide_path, long_path)
    with atomic_outputs(*(o[0] for o in outputs)) as temps:
        for temp, (_, columns, table) in zip(temps, outputs, strict=True):
            with temp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, columns)
                writer.writeheader()
                writer.writerows({k: safe_cell(v) for k, v in r.items()} for r in table)
    return written


def _tables(form: str, rows: list[Any]) -> tuple[list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    firsts = [r for r in rows if r["status"] == "read"]
    conflicts = [r for r in rows if r["status"] == "conflict"]
    other_reading: dict[tuple[str, int, str], list[Any]] = defaultdict(list)
    for r in conflicts:
        other_reading[(r["serial"], r["form_page"], r["field"])].append(r)
    seen_fields: list[str] = []
    serials: dict[str, dict[str, Any]] = {}
    long: list[dict[str, Any]] = []
    variant_of: dict[int, str] = {}
    for r in firsts:
        if r["field"] not in seen_fields:
            seen_fields.append(r["field"])
        variant_of.setdefault(r["version"], r["variant"])
        needs_review, reason = bool(r["needs_review"]), r["reason"]
        for other in other_reading.get((r["serial"], r["form_page"], r["field"]), []):
            if other["value"] != r["value"]:
                needs_review = True
                reason = "; ".join(filter(None, [reason, f"conflict: {other['source_file']} page "
                                                          f"{other['source_page']} reads '{other['value']}'"]))
        row = serials.setdefault(r["serial"], {"serial": r["serial"], "form": form, "version": r["version"],
                                               "pages": set(), "needs_review": 0, "source_files": set()})
        row["pages"].add(r["form_page"])
        row["source_files"].add(r["source_file"])
        row[r["field"]] = r["value"]
        row["needs_review"] += needs_review
        long.append({"serial": r["serial"], "form": form, "version": r["version"], "form_page": r["form_page"],
                     "field": r["field"], "value": r["value"], "confidence": r["confidence"],
                     "needs_review": int(needs_review), "reason": reason, "source_file": r["source_file"],
                     "source_page": r["source_page"], "page_id": r["page_id"]})
    version = min(variant_of) if variant_of else 0
    fields = _field_order(form, version, variant_of.get(version, "N"), seen_fields)
    for row in serials.values():
        row["pages"] = ";".join(str(p) for p in sorted(row["pages"]))
        row["source_files"] = ";".join(sorted(row["source_files"]))
    columns = ["serial", "form", "version", *fields, "pages", "needs_review", "source_files"]
    return columns, list(serials.values()), long

