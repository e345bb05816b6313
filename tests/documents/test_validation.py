import io
import os
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter
from pypdf._utils import get_stream_data
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject

from relais.documents.validation import (
    MAX_PDF_ENTRIES_WALKED,
    MAX_PDF_REPAIRS,
    MAX_PHOTOS,
    CleanFile,
    UploadRefused,
    check_photos,
    clean_upload,
    photos_to_pdf,
)
from tests.documents.hostile_files import (
    ONE_PAGE,
    object_stream,
    pdf_hiding_javascript_in_an_object_stream,
    pdf_listing_missing_pages,
    pdf_opening_with,
    pdf_referring_to_missing_objects,
    pdf_with_a_length_in_an_object_stream_bomb,
    pdf_with_an_object_stream_holding,
    pdf_with_misplaced_objects,
    pdf_with_object_stream_bombs,
    pdf_with_object_streams,
    pdf_with_overlapping_streams,
    pdf_with_revisions,
    pdf_with_streams,
    pdf_with_xfa_form,
    png_declaring,
    raw_pdf,
)

LIMIT = 1024 * 1024


def upload(content: bytes, name: str, *, max_bytes: int = LIMIT) -> CleanFile:
    return clean_upload(SimpleUploadedFile(name, content), max_bytes=max_bytes)


