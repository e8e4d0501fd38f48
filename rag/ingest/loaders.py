"""Turn an uploaded file into pages of text: checks, file names, and the non-PDF formats.

``load_file`` is the single entry point: it sanitises the name, enforces the size and page
limits, dispatches on the extension and refuses documents with no text. PDFs live in
``rag.ingest.pdf``; everything else (Markdown, plain text, CSV, HTML, DOCX) is here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable

from rag.config import Settings
from rag.errors import IngestError
from rag.ingest.html_text import html_text
from rag.ingest.limits import check_zip
from rag.ingest.pdf import load_pdf
from rag.ingest.text import (
    clean_text,
    decode_text,
    markdown_title,
    sensible_title,
    strip_template_tags,
    too_many_pages,
    unwrap_empty_links,
)
from rag.types import LoadedDocument, PageText

SUPPORTED_EXTENSIONS = (".pdf", ".md", ".markdown", ".txt", ".csv", ".html", ".htm", ".docx")

_TAG = re.compile(r"<[^>]*>")
_UNSAFE_CHARS = re.compile(r'[<>:"|?*&\'`]')
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def safe_filename(name: str) -> str:
    """Return a readable file name with no directories, markup or control characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = _TAG.sub("", name)  # before splitting: "</b>" holds a slash
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if c in "\t\n\r" else c
        for c in name
        if c in "\t\n\r" or unicodedata.category(c)[0] != "C"
    )
    name = _UNSAFE_CHARS.sub("", name)
    name = " ".join(name.split()).lstrip(". ")  # no hidden files, no "..": ids must be tame
    if len(name) > 150:  # keep the extension visible when a name is absurdly long
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 149 - len(ext)]}.{ext}" if dot and len(ext) <= 8 else name[:150]
    return name or "document"


def load_file(filename: str, data: bytes, settings: Settings) -> LoadedDocument:
    """Read one uploaded file into pages of text, or raise ``IngestError`` saying why not."""
    name = safe_filename(filename)
    if not data:
        raise IngestError(name, "the file is empty (0 bytes). Check the upload finished and retry.")
    limit = settings.max_file_mb * 1024 * 1024
    if len(data) > limit:
        raise IngestError(
            name,
            f"the file is {len(data) / 1024 / 1024:.1f} MB, over the {settings.max_file_mb:g} MB "
            "upload limit (max_file_mb, GROUNDWORK_MAX_FILE_MB). Split the file or ask an "
            "administrator to raise the limit.",
        )
    ext = "." + name.rpartition(".")[2].lower() if "." in name else ""
    loader = _LOADERS.get(ext)
    if loader is None:
        shown = f"'{ext}' files are" if ext else "files without an extension are"
        raise IngestError(
            name,
            f"{shown} not supported. Supported: {', '.join(SUPPORTED_EXTENSIONS)}. "
            "Export the document as PDF, DOCX, Markdown, CSV or plain text and upload that.",
        )
    try:
        doc = loader(name, data, settings)
    except IngestError:
        raise
    except MemoryError as exc:
        # the parser's allocation failed and was freed; the next file may well fit
        raise IngestError(
            name,
            "reading this document ran out of memory, so it was skipped. Split it into smaller "
            "files, or export it again (print to PDF), and upload those.",
        ) from exc
    except Exception as exc:  # a parser's bug or a file it cannot take must not end the batch
        raise IngestError(
            name,
            f"the {_KINDS.get(ext, 'file')} reader failed on this file ({type(exc).__name__}: "
            f"{_short(exc)}); it may be damaged or unusual. Open it in its own program, save or "
            "export it again (PDF, DOCX or plain text) and upload the new copy.",
        ) from exc
    if len(doc.pages) > settings.max_pages:
        raise IngestError(name, too_many_pages(len(doc.pages), settings.max_pages))
    if not any(page.text.strip() for page in doc.pages):
        hint = (
            " If it is scanned, install tesseract-ocr so pages can be OCRed, or upload a version "
            "with a text layer."
            if doc.kind == "pdf"
            else " Check that the file has content and is not an export of something else."
        )
        raise IngestError(name, "no extractable text was found in this document." + hint)
    return doc


