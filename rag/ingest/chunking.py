"""Split loaded pages into chunks that fit the embedder, following the document's structure.

Pages split on headings first (:mod:`rag.ingest.headings` finds them), then paragraphs, lines,
sentences, and finally halves (at a space, else mid-word) of anything still too long.
Neighbouring small pieces merge up to ~90% of the token budget. Each chunk records the heading
path it sits under, never crosses a page, and is an exact slice of its page
(``page.text[start:end] == text``). ``count_tokens`` is called about once per piece plus once
per chunk, never on growing concatenations.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.ingest.headings import (
    FENCE,
    LEAF,
    MARKDOWN_HEADINGS,
    MD_HEADING,
    follows,
    heading_title,
    norm_line,
    pdf_heading,
    running_lines,
)
from rag.types import ChunkDraft, LoadedDocument, PageText

_FILL = 0.9  # merge pieces up to this share of max_tokens, leaving slack for tokenizer joins
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_LINE_END = re.compile(r"\n+")


@dataclass
class _Piece:
    start: int
    end: int
    tokens: int
    level: int  # 0 paragraph, 1 line, 2 sentence, 3 word halves, 4 character halves
    heading: bool = False


def chunk_document(
    doc: LoadedDocument,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    header: Callable[[str], str] | None = None,
) -> list[ChunkDraft]:
    """Split a document into chunks whose ``count_tokens(header(section) + text) <= max_tokens``.

    Args:
        doc: the loaded document.
        count_tokens: the embedder's token counter.
        max_tokens: hard ceiling per chunk, header included.
        header: what the caller prepends to each chunk before embedding (document identity
            and section); the budget leaves room for it.
    """
    chunker = _Chunker(count_tokens, max_tokens, header, doc.kind, running_lines(doc))
    chunks: list[ChunkDraft] = []
    for page in doc.pages:
        chunks.extend(chunker.page(page))
    return chunks


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans, pos = [], start
    for match in pattern.finditer(text, start, end):
        spans.append(_trim(text, pos, match.start()))
        pos = match.end()
    spans.append(_trim(text, pos, end))
    return [(a, b) for a, b in spans if b > a]


def _halve(text: str, start: int, end: int, at_space: bool) -> list[tuple[int, int]]:
    middle = (start + end) // 2
    if at_space:
        left = max(text.rfind(" ", start, middle), text.rfind("\n", start, middle))
        right = min(
            (i for i in (text.find(" ", middle, end), text.find("\n", middle, end)) if i >= 0),
            default=-1,
        )
        options = [i for i in (left, right) if i > start]
        if not options:
            return []
        middle = min(options, key=lambda i: abs(i - (start + end) // 2))
    spans = [_trim(text, start, middle), _trim(text, middle, end)]
    return [(a, b) for a, b in spans if b > a]


def _halves(text: str, start: int, end: int, at_space: bool, parts: int) -> list[tuple[int, int]]:
    """Halve a span, and its halves again, until there are at least ``parts`` spans.

    Cutting a span many times the budget into about as many parts before counting tokens
    keeps the work near-linear: halving once per count would tokenize it once per level.
    """
    spans = _halve(text, start, end, at_space)
    while len(spans) > 1 and len(spans) < parts:
        finer = [half for a, b in spans for half in (_halve(text, a, b, at_space) or [(a, b)])]
        if len(finer) == len(spans):
            break
        spans = finer
    return spans


def _children(
    text: str, start: int, end: int, level: int, parts: int = 2
) -> tuple[list[tuple[int, int]], int]:
    """Split a span at the next finer level that actually divides it (halves: ``parts``)."""
    for finer in range(level if level >= 3 else level + 1, 5):  # halving can repeat
        if finer == 1:
            spans = _split(text, start, end, _LINE_END)
        elif finer == 2:
            spans = _split(text, start, end, _SENTENCE_END)
        else:
            spans = _halves(text, start, end, finer == 3, parts)
        if len(spans) > 1:
            return spans, finer
    return [], 4


class _Chunker:
    """Carries the section path across pages and cuts each page into chunks."""

    def __init__(self, count_tokens, max_tokens, header, kind, running):
        self.count = count_tokens
        self.max_tokens = max_tokens
        self.header = header or (lambda section: "")
        self.kind = kind
        self.running = running
        self.overhead = count_tokens("")  # special tokens every call adds ([CLS], [SEP], ...)
        self.stack: list[tuple[int, str]] = []
        self.section = ""
        self.numbers: tuple[int, ...] | None = None  # last accepted PDF section number
        self.dotted = False
        self._header_tokens: dict[str, int] = {}

    def _enter(self, level: int, title: str) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))
        section = " > ".join(t for _, t in self.stack[-3:])
        if self._head(section) * 2 > self.max_tokens:  # a header must leave room for text
            section = title[:60]
            if self._head(section) * 2 > self.max_tokens:
                section = ""
        self.section = section

    def _head(self, section: str) -> int:
        if section not in self._header_tokens:
            self._header_tokens[section] = self.count(self.header(section))
        return self._header_tokens[section]

    def _room(self) -> int:
        """Return how many text tokens (specials excluded) fit under the fill target."""
        room = int(self.max_tokens * _FILL) - self._head(self.section)
        if self.max_tokens - self._head(self.section) < 1:
            raise ValueError(f"header({self.section!r}) alone exceeds {self.max_tokens} tokens")
        return max(1, room)

    def _blocks(self, text: str) -> Iterator[tuple[int, int, tuple[int, str] | None]]:
        """Yield paragraphs ``(start, end, None)`` and headings ``(start, end, (level, title))``."""
        para: list[int] = []
        in_fence, previous = False, ""
        pos = 0
        for line in text.split("\n"):
            start, end = _trim(text, pos, pos + len(line))
            pos += len(line) + 1
            stripped = text[start:end]
            heading = None
            if stripped and self.kind in MARKDOWN_HEADINGS:
                if FENCE.match(stripped):
                    in_fence = not in_fence
                elif not in_fence and (match := MD_HEADING.fullmatch(stripped)):
                    title = heading_title(match.group(2))
                    heading = (len(match.group(1)), title) if title else None
            elif stripped and self.kind == "pdf":
                heading = pdf_heading(stripped, previous, self.running)
                if heading and heading[0] < 0:
                    heading = self._numbered(stripped, heading)
            if stripped and not (norm_line(stripped) in self.running or stripped.isdigit()):
                previous = "." if heading else stripped  # a heading ends a sentence too
            if (not stripped or heading) and para:
                yield para[0], para[1], None
                para = []
            if heading:
                yield start, end, heading
            elif stripped:
                para = [para[0] if para else start, end]
        if para:
            yield para[0], para[1], None

    def _numbered(self, line: str, heading: tuple[int, str]) -> tuple[int, str] | None:
        """Keep a numbered PDF heading only if it continues the document's numbering."""
        label = line.split()[0]
        numbers = tuple(int(n) for n in label.strip(".").split("."))
        dotted = label.endswith(".")  # "1 Intro" vs "1. Item": a document sticks to one style
        restyled = self.numbers is not None and dotted != self.dotted
        if restyled or not follows(numbers, self.numbers):
            return None
        self.numbers, self.dotted = numbers, dotted
        while (
            self.stack
            and self.stack[-1][0] != LEAF
            and not line.startswith(self.stack[-1][1].split()[0].rstrip(".") + ".")
        ):
            self.stack.pop()  # leave sections whose number is not a prefix of this one
        return -heading[0], heading[1]

    def _pieces(self, text: str, start: int, end: int, level: int) -> list[_Piece]:
        tokens = self.count(text[start:end])
        room = self._room()
        if tokens - self.overhead <= room:
            return [_Piece(start, end, tokens, level)]
        spans, child_level = _children(text, start, end, level, (tokens - self.overhead) // room)
        if not spans:
            return [_Piece(start, end, tokens, 4)]
        return [p for a, b in spans for p in self._pieces(text, a, b, child_level)]

    def page(self, page: PageText) -> list[ChunkDraft]:
        """Cut one page into chunks, updating the section path as headings go by."""
        text, out = page.text, []
        current: list[_Piece] = []
        used = 0  # text tokens in ``current``, kept as it grows (summing each time is quadratic)
        for start, end, heading in self._blocks(text):
            if heading:
                if any(not p.heading for p in current):
                    self._flush(text, current, out, page.number)
                    used = 0
                self._enter(*heading)
                tokens = self.count(text[start:end])
                if tokens - self.overhead > self._room():  # a "heading" longer than a chunk
                    pieces = self._pieces(text, start, end, 0)
                else:
                    pieces = [_Piece(start, end, tokens, 0, heading=True)]
            else:
                pieces = self._pieces(text, start, end, 0)
            queue = deque(pieces)
            while queue:
                piece = queue.popleft()
                if current and used + piece.tokens - self.overhead > self._room():
                    spans, level = _children(text, piece.start, piece.end, piece.level)
                    if spans and all(p.heading for p in current):
                        # a heading alone says little: split the text so some of it joins it
                        queue.extendleft(
                            _Piece(a, b, self.count(text[a:b]), level) for a, b in reversed(spans)
                        )
                        continue
                    self._flush(text, current, out, page.number)
                    used = 0
                current.append(piece)
                used += piece.tokens - self.overhead
        if current and (any(not p.heading for p in current) or not out):
            self._flush(text, current, out, page.number)
        return out

    def _window(self, queue: deque[_Piece]) -> int:
        """How many pieces to try joining first: all that might fit, by their own counts.

        Counting a span far past the limit is wasted work and, repeated once per chunk over an
        oversized piece (a 200 KB heading), quadratic. The slack keeps every piece that could
        fit once joins are counted.
        """
        n, tokens = 0, 0
        for piece in queue:
            tokens += piece.tokens - self.overhead
            if n and tokens > 2 * self.max_tokens:
                break
            n += 1
        return n

    def _flush(self, text: str, current: list[_Piece], out: list[ChunkDraft], page: int) -> None:
        """Emit ``current`` as chunks, each checked against the real limit; empty the list."""
        queue = deque(current)
        current.clear()
        prefix = self.header(self.section)
        while queue:
            n = self._window(queue)
            while True:
                start, end = queue[0].start, queue[n - 1].end
                if self.count(prefix + text[start:end]) <= self.max_tokens:
                    break
                if n > 1:
                    n -= 1
                    continue
                first = queue.popleft()  # one piece too long once joined to the header
                spans, level = _children(text, first.start, first.end, first.level)
                if not spans:
                    raise ValueError(f"cannot fit {text[start:end]!r} under {self.max_tokens}")
                for a, b in reversed(spans):
                    queue.appendleft(_Piece(a, b, self.count(text[a:b]), level))
                n = self._window(queue)
            out.append(ChunkDraft(text[start:end], page, self.section, start, end))
            for _ in range(n):
                queue.popleft()
