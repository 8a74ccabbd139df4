"""Printing runs: N copies (or one per roster row) of a form, each with its own serial, to one PDF,
at the form's own page size or imposed N-up on A4/Letter, with a manifest of what was printed."""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from .atomic import atomic_outputs
from .csvinput import check_code, dict_reader
from .errors import InputError
from .layout.model import Layout
from .layout.text import REGULAR, register_fonts
from .qrpayload import PagePayload
from .render.impose import crop_marks, plan_sheet
from .render.pdf import PT_PER_MM, PagePainter, code_line
from .render.qr import qr_matrices
from .serial import format_serial, new_serial

MANIFEST_COLUMNS = ["serial", "pdf_page", "form_page", "form", "version", "variant", "code", "slot"]


@dataclass(frozen=True)
class Copy:
    serial: str
    code: str | None = None


def read_roster(path: Path, most: int | None = None) -> list[str | None]:
    """One entry per data row: the row's pseudonymous ``code`` (or None). Other columns (a name, say)
    are ignored and never printed or stored. Columns may be separated by commas, semicolons or tabs; a
    stray quote is refused (``csvinput.CsvRows``), never allowed to drop rows. A roster of more than ``most``
    rows is refused."""
    reader = dict_reader(path, "roster")
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    if not columns:
        raise InputError(f"{path}: the roster is empty; it needs a header row")
    codes: list[str | None] = []
    for row in reader:
        if most is not None and len(codes) == most:  # read no further than that: it may be millions of rows
            raise InputError(f"{path}: more than {most:,} rows; print at most {most:,} copies in one run: split the "
                             "roster")
        code = (row.get(columns["code"]) or "").strip() if "code" in columns else ""
        codes.append(check_code(code, f"{path}:{reader.line_num}", printed=True) if code else None)
    if not codes:
        raise InputError(f"{path}: the roster has a header but no rows")
    return codes


def make_copies(count: int | None, roster: list[str | None] | None, seed: int | None = None) -> list[Copy]:
    """Unique random serials, one per copy; ``seed`` makes them reproducible (samples and tests only)."""
    codes = roster if roster is not None else [None] * (count or 1)
    rng = random.Random(seed) if seed is not None else None
    serials: set[str] = set()
    copies = []
    for code in codes:
        serial = new_serial(rng)
        while serial in serials:
            serial = new_serial(rng)
        serials.add(serial)
        copies.append(Copy(serial, code))
    return copies


