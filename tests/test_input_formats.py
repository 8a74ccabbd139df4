"""Input files as scanners, phones and office software write them: each page is read as it is seen on screen,
whatever the file's name, orientation tag, transparency or page size says, or rejected saying what to do."""

from __future__ import annotations

import io
import math
import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from formkit.generate import generate, make_copies
from formkit.layout import build_layout
from formkit.records import PageState
from formkit.template import resolve_template
from scanner import ingest, pdf_pages
from scanner.batch import Job, read_job
from scanner.ingest import UNKNOWN_FORMAT, count_pages, describe, load_page
from tests.synthetic import degrade_scan, draw_mark, render_pdf
from tests.test_ingest import write_pdf

DPI = 200
K10 = build_layout(resolve_template("k10"))
MARKS = {"k10_01": ("tick", 3), "k10_02": ("cross", 2), "k10_03": ("cross", 1), "k10_04": ("tick", 2),
         "k10_05": ("cross", 5), "k10_06": ("tick", 1), "k10_07": ("tick", 4), "k10_08": ("tick", 5),
         "k10_09": ("cross", 3), "k10_10": ("tick", 2)}
# EXIF orientation -> how the pixels are stored so that a viewer, turning them as the tag says, shows the page
STORED = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_270}


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Image.Image:
    """A filled K10 page, scanned at 200 dpi (RGB)."""
    folder = tmp_path_factory.mktemp("k10")
    pdf = folder / "k10.pdf"
    generate(K10, make_copies(1, None, 5), pdf)
    [image] = render_pdf(pdf, DPI)
    rng = random.Random(3)
    for field_id, (style, value) in MARKS.items():
        field = next(f for f in K10.pages[0].fields if f.id == field_id)
        draw_mark(image, DPI, next(o.box for o in field.options if o.value == value), style, rng)
    return Image.fromarray(degrade_scan(image, DPI, random.Random(4), out_dpi=DPI))


def read(path: Path) -> tuple[PageState, str, dict[str, str]]:
    """How the one page of ``path`` was read: its state, reason and values (a value flagged for review as
    '?')."""
    info = describe(path)
    assert not info.error and info.pages == 1, info.error
    [result] = read_job(Job(str(path), info.sha256, 0))
    return result.status, result.reason, {v.field: "?" if v.needs_review else v.value for v in result.values}


def expected() -> dict[str, str]:
    return {field_id: str(value) for field_id, (_, value) in MARKS.items()}


def exif(orientation: int) -> Image.Exif:
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags


# 1. EXIF orientation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", [2, 4, 5, 7, 6])
@pytest.mark.parametrize("kind", ["webp", "cmyk-jpeg"])
def test_a_page_stored_turned_or_mirrored_with_an_orientation_tag_is_read_upright(tmp_path, scan, kind,
                                                                                orientation):
    """OpenCV turned a JPEG or PNG as its EXIF orientation says; Pillow, which reads the rest (a CMYK JPEG, a
    WebP, an AVIF), did not: a page stored mirrored was read mirrored, found no markers and was lost as
    "only 1 registration marker(s) found"."""
    stored = scan.transpose(STORED[orientation])
    path = tmp_path / f"page.{'webp' if kind == 'webp' else 'jpg'}"
    if kind == "webp":
        stored.save(path, exif=exif(orientation), lossless=True)
    else:
        stored.convert("CMYK").save(path, exif=exif(orientation), quality=92)
    status, reason, values = read(path)
    assert status == PageState.READ, reason
    assert {k: values[k] for k in MARKS} == expected()


