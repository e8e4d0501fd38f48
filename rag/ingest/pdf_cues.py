"""A PDF's cues to what it is, beyond its text layer: /Subject, /Author, /Title and the line
set in the largest font on its first page (a cover's title), for :mod:`rag.ingest.context`."""

from __future__ import annotations

import re

from rag.ingest.pdf import _PDFIUM_LOCK as PDFIUM_LOCK  # one lock for all pdfium use
from rag.ingest.pdf_notices import pypdf_notices

_SCAN_CHARS = 6000  # characters of page 1 measured: bounds the work on a hostile first page


def pdf_cues(data: bytes) -> dict[str, str]:
    """PDF cues the text layer lacks: /Subject, /Author and the first page's largest-font line."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    cues: dict[str, str] = {}
    # The file was read once already (rag.ingest.pdf), which reported what pypdf repaired.
    with pypdf_notices():
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                reader.decrypt("")
            info = reader.metadata or {}
            for key, field in (("/Subject", "subject"), ("/Author", "author"), ("/Title", "title")):
                value = " ".join(str(info.get(key) or "").split())
                if 2 <= len(value) <= 300:
                    cues[field] = value
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            pass  # a broken Info dictionary costs these cues, nothing else
    if line := _largest_font_line(data):
        cues["prominent"] = line
    return cues


def _largest_font_line(data: bytes) -> str:
    """The line set in the largest font on page 1 (pdfium), or ''."""
    chars = _first_page_chars(data)
    lines: dict[int, list[tuple[str, float]]] = {}
    line = 0
    for char, size in chars:
        if char in "\r\n":
            line += char == "\n"
            continue
        lines.setdefault(line, []).append((char, size))
    best, best_size = "", 0.0
    for chars_of_line in lines.values():
        words = "".join(c for c, _ in chars_of_line).strip()
        if len(re.findall(r"[A-Za-z]{2,}", words)) < 1 or not 4 <= len(words) <= 100:
            continue
        size = max(s for c, s in chars_of_line if not c.isspace()) if words else 0.0
        if size > best_size + 0.5:
            best, best_size = words, size
    return " ".join(best.split())


def _first_page_chars(data: bytes) -> list[tuple[str, float]]:
    """Return page 1's first characters with their font sizes (none when pdfium fails)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return []
        try:
            if len(pdf) == 0:
                return []
            textpage = pdf[0].get_textpage()
            count = min(textpage.count_chars(), _SCAN_CHARS)
            text = textpage.get_text_range(0, count)
            sizes = [raw.FPDFText_GetFontSize(textpage, i) for i in range(count)]
        except pdfium.PdfiumError:
            return []
        finally:
            pdf.close()
    return list(zip(text, sizes, strict=False))
