"""Caps on the work one upload may cause, and the checks that enforce them before parsing.

A file of a few megabytes can claim gigabytes once unpacked: a DOCX is a zip, and a PDF's
streams are deflated. Parsers inflate what they are given, so the claims are checked first,
cheaply: a zip's directory lists each member's size, and PDF streams are inflated here in small
slices that are counted and thrown away. The caps sit far above what real documents need.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from rag.errors import IngestError

# A long report's document.xml is 5-30 MB; lxml's tree of an XML part takes several times its
# size in memory, so this keeps one part's tree well under a gigabyte.
MAX_ZIP_XML_BYTES = 64 * 1024 * 1024
# Everything in the zip, pictures included (python-docx reads every part into memory).
MAX_ZIP_BYTES = 256 * 1024 * 1024
# Deflated XML shrinks 5-30x and pictures barely; a member over 1 MB shrunk past this is a bomb
# (deflate tops out near 1000x on runs of one byte).
MAX_ZIP_RATIO = 100
ZIP_RATIO_FLOOR = 1024 * 1024  # smaller members may compress as well as they like
MAX_ZIP_ENTRIES = 10_000  # a DOCX holds tens of parts, a few thousand with many pictures

_WHAT_TO_DO = (
    "If it is a genuine document, save it again from Word (File > Save As) or export it as PDF "
    "and upload that."
)


def check_zip(name: str, data: bytes, kind: str = "Word document") -> None:
    """Refuse a zip whose members would unpack past the caps (a zip bomb), before opening it.

    The directory's sizes and ratios are checked first; then every member is inflated in
    slices, counted and dropped, so sizes that lie cannot get past: a parser reading a member
    whole would inflate all of it before noticing.
    """
    entries = _zip_entry_count(data)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise IngestError(
            name,
            f"this {kind} holds {entries:,} files (a document holds at most a few thousand), "
            f"so it was not opened. {_WHAT_TO_DO}",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return  # not a zip: the loader reports that in its own words
    total = 0
    for member in members:
        _check_member(name, kind, member.filename, member.file_size, member.compress_size)
        total += member.file_size
    if total > MAX_ZIP_BYTES:
        raise IngestError(name, _too_big(kind, "its contents", total, MAX_ZIP_BYTES))
    for member in members:
        try:
            with archive.open(member) as stream:
                size = 0
                while piece := stream.read(_SLICE):  # stops at the declared size, checks the CRC
                    size += len(piece)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
            raise IngestError(
                name,
                f"this {kind} is damaged: its part {member.filename!r} does not match what the "
                f"file says about it ({exc}). {_WHAT_TO_DO}",
            ) from exc
        except NotImplementedError as exc:  # an unusual compression method
            raise IngestError(
                name, f"this {kind} uses an unsupported compression ({exc}). {_WHAT_TO_DO}"
            ) from exc


def _check_member(name: str, kind: str, part: str, size: int, stored: int) -> None:
    ratio = size / max(stored, 1)
    if size > ZIP_RATIO_FLOOR and ratio > MAX_ZIP_RATIO:
        raise IngestError(
            name,
            f"this {kind} looks like a zip bomb: its part {part!r} would unpack {ratio:,.0f} "
            f"times larger than it is stored (real documents: under {MAX_ZIP_RATIO}x), so it "
            f"was not opened. {_WHAT_TO_DO}",
        )
    if part.lower().endswith((".xml", ".rels")) and size > MAX_ZIP_XML_BYTES:
        raise IngestError(name, _too_big(kind, f"its part {part!r}", size, MAX_ZIP_XML_BYTES))


def _too_big(kind: str, what: str, size: int, cap: int) -> str:
    return (
        f"this {kind} is too large to read safely: {what} would unpack to {size / 2**20:,.0f} "
        f"MB, over the {cap / 2**20:,.0f} MB limit, so it was not opened. Split it into smaller "
        f"documents or remove large pictures. {_WHAT_TO_DO}"
    )


def _zip_entry_count(data: bytes) -> int | None:
    """Read the entry count from the zip's end record without parsing its directory."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))  # the record + a 64 KB comment
    if at < 0 or at + 22 > len(data):
        return None
    return struct.unpack_from("<H", data, at + 10)[0]  # 0xFFFF (zip64): more than a DOCX holds


