"""Typed errors that carry an exit code and a message a user can act on."""

from __future__ import annotations


class FormkitError(Exception):
    """Base class: ``exit_code`` is what the command-line tool exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateError(FormkitError):
    """A template (or text pack) is invalid; the message names the file, line and item."""

    exit_code = 3

    def __init__(self, path: str, message: str, line: int | None = None, item: str | None = None) -> None:
        where = path if line is None else f"{path}:{line}"
        what = f" (item '{item}')" if item else ""
        super().__init__(f"{where}{what}: {message}")
        self.path, self.line, self.item = path, line, item


class LayoutError(TemplateError):
    """The template is valid but its content cannot be laid out on the page."""

    exit_code = 4


class InputError(FormkitError):
    """A user-supplied input file (roster, image, text pack) is missing or malformed."""

    exit_code = 5


class OutputError(FormkitError):
    """An output could not be written."""

    exit_code = 6
