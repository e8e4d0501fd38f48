"""Markdown safety: untrusted text rendered as text, and markup stripped for comparison.

Untrusted text (documents, model output, other users' questions and comments) reaches Markdown
only through :func:`escape_markdown`, :func:`escape_line` (labels, one-line fields) or, for
answers already stored as Markdown, :func:`inert_markdown`: no image, link, HTML or directive in
it renders live.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")
# GFM turns bare URLs in text into links after escapes are resolved, so escaping cannot stop
# it; an invisible word joiner before "http" and "www." does. (E-mail addresses still become
# mailto links: they fetch nothing, and golden sets look for addresses as written.)
_AUTOLINK = re.compile(r"(?i)(?=https?:|www\.)")
_WORD_JOINER = "\u2060"


def escape_sentence(text: str) -> str:
    """Escape a model-written sentence, keeping its closing ``.!?:`` as written.

    Closing punctuation cannot begin Markdown syntax, except a whole sentence such as "1."
    (a list item), which is escaped like the rest.
    """
    body = text.rstrip(".!?:")
    if not body.strip() or body.strip().isdigit():
        return escape_markdown(text)
    return escape_markdown(body) + text[len(body) :]


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown (and Streamlit directive/LaTeX) syntax in untrusted text.

    Every character that can start a link, image, HTML tag, autolink, directive, formula or
    emphasis is escaped, and an (invisible) word joiner goes before bare URLs, so the text
    renders exactly as written and no URL in it becomes a link.
    """
    return _MD_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(_WORD_JOINER, text))


def escape_line(text: str, limit: int | None = None) -> str:
    """Escape one line of untrusted text for a label, caption or quote.

    Whitespace runs (line breaks included) become one space; text longer than ``limit``
    characters is cut with "…".
    """
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return escape_markdown(line)


_LIVE = re.compile(r"\\.|[!()<>:]", re.S)
_STORED_AUTOLINK = re.compile(r"(?i)(?=https?(?:\\)?:|www(?:\\)?\.)")


def inert_markdown(md: str) -> str:
    """Markdown the app stored earlier (a shown answer), with images, links and HTML made inert.

    Every unescaped ``! ( ) < > :`` is escaped and bare URLs get a word joiner: no image,
    inline or reference link, autolink, HTML tag or directive can form, while lists, tables,
    emphasis, strike-through and ``[n]`` markers keep their layout. For answers saved before
    their text was escaped.
    """
    md = _STORED_AUTOLINK.sub(_WORD_JOINER, md.replace(_WORD_JOINER, ""))
    return _LIVE.sub(lambda m: m[0] if m[0][0] == "\\" else "\\" + m[0], md)


_MARKUP = re.compile(r"\*\*|__|`+|^#{1,6}[ \t]+", re.MULTILINE)


def strip_markup(text: str) -> str:
    """Drop Markdown emphasis, code ticks and heading marks, keeping the words."""
    return _MARKUP.sub("", text)


_DELIMITER = re.compile(r"<\s*(/?)\s*(passage|conversation)\b[^>]*>?", re.IGNORECASE)


def defuse_delimiters(text: str) -> str:
    """Make look-alikes of the prompt's quoting tags inert inside quoted text.

    Passages and conversations are quoted to the model between ``<passage>`` and
    ``<conversation>`` tags; a document that writes ``</passage>`` itself must not be able to
    close the quote early and speak outside it. The tag is kept readable as ``‹/passage›``.
    """
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}›", text)