def generate(layout: Layout, copies: list[Copy], out: Path, sheet: str | None = None,
             manifest: Path | None = None, source: str = "",
             worker: tuple[Layout, str] | None = None,
             inputs: Mapping[Path, str] | None = None,
             progress: Callable[[int], None] | None = None,
             writing: Callable[[], None] | None = None) -> list[dict[str, object]]:
    """Write the PDF (and a new manifest) atomically; returns the manifest rows. The rows hold each serial as
    the QR and the store do (``K7M3QX9C``); the manifest file prints it as on the form (``K7M3-QX9C``).

    With ``worker`` (the layout of the worker's version of the form, and its template's source), a run of
    pairs: every copy of the client's form, then the worker's form for each copy with the SAME serial (and
    code), starting on a new PDF page or sheet. The serial is the pair id: the two halves carry one code
    under their QR, and the store keys pages by form and serial, so they never clash (see ``pairs``).

    ``inputs`` (path -> what it is: "roster", "text pack") are the other files the run was made from; no
    output may be one of them, nor one of the templates (``source``, the worker's). ``progress`` is called
    with 1 as each form page is drawn (``pages_to_draw`` of them); ``writing`` once they all are, before the
    PDF is put together and written (an eighth of the time, over a minute for 100,000 copies)."""
    targets = [out] + ([manifest] if manifest else [])
    register_fonts()  # reads font files: outside the block, whose OSErrors are errors writing the outputs
    _check_codes_fit([layout, *([worker[0]] if worker else [])], {c.code for c in copies if c.code})
    # the manifest is the one list of the serials of forms printed, which links returned forms to people
    kept = {manifest: ", and may list forms printed before: give the manifest a new name (or delete this one first, "
                      "if none of its forms was given out)"} if manifest else {}
    with atomic_outputs(*targets, inputs={**_templates(source, worker), **(inputs or {})},
                        never_replaced=kept) as temps:
        # The initial font would otherwise be Helvetica, a font the PDF does not embed.
        canvas = Canvas(str(temps[0]), invariant=1, pageCompression=1, initialFontName=REGULAR)
        title = f"{layout.title} ({layout.form} v{layout.version})"
        if worker is not None:
            title += f" paired with {worker[0].form} v{worker[0].version}"
        canvas.setTitle(title)
        canvas.setCreator("formkit")
        painter = PagePainter(canvas, 0.0)
        rows: list[dict[str, object]] = []
        for run, (run_layout, run_source) in enumerate([(layout, source), *([worker] if worker else [])]):
            after = canvas.getPageNumber() - 1  # pages made so far, a blank back among them
            prefix = f"run{run}-" if run else ""  # the static drawing of each form page is reused by this name
            if sheet is None:
                rows += _one_page_each(painter, run_layout, copies, after, prefix, progress)
            else:
                rows += _imposed(painter, run_layout, copies, sheet, run_source, after, prefix, progress)
        if writing:
            writing()
        # Not canvas.save(): reportlab leaves its file open when a write fails (a full disk), to be flushed
        # again, and fail again, when collected. The bytes are the same; the file name is not in them.
        data = canvas.getpdfdata()
        with temps[0].open("wb") as handle:
            handle.write(data)
        if manifest:
            with temps[1].open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, MANIFEST_COLUMNS)
                writer.writeheader()
                # the serial as printed on the form (K7M3-QX9C), so a search for the printed code finds it
                writer.writerows({**row, "serial": format_serial(str(row["serial"]))} for row in rows)
    return rows


def _check_codes_fit(layouts: list[Layout], codes: set[str]) -> None:
    """Refuse, before anything is drawn, a roster code too wide to print beside the QR code on any page (as
    small as ``code_line`` prints one); none of 16 characters is on a shipped page."""
    for layout in layouts:
        for page in layout.pages:
            for code in sorted(codes):
                try:
                    code_line(page, code)
                except ValueError:
                    raise InputError(f"code {code!r} is too wide to print beside the QR code on {layout.form} page "
                                     f"{page.number} at this size: give it a shorter code") from None


def _templates(source: str, worker: tuple[Layout, str] | None) -> dict[Path, str]:
    """The template files a run is printed from, by what they are (a shipped one's too: never to be replaced)."""
    files = {Path(source): "template"} if source else {}
    if worker is not None and worker[1]:
        files[Path(worker[1])] = "worker's template"
    return files


def _payload(layout: Layout, page_number: int, copy: Copy) -> PagePayload:
    page = layout.page(page_number)
    return PagePayload(layout.form, layout.version, page_number, layout.variant, copy.serial, page.fingerprint)


def _row(layout: Layout, copy: Copy, pdf_page: int, form_page: int, slot: int | str) -> dict[str, object]:
    return {"serial": copy.serial, "pdf_page": pdf_page, "form_page": form_page, "form": layout.form,
            "version": layout.version, "variant": layout.variant, "code": copy.code or "", "slot": slot}


def pages_to_draw(layout: Layout, copies: list[Copy], worker: tuple[Layout, str] | None = None) -> int:
    """How many form pages ``generate`` draws: every page of every copy, the worker's form's too."""
    return len(copies) * (len(layout.pages) + (len(worker[0].pages) if worker else 0))


def _one_page_each(painter: PagePainter, layout: Layout, copies: list[Copy], after: int = 0,
                   prefix: str = "", progress: Callable[[int], None] | None = None) -> list[dict[str, object]]:
    """Each form page on its own PDF page, numbered from ``after + 1``; ``prefix`` names the layout's static
    drawings apart from another layout's in the same PDF."""
    canvas = painter.canvas
    placements = [(copy, page.number) for copy in copies for page in layout.pages]
    rows = []
    for pdf_page, ((copy, number), matrix) in enumerate(
            zip(placements, _matrices(layout, placements), strict=True), start=after + 1):
        page = layout.page(number)
        canvas.setPageSize((page.width_mm * PT_PER_MM, page.height_mm * PT_PER_MM))
        painter.sheet_h_mm = page.height_mm
        painter.draw_static(page, 0, 0, f"{prefix}p{number}")
        painter.draw_copy(page, _payload(layout, number, copy), copy.code, 0, 0, matrix)
        canvas.showPage()
        rows.append(_row(layout, copy, pdf_page, number, ""))
        if progress:
            progress(1)
    return rows


