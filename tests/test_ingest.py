"""Loading input files: every page is its own pixels or a rejected page with a clear, one-line reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import Image

from formkit.records import FILES_NAMED, PageState
from formkit.store import Store
from formkit_cli import main
from scanner import decoder_output, ingest
from scanner.batch import Job, read_job, scan
from scanner.ingest import (
    DAMAGED,
    EMPTY_FILE,
    PageLoadError,
    count_pages,
    describe,
    load_page,
)
from scanner.pdf_pages import MAX_PDF_PAGES, PASSWORD, PDF_DPI


def two_frames() -> tuple[np.ndarray, np.ndarray]:
    first = np.full((160, 240), 255, np.uint8)
    second = np.full((160, 240), 40, np.uint8)
    second[40:120, 60:180] = 200
    return first, second


def pdf_with_pages(path: Path, *sizes_pt: tuple[float, float]) -> Path:
    document = pdfium.PdfDocument.new()
    for width, height in sizes_pt:
        document.new_page(width, height)
    document.save(str(path))
    return path


def lying_pdf(path: Path, count: int) -> Path:
    """A PDF of one real page whose page tree says it has ``count``."""
    return write_pdf(path, [b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Count %d /Kids [3 0 R] >>" % count,
                            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>"])


def write_pdf(path: Path, objects: list[bytes], version: bytes = b"1.4") -> Path:
    """A PDF of ``objects`` (numbered from 1; object 1 the catalog) with its cross-reference table, as written
    by hand: what a test needs that no PDF library would write (a page tree that lies, a page of odd content)."""
    data = bytearray(b"%%PDF-%s\n" % version)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("name", ["stack.jpg", "stack.jpeg", "stack.png"])
def test_each_frame_of_a_tiff_named_as_a_jpeg_or_png_is_its_own_page(tmp_path, name):
    """OpenCV decodes only a file's first frame: chosen by the file's name, it read page 2 of such a TIFF as
    page 1 again (stored as a conflict of page 1, the form on page 2 never read)."""
    first, second = two_frames()
    path = tmp_path / name
    Image.fromarray(first).save(path, format="TIFF", save_all=True, append_images=[Image.fromarray(second)])
    assert count_pages(path) == 2
    assert np.array_equal(load_page(path, 0)[0], first)
    assert np.array_equal(load_page(path, 1)[0], second)


def test_each_frame_of_an_animated_png_is_its_own_page(tmp_path):
    first, second = two_frames()
    path = tmp_path / "pages.png"
    Image.fromarray(first).save(path, format="PNG", save_all=True, append_images=[Image.fromarray(second)])
    assert count_pages(path) == 2
    assert np.array_equal(load_page(path, 0)[0], first)
    assert np.array_equal(load_page(path, 1)[0], second)


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.tif"])
def test_a_one_frame_jpeg_or_png_is_read_whatever_its_name(tmp_path, name):
    _, page = two_frames()
    # the darkest channels are ink (two of them: a colour lacking in the paper's light may be left out, one at most)
    colour = np.dstack([page, page, np.full_like(page, 255)])
    path = tmp_path / name
    Image.fromarray(colour).save(path, format="PNG")
    assert np.array_equal(load_page(path, 0)[0], page)


@pytest.mark.parametrize(("size_pt", "size_px"), [((2000, 5), (5556, 14)), ((1, 1), (3, 3)), ((-1, -1), (3, 3)),
                                                  ((30, 300), (84, 834))],
                         ids=["2000x5pt", "1x1pt", "minus-1x1pt", "30x300pt"])
def test_a_pdf_page_too_small_or_too_narrow_is_rejected_with_a_one_line_reason(tmp_path, size_pt, size_px):
    """Before, a 2000 x 5 pt page stopped in OpenCV with a two-line "internal error", and a 1 x 1 pt page was
    called blank."""
    path = pdf_with_pages(tmp_path / "odd.pdf", (595, 842), size_pt)
    assert count_pages(path) == 2
    [result] = read_job(Job(str(path), "0" * 64, 1))
    assert result.status == PageState.REJECTED and result.source_page == 2
    assert result.reason == (f"PDF page too small or too narrow to hold a form page "
                             f"({size_px[0]} x {size_px[1]} px at {PDF_DPI} dpi)")


def test_the_smallest_printed_pdf_page_is_rendered(tmp_path):
    path = pdf_with_pages(tmp_path / "card.pdf", (153, 243))  # a 54 x 86 mm card
    grey, dpi = load_page(path, 0)
    assert grey.shape == (675, 425) and grey.dtype == np.uint8 and dpi == PDF_DPI


def test_pages_a_pdf_claims_but_lacks_share_one_reason_the_summary_can_group(tmp_path):
    """A page tree may claim more pages than there are: each missing page was rejected with its own number in
    the reason ("cannot render PDF page 7"), so a scan summary listed them one line each."""
    path = lying_pdf(tmp_path / "lies.pdf", 40)
    assert count_pages(path) == 40  # pdfium believes the page tree
    summary = scan([path], Store(tmp_path / "s.sqlite"), jobs=1)
    assert summary.pages[PageState.BLANK] == 1 and summary.pages[PageState.REJECTED] == 39
    missing = [reason for reason, count in summary.reasons.items() if count == 39]
    assert len(missing) == 1 and "\n" not in missing[0] and "39" not in missing[0]
    assert missing[0].startswith("cannot render this PDF page")


@pytest.mark.parametrize("count", [MAX_PDF_PAGES + 1, 1_000_000])
def test_a_pdf_of_more_pages_than_the_limit_is_refused_as_a_whole(tmp_path, count):
    path = lying_pdf(tmp_path / "lies.pdf", count)
    info = describe(path)
    assert info.pages == 0
    assert info.error == (f"PDF has too many pages ({count:,}; the limit is {MAX_PDF_PAGES:,}): split it into "
                          "smaller files")


def test_a_pdf_of_the_limit_is_taken_whole(tmp_path):
    assert count_pages(lying_pdf(tmp_path / "lies.pdf", MAX_PDF_PAGES)) == MAX_PDF_PAGES


def test_a_pdf_without_pages_is_rejected_saying_so(tmp_path):
    """It was rejected as "not a readable PDF (Failed to load document (PDFium: Success).)"."""
    path = pdf_with_pages(tmp_path / "empty.pdf")
    info = describe(path)
    assert info.pages == 0 and info.error == "not a readable PDF (it has no pages)"
    # after another file pdfium could not parse, whose error pdfium still gives as its last (it was said to be
    # "damaged, cut short or not a PDF (... Data format error)" when a worker had read such a file before)
    (tmp_path / "cut.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type")
    assert describe(tmp_path / "cut.pdf").error.startswith("not a readable PDF: damaged")
    assert describe(path).error == "not a readable PDF (it has no pages)"


@pytest.mark.parametrize("other_px", [(60, 40), (200, 150)])
def test_a_phone_jpeg_carrying_a_gain_map_or_preview_is_one_page(tmp_path, other_px):
    """Android's Ultra HDR and iPhone HDR JPEGs carry a second image (a gain map) that Pillow opens as a
    second frame: one photo is one page, read from its main image, whatever the size of the other."""
    photo, _ = two_frames()
    photo[40:120, 60:180] = 90
    gain_map = Image.fromarray(np.full(other_px[::-1], 128, np.uint8)).convert("RGB")
    path = tmp_path / "PXL_20261204.jpg"
    Image.fromarray(photo).convert("RGB").save(path, format="MPO", save_all=True, append_images=[gain_map],
                                               quality=95)
    assert Image.open(path).format == "MPO"
    assert count_pages(path) == 1
    grey, _ = load_page(path, 0)
    assert grey.shape == photo.shape and np.abs(grey.astype(int) - photo).max() <= 8


def test_a_jpeg_too_large_to_decode_whole_is_decoded_at_a_fraction_and_other_images_are_refused(tmp_path,
                                                                                              monkeypatch):
    """A 50-200 MP phone photo: decoded at a half, quarter or eighth of its size (libjpeg does so directly),
    where it used to be refused; any other image that large is still refused before it is decoded."""
    monkeypatch.setattr(ingest, "MAX_PIXELS", 30_000)
    page = np.full((200, 300), 255, np.uint8)
    page[50:150, 75:225] = 0
    Image.fromarray(page).save(tmp_path / "big.jpg", quality=95, dpi=(300, 300))
    Image.fromarray(page).save(tmp_path / "big.png")
    assert count_pages(tmp_path / "big.jpg") == 1
    grey, dpi = load_page(tmp_path / "big.jpg", 0)
    assert grey.shape == (100, 150) and dpi == 150 and grey[50, 75] < 60 and grey[5, 5] > 200
    with pytest.raises(PageLoadError, match="too large"):
        count_pages(tmp_path / "big.png")
    monkeypatch.setattr(ingest, "MAX_PIXELS", 500)  # not even an eighth fits
    with pytest.raises(PageLoadError, match="too large"):
        count_pages(tmp_path / "big.jpg")


def test_a_file_written_over_after_it_was_hashed_gives_no_page_of_the_new_content_under_the_old_hash(tmp_path):
    """A scan hashes a file, then reads its pages one by one: a file written over meanwhile (a watcher's file
    copied again, a scanner saving over its last output) would put the new file's pages under the old file's
    hash, and lose the old ones. Such a page is refused saying why; the new content is a new input."""
    from formkit.records import ScanSummary
    from scanner.batch import plan

    first = pdf_with_pages(tmp_path / "scan.pdf", (595, 842), (595, 842))
    store = Store(tmp_path / "s.sqlite")
    work, _ = plan([describe(first)], store, ScanSummary())
    assert [job.index for job in work] == [0, 1] and all(job.stamp for job in work)
    assert read_job(work[0])[0].reason != ingest.FILE_CHANGED
    pdf_with_pages(tmp_path / "other.pdf", (595, 842), (595, 842), (595, 842)).replace(first)  # written over
    [result] = read_job(work[1])
    assert (result.status, result.reason) == (PageState.REJECTED, ingest.FILE_CHANGED)
    store.close()


def test_a_file_sent_to_a_cluster_worker_is_checked_against_its_hash(tmp_path):
    from scanner.cluster import _local_copy

    with pytest.raises(PageLoadError, match="changed after it was hashed"):
        _local_copy(b"other content", "0" * 64, ".pdf")


def cut_short_jpeg(path: Path, share: float = 0.6) -> Path:
    """A photo-like JPEG with only the first ``share`` of its bytes: a copy stopped half way."""
    image = np.random.default_rng(0).integers(0, 255, (600, 800), np.uint8)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    path.write_bytes(data[:int(len(data) * share)])
    return path


def test_files_that_cannot_be_read_say_what_to_do(tmp_path):
    """An empty file, a PDF behind a password and a photo cut short were rejected as "not a readable
    PDF (Failed to load document (PDFium: Incorrect password error).)", "cannot identify image file" or
    "cannot decode the image data": true, but no word of what to do."""
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "empty.pdf").write_bytes(b"")
    for name in ("empty.jpg", "empty.pdf"):
        assert describe(tmp_path / name).error == EMPTY_FILE
    cut = cut_short_jpeg(tmp_path / "cut.jpg")
    assert describe(cut).pages == 1  # its header is whole: the damage shows when its pixels are decoded
    with pytest.raises(PageLoadError, match="damaged or cut short"):
        load_page(cut, 0)
    (tmp_path / "cut.pdf").write_bytes(b"%PDF-1.4 and then nothing")
    assert describe(tmp_path / "cut.pdf").error.startswith("not a readable PDF: damaged, cut short or not a PDF (")


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf (installed by scripts/setup.sh) makes the PDF")
def test_a_pdf_behind_a_password_says_so(tmp_path):
    plain = pdf_with_pages(tmp_path / "plain.pdf", (595, 842))
    locked = tmp_path / "locked.pdf"
    subprocess.run(["qpdf", "--encrypt", "secret", "secret", "256", "--", str(plain), str(locked)], check=True)
    assert describe(locked).error == PASSWORD


def test_a_scan_names_the_files_each_reason_came_from(tmp_path):
    """The summary said "7 x cannot decode the image data" and no more: which of a few hundred files was
    left to ``formkit status`` to find out."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(FILES_NAMED + 2):
        cut_short_jpeg(inbox / f"cut-{n}.jpg", share=0.5 + n / 100)  # each its own content
    (inbox / "empty.pdf").write_bytes(b"")
    (inbox / "empty too.png").write_bytes(b"")  # the same (no) content: still a file of its own, named
    db = tmp_path / "s.sqlite"
    result = CliRunner().invoke(main, ["scan", str(inbox), "--db", str(db), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    damaged = next(line for line in lines if DAMAGED in line)
    assert damaged.lstrip().startswith(f"{FILES_NAMED + 2} x") and damaged.endswith(" and others]")
    assert damaged.count("cut-") == FILES_NAMED
    assert any(line.endswith(f"[{inbox / 'empty too.png'}, {inbox / 'empty.pdf'}]") and EMPTY_FILE in line
               for line in lines)
    assert "the same content as" not in result.output
    assert f"Every such page: formkit status --db {db} --state rejected" in lines


@pytest.mark.parametrize(("suffix", "mode"), [(".png", "I;16"), (".tif", "I;16"), (".tif", "I"), (".tif", "F")])
def test_greyscale_deeper_than_8_bits_is_read_as_its_shades_not_as_white(tmp_path, suffix, mode):
    """A 16-bit scan (or a 32-bit TIFF) holds paper at values far above 255: converted to RGB by Pillow every
    such value became white, and a filled page was stored as blank."""
    page = np.full((400, 300), 235, np.uint8)
    page[100:200, 50:150] = 25  # ink
    deep = page.astype(np.float32) * (257 if mode == "I;16" else 1000 if mode == "I" else 1 / 255)
    image = Image.fromarray(deep.astype(np.uint16 if mode == "I;16" else np.int32 if mode == "I" else np.float32),
                            mode=mode if mode != "I;16" else None)
    assert image.mode == mode
    path = tmp_path / f"deep{suffix}"
    image.save(path)
    grey, _ = ingest.load_page(path, 0)
    assert grey.dtype == np.uint8
    assert grey[150, 100] < 40 and grey[300, 250] > 200  # ink dark, paper light


def coloured_page(paper_rgb: tuple[int, int, int]) -> np.ndarray:
    """A photo-sized page of ``paper_rgb`` with a black stroke, a blue ballpoint stroke and a pencil stroke,
    each reflecting the paper's colour as ink on it does."""
    reflectance = np.ones((600, 400, 3), np.float32)
    reflectance[100:110, 50:350] = (0.08, 0.08, 0.08)  # black
    reflectance[300:310, 50:350] = (0.15, 0.25, 0.6)  # blue ballpoint
    reflectance[500:510, 50:350] = (0.55, 0.55, 0.55)  # pencil
    return (reflectance * np.array(paper_rgb, np.float32)).astype(np.uint8)


def test_a_page_on_canary_paper_is_grey_where_its_paper_is_light():
    """Canary-yellow paper has a third of white's blue: the darkest channel made its paper as dark as pencil on
    white, and 3 MP photos of it sent six times as many fields to review needlessly. Its blue is left out;
    every ink still shows."""
    grey = ingest.darkest_channel(coloured_page((255, 235, 90)))
    assert grey[0, 0] >= 230  # the paper as light as its red and green see it, not 90
    assert grey[105, 200] < 30 and grey[305, 200] < 70 and grey[505, 200] < 140  # black, blue, pencil


@pytest.mark.parametrize("paper", [(255, 255, 255), (255, 248, 220), (255, 245, 160), (250, 195, 210),
                                   (200, 222, 250)])
def test_on_white_and_pastel_paper_the_grey_is_the_darkest_of_the_three_channels(paper):
    image = coloured_page(paper)
    assert ingest.paper_channels(image) == (True, True, True)
    assert np.array_equal(ingest.darkest_channel(image), image.min(axis=2))


def test_the_paper_colour_is_the_pages_whatever_bright_thing_lies_beside_it():
    """A photo of a canary page beside a white folder: the lightest pixels of each channel are the folder's,
    the page is still most of what is light."""
    photo = np.full((900, 1200, 3), 70, np.uint8)  # a grey desk
    photo[100:700, 150:550] = coloured_page((255, 235, 90))
    photo[200:500, 750:1150] = 250  # the folder, its lightest pixels as light as the page's
    assert ingest.paper_channels(photo) == (True, True, False)


def test_no_more_than_one_channel_is_left_out():
    """A photo dark in two channels (a deep blue desk and little page, a blue cast) keeps the two lightest
    channels: every ink a person sees darkens one of them."""
    image = coloured_page((60, 90, 250))
    assert ingest.paper_channels(image) == (False, True, True)
    assert ingest.darkest_channel(image)[305, 200] < 0.3 * ingest.darkest_channel(image)[0, 0]  # blue ink shows


def test_a_folder_holding_the_store_scans_without_naming_the_stores_own_files(tmp_path):
    """Scanned with the store inside it, a folder listed the store's -wal and -shm files, which come and go as
    it is written, among the files not read. Named on the command line, the store is still refused."""
    db = tmp_path / "forms.sqlite"
    Image.fromarray(np.full((100, 100), 255, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    store = Store(db)
    try:
        store.db.execute("SELECT 1")  # the -wal and -shm files exist while it is open
        assert Path(f"{db}-wal").exists()
        summary = scan([tmp_path], store, jobs=1)
        assert sorted(Path(p).name for p in summary.ignored) == ["notes.txt"]
        named = scan([db], store, jobs=1)
        assert named.pages["rejected"] == 1
    finally:
        store.close()


def test_a_page_whose_data_is_cut_short_says_so_on_one_line(tmp_path, monkeypatch):
    """Its header read and its data not: the reason gave the decoder's words alone (libheif's over several
    lines, for a HEIC photo cut short in copying), not what to do."""
    path = tmp_path / "cut.tif"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 300), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(ingest.PageLoadError) as caught:
        ingest.load_page(path, 0)
    assert "cut short" in str(caught.value) and "\n" not in str(caught.value)

    def libheif_says(*_args, **_kwargs):
        raise ValueError("Invalid input: Unspecified\nBitstream not supported by this decoder")

    monkeypatch.setattr(ingest, "darkest_channel", libheif_says)
    Image.fromarray(np.zeros((400, 300), np.uint8)).save(tmp_path / "whole.tif")
    with pytest.raises(ingest.PageLoadError) as caught:
        ingest.load_page(tmp_path / "whole.tif", 0)
    assert "cut short" in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture
def one_thread(monkeypatch):
    """As in a batch's worker: the only thread of its process (another test's server may leave one here)."""
    monkeypatch.setattr(decoder_output.threading, "active_count", lambda: 1)


def test_what_a_decoder_prints_itself_joins_the_page_s_reason_and_is_not_shown_without_its_file(tmp_path, capfd,
                                                                                                 one_thread):
    """libpng printed "libpng error: PNG input buffer is incomplete" on standard error for each PNG cut short,
    naming no file: in a batch nobody could tell which file it was about (an adversarial pass, 2026-12-07)."""
    whole = tmp_path / "whole.png"
    cv2.imwrite(str(whole), np.full((900, 700), 255, np.uint8))
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:-2])
    with pytest.raises(PageLoadError) as raised:
        load_page(cut, 0)
    assert "libpng error: PNG input buffer is incomplete" in str(raised.value)
    assert capfd.readouterr().err == ""


def test_a_decoder_s_warning_on_a_page_read_is_said_with_its_file_and_page(tmp_path, capfd, monkeypatch,
                                                                             one_thread):
    page = np.full((900, 700), 255, np.uint8)

    def warns(path: Path, index: int) -> tuple[np.ndarray, None]:
        os.write(2, b"TIFFReadDirectory: Warning, Unknown field with tag 65000\n")
        return page, None

    monkeypatch.setattr(ingest, "_load_page", warns)
    assert load_page(tmp_path / "scan.tif", 1)[0] is page
    assert capfd.readouterr().err == (f"formkit: note: {tmp_path / 'scan.tif'}, page 2: "
                                      "TIFFReadDirectory: Warning, Unknown field with tag 65000\n")


def test_where_other_threads_run_the_process_s_standard_error_is_left_alone(capfd):
    """Descriptor 2 is the whole process's: two threads redirecting it in turn could leave it on a closed file."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        caught: list[str] = []
        with decoder_output.caught_stderr(caught):
            os.write(2, b"libpng warning: shown as it was\n")
    finally:
        release.set()
        other.join()
    assert caught == [] and capfd.readouterr().err == "libpng warning: shown as it was\n"
