"""Scanned PDF pages: tell them apart by what covers the page, and read them with tesseract.

A page is a scan when pictures cover most of it and its text layer covers little of it. Counting
characters is not enough: court e-filing systems stamp a line of real text ("Case 1:21-cv-01009
Document 7 Filed 09/14/21 Page 1 of 5") over each scanned page, while a text page with a logo or
a chart has far more text area and far less picture area. A page with no text layer at all is
read when pictures cover more than a logo would. Scans are rendered in grey at 300 dpi, capped at
``MAX_PIXELS`` so a huge page cannot exhaust memory, and read by tesseract with a per-page
timeout; the OCR text goes after the page's own text (the stamp is kept). A page so large that
the cap leaves it under ``MIN_DPI`` is skipped, and a document's OCR stops after
``DOCUMENT_BUDGET`` seconds; both are reported in the document's warnings.

Callers hold the pdfium lock around :func:`is_scan`; :func:`read_scans` takes the lock for
rendering only (tesseract runs in a separate process).
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass

from rag.ingest.text import clean_text
from rag.types import PageText

IMAGE_COVER = 0.5  # pictures cover at least half the page...
TEXT_COVER = 0.04  # ...and text at most 4% of it (a full text page: 10-40%, a stamp: ~1%)
TEXTLESS_COVER = 0.05  # a page without text is read if pictures cover this much (not a logo)
OCR_DPI = 300  # tesseract is trained on ~300 dpi text
MAX_PIXELS = 25_000_000  # ~25 MB in grey: an A0 poster is read at ~150 dpi instead
MAX_SIDE = 20_000  # pixels; a long thin strip must not exceed tesseract's limits either
PAGE_TIMEOUT = 120  # seconds; a stuck page must not hang an upload forever
# Seconds of OCR per document: tesseract reads a page in 2-10 s, so ~30-150 pages fit; pages
# past it are reported as not read rather than holding an upload (and a core) for an hour.
DOCUMENT_BUDGET = 300
MIN_DPI = 20  # below this (a page over ~20 m^2 under the pixel cap) letters are a few pixels
MIN_CHARS = 8  # letters and digits OCR must read (beyond the stamp) for its text to count
_MAX_OBJECTS = 10_000  # page objects examined per page (a hostile page may hold millions)
_MAX_FORM_DEPTH = 4


@dataclass(frozen=True)
class Coverage:
    """Shares of the page area covered by pictures and by text (0..1; overlaps counted once per
    object, so ``images`` can exceed 1 when pictures are stacked)."""

    images: float
    text: float


def coverage(page, with_text: bool = True) -> Coverage:
    """Measure a pdfium page: picture area (image objects' boxes) and text area (text rects)."""
    width, height = page.get_size()
    area = max(width * height, 1.0)
    budget = [_MAX_OBJECTS]
    images = _image_area(page.raw, width, height, form=None, depth=0, budget=budget)
    text = 0.0
    if with_text:
        textpage = page.get_textpage()
        try:
            for i in range(textpage.count_rects()):
                left, bottom, right, top = textpage.get_rect(i)
                text += _clipped(left, bottom, right, top, width, height)
        finally:
            textpage.close()
    return Coverage(images / area, text / area)


def _clipped(left, bottom, right, top, width, height) -> float:
    w = min(max(left, right), width) - max(min(left, right), 0.0)
    h = min(max(bottom, top), height) - max(min(bottom, top), 0.0)
    return max(w, 0.0) * max(h, 0.0)


def _image_area(raw_page, width, height, form, depth: int, budget: list[int]) -> float:
    """Sum the clipped boxes of image objects, looking inside forms (bounded)."""
    import pypdfium2.raw as pdfium_c

    if form is None:
        count, get = pdfium_c.FPDFPage_CountObjects(raw_page), pdfium_c.FPDFPage_GetObject
        parent = raw_page
    else:
        count, get = pdfium_c.FPDFFormObj_CountObjects(form), pdfium_c.FPDFFormObj_GetObject
        parent = form
    total = 0.0
    box = [ctypes.c_float() for _ in range(4)]
    for i in range(max(count, 0)):
        budget[0] -= 1
        if budget[0] < 0:
            break
        obj = get(parent, i)
        if not obj:
            continue
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM):
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, *(ctypes.byref(b) for b in box)):
            continue
        left, bottom, right, top = (b.value for b in box)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            total += _clipped(left, bottom, right, top, width, height)
        elif depth < _MAX_FORM_DEPTH:
            # Objects inside a form report boxes in the form's own space: count at most the
            # form's footprint on the page.
            inner = _image_area(raw_page, width, height, obj, depth + 1, budget)
            total += min(inner, _clipped(left, bottom, right, top, width, height))
    return total


