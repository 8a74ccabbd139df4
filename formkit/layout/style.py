"""Sizes that depend on the page: font sizes, marker and box sizes, margins (all in mm or pt).

Marker sizes follow the measured rule of thumb (docs/design.md): at least 5 px per marker cell in the
image the detector sees; 8 mm markers on A7 cards (6 mm minimum), 10-12 mm on A4. QR modules are at
least 0.62 mm, so a page rasterised at 150 dpi has the ~3.7 px per module OpenCV's detector needs;
larger on A4 and A5, which people photograph from further away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Style:
    base_pt: float
    small_pt: float
    serial_pt: float  # the code under the QR, read by staff and by the scanner when the QR is not (never
                      # below small_pt + 1: see the layout engine)
    heading_pt: float
    title_pt: float
    marker_mm: float
    inset_mm: float  # page edge to marker
    margin_mm: float  # page edge to content, left and right
    qr_module_mm: float
    box_mm: float  # choice box side
    digit_w_mm: float
    digit_h_mm: float
    digit_gap_mm: float
    pitch_mm: float  # distance between writing lines in text boxes
    gap_mm: float  # space between items

    def large_print(self) -> Style:
        """Text half as large again; boxes and writing space larger too. Markers and QR unchanged."""
        return replace(
            self,
            base_pt=self.base_pt * 1.5, small_pt=self.small_pt * 1.5, heading_pt=self.heading_pt * 1.4,
            title_pt=self.title_pt * 1.3, box_mm=self.box_mm * 1.2, digit_w_mm=self.digit_w_mm * 1.15,
            digit_h_mm=self.digit_h_mm * 1.15, pitch_mm=self.pitch_mm * 1.3, gap_mm=self.gap_mm * 1.3,
        )


_LARGE = Style(base_pt=11, small_pt=9, serial_pt=14, heading_pt=13.5, title_pt=15, marker_mm=10,
               inset_mm=7, margin_mm=13, qr_module_mm=1.0, box_mm=5.0, digit_w_mm=6.0, digit_h_mm=8.0, digit_gap_mm=1.5,
               pitch_mm=8.5, gap_mm=4.0)
_MEDIUM = Style(base_pt=10, small_pt=8, serial_pt=12, heading_pt=12, title_pt=13, marker_mm=9, inset_mm=6,
                margin_mm=10, qr_module_mm=0.8, box_mm=5.0, digit_w_mm=5.5, digit_h_mm=7.5, digit_gap_mm=1.4,
                pitch_mm=8.0, gap_mm=3.5)
_SMALL = Style(base_pt=9, small_pt=7.5, serial_pt=10, heading_pt=10.5, title_pt=11, marker_mm=8, inset_mm=4.5,
               margin_mm=6, qr_module_mm=0.62, box_mm=4.6, digit_w_mm=5.0, digit_h_mm=7.0, digit_gap_mm=1.2,
               pitch_mm=7.0, gap_mm=2.8)
_CARD = Style(base_pt=8, small_pt=6.5, serial_pt=7.5, heading_pt=9, title_pt=9.5, marker_mm=7, inset_mm=3,
              margin_mm=4, qr_module_mm=0.62, box_mm=4.2, digit_w_mm=4.6, digit_h_mm=6.4, digit_gap_mm=1.0,
              pitch_mm=5.6, gap_mm=1.2)


def style_for(width_mm: float, height_mm: float, large_print: bool) -> Style:
    short_side = min(width_mm, height_mm)
    if short_side >= 200:
        style = _LARGE
    elif short_side >= 140:
        style = _MEDIUM
    elif short_side >= 100:
        style = _SMALL
    else:
        style = _CARD
    return style.large_print() if large_print else style
