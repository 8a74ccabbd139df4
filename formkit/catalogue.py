"""Which template and layout a QR payload refers to: the shipped templates, plus the folders of templates
and the text packs a user adds.

A ``Catalogue`` is built once by the command and handed to whatever needs it, worker processes
included: it pickles as the paths it was built from and lays templates out again on first use, so a
batch reads the same under the ``spawn`` start method as under ``fork``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormkitError, InputError, TemplateError
from .layout import Layout, layout_for_variant
from .layout.engine import FLOW_REVISIONS
from .layout.model import Page, distinct_geometries
from .qrpayload import PagePayload
from .template import Template, load_template, shipped_templates

Frame = tuple[dict[int, np.ndarray], tuple[float, float, float, float], int]
VARIANTS = ("N", "L")  # normal and large print: every layout an unlabelled page may have


class Catalogue:
    """Installed templates by (form, version). ``template_dirs`` (``*.yaml`` in each) take precedence
    over shipped templates with the same form and version; ``text_packs`` give the wording of the form
    each names (``form: wai-sr``), as it was printed."""

    def __init__(self, template_dirs: Iterable[Path] = (), text_packs: Iterable[Path] = ()) -> None:
        self.template_dirs = tuple(Path(d) for d in template_dirs)
        for folder in self.template_dirs:
            if not folder.is_dir():
                raise InputError(f"--templates {folder}: no such folder")
        self.text_packs = {_pack_form(Path(p)): Path(p) for p in text_packs}
        self._reset()
        if self.template_dirs or self.text_packs:
            self.templates()  # checked now: a mistake in them stops the command before it reads or writes

    def _reset(self) -> None:
        self._templates: dict[tuple[str, int], Template] | None = None
        self._layouts: dict[tuple[str, int, str, str], Layout | str] = {}
        self._candidates: list[Layout] | None = None
        self._frames: list[Frame] | None = None
        self._geometries: list[Page] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"template_dirs": self.template_dirs, "text_packs": self.text_packs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.template_dirs, self.text_packs = state["template_dirs"], state["text_packs"]
        self._reset()

    def templates(self) -> dict[tuple[str, int], Template]:
        if self._templates is None:
            found: dict[tuple[str, int], Template] = {}
            own: dict[tuple[str, int], Path] = {}  # the user's files, by what they define
            shipped = list(shipped_templates().values())
            # a folder given twice (as 't' and './t', say) is read once
            folders = list(dict.fromkeys(Path(d).resolve() for d in self.template_dirs))
            files = shipped + [p for d in folders for p in sorted(d.glob("*.yaml"))]
            # A mistake in the user's own template or text pack is raised, never passed over: its pages
            # would be rejected as "not an installed template" and the reason lost.
            for path in files:
                try:
                    template = load_template(path)
                except FormkitError:
                    if path in shipped:
                        continue
                    raise
                if template.form in self.text_packs:
                    template = load_template(path, self.text_packs[template.form])
                key = (template.form, template.version)
                if path not in shipped:
                    # two of the user's files for one form and version: which one a page was printed from
                    # cannot be told, and the other's pages would be rejected as another layout
                    if key in own:
                        raise TemplateError(str(path), f"defines {template.form} version {template.version}, as "
                                            f"{own[key]} does: keep one, or give the other a new version")
                    own[key] = path
                found[key] = template
            self._templates = found
        return self._templates

    def installed_forms(self) -> list[tuple[str, int, str]]:
        """(form, version, title) of every installed template."""
        return sorted((t.form, t.version, t.title) for t in self.templates().values())

    def find_template(self, form: str, version: int) -> Template | None:
        return self.templates().get((form, version))

    def find_layout(self, form: str, version: int, variant: str, flow: str = FLOW_REVISIONS[0]) -> Layout | str:
        """The layout for a payload (as the page flow ``flow`` gives it: the newest unless told), or the reason
        there is none."""
        key = (form, version, variant, flow)
        if key not in self._layouts:
            self._layouts[key] = self._lay_out(form, version, variant, flow)
        return self._layouts[key]

    def printed_layout(self, payload: PagePayload) -> Layout | str:
        """The layout the page ``payload`` names was printed with: the newest, or when the fingerprint in its QR
        is an earlier flow revision's (``FLOW_REVISIONS``: a page printed before the flow changed), that one.
        Earlier revisions are laid out only for such a page, so a scan starts as fast as before. When none
        fits, the newest: the scanner refuses the page for its layout."""
        newest = self.find_layout(payload.form, payload.version, payload.variant)
        if not isinstance(newest, Layout) or _printed_with(newest, payload):
            return newest
        for flow in FLOW_REVISIONS[1:]:
            earlier = self.find_layout(payload.form, payload.version, payload.variant, flow)
            if isinstance(earlier, Layout) and _printed_with(earlier, payload):
                return earlier
        return newest

    def stored_layout(self, page: Mapping[str, Any] | sqlite3.Row) -> Layout | str:
        """The layout a stored page (its row: form, version, variant, quality) was read with: as the page flow its
        quality names (``flow``, noted for a page printed before the flow changed), else the newest."""
        flow = json.loads(page["quality"] or "{}").get("flow", FLOW_REVISIONS[0])
        return self.find_layout(page["form"], page["version"], page["variant"], flow)

    def _lay_out(self, form: str, version: int, variant: str, flow: str) -> Layout | str:
        template = self.templates().get((form, version))
        if template is None:
            known = sorted(v for f, v in self.templates() if f == form)
            if known:
                return f"printed from version {version} of '{form}', but only version(s) {known} are installed"
            return f"form '{form}' is not an installed template"
        try:
            return layout_for_variant(template, variant, flow)
        except (ValueError, FormkitError) as exc:
            return f"cannot lay out '{form}' variant {variant}: {exc}"

    def candidate_layouts(self) -> list[Layout]:
        """Every installed template laid out normally and in large print: what an unlabelled page may be."""
        if self._candidates is None:
            self._candidates = [layout for t in self.templates().values() for variant in VARIANTS
                                if isinstance(layout := self.find_layout(t.form, t.version, variant), Layout)]
        return self._candidates

    def page_geometries(self) -> list[Page]:
        """One page of each distinct geometry (``Page.geometry``) among the candidate layouts' pages: what a
        page found by its markers alone may be laid out as."""
        if self._geometries is None:
            self._geometries = distinct_geometries(page for layout in self.candidate_layouts() for page in layout.pages)
        return self._geometries

    def known_frames(self) -> list[Frame]:
        """Each distinct geometry of the installed templates' first pages (normal and large print): marker
        corners in mm by id, the region (x, y, w, h in mm) where the QR code and its quiet zone sit, and the
        code's modules per side (one for each geometry: its quiet zone is a number of modules)."""
        if self._frames is None:
            self._frames = []
            for page in distinct_geometries(layout.pages[0] for layout in self.candidate_layouts()):
                qr = page.qr
                region = (qr.x_mm - qr.quiet_mm, qr.y_mm - qr.quiet_mm, qr.size_mm + 2 * qr.quiet_mm,
                          qr.size_mm + 2 * qr.quiet_mm)
                self._frames.append(({m.id: np.array(m.corners_mm()) for m in page.markers}, region, qr.modules))
        return self._frames


@cache
def shipped_catalogue() -> Catalogue:
    """The shipped templates alone: what a page is read with when nobody says otherwise."""
    return Catalogue()


def _printed_with(layout: Layout, payload: PagePayload) -> bool:
    return not layout_problem(layout, payload)


def layout_problem(layout: Layout | str, payload: PagePayload) -> str:
    """Why a page whose code is ``payload`` cannot be read with ``layout`` (a problem already, when a string): its
    page is not in it, or that page's fingerprint is not the code's; '' when it can."""
    if isinstance(layout, str):
        return layout
    if not 1 <= payload.page <= len(layout.pages):
        return f"page {payload.page} does not exist in '{payload.form}' ({len(layout.pages)} pages)"
    if layout.page(payload.page).fingerprint != payload.layout:
        return ("the page was printed with a different layout than this template gives (another text pack or "
                "an edited template with the same version?)")
    return ""


def _pack_form(path: Path) -> str:
    from .template.load import read_yaml

    raw = read_yaml(path)
    form = raw.get("form") if isinstance(raw, dict) else None
    if not isinstance(form, str):
        raise TemplateError(str(path), "a text pack used for scanning must name its form, e.g. 'form: wai-sr'")
    return form