def is_scan(page, text: str) -> bool:
    """Whether a pdfium page is a scanned picture that OCR should read.

    ``text`` is the page's extracted text layer. True when the page has no text and pictures
    cover at least ``TEXTLESS_COVER`` of it, or when pictures cover at least ``IMAGE_COVER`` of
    it and text at most ``TEXT_COVER``.
    """
    images = coverage(page, with_text=False).images
    if images < TEXTLESS_COVER:
        return False  # no picture, or one too small to hold a page's words (a logo)
    if not text.strip():
        return True
    if images < IMAGE_COVER:
        return False
    return coverage(page).text <= TEXT_COVER


def scale_for(width: float, height: float) -> float:
    """Render scale: ``OCR_DPI``, lowered so the bitmap stays within the pixel caps."""
    width, height = max(width, 1.0), max(height, 1.0)
    scale = OCR_DPI / 72
    scale = min(scale, (MAX_PIXELS / (width * height)) ** 0.5)
    return min(scale, MAX_SIDE / max(width, height))


def render(page):
    """Render a pdfium page for OCR, in grey, within the pixel caps; return a PIL image."""
    width, height = page.get_size()
    return page.render(scale=scale_for(width, height), grayscale=True).to_pil()


def tesseract_missing() -> bool:
    """Whether the tesseract program cannot be run."""
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        return True
    return False


def read(image, timeout: float = PAGE_TIMEOUT) -> str | None:
    """OCR an image with tesseract; None when it failed or timed out."""
    import pytesseract

    try:
        return pytesseract.image_to_string(image, timeout=timeout)
    except (RuntimeError, pytesseract.TesseractError):  # timeout, bad image
        return None


def read_scans(
    data: bytes,
    pages: list[PageText],
    numbers: list[int],
    lock: threading.Lock,
    warnings: list[str],
) -> tuple[list[PageText], list[int]]:
    """OCR pages ``numbers`` of the PDF and add their text after the page's own (the stamp).

    Returns the pages and the numbers of those that gained OCR text; a missing tesseract or a
    failed page is a warning.
    """
    import pypdfium2 as pdfium

    if tesseract_missing():
        warnings.append(
            f"{len(numbers)} page(s) are scanned and were not OCRed because tesseract is "
            "not installed (apt-get install tesseract-ocr); their text is missing."
        )
        return pages, []
    pages, ocred, failed, huge = list(pages), [], [], []
    deadline = time.monotonic() + DOCUMENT_BUDGET
    with lock:
        pdf = pdfium.PdfDocument(data)
    try:
        for index, number in enumerate(numbers):
            left = deadline - time.monotonic()
            if left <= 0:
                rest = ", ".join(map(str, numbers[index:]))
                warnings.append(
                    f"OCR stopped after {DOCUMENT_BUDGET} s (the per-document limit): scanned "
                    f"page(s) {rest} were not read. Split the document to have them read."
                )
                break
            with lock:  # held per page: another upload's pages go between ours
                try:
                    page = pdf[number - 1]
                    try:
                        width, height = page.get_size()
                        too_big = scale_for(width, height) * 72 < MIN_DPI
                        image = None if too_big else render(page)
                    finally:
                        page.close()
                except pdfium.PdfiumError:
                    too_big, image = False, None
            if too_big:
                huge.append(number)
                continue
            # tesseract runs unlocked, within what is left of the budget
            raw = read(image, min(PAGE_TIMEOUT, max(left, 1))) if image is not None else None
            if raw is None:
                failed.append(number)
                continue
            own = pages[number - 1].text
            text = _without_lines_of(clean_text(raw), own)
            if sum(c.isalnum() for c in text) < MIN_CHARS:
                continue  # a blank scan or a picture without words
            pages[number - 1] = PageText(number, f"{own}\n\n{text}" if own else text, ocr=True)
            ocred.append(number)
    finally:
        with lock:
            pdf.close()
    if failed:
        warnings.append(f"OCR failed on page(s) {', '.join(map(str, failed))}; text is missing.")
    if huge:
        warnings.append(
            f"page(s) {', '.join(map(str, huge))} are too large to OCR (under {MIN_DPI} dpi "
            "within the pixel limit); their text is missing. Export them at a normal page size."
        )
    return pages, ocred


def _without_lines_of(text: str, own: str) -> str:
    """Drop OCR lines that repeat a line of the text layer (the stamp is rendered too)."""
    seen = {_letters(line) for line in own.split("\n")} - {""}
    kept = [line for line in text.split("\n") if _letters(line) not in seen]
    return clean_text("\n".join(kept))


def _letters(line: str) -> str:
    return "".join(c for c in line.lower() if c.isalnum())
