"""Checks an uploaded supporting document before it is stored, and cleans it.

The type is decided from the bytes, never from the name or the browser. PDFs are kept as
received once checked; images are decoded and re-encoded from their pixels so that no
metadata (GPS position, camera, comments…) and no smuggled payload reaches the storage.
Everything happens in memory: nothing is written to disk here.
"""

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeGuard

import pillow_heif
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    read_object,
)

pillow_heif.register_heif_opener()

MEGABYTE = 1024 * 1024
# Pages of one document taken in photos; beyond, it is rather several documents.
MAX_PHOTOS = 10
MAX_PIXELS = 50_000_000
MAX_SIDE = 65_000  # JPEG cannot hold more pixels on one side
JPEG_QUALITY = 85
SNIFF_WINDOW = 1024
ACCEPTED_FORMATS = "PDF, JPEG, PNG, HEIC et WebP"
EMPTY_FILE = (
    "Le fichier est vide. Vérifiez que vous avez choisi le bon fichier, puis déposez-le à nouveau."
)

# Browsers sniff the start of a file: any of these there could turn it into a web page.
WEB_MARKERS = (
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<!doctype",
)

# XFA forms carry their own scripts, and no administrative paper needs one.
DANGEROUS_PDF_NAMES = frozenset(
    {"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "GoToE", "XFA"}
)
# Compressed stream bytes spell short names such as "/JS" by chance now and then.
SHORT_DANGEROUS_PDF_NAMES = frozenset({"JS", "XFA"})
# The only action a PDF may run by itself (on opening, on a page…): moving inside itself.
HARMLESS_AUTOMATIC_ACTIONS = frozenset({"/GoTo"})
# Object streams hold a document's dictionaries (pages, fonts, links…): at most a few
# megabytes once decompressed, even for a long document. pypdf decompresses each one whole,
# up to 75 MB, and keeps it: without a limit on them all, a file of a few hundred kilobytes
# makes it hold gigabytes.
MAX_OBJECT_STREAMS_BYTES = 32 * MEGABYTE
INFLATE_CHUNK = MEGABYTE
# An object stream's dictionary, like a length, takes a few dozen bytes.
OBJECT_TEXT_WINDOW = 4096
# A slightly damaged scan has an object or two out of place. pypdf looks for each one through
# the whole file: a few megabytes with thousands of them would take minutes.
MAX_PDF_REPAIRS = 8
# pypdf finds where a stream of a wrong length ends by going through the whole
# cross-reference. A file damaged throughout (its line ends changed, say) has many such
# streams; thousands in a cross-reference of thousands of entries would take minutes. Two
# million entries take a quarter of a second.
MAX_PDF_ENTRIES_WALKED = 2_000_000
# PDFs from office software, browsers, scanners and pypdf itself are read one to four times
# over, whole, to be checked. A file built so that pypdf reads it again for each of its parts
# (thousands of cross-reference sections, each followed up to the file's end) reads gigabytes
# in minutes: past this many times its size, or the floor for a small file, it is refused.
MAX_PDF_READS_OVER = 16
MIN_PDF_READ_BUDGET = MEGABYTE

# A4 in PostScript points; each photo is fitted inside, within a small printable margin.
A4_SHORT_SIDE = 595.28
A4_LONG_SIDE = 841.89
PAGE_MARGIN = 14.17

PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\]()%{}]+)")
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\r|\n)")
# A dictionary followed by stream data, once each run of whitespace is written as one space.
PDF_STREAM_DICTIONARY = re.compile(rb">> ?stream")
PDF_WHITESPACE_RUN = re.compile(rb"[\x00\t\n\x0c\r ]+")

PDF_REFUSAL_ADVICE = (
    "Ouvrez-le puis utilisez « Imprimer » et « Enregistrer au format PDF » pour en obtenir "
    "une copie simple, et déposez cette copie."
)


class UploadRefused(Exception):
    """The file is refused; str(error) is a clear French message for the person who uploads."""


class TooLarge(UploadRefused):
    """The file, or the photos of one document together, weigh more than one document may."""


class TooManyPhotos(UploadRefused):
    """More photos than one document is assembled from."""


class FileSpaceFull(UploadRefused):
    """The file's space for documents is full."""


class JustUploaded(UploadRefused):
    """The same file was stored a moment ago: a form sent twice."""


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    extension: str


