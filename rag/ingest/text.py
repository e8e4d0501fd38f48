"""Text helpers shared by the loaders: decoding bytes, normalising whitespace, limit messages.

Everything here runs on untrusted text, so it is linear in the input: delimiters are found with
``str.find`` and regexes have no nested or overlapping quantifiers (a 200 KB file of ``{%`` once
took minutes to clean).
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import IngestError

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WESTERN_PUNCTUATION = set("“”‘’—–€…•·°±×÷§©®™«»¡¿£¥¢\u00a0")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A unit of a symbol and up to 3 more symbols or spaces, repeated 8+ times ("-----", "{%{%{%",
# "# # # #", ". . . ."): kept as three. Each symbol is a token of its own, so a file of them
# would embed 4-8x the passages of prose. Table pipes are left alone (empty cells hold columns).
_REPEATED_SYMBOLS = re.compile(r"([^\w\s|][^\w|]{0,3}?)\1{7,}")


def too_many_pages(pages: int, limit: int) -> str:
    """Say that a document is over the page limit and what to do about it."""
    return (
        f"the document has {pages} pages, over the {limit}-page limit (max_pages, "
        "GROUNDWORK_MAX_PAGES). Split it into smaller files or ask an administrator to raise it."
    )


def clean_text(text: str) -> str:
    """Normalise line ends, drop control characters and squeeze runs of spaces, blank lines and
    repeated symbols."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _REPEATED_SYMBOLS.sub(r"\1\1\1", _CONTROL.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_TEMPLATE_DELIMITERS = (("{%", "%}"), ("{{", "}}"), ("{#", "#}"), ("<!--", "-->"))
# Link text holds no bracket, the target no parenthesis: each scan stops at the next one.
_EMPTY_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*\)")
_MD_H1 = re.compile(r"^#[ \t]+(\S.*)$", re.M)


def strip_template_tags(text: str) -> str:
    """Remove ``{% %}``, ``{{ }}``, ``{# #}`` tags and ``<!-- -->`` comments, in linear time.

    An opener with no closer after it is kept as text; once a closer is missing, no later opener
    of that kind can close either, so that kind is not searched for again.
    """
    out: list[str] = []
    pos = 0
    live = {opener: closer for opener, closer in _TEMPLATE_DELIMITERS}
    next_at = {opener: text.find(opener) for opener in live}
    while live:
        for opener in list(live):
            if 0 <= next_at[opener] < pos:
                next_at[opener] = text.find(opener, pos)
            if next_at[opener] < 0:
                del live[opener]
        if not live:
            break
        opener = min(live, key=next_at.__getitem__)
        start = next_at[opener]
        end = text.find(live[opener], start + len(opener))
        if end < 0:
            del live[opener]  # nothing after this opener closes it, nor any later one
            continue
        out.append(text[pos:start])
        pos = end + len(live[opener])
    out.append(text[pos:])
    return "".join(out)


def unwrap_empty_links(text: str) -> str:
    """Replace ``[text]()`` (a link whose target was a stripped template tag) by its text."""
    return _EMPTY_LINK.sub(r"\1", text)


def markdown_title(text: str) -> str | None:
    """Return the text of the first ``# Title`` line (closing hashes dropped), if any."""
    for match in _MD_H1.finditer(text):
        title = match.group(1).rstrip().rstrip("#").strip()
        if title:
            return title
    return None


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
