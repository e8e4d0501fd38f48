"""Headings: which lines of a page open a section, and the title each gives the section.

Markdown-like text (Markdown, HTML and DOCX, whose loaders write ``#`` headings) says so with
``#``. A PDF's text layer does not: a line is taken for a heading when it is short and
title-like, follows a finished sentence, and is not a running header or footer; a numbered
one must also continue the document's numbering (``1.4.2`` then ``1.5``). The chunker
(:mod:`rag.ingest.chunking`) keeps the section path these build.
"""

from __future__ import annotations

import re
from collections import Counter

from rag.types import LoadedDocument

MARKDOWN_HEADINGS = {"markdown", "html", "docx"}  # kinds whose loaders write '# ' headings
MD_HEADING = re.compile(r"(#{1,6})\s+(\S.*)")  # closing hashes: see heading_title
FENCE = re.compile(r"(```|~~~)")
LEAF = 9  # level of unnumbered PDF headings: below any numbered one
_NUMBERED = re.compile(r"((?:\d{1,2}\.){0,4}\d{1,2})\.?\s+([A-Z][^.]*)")
_NAMED = re.compile(r"(?:chapter|appendix|part)\s+[0-9A-Z]{1,4}\b[.:]?\s*.*", re.I)
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the",
                "to", "vs", "with", "without", "into", "via"}  # fmt: skip
_CODE_CHARS = re.compile(r"[=(){}\[\]<>$_/\\;‘’'\"`+*#@|~]")  # code, not a title


def norm_line(line: str) -> str:
    """Return a line without digits and spacing, lowercased: page furniture compares equal."""
    return re.sub(r"[\d\s]+", " ", line).strip().lower()


def running_lines(doc: LoadedDocument) -> set[str]:
    """Return PDF lines repeated at page edges (running headers and footers)."""
    if doc.kind != "pdf" or len(doc.pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for page in doc.pages:
        lines = [line for line in page.text.split("\n") if line.strip()]
        seen.update({norm_line(line) for line in lines[:2] + lines[-2:]})
    return {line for line, n in seen.items() if n >= 3 and line}


def heading_title(raw: str) -> str:
    """Return a Markdown heading's text as a title: no closing hashes, links or emphasis."""
    bare = raw.rstrip("#")  # "Title ##" closes with hashes; "C#" does not
    if bare != raw and bare[-1:].isspace():
        raw = bare.rstrip()
    # no bracket inside the text nor parenthesis inside the link: each scan stops at the next
    title = re.sub(r"\[([^\[\]]*)\]\([^()]*\)", r"\1", raw)  # [text](link) -> text
    title = re.sub(r"\s*\{[#.][^}]*\}\s*$", "", title)  # kramdown {#id .class}
    return " ".join(title.replace("**", "").replace("`", "").split()).strip("*_ ")


def pdf_heading(line: str, previous: str, running: set[str]) -> tuple[int, str] | None:
    """Guess whether a PDF line is a heading: short, title-like, not a running header.

    Numbered headings come back with a negative level (``-depth``) so the caller can check
    that their numbers follow the previous ones.
    """
    if not 3 <= len(line) <= 80 or line[-1] in ".,;:-" or re.search(r"(\.\s?){3}|\s\d+$", line):
        return None
    if not re.search(r"[A-Za-z]{3}", line) or norm_line(line) in running:
        return None
    if previous and previous[-1] not in ".!?":
        return None  # headings follow a finished sentence, another heading, or the page top
    if match := _NUMBERED.fullmatch(line):
        return -(match.group(1).count(".") + 1), line
    if _NAMED.fullmatch(line):
        return 1, line
    words = line.split()
    if not 2 <= len(words) <= 8 or _CODE_CHARS.search(line):
        return None  # one-word lines are too often labels, figure text or code
    title_case = all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words if w[0].isalpha())
    return (LEAF, line) if title_case and words[0][0].isupper() else None


def follows(numbers: tuple[int, ...], last: tuple[int, ...] | None) -> bool:
    """Tell whether section number ``numbers`` can come next after ``last`` (1.4.2 -> 1.5)."""
    if last is None:
        return True
    k = next((i for i, (a, b) in enumerate(zip(numbers, last, strict=False)) if a != b), None)
    if k is None:  # one is a prefix of the other: only going deeper, by small steps, is next
        return len(numbers) > len(last) and all(n <= 2 for n in numbers[len(last) :])
    return 0 < numbers[k] - last[k] <= 2 and all(n <= 2 for n in numbers[k + 1 :])
