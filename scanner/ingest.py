"""Find input files, identify them by content, and load their pages as greyscale arrays.

Colour pages are reduced with the darkest channel, so blue, red or black pen all read as ink.
"""

from __future__ import annotations

import os
import sys
from functools import cache, reduce
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from formkit.records import InputFile, file_sha256, file_stamp, unopened_key

from .decoder_output import caught_stderr

# iPhones save photos as HEIC unless told otherwise; Pillow reads them through pillow-heif (``_open_image``)
HEIF_SUFFIXES = {".heic", ".heif"}
# ... and a HEIC renamed .jpg (by a transfer app, a mail client) is known by the brand in its first bytes
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# greyscale of more than 8 bits (16-bit PNG and TIFF scans, 32-bit integer or float TIFF): read as numbers and
# scaled to 8 bits; Pillow's conversion to RGB clips every value over 255 to white (a whole page read blank)
DEEP_GREY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
# .jfif is how Windows browsers save a JPEG (a photo saved from WhatsApp Web, a webmail attachment); Pillow
# reads AVIF and GIF as it reads the rest
IMAGE_SUFFIXES = ({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".bmp", ".webp", ".avif", ".gif"}
                  | HEIF_SUFFIXES)
PDF_SUFFIXES = {".pdf"}
# A file is read as what its first bytes say it is, whatever its name: a phone app's "scan.pdf" that is a
# JPEG, a PDF saved as .jpg. The PDF header may come after other bytes (the spec allows some junk first).
HEAD_BYTES = 1024
MAX_PIXELS = 80_000_000  # a 12 MP photo is 12 M; a 600 dpi A4 scan is 35 M
# The smallest page formkit prints (a 54 mm card) photographed at 3 px/mm is 160 px across; no page is
# more than 2:1, however it is framed.
MIN_SIDE_PX = 100
MAX_ASPECT = 8
# A JPEG over MAX_PIXELS (a 50-200 MP phone photo) is decoded at a half, a quarter or an eighth of its size,
# which libjpeg does directly, at that fraction of the memory; anything else over it is refused.
JPEG_SCALES = (1, 2, 4, 8)
REDUCED_DECODE = {(1, False): cv2.IMREAD_GRAYSCALE, (1, True): cv2.IMREAD_COLOR,
                  (2, False): cv2.IMREAD_REDUCED_GRAYSCALE_2, (2, True): cv2.IMREAD_REDUCED_COLOR_2,
                  (4, False): cv2.IMREAD_REDUCED_GRAYSCALE_4, (4, True): cv2.IMREAD_REDUCED_COLOR_4,
                  (8, False): cv2.IMREAD_REDUCED_GRAYSCALE_8, (8, True): cv2.IMREAD_REDUCED_COLOR_8}
# The paper's colour is read from the lightest 15 % of an image, sampled every 16th pixel each way: in a photo,
# mostly the page, whatever lies beside it (a bright folder, a mug; the lightest 40 % took in a grey desk on 4
# of 20 benchmark photos, the lightest 2 % of each channel a bright object on 13). A channel in which the paper
# is under 0.6 as light as in its lightest channel is the paper's colour (canary yellow's blue: 0.35; cream,
# pastel yellow, pink, salmon, blue and green: 0.63-0.9, kept). 3 MP photos of forms on canary paper
# (benchmarks/scan_accuracy.py, 60 pages): 19.6 % of fields to review needlessly with that channel, 3.4 %
# without it, as white paper's
PAPER_SAMPLE_STEP = 16
PAPER_SHARE = 0.15
COLOURED_PAPER = 0.6
# PIL refuses (rather than decodes) anything far beyond what we may decode; our own checks come first
Image.MAX_IMAGE_PIXELS = MAX_PIXELS * JPEG_SCALES[-1] ** 2


FILE_CHANGING = "the file changed while it was being hashed (still being written?): scan it again once it is complete"
FILE_CHANGED = ("the file changed after it was hashed: this page is no longer of the content read as that file; "
                "scan the file again")