def test_the_orientation_tag_turns_every_kind_of_image_the_same_way(tmp_path):
    """A small asymmetric page, stored mirrored and tagged: each format, through OpenCV or Pillow, gives back
    the page as it was."""
    page = np.full((120, 180), 255, np.uint8)
    page[10:40, 10:60] = 0  # ink in the top left corner only
    for orientation, transpose in STORED.items():
        stored = Image.fromarray(page).transpose(transpose)
        for name, image in (("grey.jpg", stored), ("rgb.jpg", stored.convert("RGB")),
                            ("cmyk.jpg", stored.convert("CMYK")), ("rgb.png", stored.convert("RGB")),
                            ("rgba.png", stored.convert("RGBA")), ("grey.webp", stored.convert("RGB")),
                            ("rgb.tif", stored.convert("RGB")), ("grey.tif", stored),
                            ("cmyk.tif", stored.convert("CMYK"))):
            path = tmp_path / f"{orientation}-{name}"
            image.save(path, exif=exif(orientation), **({"quality": 95} if name.endswith(".jpg") else {}))
            grey, _ = load_page(path, 0)
            assert grey.shape == page.shape, path.name
            assert grey[25, 35] < 60 and grey[100, 150] > 200 and grey[25, 150] > 200, path.name


def test_an_image_with_exif_that_cannot_be_parsed_is_read_as_stored(tmp_path):
    """As every viewer shows it; the orientation tag is read from it, not the page refused for it."""
    page = np.full((120, 180), 255, np.uint8)
    page[10:40, 10:60] = 0
    Image.fromarray(page).convert("RGB").save(tmp_path / "page.webp", exif=b"Exif\x00\x00not a TIFF header")
    grey, _ = load_page(tmp_path / "page.webp", 0)
    assert grey.shape == page.shape and grey[25, 35] < 60 and grey[100, 150] > 200


# 2. transparency -----------------------------------------------------------------------------------------------

def test_a_page_with_a_transparent_background_is_read_on_white(tmp_path, scan):
    """A page saved with its paper transparent (from a PDF viewer, an editor's "remove background") keeps
    black under the transparent pixels: without its alpha the whole page was black, and rejected as "too dark
    to be paper"; a transparent palette colour made every answer a question."""
    rgba = np.array(scan.convert("RGBA"))
    paper = np.array(scan.convert("L")) > 200
    rgba[paper] = (0, 0, 0, 0)
    Image.fromarray(rgba).save(tmp_path / "transparent.png")
    Image.fromarray(rgba).save(tmp_path / "transparent.webp", lossless=True)
    la = np.dstack([np.where(paper, 0, np.array(scan.convert("L"))), np.where(paper, 0, 255)]).astype(np.uint8)
    Image.fromarray(la, "LA").save(tmp_path / "transparent-grey.png")
    palette = scan.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    colours = palette.getpalette()[:96]
    lightest = max(range(32), key=lambda i: sum(colours[i * 3:i * 3 + 3]))
    colours[lightest * 3:lightest * 3 + 3] = [0, 0, 0]
    palette.putpalette(colours)
    palette.save(tmp_path / "palette.png", transparency=lightest)
    keyed = np.array(scan.convert("L"))
    keyed[paper] = 0
    Image.fromarray(keyed).save(tmp_path / "grey-key.png", transparency=0)  # a grey level that is transparent
    for name in ("transparent.png", "transparent.webp", "transparent-grey.png", "palette.png", "grey-key.png"):
        status, reason, values = read(tmp_path / name)
        assert status == PageState.READ, (name, reason)
        assert {k: values[k] for k in MARKS} == expected(), name


def test_transparency_is_white_and_half_transparent_ink_half_as_dark(tmp_path):
    rgba = np.zeros((100, 200, 4), np.uint8)  # transparent black
    rgba[10:50, 10:50] = (0, 0, 0, 255)  # opaque ink
    rgba[60:90, 10:50] = (0, 0, 0, 128)  # half transparent ink
    Image.fromarray(rgba).save(tmp_path / "a.png")
    grey, _ = load_page(tmp_path / "a.png", 0)
    assert grey[30, 30] == 0 and grey[30, 150] == 255 and 120 <= grey[75, 30] <= 135


def test_an_alpha_never_set_is_no_transparency(tmp_path):
    """An image whose alpha is nought everywhere (some programs leave it so) would be white all over on white:
    a page stored as blank. Nothing opaque is taken as an alpha that means nothing."""
    rgba = np.full((100, 200, 4), 255, np.uint8)
    rgba[10:50, 10:50, :3] = 0
    rgba[..., 3] = 0
    Image.fromarray(rgba).save(tmp_path / "a.png")
    grey, _ = load_page(tmp_path / "a.png", 0)
    assert grey[30, 30] == 0 and grey[30, 150] == 255


