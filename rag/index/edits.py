"""Changing documents already in the store: re-ingest, restore the previous version, correct
the context, change owner / collection / review-by, delete.

Every change takes ``store.write_lock`` (sessions are threads) and advances the index version,
so retrieval never serves a half-made change.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rag.errors import IngestError
from rag.index import registry
from rag.index.collections import collection_name, ensure_collection
from rag.index.commit import commit, purge_quietly
from rag.index.originals import original_path, previous_version
from rag.index.reading import prepare
from rag.index.report import IngestReport
from rag.index.store import DocumentStore
from rag.ops.database import write_transaction


def _reingest_from(store: DocumentStore, doc: dict[str, Any], original: Path) -> IngestReport:
    if not original.is_file():
        raise IngestError(
            doc["filename"],
            "the original file is not kept on this server; upload it again to re-ingest.",
        )
    name = original.name  # a restored version comes back under the name it was uploaded with
    prepared = prepare(store.settings, name, original.read_bytes(), doc.get("context_edits"))
    prepared.upload_name = doc["upload_name"] if name == doc["filename"] else name
    if prepared.error is not None:
        return IngestReport(prepared.name, "failed", error=str(prepared.error))
    return commit(store, prepared, {}, None)


def context_changes(context: dict[str, Any], **typed: str) -> dict[str, str]:
    """The context fields typed differently from ``context`` (trimmed; "" restores derived)."""
    return {
        key: value.strip()
        for key, value in typed.items()
        if value.strip() != (context.get(key) or "")
    }


def reingest_document(store: DocumentStore, doc_id: str) -> IngestReport:
    """Ingest a document again from its kept original, as a new version."""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        if doc is None:
            raise IngestError(doc_id, "no such document; it may have been deleted.")
        return _reingest_from(store, doc, original_path(store, doc))


def restore_previous(store: DocumentStore, doc_id: str) -> IngestReport:
    """Serve the previous version's original again (as a new version)."""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        version = previous_version(store, doc_id)
        if doc is None or version is None:
            raise IngestError(
                doc["filename"] if doc else doc_id, "no previous version is kept to restore."
            )
        report = _reingest_from(store, doc, original_path(store, doc, version))
        report.warnings.append(f"restored the content of version {version}.")
        return report


def delete_document(store: DocumentStore, doc_id: str) -> bool:
    """Remove a document and purge its chunks; return whether it existed."""
    with store.write_lock:
        db = store.db
        if registry.get_document(db, doc_id) is None:
            return False
        with write_transaction(db):
            registry.retire_document(db, doc_id)
        purge_quietly(store, doc_id)
        shutil.rmtree(store.originals_dir(doc_id), ignore_errors=True)
        return True


def edit_context(store: DocumentStore, doc_id: str, **fields: str) -> IngestReport:
    """Correct a document's title, subject or period and re-index it with the correction.

    The context is part of every chunk's embedded header, so a correction re-embeds the
    document from its kept original (as a new version); later re-ingests keep the correction.
    An empty value goes back to the derived one.
    """
    edits: dict[str, str] = {}
    for key, value in fields.items():
        if key not in ("title", "subject", "period"):
            raise ValueError(f"cannot edit {key!r}: only title, subject and period")
        edits[key] = " ".join(value.split()) if value else ""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        if doc is None:
            raise IngestError(doc_id, "no such document; it may have been deleted.")
        merged = {**(doc.get("context_edits") or {}), **edits}
        merged = {key: value for key, value in merged.items() if value}
        with write_transaction(store.db):
            store.db["documents"].update(doc_id, {"context_edits": json.dumps(merged)})
        return reingest_document(store, doc_id)


def update_metadata(store: DocumentStore, doc_id: str, **fields: str) -> None:
    """Change owner, collection or review-by date of a document.

    A move to another collection relabels the document's chunks in the vector store first,
    then the registry: retrieval requires both to be readable, so a move interrupted half-way
    hides the document rather than showing it to the wrong readers.
    """
    allowed = {k: v for k, v in fields.items() if k in ("owner", "collection", "review_by")}
    if not allowed:
        return
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        if doc is None:
            raise IngestError(doc_id, "no such document; it may have been deleted.")
        now = registry.now()
        if "collection" in allowed:
            allowed["collection"] = collection_name(allowed["collection"])
            if allowed["collection"] != doc["collection"]:
                store.set_chunk_collection(doc_id, int(doc["version"]), allowed["collection"])
        with write_transaction(store.db):
            if "collection" in allowed:
                ensure_collection(store.db, allowed["collection"], now)
            store.db["documents"].update(doc_id, {**allowed, "updated_at": now})
            registry.bump_index_version(store.db)
