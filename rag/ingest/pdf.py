"""PDF to pages of text: pypdf's text layer, encryption, safety limits, tables and scans.

pypdf reads the text layer. Files encrypted with an empty user password (common in filings)
are opened with ``decrypt("")``. When a legitimate file trips one of pypdf's safety limits
(``LimitReachedError``), it is read again with raised limits, then by pdfium. Then one pdfium
pass over the pages rewrites table rows as labelled lines (:mod:`rag.ingest.layout` reads a page,
:mod:`rag.ingest.tables` finds its tables, :mod:`rag.ingest.table_rows` writes their rows into
the text; only pages whose text has lines of numbers are searched) and finds scanned pages,
which are OCRed with tesseract (:mod:`rag.ingest.ocr`). Anything that goes wrong in that pass
costs a warning and leaves the page's text as pypdf extracted it, never the upload. What pypdf
repairs in a damaged file is summed up in the warnings too (:mod:`rag.ingest.pdf_notices`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rag.config import Settings
from rag.errors import IngestError
from rag.ingest.layout import TooComplex, read_lines
from rag.ingest.limits import check_pdf_bytes, check_pdf_streams
from rag.ingest.ocr import is_scan, read_scans
from rag.ingest.pdf_notices import describe, pypdf_notices
from rag.ingest.table_rows import merge_rows, numeric_lines
from rag.ingest.tables import find_tables
from rag.ingest.text import clean_text, sensible_title, too_many_pages
from rag.types import LoadedDocument, PageText

# Real filings exceed pypdf's defaults (100k array elements); these still bound a hostile file.
_RAISED_LIMITS = {
    "array_maximum_element_count": 5_000_000,
    "dictionary_maximum_element_count": 5_000_000,
    "stream_parsing_work_maximum_count": 100_000_000,
    "xform_maximum_invocations_per_extraction": 100_000,
    "page_tree_maximum_entries": 1_000_000,
    "outline_maximum_entries": 1_000_000,
    "form_fields_maximum_entries": 1_000_000,
}
_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe and Streamlit sessions are threads
_DAMAGED = (
    "the PDF is damaged or truncated, or is not a PDF at all, so it cannot be read. Download or "
    "export it again and upload the new copy."
)


@dataclass
class LayoutReport:
    """What the pdfium pass over a PDF found (for benchmarks and diagnostics)."""

    table_pages: int = 0  # pages searched for tables (their text has lines of numbers)
    tables: int = 0
    rows_placed: int = 0  # labelled rows written in place of the lines they came from
    rows_appended: int = 0  # rows whose lines were not found, added after the page text
    scans: list[int] = field(default_factory=list)  # page numbers judged scanned
    ocred: list[int] = field(default_factory=list)  # page numbers whose OCR text was added


def load_pdf(
    name: str,
    data: bytes,
    settings: Settings,
    *,
    tables: bool = True,
    ocr: bool = True,
    report: LayoutReport | None = None,
) -> LoadedDocument:
    """Read a PDF's pages, labelling table rows and OCRing scanned pages.

    Raises ``IngestError`` when the file cannot be read. ``tables=False`` skips the table search
    and ``ocr=False`` leaves scanned pages unread (both for benchmarks); ``report`` collects what
    the layout pass found.
    """
    texts, metadata, warnings = _read_text(name, data, settings)
    pages = [PageText(i + 1, clean_text(text)) for i, text in enumerate(texts)]
    report = report if report is not None else LayoutReport()
    pages = _read_layout(data, pages, warnings, tables, report)
    if ocr and report.scans:
        pages, report.ocred = read_scans(data, pages, report.scans, _PDFIUM_LOCK, warnings)
    return LoadedDocument(name, "pdf", pages, metadata, warnings)


def _read_text(name: str, data: bytes, settings: Settings) -> tuple[list[str], dict, list[str]]:
    """Read each page's text layer and the metadata with pypdf, past its limits if need be.

    Past even the raised limits, pdfium reads the text instead.
    """
    from pypdf import apply_configuration
    from pypdf.errors import LimitReachedError

    warnings: list[str] = []
    try:
        texts, metadata = _read_pypdf(name, data, settings, warnings)
    except LimitReachedError as first:
        warnings = [f"pypdf hit a safety limit ({first}); the file was read with raised limits."]
        try:
            with apply_configuration(**_RAISED_LIMITS):
                texts, metadata = _read_pypdf(name, data, settings, warnings)
        except LimitReachedError as second:
            warnings = [f"pypdf could not read the file ({second}); pdfium read its text instead."]
            check_pdf_bytes(name, data)
            texts, metadata = _read_pdfium(name, data, settings), {}
    return texts, metadata, warnings


def _read_pypdf(
    name: str, data: bytes, settings: Settings, warnings: list[str]
) -> tuple[list[str], dict]:
    """Read with pypdf; what it repaired in a damaged file becomes warnings, not stderr."""
    with pypdf_notices() as notices:
        result = _parse_pypdf(name, data, settings, warnings)
    warnings.extend(describe(notices))
    return result


def _parse_pypdf(
    name: str, data: bytes, settings: Settings, warnings: list[str]
) -> tuple[list[str], dict]:
    """Extract each page's text layer and the document title with pypdf."""
    import io

    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise IngestError(
                    name,
                    "the PDF is AES-encrypted and the 'cryptography' package needed to open it is "
                    "missing. Ask an administrator to run: pip install cryptography",
                ) from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise IngestError(
                    name,
                    "the PDF is protected by a password. Save a copy without the password (open "
                    "it and print or export to PDF) and upload that.",
                )
        count = len(reader.pages)
    except LimitReachedError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        # pypdf raises a spread of types on garbage input; all of them mean "cannot parse"
        raise IngestError(name, _DAMAGED) from exc
    if count > settings.max_pages:
        raise IngestError(name, too_many_pages(count, settings.max_pages))
    check_pdf_streams(name, reader)  # before pdfium, which inflates streams uncapped, sees it
    texts = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except LimitReachedError:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            warnings.append(f"page {number}: its text could not be extracted ({exc}).")
            texts.append("")
    return texts, _metadata(reader)


