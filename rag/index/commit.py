"""Writing a read file into the store as a new version, and switching to it.

The steps, in order: allocate a version number, write its chunks, keep its original, then
switch the registry to it and advance the index version in one SQLite transaction; the old
version's chunks are purged after. A crash before the switch leaves the previous version
served and this attempt's chunks to the purge at the next open; after it, the new version is
complete and served.

Passages the guardrails flagged as prompt injections are not written to the vector store: they
are held in the registry's quarantine table, inserted in the switch's transaction
(:mod:`rag.index.quarantine`), and the report counts them and the personal data found.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from rag.errors import DatabaseError
from rag.guardrails.checks import count_detail
from rag.index import registry
from rag.index.collections import collection_name, ensure_collection
from rag.index.originals import keep_original
from rag.index.quarantine import Held, hold, quarantine_events, split_quarantined
from rag.index.reading import Prepared, identity_header
from rag.index.report import IngestReport, add_guardrail_findings, report_for
from rag.index.store import DocumentStore, StoredChunk
from rag.ops.audit import event_row, record_events
from rag.ops.database import write_transaction

log = logging.getLogger(__name__)


def commit(
    store: DocumentStore,
    prepared: Prepared,
    meta: dict[str, str],
    progress: Callable[[int, int], None] | None,
) -> IngestReport:
    """Write a new version of a read file and serve it (call under ``store.write_lock``)."""
    started = time.perf_counter()
    assert prepared.doc is not None
    doc_id = registry.doc_id_for(prepared.name)
    previous = registry.get_document(store.db, doc_id)
    version = registry.allocate_version(store.db, doc_id)
    collection = collection_name(meta.get("collection") or (previous or {}).get("collection"))
    try:
        chunks = _stored_chunks(prepared, doc_id, version, collection)
        kept, held = split_quarantined(chunks, prepared.checks)
        _write_chunks(store, kept, progress)
        served = previous["version"] if previous else None
        keep_original(store, doc_id, version, served, prepared.name, prepared.data)
        report = _version_report(prepared, doc_id, version, len(kept), previous is not None)
        add_guardrail_findings(report, prepared.checks, store.settings.pii_redact_documents)
        report.seconds = prepared.seconds + time.perf_counter() - started
        row = _document_row(prepared, doc_id, version, len(kept), meta, previous)
        row["collection"] = collection
        switched = _switch(store, row, report, held)
    except BaseException:
        with write_transaction(store.db):
            registry.mark_failed(store.db, doc_id, version)
        purge_quietly(store, doc_id)
        raise
    purge_quietly(store, doc_id)
    if not switched:
        report.status = "superseded"
        report.warnings.append("a newer version was stored meanwhile and is the one served.")
    else:
        try:
            _audit_findings(store, report, held)
        except DatabaseError as exc:  # the version is served: report the gap, not a failure
            log.error("the guardrail findings of %s were not logged: %s", prepared.name, exc)
            report.warnings.append(f"the audit log could not record these findings ({exc}).")
    return report


def _write_chunks(
    store: DocumentStore, chunks: list[StoredChunk], progress: Callable[[int, int], None] | None
) -> None:
    """Embed and store the version's chunks (not served yet)."""
    total = len(chunks)
    store.add_chunks(chunks, (lambda done: progress(done, total)) if progress else None)


def _version_report(
    prepared: Prepared, doc_id: str, version: int, chunks: int, update: bool
) -> IngestReport:
    assert prepared.doc is not None
    report = report_for(prepared.doc, prepared.name)
    report.doc_id, report.version, report.chunks = doc_id, version, chunks
    report.status = "updated" if update else "ingested"
    return report


def _switch(
    store: DocumentStore, row: dict[str, Any], report: IngestReport, held: list[Held]
) -> bool:
    """Serve ``row``'s version with its held passages; False when a newer one is served."""
    row["report"] = json.dumps(report.to_dict())
    with write_transaction(store.db):  # served, held and index version advance at once
        ensure_collection(store.db, row["collection"], row["updated_at"])
        switched = registry.switch_version(store.db, row)
        if switched and held:
            hold(store.db, held)
        return switched


def _audit_findings(store: DocumentStore, report: IngestReport, held: list[Held]) -> None:
    """Log the file's quarantined passages and the personal data found, in one write."""
    events = quarantine_events(report.filename, held)
    if report.pii:
        action = "redacted" if store.settings.pii_redact_documents else "flagged"
        events.append(
            event_row("chunk", "pii", action, count_detail(report.pii), source=report.filename)
        )
    record_events(store.db, events)


def _stored_chunks(
    prepared: Prepared, doc_id: str, version: int, collection: str
) -> list[StoredChunk]:
    """The chunks of one version, each with its identity header, where it came from and the
    collection it is read under."""
    context = prepared.context
    assert context is not None
    chunks = []
    for i, draft in enumerate(prepared.drafts):
        head = identity_header(context, prepared.name, draft.section)
        metadata = {
            "doc_id": doc_id,
            "version": version,
            "source": prepared.name,
            "title": context.title,
            "context": context.label(),
            "page": draft.page,
            "section": draft.section,
            "start": draft.start,
            "end": draft.end,
            "text_offset": len(head),
            "collection": collection,
        }
        chunks.append(StoredChunk(f"{doc_id}-v{version}-{i:05d}", head + draft.text, metadata))
    return chunks


def _document_row(
    prepared: Prepared,
    doc_id: str,
    version: int,
    chunks: int,
    meta: dict[str, str],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The registry row that serves ``version`` (``chunks`` stored, quarantined ones apart);
    owner, collection and dates carry over."""
    doc, context = prepared.doc, prepared.context
    assert doc is not None and context is not None
    keep = previous or {}
    return {
        "doc_id": doc_id,
        "filename": prepared.name,
        "upload_name": prepared.upload_name or prepared.name,
        "kind": doc.kind,
        "title": context.title,
        "context": json.dumps(context.to_dict()),
        "context_edits": json.dumps(prepared.corrections),
        "content_hash": prepared.digest,
        "version": version,
        "pages": len(doc.pages),
        "chunks": chunks,
        "size_bytes": len(prepared.data),
        "owner": meta.get("owner") or keep.get("owner") or str(doc.metadata.get("owner") or ""),
        "review_by": meta.get("review_by")
        or keep.get("review_by")
        or str(doc.metadata.get("review_by") or ""),
        "ingested_at": keep.get("ingested_at") or registry.now(),
        "updated_at": registry.now(),
        "metadata": json.dumps(
            {k: v for k, v in doc.metadata.items() if isinstance(v, (str, int, float, bool))}
        ),
    }


def purge_quietly(store: DocumentStore, doc_id: str) -> None:
    """Purge a document's stale chunks now if possible."""
    # Stale chunks are never served, and the next open retries the purge: log, do not fail.
    try:
        store.purge_stale(doc_id=doc_id)
    except Exception:
        log.warning("could not purge the old chunks of %s yet", doc_id, exc_info=True)
