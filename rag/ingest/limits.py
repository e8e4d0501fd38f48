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

    zipfile never returns more than a member's declared size, so the declared sizes checked
    here bound what the parser can inflate even when they lie.
    """
    entries = _zip_entry_count(data)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise IngestError(
            name,
            f"this {kind} holds {entries:,} files (a document holds at most a few thousand), "
            f"so it was not opened. {_WHAT_TO_DO}",
        )
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return  # not a zip: the loader reports that in its own words
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if member.filename.lower().endswith((".xml", ".rels")) and size > MAX_ZIP_XML_BYTES:
            raise IngestError(
                name, _too_big(kind, f"its part {member.filename!r}", size, MAX_ZIP_XML_BYTES)
            )
        ratio = size / max(member.compress_size, 1)
        if size > ZIP_RATIO_FLOOR and ratio > MAX_ZIP_RATIO:
            raise IngestError(
                name,
                f"this {kind} looks like a zip bomb: its part {member.filename!r} would unpack "
                f"{ratio:,.0f} times larger than it is stored (real documents: under "
                f"{MAX_ZIP_RATIO}x), so it was not opened. {_WHAT_TO_DO}",
            )
    if total > MAX_ZIP_BYTES:
        raise IngestError(name, _too_big(kind, "its contents", total, MAX_ZIP_BYTES))


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