# 3. PDF pages larger than paper ----------------------------------------------------------------------------------

@pytest.mark.parametrize("resolution", [72, 50])
def test_a_photo_put_in_a_pdf_at_screen_resolution_is_read_not_refused_as_too_large(tmp_path, scan, resolution):
    """Pillow, "print to PDF" and phone apps put a photo in a PDF at 72 or 96 dpi: a 12 MP photo makes a page of
    1.1 x 1.4 m, which was refused as "too large (8400 x 11200 px at 200 dpi)". It renders at the resolution that
    fits: its pixels are the photo's, however large the page."""
    path = tmp_path / "photo.pdf"
    scan.resize((3024, 4032)).save(path, resolution=resolution)
    grey, dpi = load_page(path, 0)
    assert grey.size <= ingest.MAX_PIXELS and dpi < pdf_pages.PDF_DPI
    status, reason, values = read(path)
    assert status == PageState.READ, reason
    assert {k: values[k] for k in MARKS} == expected()


def test_a_paper_sized_pdf_page_still_renders_at_200_dpi(tmp_path, scan):
    scan.save(tmp_path / "a4.pdf", resolution=DPI)
    grey, dpi = load_page(tmp_path / "a4.pdf", 0)
    assert dpi == pdf_pages.PDF_DPI and abs(grey.shape[0] - scan.height) <= 1


# 4. what a file is, whatever its name --------------------------------------------------------------------------

def test_a_file_is_read_as_what_its_content_is_whatever_its_name(tmp_path, scan):
    """A phone app's "scan.pdf" that is a JPEG was rejected as "not a PDF"; a PDF saved as .jpg as "damaged or
    cut short (copied before it was whole?): copy it again", which copying could never mend."""
    jpeg = io.BytesIO()
    scan.save(jpeg, "JPEG", quality=92)
    (tmp_path / "jpeg.pdf").write_bytes(jpeg.getvalue())
    scan.save(tmp_path / "pdf.jpg", "PDF", resolution=DPI)
    scan.save(tmp_path / "tiff.pdf", "TIFF", compression="tiff_lzw")
    for name in ("jpeg.pdf", "pdf.jpg", "tiff.pdf"):
        status, reason, values = read(tmp_path / name)
        assert status == PageState.READ, (name, reason)
        assert {k: values[k] for k in MARKS} == expected(), name


def test_a_pdf_after_leading_bytes_is_a_pdf(tmp_path):
    """The PDF header may follow other bytes (a mail gateway's, a scanner's): still a PDF, by any name."""
    document = io.BytesIO()
    Image.fromarray(np.full((300, 200), 255, np.uint8)).save(document, "PDF", resolution=72)
    (tmp_path / "scan.dat.jpg").write_bytes(b"\r\n" * 20 + document.getvalue())
    assert count_pages(tmp_path / "scan.dat.jpg") == 1
    assert load_page(tmp_path / "scan.dat.jpg", 0)[0].shape == (834, 556)


@pytest.mark.parametrize("name", ["notes.jpg", "notes.png", "zeros.tif", "letter.pdf.jpg"])
def test_a_file_of_no_image_format_says_so_not_that_it_was_cut_short(tmp_path, name):
    """Text, a Word document or a failed copy (all zeros) named as an image was "damaged or cut short (copied
    before it was whole?)": true of none of them."""
    path = tmp_path / name
    path.write_bytes(bytes(4096) if name.startswith("zeros") else b"PK\x03\x04 a document, not a scan" * 50)
    assert describe(path).error == UNKNOWN_FORMAT


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on what it cannot read, on the way to its error
def test_a_tiff_cut_short_is_said_to_be_cut_short_not_of_another_kind(tmp_path):
    """A scanner that writes a page's directory after its pixels (as many do) leaves, cut short, a header that
    points past the end: it was "neither an image nor a PDF ... (a document, a video ...)" (an adversarial pass,
    2026-12-07)."""
    pixels = np.random.default_rng(0).integers(0, 255, 60_000, dtype=np.uint8).tobytes()
    (tmp_path / "scan.tif").write_bytes(b"II*\x00" + (8 + 120_000).to_bytes(4, "little") + pixels)
    assert describe(tmp_path / "scan.tif").error.startswith("not a readable image: the file is damaged or cut short")