def refusal(content: bytes, name: str, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(UploadRefused) as refused:
        upload(content, name, max_bytes=max_bytes)
    return str(refused.value)


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def picture(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    # Noise, so that encoders produce substantial data to cut through.
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def encoded(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    output = io.BytesIO()
    image.save(output, format=pillow_format, **options)
    return output.getvalue()


def jpeg(**options: object) -> bytes:
    return encoded(picture(), "JPEG", **options)


def png(**options: object) -> bytes:
    return encoded(picture(), "PNG", **options)


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


UNKNOWN_FORMAT = "Ce format de fichier n'est pas accepté. Formats acceptés : PDF, JPEG, PNG, HEIC"
WEB_CODE = "contient du code de page web"
ACTIVE_PDF = "Ce PDF contient du JavaScript, des actions automatiques ou des fichiers joints"
DAMAGED_PDF = "Ce PDF est incomplet ou endommagé"
DAMAGED_IMAGE = "Cette image est incomplète ou endommagée"
TOO_MANY_PIXELS = "Cette image est trop grande : elle peut compter au plus 50 millions de pixels"
TOO_COMPRESSED_PDF = "Ce PDF est compressé d'une façon qui empêche de le vérifier sans risque"
TOO_DAMAGED_PDF = "Ce PDF est trop endommagé pour être vérifié"


@pytest.fixture
def whole_file_searches(monkeypatch):
    """The times pypdf copies the whole file, which it does to search it for an object."""
    copies = []

    def counted(stream):
        copies.append(stream)
        return get_stream_data(stream)

    monkeypatch.setattr("pypdf._reader.get_stream_data", counted)
    return copies


@pytest.fixture
def cross_reference_walks(monkeypatch):
    """The entries pypdf goes through, each time it looks in the whole cross-reference for
    the next object, where a stream of a wrong length must end."""
    walks = []
    next_object = DictionaryObject._get_next_object_position

    def counted(cls, **arguments):
        walks.append(sum(len(numbers) for numbers in arguments["pdf"].xref.values()))
        return next_object(**arguments)

    monkeypatch.setattr(DictionaryObject, "_get_next_object_position", classmethod(counted))
    return walks


def refusal_and_peak_memory(content: bytes) -> tuple[str, int]:
    tracemalloc.start()
    try:
        message = refusal(content, "facture.pdf", max_bytes=4 * LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return message, peak


WRONG_LENGTH = b"<< /Length 0 >>\nstream\nx\nendstream"


# Refused files


def test_it_refuses_a_png_named_pdf():
    message = refusal(png(), "justificatif.pdf")

    assert "L'extension « .pdf » du nom du fichier ne correspond pas à son contenu" in message
    assert "une image PNG" in message


def test_it_refuses_a_pdf_named_png():
    message = refusal(pdf(), "photo.png")

    assert "L'extension « .png »" in message
    assert "qui est un PDF" in message


def test_it_refuses_a_jpeg_named_png():
    assert "une image JPEG" in refusal(jpeg(), "photo.png")


def test_it_refuses_a_pdf_hidden_behind_a_second_extension():
    assert "L'extension « .exe »" in refusal(pdf(), "facture.pdf.exe")


@pytest.mark.parametrize("name", ["facture.pdf", "photo.png"])
def test_it_refuses_html_disguised_as_a_document(name):
    page = b"<!DOCTYPE html><html><body><form action='https://example.org'></form></body></html>"

    assert UNKNOWN_FORMAT in refusal(page, name)


def test_it_refuses_an_svg_with_a_script_renamed_png():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'

    assert UNKNOWN_FORMAT in refusal(svg, "photo.png")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"),
        ("photo.png", png()[:40] + b"<HTML><SCRIPT>alert(1)</SCRIPT>" + png()[40:]),
        ("photo.jpg", jpeg()[:20] + b"<svg onload=alert(1)>" + jpeg()[20:]),
        ("facture.pdf", b"%PDF-1.7\n<!doctype html><script>alert(1)</script>" + pdf()[9:]),
        (
            "facture.pdf",
            pdf()[:15]
            + b"%"
            + b" " * 1100
            + b"\n%<html><body><script>alert(document.domain)</script>\n"
            + pdf()[15:],
        ),
    ],
    ids=[
        "png-then-html",
        "capitals-inside-png",
        "svg-inside-jpeg",
        "pdf-then-html",
        "html-in-a-pdf-comment-past-the-sniffed-start",
    ],
)
def test_it_refuses_a_file_with_valid_magic_bytes_then_web_code(name, content):
    assert WEB_CODE in refusal(content, name)


def test_it_refuses_a_pdf_that_runs_javascript_when_opened():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.alert('Bonjour');"))
    output = io.BytesIO()
    writer.write(output)

    assert ACTIVE_PDF in refusal(output.getvalue(), "facture.pdf")


def test_it_refuses_a_pdf_carrying_an_attached_file():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("facture.xml", b"<Invoice/>")
    output = io.BytesIO()
    writer.write(output)

    assert ACTIVE_PDF in refusal(output.getvalue(), "facture.pdf")


@pytest.mark.parametrize(
    "content",
    [
        pdf_opening_with(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
        pdf_opening_with(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        pdf_opening_with(b"<< /S /Launch /F (cmd.exe) >>"),
        pdf_opening_with(b"<< /S /URI /URI (https://example.org/pixel) >>"),
        pdf_opening_with(
            b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://example.org/pixel) >> >>"
        ),
        pdf_opening_with(
            b"<< /S /GoTo /D [3 0 R /Fit] /Next [<< /S /GoTo /D [3 0 R /Fit] >> "
            b"<< /S /SubmitForm /F (https://example.org/) >>] >>"
        ),
        pdf_opening_with(
            b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /GoTo /D [3 0 R /Fit] "
            b"/Next << /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\a.pdf) /D [0 /Fit] >> >> >>"
        ),
        raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 4 0 R >> >>",
                *ONE_PAGE,
                b"<< /Names [(a.exe) << /Type /Filespec /EF << /F 5 0 R >> >>] >>",
                b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
            ]
        ),
        pdf_hiding_javascript_in_an_object_stream(),
        pdf_with_xfa_form(),
    ],
    ids=[
        "open-action",
        "escaped-names",
        "launch",
        "uri-on-open",
        "uri-after-going-to-a-page",
        "form-sent-among-next-actions",
        "network-share-two-actions-later",
        "attachment",
        "object-stream",
        "xfa-form",
    ],
)
def test_it_refuses_a_pdf_with_active_content(content):
    assert ACTIVE_PDF in refusal(content, "facture.pdf")


def test_it_refuses_javascript_left_in_an_object_no_page_refers_to():
    # A viewer rebuilding a damaged cross-reference table could still pick it up.
    orphan = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    content = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE, orphan])

    assert ACTIVE_PDF in refusal(content, "facture.pdf")


