"""Which template and layout a QR payload refers to (shipped templates, plus any the user adds)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from .errors import FormkitError, TemplateError
from .layout import Layout, layout_for_variant
from .template import Template, load_template, shipped_templates

_extra_dirs: list[Path] = []
_text_packs: dict[str, Path] = {}


def add_template_dir(path: Path) -> None:
    """Templates in ``path`` (``*.yaml``) take precedence over shipped ones with the same form id."""
    _extra_dirs.append(path)
    _clear()


def add_text_pack(path: Path) -> None:
    """Lay out the form named by the pack's ``form:`` key with its wording, as it was printed."""
    from .template.load import read_yaml

    raw = read_yaml(path)
    form = raw.get("form") if isinstance(raw, dict) else None
    if not isinstance(form, str):
        raise TemplateError(str(path), "a text pack used for scanning must name its form, e.g. 'form: wai-sr'")
    _text_packs[form] = path
    _clear()


def _clear() -> None:
    _templates.cache_clear()
    find_layout.cache_clear()
    known_frames.cache_clear()
    candidate_layouts.cache_clear()


@cache
def _templates() -> dict[tuple[str, int], Template]:
    found: dict[tuple[str, int], Template] = {}
    files = list(shipped_templates().values()) + [p for d in _extra_dirs for p in sorted(d.glob("*.yaml"))]
    for path in files:
        try:
            template = load_template(path)
            if template.form in _text_packs:
                template = load_template(path, _text_packs[template.form])
        except FormkitError:
            continue
        found[(template.form, template.version)] = template
    return found


def installed_forms() -> list[tuple[str, int, str]]:
    """(form, version, title) of every installed template."""
    return sorted((t.form, t.version, t.title) for t in _templates().values())


def find_template(form: str, version: int) -> Template | None:
    return _templates().get((form, version))


@cache
def find_layout(form: str, version: int, variant: str) -> Layout | str:
    """The layout for a payload, or the reason there is none."""
    template = _templates().get((form, version))
    if template is None:
        known = sorted(v for f, v in _templates() if f == form)
        if known:
            return f"printed from version {version} of '{form}', but only version(s) {known} are installed"
        return f"form '{form}' is not an installed template"
    try:
        return layout_for_variant(template, variant)
    except (ValueError, FormkitError) as exc:
        return f"cannot lay out '{form}' variant {variant}: {exc}"


@cache
def candidate_layouts() -> list[Layout]:
    """Every installed template laid out normally and in large print: what an unlabelled page may be."""
    layouts = []
    for template in _templates().values():
        for variant in ("N", "L"):
            try:
                layouts.append(layout_for_variant(template, variant))
            except (ValueError, FormkitError):
                continue
    return layouts


@cache
def known_frames() -> list[tuple[dict[int, np.ndarray], tuple[float, float, float, float]]]:
    """Each distinct page geometry of the installed templates (normal and large print): marker corners
    in mm by id, and the region (x, y, w, h in mm) where the QR code and its quiet zone sit."""
    frames: dict[tuple, tuple] = {}
    for template in _templates().values():
        for large in (False, True):
            try:
                layout = layout_for_variant(template, "L" if large else "N")
            except (ValueError, FormkitError):
                continue
            for page in layout.pages[:1]:
                qr = page.qr
                region = (qr.x_mm - qr.quiet_mm, qr.y_mm - qr.quiet_mm, qr.size_mm + 2 * qr.quiet_mm,
                          qr.size_mm + 2 * qr.quiet_mm)
                markers = {m.id: np.array(m.corners_mm()) for m in page.markers}
                key = (round(page.width_mm, 1), round(page.height_mm, 1), tuple(round(v, 1) for v in region))
                frames.setdefault(key, (markers, region))
    return list(frames.values())
