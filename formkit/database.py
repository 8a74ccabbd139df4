"""Where a store lives: an SQLite file (a path), or a PostgreSQL database (a ``postgresql://`` URL).

The ``--db`` option gives a ``Path`` for a file and a ``DatabaseURL`` for a database; both answer
``exists()``, ``name`` and ``str()``, so a command treats them alike. PostgreSQL needs the ``scale`` extra
(psycopg 3); without it, a URL is refused with what to install (exit 5).
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from urllib.parse import unquote, urlsplit

from .errors import InputError

URL_SCHEMES = ("postgresql://", "postgres://")
# user:PASSWORD@ (to the last '@', whatever the password holds), and a password given in the query
# (an '@' in the query, 'application_name=a@b', is no password's end: the user part holds no '/', the password
# no '?' or '#', which libpq would misread and formkit refuses)
_PASSWORD = re.compile(r"^([a-z]+://[^:@/?#]*):([^?#]*)@", re.IGNORECASE | re.DOTALL)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)
SCALE_EXTRA = 'pip install "formkit[scale]"'
MIN_HIDDEN = 4  # a secret shorter than this is not looked for in messages


def is_database_url(db: object) -> bool:
    """True for a PostgreSQL URL (a ``DatabaseURL`` or any text that starts like one)."""
    return isinstance(db, str) and db.lower().startswith(URL_SCHEMES)


def require(module: str, what: str) -> ModuleType:
    """Import ``module`` of the ``scale`` extra, or say what to install (exit 5)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"{what} needs the '{module.split('.')[0]}' package, which is not installed: "
                         f"{SCALE_EXTRA}") from exc


class DatabaseURL(str):
    """A PostgreSQL store named by its URL, e.g. ``postgresql://formkit@db.example.org/forms``. ``str()`` is
    the URL as given (the review app reconnects with it); ``shown`` hides a password in messages (better:
    keep it in ~/.pgpass or PGPASSWORD, which libpq reads)."""

    @property
    def name(self) -> str:
        """The database's name (the URL's path), as a file's name stands for an SQLite store."""
        return urlsplit(self).path.lstrip("/") or urlsplit(self).hostname or "postgresql"

    @property
    def shown(self) -> str:
        """The URL with its password hidden: the whole of it, even where it holds '@' or '/' (it showed what
        followed a password's '@'), and a ``password=`` in the query (shown in full before; an adversarial pass,
        2026-12-07). Never fails, even on a URL that does not parse."""
        return _QUERY_PASSWORD.sub(r"\1***", _PASSWORD.sub(r"\1:***@", str(self), count=1))

    def hidden(self, text: str) -> str:
        """``text`` (a driver's message) with this URL, and anything in it that may be its password, hidden."""
        text = text.replace(str(self), self.shown)
        for secret in sorted(self._secrets(), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _secrets(self) -> set[str]:
        """What may be the URL's password, as written and decoded: up to the last '@' (as ``shown`` hides it), up
        to the first (as libpq reads it), and in the query."""
        found = [value for _, value in _QUERY_PASSWORD.findall(self)]
        if match := _PASSWORD.match(self):
            found += [match.group(2), *match.group(2).split("@")]  # each piece libpq may quote as another part
        # a password of a few letters, or the user's own name, would hide every such word of libpq's message
        # ('user "***"'): the URL it quotes is hidden whole already
        try:
            user = unquote(urlsplit(self).username or "")
        except ValueError:  # a URL that does not parse ('[::1'): refused, its message hides what it can
            user = ""
        return {secret for secret in {*found, *map(unquote, found)} if len(secret) >= MIN_HIDDEN and secret != user}

    def __format__(self, spec: str) -> str:
        """In messages (every f-string), the URL with its password hidden; ``str()`` keeps it, to connect."""
        return format(self.shown, spec)

    def exists(self) -> bool:
        """Whether the database holds anything: a formkit store, or something else (which opening it refuses);
        False for an empty database. Connects: an unreachable server raises ``StoreError`` (exit 7), a missing
        driver ``InputError`` (exit 5)."""
        from .postgres import holds_store

        return holds_store(self)