def _metadata(reader) -> dict:
    """Return the PDF's title and author when they look like real ones."""
    from pypdf.errors import PyPdfError

    try:
        info = reader.metadata
        raw_title, raw_author = (info.title, info.author) if info else (None, None)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # a broken Info dictionary costs the title, not the document
    metadata = {}
    if title := sensible_title(raw_title):
        metadata["title"] = title
    author = " ".join(str(raw_author or "").split())
    if 2 <= len(author) <= 200:
        metadata["author"] = author
    return metadata


def _read_pdfium(name: str, data: bytes, settings: Settings) -> list[str]:
    """Extract each page's text layer with pdfium (the fallback past pypdf's limits)."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise IngestError(name, _DAMAGED) from exc
        count = len(pdf)
    try:
        if count > settings.max_pages:
            raise IngestError(name, too_many_pages(count, settings.max_pages))
        texts = []
        for index in range(count):
            with _PDFIUM_LOCK:  # per page: another upload's pages go between ours
                page = pdf[index]
                textpage = page.get_textpage()
                texts.append(textpage.get_text_bounded())
                textpage.close()
                page.close()
        return texts
    finally:
        with _PDFIUM_LOCK:
            pdf.close()


def _read_layout(
    data: bytes, pages: list[PageText], warnings: list[str], tables: bool, report: LayoutReport
) -> list[PageText]:
    """One pdfium pass: table rows become labelled lines; scanned pages are OCRed."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)  # pypdf opened it; an empty password is implied
        except pdfium.PdfiumError as exc:
            warnings.append(
                f"pdfium could not open the file ({exc}): tables are kept as plain text and "
                "scanned pages were not looked for."
            )
            return pages
    pages = list(pages)
    problems: list[tuple[int, str]] = []
    try:
        for i, page in enumerate(pages):
            with _PDFIUM_LOCK:
                scan, text = _examine(pdf, page, tables, report, problems)
            if scan:
                report.scans.append(page.number)
            elif text != page.text:
                pages[i] = PageText(page.number, clean_text(text), page.ocr)
        if problems:
            numbers = ", ".join(str(n) for n, _ in problems)
            warnings.append(
                f"page(s) {numbers}: the layout could not be read ({problems[0][1]}); tables "
                "there are kept as plain text."
            )
    finally:
        with _PDFIUM_LOCK:
            pdf.close()
    return pages


def _examine(
    pdf, page: PageText, tables: bool, report: LayoutReport, problems: list[tuple[int, str]]
) -> tuple[bool, str]:
    """Return whether the page is a scan, and its text with table rows labelled."""
    import pypdfium2 as pdfium

    text = page.text
    try:
        handle = pdf[page.number - 1]
    except pdfium.PdfiumError as exc:
        problems.append((page.number, str(exc)))
        return False, text
    try:
        scan = is_scan(handle, text)
        if scan or not tables or numeric_lines(text) < 2:
            return scan, text
        report.table_pages += 1
        textpage = handle.get_textpage()
        try:
            found = find_tables(read_lines(textpage))
        finally:
            textpage.close()
        text, placed, appended = merge_rows(text, found)
        report.tables += len(found)
        report.rows_placed += placed
        report.rows_appended += appended
        return False, text
    except TooComplex as exc:
        problems.append((page.number, f"too much text to search for tables: {exc}"))
    except pdfium.PdfiumError as exc:
        problems.append((page.number, f"pdfium: {exc}"))
    except Exception as exc:  # a layout heuristic on an untrusted file must never fail the upload
        problems.append((page.number, f"{type(exc).__name__}: {exc}"))
    finally:
        handle.close()
    return False, page.text
