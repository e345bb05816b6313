"""Builders of hand-made files for the upload checks, written byte by byte."""

import re
import struct
import zlib


def png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data)
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", checksum)


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes that announce a huge greyscale image (a decompression bomb)."""
    header = struct.pack("!IIBBBBB", width, height, 1, 0, 0, 0, 0)
    first_rows = zlib.compress(b"\0" * (1 + width // 8) * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", first_rows)
        + png_chunk(b"IEND", b"")
    )


def raw_pdf(objects: list[bytes], *, listed_at: dict[int, int] | None = None) -> bytes:
    """A one-revision PDF with a classic cross-reference table; object 1 is the catalog.
    `listed_at` (number: number of another object) lists objects at another's offset."""
    output = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in enumerate(objects, start=1):
        offsets[number] = len(output)
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    for number, other in (listed_at or {}).items():
        offsets[number] = offsets[other]
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets.values())
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    output += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(output)


ONE_PAGE = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def filler(size: int) -> bytes:
    """A stream of `size` zero bytes, as heavy as a scanned page's picture."""
    return b"<< /Length %d >>\nstream\n" % size + bytes(size) + b"\nendstream"


def _missing_references(count: int) -> bytes:
    # Numbered from a million: no file built here holds as many objects.
    return b" ".join(b"%d 0 R" % number for number in range(1_000_000, 1_000_000 + count))


def pdf_referring_to_missing_objects(count: int, *, size: int) -> bytes:
    """A one-page PDF with a `size`-byte filler, whose catalog refers to `count` objects
    that do not exist."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Extra [%s] >>" % _missing_references(count)
    return raw_pdf([catalog, *ONE_PAGE, filler(size)])


def pdf_listing_missing_pages(count: int, *, size: int) -> bytes:
    """A one-page PDF with a `size`-byte filler, whose page tree lists `count` more pages
    that do not exist."""
    pages = b"<< /Type /Pages /Kids [3 0 R %s] /Count 1 >>" % _missing_references(count)
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", pages, ONE_PAGE[1], filler(size)])


def pdf_with_misplaced_objects(count: int, *, size: int) -> bytes:
    """A one-page PDF with a `size`-byte filler, then `count` small objects that the
    cross-reference lists at the page's offset: a reader finds each by searching the file."""
    return raw_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE, filler(size), *[b"(x)"] * count],
        listed_at=dict.fromkeys(range(5, 5 + count), 3),
    )


