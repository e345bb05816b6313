"""Builders of hand-made files for the upload checks, written byte by byte."""

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


def raw_pdf(objects: list[bytes]) -> bytes:
    """A one-revision PDF with a classic cross-reference table; object 1 is the catalog."""
    output = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    output += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(output)


ONE_PAGE = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def pdf_opening_with(action: bytes) -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + action + b" >>", *ONE_PAGE])


def pdf_hiding_javascript_in_an_object_stream() -> bytes:
    """The catalog and its JavaScript action sit in a compressed object stream: the raw
    bytes show neither /OpenAction nor /JavaScript, only a parser finds them."""
    hidden = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
    ]
    first = hidden[0] + b"\n"
    index = b"1 0 4 %d " % len(first)
    packed = zlib.compress(index + first + hidden[1])
    output = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    plain = {2: ONE_PAGE[0], 3: ONE_PAGE[1]}
    for number, body in plain.items():
        offsets[number] = len(output)
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets[5] = len(output)
    output += (
        b"5 0 obj\n<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode /Length %d >>\n"
        % (len(index), len(packed))
        + b"stream\n"
        + packed
        + b"\nendstream\nendobj\n"
    )
    offsets[6] = len(output)
    entries = [
        struct.pack("!BIH", 0, 0, 65535),
        struct.pack("!BIH", 2, 5, 0),
        struct.pack("!BIH", 1, offsets[2], 0),
        struct.pack("!BIH", 1, offsets[3], 0),
        struct.pack("!BIH", 2, 5, 1),
        struct.pack("!BIH", 1, offsets[5], 0),
        struct.pack("!BIH", 1, offsets[6], 0),
    ]
    table = b"".join(entries)
    output += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(table)
        + b"stream\n"
        + table
        + b"\nendstream\nendobj\n"
    )
    output += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(output)