def test_a_damaged_pdf_named_pdf_is_still_rejected_as_a_pdf(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"garbage where the header was" + b"\x00" * 100 + b"1 0 obj << >> endobj")
    assert describe(path).error.startswith("not a readable PDF: damaged, cut short or not a PDF (")


def test_a_heic_photo_renamed_jpg_is_read(tmp_path, scan, monkeypatch):
    """Transfer apps and mail clients name an iPhone's HEIC photo .jpg: Pillow, not told of HEIC, found no
    image in it."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()  # to write it
    scan.save(tmp_path / "IMG_0001.jpg", "HEIF", quality=90)
    # as in a scan that has met no .heic file yet: Pillow knows no HEIF until ingest registers it
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])
    monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})
    ingest._read_heif.cache_clear()
    monkeypatch.setattr(ingest, "_read_heif", ingest._read_heif)  # its cache, cleared, is put back after
    status, reason, values = read(tmp_path / "IMG_0001.jpg")
    assert status == PageState.READ, reason
    assert {k: values[k] for k in MARKS} == expected()


@pytest.mark.parametrize("suffix", [".jfif", ".avif", ".gif"])
def test_images_saved_by_browsers_and_phones_are_found_in_folders(tmp_path, suffix):
    """A photo saved from WhatsApp Web on Windows is a .jfif: it was left in a folder as "neither images nor
    PDFs"."""
    from PIL import features

    if suffix == ".avif" and not features.check("avif"):
        pytest.skip("this Pillow was built without AVIF")
    Image.fromarray(np.full((300, 200), 255, np.uint8)).convert("RGB").save(
        tmp_path / f"page{suffix}", format={".jfif": "JPEG", ".avif": "AVIF", ".gif": "GIF"}[suffix])
    found = ingest.find_inputs([tmp_path])
    assert [p.name for p in found.files] == [f"page{suffix}"] and not found.ignored
    assert load_page(found.files[0], 0)[0].shape == (300, 200)


# 5. frames that are no pages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("marked", [True, False], ids=["marked-reduced", "unmarked"])
def test_a_thumbnail_after_a_tiff_page_costs_the_file_none_of_its_pages(tmp_path, marked):
    """Scanner software and editors may store a small preview after the page: the whole file was refused as
    "page 2: image too small or too narrow to hold a form page", its page 1 never read. A frame marked as a
    reduced copy (NewSubfileType 1) is said to be one."""
    from PIL import TiffImagePlugin

    page = np.full((400, 300), 255, np.uint8)
    page[50:150, 50:150] = 0
    path = tmp_path / "scan.tif"
    with path.open("w+b") as file, TiffImagePlugin.AppendingTiffWriter(file) as tiff:
        Image.fromarray(page).save(tiff, "TIFF")
        tiff.newFrame()
        Image.fromarray(page).resize((60, 80)).save(tiff, "TIFF", tiffinfo={254: 1} if marked else {})
        tiff.newFrame()  # each frame ends with its own
    assert describe(path).error == "" and count_pages(path) == 2
    assert np.array_equal(load_page(path, 0)[0], page)
    with pytest.raises(ingest.PageLoadError) as caught:
        load_page(path, 1)
    assert str(caught.value) == ("page 2: " + ingest.REDUCED_COPY if marked else
                                 "page 2: image too small or too narrow to hold a form page (60 x 80 px)")


def test_a_mirrored_page_is_rejected_saying_it_is_mirrored(tmp_path, scan):
    """A page saved mirrored with no tag to say so (a front camera, a mirror setting) was rejected as "only 1
    registration marker(s) found", which tells no one what to do."""
    path = tmp_path / "selfie.png"
    scan.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(path)
    status, reason, _ = read(path)
    assert status == PageState.REJECTED and "mirrored" in reason
    scan.save(path)  # the same page as it is: read, as ever
    assert read(path)[0] == PageState.READ


