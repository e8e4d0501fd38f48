"""The report of one file's ingestion: what happened to it and what was read from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.types import LoadedDocument


@dataclass
class IngestReport:
    """What happened to one file."""

    filename: str
    status: str  # ingested | updated | unchanged | duplicate | superseded | conflict | failed
    doc_id: str = ""
    version: int = 0
    kind: str = ""
    pages: int = 0
    chars_per_page: list[int] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    empty_pages: list[int] = field(default_factory=list)
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the file is in the store (new, updated or already there)."""
        return self.status not in ("failed", "skipped", "conflict")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def report_for(doc: LoadedDocument, name: str) -> IngestReport:
    """A report of what was read from a loaded file: pages, OCR, empty pages, warnings."""
    chars = [len(p.text) for p in doc.pages]
    return IngestReport(
        filename=name,
        status="ingested",
        kind=doc.kind,
        pages=len(doc.pages),
        chars_per_page=chars,
        ocr_pages=[p.number for p in doc.pages if p.ocr],
        empty_pages=[p.number for p in doc.pages if not p.text.strip()],
        warnings=list(doc.warnings),
    )
