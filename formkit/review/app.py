"""The review web app: one uncertain value at a time, its image beside the machine's guess, keyboard first.

Runs on this computer only (127.0.0.1) unless told otherwise; either way a random token in the address is
needed (``formkit review`` makes one each time: on a terminal server, 127.0.0.1 is every user's). It
answers only to the host name and port it was started for, so a page elsewhere whose name is rebound to
127.0.0.1 (DNS rebinding) gets nothing, and refuses posts sent from another origin. Every form
post carries a CSRF token; images are served by their id in the store, never by path. Whatever a request
carries is checked before it is used: a bad value is a 400 or 404 or a message on the page, never a 500.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from PIL import Image
from werkzeug.routing import IntegerConverter

from ..catalogue import Catalogue
from ..conventions import without_counts
from ..errors import FormkitError, StoreBusyError
from ..layout.model import Field, Page, field_box
from ..qrpayload import PagePayload
from ..records import PageState, formkit_command
from ..serial import format_serial, is_valid_serial, normalise_serial
from ..store import Store
from . import queue as decisions
from .inputs import hint, parse
from .queue import LayoutFit, PageRanker, PageReader

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ANY_HOST = "*"  # in ``allowed_hosts``: any host name (serving on every address, where the access token guards)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id is no row, not an overflow
MAX_ECHO = 40  # characters of a typed value repeated in a message (messages live in the session cookie)
HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?")
PAGE_NUMBER = re.compile(r"[0-9]{1,3}")
GUESSES_KEPT = 512  # pages whose layout ranking is remembered (ranking a page takes a fraction of a second)
CUT_MARGIN_MM = 3.0  # around a field cut out of the page image: the ink just beside its boxes shows too
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # field crops were PNG in stores made before 2026-12; JPEG since


class RowId(IntegerConverter):
    """A row id in a URL: ASCII digits that fit SQLite's integers; anything else is simply not found."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=0, max=MAX_ID)


def allowed_hosts_for(host: str, port: int) -> set[str]:
    """The Host headers a server listening on ``host`` and ``port`` answers to: the loopback names for
    a loopback address, any name when it listens on every address (the access token guards then), else
    just the address it was given."""
    if host in LOOPBACK:
        return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if host in ("", "0.0.0.0", "::"):
        return {ANY_HOST}
    return {f"[{host}]:{port}" if ":" in host else f"{host}:{port}"}


def create_app(db: Path, catalogue: Catalogue, read_as: PageReader, access_token: str | None = None, *,
               allowed_hosts: set[str] | None = None, rank: PageRanker | None = None) -> Flask:
    """The app over the store at ``db``, with the templates of ``catalogue``; ``read_as`` reads a page a
    person identified or reassigned by hand, and may refuse a layout that does not fit the page; ``rank``
    ranks the installed layouts by how well they fit a page, so the form list starts at the best guess
    (both the scanner's, wired by the command). With ``access_token``, every visitor must first open a
    URL with ``?token=...`` (``formkit review`` prints it).

    ``allowed_hosts`` are the Host headers answered, as ``name:port`` (``[::1]:port`` for IPv6; no port
    means 80) or ``"*"`` for any: see ``allowed_hosts_for``. ``None`` answers the loopback names on any
    port. Anything else, and a post whose Origin is another site, is refused with 400 before any page
    runs. ``app.config["ALLOWED_HOSTS"]`` may be set later, e.g. once a server on port 0 has its port."""
    for entry in allowed_hosts or ():
        if entry != ANY_HOST and _host_port(entry) is None:
            raise ValueError(f"not a host name and port: {entry!r}")
    app = Flask(__name__)
    app.url_map.converters["id"] = RowId
    app.jinja_env.filters["serial"] = format_serial
    try:
        store = Store(db)
        try:
            secret_key = store.review_secret()
        finally:
            store.close()
    except FormkitError:  # each request says what is wrong with the store; sessions then last this start only
        secret_key = secrets.token_bytes(32)
    # a cookie name of this store's own: a browser sends 127.0.0.1's cookies to every port, and a second review
    # server (another store) setting "session" signed the reviewer out of the first, losing the value typed there
    cookie = "formkit-review-" + hashlib.sha256(b"cookie name " + secret_key).hexdigest()[:12]
    app.config.update(SECRET_KEY=secret_key, SESSION_COOKIE_NAME=cookie, DB=str(db), ACCESS_TOKEN=access_token,
                      ALLOWED_HOSTS=allowed_hosts, MAX_CONTENT_LENGTH=1 << 20,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True)

    _guard_requests(app)
    _review_routes(app, catalogue, read_as)
    _page_routes(app, catalogue, read_as, rank, db)
    return app


