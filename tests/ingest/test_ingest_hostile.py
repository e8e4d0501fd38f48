"""Hostile uploads: each costs about what a normal file of its size costs, or fails alone.

Small generated files through the real parsers: text built to make cleaning quadratic, zip and
PDF bombs, a zip that lies about its sizes, pages too large to OCR, damaged PDFs, and a parser
that breaks. Timings are compared with a normal file of the same size, never absolute.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest
from ingest_samples import (
    deflated,
    docx_with_body,
    lie_about_size,
    make_pdf,
    pdf_bomb,
    raw_pdf,
    stamped_scan_pdf,
    word_count,
)

from rag.errors import IngestError
from rag.ingest import chunk_document, limits, load_file, ocr

SIZE = 200_000
NORMAL = "The committee approved the travel budget for the spring quarter. " * 6 + "\n\n"


def _of_size(unit: str, size: int = SIZE) -> bytes:
    return (unit * (size // len(unit) + 1))[:size].encode()


def _seconds(work) -> float:
    """The best of two runs (other work on the machine only ever adds time)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _load_or_refuse(name: str, data: bytes, settings):
    try:
        return load_file(name, data, settings)
    except IngestError as exc:
        return exc


# Each once took seconds to minutes at 200 KB: regex backtracking, or html.parser rescans.
SLOW_TEXT = [
    ("a.md", "{%"), ("a.md", "{{"), ("a.md", "{#"), ("a.md", "<!--"), ("a.md", "["),
    ("a.md", "[]("), ("a.md", "# ["), ("a.md", "# a\u2028"), ("a.md", "---\n"),
    ("a.html", "<!--"), ("a.html", "<a "), ("a.html", "<a href="), ("a.html", "<p>"),
    ("a.html", "<li>x"), ("a.html", "<div>"), ("a.txt", "\u202f|"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "unit"), SLOW_TEXT, ids=[f"{n}:{u!r}" for n, u in SLOW_TEXT])
