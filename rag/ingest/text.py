"""Text helpers shared by the loaders: decoding bytes, normalising whitespace, limit messages."""

from __future__ import annotations

import re
import unicodedata

from rag.errors import IngestError

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WESTERN_PUNCTUATION = set("“”‘’—–€…•·°±×÷§©®™«»¡¿£¥¢\u00a0")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def too_many_pages(pages: int, limit: int) -> str:
    """Say that a document is over the page limit and what to do about it."""
    return (
        f"the document has {pages} pages, over the {limit}-page limit (max_pages, "
        "GROUNDWORK_MAX_PAGES). Split it into smaller files or ask an administrator to raise it."
    )


def clean_text(text: str) -> str:
    """Normalise line ends, drop control characters and squeeze runs of spaces and blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _CONTROL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _looks_western(text: str) -> bool:
    """Tell whether cp1252-decoded text reads as Western European: mostly ASCII, Latin accents."""
    foreign = [c for c in text if ord(c) > 127]
    if not foreign:
        return True
    plausible = sum(
        (c.isalpha() and "LATIN" in unicodedata.name(c, "")) or c in _WESTERN_PUNCTUATION
        for c in foreign
    )
    letters = sum(c.isalpha() for c in text) or 1
    return plausible >= 0.9 * len(foreign) and sum(c.isalpha() for c in foreign) <= 0.5 * letters


def decode_text(name: str, data: bytes) -> str:
    """Decode bytes in whatever common encoding they use (BOMs, UTF-8, UTF-16, cp1252...)."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                break  # a lying BOM: let detection decide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and _looks_western(western):
        return western  # detection guesses wildly on short Western text (Käse -> big5)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError(
            name,
            "this does not look like text in any known encoding (is it a binary file with a "
            "text extension?). Save it as UTF-8 text and upload it again.",
        )
    return str(best)


_GENERIC_TITLES = {"title", "document", "word document", "slide 1", "pdf", "presentation"}


def sensible_title(raw: object) -> str | None:
    """Return a metadata title worth showing, or None for tool defaults and file names."""
    title = re.sub(r"^Microsoft (Word|PowerPoint|Excel) - ", "", " ".join(str(raw or "").split()))
    if not 3 <= len(title) <= 200 or title.lower().startswith("untitled"):
        return None
    if re.search(r"\.(pdf|docx?|pptx?|xlsx?|rtf|txt|tex|dvi|indd|qxd)$", title, re.I):
        return None
    return None if title.lower() in _GENERIC_TITLES else title
