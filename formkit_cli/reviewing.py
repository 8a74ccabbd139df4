"""Review: the local web page for what the scanner was unsure of."""

from __future__ import annotations

import errno
import html
import socket
import tempfile
from pathlib import Path

import click

from formkit.errors import OptionError

from . import pipeline
from .base import db_option, main, reports_errors


@main.command(short_help="Open the review page for flagged values.")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (this computer only, by default).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@reports_errors
def review(db: Path, host: str, port: int, no_browser: bool) -> None:
    """Open the review page: only what the scanner was unsure of, keyboard first. The address printed (and
    opened) carries an access token, new each time: on a computer several people use (a terminal server),
    127.0.0.1 is everyone's, and the page shows clients' answers."""
    import secrets
    import webbrowser

    from werkzeug.serving import make_server

    from formkit.catalogue import shipped_catalogue
    from formkit.review.app import allowed_hosts_for, create_app
    from formkit.store import Store

    # checked now: each of the page's requests opens the store for writing, which would make a new one in its place
    Store(db, existing=True).close()
    token = secrets.token_urlsafe(16)
    catalogue = shipped_catalogue()
    # answers nothing until the port is known (--port 0 picks a free one), then only its own address
    app = create_app(db, catalogue, pipeline.reader(catalogue), token, allowed_hosts=set(),
                     rank=pipeline.ranker(catalogue))
    listening = listen(host, port)
    try:
        server = make_server(host, port, app, threaded=True, fd=listening.fileno())
    finally:
        listening.close()  # the server listens on its own duplicate of the socket
    app.config["ALLOWED_HOSTS"] = allowed_hosts_for(host, server.port)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{server.port}/?token={token}"
    click.echo(f"Reviewing {db} at {url}  (Ctrl+C to stop)")
    with tempfile.TemporaryDirectory(prefix="formkit-review-") as private:
        if not no_browser:
            webbrowser.open(redirect_file(Path(private), url).as_uri())
        server.serve_forever()  # returns on Ctrl+C: werkzeug's server catches it and closes
    click.echo("Stopped.")


def redirect_file(folder: Path, url: str) -> Path:
    """A page in ``folder`` (made for this user alone) that sends the browser on to ``url``: the browser is
    started with this file's name, not with the access token, which any user of a shared computer could read
    in its command line (``ps``) while it starts."""
    page = folder / "open-review.html"
    page.touch(mode=0o600)
    shown = html.escape(url)
    page.write_text(f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={shown}">'
                    f'<a href="{shown}">Open the review page</a>\n', encoding="utf-8")
    return page


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (any free port for 0), for werkzeug's server to use. Bound here
    because werkzeug, when it cannot bind, prints two lines of its own and exits 1, which says a bug."""
    from werkzeug.serving import LISTEN_QUEUE, select_address_family

    family = select_address_family(host, port)  # as werkzeug picks it: IPv6 for a host with a colon
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)[0][4]
    except (socket.gaierror, UnicodeError) as exc:
        raise OptionError(f"--host {host}: no such address or host name ({_why(exc)}); give an address of this "
                           "computer, e.g. 127.0.0.1") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does: restart at once after a stop
        sock.bind(address)
        sock.listen(LISTEN_QUEUE)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OptionError(f"--port {port}: in use by another program; give another --port, or --port 0 for "
                               "any free one") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise OptionError(f"--host {host}: not an address of this computer ({_why(exc)}); give one of its "
                               "addresses, e.g. 127.0.0.1") from None
        if exc.errno == errno.EACCES:
            raise OptionError(f"--port {port}: not allowed here ({_why(exc)}); give a --port above 1023, or "
                               "--port 0 for any free one") from None
        raise OptionError(f"--host {host} --port {port}: cannot listen there ({_why(exc)})") from None
    return sock


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
