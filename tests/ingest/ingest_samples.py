"""Build small sample documents (PDF, DOCX, images) in memory, and a word-count tokenizer."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


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


def raw_pdf(
    content: bytes, *, deflated: bool = False, size: tuple[int, int] = (612, 792), picture=False
) -> bytes:
    """Return a one-page Helvetica PDF whose page content stream is ``content``, written by hand.

    ``deflated``: ``content`` is zlib data (``/FlateDecode``); ``size``: the MediaBox in points;
    ``picture``: the page also holds ``/Im1``, a one-pixel grey image (draw it with ``Do``).
    """
    flate = b" /Filter /FlateDecode" if deflated else b""
    image = b" /XObject << /Im1 6 0 R >>" if picture else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % size
        + b"/Resources << /Font << /F1 4 0 R >>%s >> /Contents 5 0 R >>" % image,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), flate) + content + b"\nendstream",
    ]
    if picture:
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length 1 >>\nstream\n\xc0\nendstream"
        )
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


# --- tables and scans ---------------------------------------------------------------------

STATEMENT_ROWS = [
    # label, indent, values (with "$" columns), as a filing prints them
    ("Revenue", 0, ["$ 5,000", "$ 4,200", "$ 3,900"]),
    ("Operating expenses:", 0, []),
    ("Research and development", 4, ["1,875", "1,618", "1,402"]),
    ("Sales and marketing", 4, ["2,100", "(15)", "1,950"]),
    ("Total operating expenses", 4, ["3,975", "1,603", "3,352"]),
    ("Net income", 0, ["$ 1,025", "$ 2,597", "$ 548"]),
]
STATEMENT_HEADERS = [("December 31,", "2023"), ("December 31,", "2022"), ("January 1,", "2021")]
STATEMENT_PROSE = (
    "Revenue grew 19% to 5,000 million in 2023 from 4,200 million in 2022, and operating "
    "expenses rose with it. The board approved a dividend of 0.25 per share."
)


def statement_pdf(prose_page: str | None = None) -> bytes:
    """Return an income statement laid out as filings do, with a prose page after it.

    A spanning header ("Fiscal years ended") over two header lines (date, year), a label
    column with an indented section, three right-aligned numeric columns (a lone "$" before
    some amounts), then a paragraph of prose under the table.
    """
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=9)
    pdf.add_page()
    pdf.set_xy(15, 20)
    pdf.cell(180, 5, "CONSOLIDATED STATEMENTS OF OPERATIONS", align="C")
    pdf.set_xy(15, 25)
    pdf.cell(180, 5, "(In millions)", align="C")
    columns = [(110, 25), (140, 25), (170, 25)]  # x, width (mm)
    pdf.set_xy(110, 35)
    pdf.cell(85, 5, "Fiscal years ended", align="C")
    for (x, w), (date, year) in zip(columns, STATEMENT_HEADERS, strict=True):
        pdf.set_xy(x, 40)
        pdf.cell(w, 5, date, align="R")
        pdf.set_xy(x, 45)
        pdf.cell(w, 5, year, align="R")
    y = 53
    for label, indent, values in STATEMENT_ROWS:
        pdf.set_xy(15 + indent, y)
        pdf.cell(80, 5, label)
        for (x, w), value in zip(columns, values, strict=False):
            sign, _, amount = value.rpartition(" ")
            if sign:
                pdf.set_xy(x, y)
                pdf.cell(5, 5, sign)
            pdf.set_xy(x, y)
            pdf.cell(w, 5, amount, align="R")
        y += 6
    pdf.set_xy(15, y + 8)
    pdf.multi_cell(180, 5, STATEMENT_PROSE)
    pdf.add_page()
    pdf.multi_cell(0, 6, prose_page or "Management discussion. Sales rose in every region.")
    return bytes(pdf.output())


def _page_picture(lines: list[str], size: tuple[int, int] = (1654, 2339)):
    """A white picture (A4 at 200 dpi) with ``lines`` drawn large, as a scanner sees a page."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    for i, line in enumerate(lines):
        draw.text((120, 300 + 120 * i), line, fill="black", font=font)
    return image


