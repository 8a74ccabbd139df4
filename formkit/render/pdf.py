"""Draw one laid-out page onto a reportlab canvas, at an offset on the sheet.

Everything that is the same on every copy (text, boxes, markers) is drawn once into a PDF form
XObject and reused; only the QR code, the serial and the optional roster code are drawn per copy.
That keeps a run of 1,000 cards small and fast.
"""

from __future__ import annotations

from dataclasses import replace

from reportlab.pdfgen.canvas import Canvas

from ..layout.model import Page, TextRun
from ..layout.text import font_name, register_fonts, width_mm
from ..markers import CELLS, marker_cells
from ..qrpayload import PagePayload
from ..serial import format_serial
from .qr import qr_matrix

PT_PER_MM = 72.0 / 25.4
GREY_TEXT = 0.35
GREY_LINE = 0.55


class PagePainter:
    """Draws pages whose top-left corner sits at (``x_mm``, ``y_mm``) of a sheet ``sheet_h_mm`` tall."""

    def __init__(self, canvas: Canvas, sheet_h_mm: float) -> None:
        register_fonts()
        self.canvas = canvas
        self.sheet_h_mm = sheet_h_mm
        self._forms: set[str] = set()

    def _pt(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return x_mm * PT_PER_MM, (self.sheet_h_mm - y_mm) * PT_PER_MM

    def _rect(self, path, x_mm: float, y_mm: float, w_mm: float, h_mm: float) -> None:  # noqa: ANN001
        x, y = self._pt(x_mm, y_mm + h_mm)
        path.rect(x, y, w_mm * PT_PER_MM, h_mm * PT_PER_MM)

    def draw_static(self, page: Page, x_mm: float, y_mm: float, key: str) -> None:
        """The parts common to every copy of ``page``; drawn once per PDF, then reused by ``key``."""
        c = self.canvas
        if key not in self._forms:
            sheet_h = self.sheet_h_mm
            self.sheet_h_mm = page.height_mm  # the form XObject has the page's own coordinates
            c.beginForm(key, lowerx=0, lowery=0, upperx=page.width_mm * PT_PER_MM,
                        uppery=page.height_mm * PT_PER_MM)
            self._draw_static_shapes(page)
            c.endForm()
            self.sheet_h_mm = sheet_h
            self._forms.add(key)
        c.saveState()
        c.translate(x_mm * PT_PER_MM, (self.sheet_h_mm - y_mm - page.height_mm) * PT_PER_MM)
        c.doForm(key)
        c.restoreState()

    def _draw_static_shapes(self, page: Page) -> None:
        c = self.canvas
        c.setLineCap(2)  # square caps close box corners
        for stroke in page.strokes:
            c.setStrokeGray(GREY_LINE if stroke.grey else 0)
            c.setLineWidth(stroke.width_mm * PT_PER_MM)
            c.line(*self._pt(stroke.x1_mm, stroke.y1_mm), *self._pt(stroke.x2_mm, stroke.y2_mm))
        for run in page.texts:
            self._text(run, run.text, 0, 0)
        path = c.beginPath()
        for marker in page.markers:
            cell = marker.size_mm / CELLS
            for row, bits in enumerate(marker_cells(marker.id)):
                self._runs(path, bits, marker.x_mm, marker.y_mm + row * cell, cell)
        c.setFillGray(0)
        c.drawPath(path, stroke=0, fill=1)

    def _runs(self, path, bits, x_mm: float, y_mm: float, cell_mm: float) -> None:  # noqa: ANN001
        """Add each horizontal run of dark cells in ``bits`` as one rectangle."""
        col = 0
        n = len(bits)
        while col < n:
            if not bits[col]:
                col += 1
                continue
            start = col
            while col < n and bits[col]:
                col += 1
            self._rect(path, x_mm + start * cell_mm, y_mm, (col - start) * cell_mm, cell_mm)

    def _text(self, run: TextRun, text: str, dx_mm: float, dy_mm: float) -> None:
        c = self.canvas
        c.setFont(font_name(run.bold), run.size_pt)
        c.setFillGray(GREY_TEXT if run.grey else 0)
        x, y = self._pt(run.x_mm + dx_mm, run.y_mm + dy_mm)
        draw = {"left": c.drawString, "center": c.drawCentredString, "right": c.drawRightString}[run.align]
        draw(x, y, text)

    def draw_copy(self, page: Page, payload: PagePayload, code: str | None, x_mm: float, y_mm: float,
                  matrix: list[list[bool]] | None = None) -> None:
        """What differs per printed copy: the QR code, the serial under it and the roster code.
        ``matrix`` is the QR's modules when already encoded (see ``qr_matrices``)."""
        c = self.canvas
        qr = page.qr
        module = qr.size_mm / qr.modules
        path = c.beginPath()
        for row, bits in enumerate(matrix or qr_matrix(payload.encode(), qr.modules)):
            self._runs(path, bits, x_mm + qr.x_mm, y_mm + qr.y_mm + row * module, module)
        c.setFillGray(0)
        c.drawPath(path, stroke=0, fill=1)
        self._text(page.serial_text, format_serial(payload.serial), x_mm, y_mm)
        if code:
            self._text(*code_line(page, code), x_mm, y_mm)


# The roster code is for staff: it may be printed smaller than the page's small print, down to this, where a code
# of 16 characters would otherwise run into the QR code's quiet zone (on a card, "Code: CLIENT-2024-0042" ran
# 9 mm into the QR, which then did not read on half the pages)
MIN_CODE_PT = 4.5


def code_line(page: Page, code: str) -> tuple[TextRun, str]:
    """Where and how "Code: ``code``" is printed on ``page``: at the layout's place and size, or as large as it
    ends before the QR code's quiet zone (without "Code: " where that gains a size), down to ``MIN_CODE_PT``. A
    code that fits in none of these raises ``ValueError``: no shipped page is that narrow for 16 characters."""
    run = page.code_text
    room_mm = page.qr.x_mm - page.qr.quiet_mm - run.x_mm
    for size_pt in (run.size_pt, *(s / 2 for s in range(int(run.size_pt * 2) - 1, int(MIN_CODE_PT * 2) - 1, -1))):
        for text in (f"Code: {code}", code):  # the code as large as it fits, named where there is room
            if width_mm(text, size_pt, run.bold) <= room_mm:
                return replace(run, size_pt=size_pt), text
    raise ValueError(f"the code {code!r} does not fit beside the QR code on this page")
