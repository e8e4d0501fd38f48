"""The report of one file's ingestion: what happened to it and what was read from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.guardrails.checks import ChunkCheck
from rag.guardrails.policy import counted
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
    chunks: int = 0  # passages stored (searchable)
    quarantined: int = 0  # passages held back as possible prompt injections
    pii: dict[str, int] = field(default_factory=dict)  # entity type -> how many found
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


def pii_counts(checks: list[ChunkCheck]) -> dict[str, int]:
    """Personal data found in a document's passages: entity type -> count, most found first."""
    totals: dict[str, int] = {}
    for check in checks:
        for kind, count in check.pii.items():
            totals[kind] = totals.get(kind, 0) + count
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def add_guardrail_findings(report: IngestReport, checks: list[ChunkCheck], redacted: bool) -> None:
    """Count held passages and personal data into ``report`` and warn about them in words."""
    report.quarantined = sum(check.quarantine for check in checks)
    report.pii = pii_counts(checks)
    if report.quarantined:
        n = report.quarantined
        report.warnings.append(
            f"{n} passage{'s look' if n != 1 else ' looks'} like instructions to the assistant "
            f"(possible prompt injection) and {'are' if n != 1 else 'is'} held back from answers "
            "until an admin releases "
            f"{'them' if n != 1 else 'it'} on the Documents page."
        )
    if report.pii:
        found = ", ".join(counted(kind, count) for kind, count in report.pii.items())
        handling = (
            "redacted before storing"
            if redacted
            else "kept as is; set GROUNDWORK_PII_REDACT_DOCUMENTS=true to redact personal data "
            "before documents are stored"
        )
        report.warnings.append(f"contains personal data: {found} ({handling}).")