def _guard_requests(app: Flask) -> None:
    """Every request checked before any page runs (the host it is for, where a post comes from, the access
    token, the CSRF token, a reviewer's name), the store closed after it, and the headers every answer
    carries."""
    @app.before_request
    def answer_only_where_served() -> None:
        """First of all: refuse a request for another host name (a site whose name was rebound to this
        computer) and a post from another origin."""
        host = _host_port(request.environ.get("HTTP_HOST", ""))
        if host is None or not _host_allowed(host, app.config["ALLOWED_HOSTS"]):
            abort(400, "This review server does not answer to that address: open the address that "
                       "'formkit review' printed.")
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin is not None:
            scheme, _, rest = origin.partition("://")
            if scheme != "http" or _host_port(rest) != host:
                abort(400, "This form was sent from another site: open the review page and send it from there.")

    @app.before_request
    def guard() -> Any:
        token = app.config["ACCESS_TOKEN"]
        # sessions outlive a restart (the store keeps their key), an access token only as long as it is the one
        if token and not _same(str(session.get("authorised", "")), _fingerprint(token)):
            if not _same(request.args.get("token", ""), token):
                abort(403, "This review page opens from the address 'formkit review' printed, with its ?token=...; "
                           "a new one each time it starts.")
            session["authorised"] = _fingerprint(token)
        session.setdefault("csrf", secrets.token_urlsafe(24))
        if request.method not in SAFE_METHODS and not _same(request.form.get("csrf", ""), session["csrf"]):
            abort(400, "Nothing was saved: this page was opened in another browser session, or before the "
                       "browser's cookies were cleared (its CSRF token is not this session's). Open the review "
                       "page again and redo the last value.")
        if request.endpoint not in ("who", "static", "favicon") and not session.get("reviewer"):
            return redirect(url_for("who"))
        return None

    @app.errorhandler(FormkitError)
    def store_unusable(exc: FormkitError) -> Any:
        """The store busy (another formkit command writing), full, damaged or gone: say so (not a 500)."""
        retry = {"Retry-After": "5"} if isinstance(exc, StoreBusyError) else {}
        return Response(f"{exc.message}\n", status=503, mimetype="text/plain", headers=retry)

    @app.teardown_appcontext
    def close(_: Any) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self'; frame-ancestors 'none'; "
                                                       "form-action 'self'; base-uri 'none'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        # not "no-referrer": with it a browser sends "Origin: null" on the app's own form posts (Fetch
        # standard), which the origin check refuses; "same-origin" still never tells another site anything
        response.headers["Referrer-Policy"] = "same-origin"
        return response


def _store() -> Store:
    """The store of this request, opened once (``app.config["DB"]``)."""
    if "store" not in g:
        g.store = Store(current_app.config["DB"])
    return g.store


