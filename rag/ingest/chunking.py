"""Split loaded pages into chunks that fit the embedder, following the document's structure.

Pages split on headings first, then paragraphs, lines, sentences, and finally halves (at a
space, else mid-word) of anything still too long. Neighbouring small pieces merge up to ~90% of
the token budget. Each chunk records the heading path it sits under, never crosses a page, and
is an exact slice of its page (``page.text[start:end] == text``). ``count_tokens`` is called
about once per piece plus once per chunk, never on growing concatenations.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.types import ChunkDraft, LoadedDocument, PageText

_FILL = 0.9  # merge pieces up to this share of max_tokens, leaving slack for tokenizer joins
_MARKDOWN_HEADINGS = {"markdown", "html", "docx"}  # kinds whose loaders write '# ' headings
_MD_HEADING = re.compile(r"(#{1,6})\s+(\S.*)")  # closing hashes: see _heading_title
_FENCE = re.compile(r"(```|~~~)")
_NUMBERED = re.compile(r"((?:\d{1,2}\.){0,4}\d{1,2})\.?\s+([A-Z][^.]*)")
_NAMED = re.compile(r"(?:chapter|appendix|part)\s+[0-9A-Z]{1,4}\b[.:]?\s*.*", re.I)
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the",
                "to", "vs", "with", "without", "into", "via"}  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_LINE_END = re.compile(r"\n+")
_LEAF = 9  # level of unnumbered PDF headings: below any numbered one
_CODE_CHARS = re.compile(r"[=(){}\[\]<>$_/\\;‘’'\"`+*#@|~]")  # code, not a title


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
    chunker = _Chunker(count_tokens, max_tokens, header, doc.kind, _running_lines(doc))
    chunks: list[ChunkDraft] = []
    for page in doc.pages:
        chunks.extend(chunker.page(page))
    return chunks


def _norm(line: str) -> str:
    return re.sub(r"[\d\s]+", " ", line).strip().lower()


def _running_lines(doc: LoadedDocument) -> set[str]:
    """Return PDF lines repeated at page edges (running headers and footers)."""
    if doc.kind != "pdf" or len(doc.pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for page in doc.pages:
        lines = [line for line in page.text.split("\n") if line.strip()]
        seen.update({_norm(line) for line in lines[:2] + lines[-2:]})
    return {line for line, n in seen.items() if n >= 3 and line}


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


def _heading_title(raw: str) -> str:
    bare = raw.rstrip("#")  # "Title ##" closes with hashes; "C#" does not
    if bare != raw and bare[-1:].isspace():
        raw = bare.rstrip()
    # no bracket inside the text nor parenthesis inside the link: each scan stops at the next
    title = re.sub(r"\[([^\[\]]*)\]\([^()]*\)", r"\1", raw)  # [text](link) -> text
    title = re.sub(r"\s*\{[#.][^}]*\}\s*$", "", title)  # kramdown {#id .class}
    return " ".join(title.replace("**", "").replace("`", "").split()).strip("*_ ")


def _pdf_heading(line: str, previous: str, running: set[str]) -> tuple[int, str] | None:
    """Guess whether a PDF line is a heading: short, title-like, not a running header.

    Numbered headings come back with a negative level (``-depth``) so the caller can check
    that their numbers follow the previous ones.
    """
    if not 3 <= len(line) <= 80 or line[-1] in ".,;:-" or re.search(r"(\.\s?){3}|\s\d+$", line):
        return None
    if not re.search(r"[A-Za-z]{3}", line) or _norm(line) in running:
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
    return (_LEAF, line) if title_case and words[0][0].isupper() else None


def _follows(numbers: tuple[int, ...], last: tuple[int, ...] | None) -> bool:
    """Tell whether section number ``numbers`` can come next after ``last`` (1.4.2 -> 1.5)."""
    if last is None:
        return True
    k = next((i for i, (a, b) in enumerate(zip(numbers, last, strict=False)) if a != b), None)
    if k is None:  # one is a prefix of the other: only going deeper, by small steps, is next
        return len(numbers) > len(last) and all(n <= 2 for n in numbers[len(last) :])
    return 0 < numbers[k] - last[k] <= 2 and all(n <= 2 for n in numbers[k + 1 :])


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
            if stripped and self.kind in _MARKDOWN_HEADINGS:
                if _FENCE.match(stripped):
                    in_fence = not in_fence
                elif not in_fence and (match := _MD_HEADING.fullmatch(stripped)):
                    title = _heading_title(match.group(2))
                    heading = (len(match.group(1)), title) if title else None
            elif stripped and self.kind == "pdf":
                heading = _pdf_heading(stripped, previous, self.running)
                if heading and heading[0] < 0:
                    heading = self._numbered(stripped, heading)
            if stripped and not (_norm(stripped) in self.running or stripped.isdigit()):
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
        if restyled or not _follows(numbers, self.numbers):
            return None
        self.numbers, self.dotted = numbers, dotted
        while (
            self.stack
            and self.stack[-1][0] != _LEAF
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