def stamped_scan_pdf(lines: list[str], stamp: str) -> bytes:
    """Return a scanned page (a full-page picture of ``lines``) under a one-line text stamp,
    as court e-filing systems produce."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(_page_picture(lines), x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(0, 0, 200)
    pdf.text(30, 8, stamp)
    return bytes(pdf.output())


def text_page_with_picture_pdf(text: str, picture_mm: tuple[float, float]) -> bytes:
    """Return a page of ``text`` with a picture (a logo or a chart) of ``picture_mm`` (w, h)
    at its top, the text flowing below it."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    w, h = picture_mm
    picture = Image.new("RGB", (int(w * 8), int(h * 8)), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((4, 4, picture.width - 5, picture.height - 5), outline="navy", width=6)
    draw.pieslice((10, 10, picture.width - 10, picture.height - 10), 0, 250, fill="orange")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=w, h=h)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(10, 14 + h)
    pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())


def huge_page_pdf(side_mm: float = 5000) -> bytes:
    """Return one square page ``side_mm`` wide (5 m: near PDF's 200-inch limit) with a word."""
    from fpdf import FPDF

    pdf = FPDF(format=(side_mm, side_mm))
    pdf.add_page()
    pdf.set_font("Helvetica", size=40)
    pdf.text(100, 100, "Poster")
    return bytes(pdf.output())


def turned_pdf(data: bytes) -> bytes:
    """Return ``data`` with each page stored sideways under ``/Rotate 90``: it shows as before,
    but the text runs up the page in its own coordinates (as landscape statements are made)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(Transformation().rotate(90).translate(height, 0))
        page.mediabox.upper_right = (height, width)
        page.rotate(90)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- hostile files --------------------------------------------------------------------------


def deflated(head: bytes, unit: bytes, total: int) -> bytes:
    """Return zlib data of ``head`` then ``unit`` repeated to ``total`` bytes (a bomb's core)."""
    packer = zlib.compressobj(1)
    block = unit * max(1, (1 << 20) // len(unit))
    out, written = [packer.compress(head)], 0
    while written < total:
        out.append(packer.compress(block))
        written += len(block)
    return b"".join(out) + packer.flush()


def pdf_bomb(inflated: int) -> bytes:
    """Return a small PDF whose one content stream inflates to ``inflated`` bytes of spaces."""
    return raw_pdf(
        deflated(b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET\n", b" ", inflated), deflated=True
    )


def docx_with_body(body: bytes) -> bytes:
    """Return ``make_docx()`` with its ``word/document.xml`` body replaced by ``body``."""
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                head, _, rest = data.partition(b"<w:body>")
                tail = rest[rest.index(b"<w:sectPr") :]
                data = head + b"<w:body>" + body + tail
            archive.writestr(info.filename, data)
    return out.getvalue()


def lie_about_size(archive: bytes, member: str, size: int) -> bytes:
    """Return ``archive`` with ``member``'s uncompressed size claimed as ``size`` in both its
    local header and the central directory (a zip that lies to size checks)."""
    data = bytearray(archive)
    name = member.encode()
    headers = ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46))  # local, central
    for signature, size_at, length_at, name_at in headers:
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + length_at)[0]
            if data[at + name_at : at + name_at + length] == name:
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    return bytes(data)


def misdirect_xref(pdf: bytes, count: int) -> bytes:
    """Shift ``count`` cross-reference offsets of a PDF by two bytes.

    pypdf then finds no object header where those entries point ("Ignoring wrong pointing
    object"), drops them and finds the objects by searching the file: a damaged but readable
    PDF, like many real exports.
    """
    import re

    start = pdf.rindex(b"\nxref\n")
    head, table = pdf[:start], pdf[start:]
    entries = list(re.finditer(rb"(\d{10}) (\d{5}) n", table))[1 : count + 1]
    assert len(entries) == count, "the PDF has fewer objects than asked to misdirect"
    for entry in entries:
        shifted = b"%010d %s n" % (int(entry.group(1)) + 2, entry.group(2))
        table = table.replace(entry.group(0), shifted, 1)
    return head + table