def _review_routes(app: Flask, catalogue: Catalogue, read_as: PageReader) -> None:
    """The values to review, one at a time: the reviewer's name, the next value, a value shown and decided,
    undo, the summary, and the images they show."""
    @app.route("/favicon.ico")
    def favicon() -> Any:
        # answered empty so a browser's favicon fetch never races the page's session cookie
        return "", 204

    @app.route("/who", methods=["GET", "POST"])
    def who() -> Any:
        if request.method == "POST":
            # no invisible or direction-changing characters: the name is who decided, in the audit log; composed
            # (NFC), so that "José" typed decomposed on another computer is the same reviewer (undo, claims)
            typed = unicodedata.normalize("NFC", _printable(request.form.get("reviewer", "")))
            name = " ".join("".join(c for c in typed if unicodedata.category(c) != "Cf").split())[:60]
            if name:
                session["reviewer"] = name
                return redirect(url_for("next_value"))
            flash("Please type your name or initials: every decision is logged with it.")
        return render_template("who.html")

    @app.route("/")
    def next_value() -> Any:
        waiting = decisions.queue(_store(), session["reviewer"], limit=1)
        if not waiting:
            return summary_page(finished=True)
        return redirect(url_for("review_value", value_id=waiting[0].value_id))

    @app.route("/value/<id:value_id>", methods=["GET", "POST"])
    def review_value(value_id: int) -> Any:
        item = decisions.pending(_store(), value_id)
        posted = request.method == "POST"
        if item is None or posted and not _shown(item):
            mine = decisions.own_decision(_store(), value_id, session["reviewer"])
            if mine and item is None and posted and not _posted_again(value_id):
                # another decision than the one saved (Back to the value, or a second tab, and another answer
                # typed): "Saved already" read as if this one were saved
                flash(f"Not saved: {mine.removeprefix('Saved already: ').replace('you decided', 'you had decided', 1)}"
                      " To change it, press Undo (it takes back your decisions latest first).")
                return redirect(url_for("next_value"))
            if mine and item is None:  # a second press of Enter, or Back to a value just decided: it is saved
                flash(mine)
                return redirect(url_for("next_value"))
            why = decisions.not_waiting(_store(), value_id, item is not None)
            flash(f"Not saved: {why}." if posted else f"That value does not wait for review: {why}.")
            return redirect(url_for("next_value"))
        f, page = _layout_field(catalogue, _store().page(item.page_id), item.field)
        if request.method == "POST":
            error = _record(item, f)
            if not error:
                return redirect(url_for("next_value"))
            flash(error)
        # the last values of a queue are shown to two reviewers at once: say so, before both decide one
        also_open = decisions.claim(_store(), value_id, session["reviewer"])
        head = decisions.queue(_store(), session["reviewer"], limit=1) if also_open else []
        elsewhere = bool(head) and head[0].value_id != value_id  # another value to go on with meanwhile
        done, total = decisions.progress(_store())
        row = _store().value(value_id)
        try:
            raw = json.loads(row["raw"]) if row is not None else {}
        except ValueError:
            raw = {}
        start = decisions.prefill(f, item.value, raw if isinstance(raw, dict) else {})
        question = decisions.question_text(catalogue, item.form, item.version, item.field)
        return render_template("value.html", item=item, hint=hint(f, item.kind), outline=_outline(f, page),
                               done=done, total=total, typed=request.form.get("value", start), prefilled=start,
                               question=question, waiting=decisions.waiting_pages(_store()), also_open=also_open,
                               elsewhere=elsewhere, no_image=_store().crop(value_id) is None and (
                                   f is None or page is None or _store().page_image(item.page_id) is None),
                               others=_store().other_images(item.page_id))

    def _posted_again(value_id: int) -> bool:
        """Whether the decision posted for ``value_id``, which is decided, is the one saved (Enter pressed twice)."""
        row = _store().value(value_id)
        page = _store().page(row["page_id"]) if row is not None else None
        if row is None or page is None:
            return False
        f, _ = _layout_field(catalogue, page, row["field"])
        value, chosen, error = _posted(f, row["value"], row["kind"])
        return not error and value == row["value"] and (chosen == "illegible") == (row["review"] == "illegible")

    def _shown(item: decisions.Pending) -> bool:
        """Whether the form posted was the one shown for ``item``: the same field of the same page, read as the
        same form and serial (a page read again or assigned meanwhile may give its values the ids they had, a
        field of the same name on another form being another question)."""
        return ((request.form.get("seen_field"), request.form.get("seen_page"), request.form.get("seen_form"))
                == (item.field, str(item.page_id), f"{item.form} {item.version} {item.serial}"))

    def _record(item: decisions.Pending, f: Field | None) -> str:
        value, chosen, error = _posted(f, item.value, item.kind)
        if error:
            return f"Not saved: {error}."
        seen = request.form.get("seen_value")
        if seen is None:
            return "Not saved: the page was not the one shown; look at the value again."
        seen = seen.replace("\r\n", "\n")
        if without_counts(request.form.get("seen_reason", "").replace("\r\n", "\n")) != without_counts(item.reason):
            # another image of the page came in meanwhile, reading it otherwise, say: the person has not seen that
            # (the fill convention's counts, which grow as the form's other pages are read, change nothing)
            return "Not saved: why this value waits changed since it was shown; here it is again."
        refused = decisions.decide(_store(), item.value_id, chosen, value, session["reviewer"], seen)
        return f"Not saved: {refused}." if refused else ""

    @app.post("/undo")
    def undo() -> Any:
        undone = decisions.undo(_store(), session["reviewer"], read_as, catalogue)
        if isinstance(undone, decisions.Unassigned):  # the latest was a page assigned by hand: show the page
            flash(undone.message())
            return redirect(url_for("one_page", page_id=undone.page_id))
        if not undone.field:
            flash("Nothing of yours to undo (a decision on a page voided since comes back with the page).")
            return redirect(url_for("next_value"))
        item = decisions.pending(_store(), undone.value_id)
        if item is None:  # taken back, but not flagged again (a value read surely before it was decided)
            flash(f"Undone: your last decision on {undone.field}.")
            return redirect(url_for("next_value"))
        # the value undone, not the head of the queue: a field of the same name on another form would pass for it
        flash(f"Undone: your last decision on {item.field} ({item.form} {format_serial(item.serial)}); "
              "here it is again.")
        return redirect(url_for("review_value", value_id=undone.value_id))

    def stored_image(image: bytes | None, mimetype: str) -> Response:
        """An image blob from the store, by id (never by a path)."""
        if image is None:
            abort(404)
        # never kept by the browser: an id may stand for another value later (a page assigned elsewhere has its
        # values saved again, and SQLite reuses ids), and a kept crop was shown beside another question
        return Response(image, mimetype=mimetype, headers={"Cache-Control": "no-store"})

    @app.route("/crop/<id:value_id>.jpg")
    def crop(value_id: int) -> Response:
        image = _field_image(_store(), value_id, catalogue)
        return stored_image(image, "image/png" if image and image.startswith(PNG_SIGNATURE) else "image/jpeg")

    @app.route("/page/<id:page_id>.jpg")
    def page_image(page_id: int) -> Response:
        return stored_image(_store().page_image(page_id), "image/jpeg")

    def summary_page(finished: bool) -> str:
        """Pages and values per batch, and the progress; ``finished`` when the queue is empty."""
        return render_template("done.html", batches=decisions.batch_summary(_store()),
                               progress=decisions.progress(_store()), finished=finished,
                               waiting=decisions.waiting_pages(_store()))

    @app.route("/summary")
    def summary() -> Any:
        return summary_page(finished=False)


