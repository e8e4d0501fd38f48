"""Plain data shared across the pipeline: pages, chunks, passages, citations and answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PageText:
    """The text of one page (1-based ``number``) as a loader extracted it."""

    number: int
    text: str
    ocr: bool = False


@dataclass
class LoadedDocument:
    """A file turned into pages of text, before chunking."""

    filename: str
    kind: str  # pdf, markdown, text, docx, html, csv
    pages: list[PageText]
    metadata: dict[str, Any] = field(default_factory=dict)  # title, front matter, ...
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """A human title: front-matter or PDF title, else the file name."""
        return str(self.metadata.get("title") or self.filename)


@dataclass(frozen=True)
class ChunkDraft:
    """A piece of one page, with offsets into that page's text (``text == page[start:end]``)."""

    text: str
    page: int
    section: str
    start: int
    end: int


@dataclass
class Passage:
    """A retrieved chunk with its scores."""

    chunk_id: str
    doc_id: str
    source: str
    page: int
    section: str
    text: str
    start: int = 0
    end: int = 0
    score: float = 0.0  # fused score used for ranking
    vector_score: float | None = None  # cosine similarity to the query
    lexical_rank: int | None = None
    vector_rank: int | None = None
    context: str = ""  # the document's title · subject · period, for citations

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


@dataclass
class Citation:
    """An answer's [n] reference to one passage."""

    number: int
    passage: Passage
    quote: str = ""  # the passage sentence that best supports the answer