EMPTY_FILE = "an empty file (0 bytes): copy it again from the scanner or phone"
DAMAGED = "the file is damaged or cut short (copied before it was whole?): copy it again"
# the first bytes of the image formats formkit reads: a file that begins so and cannot be opened is damaged, not
# of another kind (a TIFF cut in half was said to be "neither an image nor a PDF": an adversarial pass, 2026-12-07)
IMAGE_SIGNATURES = (b"II*\x00", b"MM\x00*", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
# A TIFF frame marked (NewSubfileType bit 0) as a reduced-resolution copy of another: a thumbnail or preview
# that scanner software or an editor stores after the page, never a page of its own
TIFF_SUBFILE_TYPE = 254
REDUCED_COPY = "a smaller copy (a thumbnail) of another page of the file, not a page: nothing to do"
UNKNOWN_FORMAT = ("neither an image nor a PDF that formkit knows, whatever its name says (a document, a video, "
                  "or a copy that failed: zeros?): scan or copy the page again, saved as PDF, JPEG or PNG")


class PageLoadError(Exception):
    """A page that cannot be loaded; the message is the reason stored with the rejected page."""


class Inputs(NamedTuple):
    """What ``find_inputs`` found."""

    files: list[Path]  # to read, each once
    missing: list[str]  # paths given that do not exist
    # in the folders given, files that are neither images nor PDFs (hidden ones aside) and what is no regular
    # file (a link to nothing, a pipe); and a path given that is no file (a pipe)
    ignored: list[Path]
    # folders that could not be listed (no permission, gone meanwhile), with why: what they hold was not read
    unreadable: list[tuple[str, str]]


def find_inputs(paths: list[str | Path], store: Path | None = None) -> Inputs:
    """Files to read under ``paths`` (folders recursively, in name order), each once however often it is
    named (a file and the folder it is in, or the same file twice); paths that do not exist; and the files
    in those folders left unread for their kind (a file named itself is always read, or rejected with a
    reason). The files of ``store`` (the store the scan writes, and its -wal, -shm and -journal files) in a
    folder scanned are passed over without a word: they come and go as it is written."""
    files: list[Path] = []
    missing: list[str] = []
    ignored: list[Path] = []
    unreadable: list[tuple[str, str]] = []
    seen: set[Path] = set()
    own: set[Path] = set()
    if store is not None:
        db = store.resolve()
        own = {db, *(db.with_name(db.name + side) for side in ("-wal", "-shm", "-journal"))}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []
            for p in _files_under(path, unreadable):
                if own and p.is_file() and not p.is_symlink() and p.resolve() in own:
                    continue  # the store's own files (a link, even to them, is named as ever)
                # not a regular file: a link to nothing, a pipe: named with the rest left unread
                (found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES else ignored).append(p)
        elif path.is_file():
            found = [path]
        elif path.exists():  # a pipe or a device: there, but no file to read
            ignored.append(path)
            continue
        else:
            missing.append(str(raw))
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return Inputs(files, missing, ignored, unreadable)


def _files_under(folder: Path, unreadable: list[tuple[str, str]]) -> list[Path]:
    """Everything but folders under ``folder``, in name order: hidden names and what hidden folders hold (.git,
    a sync tool's own) aside. A folder reached through a link is walked too, unless it lies within ``folder``
    (its files are found under their own names) or holds it (a link up to a folder above, whose other files
    nobody asked to read); each folder once. A folder that cannot be listed is added to ``unreadable`` with
    why: ``rglob`` passed over one without a word, and over every linked folder (their pages unread, the scan
    saying nothing)."""
    out: list[Path] = []
    top = os.path.realpath(folder)
    walked: set[str] = set()

    def cannot_list(exc: OSError) -> None:
        unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    def followed(path: str) -> bool:
        if not os.path.islink(path):
            return True
        real = os.path.realpath(path)
        return not (_within(real, top) or _within(top, real))

    for root, folders, names in os.walk(folder, onerror=cannot_list, followlinks=True):
        real = os.path.realpath(root)
        if real in walked:
            folders[:] = []
            continue
        walked.add(real)
        folders[:] = sorted(f for f in folders if not f.startswith(".") and followed(os.path.join(root, f)))
        out += [Path(root) / name for name in names if not name.startswith(".")]
    return sorted(out)


def _within(path: str, folder: str) -> bool:
    """Whether real path ``path`` is ``folder`` or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def describe(path: Path) -> InputFile:
    """Hash ``path`` and count its pages without decoding them. A file that cannot be read at all (no
    permission, gone meanwhile) is described by a hash of its name, with the reason as its error."""
    try:
        before = path.stat()
        sha = file_sha256(path)
        after = path.stat()
    except OSError as exc:
        return InputFile(str(path), unopened_key(str(path)), 0, 0, f"cannot open the file ({exc.strerror or exc})")
    if file_stamp(before) != file_stamp(after):
        return InputFile(str(path), unopened_key(str(path)), 0, 0, FILE_CHANGING)
    size, modified_ns = file_stamp(after)
    if size == 0:  # every empty file has one content: keyed by its name, or each would be "the same as" the first
        return InputFile(str(path), unopened_key(str(path)), 0, 0, EMPTY_FILE)
    try:
        return InputFile(str(path), sha, size, count_pages(path), modified_ns=modified_ns)
    except PageLoadError as exc:
        return InputFile(str(path), sha, size, 0, str(exc), modified_ns)


def count_pages(path: Path) -> int:
    """How many pages ``path`` holds, read from its header or page tree; ``PageLoadError`` saying what to do
    for a file that cannot be read (``describe`` takes an empty file before it comes here)."""
    head = _head(path)
    if _is_pdf(path, head):
        from .pdf_pages import count_pdf_pages

        return count_pdf_pages(path)
    try:
        with _open_image(path, head) as image:
            frames = _pages_in(image)
            # every frame's size, read from its header before anything is decoded: one too large to decode
            # refuses the file; one too small (a thumbnail a scanner or editor put after the page) is a page
            # rejected when it is read, and does not cost the file its other pages
            for index in range(frames):
                image.seek(index)
                check_size(*_decoded_size(image), where=f"page {index + 1}: " if index else "", small=not index)
            return frames
    except PageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise PageLoadError(f"image too large ({exc})") from exc
    except UnidentifiedImageError as exc:  # no decoder knows its first bytes, or what they point to is cut off
        if head.startswith(IMAGE_SIGNATURES):  # a TIFF cut short: its header points past the end
            raise PageLoadError(f"not a readable image: {DAMAGED}") from exc
        raise PageLoadError(UNKNOWN_FORMAT) from exc
    except Exception as exc:  # PIL raises many types for bad files
        raise PageLoadError(f"not a readable image: {DAMAGED} ({_said(exc)})") from exc


def load_page(path: Path, index: int) -> tuple[np.ndarray, float | None]:
    """Page ``index`` of ``path`` as a uint8 greyscale array, and its resolution in dpi when known. What the
    decoders print themselves (``decoder_output``) joins the reason a page cannot be read, or is said again
    on standard error with the file's name and page."""
    said: list[str] = []
    try:
        with caught_stderr(said):
            page = _load_page(path, index)
    except PageLoadError as exc:
        if said:
            raise PageLoadError(f"{exc} ({'; '.join(said)})") from exc
        raise
    for line in said:
        print(f"formkit: note: {path}, page {index + 1}: {line}", file=sys.stderr)
    return page


def _load_page(path: Path, index: int) -> tuple[np.ndarray, float | None]:
    head = _head(path)
    if _is_pdf(path, head):
        from .pdf_pages import pdf_page

        return pdf_page(path, index)
    try:
        with _open_image(path, head) as image:
            frames = _pages_in(image)
            if index >= frames:
                raise PageLoadError(f"page {index + 1}: the file has {frames} page(s)")
            image.seek(index)
            if index and image.format == "TIFF" and int(image.tag_v2.get(TIFF_SUBFILE_TYPE, 0) or 0) & 1:
                raise PageLoadError(f"page {index + 1}: {REDUCED_COPY}")
            scale = _jpeg_scale(image)
            check_size(image.width // scale, image.height // scale, where=f"page {index + 1}: " if index else "")
            frame = image
            dpi = frame.info.get("dpi", (None,))[0]
            # OpenCV is faster than PIL for big photos, but decodes only a file's first frame and guesses its
            # format from the data: so only for a JPEG or PNG (as Pillow found it, whatever the name) of one
            # frame. A multi-page TIFF named .jpg, or an animated PNG, is read frame by frame through Pillow.
            # OpenCV turns a JPEG or PNG upright by its EXIF orientation as it decodes it (``_upright`` does so
            # for the rest); a PNG with a transparent colour (tRNS) is left to Pillow, as OpenCV drops it.
            if (image.format in ("JPEG", "MPO", "PNG") and frames == 1 and frame.mode in ("RGB", "L")
                    and "transparency" not in frame.info):
                grey = _decode_with_opencv(path, colour=frame.mode == "RGB", scale=scale)
            else:
                if scale > 1:  # a CMYK JPEG, say: decoded at that fraction all the same
                    frame.draft(frame.mode, (frame.width // scale, frame.height // scale))
                grey = _grey(_upright(frame))
            return grey, float(dpi) / scale if dpi else None
    except PageLoadError:
        raise
    except UnidentifiedImageError as exc:  # counted by another decoder than reads it now (pillow-heif gone?)
        raise PageLoadError(UNKNOWN_FORMAT) from exc
    except Exception as exc:  # its header read, its data not: cut short or damaged (a HEIC's libheif says so)
        raise PageLoadError(f"cannot decode page {index + 1}: {DAMAGED} ({_said(exc)})") from exc


def _said(exc: Exception) -> str:
    """What a decoder said, on one line (libheif's messages run over several)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _pages_in(image: Image.Image) -> int:
    """How many pages an opened image file holds: one per frame, but one for a JPEG that carries other
    images through its MPF segment (Pillow's MPO): an HDR gain map (ISO 21496-1, which iPhones and Android
    phones write), a preview, a depth map, a 3D camera's second view; never another page. Read as pages, a
    small one rejected the whole photo, a large one became a page of its own."""
    return 1 if image.format == "MPO" else getattr(image, "n_frames", 1)


def _head(path: Path) -> bytes:
    """The first bytes of ``path`` (none when it cannot be read: opening it says why, in its place)."""
    try:
        with path.open("rb") as file:
            return file.read(HEAD_BYTES)
    except OSError:
        return b""


def _is_pdf(path: Path, head: bytes) -> bool:
    """Whether ``path``, whose first bytes are ``head`` (``_head``), is read as a PDF: by its content, the PDF
    header in those bytes; or, when no image decoder knows it either, by its name, so that a PDF damaged at its
    start is rejected as one."""
    if head.startswith(b"%PDF-"):
        return True
    if b"%PDF-" not in head and path.suffix.lower() not in PDF_SUFFIXES:
        return False
    try:  # the header after other bytes, or a file named .pdf without one: an image if a decoder knows it
        with _open_image(path, head):
            return False  # a JPEG or TIFF named .pdf (a phone app's, a copier's)
    except Exception:
        return True


def _open_image(path: Path, head: bytes) -> Image.Image:
    """``path`` opened by Pillow, HEIC and HEIF photos too (by their name or, renamed, by their first bytes,
    ``head``)."""
    if path.suffix.lower() in HEIF_SUFFIXES or _heif_brand(head):
        _read_heif()
    return Image.open(path)


def _heif_brand(head: bytes) -> bool:
    """Whether the first bytes of a file are those of a HEIF file (an ISO box 'ftyp' and a HEIF brand)."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def _upright(frame: Image.Image) -> Image.Image:
    """``frame`` turned (or mirrored) as its EXIF orientation says it is to be seen. A phone or an editor may
    save the pixels as the sensor saw them and the turn in a tag: read without it, a page saved mirrored was
    read mirrored (no markers found, the page lost). Pillow's TIFF and pillow-heif's HEIC do so as they load
    it, and clear the tag; OpenCV does so itself for the JPEG and PNG it decodes. So ``frame`` is loaded first,
    not memory-mapped: Pillow maps an uncompressed grey, palette, 16-bit or CMYK TIFF's pixels at its turned
    size (a TIFF tagged 5-8 read sheared, and its tag cleared), where read they come out turned right."""
    if frame.format == "TIFF" and frame.tile and frame.tag_v2.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
        frame.load_read = frame.fp.read  # a read function of its own is what keeps Pillow from mapping it
    frame.load()
    try:
        orientation = frame.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # EXIF that cannot be parsed: shown as stored by any viewer, so read as stored
        return frame
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        ImageOps.exif_transpose(frame, in_place=True)
    return frame


def _grey(frame: Image.Image) -> np.ndarray:
    """A decoded frame as uint8 grey (``darkest_channel``); what is transparent is white paper. A page with
    a transparent background (saved from a PDF viewer or an editor) often keeps black under it: without its
    alpha, the whole page was black and rejected as too dark to be paper."""
    # (deep grey is read as its numbers whatever its tRNS: converted, every value over 255 would be white)
    if frame.mode in DEEP_GREY_MODES or (frame.mode in ("L", "RGB") and "transparency" not in frame.info):
        return darkest_channel(np.asarray(frame))
    if not (frame.has_transparency_data or frame.mode.endswith(("A", "a"))):
        return darkest_channel(np.asarray(frame.convert("RGB")))
    rgba = np.asarray(frame.convert("RGBA"))
    grey, alpha = darkest_channel(rgba), np.ascontiguousarray(rgba[..., 3])
    if not cv2.countNonZero(alpha):  # nothing opaque: an alpha never set (as some programs leave it), not a
        return grey  # page of nothing, which on white would be stored as blank
    return cv2.subtract(255, cv2.multiply(cv2.subtract(255, grey), alpha, scale=1 / 255))


@cache
def _read_heif() -> None:
    """Teach Pillow to open HEIC and HEIF files (once; importing pillow-heif takes a while, so only when one
    comes)."""
    try:
        import pillow_heif
    except ImportError as exc:
        raise PageLoadError("a HEIC photo needs the pillow-heif package (pip install pillow-heif), or save the "
                            "photo as JPEG") from exc
    pillow_heif.register_heif_opener()


def check_size(width: int, height: int, where: str = "", what: str = "image", dpi: int | None = None,
                small: bool = True) -> None:
    """Refuse a page of ``width`` x ``height`` px too large to decode, or (when ``small``, as ever but for the
    frames after a file's first, each rejected alone when read) too small or narrow to hold a form page;
    ``where`` starts the reason (which frame of a file), ``dpi`` is the resolution a PDF page renders at."""
    at = f" at {dpi} dpi" if dpi else ""
    if width * height > MAX_PIXELS:
        raise PageLoadError(f"{where}{what} too large ({width} x {height} px{at}; the limit is "
                            f"{MAX_PIXELS // 1_000_000} MP)")
    if small and (min(width, height) < MIN_SIDE_PX or max(width, height) > MAX_ASPECT * min(width, height)):
        raise PageLoadError(f"{where}{what} too small or too narrow to hold a form page ({width} x {height} px{at})")


def _jpeg_scale(image: Image.Image) -> int:
    """1, or for a JPEG too large to decode whole, the fraction of its size (2, 4 or 8) that brings it under
    ``MAX_PIXELS`` (1 when even an eighth does not: it is then refused as too large)."""
    if image.format not in ("JPEG", "MPO"):
        return 1
    width, height = image.size
    return next((s for s in JPEG_SCALES if (width // s) * (height // s) <= MAX_PIXELS), 1)


def _decoded_size(image: Image.Image) -> tuple[int, int]:
    scale = _jpeg_scale(image)
    return image.width // scale, image.height // scale


def _decode_with_opencv(path: Path, colour: bool, scale: int = 1) -> np.ndarray:
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, REDUCED_DECODE[(scale, colour)])
    if image is None:
        raise PageLoadError(f"cannot decode the image data: {DAMAGED}")
    return darkest_channel(image)


def darkest_channel(image: np.ndarray) -> np.ndarray:
    """The darkest of an image's colour channels (uint8), or a grey image as it is; grey of more than 8 bits
    stretched linearly from its darkest to its lightest value (a 12-bit scan in 16-bit words too).

    A page printed on strongly coloured paper is dark in the channel its colour lacks (canary yellow's blue
    at a third of its red), where ink is no darker than anywhere else: that channel (``paper_channels``) is
    left out, so the paper is as light as the other channels see it."""
    if image.ndim == 2:
        return image if image.dtype == np.uint8 else cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)
    split = cv2.split(np.ascontiguousarray(image[..., :3]))
    channels = [channel for keep, channel in zip(paper_channels(image), split, strict=True) if keep]
    return reduce(cv2.min, channels)  # far faster than numpy's min(axis=2)


def paper_channels(image: np.ndarray) -> tuple[bool, ...]:
    """Which of a colour ``image``'s three channels to read ink in: all three, or all but the one in which the
    paper is under ``COLOURED_PAPER`` as light as in its lightest channel. The paper's colour: each channel's
    share of the lightest, the median over the lightest ``PAPER_SHARE`` of the image (sampled), which in a
    photo is mostly the page however bright the things beside it. One channel at most: every ink a person can
    see on the page darkens at least one of the two left, and a desk filling most of a photo cannot take two."""
    height, width = image.shape[:2]
    sample = cv2.resize(np.ascontiguousarray(image[..., :3]), (max(1, width // PAPER_SAMPLE_STEP),
                        max(1, height // PAPER_SAMPLE_STEP)), interpolation=cv2.INTER_NEAREST).reshape(-1, 3)
    lightest = sample.max(axis=1)
    light = sample[lightest >= max(1, np.percentile(lightest, 100 - 100 * PAPER_SHARE))]
    if not len(light):  # black all over: no paper to tell a colour by
        return (True, True, True)
    colour = np.median(light / light.max(axis=1, keepdims=True), axis=0)
    weakest = int(np.argmin(colour))
    if colour[weakest] >= COLOURED_PAPER:
        return (True, True, True)
    return tuple(c != weakest for c in range(3))