# 6. PDF pages of images: rendered as fine as their images, no finer -----------------------------------------------

# a photo on a page sized for it at 36 dpi: 2400 x 1800 px on 4800 x 3600 pt (66.7 x 50 in), which at 200 dpi
# is far over the pixel budget; its own pixels are 4.3 M
PHOTO_PX = (2400, 1800)
PHOTO_PAGE_PT = (4800, 3600)
PHOTO_DPI = 36
HELVETICA = b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>"


def pdf_stream(head: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (head, len(data), data)


def grey_xobject(width_px: int, height_px: int) -> bytes:
    """An 8-bit grey image XObject (Flate) of a diagonal pattern, ``width_px`` x ``height_px``."""
    pixels = (np.arange(height_px, dtype=np.uint8)[:, None] + np.arange(width_px, dtype=np.uint8)) % 64 * 4
    return pdf_stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                      b"/BitsPerComponent 8 /Filter /FlateDecode" % (width_px, height_px),
                      zlib.compress(pixels.tobytes(), 1))


def form_xobject(content: bytes, matrix: bytes = b"1 0 0 1 0 0") -> bytes:
    """A Form XObject drawing ``content`` with the page's resources, with ``matrix`` as its /Matrix."""
    return pdf_stream(b"/Type /XObject /Subtype /Form /BBox [-100000 -100000 100000 100000] /Matrix [%s] "
                      b"/Resources RESOURCES" % matrix, content)


def pdf_of(path: Path, size_pt: tuple[float, float], content: bytes, xobjects: dict[str, bytes],
           annotation: bool = False) -> Path:
    """A one-page PDF of ``size_pt`` whose content stream is ``content``, with ``xobjects`` (name -> the
    object, ``grey_xobject`` or ``form_xobject``) and Helvetica as F1 for resources (a form's as well)."""
    first = 5
    names = b" ".join(b"/%s %d 0 R" % (name.encode(), first + i) for i, name in enumerate(xobjects))
    resources = b"<< /XObject << %s >> %s >>" % (names, HELVETICA)
    annots = b"/Annots [%d 0 R]" % (first + len(xobjects)) if annotation else b""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 4 0 R /Resources %s %s >>"
               % (*size_pt, resources, annots),
               pdf_stream(b"", content),
               *(body.replace(b"RESOURCES", resources) for body in xobjects.values())]
    if annotation:  # a stamp in a corner, drawn by its appearance stream
        objects.append(b"<< /Type /Annot /Subtype /Stamp /Rect [0 0 200 100] /AP << /N %d 0 R >> >>"
                       % (len(objects) + 2))
        objects.append(pdf_stream(b"/Type /XObject /Subtype /Form /BBox [0 0 200 100]", b"0 0 200 100 re f"))
    return write_pdf(path, objects, b"1.7")


def as_before(path: Path, dpi: int) -> np.ndarray:
    """Page 1 of ``path`` rendered at ``dpi`` as ingest rendered every PDF page before."""
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(str(path))[0].render(scale=dpi / 72, grayscale=True).to_numpy()


def test_a_page_photo_in_a_pdf_at_36_dpi_renders_at_its_own_resolution_and_is_read(tmp_path, scan):
    """A photo or scan put into a PDF at screen resolution or less (phone apps, "print to PDF", Pillow) was
    rendered to the 80 MP budget, at 156 dpi: 19 times its own pixels, about 1 s and 250 MB a page for nothing.
    It renders a little finer than its own pixels, and is read as ever."""
    path = tmp_path / "photo.pdf"
    scan.save(path, resolution=PHOTO_DPI)
    grey, dpi = load_page(path, 0)
    assert PHOTO_DPI <= dpi <= PHOTO_DPI * 1.25
    assert scan.width <= grey.shape[1] <= scan.width * 1.25 and scan.height <= grey.shape[0] <= scan.height * 1.25
    status, reason, values = read(path)
    assert status == PageState.READ, reason
    assert {k: values[k] for k in MARKS} == expected()


