"""Where a store lives: an SQLite file (a path), or a PostgreSQL database (a ``postgresql://`` URL).

The ``--db`` option gives a ``Path`` for a file and a ``DatabaseURL`` for a database; both answer
``exists()``, ``name`` and ``str()``, so a command treats them alike. PostgreSQL needs the ``scale`` extra
(psycopg 3); without it, a URL is refused with what to install (exit 5).
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

from .errors import InputError

URL_SCHEMES = ("postgresql://", "postgres://")
SCALE_EXTRA = 'pip install "formkit[scale]"'


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
        parts = urlsplit(self)
        if parts.password is None:
            return str(self)
        netloc = re.sub(r":[^@]*@", ":***@", parts.netloc, count=1)
        return urlunsplit(parts._replace(netloc=netloc))

    def __format__(self, spec: str) -> str:
        """In messages (every f-string), the URL with its password hidden; ``str()`` keeps it, to connect."""
        return format(self.shown, spec)

    def exists(self) -> bool:
        """Whether the database holds a formkit store (False for an empty database). Connects: an
        unreachable server raises ``StoreError`` (exit 7), a missing driver ``InputError`` (exit 5)."""
        from .postgres import holds_store

        return holds_store(self)