def _matrices(layout: Layout, placements: list[tuple[Copy, int]]):  # noqa: ANN202
    jobs = [(_payload(layout, number, copy).encode(), layout.page(number).qr.modules) for copy, number in placements]
    return qr_matrices(jobs)


def _imposed(painter: PagePainter, layout: Layout, copies: list[Copy], sheet_name: str,
             source: str, after: int = 0, prefix: str = "", progress: Callable[[int], None] | None = None
             ) -> list[dict[str, object]]:
    """Leaves (front page + back page) fill the slots; each sheet's back mirrors its front. Sheets are
    numbered from ``after + 1``."""
    first = layout.pages[0]
    sheet = plan_sheet(sheet_name, first.width_mm, first.height_mm, source)
    duplex = len(layout.pages) > 1
    leaves = [(copy, leaf) for copy in copies for leaf in range(math.ceil(len(layout.pages) / 2) if duplex else 1)]
    sides = ("front", "back") if duplex else ("front",)
    # (pdf page, slot, copy, form page) in drawing order
    placements = []
    for sheet_index, start in enumerate(range(0, len(leaves), len(sheet.slots))):
        for side_index, side in enumerate(sides):
            for slot, (copy, leaf) in enumerate(leaves[start:start + len(sheet.slots)]):
                number = 2 * leaf + 1 + (side == "back") if duplex else 1
                if number <= len(layout.pages):
                    placements.append((after + sheet_index * len(sides) + side_index + 1, slot, copy, number))
    canvas = painter.canvas
    painter.sheet_h_mm = sheet.height_mm
    matrices = _matrices(layout, [(copy, number) for _, _, copy, number in placements])
    rows: list[dict[str, object]] = []
    current = 0
    size_pt = (sheet.width_mm * PT_PER_MM, sheet.height_mm * PT_PER_MM)
    for (pdf_page, slot, copy, number), matrix in zip(placements, matrices, strict=True):
        if pdf_page != current:
            if current:
                canvas.showPage()
            # a side with nothing on it (the back of a form's last, odd page) is a blank page all the same: left
            # out, every later page came one page early (a front printed on a back; the manifest pages off)
            while canvas.getPageNumber() < pdf_page:
                canvas.setPageSize(size_pt)
                canvas.showPage()
            canvas.setPageSize(size_pt)
            current = pdf_page
        x, y = sheet.slots[slot] if number % 2 == 1 or not duplex else sheet.back_slot(slot)
        page = layout.page(number)
        _draw_crop_marks(canvas, sheet.height_mm, x, y, page.width_mm, page.height_mm)
        painter.draw_static(page, x, y, f"{prefix}p{number}")
        painter.draw_copy(page, _payload(layout, number, copy), copy.code, x, y, matrix)
        rows.append(_row(layout, copy, pdf_page, number, slot + 1))
        if progress:
            progress(1)
    canvas.showPage()
    last = after + math.ceil(len(leaves) / len(sheet.slots)) * len(sides)  # the last sheet's back too
    while canvas.getPageNumber() <= last:
        canvas.setPageSize(size_pt)
        canvas.showPage()
    return rows


def _draw_crop_marks(canvas: Canvas, sheet_h_mm: float, x: float, y: float, w: float, h: float) -> None:
    canvas.setLineWidth(0.25 * PT_PER_MM)
    canvas.setStrokeGray(0)
    for x1, y1, x2, y2 in crop_marks(x, y, w, h):
        canvas.line(x1 * PT_PER_MM, (sheet_h_mm - y1) * PT_PER_MM, x2 * PT_PER_MM, (sheet_h_mm - y2) * PT_PER_MM)
