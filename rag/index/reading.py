"""Reading a file for the store: its bytes, pages, derived context and chunks, before any
embedding.

Every chunk is prefixed by its document's identity header (file, title, subject, period,
section), so a passage keeps saying which document it comes from in the vector and the
lexical index alike. Reading never raises: a file that cannot be read carries its error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.config import Settings
from rag.errors import IngestError
from rag.guardrails.checks import ChunkCheck
from rag.index import registry
from rag.ingest import chunk_document, load_file, safe_filename
from rag.ingest.context import DocumentContext, derive_context, file_words
from rag.ingest.pdf_cues import pdf_cues
from rag.models.embeddings import count_tokens
from rag.types import ChunkDraft, LoadedDocument

log = logging.getLogger(__name__)

# A kept original is written as ``.<name>.partial`` and renamed to ``<name>``: file systems
# take 255 bytes a name, and 150 characters of a non-Latin script can be three times that.
NAME_BYTES = 200


def document_name(filename: str) -> str:
    """The name a file is stored under: ``safe_filename``'s, cut to ``NAME_BYTES`` of UTF-8
    (keeping its extension) so its kept original can be written under it."""
    name = safe_filename(filename)
    if len(name.encode("utf-8")) <= NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 8:
        stem, dot, ext = name, "", ""
    cut = stem.encode("utf-8")[: NAME_BYTES - len((dot + ext).encode("utf-8"))]
    return cut.decode("utf-8", "ignore").rstrip() + dot + ext  # no half character at the cut


def identity_header(context: DocumentContext, filename: str, section: str) -> str:
    """The line embedded (and indexed) before each chunk so it keeps its document's identity.

    It names the file, the document's title, subject and period, and the section, e.g.
    ``ACME 2023 Q2 10Q: Quarterly report · Acme Inc · quarterly period ended June 30, 2023
    (Q2 2023) | Results of Operations``.
    """
    label = context.label()
    words = file_words(filename)
    head = label if words.lower() in label.lower() else f"{words}: {label}"
    return f"{head} | {section}\n" if section and section != context.title else f"{head}\n"


def read_document(
    name: str, data: bytes, settings: Settings, corrections: dict[str, str] | None = None
) -> tuple[LoadedDocument, DocumentContext, list[ChunkDraft]]:
    """Load a file, derive its context and cut it into chunks, as ingestion does."""
    doc = load_file(name, data, settings)
    if doc.kind == "pdf":
        for key, value in pdf_cues(data).items():
            doc.metadata.setdefault(key, value)
    context = derive_context(doc, corrections)
    drafts = chunk_document(
        doc,
        count_tokens,
        settings.chunk_tokens,
        header=lambda section: identity_header(context, name, section),
    )
    return doc, context, drafts


def check_drafts(settings: Settings, drafts: list[ChunkDraft]) -> list[ChunkCheck]:
    """Run the document guardrails on a file's chunks: personal data and planted instructions.

    With ``pii_redact_documents`` a chunk's text is replaced by its redacted text here, before
    anything is embedded or indexed (its page offsets still point at the original).
    """
    from rag.guardrails.guard import Guardrails  # loads the detectors' models on first use

    checks = Guardrails(settings).check_chunks([d.text for d in drafts])
    for i, check in enumerate(checks):
        if check.redacted_text is not None:
            drafts[i] = replace(drafts[i], text=check.redacted_text)
    return checks


@dataclass
class Prepared:
    """One file read and chunked, ready to be written as a version (or its reading error)."""

    name: str
    data: bytes
    digest: str
    upload_name: str = ""  # the name as given, before ``safe_filename``
    doc: LoadedDocument | None = None
    context: DocumentContext | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    error: IngestError | None = None
    seconds: float = 0.0
    corrections: dict[str, str] = field(default_factory=dict)
    checks: list[ChunkCheck] = field(default_factory=list)  # one per draft; empty: not checked


def prepare(
    settings: Settings,
    filename: str,
    source: bytes | Path,
    corrections: dict[str, str] | None = None,
) -> Prepared:
    """Read one file (bytes, or a path to read) and chunk it; a failure is kept, not raised."""
    started = time.perf_counter()
    name = document_name(filename)
    try:
        data = source if isinstance(source, bytes) else source.read_bytes()
    except OSError as exc:
        error = IngestError(name, f"the file cannot be read ({exc.strerror or exc}).")
        return Prepared(name, b"", "", error=error, seconds=time.perf_counter() - started)
    prepared = Prepared(
        name, data, registry.content_hash(data), str(filename), corrections=corrections or {}
    )
    try:
        prepared.doc, prepared.context, prepared.drafts = read_document(
            name, data, settings, corrections
        )
        if not prepared.drafts:
            raise IngestError(name, "no text could be extracted, so there is nothing to search.")
        prepared.checks = check_drafts(settings, prepared.drafts)
    except IngestError as exc:
        prepared.error = exc
    except Exception as exc:  # a parser bug must cost this file only, never the batch
        log.exception("reading %s failed", name)
        prepared.error = IngestError(
            name,
            f"it could not be read ({type(exc).__name__}: {str(exc)[:200]}). The file may be "
            "damaged: open and save it again, or export it as PDF, then upload it again.",
        )
    prepared.seconds = time.perf_counter() - started
    return prepared