PHOTO = {"Im": grey_xobject(*PHOTO_PX)}
IMAGE_PAGES = {
    "drawn-upright": (b"q 4800 0 0 3600 0 0 cm /Im Do Q", PHOTO),
    # stored as a portrait and turned: its width runs up the page, its height along it
    "turned-90": (b"q 0 3600 -4800 0 4800 0 cm /Im Do Q", {"Im": grey_xobject(1800, 2400)}),
    # stretched to twice its height: the finer of its axes, 36 dpi across, decides
    "stretched": (b"q 4800 0 0 3600 0 0 cm /Im Do Q", {"Im": grey_xobject(2400, 900)}),
    # in a form whose /Matrix and whose placing each stretch it one way: 36 dpi both ways on the page
    "in-a-form": (b"q 1 0 0 2 0 0 cm /Fm Do Q", {"Im": PHOTO["Im"],
                                                  "Fm": form_xobject(b"q 2400 0 0 1800 0 0 cm /Im Do Q",
                                                                     b"2 0 0 1 0 0")}),
    "in-strips": (b"".join(b"q 4800 0 0 300 0 %d cm /Im Do Q " % (300 * i) for i in range(12)),
                  {"Im": grey_xobject(2400, 150)}),
    # a 1-px image stretched over the whole page is coarser: the photo decides
    "on-a-1px-background": (b"q 4800 0 0 3600 0 0 cm /Dot Do Q q 4800 0 0 3600 0 0 cm /Im Do Q",
                            {**PHOTO, "Dot": grey_xobject(1, 1)}),
    # an OCR layer of invisible text, as phone apps and scanners lay over the photo, draws nothing
    "under-ocr-text": (b"q 4800 0 0 3600 0 0 cm /Im Do Q BT 3 Tr /F1 200 Tf 100 100 Td (Formkit) Tj ET", PHOTO),
}


@pytest.mark.parametrize("name", IMAGE_PAGES)
def test_an_image_page_renders_at_its_images_resolution_however_they_are_drawn(tmp_path, name):
    content, xobjects = IMAGE_PAGES[name]
    path = pdf_of(tmp_path / f"{name}.pdf", PHOTO_PAGE_PT, content, xobjects)
    grey, dpi = load_page(path, 0)
    assert PHOTO_DPI <= dpi <= PHOTO_DPI * 1.25  # before: 154 dpi, the most the 80 MP budget allows
    assert grey.shape == tuple(math.ceil(side * dpi / 72) for side in PHOTO_PAGE_PT[::-1])
    assert np.array_equal(grey, as_before(path, dpi))  # as pdfium renders it at that resolution


# a coarse photo on a smaller page: 1000 x 750 px on 2000 x 1500 pt (27.8 x 20.8 in) is 23 M px at 200 dpi
SMALL_PAGE_PT = (2000, 1500)
SMALL_PHOTO = {"Im": grey_xobject(1000, 750)}


def test_a_coarse_image_page_never_renders_to_fewer_pixels_than_a_paper_page(tmp_path):
    """1000 x 750 px at 36 dpi is 0.75 M px: the page renders to the pixels of an A4 page at 200 dpi, no fewer
    (the photo's pixels are all in it, and a form in it keeps the size in pixels a scan of it would have)."""
    path = pdf_of(tmp_path / "small.pdf", SMALL_PAGE_PT, b"q 2000 0 0 1500 0 0 cm /Im Do Q", SMALL_PHOTO)
    grey, dpi = load_page(path, 0)
    least = pdf_pages.PDF_MIN_PIXELS
    assert PHOTO_DPI < dpi < pdf_pages.PDF_DPI and least <= grey.size <= least * 1.05


