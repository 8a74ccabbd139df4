"""Review: the local web page for what the scanner was unsure of."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from . import pipeline
from .base import db_option, main, reports_errors


@main.command(short_help="Open the review page for flagged values.")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this computer needs the access token printed.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@reports_errors
def review(db: Path, host: str, port: int, no_browser: bool) -> None:
    """Open the review page: only what the scanner was unsure of, keyboard first."""
    import secrets
    import webbrowser

    from werkzeug.serving import make_server

    from ..catalogue import shipped_catalogue
    from ..review.app import LOOPBACK, allowed_hosts_for, create_app

    if not db.exists():
        raise InputError(f"{db}: no such store; run 'formkit scan' first")
    token = None if host in LOOPBACK else secrets.token_urlsafe(16)
    catalogue = shipped_catalogue()
    # answers nothing until the port is known (--port 0 picks a free one), then only its own address
    app = create_app(db, catalogue, pipeline.reader(catalogue), token, allowed_hosts=set(),
                     rank=pipeline.ranker(catalogue))
    server = make_server(host, port, app, threaded=True)
    app.config["ALLOWED_HOSTS"] = allowed_hosts_for(host, server.server_port)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{server.server_port}/" + (f"?token={token}" if token else "")
    click.echo(f"Reviewing {db} at {url}  (Ctrl+C to stop)")
    if not no_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