def test_cleaning_hostile_text_costs_about_what_normal_text_does(settings, name, unit):
    normal = _of_size(f"<p>{NORMAL}</p>" if name.endswith(".html") else NORMAL)
    baseline = _seconds(lambda: _load_or_refuse(name, normal, settings))
    small = _seconds(lambda: _load_or_refuse(name, _of_size(unit, SIZE // 8), settings))
    took = _seconds(lambda: _load_or_refuse(name, _of_size(unit), settings))
    # 8x the bytes: linear work takes ~8x the time, quadratic ~64x (bounds leave room for noise).
    # HTML builds one node per tag: a page of nothing but tags costs more per byte, linearly.
    assert took < 24 * small + 0.2, f"{unit!r}: {took:.2f}s at 200 KB vs {small:.2f}s at 25 KB"
    assert took < 10 * baseline + 2.0, f"{unit!r}: {took:.2f}s vs {baseline:.2f}s for normal text"


@pytest.mark.parametrize("unit", ["# ", "# [", "<li>x", "'"])
def test_chunking_hostile_text_stays_near_linear(settings, unit):
    """A 200 KB "heading" or 40,000 tiny pieces are cut without recounting the whole page."""
    name = "a.html" if unit.startswith("<") else "a.md"
    normal = load_file(name, _of_size(NORMAL), settings)
    hostile = load_file(name, _of_size(unit), settings)
    baseline = _seconds(lambda: chunk_document(normal, word_count, 256))
    took = _seconds(lambda: chunk_document(hostile, word_count, 256))
    words = max(word_count(hostile.pages[0].text) / word_count(normal.pages[0].text), 1)
    assert took < 5 * words * baseline + 0.5, f"{took:.2f}s vs {baseline:.2f}s"


def test_template_tags_are_still_stripped_and_unclosed_ones_kept(settings):
    text = (
        b"# Leave\n\n{% include x %}Book [the form]({% link f %}) early.<!-- note -->\n\n"
        b"Price {{ a }}: 5 {% never closed"
    )
    doc = load_file("a.md", text, settings)
    assert doc.pages[0].text == "# Leave\n\nBook the form early.\n\nPrice : 5 {% never closed"
    assert doc.title == "Leave"


def _refused_with_peak(name: str, data: bytes, settings) -> tuple[str, int]:
    """The IngestError message ``load_file`` refuses a file with, and its peak Python memory."""
    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as caught:
            load_file(name, data, settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(caught.value), peak


def test_docx_zip_bomb_is_refused_before_it_is_unpacked(settings):
    # 300 MB of one character: stored in ~1 MB, over the ratio cap and the size caps
    body = b"<w:p><w:r><w:t>" + b"0" * (300 << 20) + b"</w:t></w:r></w:p>"
    data = docx_with_body(body)
    del body
    error, peak = _refused_with_peak("bomb.docx", data, settings)
    assert len(data) < 2 << 20
    assert "zip bomb" in error and "bomb.docx" in error
    assert "export it as PDF" in error
    assert peak < 20 << 20  # nothing was inflated


def test_docx_part_over_the_size_cap_is_refused_even_at_a_plausible_ratio(settings):
    # 65 MB of mostly zeros with some noise: ~30x, under the ratio cap, over the 64 MB cap
    import random

    rnd = random.Random(7)
    count = limits.MAX_ZIP_XML_BYTES // 1024 + 1024
    text = b"".join(b"0" * 984 + rnd.randbytes(20).hex().encode() for _ in range(count))
    body = b"<w:p><w:r><w:t>" + text
    data = docx_with_body(body + b"</w:t></w:r></w:p>")
    with pytest.raises(IngestError) as caught:
        load_file("big.docx", data, settings)
    assert "too large to read safely" in str(caught.value)
    assert "64 MB limit" in str(caught.value) and "word/document.xml" in str(caught.value)


def test_docx_that_lies_about_its_sizes_cannot_inflate_past_its_claim(settings):
    body = b"<w:p><w:r><w:t>" + b"0" * (100 << 20) + b"</w:t></w:r></w:p>"
    data = lie_about_size(docx_with_body(body), "word/document.xml", 4096)
    del body
    error, peak = _refused_with_peak("liar.docx", data, settings)
    assert "liar.docx" in error and "export" in error
    assert peak < 20 << 20  # zipfile stopped at the claimed 4 KB


def test_docx_with_too_many_parts_is_refused(settings):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(limits.MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"word/media/{i}.bin", b"")
    with pytest.raises(IngestError, match="holds 10,001 files"):
        load_file("many.docx", out.getvalue(), settings)


def test_pdf_stream_bomb_is_refused_before_pdfium_inflates_it(settings):
    data = pdf_bomb(300 << 20)  # 300 MB of spaces in ~300 KB; pdfium held ~2x that in memory
    assert len(data) < 2 << 20
    with pytest.raises(IngestError) as caught:
        load_file("bomb.pdf", data, settings)
    message = str(caught.value)
    assert "bomb.pdf" in message and "would unpack past 128 MB" in message
    # the check pdfium's fallback runs when pypdf cannot parse the file finds it too
    with pytest.raises(IngestError, match="unpack past"):
        limits.check_pdf_bytes("bomb.pdf", data)


def test_pdf_streams_within_the_caps_still_load(settings):
    content = deflated(b"BT /F1 12 Tf 72 700 Td (Quarterly revenue grew) Tj ET\n", b" ", 5 << 20)
    doc = load_file("fine.pdf", raw_pdf(content, deflated=True), settings)
    assert "Quarterly revenue grew" in doc.pages[0].text
    limits.check_pdf_bytes("fine.pdf", raw_pdf(content, deflated=True))  # no error


def test_inflated_size_stops_at_the_cap_and_survives_garbage():
    data = deflated(b"", b"\0", 50 << 20)
    assert limits.inflated_size(data, 10**10) >= 50 << 20
    assert (1 << 20) < limits.inflated_size(data, 1 << 20) <= 3 << 20  # stopped near the cap
    assert limits.inflated_size(b"not zlib at all", 100) == 0
    assert limits.inflated_size(data[:5000], 10**10) > 0  # truncated: what is there


@pytest.mark.parametrize("side", [612, 14_400, 100_000, 10**7])
def test_ocr_render_size_is_bounded_for_any_page_size(side):
    scale = ocr.scale_for(side, side)
    assert (side * scale) ** 2 <= ocr.MAX_PIXELS * 1.0001
    assert side * scale <= ocr.MAX_SIDE
    if side == 14_400:  # the PDF maximum (200 inches): read at ~25 dpi, not skipped
        assert scale * 72 >= ocr.MIN_DPI


def test_page_too_large_to_ocr_is_skipped_with_a_warning(settings, needs_tesseract):
    side = 100_000  # points: 35 m, under 20 dpi within the pixel cap
    content = b"BT /F1 40 Tf 100 100 Td (Poster) Tj ET q %d 0 0 %d 0 0 cm /Im1 Do Q" % (side, side)
    doc = load_file("poster.pdf", raw_pdf(content, size=(side, side), picture=True), settings)
    assert doc.pages[0].text == "Poster"
    assert any("too large to OCR" in w and "page(s) 1" in w for w in doc.warnings)


def test_ocr_stops_at_the_document_budget_and_says_which_pages(
    settings, needs_tesseract, monkeypatch
):
    monkeypatch.setattr(ocr, "DOCUMENT_BUDGET", 0)
    data = stamped_scan_pdf(["Invoice total 4,250 dollars"], "Case 1:21-cv-01009 Page 1 of 1")
    doc = load_file("scan.pdf", data, settings)
    assert "Case 1:21-cv-01009" in doc.pages[0].text and not doc.pages[0].ocr
    assert any("OCR stopped" in w and "page(s) 1" in w for w in doc.warnings)


def test_pdfium_lock_is_free_while_tesseract_reads(settings, monkeypatch):
    from rag.ingest import pdf as pdf_module

    held = []

    def fake_read(image, timeout=ocr.PAGE_TIMEOUT):
        held.append(pdf_module._PDFIUM_LOCK.locked())
        return "Invoice total four thousand dollars"

    monkeypatch.setattr(ocr, "tesseract_missing", lambda: False)
    monkeypatch.setattr(ocr, "read", fake_read)
    pages = [["Invoice total one"], ["Invoice total two"]]
    scans = [stamped_scan_pdf(lines, "Case 1 Page") for lines in pages]
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for scan in scans:
        writer.append(PdfReader(io.BytesIO(scan)))
    out = io.BytesIO()
    writer.write(out)
    doc = load_file("two.pdf", out.getvalue(), settings)
    assert held == [False, False]  # another upload's pages can render in between
    assert all(page.ocr for page in doc.pages)


DAMAGED_PDFS = {
    "truncated-half": lambda pdf: pdf[: len(pdf) // 2],
    "truncated-before-xref": lambda pdf: pdf[: pdf.rindex(b"xref")],
    "xref-garbage": lambda pdf: pdf.replace(b"0000000", b"9999999"),
    "startxref-nowhere": lambda pdf: pdf.replace(b"startxref\n", b"startxref\n99999999\n"),
    "no-trailer": lambda pdf: pdf.replace(b"trailer", b"tariler"),
    "header-only": lambda pdf: pdf[:9],
}


@pytest.mark.parametrize("damage", DAMAGED_PDFS, ids=list(DAMAGED_PDFS))
def test_damaged_pdfs_load_or_fail_with_a_clear_message(settings, damage):
    data = DAMAGED_PDFS[damage](make_pdf(["Revenue grew ten percent."] * 3))
    outcome = _load_or_refuse("damaged.pdf", data, settings)
    if isinstance(outcome, IngestError):
        assert str(outcome).startswith("damaged.pdf: ")
        assert "upload" in str(outcome)  # says what to do
    else:
        assert any("Revenue" in page.text for page in outcome.pages)


def test_a_parser_crash_becomes_an_ingest_error_for_that_file(settings, monkeypatch):
    import pypdfium2 as pdfium

    from rag.ingest import pdf as pdf_module

    def broken(*args, **kwargs):
        raise pdfium.PdfiumError("Failed to load page.")

    monkeypatch.setattr(pdf_module, "_read_layout", broken)
    with pytest.raises(IngestError) as caught:
        load_file("report.pdf", make_pdf(["Revenue"]), settings)
    message = str(caught.value)
    assert message.startswith("report.pdf: the PDF reader failed")
    assert "PdfiumError: Failed to load page." in message and "upload the new copy" in message
    assert isinstance(caught.value.__cause__, pdfium.PdfiumError)


def test_running_out_of_memory_fails_only_that_file(settings, monkeypatch):
    import rag.ingest.loaders as loaders

    def greedy(name, data, settings):
        raise MemoryError

    monkeypatch.setitem(loaders._LOADERS, ".html", greedy)
    with pytest.raises(IngestError, match="ran out of memory"):
        load_file("big.html", b"<p>x</p>", settings)
    assert load_file("next.txt", b"still fine", settings).pages[0].text == "still fine"


@pytest.mark.parametrize("unit", ["{%", "-", "*.", "!?#", "# ", "# ["])
def test_repeated_symbols_do_not_multiply_the_passages_to_embed(settings, unit):
    """Each symbol is a token of its own: 200 KB of them once made 8x the passages of prose."""
    from rag.index.reading import read_document

    _, _, normal = read_document("a.md", _of_size(NORMAL), settings)
    text = b"# Notes\n\nThe desk opens at 9. " + _of_size(unit) + b"\n\nIt closes at 5.\n"
    _, _, hostile = read_document("a.md", text, settings)
    assert len(hostile) <= 2 < len(normal)
    assert "opens at 9" in hostile[0].text and "closes at 5" in hostile[-1].text