def test_it_refuses_javascript_left_in_an_object_stream_no_cross_reference_lists():
    # The raw bytes show nothing: the object stream is compressed.
    orphan = object_stream({5: b"<< /S /JavaScript /JS (app.alert(1)) >>"})
    content = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE, orphan])

    assert ACTIVE_PDF in refusal(content, "facture.pdf")


@pytest.mark.parametrize(
    "build",
    [
        lambda: pdf_with_object_stream_bombs(4, 70 * LIMIT),
        lambda: pdf_with_a_length_in_an_object_stream_bomb(70 * LIMIT),
    ],
    ids=["four-object-streams", "length-of-a-stream-in-an-object-stream"],
)
def test_it_refuses_object_streams_that_decompress_past_the_limit_without_holding_them(build):
    content = build()
    assert len(content) < LIMIT

    message, peak = refusal_and_peak_memory(content)

    assert TOO_COMPRESSED_PDF in message
    assert peak < 16 * LIMIT


def test_it_refuses_an_object_stream_compressed_otherwise_than_writers_do():
    # Same length, so that the cross-reference still finds every object.
    content = pdf_with_object_stream_bombs(1, 0).replace(b"/FlateDecode", b"/LZWDecode  ")

    assert TOO_COMPRESSED_PDF in refusal(content, "facture.pdf")


@pytest.mark.parametrize(
    "build",
    [pdf_referring_to_missing_objects, pdf_listing_missing_pages, pdf_with_misplaced_objects],
    ids=["missing-objects", "missing-pages", "objects-out-of-place"],
)
def test_it_refuses_a_pdf_that_pypdf_would_search_for_thousands_of_objects(
    build, whole_file_searches
):
    # Each search reads the whole file: 20,000 of them in 2 MB took four minutes.
    content = build(20_000, size=LIMIT)

    message = refusal(content, "scan.pdf", max_bytes=4 * LIMIT)

    assert TOO_DAMAGED_PDF in message
    assert "Enregistrer au format PDF" in message
    assert len(whole_file_searches) == MAX_PDF_REPAIRS


@pytest.mark.parametrize("lengths", [True, False], ids=["declared", "none"])
def test_it_refuses_streams_that_overlap_without_holding_them(lengths):
    # A megabyte whose thousand streams all run to its end: half a gigabyte once read.
    content = pdf_with_overlapping_streams(1000, gap=1000, lengths=lengths)

    message, peak = refusal_and_peak_memory(content)

    assert TOO_DAMAGED_PDF in message
    assert peak < 8 * len(content)


def test_it_refuses_thousands_of_streams_of_a_wrong_length(cross_reference_walks):
    # Each one is a walk through 20,000 entries: 20,000 of them, in 1.4 MB, took 36 s.
    content = pdf_with_streams(20_000, WRONG_LENGTH)

    assert TOO_DAMAGED_PDF in refusal(content, "scan.pdf", max_bytes=4 * LIMIT)
    # The last walk is counted once done.
    assert sum(cross_reference_walks[:-1]) <= MAX_PDF_ENTRIES_WALKED < sum(cross_reference_walks)


def test_it_refuses_thousands_of_revisions_read_each_up_to_the_end():
    # 2,500 of them, in half a megabyte, were read in 4 s, 8,000 in 46 s; each one more
    # is read through all those after it.
    content = pdf_with_revisions(2500, ended=False)

    assert TOO_DAMAGED_PDF in refusal(content, "scan.pdf")


def test_it_accepts_a_pdf_saved_many_times():
    content = pdf_with_revisions(2500, ended=True)

    assert upload(content, "scan.pdf").content == content


