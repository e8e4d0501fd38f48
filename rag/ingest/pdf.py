"""PDF to pages of text: pypdf's text layer, encryption, safety limits, and OCR for scanned pages.

pypdf reads the text layer. Files encrypted with an empty user password (common in filings)
are opened with ``decrypt("")``. When a legitimate file trips one of pypdf's safety limits
(``LimitReachedError``), it is read again with raised limits, then by pdfium. Pages without a
usable text layer that carry an image are rendered by pdfium and OCRed with tesseract.
"""

from __future__ import annotations

import threading

from rag.config import Settings
from rag.errors import IngestError
from rag.ingest.text import clean_text, sensible_title, too_many_pages
from rag.types import LoadedDocument, PageText

# Fewer letters and digits than this and a page counts as textless (a scan with a page number).
_USABLE_CHARS = 20
_OCR_DPI = 300  # tesseract is trained on ~300 dpi text
_OCR_PAGE_TIMEOUT = 120  # seconds; a stuck page must not hang an upload forever
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


def load_pdf(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    """Read a PDF's pages, OCRing the scanned ones; raise ``IngestError`` when it cannot."""
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
            texts, metadata = _read_pdfium(name, data, settings), {}
    pages = [PageText(i + 1, clean_text(text)) for i, text in enumerate(texts)]
    pages = _ocr_textless_pages(data, pages, warnings)
    return LoadedDocument(name, "pdf", pages, metadata, warnings)


def _read_pypdf(
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
        try:
            if len(pdf) > settings.max_pages:
                raise IngestError(name, too_many_pages(len(pdf), settings.max_pages))
            texts = []
            for index in range(len(pdf)):
                page = pdf[index]
                textpage = page.get_textpage()
                texts.append(textpage.get_text_bounded())
                textpage.close()
                page.close()
            return texts
        finally:
            pdf.close()


def _usable(text: str) -> bool:
    return sum(c.isalnum() for c in text) >= _USABLE_CHARS


def _ocr_textless_pages(data: bytes, pages: list[PageText], warnings: list[str]) -> list[PageText]:
    """Replace pages that have an image but no usable text layer with their OCR text."""
    todo = [i for i, page in enumerate(pages) if not _usable(page.text)]
    if not todo:
        return pages
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        warnings.append(
            f"{len(todo)} page(s) have no text layer and were not OCRed because tesseract is "
            "not installed (apt-get install tesseract-ocr); their text is missing."
        )
        return pages
    pages = list(pages)
    failed = []
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)  # pypdf already opened it; an empty password is implied
        try:
            for i in todo:
                page = pdf[i]
                try:
                    if not any(True for _ in page.get_objects((pdfium_c.FPDF_PAGEOBJ_IMAGE,))):
                        continue  # a blank or vector-only page: nothing to read
                    image = page.render(scale=_OCR_DPI / 72).to_pil()
                finally:
                    page.close()
                try:
                    text = clean_text(pytesseract.image_to_string(image, timeout=_OCR_PAGE_TIMEOUT))
                except (RuntimeError, pytesseract.TesseractError):  # timeout, bad image
                    failed.append(i + 1)
                    continue
                if sum(c.isalnum() for c in text) > sum(c.isalnum() for c in pages[i].text):
                    pages[i] = PageText(pages[i].number, text, ocr=True)
        finally:
            pdf.close()
    if failed:
        warnings.append(f"OCR failed on page(s) {', '.join(map(str, failed))}; text is missing.")
    return pages
