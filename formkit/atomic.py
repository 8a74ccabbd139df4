"""Write outputs all-or-nothing: to temporary files beside the targets, renamed only on success.

Only regular files are ever replaced: a target that exists and is anything else (a device such as
/dev/full, a named pipe, a folder, a socket or a symbolic link, even one to a regular file) is refused
before anything is written, since the rename would put the output in its place. So is a target that is one
of the command's own inputs (``inputs``: its template or roster, say), by its path or another name of the
same file: a mistyped ``--out`` would otherwise replace the input with the output; and a target that is a
database or a print run's manifest, whatever the command (``_kept_whole``). A failed write (a full
disk, say) becomes an ``OutputError`` that names the target and the reason, and leaves no temporary
file behind.

Permissions: every output gets the mode any new file gets from the user's umask (``0666 & ~umask``,
usually 0644), as the store does; keeping health data from other users is the job of the folder it is
written to, not of each file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .errors import OutputError

_NOT_REGULAR = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_SQLITE_START = b"SQLite format 3\x00"
_MANIFEST_START = b"serial,pdf_page,"  # formkit.generate.MANIFEST_COLUMNS


def write_arrays(target: Path, arrays: dict, compressed: bool = True) -> None:
    """``arrays`` (name -> NumPy array) as one ``.npz`` file at ``target``, all or nothing (a model, its
    calibration, a cache of rendered digits)."""
    import numpy as np  # here, not at the top: most writers of outputs never need it

    with atomic_outputs(target) as (temp,), open(temp, "wb") as out:
        (np.savez_compressed if compressed else np.savez)(out, **arrays)


@contextlib.contextmanager
def atomic_outputs(*targets: Path, inputs: Mapping[Path, str] | None = None,
                   never_replaced: Mapping[Path, str] | None = None) -> Iterator[list[Path]]:
    """Yield temporary paths for ``targets``; if the block succeeds every target is replaced,
    otherwise none is touched and the temporary files are removed. An ``OSError`` raised in the block
    while writing the temporary files, or by the renames, becomes an ``OutputError``. ``inputs`` (path ->
    what it is, "roster" say) are the files the command reads: a target that is one of them is refused.
    ``never_replaced`` (target -> what to do instead) are targets refused if they exist already."""
    inputs = inputs or {}
    _check_targets(targets, inputs, never_replaced or {})
    for target, instead in (never_replaced or {}).items():
        if target.exists():
            raise OutputError(f"{target}: already exists{instead}")
    temps: list[Path] = []
    made: list[Path] = []  # folders made here, removed again (if still empty) when the outputs fail
    target = targets[0]
    try:
        for target in targets:
            made += _make_folder(target.parent)
            temps.append(_new_temp(target))
    except OSError as exc:
        _remove(temps, made)
        # named as given: the temporary file's name is ours, not the user's
        raise OutputError(f"cannot write {target}: {_folder_reason(exc, target)}; nothing was written") from exc
    replaced: list[Path] = []
    try:
        try:
            yield temps
        except OSError as exc:
            if not _is_about(exc, temps, targets):
                raise
            raise OutputError(_cannot_write(exc, temps, targets)) from exc
        # again: something may have been put there while the outputs were written
        _check_targets(targets, inputs, never_replaced or {})
        for temp, target in zip(temps, targets, strict=True):
            try:
                os.replace(temp, target)
            except OSError as exc:
                done = f"; already replaced: {', '.join(map(str, replaced))}" if replaced else "; nothing was written"
                raise OutputError(f"cannot write {target}: {_reason(exc)}{done}") from exc
            replaced.append(target)
    finally:
        _remove(temps, [] if replaced else made)


def _new_temp(target: Path) -> Path:
    """A new empty file beside ``target``. Not ``tempfile.mkstemp``: it creates files 0600, while an output
    should get the mode a new file gets under the umask (``0666 & ~umask``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        path = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
        try:
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", os.fspath(target.parent))


def _check_targets(targets: Sequence[Path], inputs: Mapping[Path, str], refused_anyway: Mapping[Path, str]) -> None:
    """Refuse a target that is an input, exists and is not a regular file, is a file no output replaces
    (``_kept_whole``: but one of ``refused_anyway``, if it exists, is refused with its own message), or is
    given twice."""
    seen: set[str] = set()
    for target in targets:
        key = os.path.normcase(os.path.abspath(target))
        if key in seen:
            raise OutputError(f"{target}: given twice as an output; give each output its own file name")
        seen.add(key)
        for source, what in inputs.items():
            if _same_file(target, source):
                raise OutputError(f"{target}: is the {what} this command reads ({source}); writing it would "
                                  f"replace the {what}: give the output another name; nothing was written")
        try:
            mode = os.lstat(target).st_mode
        except OSError:
            continue  # missing (the usual case), or a bad folder the next step reports
        if stat.S_ISLNK(mode):
            try:
                to = f" to {os.readlink(target)}"
            except OSError:
                to = ""
            raise OutputError(f"{target}: is a symbolic link{to}; formkit replaces only regular files, never a link "
                              "(not even one to a regular file) nor what it points to: give the file's own path")
        for test, kind in _NOT_REGULAR:
            if test(mode):
                raise OutputError(f"{target}: is {kind}, not a regular file; formkit writes only new or regular "
                                  "files: give another path")
        kept = _kept_whole(target) if target not in refused_anyway else ""
        if kept:
            raise OutputError(f"{target}: is {kept}, which formkit never replaces with an output: give the output "
                              "another name; nothing was written")


def _kept_whole(target: Path) -> str:
    """What the file at ``target`` is, if it is one that no output may replace ('' otherwise): a database (a
    formkit store: every page read, every decision, the audit log) or a print run's manifest (the only link
    from serials to people's codes). A report's --out or a dictionary's, mistyped, replaced them unasked."""
    try:
        with open(target, "rb") as existing:
            start = existing.read(len(_MANIFEST_START) + 3)
    except OSError:
        return ""
    if start.startswith(_SQLITE_START):
        return "a database (a formkit store?)"
    if start.removeprefix(b"\xef\xbb\xbf").startswith(_MANIFEST_START):
        return "a print run's manifest (serials and codes)"
    return ""


def _same_file(target: Path, source: Path) -> bool:
    """Whether ``target`` names the file ``source`` does: the same path once links are followed, or (both
    existing) the same file under another name, a hard link say."""
    if os.path.normcase(os.path.realpath(target)) == os.path.normcase(os.path.realpath(source)):
        return True
    try:
        return os.path.samefile(target, source)
    except OSError:  # either is missing (an output usually is): not the same file
        return False


def _is_about(exc: OSError, temps: list[Path], targets: Sequence[Path]) -> bool:
    """Whether ``exc`` is from writing the outputs: it names no file (a write or close), or one of them."""
    if exc.filename is None:
        return True
    return os.fspath(exc.filename) in {os.fspath(p) for p in (*temps, *targets)}


def _cannot_write(exc: OSError, temps: list[Path], targets: Sequence[Path]) -> str:
    named = [t for p, t in zip(temps, targets, strict=True) if exc.filename is not None
             and os.fspath(exc.filename) in (os.fspath(p), os.fspath(t))]
    which = named or list(targets)
    folders = {t.parent for t in which}
    if len(which) > 1 and len(folders) == 1:
        where = f"{', '.join(t.name for t in which)} in {folders.pop()}"
    else:
        where = ", ".join(map(str, which))
    advice = ": free space and run the same command again" if exc.errno in _FULL else ""
    return f"cannot write {where}: {_reason(exc)}; nothing was written{advice}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _folder_reason(exc: OSError, target: Path) -> str:
    """Why ``target``'s folder could not take a file: ``exc``'s reason, or which part of its path is a file."""
    if exc.errno == errno.ENOTDIR:
        part = target.parent
        while part != part.parent and not part.exists():
            part = part.parent
        if part.is_file():
            return f"{part} is a file, not a folder"
    return _reason(exc)


def _make_folder(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; returns those made, deepest last."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made = []
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile: not ours to remove
            path.mkdir()
            made.append(path)
    return made


def _remove(paths: list[Path], folders: Sequence[Path] = ()) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty: something else was put there
            folder.rmdir()