def test_it_accepts_revisions_written_by_pypdf():
    content = pdf(pages=3)
    for revision in range(30):
        writer = PdfWriter(io.BytesIO(content), incremental=True)
        writer.add_metadata({"/Title": f"Version {revision}"})
        output = io.BytesIO()
        writer.write(output)
        content = output.getvalue()

    assert upload(content, "scan.pdf").content == content


@pytest.mark.parametrize(
    "objects",
    [
        dict.fromkeys(range(4, 20_004), WRONG_LENGTH),
        {4: b"<< /Length 1 >>" + b" " * 2 * LIMIT + b"stream\nx\nendstream"},
    ],
    ids=["thousands-of-a-wrong-length", "keyword-a-chunk-further"],
)
def test_it_refuses_streams_in_an_object_stream(objects, cross_reference_walks):
    # The PDF specification forbids them: pypdf would read each one's data unchecked.
    content = pdf_with_an_object_stream_holding(objects)

    assert TOO_COMPRESSED_PDF in refusal(content, "scan.pdf", max_bytes=4 * LIMIT)
    assert cross_reference_walks == []


def test_it_refuses_an_encrypted_pdf():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    output = io.BytesIO()
    writer.write(output)

    assert "Ce PDF est protégé par un mot de passe" in refusal(output.getvalue(), "avis.pdf")


def test_it_refuses_a_file_over_the_size_limit_and_names_the_limit():
    content = pdf() + b"%" * LIMIT

    message = refusal(content, "avis.pdf", max_bytes=LIMIT)

    assert message.startswith("Le fichier dépasse la taille maximale autorisée (1 Mo).")


def test_it_names_a_fractional_limit_in_megabytes():
    message = refusal(pdf() + b"%" * 2 * LIMIT, "avis.pdf", max_bytes=LIMIT + LIMIT // 2)

    assert "(1,5 Mo)" in message


def test_it_counts_the_bytes_instead_of_trusting_the_declared_size():
    uploaded = SimpleUploadedFile("avis.pdf", pdf() + b"%" * LIMIT)
    uploaded.size = 10

    with pytest.raises(UploadRefused, match="taille maximale"):
        clean_upload(uploaded, max_bytes=LIMIT)


def test_it_refuses_an_empty_file():
    assert refusal(b"", "avis.pdf").startswith("Le fichier est vide.")


def test_it_refuses_a_decompression_bomb():
    bomb = png_declaring(30_000, 30_000)
    assert len(bomb) < 1024

    assert TOO_MANY_PIXELS in refusal(bomb, "photo.png")


def test_it_refuses_an_image_over_its_own_pixel_limit_below_pillows():
    assert TOO_MANY_PIXELS in refusal(png_declaring(8_000, 7_000), "photo.png")


def test_it_refuses_an_image_too_long_for_jpeg():
    message = refusal(png_declaring(70_000, 10), "panorama.png")

    assert "et 65\u00a0000 pixels sur un côté" in message


def test_it_refuses_a_truncated_pdf():
    content = pdf(pages=3)

    assert DAMAGED_PDF in refusal(content[: len(content) // 2], "avis.pdf")


def test_it_refuses_a_pdf_cut_short_of_its_end_marker():
    content = pdf()
    assert content.rstrip().endswith(b"%%EOF")

    assert DAMAGED_PDF in refusal(content.rstrip()[:-2], "avis.pdf")


def test_it_refuses_a_pdf_without_pages():
    empty = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])

    assert "Ce PDF ne contient aucune page." in refusal(empty, "avis.pdf")


def test_it_refuses_a_pdf_that_is_only_a_header():
    assert DAMAGED_PDF in refusal(b"%PDF-1.7\n%%EOF\n", "avis.pdf")


def test_it_refuses_a_truncated_jpeg():
    content = jpeg()

    assert DAMAGED_IMAGE in refusal(content[: len(content) * 2 // 3], "photo.jpg")


def test_it_refuses_a_png_with_a_corrupted_chunk():
    content = bytearray(png())
    content[60] ^= 0xFF

    assert DAMAGED_IMAGE in refusal(bytes(content), "photo.png")


def test_it_refuses_a_zip_renamed_pdf():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("facture.pdf", pdf())

    assert UNKNOWN_FORMAT in refusal(archive.getvalue(), "facture.pdf")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 64),
        ("notes.pdf", "Rendez-vous à la CAF lundi".encode()),
        ("photo.jpg", encoded(picture(), "GIF")),
    ],
    ids=["executable", "text", "gif"],
)
def test_it_refuses_other_formats_and_lists_the_accepted_ones(name, content):
    assert UNKNOWN_FORMAT in refusal(content, name)


