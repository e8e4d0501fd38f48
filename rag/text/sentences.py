"""Sentences: splitting text into sentences and list items, and ``[n]`` citation markers.

Pure Python (no nltk), deterministic and model-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.words import wordlist

# --- splitting ------------------------------------------------------------------------------

# Words that end with a period without ending the sentence (lowercased, without the dot).
ABBREVIATIONS = frozenset(
    wordlist(
        "e.g i.e etc vs cf al approx ca dept est fig figs inc ltd co corp jr sr st mr mrs ms "
        "dr prof rev gen gov sen rep no nos vol vols pp p para sec ch art op ed eds u.s u.k u.n "
        "a.m p.m "
        "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri "
        "sat sun min max avg incl excl approx dist govt assn bros mt ft"
    )
)
# After these a capitalised word usually starts a new sentence ("... and so on, etc. Next").
_ENDING_ABBREVIATIONS = frozenset({"etc", "al"})

CITATION = r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"
_CITATION_RE = re.compile(CITATION)
_CITATION_RUN = rf"(?:\s*{CITATION})*"
# A sentence end: terminal punctuation, closing quotes/brackets, then any citation markers.
_END_RE = re.compile(rf"[.!?…]+[\"'”’)]*{_CITATION_RUN}(?=\s|$)")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+•‣◦]|\d{1,3}[.)]|[a-z][.)](?=\s))\s+")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{3,}")


@dataclass(frozen=True)
class Segment:
    """One sentence and how it sat in its text: ``lead`` is "" (same paragraph),
    "paragraph" (starts a block) or the list marker that introduced it ("-", "1.")."""

    text: str
    lead: str = ""


def split_sentences(text: str) -> list[str]:
    """Split English prose or Markdown into sentences.

    Boundaries: terminal punctuation followed by a space (not after an abbreviation such as
    "e.g." or "Dr.", not before a lowercase word), blank lines, list items, headings, and line
    breaks after a line that ends a sentence or a label (":"). Lines hard-wrapped mid-sentence
    are joined. Citation markers after the punctuation ("... 25 days. [1]") stay with the
    sentence they follow. List markers and heading hashes are not part of the sentence.
    """
    return [s.text for s in segments(text)]


def segments(text: str) -> list[Segment]:
    """Split like :func:`split_sentences`, keeping each sentence's layout lead."""
    out: list[Segment] = []
    for block, lead in _blocks(text):
        for i, sentence in enumerate(_split_block(block)):
            out.append(Segment(sentence, lead if i == 0 else ""))
    return out


def _blocks(text: str) -> list[tuple[str, str]]:
    """Group lines into blocks (paragraphs, list items, headings) with their lead."""
    blocks: list[tuple[list[str], str]] = []
    open_block = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line or _TABLE_RULE_RE.match(line):
            open_block = False
            continue
        if m := _LIST_ITEM_RE.match(line):
            marker = m.group(0).strip()
            blocks.append(([line[m.end() :]], "1." if marker[0].isdigit() else "-"))
            open_block = True
        elif m := _HEADING_RE.match(line):
            blocks.append(([line[m.end() :]], "paragraph"))
            open_block = False  # a heading never continues onto the next line
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|") if c.strip()]
            blocks.append(([" — ".join(cells)], "paragraph"))
            open_block = False
        elif open_block and not _ends_line(blocks[-1][0][-1]):
            blocks[-1][0].append(line)  # hard-wrapped continuation
        else:
            blocks.append(([line], "paragraph" if blocks else ""))
            open_block = True
    return [(" ".join(lines), lead) for lines, lead in blocks]


def _ends_line(line: str) -> bool:
    stripped = _CITATION_RE.sub("", line).rstrip()
    return stripped.endswith((".", "!", "?", ":", ";", "…", '."', ".”"))


def _split_block(block: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for m in _END_RE.finditer(block):
        if _is_boundary(block, m):
            piece = block[start : m.end()].strip()
            if piece:
                sentences.append(piece)
            start = m.end()
    tail = block[start:].strip()
    if tail:
        if sentences and _CITATION_RE.fullmatch(tail.replace(" ", "")):
            sentences[-1] += " " + tail
        else:
            sentences.append(tail)
    return sentences


def _is_boundary(block: str, m: re.Match[str]) -> bool:
    rest = block[m.end() :].lstrip()
    if not rest:
        return True
    nxt = rest[0]
    if nxt.islower() or nxt in ",;:)":  # "e.g. a list", "approx. 3", "(see fig. 2)"
        return False
    punct = m.group(0)
    if not punct.startswith(".") or punct.startswith(".."):
        return True
    word = re.search(r"(\S+)$", block[: m.start()])
    if not word:
        return True
    token = word.group(1).lstrip("(\"'“‘[").lower()
    if token in ABBREVIATIONS:
        return token in _ENDING_ABBREVIATIONS and nxt.isupper()
    # Initials ("J. Smith") and dotted acronyms ("U.S.", "Ph.D.") never end a sentence.
    return not (re.fullmatch(r"[a-z]", token) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))


def strip_citations(text: str) -> str:
    """Remove ``[n]`` markers and tidy the spacing they leave."""
    text = _CITATION_RE.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def cited_numbers(text: str) -> list[int]:
    """Return the passage numbers cited as ``[1]``, ``[1, 3]`` or ``[2-4]``, in order, unique."""
    found: list[int] = []
    for marker in _CITATION_RE.findall(text):
        for a, b in re.findall(r"(\d+)(?:\s*[–-]\s*(\d+))?", marker):
            lo, hi = int(a), int(b or a)
            for n in range(lo, min(hi, lo + 20) + 1):
                if n not in found:
                    found.append(n)
    return found