@pytest.mark.parametrize("name", ["text-over-it", "a-line-over-it", "a-stamp-over-it", "a-fine-logo-on-it"])
def test_a_page_that_is_not_coarse_images_alone_renders_as_before(tmp_path, name):
    """Text or lines drawn over a photo (a vector page, an annotation) keep their sharpness: the page renders as
    before, at 200 dpi or the most the pixel budget allows; so does a photo with a finer image on it (a 300 dpi
    logo: the finest image decides)."""
    photo = b"q 2000 0 0 1500 0 0 cm /Im Do Q "
    content = {"text-over-it": photo + b"BT /F1 40 Tf 100 100 Td (Formkit) Tj ET",
               "a-line-over-it": photo + b"4 w 100 100 m 1900 100 l S",
               "a-stamp-over-it": photo,
               "a-fine-logo-on-it": photo + b"q 48 0 0 48 20 20 cm /Logo Do Q"}[name]
    xobjects = {**SMALL_PHOTO, "Logo": grey_xobject(200, 200)}
    path = pdf_of(tmp_path / f"{name}.pdf", SMALL_PAGE_PT, content, xobjects, annotation=name == "a-stamp-over-it")
    grey, dpi = load_page(path, 0)
    assert dpi == pdf_pages.PDF_DPI and np.array_equal(grey, as_before(path, pdf_pages.PDF_DPI))


def test_a_small_photo_on_an_empty_page_renders_at_its_own_resolution(tmp_path):
    """1000 x 750 px drawn 600 pt wide in the middle of the page (120 dpi): nothing else is on the page, so its
    pixels are all there is to keep; before, 200 dpi."""
    path = pdf_of(tmp_path / "small.pdf", SMALL_PAGE_PT, b"q 600 0 0 450 700 525 cm /Im Do Q", SMALL_PHOTO)
    grey, dpi = load_page(path, 0)
    assert dpi == math.ceil(120 * pdf_pages.PDF_IMAGE_MARGIN) and np.array_equal(grey, as_before(path, dpi))


def test_a_form_page_formkit_prints_renders_as_before(tmp_path):
    path = tmp_path / "k10.pdf"
    generate(K10, make_copies(1, None, 5), path)
    grey, dpi = load_page(path, 0)
    assert dpi == pdf_pages.PDF_DPI and np.array_equal(grey, as_before(path, pdf_pages.PDF_DPI))


@pytest.mark.parametrize(("resolution", "mode"), [(100, "L"), (200, "L"), (300, "L"), (600, "L"), (300, "1")],
                         ids=["100dpi", "200dpi", "300dpi", "600dpi", "300dpi-ccitt"])
