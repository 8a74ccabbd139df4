"""The records that pass between the scanner, the store, review and export: plain data, picklable, so
worker processes can hand them to the process that owns the store."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
import sys
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class PageState(StrEnum):
    """Where a page ended. Stored as its text; every page has exactly one."""

    READ = "read"
    CONFLICT = "conflict"  # a second, different image of a page already read: kept beside the first
    BLANK = "blank"  # empty paper (the back of a duplex scan)
    UNIDENTIFIED = "unidentified"  # markers found, QR and printed code unreadable: a person says which page
    REJECTED = "rejected"  # not readable, with the reason
    VOIDED = "voided"  # taken out of every export and queue by a person (kept, restorable): see formkit.store

    @property
    def was_read(self) -> bool:
        return self in (PageState.READ, PageState.CONFLICT)


@dataclass(frozen=True)
class InputFile:
    """One input file, identified by the SHA-256 of its content."""

    path: str
    sha256: str
    size_bytes: int
    pages: int  # 0 when the file cannot be opened at all
    error: str = ""
    modified_ns: int = 0  # its modification time when hashed: a page read after a change is not of this content


# Keys of ``FieldValue.raw`` that the scanner writes and formkit reads back: a value whose raw readings
# hold any of the others stays flagged whatever the respondent's fill convention (``conventions``).
RAW_PAGE_FLAGGED = "page_flagged"  # the page was flagged as a whole
RAW_WASHED_OUT = "washed_out"  # parts of the print glare washed out
RAW_HIDDEN = "hidden"  # parts of the print covered (a note, a fold, a finger)
# a choice box under the person's own correction fluid or tape (its row read as its other, clear mark): the
# option; the box stays in ``hidden`` or ``washed_out`` too, where the print rules found it
RAW_WHITED_OUT = "whited_out"
RAW_OUTSIDE_IMAGE = "outside_image"  # the share of the field past the image's edge
RAW_UNSEEN = (RAW_WASHED_OUT, RAW_HIDDEN, RAW_OUTSIDE_IMAGE)
RAW_RUNS_PAST_BOX = "runs_past_box"  # a box's ink runs on far past it: a stain's edge, a clip's wire
RAW_INTO_QUESTION = "into_question"  # a box's stroke runs into another question's box: a tall tick
RAW_OVERLAID = "overlaid"  # something opaque lies over part of a marked box: a punched hole, a fingertip
# boxes read as empty under a darker side's shade that hold ink darker than it, or a trace darker than the paper
# level with it (a mark in the lit part of a box a shadow's edge crosses)
RAW_SHADED = "shaded"
RAW_COVERED = "covered"  # boxes a side of whose printed border does not show: a finger, a note, a clip


@dataclass
class FieldValue:
    field: str
    kind: str
    value: str  # as exported: an option value, values joined by ';', a number, or '' when blank
    confidence: float
    needs_review: bool
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    crop_jpeg: bytes | None = field(default=None, repr=False)


@dataclass
class PageResult:
    source_file: str
    source_page: int  # 1-based
    sha256: str
    status: PageState
    reason: str = ""
    form: str = ""
    version: int = 0
    variant: str = ""
    form_page: int = 0
    serial: str = ""
    transform: list[list[float]] | None = None  # layout mm -> source pixels
    error_mm: float | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    # the registered page (or the source, when unregistered), reduced
    image_jpeg: bytes | None = field(default=None, repr=False)
    values: list[FieldValue] = field(default_factory=list)
    region: int = 0  # which form page of the image, when it holds several (cards side by side)
    # the day the page is read, which a date of filling in cannot lie after (``scanner.dates.judge_dates``); None:
    # the machine's local date when it is read. A benchmark reading dates it wrote gives its own day.
    read_on: dt.date | None = None


FIRST_YEAR = 1900
# The forms' dates are days they were filled in or goals are to be reviewed: a year or two ahead at most.
# A year more than this after the year the page is read is a misreading: the paired-forms test's
# 06/04/2026 was read as 2076 (its 2 written like a Z: a 7 at p 0.99) by networks trained on other writers.
YEARS_AHEAD = 5


# a value sent to review has at most this confidence (scanner.resolve.flag_for_review, and the store's flags)
REVIEW_CONFIDENCE = 0.5


def iso_day(text: str) -> dt.date | None:
    """The day a stored date value (ISO text, as the scanner writes dates) names; ``None`` for '' or anything
    else."""
    try:
        return dt.date.fromisoformat(text) if text else None  # (a stored value may be NULL)
    except ValueError:
        return None


def flagged(confidence: float, reason: str, why: str) -> tuple[float, str]:
    """A value's confidence and reason once it goes to review for ``why``: the confidence at most
    ``REVIEW_CONFIDENCE``, ``why`` added to any reason it has."""
    return min(confidence, REVIEW_CONFIDENCE), "; ".join(filter(None, [reason, why]))


def plausible_years(today: dt.date | None = None) -> tuple[int, int]:
    """(first, last): the years a date written on a form read ``today`` (default: the machine's local date)
    can have, for the scanner reading it and a person correcting it. A page read again another year is
    judged by that year's bound."""
    return FIRST_YEAR, (today or dt.date.today()).year + YEARS_AHEAD


def unopened_key(path: str) -> str:
    """What identifies a file that could not be opened at all (no permission, gone meanwhile), its content
    unknown: a hash of its name. Once the file opens, its content's hash takes the place of this one."""
    return hashlib.sha256(b"unreadable file: " + os.fsencode(path)).hexdigest()


def file_stamp(stat: os.stat_result) -> tuple[int, int]:
    """(size, modification time in ns) of a file's ``stat``: what tells that it was written since it was
    hashed, or since a store was read as it lay."""
    return stat.st_size, stat.st_mtime_ns


def file_sha256(path: Path, limit: int | None = None) -> str:
    """The SHA-256 of the file's content, hex: what names an input in the store. With ``limit``, of its first
    ``limit`` bytes only (all of them, if it holds fewer)."""
    digest = hashlib.sha256()
    left = sys.maxsize if limit is None else limit
    with path.open("rb") as handle:
        while left > 0 and (chunk := handle.read(min(left, 1 << 20))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


@dataclass
class FileReport:
    """How one file's pages ended in a run of ``formkit watch``."""

    path: Path
    pages: Counter = field(default_factory=Counter)  # pages stored now, by state
    reasons: Counter = field(default_factory=Counter)  # why pages were rejected or unidentified
    values_to_review: int = 0
    skipped_pages: int = 0  # already in the store
    unfinished: int = 0  # not read because the watch stopped: read on the next run
    same_as: str = ""  # the same content as this file of the same group: read once
    gone: bool = False  # removed before it was read
    still_changing: bool = False  # --once: still being written: left for the next run
    at_start: bool = False  # in the folder when the watch started

    @property
    def stored(self) -> int:
        return sum(self.pages.values())


FILES_NAMED = 5  # a message names this many files (or fields) of a kind, and says how many more there are


def first_few(names: list[str], counted: bool = True) -> str:
    """``names`` for a message: the first ``FILES_NAMED``, then "and 3 more" (or "and others" when ``names``
    holds only the first few of a longer list, not ``counted``)."""
    shown = ", ".join(names[:FILES_NAMED])
    more = len(names) - FILES_NAMED
    if more <= 0:
        return shown
    return f"{shown} and {more} more" if counted else f"{shown} and others"


def formkit_command(*words: object) -> str:
    """A formkit command line to paste into a shell: each word quoted as the shell needs, a store's address
    as ``format`` shows it (a PostgreSQL URL without its password)."""
    return " ".join(["formkit", *(shlex.quote(format(word)) for word in words)])


@dataclass
class ScanSummary:
    """How the pages of a run of ``formkit scan`` (or of one look of ``formkit watch``) ended."""

    pages: Counter = field(default_factory=Counter)  # by state
    reasons: Counter = field(default_factory=Counter)  # rejected / unidentified reasons
    # per reason, the first files it came from (``FILES_NAMED`` of them, and one more to tell there are more)
    reason_files: dict[str, list[str]] = field(default_factory=dict)
    values_to_review: int = 0
    skipped_pages: int = 0  # already in the store
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file with the same content)
    missing: list[str] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)  # files in the folders given that are not images or PDFs
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # folders that could not be listed, and why

    def note_reason(self, reason: str, source_file: str, pages: int = 1) -> None:
        """``pages`` pages of ``source_file`` not read, for ``reason``: counted, and the file kept to be named."""
        self.reasons[reason] += pages
        files = self.reason_files.setdefault(reason, [])
        if len(files) <= FILES_NAMED and source_file not in files:
            files.append(source_file)


@dataclass
class RereadSummary:
    """How the stored pages read again by ``formkit scan --reread`` ended."""

    pages: int = 0  # pages read again and saved
    changed: int = 0  # values that took a new reading
    kept: int = 0  # review decisions kept (the machine reads what it read before, or what was decided)
    flagged_again: int = 0  # reviewed values flagged again: the machine now reads something else
    identified: Counter = field(default_factory=Counter)  # unread pages now read, by their new state
    unchanged_unread: int = 0  # unidentified or rejected pages that still are
    failed: Counter = field(default_factory=Counter)  # pages read before that could not be read again, by reason
    skipped: int = 0  # pages voided or reassigned while they were being read