_KINDS = {".pdf": "PDF", ".docx": "Word", ".html": "HTML", ".htm": "HTML", ".csv": "CSV"}


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:159] + "…"


def _load_text(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    return LoadedDocument(name, "text", [PageText(1, clean_text(decode_text(name, data)))])


def _load_markdown(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    text = decode_text(name, data).replace("\r\n", "\n")
    metadata: dict = {}
    warnings: list[str] = []
    match = _FRONT_MATTER.match(text)
    if match:
        text = text[match.end() :]
        import yaml

        try:
            front = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            warnings.append(f"front matter is not valid YAML and was ignored ({exc.problem}).")
            front = None
        if isinstance(front, dict):
            metadata.update(_flat_metadata(front))
    text = strip_template_tags(text)
    text = clean_text(unwrap_empty_links(text))  # [text]({% link %}) lost its target
    if not metadata.get("title") and (title := markdown_title(text)):
        metadata["title"] = title
    return LoadedDocument(name, "markdown", [PageText(1, text)], metadata, warnings)


def _flat_metadata(front: dict) -> dict:
    """Keep front-matter values a vector store can hold: scalars, lists joined by commas."""
    out: dict = {}
    for key, value in front.items():
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, str | int | float | bool) and value != "":
            out[str(key)] = value.strip() if isinstance(value, str) else value
    return out


def _load_csv(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    text = decode_text(name, data).lstrip("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t|")
    except csv.Error:  # sniffing fails on one-column files; the default dialect reads them
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        return LoadedDocument(name, "csv", [PageText(1, "")])
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    lines = []
    for row in rows[1:]:
        cells = [
            f"{header[i] if i < len(header) else f'column {i + 1}'}: {value.strip()}"
            for i, value in enumerate(row)
            if value.strip()
        ]
        lines.append("; ".join(cells))
    return LoadedDocument(name, "csv", [PageText(1, clean_text("\n".join(lines)))])


def _load_html(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    raw, title = html_text(data)
    text = clean_text(raw)
    # the separator after a row's last cell (bounded: cleaned text has short whitespace runs)
    text = re.sub(r"\s{0,8}\|\s{0,8}$", "", text, flags=re.M)
    return LoadedDocument(name, "html", [PageText(1, text)], {"title": title} if title else {})


def _load_docx(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    not_word = (
        "this is not a Word document (a .docx is a zip holding word/document.xml, and this one "
        "is not). Open it in its own program and save or export it as .docx or PDF."
    )
    check_zip(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(name, not_word) from exc
    # Paragraph.style scans every style for the default on each call (60k paragraphs: a minute)
    styles = {
        style.style_id: style.name or ""
        for style in document.styles
        if style.type == WD_STYLE_TYPE.PARAGRAPH
    }
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_style = (default.name if default is not None else "") or ""
    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:  # merged cells repeat; show each once
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):
                        cells.append(text)
                if cells:
                    blocks.append(" | ".join(cells))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = styles.get(item._p.style or "", default_style)
        if level := _docx_heading_level(style):
            blocks.append(f"{'#' * level} {' '.join(text.split())}")
        elif style.lower().startswith("list"):
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    metadata = {}
    if title := sensible_title(document.core_properties.title):
        metadata["title"] = title
    return LoadedDocument(name, "docx", [PageText(1, clean_text("\n\n".join(blocks)))], metadata)


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


def _load_pdf(name: str, data: bytes, settings: Settings) -> LoadedDocument:
    return load_pdf(name, data, settings)


_LOADERS: dict[str, Callable[[str, bytes, Settings], LoadedDocument]] = {
    ".pdf": _load_pdf,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".csv": _load_csv,
    ".html": _load_html,
    ".htm": _load_html,
    ".docx": _load_docx,
}