def _page_routes(app: Flask, catalogue: Catalogue, read_as: PageReader, rank: PageRanker | None, db: Path) -> None:
    """Pages to identify and pages one by one: which form page a page is, said (assigned) or taken back."""
    guesses: dict[tuple[int, str], list[LayoutFit]] = {}

    def fits(page_id: int, read_at: str) -> list[LayoutFit]:
        """The installed layouts that fit the page, best first (remembered while the page is unchanged)."""
        if rank is None:
            return []
        key = (page_id, read_at)
        if key not in guesses:
            source = decisions.source_page(_store(), page_id)
            if len(guesses) >= GUESSES_KEPT:
                guesses.clear()
            guesses[key] = rank(source) if source is not None else []
        return guesses[key]

    def choice_for(page: dict[str, Any], row: Any = None) -> dict[str, Any]:
        """What the assignment form starts at: the page's own form page and serial when it was read, else
        the scanner's best guess; that guess, to show; and the page as shown (``seen``, posted back), from its
        stored ``row`` (looked up when the caller has none: the list of pages to identify holds fewer columns)."""
        ranked = fits(page["id"], page.get("read_at", ""))
        guess = ranked[0] if ranked else None
        if page.get("form"):
            chosen = {"form": f"{page['form']}:{page['version']}", "page": page["form_page"],
                      "large_print": page["variant"] == "L", "serial": format_serial(page["serial"])}
        elif guess is not None:
            chosen = {"form": f"{guess.form}:{guess.version}", "page": guess.page,
                      "large_print": guess.variant == "L", "serial": ""}
        else:
            chosen = {"form": "", "page": 1, "large_print": False, "serial": ""}
        if row is None:
            row = _store().page(page["id"])
        return {**chosen, "guess": guess, "seen": decisions.page_seen(row) if row is not None else ""}

    @app.route("/pages")
    def unread() -> Any:
        pages = decisions.unread_pages(_store())
        return render_template("pages.html", pages=pages, choices={p["id"]: choice_for(p) for p in pages},
                               forms=catalogue.installed_forms(), assigned=assigned_pages())

    def assigned_pages() -> list[dict[str, Any]]:
        """Pages assigned by hand lately, with what each is now and was before: a page assigned by mistake
        leaves the list of pages to identify, and here is where it is found again."""
        listed = []
        for assigned in decisions.recent_assignments(_store()):
            row = _store().page(assigned.page_id)
            if row is not None:
                listed.append({"id": assigned.page_id, "path": row["path"], "source_page": row["page_index"] + 1,
                               "now": decisions.describe_page(row),
                               "was": decisions.describe_state(assigned.old, why=False),
                               "by": assigned.actor, "at": assigned.at})
        return listed

    @app.route("/pages/<id:page_id>")
    def one_page(page_id: int) -> Any:
        """One page, whatever its state, with the form to say which form page it is (reassign it)."""
        row = _store().page(page_id)
        if row is None:
            abort(404)
        page = dict(row)
        page["source_page"] = page["page_index"] + 1
        restore = formkit_command("void", "--undo", "--db", db, "--page", page_id)
        imaged = bool(page["has_image"])
        # a page rejected with no image kept is one whose file could not be read: as any form page it can only fail
        readable = imaged or page["status"] != PageState.REJECTED
        assigned = decisions.standing_assignment(_store(), page_id)
        return render_template("page.html", p=page, choice=choice_for(page, row), forms=catalogue.installed_forms(),
                               restore=restore, imaged=imaged, readable=readable,
                               voided=page["status"] == PageState.VOIDED, shown=decisions.describe_page(page),
                               assigned=assigned, was=decisions.describe_state(assigned.old) if assigned else "",
                               was_short=decisions.describe_state(assigned.old, why=False) if assigned else "")

    @app.post("/unassign/<id:page_id>")
    def unassign(page_id: int) -> Any:
        """Take back the assignment by hand that made the page what it is: it is again what it was before."""
        if _store().page(page_id) is None:
            abort(404)
        shown = request.form.get("assignment", "")
        done = decisions.unassign(_store(), page_id, int(shown) if shown.isdecimal() and len(shown) < 19 else -1,
                                  session["reviewer"], read_as, catalogue)
        flash(done.message())
        return redirect(url_for("one_page", page_id=page_id))

    @app.post("/assign/<id:page_id>")
    def assign(page_id: int) -> Any:
        back = url_for("one_page", page_id=page_id) if request.form.get("back") == "page" else url_for("unread")
        payload = _assignment(request.form, catalogue)
        if isinstance(payload, str):
            flash(payload)
            return redirect(back)
        # the page as the form showed it (forms shown before 2026-12-06 do not say): another reviewer may have
        # assigned it meanwhile, or a scan read it
        seen = request.form.get("seen")
        done = decisions.assign(_store(), page_id, payload, session["reviewer"], read_as, seen)
        if done.problem:
            flash(f"{done.problem[0].upper()}{done.problem[1:].rstrip('.')}.")
            return redirect(url_for("one_page", page_id=page_id) if done.changed else back)
        row = _store().page(page_id)
        state = f" (a conflict: {row['reason']})" if row is not None and row["status"] == PageState.CONFLICT else ""
        flash(f"Page read as {payload.form} page {payload.page}, {format_serial(payload.serial)}{state}. "
              f"{done.decisions()} If that was a mistake, press Undo.")
        return redirect(url_for("unread") if request.form.get("back") != "page" else url_for("next_value"))