# Accepted files


def test_it_keeps_a_pdf_byte_for_byte():
    content = pdf()

    clean = upload(content, "avis.pdf")

    assert clean == CleanFile(content=content, content_type="application/pdf", extension="pdf")


@pytest.mark.parametrize(
    "content",
    [
        pdf_opening_with(b"<< /S /GoTo /D [3 0 R /Fit] >>"),
        pdf_opening_with(b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /GoTo /D [3 0 R /FitH] >> >>"),
        raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
                *ONE_PAGE,
                b"<< /S /GoTo /D [3 0 R /Fit] /Next [4 0 R] >>",
            ]
        ),
    ],
    ids=["one-action", "two-actions", "actions-in-a-loop"],
)
def test_it_accepts_a_pdf_opening_on_its_first_page(content):
    assert upload(content, "avis.pdf").content == content


def test_it_accepts_a_pdf_whose_objects_sit_in_object_streams():
    packed = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>",
        2: ONE_PAGE[0],
        3: ONE_PAGE[1],
    }
    content = pdf_with_object_streams({4: object_stream(packed)}, {1: 4, 2: 4, 3: 4})

    assert upload(content, "avis.pdf").content == content


def test_it_accepts_a_pdf_whose_compressed_bytes_spell_a_short_name():
    # Scanned PDFs are mostly compressed bytes, which spell "/JS " now and then by chance.
    data = b"\x8f\x13/JS \x02\x91" * 4
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
        ]
    )

    assert upload(content, "scan.pdf").content == content


