"""Markdown rendering of checked answers and passages for the chat page.

``render_answer`` lays out a :class:`~rag.answer.verdict.Verification` as Markdown: supported
sentences with their (corrected) citations, unsupported ones flagged behind ``UNVERIFIED`` or
removed. ``highlight`` shows a passage with its evidence sentence(s) marked, and quoted table
rows (``label | header: value | ...`` lines written by the PDF loader) as a table first
(``table_markdown``).

Untrusted text (documents, model output, other users' questions and comments) reaches Markdown
only through ``escape_markdown``, ``escape_line`` (labels, one-line fields) or, for answers
already stored as Markdown, ``inert_markdown``: no image, link, HTML or directive in it renders
live; only the app's own citation markers and formatting do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.ingest.table_rows import parse_row
from rag.text.markup import escape_markdown, escape_sentence, strip_markup
from rag.text.sentences import split_sentences, strip_citations

if TYPE_CHECKING:
    from rag.answer.verdict import Verification

UNVERIFIED = "⚠️ *unverified:*"


def _join(parts: list[tuple[str, str]]) -> str:
    """Lay out (lead, markdown) pieces as paragraphs, list items and running text."""
    out = ""
    prev = ""
    for lead, md in parts:
        if not out:
            out = (f"{lead} " if lead in ("-", "1.") else "") + md
        elif lead in ("-", "1."):
            out += ("\n" if prev in ("-", "1.") else "\n\n") + f"{lead} {md}"
        elif lead == "paragraph":
            out += "\n\n" + md
        else:
            out += " " + md
        prev = lead or prev
    return out


def render_answer(v: Verification, mode: str = "flag") -> str:
    """Render the checked answer as Markdown.

    Supported sentences carry their (corrected) ``[n]`` citations. Unsupported ones are struck
    through behind a "⚠️ unverified" label (``mode="flag"``) or dropped with a closing note
    (``mode="remove"``). Exempt sentences are kept, without their emphasis. The model's words
    are escaped: only the verified ``[n]`` markers and the app's own formatting are live.
    """
    if mode not in ("flag", "remove"):
        raise ValueError(f"mode must be 'flag' or 'remove', not {mode!r}")
    parts: list[tuple[str, str]] = []
    removed = 0
    for s in v.sentences:
        if not s.is_claim:  # the model's own markers stay as text: only verified ones are live
            md = escape_sentence(strip_markup(s.text if s.cited else strip_citations(s.text)))
        elif s.supported:
            md = _with_citations(s.claim, s.cited or ([s.passage] if s.passage else []))
            if s.reason.startswith("computed from"):  # a value the passage does not state as is
                md += f" *(computed from [{s.passage}])*"
        elif mode == "remove":
            removed += 1
            continue
        else:
            md = f"{UNVERIFIED} ~~{escape_sentence(s.claim.replace('~', ''))}~~"
        parts.append((s.lead, md))
    text = _join(parts)
    if removed:
        noun = "sentence was" if removed == 1 else "sentences were"
        note = f"_{removed} {noun} removed: the documents do not support them._"
        text = f"{text}\n\n{note}" if text else note
    return text


def _with_citations(claim: str, cited: list[int]) -> str:
    if not cited:
        return escape_sentence(claim)
    markers = "".join(f"[{n}]" for n in cited)
    body, end = (claim[:-1], claim[-1]) if claim[-1:] in ".!?" else (claim, "")
    return f"{escape_markdown(body)} {markers}{end}"


def highlight(passage_text: str, evidence: str) -> str:
    """Markdown of ``passage_text`` (escaped) with the ``evidence`` sentence(s) highlighted.

    Uses Streamlit's ``:orange-background[...]``; brackets inside it become character
    references so the directive cannot be closed early by document text.
    """
    # Documents' own Markdown (headings, bold) would show as literal symbols once escaped.
    passage_text, evidence = strip_markup(passage_text), strip_markup(evidence)
    spans = []
    for sentence in split_sentences(evidence) if evidence.strip() else []:
        words = re.findall(r"\S+", sentence)
        pattern = r"\s+(?:[-*+•]\s+|\d{1,3}[.)]\s+)?".join(re.escape(w) for w in words)
        if words and (m := re.search(pattern, passage_text)):
            spans.append((m.start(), m.end()))
    spans = sorted(set(spans))
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(escape_markdown(passage_text[pos:start]))
        inner = escape_markdown(" ".join(passage_text[start:end].split()))
        inner = inner.replace("\\[", "&#91;").replace("\\]", "&#93;")
        out.append(f":orange-background[{inner}]")
        pos = end
    out.append(escape_markdown(passage_text[pos:]))
    # Keep the document's line structure (list items, short lines) as Markdown hard breaks.
    body = re.sub(r"[ \t]*\n", "  \n", "".join(out))
    table = table_markdown(quoted_rows(passage_text, evidence))
    return f"{table}\n\n{body}" if table else body


def render_quotes(picks: list[tuple[str, int]]) -> str:
    """Quoted passage sentences as Markdown: list items, and runs of table rows as a table.

    Every quote is escaped (document text never becomes a live link, image or markup); each
    item or table ends with its ``[n]`` citation.
    """
    blocks: list[str] = []
    items: list[str] = []
    i = 0
    while i < len(picks):
        sentence, n = picks[i]
        j = i
        while j < len(picks) and picks[j][1] == n and parse_row(picks[j][0]):
            j += 1
        table = table_markdown([s for s, _ in picks[i:j]]) if j > i else ""
        if table:
            if items:
                blocks.append("\n".join(items))
                items = []
            blocks.append(f"{table}\n\n[{n}]")
            i = j
            continue
        items.append(f"- {escape_markdown(' '.join(sentence.split()))} [{n}]")
        i += 1
    if items:
        blocks.append("\n".join(items))
    return "\n\n".join(blocks)


def quoted_rows(passage_text: str, evidence: str) -> list[str]:
    """The table rows of ``passage_text`` that ``evidence`` consists of (else an empty list).

    Evidence may join adjacent rows with a space (a sentence pair); it counts as rows only
    when nothing but those rows is left of it.
    """
    quoted = " ".join(evidence.split())
    rows = [
        " ".join(line.split())
        for line in passage_text.split("\n")
        if line.strip() and " ".join(line.split()) in quoted and parse_row(line)
    ]
    rest = quoted
    for row in rows:
        rest = rest.replace(row, " ")
    return rows if rows and not rest.strip() else []


def table_markdown(rows: list[str]) -> str:
    """Render labelled rows (``label | header: value | ...``) as a Markdown table.

    The header row holds the column labels in order of appearance; every cell is escaped
    (pipes included), so document text cannot add links, images or markup. Returns "" when a
    line is not a labelled row.
    """
    parsed = [parse_row(row) for row in rows]
    if not parsed or any(p is None for p in parsed):
        return ""
    columns: list[str] = []
    table: list[tuple[str, dict[str, str]]] = []
    for label, cells in parsed:  # type: ignore[misc]
        values: dict[str, str] = {}
        for i, (header, value) in enumerate(cells):
            key = header or f"\x00{i}"  # a value without a header keeps its position
            values[key] = value
            if key not in columns:
                columns.append(key)
        table.append((label, values))

    def cell(text: str) -> str:
        return escape_markdown(" ".join(text.split())) or " "

    heads = [cell("" if key.startswith("\x00") else key) for key in columns]
    lines = ["| " + " | ".join([" ", *heads]) + " |", "|" + " --- |" + " ---: |" * len(columns)]
    for label, values in table:
        lines.append(
            "| " + " | ".join([cell(label), *(cell(values.get(k, "")) for k in columns)]) + " |"
        )
    return "\n".join(lines)
