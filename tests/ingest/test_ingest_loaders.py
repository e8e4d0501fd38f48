"""Loading files into pages: every supported format, and every way an upload can go wrong."""

from __future__ import annotations

import pytest
from ingest_samples import (
    encrypt_pdf,
    huge_page_pdf,
    image_only_pdf,
    limit_tripping_pdf,
    make_docx,
    make_pdf,
    stamped_scan_pdf,
    text_page_with_picture_pdf,
    zip_of,
)

import rag.ingest
from rag.config import Settings
from rag.errors import GroundworkError, IngestError
from rag.ingest import SUPPORTED_EXTENSIONS, load_file, safe_filename

CP1252_TEXT = "Café menu: crème brûlée, naïve “quoted” prices — €5 each. Ünïcödé façade.\n" * 3

BAD_INPUTS = [
    # id, filename, bytes (or a builder), settings overrides, message fragments
    ("truncated-pdf", "report.pdf", lambda: make_pdf(["Some text"] * 3)[:400], {},
     ["report.pdf", "damaged or truncated", "export it again"]),
    ("random-bytes-pdf", "data.pdf", lambda: bytes(range(256)) * 40, {},
     ["data.pdf", "not a PDF", "upload the new copy"]),
    ("password-pdf", "secret.pdf", lambda: encrypt_pdf(make_pdf(["Salaries"]), user="hunter2"), {},
     ["secret.pdf", "protected by a password", "without the password"]),
    ("zero-bytes", "empty.txt", lambda: b"", {}, ["empty.txt", "empty (0 bytes)", "retry"]),
    ("unsupported-ext", "budget.xlsx", lambda: zip_of({"xl/workbook.xml": b"<x/>"}), {},
     ["budget.xlsx", "'.xlsx' files are not supported", ".pdf", "Export the document"]),
    ("no-extension", "README", lambda: b"hello", {}, ["without an extension", "Supported"]),
    ("over-size-limit", "big.txt", lambda: b"word " * 400, {"max_file_mb": 0.001},
     ["big.txt", "over the 0.001 MB upload limit", "GROUNDWORK_MAX_FILE_MB", "Split the file"]),
    ("over-page-limit", "long.pdf", lambda: make_pdf(["one", "two", "three"]), {"max_pages": 2},
     ["long.pdf", "3 pages", "2-page limit", "GROUNDWORK_MAX_PAGES"]),
    ("docx-zip-of-other", "notes.docx", lambda: zip_of({"photo.jpg": b"\xff\xd8\xff"}), {},
     ["notes.docx", "not a Word document", "export it as .docx or PDF"]),
    ("docx-not-zip", "notes.docx", lambda: b"plain text pretending", {}, ["not a Word document"]),
    ("pdf-without-text", "blank.pdf", lambda: make_pdf(["", ""]), {},
     ["blank.pdf", "no extractable text", "If it is scanned"]),
    ("markdown-only-front-matter", "stub.md", lambda: b"---\ntitle: Stub\n---\n{% raw %}\n", {},
     ["stub.md", "no extractable text"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filename", "build", "overrides", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_inputs_fail_with_a_message_that_says_what_to_do(
    filename, build, overrides, fragments, tmp_path
):
    settings = Settings(data_dir=tmp_path, **overrides)
    with pytest.raises(IngestError) as caught:
        load_file(filename, build(), settings)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value, GroundworkError)
    assert caught.value.filename == safe_filename(filename)


GOOD_ODD_INPUTS = [
    # id, filename, bytes builder, expected (filename, text fragment, ocr)
    ("non-utf8-cp1252", "menu.txt", lambda: CP1252_TEXT.encode("cp1252"),
     ("menu.txt", "crème brûlée, naïve “quoted” prices — €5", False)),
    ("utf16-bom", "notes.txt", lambda: "Grüße aus Köln\n".encode("utf-16"),
     ("notes.txt", "Grüße aus Köln", False)),
    ("utf8-bom", "bom.txt", lambda: "\ufeffZoë's notes".encode(),
     ("bom.txt", "Zoë's notes", False)),
    ("path-separators", "../../etc/passwd.txt", lambda: b"root notes",
     ("passwd.txt", "root", False)),
    ("windows-path", "C:\\Users\\amy\\plan.md", lambda: b"# Plan\nShip it.",
     ("plan.md", "Ship", False)),
    ("html-in-name", "<img src=x onerror=alert(1)>q3<b>.txt", lambda: b"Q3 numbers",
     ("q3.txt", "Q3 numbers", False)),
    ("image-only-pdf", "scan.pdf", lambda: image_only_pdf(["Invoice total due in March"]),
     ("scan.pdf", "Invoice total due in March", True)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filename", "build", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in GOOD_ODD_INPUTS],
)
def test_odd_but_valid_inputs_load(filename, build, expected, settings, request):
    if filename.endswith(".pdf"):
        request.getfixturevalue("needs_tesseract")
    name, fragment, ocr = expected
    doc = load_file(filename, build(), settings)
    assert doc.filename == name
    assert fragment in doc.pages[0].text
    assert doc.pages[0].ocr is ocr


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../../etc/shadow", "shadow"),
        ("a\\b\\c.docx", "c.docx"),
        ("<script>alert(1)</script>.md", "alert(1).md"),
        ('bad"name|with*chars?.txt', "badnamewithchars.txt"),
        ("tab\tand\nnewline\x00.txt", "tab and newline.txt"),
        ("...hidden.txt", "hidden.txt"),
        ("", "document"),
        ("../", "document"),
        ("Ünïcode résumé 2024.pdf", "Ünïcode résumé 2024.pdf"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_public_api_is_exported():
    assert set(rag.ingest.__all__) == {
        "SUPPORTED_EXTENSIONS",
        "DocumentContext",
        "chunk_document",
        "derive_context",
        "file_words",
        "load_file",
        "parse_row",
        "pdf_cues",
        "safe_filename",
    }
    assert all(getattr(rag.ingest, name, None) is not None for name in rag.ingest.__all__)
    assert ".pdf" in SUPPORTED_EXTENSIONS and ".docx" in SUPPORTED_EXTENSIONS


def test_pdf_pages_keep_their_numbers_and_title(settings):
    data = make_pdf(["Alpha page text.", "Beta page text.", "Gamma page text."], title="Q3 Report")
    doc = load_file("q3.pdf", data, settings)
    assert doc.kind == "pdf"
    assert [(p.number, p.text) for p in doc.pages] == [
        (1, "Alpha page text."),
        (2, "Beta page text."),
        (3, "Gamma page text."),
    ]
    assert doc.title == "Q3 Report"
    assert not any(p.ocr for p in doc.pages)


@pytest.mark.parametrize("title", ["Untitled document", "Microsoft Word - plan.docx", "draft.pdf"])
def test_tool_default_pdf_titles_fall_back_to_the_file_name(title, settings):
    doc = load_file("plan.pdf", make_pdf(["Text on the page."], title=title), settings)
    assert doc.title == "plan.pdf"


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_pdf_encrypted_with_empty_user_password_opens(algorithm, settings):
    data = encrypt_pdf(make_pdf(["Filed quarterly numbers."]), user="", algorithm=algorithm)
    doc = load_file("filing.pdf", data, settings)
    assert doc.pages[0].text == "Filed quarterly numbers."


def test_pdf_missing_cryptography_is_reported_with_the_install_hint(settings, monkeypatch):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def no_crypto(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", no_crypto)
    data = encrypt_pdf(make_pdf(["x"]), user="")
    with pytest.raises(IngestError, match="pip install cryptography"):
        load_file("aes.pdf", data, settings)


def test_pdf_over_pypdf_safety_limit_still_loads(settings):
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    data = limit_tripping_pdf("Quarterly revenue grew ten percent")
    reader = PdfReader(__import__("io").BytesIO(data))
    with pytest.raises(LimitReachedError, match="maximum array element count"):
        reader.pages[0].extract_text()  # the trap is real with pypdf's defaults
    doc = load_file("10-q.pdf", data, settings)
    assert doc.pages[0].text == "Quarterly revenue grew ten percent"
    assert "safety limit" in doc.warnings[0]


def test_pdf_beyond_raised_limits_falls_back_to_pdfium(settings, monkeypatch):
    monkeypatch.setattr("rag.ingest.pdf._RAISED_LIMITS", {"array_maximum_element_count": 100})
    doc = load_file("10-q.pdf", limit_tripping_pdf("Net income rose"), settings)
    assert doc.pages[0].text == "Net income rose"
    assert "pdfium" in doc.warnings[0]


def test_scanned_page_is_ocred_only_where_text_is_missing(settings, needs_tesseract):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (make_pdf(["Typed page about budgets."]), image_only_pdf(["Scanned memo text"])):
        writer.append(PdfReader(__import__("io").BytesIO(data)))
    out = __import__("io").BytesIO()
    writer.write(out)
    doc = load_file("mixed.pdf", out.getvalue(), settings)
    assert [p.ocr for p in doc.pages] == [False, True]
    assert doc.pages[0].text == "Typed page about budgets."
    assert "Scanned memo text" in doc.pages[1].text


def test_missing_tesseract_is_a_warning_not_a_crash(settings, monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    data = make_pdf(["A typed page with plenty of words on it."])
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in (data, image_only_pdf(["Lost words"])):
        writer.append(PdfReader(__import__("io").BytesIO(part)))
    out = __import__("io").BytesIO()
    writer.write(out)
    doc = load_file("mixed.pdf", out.getvalue(), settings)
    assert doc.pages[1].text == ""
    assert any("tesseract is not installed" in w for w in doc.warnings)
    with pytest.raises(IngestError, match="install tesseract-ocr"):
        load_file("scan.pdf", image_only_pdf(["Only a picture"]), settings)


STAMP = "Case 1:21-cv-01009-DNH-ML Document 7 Filed 09/14/21 Page 1 of 5"
PROSE = " ".join(
    f"Clause {n}: the supplier delivers the goods within thirty days of the order and the buyer "
    "pays each invoice within sixty days of receiving it."
    for n in range(1, 13)
)


def test_scan_behind_a_text_stamp_is_ocred_and_keeps_the_stamp(settings, needs_tesseract):
    from rag.ingest.pdf import LayoutReport, load_pdf

    data = stamped_scan_pdf(["ORDER ON THE MOTION", "The motion is granted in part."], STAMP)
    report = LayoutReport()
    doc = load_pdf("order.pdf", data, settings, report=report)
    page = doc.pages[0]
    assert report.scans == [1] and page.ocr
    assert page.text.startswith(STAMP + "\n\n")
    assert page.text.count("09/14/21") == 1  # the stamp OCR reads off the picture is dropped
    assert "ORDER ON THE MOTION" in page.text and "granted in part" in page.text


def test_scan_behind_a_stamp_without_tesseract_keeps_the_stamp_and_warns(settings, monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    doc = load_file("order.pdf", stamped_scan_pdf(["Lost words"], STAMP), settings)
    assert doc.pages[0].text == STAMP and not doc.pages[0].ocr
    assert any("scanned and were not OCRed" in w for w in doc.warnings)


@pytest.mark.parametrize(
    ("text", "picture_mm"),
    [
        pytest.param(PROSE, (30, 15), id="logo"),
        pytest.param(PROSE, (190, 175), id="half-page-chart"),
        pytest.param("", (30, 15), id="blank-page-with-a-logo"),
    ],
)
def test_text_page_with_a_picture_is_not_ocred(text, picture_mm, settings):
    from rag.ingest.pdf import LayoutReport, load_pdf

    report = LayoutReport()
    data = text_page_with_picture_pdf(text, picture_mm)
    doc = load_pdf("contract.pdf", data, settings, report=report)
    assert report.scans == [] and not doc.pages[0].ocr and not doc.warnings
    assert doc.pages[0].text == load_pdf("c.pdf", data, settings, ocr=False).pages[0].text


def test_picture_and_text_coverage_tell_a_scan_from_a_text_page():
    import pypdfium2 as pdfium

    from rag.ingest.ocr import IMAGE_COVER, TEXT_COVER, coverage

    def measure(data):
        pdf = pdfium.PdfDocument(data)
        try:
            return coverage(pdf[0])
        finally:
            pdf.close()

    scan = measure(stamped_scan_pdf(["Scanned"], STAMP))
    chart = measure(text_page_with_picture_pdf(PROSE, (190, 175)))
    assert scan.images >= 0.99 and scan.text < TEXT_COVER
    assert chart.images >= IMAGE_COVER and chart.text > 2 * TEXT_COVER  # the rule's other arm


def test_ocr_render_of_a_huge_page_stays_under_the_pixel_cap():
    import pypdfium2 as pdfium

    from rag.ingest.ocr import MAX_PIXELS, OCR_DPI, render, scale_for

    pdf = pdfium.PdfDocument(huge_page_pdf(5000))  # 5 m square: ~28 gigapixels at 300 dpi
    try:
        image = render(pdf[0])
    finally:
        pdf.close()
    assert image.width * image.height <= MAX_PIXELS
    assert image.mode == "L"  # grey: a byte per pixel
    assert scale_for(612, 792) == OCR_DPI / 72  # a letter page is still read at 300 dpi
    assert scale_for(1, 10**7) * 10**7 <= 20_000  # a thin strip is capped on its long side


def test_markdown_front_matter_and_template_tags(settings):
    source = (
        b"---\ntitle: Leave policy\ndate: 2024-03-01\ntags: [hr, leave]\nnested: {a: 1}\n---\n"
        b"{% include 'banner.html' %}\n# Leave\n\nSee [the form]({% page '/forms/' %}) and "
        b"{{ site.email }} for details.\n\n## Annual leave\n\nTwenty days.\n{# a comment #}\n"
    )
    doc = load_file("leave.md", source, settings)
    assert doc.kind == "markdown"
    assert doc.metadata == {"title": "Leave policy", "date": "2024-03-01", "tags": "hr, leave"}
    assert doc.title == "Leave policy"
    text = doc.pages[0].text
    assert "{%" not in text and "{{" not in text and "{#" not in text and "title:" not in text
    assert "See the form and for details." in text
    assert text.startswith("# Leave") and "## Annual leave\n\nTwenty days." in text


def test_markdown_with_bad_front_matter_keeps_the_text_and_warns(settings):
    doc = load_file("x.md", b"---\ntitle: [unclosed\n---\nBody text here.\n", settings)
    assert doc.pages[0].text == "Body text here."
    assert "front matter" in doc.warnings[0]


def test_markdown_title_falls_back_to_first_heading(settings):
    doc = load_file("x.md", b"Intro line\n\n# Travel rules\n\nBook early.", settings)
    assert doc.title == "Travel rules"


def test_html_keeps_headings_and_drops_scripts_and_navigation(settings):
    html = """<html><head><title>Travel | Handbook</title><style>p{color:red}</style></head>
    <body><nav><a href="/">Home</a> <a href="/x">Menu link</a></nav>
    <h1>Travel</h1><p>Book trips <b>two weeks</b> ahead.</p>
    <h2>Per diem</h2><ul><li>Meals</li><li>Lodging</li></ul>
    <table><tr><th>City</th><th>Rate</th></tr><tr><td>Boston</td><td>$79</td></tr></table>
    <script>var secret = "do not index";</script><footer>Copyright</footer></body></html>"""
    doc = load_file("travel.html", html.encode(), settings)
    text = doc.pages[0].text
    assert doc.kind == "html" and doc.title == "Travel | Handbook"
    assert "# Travel\n\nBook trips two weeks ahead." in text
    assert "## Per diem" in text and "- Meals" in text and "City | Rate" in text
    assert "Boston | $79" in text
    for absent in ("Menu link", "secret", "color:red", "Copyright"):
        assert absent not in text


def test_html_honours_its_declared_charset(settings):
    html = '<html><head><meta charset="windows-1252"></head><body><p>Café “menu”</p></body></html>'
    doc = load_file("menu.htm", html.encode("cp1252"), settings)
    assert doc.pages[0].text == "Café “menu”"


def test_docx_headings_lists_tables_and_title(settings):
    doc = load_file("policy.docx", make_docx(title="HR Leave Policy"), settings)
    assert doc.kind == "docx" and doc.title == "HR Leave Policy"
    assert doc.pages[0].text == (
        "# Leave policy\n\nStaff accrue leave every pay period.\n\n## Annual leave\n\n"
        "Annual leave is 20 days a year.\n\n- Ask your manager first\n\nGrade | Days\n\n"
        "Senior | 25"
    )


def test_csv_rows_read_as_labelled_values(settings):
    data = "name,city,salary\nAda,London,100\nGrace,,120\n\n".encode("utf-8-sig")
    doc = load_file("staff.csv", data, settings)
    assert doc.kind == "csv"
    assert doc.pages[0].text == "name: Ada; city: London; salary: 100\nname: Grace; salary: 120"


def test_csv_with_semicolons_is_sniffed(settings):
    doc = load_file("eu.csv", "Produkt;Preis\nKäse;3,50\n".encode("cp1252"), settings)
    assert doc.pages[0].text == "Produkt: Käse; Preis: 3,50"


def test_text_normalises_line_ends_and_control_characters(settings):
    doc = load_file("t.txt", b"one\r\ntwo\x00\x07   three\r\n\r\n\r\n\r\nfour\x0c", settings)
    assert doc.pages[0].text == "one\ntwo three\n\nfour"


def test_supported_extensions_match_the_loaders():
    from rag.ingest.loaders import _LOADERS

    assert set(_LOADERS) == set(SUPPORTED_EXTENSIONS)
