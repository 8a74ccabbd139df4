"""What reading one page produces: plain data passed from worker processes to the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Page states
READ = "read"
UNIDENTIFIED = "unidentified"  # markers found, QR unreadable: kept for the printed-code fallback and review
BLANK = "blank"
REJECTED = "rejected"


@dataclass
class FieldValue:
    field: str
    kind: str
    value: str  # as exported: an option value, values joined by ';', a number, or '' when blank
    confidence: float
    needs_review: bool
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    crop_png: bytes | None = field(default=None, repr=False)


@dataclass
class PageResult:
    source_file: str
    source_page: int  # 1-based
    sha256: str
    status: str
    reason: str = ""
    form: str = ""
    version: int = 0
    variant: str = ""
    form_page: int = 0
    serial: str = ""
    transform: list[list[float]] | None = None  # layout mm -> source pixels
    error_mm: float | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    # the registered page (or the source, when unregistered), reduced
    image_jpeg: bytes | None = field(default=None, repr=False)
    values: list[FieldValue] = field(default_factory=list)
