"""HTML to text: headings as ``#`` lines, blocks as paragraphs, table cells joined by ``|``.

The page is parsed by lxml (libxml2, through BeautifulSoup), which is linear on malformed input
where Python's ``html.parser`` rescans unclosed tags and comments, and caps nesting depth. The
text is then written in one walk over the tree, without editing it: inserting markers into a
deeply nested tree costs a walk of each subtree, quadratic on a page of 60,000 open ``<p>``.
"""

from __future__ import annotations

DROP = frozenset(
    ("script", "style", "nav", "noscript", "template", "svg", "iframe", "footer", "form")
)
BLOCKS = frozenset((
    "p", "div", "section", "article", "main", "header", "aside", "ul", "ol", "dl", "dt", "dd",
    "table", "tr", "pre", "blockquote", "figure", "figcaption", "li", "hr", "address",
))  # fmt: skip
HEADINGS = {f"h{level}": level for level in range(1, 7)}

_CLOSE = object()  # marks the end of a tag on the walk's stack


def html_text(data: bytes) -> tuple[str, str | None]:
    """Return a page's text (uncleaned) and its ``<title>``, if it has one."""
    from bs4 import BeautifulSoup

    # bytes, not str: BeautifulSoup honours the page's own <meta charset>
    soup = BeautifulSoup(data, "lxml")
    title = None
    if soup.title and (raw := soup.title.get_text(strip=True)):
        title = " ".join(raw.split())
    return _walk(soup.body or soup), title


def _walk(root) -> str:
    """Write the text under ``root``, iteratively (a hostile page may nest thousands deep)."""
    from bs4 import CData, NavigableString, Tag

    parts: list[str] = []
    heading = None  # the heading tag being read: its strings become one '#' line
    words: list[str] = []
    stack: list = [root]
    while stack:
        node = stack.pop()
        if node is _CLOSE:
            tag = stack.pop()
            if tag is heading:
                line = " ".join(" ".join(words).split())
                parts.append(f"\n\n{'#' * HEADINGS[tag.name]} {line}\n\n" if line else "")
                heading, words = None, []
            elif heading is not None:
                pass  # inside a heading only the words count
            elif tag.name in ("td", "th"):
                parts.append(" | ")
            elif tag.name in BLOCKS:
                parts.append("\n\n")
            continue
        if isinstance(node, NavigableString):
            if type(node) in (NavigableString, CData):  # not comments, doctypes, scripts
                (words if heading is not None else parts).append(str(node))
            continue
        if not isinstance(node, Tag) or node.name in DROP:
            continue
        if heading is None:
            if node.name == "br":
                parts.append("\n")
                continue
            if node.name in HEADINGS:
                heading = node
            elif node.name in BLOCKS:
                parts.append("\n\n- " if node.name == "li" else "\n\n")
        stack.append(node)
        stack.append(_CLOSE)
        stack.extend(reversed(node.contents))
    return "".join(parts)
