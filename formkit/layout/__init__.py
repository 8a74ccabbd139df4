"""Template to geometry: one model in millimetres for the renderer and the scanner."""

from .engine import build_layout, layout_for_variant, parse_variant, variant_token
from .model import Layout, Page, layout_json

__all__ = ["Layout", "Page", "build_layout", "layout_for_variant", "layout_json", "parse_variant",
           "variant_token"]