def _host_port(text: str) -> tuple[str, int] | None:
    """(name, port) of a Host header, or of an origin after its ``http://``: the name in lower case, an IPv6
    address in its short form, port 80 when none is given; ``None`` when ``text`` is not one."""
    match = HOST.fullmatch(text)
    if match is None:
        return None
    name, port = match[1].lower(), int(match[2] or 80)
    if name.startswith("["):
        try:
            name = str(ipaddress.IPv6Address(name[1:-1]))
        except ValueError:
            return None
    return (name, port) if 0 < port < 65536 else None


def _host_allowed(host: tuple[str, int], allowed: Iterable[str] | None) -> bool:
    if allowed is None:
        return host[0] in LOOPBACK
    return any(entry == ANY_HOST or _host_port(entry) == host for entry in allowed)


def _fingerprint(token: str) -> str:
    """What a session keeps of the access token it was opened with: a hash, not the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Whether a token typed or posted is the one expected, in constant time (as bytes: any text compares)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _printable(text: str) -> str:
    """``text`` without control characters and stray surrogates."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs"))


def _echo(text: str) -> str:
    """What a person typed, short enough to repeat in a message."""
    text = _printable(text)
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def _assignment(form: Mapping[str, str], catalogue: Catalogue) -> PagePayload | str:
    """The page a person says an unread page is, from the posted ``form``, or what is wrong with it."""
    chosen = form.get("form", "")
    installed = {f"{name}:{version}": (name, version) for name, version, _ in catalogue.installed_forms()}
    if chosen not in installed:
        return "Choose a form from the list."
    name, version = installed[chosen]
    variant = "L" if form.get("large_print") else "N"
    typed_page = form.get("page", "1").strip()
    if not PAGE_NUMBER.fullmatch(typed_page):
        return f"'{_echo(typed_page)}' is not a page number: type the page of the form, e.g. 1."
    number = int(typed_page)
    layout = catalogue.find_layout(name, version, variant)
    if isinstance(layout, str):
        return layout
    if not 1 <= number <= len(layout.pages):
        return f"'{name}' has no page {number}."
    serial = normalise_serial(form.get("serial", ""))
    if not is_valid_serial(serial):
        return f"'{_echo(form.get('serial', ''))}' is not a valid serial: check the code printed under the QR."
    return PagePayload(name, version, number, variant, serial, layout.page(number).fingerprint)


