"""What the QR code on every printed page says, and how to read it back.

Format (QR alphanumeric mode, so it stays small): ``FK1/<FORM>/<VERSION>/<PAGE>/<VARIANT>/<SERIAL>/<LAYOUT>``
e.g. ``FK1/GOAL-CARD/1/2/N/K7M3QX9C/3F2A``. ``LAYOUT`` is a fingerprint of the page geometry, so the
scanner can tell when it is about to read a page with a layout other than the one it was printed from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .serial import SERIAL_LENGTH

MAGIC = "FK1"
_PATTERN = re.compile(
    r"^FK1/(?P<form>[A-Z0-9-]+)/(?P<version>\d+)/(?P<page>\d+)/(?P<variant>[A-Z0-9.]+)/"
    rf"(?P<serial>[A-Z0-9]{{{SERIAL_LENGTH}}})/(?P<layout>[0-9A-F]{{4}})$"
)


@dataclass(frozen=True)
class PagePayload:
    form: str
    version: int
    page: int
    variant: str
    serial: str
    layout: str

    def encode(self) -> str:
        return "/".join(
            [MAGIC, self.form.upper(), str(self.version), str(self.page), self.variant, self.serial, self.layout]
        )


def decode(text: str) -> PagePayload | None:
    """The payload of a formkit QR code, or ``None`` when ``text`` is not one (a foreign code)."""
    match = _PATTERN.match(text.strip())
    if match is None:
        return None
    return PagePayload(
        form=match["form"].lower(),
        version=int(match["version"]),
        page=int(match["page"]),
        variant=match["variant"],
        serial=match["serial"],
        layout=match["layout"],
    )
