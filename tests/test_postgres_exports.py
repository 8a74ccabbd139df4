"""Every command on a PostgreSQL store gives what it gives on an SQLite one: the same pages scanned into
each (one read twice is a conflict), then status, export (every CSV byte for byte), void and its undo,
watch and the reports. The pages are read once; the PostgreSQL scan is given the same readings."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.layout.model import ChoiceField
from formkit.template import resolve_template
from formkit_cli import main
from tests.conftest import remember_readings
from tests.synthetic import degrade_scan, draw_mark, render_pdf

DPI = 200


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> tuple[Path, Path]:
    """Two K10 forms, the first also scanned a second time (a conflict), and a codes file for reports."""
    tmp = tmp_path_factory.mktemp("pg-exports")
    layout = build_layout(resolve_template("k10"))
    rows = generate(layout, make_copies(2, None, 77), tmp / "k10.pdf")
    folder = tmp / "inbox"
    folder.mkdir()
    rng = random.Random(7)
    for n, image in enumerate(render_pdf(tmp / "k10.pdf", DPI)):
        for field in (f for f in layout.pages[0].fields if isinstance(f, ChoiceField)):
            draw_mark(image, DPI, rng.choice(field.options).box, rng.choice(["tick", "cross", "light"]), rng)
        cv2.imwrite(str(folder / f"form-{n + 1}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if n == 0:
            again = degrade_scan(image, DPI, rng, out_dpi=DPI)
            cv2.imwrite(str(folder / "form-1-again.jpg"), cv2.cvtColor(again, cv2.COLOR_RGB2BGR))
    codes = tmp / "codes.csv"
    with codes.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["serial", "code"])
        writer.writerows([[row["serial"], f"P{n + 1}"] for n, row in enumerate(rows)])
    return folder, codes


def formkit(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def shown(output: str, db: object) -> str:
    """A command's output without the lines that name the store."""
    return "\n".join(line for line in output.splitlines() if str(db) not in line)


def report_text(pdf: Path, db: object) -> str:
    """The words of a report's pages, the store's name (which the report gives) left out: its length moves
    line breaks, so the words are compared, not the lines."""
    import pypdfium2 as pdfium

    from formkit.database import DatabaseURL, is_database_url

    name = DatabaseURL(str(db)).name if is_database_url(str(db)) else Path(str(db)).name
    document = pdfium.PdfDocument(str(pdf))
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    return " ".join(text.replace(name, "<store>").split())


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_every_command_gives_the_same_on_postgresql_as_on_sqlite(inbox, postgres, tmp_path, monkeypatch):
    folder, codes = inbox
    stores = {"sqlite": tmp_path / "forms.sqlite", "postgresql": postgres.database()}
    seen: dict[str, dict[str, object]] = {}
    for name, db in stores.items():
        remember_readings(monkeypatch, reuse=name == "postgresql")
        out = tmp_path / name
        got: dict[str, object] = {"scan": shown(formkit("scan", folder, "--db", db, "--jobs", "1"), db)}
        got["status"] = shown(formkit("status", "--db", db, "--flagged"), db)
        formkit("export", "--db", db, "--out", out / "csv")
        got["csv"] = files(out / "csv")
        formkit("void", "--db", db, "--input", folder / "form-1-again.jpg", "--why", "scanned twice")
        got["voided"] = shown(formkit("status", "--db", db), db)
        formkit("export", "--db", db, "--out", out / "voided")
        got["csv voided"] = files(out / "voided")
        formkit("void", "--undo", "--db", db, "--input", folder / "form-1-again.jpg")
        got["restored"] = shown(formkit("status", "--db", db), db)
        watched = tmp_path / f"watched-{name}"
        watched.mkdir()
        shutil.copy(folder / "form-2.png", watched / "copy-of-form-2.png")
        got["watch"] = shown(formkit("watch", watched, "--db", db, "--once", "--settle", "0", "--jobs", "1"), db)
        formkit("report", "service", "--db", db, "--codes", codes, "--out", out / "service.pdf")
        got["report"] = report_text(out / "service.pdf", db)
        seen[name] = got
        monkeypatch.undo()
    assert "conflicts: 1" in str(seen["sqlite"]["scan"])
    assert "Service report" in str(seen["sqlite"]["report"]) and "<store>" in str(seen["sqlite"]["report"])
    assert seen["sqlite"]["csv"] != seen["sqlite"]["csv voided"]
    for key, value in seen["sqlite"].items():
        assert seen["postgresql"][key] == value, key
