"""Typed errors that carry an exit code and a message a user can act on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the ``formkit`` command exits with; the README's table lists them for users."""

    OK = 0
    INTERNAL = 1  # a bug: a traceback was printed
    USAGE = 2  # click's own code for a wrong option or argument
    TEMPLATE = 3  # invalid template or text pack
    LAYOUT = 4  # valid template whose content does not fit the page
    INPUT = 5  # bad input: a roster, codes file, band set, missing file or folder, missing store
    OUTPUT = 6  # an output could not be written
    STORE = 7  # the store is not a formkit store, is damaged, or is from a newer formkit
    BUSY = 8  # the store is being written by another formkit command
    INTERRUPTED = 130  # stopped by Ctrl+C (128 + SIGINT, as shells report it)
    TERMINATED = 143  # stopped by SIGTERM (a timeout, the system shutting down, docker stop): 128 + SIGTERM
    BROKEN_PIPE = 141  # the output's reader went away (128 + SIGPIPE)


class FormkitError(Exception):
    """Base class: ``exit_code`` is what the command-line tool exits with."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateError(FormkitError):
    """A template (or text pack) is invalid; the message names the file, line and item."""

    exit_code = ExitCode.TEMPLATE

    def __init__(self, path: str, message: str, line: int | None = None, item: str | None = None) -> None:
        where = path if line is None else f"{path}:{line}"
        what = f" (item '{item}')" if item else ""
        super().__init__(f"{where}{what}: {message}")
        self.path, self.line, self.item = path, line, item


class LayoutError(TemplateError):
    """The template is valid but its content cannot be laid out on the page."""

    exit_code = ExitCode.LAYOUT


class OptionError(FormkitError):
    """An option's value that click's own checks cannot judge (a port in use, a host that is not this computer)."""

    exit_code = ExitCode.USAGE


class InputError(FormkitError):
    """A user-supplied input file (roster, image, text pack) is missing or malformed."""

    exit_code = ExitCode.INPUT


class OutputError(FormkitError):
    """An output could not be written."""

    exit_code = ExitCode.OUTPUT


class StoreError(FormkitError):
    """The store cannot be used: not a formkit store, damaged, or written by a newer formkit."""

    exit_code = ExitCode.STORE


class StoreBusyError(FormkitError):
    """Another formkit command holds the store for writing."""

    exit_code = ExitCode.BUSY