@dataclass(frozen=True)
class FileKind:
    label: str
    extensions: frozenset[str]
    pillow_format: str


PDF = FileKind("un PDF", frozenset({"pdf"}), "PDF")
JPEG = FileKind("une image JPEG", frozenset({"jpg", "jpeg", "jfif"}), "JPEG")
PNG = FileKind("une image PNG", frozenset({"png"}), "PNG")
WEBP = FileKind("une image WebP", frozenset({"webp"}), "WEBP")
HEIC = FileKind("une image HEIC", frozenset({"heic", "heif"}), "HEIF")

HEIC_BRANDS = frozenset({b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"})


def clean_upload(uploaded: UploadedFile, *, max_bytes: int) -> CleanFile:
    content = _read_within_limit(uploaded, max_bytes=max_bytes)
    kind = _sniff(content)
    _check_extension(uploaded.name, kind)
    if kind is PDF:
        _check_pdf(content)
        return CleanFile(content=content, content_type="application/pdf", extension="pdf")
    _refuse_web_content(content[:SNIFF_WINDOW])
    return _reencode_image(content, kind)


# Size


def _read_within_limit(uploaded: UploadedFile, *, max_bytes: int) -> bytes:
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise _too_large(max_bytes)
    received = bytearray()
    for chunk in uploaded.chunks():
        received += chunk
        if len(received) > max_bytes:
            raise _too_large(max_bytes)
    if not received:
        raise UploadRefused(EMPTY_FILE)
    return bytes(received)


def _too_large(max_bytes: int) -> UploadRefused:
    return TooLarge(
        f"Le fichier dépasse la taille maximale autorisée ({in_megabytes(max_bytes)} Mo). "
        "Réduisez sa taille, par exemple en le numérisant en moins haute définition ou en le "
        "découpant en plusieurs fichiers, puis déposez-le à nouveau."
    )


def check_photos(photos: list[UploadedFile], *, max_bytes: int) -> None:
    """Several photos of one document: MAX_PHOTOS at most, weighing together what one file
    may weigh."""
    if len(photos) > MAX_PHOTOS:
        raise TooManyPhotos(
            f"Une pièce se dépose en {MAX_PHOTOS} photos au plus. Gardez les pages utiles, "
            "ou déposez les autres comme une autre pièce."
        )
    if sum(photo.size or 0 for photo in photos) > max_bytes:
        raise _photos_too_large(max_bytes)


def _photos_too_large(max_bytes: int) -> UploadRefused:
    return TooLarge(
        f"Ensemble, les photos dépassent la taille maximale autorisée pour une pièce "
        f"({in_megabytes(max_bytes)} Mo). Déposez moins de photos, ou des photos prises en "
        "moins haute définition."
    )


def in_megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.6f}".rstrip("0").rstrip(".").replace(".", ",")


# Type


def _sniff(content: bytes) -> FileKind:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content[4:12] in HEIC_BRANDS:
        return HEIC
    raise UploadRefused(
        f"Ce format de fichier n'est pas accepté. Formats acceptés : {ACCEPTED_FORMATS}."
    )


def _check_extension(name: str | None, kind: FileKind) -> None:
    extension = _extension_of(name or "")
    if extension and extension not in kind.extensions:
        raise UploadRefused(
            f"L'extension « .{extension} » du nom du fichier ne correspond pas à son contenu, "
            f"qui est {kind.label}. Déposez le fichier d'origine, sans le renommer."
        )


def _extension_of(name: str) -> str:
    base = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, extension = base.rpartition(".")
    return extension.lower() if dot else ""


def _refuse_web_content(text: bytes) -> None:
    lowered = text.lower()
    if any(marker in lowered for marker in WEB_MARKERS):
        raise UploadRefused(
            "Ce fichier contient du code de page web (HTML, SVG ou script) : il est refusé "
            "pour des raisons de sécurité. Déposez le document d'origine."
        )


# PDF


def _check_pdf(content: bytes) -> None:
    text = _outside_stream_bodies(content)
    # A PDF is kept byte for byte: a page hidden anywhere in its text, not only where
    # browsers sniff, would run if the file were ever taken for HTML. Stream bodies are
    # left out, as compressed bytes spell short markers such as "<svg" by chance.
    _refuse_web_content(text)
    if b"%%EOF" not in content[-SNIFF_WINDOW:]:
        raise _unreadable_pdf()
    if _raw_dangerous_names(content, text):
        raise _active_pdf()
    reader = _parse_pdf(content)
    if reader.is_encrypted:
        raise UploadRefused(
            "Ce PDF est protégé par un mot de passe ou chiffré : il ne pourrait pas être "
            f"consulté. {PDF_REFUSAL_ADVICE}"
        )
    _check_pdf_structure(reader)


def _parse_pdf(content: bytes) -> "_BoundedReader":
    stream = _BoundedStream(content)
    try:
        reader = _BoundedReader(stream)
    # A parser of hostile input fails in many ways; any failure means the file is refused.
    except Exception as error:
        raise (_damaged_pdf() if stream.exhausted else _unreadable_pdf()) from error
    # pypdf carries on past some failures to read, such as that of an older revision.
    if stream.exhausted:
        raise _damaged_pdf()
    return reader


class _BoundedStream(io.BytesIO):
    """The file as pypdf reads it, read MAX_PDF_READS_OVER times over at most. Once the
    budget is spent, every read fails: pypdf swallows some failures and goes on."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.size = len(content)
        self.bytes_left = max(MAX_PDF_READS_OVER * self.size, MIN_PDF_READ_BUDGET)
        self.exhausted = False

    def read(self, size: int | None = -1) -> bytes:
        if not self.exhausted:
            data = super().read(size)
            self.bytes_left -= len(data)
            if self.bytes_left >= 0:
                return data
            self.exhausted = True
        raise _damaged_pdf()


class _BoundedReader(PdfReader):
    """Refuses the file as damaged rather than let pypdf spend time or memory on it without
    bound. Every object pypdf reads, for the page tree, a stream's length or this module's
    walk, goes through get_object()."""

    def __init__(self, stream: _BoundedStream) -> None:
        self.source = stream
        self.repairs_left = MAX_PDF_REPAIRS
        self.entries_left = MAX_PDF_ENTRIES_WALKED
        # Streams do not overlap: together they hold fewer bytes than the file.
        self.stream_bytes_left = stream.size
        super().__init__(stream, strict=False)

    def get_object(self, indirect_reference: int | IndirectObject) -> PdfObject | None:
        if isinstance(indirect_reference, int):
            indirect_reference = IndirectObject(indirect_reference, 0, self)
        number, generation = indirect_reference.idnum, indirect_reference.generation
        if (generation, number) in self.resolved_objects:
            return super().get_object(indirect_reference)
        # pypdf searches the whole file for an object the cross-reference does not list
        # (which the PDF specification reads as null), or lists where another object stands.
        if self._needs_search(number, generation):
            self.repairs_left -= 1
            if self.repairs_left < 0:
                raise _damaged_pdf()
        item = super().get_object(indirect_reference)
        if isinstance(item, StreamObject):
            self._check_stream(item, number, generation)
        return item

    def _needs_search(self, number: int, generation: int) -> bool:
        # The same tests as PdfReader.get_object's, in its order.
        if generation == 0 and number in self.xref_objStm:
            return False
        offset = self.xref.get(generation, {}).get(number)
        if offset is None:
            return True
        if self.xref_free_entry.get(generation, {}).get(number, False):
            return False
        self.stream.seek(offset)
        try:
            return self.read_object_header(self.stream) != (number, generation)
        except Exception:
            return True

    def _check_stream(self, stream: StreamObject, number: int, generation: int) -> None:
        # pypdf reads a stream without a length up to the next "endstream", which thousands
        # of streams can share megabytes further.
        self.stream_bytes_left -= len(stream._data)
        if self.stream_bytes_left < 0:
            raise _damaged_pdf()
        try:
            length = _resolved(self.declared_length(number, generation))
        # A dictionary unreadable within the window counts as a wrong length.
        except Exception:
            length = None
        # pypdf drops the one byte some writers count too many; past any other wrong length,
        # it reads up to the next object, which it looks for through the whole cross-reference.
        if length not in (len(stream._data), len(stream._data) + 1):
            self.entries_left -= sum(len(numbers) for numbers in self.xref.values())
            if self.entries_left < 0:
                raise _damaged_pdf()

    def declared_length(self, number: int, generation: int) -> object:
        """A stream's /Length, read from its object's text cut before any stream data, so
        that pypdf resolves nothing."""
        self.stream.seek(self.xref[generation][number])
        if self.read_object_header(self.stream) != (number, generation):
            raise ValueError(f"object {number} is not where the cross-reference says")
        text = self.stream.read(OBJECT_TEXT_WINDOW)
        stream_start = text.find(b"stream")
        alone = read_object(io.BytesIO(text[:stream_start] if stream_start >= 0 else text), self)
        return dict.get(alone, "/Length") if isinstance(alone, DictionaryObject) else None


def _check_pdf_structure(reader: _BoundedReader) -> None:
    try:
        objects = _every_object(reader)
        page_count = len(reader.pages)
        active = _has_active_content(objects)
    except UploadRefused:
        raise
    except Exception as error:
        raise (_damaged_pdf() if reader.source.exhausted else _unreadable_pdf()) from error
    if reader.source.exhausted:
        raise _damaged_pdf()
    if page_count == 0:
        raise UploadRefused("Ce PDF ne contient aucune page. Déposez le document complet.")
    if active:
        raise _active_pdf()


def _raw_dangerous_names(content: bytes, text: bytes) -> set[str]:
    found = _pdf_names(text) & DANGEROUS_PDF_NAMES
    # Inside streams only the long, unambiguous names count.
    found |= _pdf_names(content) & (DANGEROUS_PDF_NAMES - SHORT_DANGEROUS_PDF_NAMES)
    return found


def _outside_stream_bodies(content: bytes) -> bytes:
    # A plain scan, not a regular expression spanning bodies: hostile files full of
    # "stream" keywords without an end would make such an expression take quadratic time.
    kept = []
    position = 0
    while start := PDF_STREAM_START.search(content, position):
        end = content.find(b"endstream", start.end())
        if end == -1:
            break
        kept.append(content[position : start.start()])
        position = end + len(b"endstream")
    kept.append(content[position:])
    return b"\nstream endstream\n".join(kept)


def _pdf_names(raw: bytes) -> set[str]:
    # Deduplicated before decoding: a hostile file can hold millions of names.
    return {_decoded_name(name) for name in set(PDF_NAME.findall(raw))}


def _decoded_name(name: bytes) -> str:
    unescaped = PDF_NAME_ESCAPE.sub(lambda escape: bytes([int(escape[1], 16)]), name)
    return unescaped.decode("latin-1")


def _every_object(reader: _BoundedReader) -> list[object]:
    """What a viewer could come upon, referred to or not (one repairing a damaged file picks
    up every object it finds): the trailer, every object the cross-reference lists, and
    every object inside every object stream."""
    object_streams = _ObjectStreams(reader)
    for number in sorted({stream for stream, _ in reader.xref_objStm.values()}):
        object_streams.measure(number)
    objects: list[object] = [reader.trailer]
    objects += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    # Listed beforehand: pypdf adds to its table the objects it finds while repairing.
    listed = [
        (number, generation)
        for generation, numbers in reader.xref.items()
        for number in numbers
        if generation != 0 or number not in reader.xref_objStm
    ]
    for number, generation in listed:
        reference = IndirectObject(number, generation, reader)
        objects.append(reference)
        item = reference.get_object()
        if _is_object_stream(item):
            object_streams.count(number, item)
    for number, stream in object_streams.measured.items():
        objects += _objects_left_in(stream, number, reader)
    return objects


class _ObjectStreams:
    """Measures each object stream once decompressed, before pypdf may decode it: pypdf
    decodes one whole, up to 75 MB, and keeps it, as soon as it reads any object inside,
    such as the length of another stream it reads."""

    def __init__(self, reader: _BoundedReader) -> None:
        self.reader = reader
        self.budget = MAX_OBJECT_STREAMS_BYTES
        self.measured: dict[int, StreamObject] = {}
        self.measuring: set[int] = set()
        self.lengths_followed: set[tuple[int, int]] = set()

    def measure(self, number: int) -> None:
        if number in self.measured:
            return
        if number in self.reader.xref_objStm:
            raise ValueError(f"object stream {number} inside an object stream")
        if number in self.measuring:
            raise ValueError(f"object stream {number} needed to read itself")
        self.measuring.add(number)
        self._measure_before_reading(number, 0)
        stream = IndirectObject(number, 0, self.reader).get_object()
        if not _is_object_stream(stream):
            raise ValueError(f"object {number} is not an object stream")
        self.count(number, stream)

    def count(self, number: int, stream: StreamObject) -> None:
        if number in self.measured:
            return
        seen = b""
        for chunk in _inflated_chunks(stream, limit=self.budget):
            self.budget -= len(chunk)
            # The PDF specification keeps streams out of object streams: pypdf would read
            # the data of one found there as it reads a file's, out of this reader's checks.
            seen = PDF_WHITESPACE_RUN.sub(b" ", seen[-len(b">> strea") :] + chunk)
            if PDF_STREAM_DICTIONARY.search(seen):
                raise _too_compressed_pdf()
        if self.budget < 0:
            raise _too_compressed_pdf()
        self.measured[number] = stream

    def _measure_before_reading(self, number: int, generation: int) -> None:
        # Reading a stream, pypdf first reads its length, which may sit in an object stream,
        # or be another stream with a length of its own.
        if (number, generation) in self.lengths_followed:
            return
        self.lengths_followed.add((number, generation))
        length = self.reader.declared_length(number, generation)
        if not isinstance(length, IndirectObject):
            return
        if length.generation == 0 and length.idnum in self.reader.xref_objStm:
            self.measure(self.reader.xref_objStm[length.idnum][0])
        else:
            self._measure_before_reading(length.idnum, length.generation)


def _is_object_stream(item: object) -> TypeGuard[StreamObject]:
    # Entries read as written: resolving one could decode an object stream not yet measured.
    return isinstance(item, StreamObject) and dict.get(item, "/Type") == "/ObjStm"


def _inflated_chunks(stream: StreamObject, *, limit: int) -> Iterator[bytes]:
    """The stream once decompressed, chunk by chunk so that it is never held whole, up to a
    little over `limit` bytes."""
    # The bytes as read from the file: get_data(), pypdf's public access, decodes them whole.
    encoded = stream._data
    filters = dict.get(stream, "/Filter")
    if filters is None:
        yield encoded
        return
    # Writers compress object streams with FlateDecode alone, named as it is. Any other
    # filter would have to be decoded by pypdf whole before it could be measured: such a
    # file is refused.
    if filters not in ("/FlateDecode", ["/FlateDecode"]):
        raise _too_compressed_pdf()
    inflater = zlib.decompressobj()
    size = 0
    while size <= limit and not inflater.eof:
        inflated = inflater.decompress(encoded, INFLATE_CHUNK)
        if not inflated:
            break
        size += len(inflated)
        yield inflated
        encoded = inflater.unconsumed_tail


def _objects_left_in(stream: StreamObject, number: int, reader: PdfReader) -> list[object]:
    """The objects of an object stream that the cross-reference does not place there; pypdf
    reads the others when they are referred to."""
    count, first = _entry(stream, "/N"), _entry(stream, "/First")
    if not isinstance(count, int) or not isinstance(first, int):
        raise ValueError(f"object stream {number} without /N or /First")
    data = io.BytesIO(stream.get_data())
    index = [int(part) for part in data.read(first).split()[: 2 * count]]
    left: list[object] = []
    for inner_number, offset in zip(index[::2], index[1::2], strict=True):
        if reader.xref_objStm.get(inner_number, (None, None))[0] != number:
            data.seek(first + offset)
            left.append(read_object(data, reader))
    return left


def _has_active_content(objects: list[object]) -> bool:
    dangerous = {f"/{name}" for name in DANGEROUS_PDF_NAMES}
    for item in _walk(objects):
        if isinstance(item, NameObject) and item in dangerous:
            return True
        if isinstance(item, DictionaryObject) and (
            dangerous.intersection(item.keys()) or _runs_automatic_action(item)
        ):
            return True
    return False


def _walk(objects: list[object]) -> Iterator[object]:
    # Walking the parsed objects sees what the raw bytes hide, e.g. compressed object streams.
    seen: set[tuple[int, int]] = set()
    pending = list(objects)
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        yield item
        if isinstance(item, DictionaryObject):
            pending.extend(dict.values(item))
        elif isinstance(item, ArrayObject):
            pending.extend(item)


def _runs_automatic_action(dictionary: DictionaryObject) -> bool:
    actions = [_entry(dictionary, "/OpenAction")]
    triggers = _entry(dictionary, "/AA")
    if isinstance(triggers, DictionaryObject):
        actions.extend(_entry(triggers, key) for key in triggers)
    return any(_is_active_action(action) for action in actions)


def _is_active_action(action: object) -> bool:
    # An array is a plain destination ("open at page 1"); a dictionary is an action, which
    # runs the actions of its /Next (one, or an array of them) after itself.
    chain: list[object] = [action] if isinstance(action, DictionaryObject) else []
    followed: set[int] = set()
    while chain:
        current = chain.pop()
        if not isinstance(current, DictionaryObject) or id(current) in followed:
            continue
        followed.add(id(current))
        kind = _entry(current, "/S")
        if not (isinstance(kind, NameObject) and kind in HARMLESS_AUTOMATIC_ACTIONS):
            return True
        following = _entry(current, "/Next")
        if isinstance(following, ArrayObject):
            chain.extend(_resolved(item) for item in following)
        else:
            chain.append(following)
    return False


def _entry(dictionary: DictionaryObject, key: str) -> object:
    # DictionaryObject.get() hands back indirect references unresolved.
    return _resolved(dict.get(dictionary, key))


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _unreadable_pdf() -> UploadRefused:
    return UploadRefused(
        "Ce PDF est incomplet ou endommagé et ne peut pas être lu (son envoi a peut-être été "
        "interrompu). Déposez à nouveau le fichier d'origine."
    )


def _damaged_pdf() -> UploadRefused:
    return UploadRefused(
        "Ce PDF est trop endommagé pour être vérifié : plusieurs de ses éléments manquent, ou "
        f"n'ont pas la place ou la taille qu'il indique. {PDF_REFUSAL_ADVICE}"
    )


def _too_compressed_pdf() -> UploadRefused:
    return UploadRefused(
        "Ce PDF est compressé d'une façon qui empêche de le vérifier sans risque (une bombe "
        "de décompression, par exemple) : il est refusé pour des raisons de sécurité. "
        f"{PDF_REFUSAL_ADVICE}"
    )


def _active_pdf() -> UploadRefused:
    return UploadRefused(
        "Ce PDF contient du JavaScript, des actions automatiques ou des fichiers joints : il "
        f"est refusé pour des raisons de sécurité. {PDF_REFUSAL_ADVICE}"
    )


# Images


def _reencode_image(content: bytes, kind: FileKind) -> CleanFile:
    image = _decode_image(content, kind.pillow_format)
    if kind is PNG:
        return CleanFile(_encode(_png_ready(image), "PNG"), "image/png", "png")
    return CleanFile(_encode(_jpeg_ready(image), "JPEG"), "image/jpeg", "jpg")


def _decode_image(content: bytes, pillow_format: str) -> Image.Image:
    try:
        _check_image_header(content, pillow_format)
        with Image.open(io.BytesIO(content), formats=[pillow_format]) as image:
            image.load()
            return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except UploadRefused:
        raise
    # A decoder of hostile input fails in many ways; any failure means the file is refused.
    except Exception as error:
        raise UploadRefused(
            "Cette image est incomplète ou endommagée et ne peut pas être lue. Déposez à "
            "nouveau le fichier d'origine, ou prenez une nouvelle photo."
        ) from error


def _check_image_header(content: bytes, pillow_format: str) -> None:
    with Image.open(io.BytesIO(content), formats=[pillow_format]) as image:
        width, height = image.size
        if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise _too_many_pixels()
        if width == 0 or height == 0:
            raise ValueError("image without pixels")
        image.verify()


def _too_many_pixels() -> UploadRefused:
    return UploadRefused(
        "Cette image est trop grande : elle peut compter au plus "
        f"{MAX_PIXELS // 1_000_000} millions de pixels, et {_grouped(MAX_SIDE)} pixels sur un "
        "côté. Réduisez sa définition, puis déposez-la à nouveau."
    )


def _grouped(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def _jpeg_ready(image: Image.Image) -> Image.Image:
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, "white")
        flattened.paste(rgba, mask=rgba.getchannel("A"))
        return flattened
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


def _png_ready(image: Image.Image) -> Image.Image:
    # Palettes and colour-key transparency live in the metadata the fresh image drops.
    if _has_alpha(image):
        return image if image.mode in ("LA", "RGBA") else image.convert("RGBA")
    return image if image.mode in ("1", "L", "RGB", "I;16") else image.convert("RGB")


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    # A fresh image carries only pixels: Pillow would otherwise copy some metadata (JPEG
    # comment, ICC profile…) from the decoded image's info into the new file.
    pixels = Image.new(image.mode, image.size)
    pixels.paste(image)
    output = io.BytesIO()
    if pillow_format == "JPEG":
        pixels.save(output, format="JPEG", quality=JPEG_QUALITY)
    else:
        pixels.save(output, format="PNG")
    return output.getvalue()


# Several photos of one document, assembled into one PDF


@dataclass(frozen=True)
class PdfImage:
    width: int
    height: int
    colour_space: str
    filter: str
    data: bytes


def photos_to_pdf(photos: list[CleanFile], *, max_bytes: int) -> CleanFile:
    """One PDF page per photo; refused when the PDF would weigh more than `max_bytes`,
    as photos re-encoded without loss may weigh much more than they did."""
    if not photos:
        raise UploadRefused("Aucune photo à assembler : ajoutez au moins une photo.")
    if any(photo.content_type not in ("image/jpeg", "image/png") for photo in photos):
        raise UploadRefused(
            "Seules des photos (JPEG, PNG, HEIC ou WebP) peuvent être assemblées en un seul "
            "PDF. Déposez les PDF séparément."
        )
    images: list[PdfImage] = []
    weight = 0
    for photo in photos:
        images.append(_pdf_image(photo))
        # Stopped as soon as the pictures alone are too heavy, before the PDF is built.
        weight += len(images[-1].data)
        if weight > max_bytes:
            raise _photos_too_large(max_bytes)
    content = _write_pdf(images)
    if len(content) > max_bytes:
        raise _photos_too_large(max_bytes)
    return CleanFile(content=content, content_type="application/pdf", extension="pdf")


def _pdf_image(photo: CleanFile) -> PdfImage:
    try:
        with Image.open(io.BytesIO(photo.content), formats=["JPEG", "PNG"]) as image:
            image.load()
            if image.format == "JPEG" and image.mode in ("L", "RGB"):
                # Embedded as received: PDF viewers decode JPEG themselves, no quality lost.
                return _image_entry(image, "DCTDecode", photo.content)
            pixels = _jpeg_ready(image)
            return _image_entry(pixels, "FlateDecode", zlib.compress(pixels.tobytes()))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except Exception as error:
        raise UploadRefused(
            "Une des photos est endommagée et ne peut pas être assemblée. Déposez-la à nouveau."
        ) from error


def _image_entry(image: Image.Image, pdf_filter: str, data: bytes) -> PdfImage:
    colour_space = "DeviceGray" if image.mode == "L" else "DeviceRGB"
    return PdfImage(image.width, image.height, colour_space, pdf_filter, data)


def _write_pdf(images: list[PdfImage]) -> bytes:
    page_numbers = [3 + 3 * index for index in range(len(images))]
    kids = " ".join(f"{number} 0 R" for number in page_numbers)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(images)} >>".encode(),
    ]
    for number, image in zip(page_numbers, images, strict=True):
        objects.extend(_page_objects(number, image))
    return _assemble_pdf(objects)


def _page_objects(number: int, image: PdfImage) -> list[bytes]:
    page_width, page_height = _page_size(image)
    scale = min(
        (page_width - 2 * PAGE_MARGIN) / image.width,
        (page_height - 2 * PAGE_MARGIN) / image.height,
    )
    width, height = image.width * scale, image.height * scale
    x, y = (page_width - width) / 2, (page_height - height) / 2
    drawing = f"q {width:.2f} 0 0 {height:.2f} {x:.2f} {y:.2f} cm /Photo Do Q".encode()
    page = (
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_width} {page_height}] "
        f"/Resources << /XObject << /Photo {number + 2} 0 R >> >> /Contents {number + 1} 0 R >>"
    ).encode()
    picture = (
        f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
        f"/ColorSpace /{image.colour_space} /BitsPerComponent 8 /Filter /{image.filter} "
        f"/Length {len(image.data)} >>"
    ).encode()
    drawing_header = f"<< /Length {len(drawing)} >>".encode()
    return [page, _stream(drawing_header, drawing), _stream(picture, image.data)]


def _page_size(image: PdfImage) -> tuple[float, float]:
    if image.width > image.height:
        return A4_LONG_SIDE, A4_SHORT_SIDE
    return A4_SHORT_SIDE, A4_LONG_SIDE


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return dictionary + b"\nstream\n" + data + b"\nendstream"


def _assemble_pdf(objects: list[bytes]) -> bytes:
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_offset = len(output)
    output += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    output += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    output += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n"
    ).encode()
    return bytes(output)