def test_a_scanned_paper_page_renders_as_before(tmp_path, resolution, mode):
    """A flatbed scan of an A4 page in a PDF (grey JPEG, or 1-bit CCITT G4) renders at 200 dpi, pixel for pixel
    as before: finer than its image at 100 dpi (a paper page never renders to fewer pixels), and coarser than it
    at 300 or 600 dpi as ever."""
    width_px, height_px = round(8.27 * resolution), round(11.69 * resolution)
    squares = np.kron([[0, 255], [255, 0]], np.ones((8, 8))).astype(np.uint8)  # a chequer of 8 px squares
    page = np.tile(squares, (height_px // 16 + 1, width_px // 16 + 1))[:height_px, :width_px]
    path = tmp_path / "scan.pdf"
    Image.fromarray(page).convert(mode).save(path, resolution=resolution)
    grey, dpi = load_page(path, 0)
    assert dpi == pdf_pages.PDF_DPI and np.array_equal(grey, as_before(path, pdf_pages.PDF_DPI))


def test_a_page_whose_images_cannot_be_measured_renders_as_before(tmp_path, monkeypatch):
    """Whatever pdfium or an odd PDF raises while the images are measured, the page is rendered as before."""
    path = pdf_of(tmp_path / "photo.pdf", SMALL_PAGE_PT, b"q 2000 0 0 1500 0 0 cm /Im Do Q", SMALL_PHOTO)
    assert load_page(path, 0)[1] < pdf_pages.PDF_DPI

    def fails(page):
        raise RuntimeError("pdfium said no")

    monkeypatch.setattr(pdf_pages, "_finest_image_dpi", fails)
    grey, dpi = load_page(path, 0)
    assert dpi == pdf_pages.PDF_DPI and np.array_equal(grey, as_before(path, pdf_pages.PDF_DPI))


def test_the_resolution_a_page_of_images_renders_at():
    """``_render_dpi`` on plain values: a page's size in points, its finest image's dpi."""
    def finest(dpi: float | None):
        return lambda: dpi

    def never():
        raise AssertionError("a page of paper size has its images measured: it renders as ever anyway")

    assert pdf_pages._render_dpi(4800, 3600, finest(None)) == pdf_pages._pdf_dpi(4800, 3600)
    assert pdf_pages._render_dpi(4800, 3600, finest(36.0)) == 40
    assert pdf_pages._render_dpi(4800, 3600, finest(150.0)) == pdf_pages._pdf_dpi(4800, 3600)  # never over the budget
    assert pdf_pages._render_dpi(595, 842, never) == pdf_pages.PDF_DPI  # an A4 page renders as ever
    # an A3 page of a 100 dpi image, as a scanner's compact PDF has under a finer mask: as ever
    assert pdf_pages._render_dpi(842, 1191, never) == pdf_pages.PDF_DPI


def test_a_pdf_page_whose_image_cannot_be_decoded_is_rejected_not_taken_for_a_blank_page(tmp_path):
    """A scan's JPEG data damaged inside a PDF (zeroed after its first bytes): pdfium drew nothing, the page rendered
    pure white and was filed as a blank back, a filled page gone without a word. A page of pure white that
    decodes (a 1-bit blank back) is still a blank page."""
    page = Image.fromarray(np.full((1169, 827), 235, np.uint8))
    page.paste(0, (100, 100, 700, 140))  # something on it
    pdf = tmp_path / "scan.pdf"
    page.save(pdf, "PDF", resolution=100)  # Pillow keeps a greyscale page as JPEG (DCTDecode)
    data = bytearray(pdf.read_bytes())
    start = data.index(b"stream", data.index(b"/DCTDecode")) + 7
    end = data.index(b"endstream", start)
    data[start + 200:end - 50] = bytes(end - 50 - start - 200)  # its tables and frame header gone
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(bytes(data))
    assert load_page(pdf, 0)[0].min() < 100
    with pytest.raises(ingest.PageLoadError, match="an image on this PDF page cannot be decoded"):
        load_page(damaged, 0)
    white = tmp_path / "white.pdf"
    Image.new("1", (827, 1169), 1).save(white, "PDF", resolution=100)
    assert load_page(white, 0)[0].min() == 255


def test_a_pdf_page_that_would_take_minutes_or_gigabytes_to_render_is_refused_before_it_is(tmp_path):
    """A 97 kB PDF whose page drew 2.2 million lines rendered for ever, and one drawing a 46,000 px square
    image took 1.9 GB (an adversarial pass, 2026-12-07): refused at once, saying what to do; a scan's page and
    a printed form read as ever."""
    lines = b"".join(b"%d 10 m %d 20 l S\n" % (n % 500, n % 500) for n in range(120_000))
    many = pdf_of(tmp_path / "many.pdf", (595, 842), lines, {})
    with pytest.raises(ingest.PageLoadError, match="draws 120,000 objects, far more than a scan"):
        load_page(many, 0)
    side = 10_000  # 100 MP of a one-bit image, 12.5 MB of zeros compressed to 12 kB
    huge = pdf_stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                      b"/BitsPerComponent 1 /Filter /FlateDecode" % (side, side),
                      zlib.compress(bytes(side * side // 8), 9))
    big = pdf_of(tmp_path / "big.pdf", (595, 842), b"q 595 0 0 842 0 0 cm /Im1 Do Q", {"Im1": huge})
    with pytest.raises(ingest.PageLoadError, match=r"image drawn on this PDF page too large \(10000 x 10000 px"):
        load_page(big, 0)
    scanned = {"Im1": grey_xobject(1654, 2339)}  # A4 at 200 dpi
    page = pdf_of(tmp_path / "scan.pdf", (595, 842), b"q 595 0 0 842 0 0 cm /Im1 Do Q", scanned)
    assert load_page(page, 0)[0].shape[0] > 2000
