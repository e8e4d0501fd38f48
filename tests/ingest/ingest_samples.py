"""Build small sample documents (PDF, DOCX, images) in memory, and a word-count tokenizer."""

from __future__ import annotations

import io
import zipfile


def word_count(text: str) -> int:
    """Count whitespace-separated words: a stand-in tokenizer with no special tokens."""
    return len(text.split())


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """Return a PDF with one page per string (text layer via fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, user: str, owner: str = "owner-secret", algorithm: str = "AES-256"):
    """Return ``data`` encrypted with pypdf (an empty user password opens without asking)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(content: bytes) -> bytes:
    """Return a one-page Helvetica PDF whose page content stream is ``content``, written by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def limit_tripping_pdf(sentence: str = "Quarterly revenue grew ten percent") -> bytes:
    """Return a valid PDF whose text array exceeds pypdf's 100,000-element default limit."""
    return raw_pdf(
        b"BT /F1 12 Tf 72 700 Td [(%s)" % sentence.encode() + b" 0" * 100_001 + b"] TJ ET"
    )


def image_only_pdf(lines: list[str]) -> bytes:
    """Return a PDF holding only a picture of ``lines`` (what a scanner produces)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1700, 300 + 200 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    for i, line in enumerate(lines):
        draw.text((100, 150 + 200 * i), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=200)
    return out.getvalue()


def make_docx(title: str | None = None) -> bytes:
    """Return a DOCX with headings, paragraphs, a list item and a table."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_heading("Leave policy", level=1)
    document.add_paragraph("Staff accrue leave every pay period.")
    document.add_heading("Annual leave", level=2)
    document.add_paragraph("Annual leave is 20 days a year.")
    document.add_paragraph("Ask your manager first", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Grade", "Days"
    table.cell(1, 0).text, table.cell(1, 1).text = "Senior", "25"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    """Return a zip archive holding ``files``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()