# pdfium inflates a content stream whole and holds about twice its size while parsing it: a
# page's drawing instructions in a real file are kilobytes to a few megabytes.
MAX_PDF_STREAM_BYTES = 128 * 1024 * 1024
# All deflated streams but pictures (fonts, pages, forms); inflating them here costs ~1 s per GB.
MAX_PDF_INFLATED_BYTES = 512 * 1024 * 1024
_SLICE = 1024 * 1024  # inflate this much at a time: memory stays flat whatever a stream claims
_FEED = 64 * 1024


def check_pdf_streams(name: str, reader) -> None:
    """Refuse a PDF whose deflated streams would inflate past the caps (a PDF bomb).

    ``reader`` is an open (decrypted) pypdf reader. Every stream but pictures is inflated in
    slices that are counted and dropped, before pdfium, which has no such cap, sees the file.
    Pictures are decoded only when a scanned page is rendered, within the OCR pixel caps.
    """
    from pypdf.errors import PyPdfError
    from pypdf.generic import IndirectObject, StreamObject

    total = 0
    for generation, numbers in list(reader.xref.items()):
        for number in list(numbers):
            try:
                obj = reader.get_object(IndirectObject(number, generation, reader))
                if not isinstance(obj, StreamObject) or obj.get("/Subtype") == "/Image":
                    continue
                filters = obj.get("/Filter")
                first = filters[0] if isinstance(filters, list) and filters else filters
            except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue  # an unreadable object: the parsers skip or refuse it themselves
            if first not in ("/FlateDecode", "/Fl"):
                continue
            # the stored bytes (EncodedStreamObject.get_data would inflate them, uncapped)
            size = inflated_size(StreamObject.get_data(obj), MAX_PDF_STREAM_BYTES)
            total += size
            _check_pdf_sizes(name, size, total)


def check_pdf_bytes(name: str, data: bytes) -> None:
    """Like :func:`check_pdf_streams` for a file pypdf cannot parse: inflate whatever follows
    each ``stream`` keyword (zlib stops at the end of its own data; other bytes fail at once)."""
    total, at = 0, data.find(b"stream")
    while at >= 0:
        start = at + len(b"stream")
        start += 2 if data[start : start + 2] == b"\r\n" else 1
        if data[at - 3 : at] != b"end":
            size = inflated_size(memoryview(data)[start:], MAX_PDF_STREAM_BYTES)
            total += size
            _check_pdf_sizes(name, size, total)
        at = data.find(b"stream", start)


def _check_pdf_sizes(name: str, size: int, total: int) -> None:
    if size <= MAX_PDF_STREAM_BYTES and total <= MAX_PDF_INFLATED_BYTES:
        return
    what, cap = (
        ("one of its streams", MAX_PDF_STREAM_BYTES)
        if size > MAX_PDF_STREAM_BYTES
        else ("its streams", MAX_PDF_INFLATED_BYTES)
    )
    raise IngestError(
        name,
        f"this PDF is too large to read safely: {what} would unpack past {cap / 2**20:,.0f} MB "
        "(a compressed bomb, or an extreme drawing), so it was not opened. If it is genuine, "
        "print it to a new PDF or split it, and upload that.",
    )


def inflated_size(raw: bytes | memoryview, cap: int) -> int:
    """Count the bytes a zlib stream inflates to, stopping once past ``cap``; keep none.

    Input goes in small pieces too: zlib copies what it has not used, which for a stream read
    up to the end of a file would be the rest of the file, once per stream.
    """
    view = memoryview(raw)
    inflater = zlib.decompressobj()
    total, fed, pending = 0, 0, b""
    try:
        while not inflater.eof and total <= cap:
            if not pending:
                if fed >= len(view):
                    break  # truncated: all input read
                pending, fed = view[fed : fed + _FEED], fed + _FEED
            total += len(inflater.decompress(pending, _SLICE))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # damaged data: readers stop where it breaks too
    return total