def _posted(f: Field | None, reading: str, kind: str) -> tuple[str, str, str]:
    """The decision the request posts on a value of field ``f`` (``None``: its template gone) read as ``reading``:
    (value, what was chosen: 'blank', 'illegible', 'accepted' or 'corrected', why it cannot be saved or '')."""
    action = request.form.get("action", "save")
    # a browser posts a line break as CR LF: the store's text (a handwritten answer over several lines) has LF
    typed = request.form.get("value", "").replace("\r\n", "\n")
    if action in ("blank", "illegible"):
        return "", action, ""
    if f is None and typed.strip() == reading:  # its template gone: the reading can still be accepted
        return reading, "accepted", ""
    value, error = parse(f, typed, kind)
    return value, "accepted" if value == reading else ("blank" if value == "" else "corrected"), error


def _layout_field(catalogue: Catalogue, page_row: sqlite3.Row | None, field_id: str
                  ) -> tuple[Field | None, Page | None]:
    """Field ``field_id`` of a stored page (its row, ``None`` when gone) as its installed layout places it,
    and that layout page (``None`` when its template is gone): the layout the page was read with
    (``Catalogue.stored_layout``)."""
    layout = catalogue.stored_layout(page_row) if page_row is not None else "gone"
    if isinstance(layout, str) or not 1 <= page_row["form_page"] <= len(layout.pages):
        return None, None
    page = layout.page(page_row["form_page"])
    return next((f for f in page.fields if f.id == field_id), None), page


def _field_image(store: Store, value_id: int, catalogue: Catalogue) -> bytes | None:
    """The image of value ``value_id``'s field: its crop, or when none was kept (a value the store flagged after
    the scan, e.g. another image of its page reads it otherwise), the field cut out of the stored page image.
    Without it the page showed a broken image and the value could be accepted unseen. ``None``: neither."""
    image = store.crop(value_id)
    if image is not None:
        return image
    row = store.value(value_id)
    page_row = store.page(row["page_id"]) if row is not None else None
    if row is None or page_row is None or not page_row["form"]:
        return None
    f, page = _layout_field(catalogue, page_row, row["field"])
    whole = store.page_image(row["page_id"])
    if f is None or page is None or whole is None:
        return None
    return _cut_out(whole, field_box(f), page)


def _cut_out(whole: bytes, box: Any, page: Page) -> bytes | None:
    """The part of a page image (``whole``, the page flat and upright) around ``box`` (mm), as JPEG; ``None`` when
    the image cannot be read."""
    try:
        with Image.open(io.BytesIO(whole)) as image:
            image.load()
            sx, sy = image.width / page.width_mm, image.height / page.height_mm
            margin = CUT_MARGIN_MM
            area = (max(0, round((box.x_mm - margin) * sx)), max(0, round((box.y_mm - margin) * sy)),
                    min(image.width, round((box.x_mm + box.w_mm + margin) * sx)),
                    min(image.height, round((box.y_mm + box.h_mm + margin) * sy)))
            if area[2] <= area[0] or area[3] <= area[1]:
                return None
            out = io.BytesIO()
            cut = image.crop(area)
            (cut if cut.mode in ("L", "RGB") else cut.convert("RGB")).save(out, "JPEG", quality=90)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _outline(f: Field | None, page: Page | None) -> dict[str, float] | None:
    """Where the field sits on the page thumbnail, in percent of the page."""
    if f is None or page is None:
        return None
    box = field_box(f)
    return {"left": 100 * box.x_mm / page.width_mm, "top": 100 * box.y_mm / page.height_mm,
            "width": 100 * box.w_mm / page.width_mm, "height": 100 * box.h_mm / page.height_mm}