def pdf_with_streams(count: int, stream: bytes) -> bytes:
    """A one-page PDF then `count` copies of `stream`."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE, *[stream] * count])


def pdf_with_overlapping_streams(count: int, *, gap: int, lengths: bool) -> bytes:
    """A one-page PDF then `count` streams, each starting `gap` bytes after the one before and
    all ending where the last one does: read up to their declared `lengths`, or without, up to
    their one "endstream", they hold about count × count × gap / 2 bytes."""
    header = b"<< /Length 0000000000 >>\nstream\n" if lengths else b"<< >>\nstream\n"
    streams = [header + bytes(gap)] * count
    streams[-1] += b"\nendstream"
    content = bytearray(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE, *streams]))
    end = content.rindex(b"\nendstream")
    for length in list(re.finditer(rb"0{10}(?= >>\nstream\n)", content)):
        data = length.end() + len(b" >>\nstream\n")
        content[length.start() : length.end()] = b"%010d" % (end - data)
    return bytes(content)


def pdf_with_an_object_stream_holding(objects: dict[int, bytes]) -> bytes:
    """A one-page PDF with `objects` (number: body, numbered from 4) in one object stream."""
    number = 4 + len(objects)
    plain = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: ONE_PAGE[0], 3: ONE_PAGE[1]}
    plain[number] = object_stream(objects)
    return pdf_with_object_streams(plain, dict.fromkeys(objects, number))


def pdf_opening_with(action: bytes) -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + action + b" >>", *ONE_PAGE])


def object_stream(objects: dict[int, bytes], *, padding: int = 0) -> bytes:
    """An object stream compressed with FlateDecode, holding `objects` (number: body) in
    increasing numbers, then `padding` spaces, which compress a thousandfold."""
    index = bytearray()
    bodies = bytearray()
    for number, body in objects.items():
        index += b"%d %d " % (number, len(bodies))
        bodies += body + b"\n"
    # Run-length matching only: as small for spaces, and twice as fast.
    compressor = zlib.compressobj(9, strategy=zlib.Z_RLE)
    packed = compressor.compress(bytes(index) + bodies)
    spaces = b" " * 1024 * 1024
    for start in range(0, padding, len(spaces)):
        packed += compressor.compress(spaces[: padding - start])
    packed += compressor.flush()
    return (
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
        % (len(objects), len(index), len(packed))
        + b"stream\n"
        + packed
        + b"\nendstream"
    )


def pdf_with_object_streams(plain: dict[int, bytes], packed: dict[int, int]) -> bytes:
    """A PDF with a cross-reference stream, whose objects, numbered from 1 without a gap,
    are either `plain` (number: body) or `packed` (number: number of the object stream it
    sits in, itself plain); object 1 is the catalog."""
    output = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in plain.items():
        offsets[number] = len(output)
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    cross_reference = len(plain) + len(packed) + 1
    offsets[cross_reference] = len(output)
    entries = [struct.pack("!BIH", 0, 0, 65535)]
    places: dict[int, int] = {}
    for number in range(1, cross_reference + 1):
        if number in packed:
            stream = packed[number]
            places[stream] = places.get(stream, -1) + 1
            entries.append(struct.pack("!BIH", 2, stream, places[stream]))
        else:
            entries.append(struct.pack("!BIH", 1, offsets[number], 0))
    table = b"".join(entries)
    output += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\n"
        % (cross_reference, cross_reference + 1, len(table))
        + b"stream\n"
        + table
        + b"\nendstream\nendobj\n"
    )
    output += b"startxref\n%d\n%%%%EOF\n" % offsets[cross_reference]
    return bytes(output)


def pdf_with_revisions(count: int, *, ended: bool) -> bytes:
    """A one-page PDF saved `count` more times, each revision an empty cross-reference
    stream pointing to the one before. Unless `ended`, each declares a wrong length and only
    the last one ends with "endstream": a reader looks for each one's end up to the file's."""
    output = bytearray(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *ONE_PAGE]))
    del output[output.rindex(b"startxref") :]
    previous = output.rindex(b"xref\n")
    data = bytes(100)
    for number in range(4, 4 + count):
        offset = len(output)
        output += (
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 1 1] /Index [0 0] /Root 1 0 R /Prev %d "
            b"/Length %d >>\nstream\n" % (number, number + 1, previous, len(data) if ended else 1)
        )
        output += data + (b"\nendstream" if ended or number == 3 + count else b"") + b"\nendobj\n"
        previous = offset
    output += b"startxref\n%d\n%%%%EOF\n" % previous
    return bytes(output)


def pdf_hiding_javascript_in_an_object_stream() -> bytes:
    """The catalog and its JavaScript action sit in a compressed object stream: the raw
    bytes show neither /OpenAction nor /JavaScript, only a parser finds them."""
    hidden = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        4: b"<< /S /JavaScript /JS (app.alert(1)) >>",
    }
    plain = {2: ONE_PAGE[0], 3: ONE_PAGE[1], 5: object_stream(hidden)}
    return pdf_with_object_streams(plain, {1: 5, 4: 5})


def pdf_with_object_stream_bombs(count: int, padding: int) -> bytes:
    """A one-page PDF whose catalog refers to `count` objects, each alone in its own object
    stream with `padding` spaces: a few hundred kilobytes that decompress to `count` times
    `padding` bytes."""
    references = b" ".join(b"%d 0 R" % (4 + index) for index in range(count))
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Extra [" + references + b"] >>",
        2: ONE_PAGE[0],
        3: ONE_PAGE[1],
    }
    packed = {}
    for index in range(count):
        number, stream = 4 + index, 4 + count + index
        plain[stream] = object_stream({number: b"(x)"}, padding=padding)
        packed[number] = stream
    return pdf_with_object_streams(plain, packed)


def pdf_with_a_length_in_an_object_stream_bomb(padding: int) -> bytes:
    """Object 4 sits in object stream 6, whose length is object 5, which sits in object
    stream 7 with `padding` spaces: to find where stream 6 ends, a reader decodes stream 7."""
    hidden = zlib.compress(b"4 0 (x)")
    stream_6 = (
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 5 0 R >>\nstream\n"
        + hidden
        + b"\nendstream"
    )
    stream_7 = object_stream({5: b"%d" % len(hidden)}, padding=padding)
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Extra 4 0 R >>",
        2: ONE_PAGE[0],
        3: ONE_PAGE[1],
        6: stream_6,
        7: stream_7,
    }
    return pdf_with_object_streams(plain, {4: 6, 5: 7})


def pdf_with_xfa_form() -> bytes:
    """A form in XFA, Adobe's XML forms, with a script run when the form opens."""
    xfa = (
        b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform>'
        b'<event activity="initialize"><script contentType="application/x-javascript">'
        b"app.alert(1)</script></event></subform></template></xdp:xdp>"
    )
    packed = zlib.compress(xfa)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
            *ONE_PAGE,
            b"<< /Fields [] /XFA 5 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed)
            + packed
            + b"\nendstream",
        ]
    )
