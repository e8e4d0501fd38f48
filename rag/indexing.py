"""Putting documents into the store and taking them out: versions, dedup, reports.

``ingest_file`` loads and chunks one file, writes its chunks under a new version, then switches
the registry to that version and advances the index version in one SQLite transaction before
purging the old version's chunks. Files in a batch are independent: a bad one is reported and
the rest go in.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag import registry
from rag.config import Settings
from rag.database import write_transaction
from rag.embeddings import count_tokens
from rag.errors import IngestError
from rag.ingest import chunk_document, load_file, safe_filename
from rag.ingest.context import DocumentContext, derive_context, file_words, pdf_cues
from rag.store import DocumentStore, StoredChunk
from rag.types import ChunkDraft, LoadedDocument


@dataclass
class IngestReport:
    """What happened to one file."""

    filename: str
    status: str  # ingested | updated | unchanged | duplicate | failed
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
        return self.status not in ("failed", "skipped")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


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


@dataclass
class _Prepared:
    name: str
    data: bytes
    digest: str
    doc: LoadedDocument | None = None
    context: DocumentContext | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    error: IngestError | None = None
    seconds: float = 0.0
    corrections: dict[str, str] = field(default_factory=dict)


def _prepare(
    store: DocumentStore,
    filename: str,
    source: bytes | Path,
    corrections: dict[str, str] | None = None,
) -> _Prepared:
    started = time.perf_counter()
    name = safe_filename(filename)
    try:
        data = source if isinstance(source, bytes) else source.read_bytes()
    except OSError as exc:
        error = IngestError(name, f"the file cannot be read ({exc.strerror or exc}).")
        return _Prepared(name, b"", "", error=error, seconds=time.perf_counter() - started)
    prepared = _Prepared(name, data, registry.content_hash(data), corrections=corrections or {})
    try:
        prepared.doc, prepared.context, prepared.drafts = read_document(
            name, data, store.settings, corrections
        )
        if not prepared.drafts:
            raise IngestError(name, "no text could be extracted, so there is nothing to search.")
    except IngestError as exc:
        prepared.error = exc
    prepared.seconds = time.perf_counter() - started
    return prepared


def _report_for(doc: LoadedDocument, name: str) -> IngestReport:
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


def _commit(
    store: DocumentStore,
    prepared: _Prepared,
    meta: dict[str, str],
    progress: Callable[[int, int], None] | None,
) -> IngestReport:
    started = time.perf_counter()
    db, name, doc, context = store.db, prepared.name, prepared.doc, prepared.context
    assert doc is not None and context is not None
    report = _report_for(doc, name)
    doc_id = registry.doc_id_for(name)
    previous = registry.get_document(db, doc_id)
    version = (previous["version"] + 1) if previous else 1
    heads = [identity_header(context, name, d.section) for d in prepared.drafts]
    chunks = [
        StoredChunk(
            chunk_id=f"{doc_id}-v{version}-{i:05d}",
            text=head + d.text,
            metadata={
                "doc_id": doc_id,
                "version": version,
                "source": name,
                "title": context.title,
                "context": context.label(),
                "page": d.page,
                "section": d.section,
                "start": d.start,
                "end": d.end,
                "text_offset": len(head),
            },
        )
        for i, (d, head) in enumerate(zip(prepared.drafts, heads, strict=True))
    ]
    total = len(chunks)
    store.add_chunks(chunks, (lambda done: progress(done, total)) if progress else None)
    report.doc_id, report.version, report.chunks = doc_id, version, total
    report.status = "updated" if previous else "ingested"
    keep = previous or {}
    row = {
        "doc_id": doc_id,
        "filename": name,
        "kind": doc.kind,
        "title": context.title,
        "context": json.dumps(context.to_dict()),
        "context_edits": json.dumps(prepared.corrections),
        "content_hash": prepared.digest,
        "version": version,
        "pages": len(doc.pages),
        "chunks": total,
        "size_bytes": len(prepared.data),
        "owner": meta.get("owner") or keep.get("owner") or str(doc.metadata.get("owner") or ""),
        "collection": meta.get("collection") or keep.get("collection") or "",
        "review_by": meta.get("review_by")
        or keep.get("review_by")
        or str(doc.metadata.get("review_by") or ""),
        "ingested_at": keep.get("ingested_at") or registry.now(),
        "updated_at": registry.now(),
        "metadata": json.dumps(
            {k: v for k, v in doc.metadata.items() if isinstance(v, (str, int, float, bool))}
        ),
    }
    report.seconds = prepared.seconds + time.perf_counter() - started
    row["report"] = json.dumps(report.to_dict())
    with write_transaction(
        db
    ):  # the switch: new version served, index version advanced, atomically
        db["documents"].upsert(row, pk="doc_id")
        registry.bump_index_version(db)
    if previous:
        store.delete_chunks_where({"$and": [{"doc_id": doc_id}, {"version": {"$ne": version}}]})
    _keep_original(store, doc_id, name, prepared.data)
    return report


def _originals(store: DocumentStore, doc_id: str) -> Path:
    return store.settings.data_dir / "uploads" / doc_id


def _keep_original(store: DocumentStore, doc_id: str, name: str, data: bytes) -> None:
    # Kept so a document can be re-ingested after a loader or chunking improvement.
    folder = _originals(store, doc_id)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)


def reingest_document(store: DocumentStore, doc_id: str) -> IngestReport:
    """Ingest a document again from its kept original, as a new version."""
    doc = registry.get_document(store.db, doc_id)
    original = _originals(store, doc_id) / doc["filename"] if doc else None
    if doc is None or original is None or not original.is_file():
        raise IngestError(
            doc["filename"] if doc else doc_id,
            "the original file is not kept on this server; upload it again to re-ingest.",
        )
    prepared = _prepare(store, doc["filename"], original.read_bytes(), doc.get("context_edits"))
    if prepared.error is not None:
        return IngestReport(prepared.name, "failed", error=str(prepared.error))
    return _commit(store, prepared, {}, None)


def ingest_files(
    store: DocumentStore,
    files: Iterable[tuple[str, bytes | Path]],
    meta: dict[str, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[IngestReport]:
    """Ingest a batch; parsing the next file overlaps with embedding the current one.

    Args:
        store: the open store.
        files: (document name, bytes or a path to read) pairs; paths are read one at a time.
        meta: owner / collection / review_by applied to every file.
        progress: called as (file name, chunks done, chunks total).
    """
    meta = meta or {}
    reports: list[IngestReport] = []
    items = list(files)
    with ThreadPoolExecutor(max_workers=1) as parser:
        pending = parser.submit(_prepare, store, *items[0]) if items else None
        for index in range(len(items)):
            assert pending is not None
            prepared = pending.result()
            pending = (
                parser.submit(_prepare, store, *items[index + 1])
                if index + 1 < len(items)
                else None
            )
            reports.append(_finish(store, prepared, meta, progress))
    return reports


def ingest_file(
    store: DocumentStore,
    filename: str,
    data: bytes,
    meta: dict[str, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> IngestReport:
    """Ingest one file and report what happened (never raises ``IngestError``)."""
    return ingest_files(store, [(filename, data)], meta, progress)[0]


def _finish(
    store: DocumentStore,
    prepared: _Prepared,
    meta: dict[str, str],
    progress: Callable[[str, int, int], None] | None,
) -> IngestReport:
    if prepared.error is not None:
        return IngestReport(
            prepared.name, "failed", error=str(prepared.error), seconds=prepared.seconds
        )
    same = registry.find_by_hash(store.db, prepared.digest)
    if same is not None:
        status = "unchanged" if same["filename"] == prepared.name else "duplicate"
        note = (
            ""
            if status == "unchanged"
            else f"same content as {same['filename']}; not stored twice."
        )
        return IngestReport(
            prepared.name,
            status,
            doc_id=same["doc_id"],
            version=same["version"],
            chunks=same["chunks"],
            pages=same["pages"],
            warnings=[note] if note else [],
        )
    file_progress = (lambda done, total: progress(prepared.name, done, total)) if progress else None
    return _commit(store, prepared, meta, file_progress)


def document_names(paths: Sequence[Path]) -> list[str]:
    """Name files for the store: the file name, or its path when two files share a name.

    A name identifies a document (the same name again is a new version), so two ``index.md``
    from different folders of one batch are named by their folders (``leave__index.md``)
    instead of replacing each other.
    """
    counts = Counter(p.name.lower() for p in paths)
    clashing = [p.resolve() for p in paths if counts[p.name.lower()] > 1]
    root = Path(os.path.commonpath([str(p.parent) for p in clashing])) if clashing else None
    if root is not None and any(p.parent == root for p in clashing):
        root = root.parent  # so the file at the top keeps its folder in the name too
    names = []
    for path in paths:
        if counts[path.name.lower()] == 1 or root is None:
            names.append(path.name)
        else:
            names.append("__".join(path.resolve().relative_to(root).parts))
    return names


def delete_document(store: DocumentStore, doc_id: str) -> bool:
    """Remove a document and purge its chunks; return whether it existed."""
    db = store.db
    if registry.get_document(db, doc_id) is None:
        return False
    with write_transaction(db):
        db["documents"].delete(doc_id)
        registry.bump_index_version(db)
    store.delete_chunks_where({"doc_id": doc_id})
    shutil.rmtree(_originals(store, doc_id), ignore_errors=True)
    return True


def edit_context(store: DocumentStore, doc_id: str, **fields: str) -> IngestReport:
    """Correct a document's title, subject or period and re-index it with the correction.

    The context is part of every chunk's embedded header, so a correction re-embeds the
    document from its kept original (as a new version); later re-ingests keep the correction.
    An empty value goes back to the derived one.
    """
    doc = registry.get_document(store.db, doc_id)
    if doc is None:
        raise IngestError(doc_id, "no such document; it may have been deleted.")
    edits = dict(doc.get("context_edits") or {})
    for key, value in fields.items():
        if key not in ("title", "subject", "period"):
            raise ValueError(f"cannot edit {key!r}: only title, subject and period")
        if value and value.strip():
            edits[key] = " ".join(value.split())
        else:
            edits.pop(key, None)
    with write_transaction(store.db):
        store.db["documents"].update(doc_id, {"context_edits": json.dumps(edits)})
    return reingest_document(store, doc_id)


def update_metadata(store: DocumentStore, doc_id: str, **fields: str) -> None:
    """Change owner, collection or review-by date of a document."""
    allowed = {k: v for k, v in fields.items() if k in ("owner", "collection", "review_by")}
    if allowed:
        with write_transaction(store.db):
            store.db["documents"].update(doc_id, {**allowed, "updated_at": registry.now()})
            registry.bump_index_version(store.db)


SAMPLES_DIR = Path(__file__).parent / "samples"


def sample_files() -> list[tuple[str, bytes]]:
    """The short sample documents shipped with Groundwork, as (file name, bytes)."""
    return [(p.name, p.read_bytes()) for p in sorted(SAMPLES_DIR.glob("*.md"))]