@pytest.mark.parametrize(
    "build",
    [pdf_referring_to_missing_objects, pdf_listing_missing_pages, pdf_with_misplaced_objects],
    ids=["missing-objects", "missing-pages", "objects-out-of-place"],
)
def test_it_accepts_a_slightly_damaged_pdf_that_pypdf_repairs(build, whole_file_searches):
    content = build(MAX_PDF_REPAIRS, size=LIMIT // 2)

    assert upload(content, "scan.pdf").content == content
    assert len(whole_file_searches) == MAX_PDF_REPAIRS


@pytest.mark.parametrize(
    "stream",
    [WRONG_LENGTH, b"<< /Length 2 >>\nstream\nxendstream"],
    ids=["wrong-length", "one-byte-too-many"],
)
def test_it_accepts_a_pdf_whose_streams_all_have_a_wrong_length(stream):
    # Like a file whose line ends were changed on its way.
    content = pdf_with_streams(100, stream)

    assert upload(content, "scan.pdf").content == content


@pytest.mark.parametrize("name", ["photo", "photo.", "PHOTO.JPG", "photo.jpeg", "photo.jfif"])
def test_it_accepts_a_jpeg_by_its_bytes_whatever_its_accepted_name(name):
    assert upload(jpeg(), name).content_type == "image/jpeg"


def test_it_accepts_a_pdf_without_extension():
    content = pdf()

    assert upload(content, "avis_imposition").content == content


def test_it_removes_the_gps_position_from_a_jpeg():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Téléphone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    content = jpeg(exif=exif)
    assert opened(content).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    clean = upload(content, "photo.jpg")

    result = opened(clean.content)
    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")
    assert result.format == "JPEG"
    assert result.size == (64, 48)
    assert not result.getexif()
    assert b"Exif" not in clean.content
    assert b"GPS" not in clean.content


def test_it_removes_xmp_colour_profile_and_comment_from_a_jpeg():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = jpeg(
        xmp=b"<x:xmpmeta>Auteur secret</x:xmpmeta>", icc_profile=profile, comment=b"Mme X"
    )

    clean = upload(content, "photo.jpg").content

    assert b"Auteur secret" not in clean
    assert b"ICC_PROFILE" not in clean
    assert b"Mme X" not in clean
    assert not {"xmp", "icc_profile", "comment"} & set(opened(clean).info)


def test_it_turns_a_photo_upright_from_its_exif_orientation():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    content = encoded(picture((80, 30)), "JPEG", exif=exif)

    clean = upload(content, "photo.jpg").content

    assert opened(clean).size == (30, 80)
    assert not opened(clean).getexif()


def test_it_removes_text_chunks_from_a_png_and_keeps_its_pixels():
    image = picture()
    text = PngInfo()
    text.add_text("Comment", "Domicile : 12 rue des Lilas")
    text.add_itxt("Author", "Mme X")
    content = encoded(image, "PNG", pnginfo=text)

    clean = upload(content, "capture.png")

    assert (clean.content_type, clean.extension) == ("image/png", "png")
    assert b"tEXt" not in clean.content
    assert b"iTXt" not in clean.content
    assert b"Lilas" not in clean.content
    assert opened(clean.content).tobytes() == image.tobytes()


def test_it_keeps_the_transparency_of_a_png():
    image = picture(mode="RGBA")

    clean = upload(encoded(image, "PNG"), "capture.png")

    assert opened(clean.content).mode == "RGBA"
    assert opened(clean.content).tobytes() == image.tobytes()


@pytest.mark.parametrize(
    ("image", "options", "mode"),
    [
        (Image.new("1", (20, 10), 1), {}, "1"),
        (Image.new("I;16", (20, 10), 40_000), {}, "I;16"),
        (Image.new("RGB", (20, 10), "red").convert("P"), {}, "RGB"),
        (Image.new("RGB", (20, 10), "red").convert("P"), {"transparency": 0}, "RGBA"),
        (Image.new("RGB", (20, 10), "red"), {"transparency": (255, 0, 0)}, "RGBA"),
    ],
    ids=["bilevel", "16-bit-grey", "palette", "palette-transparent", "colour-key"],
)
def test_it_keeps_what_a_png_shows_whatever_its_mode(image, options, mode):
    content = encoded(image, "PNG", **options)

    clean = opened(upload(content, "capture.png").content)

    assert clean.mode == mode
    assert clean.convert("RGBA").tobytes() == opened(content).convert("RGBA").tobytes()


@pytest.mark.parametrize(("source", "mode"), [("L", "L"), ("CMYK", "RGB")])
def test_it_reencodes_grey_and_print_jpegs_in_a_mode_browsers_show(source, mode):
    content = encoded(Image.new(source, (20, 10)), "JPEG")

    assert opened(upload(content, "scan.jpg").content).mode == mode


def test_it_reencodes_a_webp_as_jpeg_on_a_white_background():
    transparent = Image.new("RGBA", (40, 30), (0, 0, 0, 0))

    clean = upload(encoded(transparent, "WEBP", lossless=True), "photo.webp")

    result = opened(clean.content)
    assert (clean.content_type, clean.extension, result.format) == ("image/jpeg", "jpg", "JPEG")
    assert result.size == (40, 30)
    darkest, _ = result.convert("L").getextrema()
    assert darkest > 245


def test_it_reencodes_a_heic_as_jpeg_without_its_exif():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Téléphone"
    try:
        content = encoded(picture(), "HEIF", exif=exif)
    except (KeyError, OSError, ValueError):
        pytest.skip("pillow_heif cannot write HEIC here")
    assert content[4:12] == b"ftypheic"

    clean = upload(content, "IMG_0001.HEIC")

    result = opened(clean.content)
    assert (clean.content_type, result.format, result.size) == ("image/jpeg", "JPEG", (64, 48))
    assert not result.getexif()


# Photos of one document assembled into one PDF


def test_it_assembles_three_photos_into_one_pdf_of_three_pages():
    portrait = upload(encoded(picture((60, 90)), "JPEG"), "recto.jpg")
    landscape = upload(encoded(picture((90, 60)), "JPEG"), "verso.jpg")
    screenshot = upload(encoded(picture((50, 50), "RGBA"), "PNG"), "annexe.png")

    assembled = photos_to_pdf([portrait, landscape, screenshot], max_bytes=LIMIT)

    reader = PdfReader(io.BytesIO(assembled.content), strict=True)
    boxes = [(round(page.mediabox.width), round(page.mediabox.height)) for page in reader.pages]
    assert (assembled.content_type, assembled.extension) == ("application/pdf", "pdf")
    assert boxes == [(595, 842), (842, 595), (595, 842)]
    assert portrait.content in assembled.content
    assert [image.image.size for page in reader.pages for image in page.images] == [
        (60, 90),
        (90, 60),
        (50, 50),
    ]
    assert upload(assembled.content, "document.pdf").content == assembled.content


def test_it_keeps_the_pixels_of_an_assembled_png():
    image = picture((20, 10))
    photo = upload(encoded(image, "PNG"), "capture.png")

    assembled = photos_to_pdf([photo], max_bytes=LIMIT)

    page = PdfReader(io.BytesIO(assembled.content)).pages[0]
    assert page.images[0].image.convert("RGB").tobytes() == image.tobytes()
    assert zlib.compress(image.tobytes()) in assembled.content


def test_it_refuses_to_assemble_no_photo():
    with pytest.raises(UploadRefused, match="Aucune photo à assembler"):
        photos_to_pdf([], max_bytes=LIMIT)


def test_it_refuses_to_assemble_a_pdf_with_photos():
    photos = [upload(jpeg(), "recto.jpg"), upload(pdf(), "verso.pdf")]

    with pytest.raises(UploadRefused, match="Seules des photos"):
        photos_to_pdf(photos, max_bytes=LIMIT)


def _gradient_photo() -> tuple[CleanFile, int]:
    """A PNG photo, and what its pixels weigh in a PDF: more than the PNG itself, as the
    PDF keeps them without PNG's filters."""
    image = Image.radial_gradient("L").resize((300, 300)).convert("RGB")
    return upload(encoded(image, "PNG"), "page.png"), len(zlib.compress(image.tobytes()))


def test_it_refuses_photos_that_make_too_heavy_a_pdf():
    photo, in_the_pdf = _gradient_photo()
    assert in_the_pdf > len(photo.content)

    with pytest.raises(UploadRefused, match="Ensemble, les photos dépassent la taille maximale"):
        photos_to_pdf([photo], max_bytes=in_the_pdf)


def test_it_stops_assembling_once_the_photos_are_too_heavy(monkeypatch):
    photo, in_the_pdf = _gradient_photo()

    def never(images):
        raise AssertionError("the PDF is built")

    monkeypatch.setattr("relais.documents.validation._write_pdf", never)
    with pytest.raises(UploadRefused, match="Ensemble, les photos dépassent la taille maximale"):
        photos_to_pdf([photo, photo, photo], max_bytes=in_the_pdf + 1)


def _sent(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("page.jpg", b"x" * size, "image/jpeg")


def test_it_takes_ten_photos_at_most_weighing_together_what_one_file_may():
    check_photos([_sent(10)] * MAX_PHOTOS, max_bytes=10 * MAX_PHOTOS)

    with pytest.raises(UploadRefused, match=f"en {MAX_PHOTOS} photos au plus"):
        check_photos([_sent(1)] * (MAX_PHOTOS + 1), max_bytes=LIMIT)
    with pytest.raises(UploadRefused, match=r"les photos dépassent .* \(0,01 Mo\)"):
        check_photos([_sent(6000), _sent(6000)], max_bytes=10_486)
