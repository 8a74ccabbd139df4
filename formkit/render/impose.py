"""Place form pages N-up on a printing sheet, with crop marks and backs for long-edge duplex."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LayoutError
from ..template.schema import PAGE_SIZES_MM

SHEET_MARGIN_MM = 10.0
GUTTER_MM = 6.0
CROP_MARK_MM = (1.0, 4.5)  # from .. to, measured outward from the card corner


@dataclass(frozen=True)
class Sheet:
    width_mm: float
    height_mm: float
    slots: tuple[tuple[float, float], ...]  # top-left corner of each front-side slot
    item_w_mm: float
    item_h_mm: float

    def back_slot(self, index: int) -> tuple[float, float]:
        """Where the back of slot ``index`` goes: mirrored left-right, for long-edge duplex."""
        x, y = self.slots[index]
        return self.width_mm - x - self.item_w_mm, y


def plan_sheet(sheet: str, item_w_mm: float, item_h_mm: float, source: str) -> Sheet:
    """As many slots of the item's size as fit on a portrait ``sheet``, centred, in reading order."""
    if sheet not in ("A4", "Letter"):
        raise LayoutError(source, f"sheet must be A4 or Letter, not {sheet!r}")
    w, h = PAGE_SIZES_MM[sheet]
    usable_w, usable_h = w - 2 * SHEET_MARGIN_MM, h - 2 * SHEET_MARGIN_MM
    cols = int((usable_w + GUTTER_MM) // (item_w_mm + GUTTER_MM))
    rows = int((usable_h + GUTTER_MM) // (item_h_mm + GUTTER_MM))
    if cols < 1 or rows < 1:
        raise LayoutError(source, f"a {item_w_mm:.0f} x {item_h_mm:.0f} mm page does not fit on a {sheet} sheet "
                                  "with room for crop marks; print without --sheet")
    grid_w = cols * item_w_mm + (cols - 1) * GUTTER_MM
    grid_h = rows * item_h_mm + (rows - 1) * GUTTER_MM
    x0, y0 = (w - grid_w) / 2, (h - grid_h) / 2
    slots = tuple((x0 + c * (item_w_mm + GUTTER_MM), y0 + r * (item_h_mm + GUTTER_MM))
                  for r in range(rows) for c in range(cols))
    return Sheet(w, h, slots, item_w_mm, item_h_mm)


def crop_marks(x_mm: float, y_mm: float, w_mm: float, h_mm: float) -> list[tuple[float, float, float, float]]:
    """Short lines in the gutter that continue each edge of the slot, for cutting."""
    near, far = CROP_MARK_MM
    lines = []
    for cx, sx in ((x_mm, -1), (x_mm + w_mm, 1)):
        for cy, sy in ((y_mm, -1), (y_mm + h_mm, 1)):
            lines.append((cx + sx * near, cy, cx + sx * far, cy))
            lines.append((cx, cy + sy * near, cx, cy + sy * far))
    return lines
