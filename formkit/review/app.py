"""The review web app: one uncertain value at a time, its image beside the machine's guess, keyboard first.

Runs on this computer only (127.0.0.1) unless told otherwise; then a random token in the address is
needed. Every form post carries a CSRF token; images are served by their id in the store, never by path.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for

from ..catalogue import Catalogue
from ..layout.model import Field, Page, field_box
from ..qrpayload import PagePayload
from ..serial import format_serial, is_valid_serial, normalise_serial
from ..store import Store
from . import queue as decisions
from .inputs import hint, parse
from .queue import PageReader

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def create_app(db: Path, catalogue: Catalogue, read_as: PageReader, access_token: str | None = None) -> Flask:
    """The app over the store at ``db``, with the templates of ``catalogue``; ``read_as`` reads a page a
    person identified by hand (the scanner's, wired by the command). With ``access_token``, every visitor
    must first open a URL with ``?token=...`` (``formkit review`` prints it)."""
    app = Flask(__name__)
    app.jinja_env.filters["serial"] = format_serial
    app.config.update(SECRET_KEY=secrets.token_bytes(32), DB=str(db), ACCESS_TOKEN=access_token,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True)

    @app.before_request
    def guard() -> Any:
        token = app.config["ACCESS_TOKEN"]
        if token and not session.get("authorised"):
            if not secrets.compare_digest(request.args.get("token", ""), token):
                abort(403)
            session["authorised"] = True
        session.setdefault("csrf", secrets.token_urlsafe(24))
        if request.method == "POST" and not secrets.compare_digest(request.form.get("csrf", ""), session["csrf"]):
            abort(400, "missing or wrong CSRF token: reload the page")
        if request.endpoint not in ("who", "static", "favicon") and not session.get("reviewer"):
            return redirect(url_for("who"))
        return None

    @app.teardown_appcontext
    def close(_: Any) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    def store() -> Store:
        if "store" not in g:
            g.store = Store(app.config["DB"])
        return g.store

    @app.route("/favicon.ico")
    def favicon() -> Any:
        # answered empty so a browser's favicon fetch never races the page's session cookie
        return "", 204

    @app.route("/who", methods=["GET", "POST"])
    def who() -> Any:
        if request.method == "POST":
            name = request.form.get("reviewer", "").strip()[:60]
            if name:
                session["reviewer"] = name
                return redirect(url_for("next_value"))
            flash("Please type your name or initials: every decision is logged with it.")
        return render_template("who.html")

    @app.route("/")
    def next_value() -> Any:
        waiting = decisions.queue(store(), session["reviewer"], limit=1)
        if not waiting:
            return summary_page(finished=True)
        return redirect(url_for("review_value", value_id=waiting[0].value_id))

    @app.route("/value/<int:value_id>", methods=["GET", "POST"])
    def review_value(value_id: int) -> Any:
        item = decisions.pending(store(), value_id)
        if item is None:
            flash("That value was already reviewed.")
            return redirect(url_for("next_value"))
        f, page = _field(item, catalogue)
        if request.method == "POST":
            error = _record(item, f)
            if not error:
                return redirect(url_for("next_value"))
            flash(error)
        decisions.claim(store(), value_id, session["reviewer"])
        done, total = decisions.progress(store())
        return render_template("value.html", item=item, hint=hint(f), outline=_outline(f, page),
                               done=done, total=total, typed=request.form.get("value", item.value))

    def _record(item: decisions.Pending, f: Field | None) -> str:
        action = request.form.get("action", "save")
        typed = request.form.get("value", "")
        if action == "blank":
            value, chosen = "", "blank"
        elif action == "illegible":
            value, chosen = "", "illegible"
        else:
            value, error = parse(f, typed)
            if error:
                return f"Not saved: {error}."
            chosen = "accepted" if value == item.value else ("blank" if value == "" else "corrected")
        refused = decisions.decide(store(), item.value_id, chosen, value, session["reviewer"], item.value)
        return f"Not saved: {refused}." if refused else ""

    @app.post("/undo")
    def undo() -> Any:
        field_name = decisions.undo(store(), session["reviewer"])
        flash(f"Undone: your last decision on {field_name}." if field_name else "Nothing of yours to undo.")
        return redirect(url_for("next_value"))

    @app.route("/pages")
    def unread() -> Any:
        return render_template("pages.html", pages=decisions.unread_pages(store()), forms=catalogue.installed_forms())

    @app.post("/assign/<int:page_id>")
    def assign(page_id: int) -> Any:
        form, _, version = request.form.get("form", "").partition(":")
        serial = normalise_serial(request.form.get("serial", ""))
        variant = "L" if request.form.get("large_print") else "N"
        try:
            number = int(request.form.get("page", "1"))
        except ValueError:
            number = 0
        layout = catalogue.find_layout(form, int(version or 0), variant)
        if not is_valid_serial(serial):
            flash(f"'{request.form.get('serial', '')}' is not a valid serial: check the code printed under the QR.")
        elif isinstance(layout, str) or not 1 <= number <= len(layout.pages):
            flash(layout if isinstance(layout, str) else f"'{form}' has no page {number}.")
        else:
            payload = PagePayload(form, int(version), number, variant, serial, layout.page(number).fingerprint)
            problem = decisions.assign_page(store(), page_id, payload, session["reviewer"], read_as)
            flash(problem or f"Page read as {form} page {number}, {format_serial(serial)}.")
        return redirect(url_for("unread"))

    def stored_image(image: bytes | None, mimetype: str) -> Response:
        """An image blob from the store, by id (never by a path)."""
        if image is None:
            abort(404)
        return Response(image, mimetype=mimetype, headers={"Cache-Control": "private, max-age=3600"})

    @app.route("/crop/<int:value_id>.png")
    def crop(value_id: int) -> Response:
        return stored_image(store().crop(value_id), "image/png")

    @app.route("/page/<int:page_id>.jpg")
    def page_image(page_id: int) -> Response:
        return stored_image(store().page_image(page_id), "image/jpeg")

    def summary_page(finished: bool) -> str:
        """Pages and values per batch, and the progress; ``finished`` when the queue is empty."""
        return render_template("done.html", batches=decisions.batch_summary(store()),
                               progress=decisions.progress(store()), finished=finished)

    @app.route("/summary")
    def summary() -> Any:
        return summary_page(finished=False)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return app


def _field(item: decisions.Pending, catalogue: Catalogue) -> tuple[Field | None, Page | None]:
    """The layout's field for ``item`` and the page it is on (``None`` when its template is gone)."""
    layout = catalogue.find_layout(item.form, item.version, item.variant)
    if isinstance(layout, str) or not 1 <= item.form_page <= len(layout.pages):
        return None, None
    page = layout.page(item.form_page)
    return next((f for f in page.fields if f.id == item.field), None), page


def _outline(f: Field | None, page: Page | None) -> dict[str, float] | None:
    """Where the field sits on the page thumbnail, in percent of the page."""
    if f is None or page is None:
        return None
    box = field_box(f)
    return {"left": 100 * box.x_mm / page.width_mm, "top": 100 * box.y_mm / page.height_mm,
            "width": 100 * box.w_mm / page.width_mm, "height": 100 * box.h_mm / page.height_mm}
