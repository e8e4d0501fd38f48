"""Quarantine: document passages flagged as prompt injections, held out of the vector store.

At ingestion (:mod:`rag.index.commit`) a passage whose check says ``quarantine`` is not
embedded: it is kept in the registry's ``quarantine`` table, so vector search, the lexical
index (built from the store's chunks) and citations cannot reach it. An admin then releases it
(embedded and added under its version, so served at once) or deletes it (it never enters the
store). Only rows of a served version are listed: a new upload of the document replaces them.
Every quarantine, release and deletion is written to the guardrail audit log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from rag.errors import IngestError
from rag.guardrails.checks import ChunkCheck, score_detail
from rag.index import registry
from rag.index.store import DocumentStore, StoredChunk
from rag.ops.audit import event_row, record_event
from rag.ops.database import fetch, write_transaction

Held = tuple[StoredChunk, ChunkCheck]


def split_quarantined(
    chunks: Sequence[StoredChunk], checks: Sequence[ChunkCheck]
) -> tuple[list[StoredChunk], list[Held]]:
    """Split a version's chunks into those to store and those to hold (with their checks).

    ``checks`` has one entry per chunk; an empty list means the passages were not checked.
    """
    if not checks:
        return list(chunks), []
    if len(checks) != len(chunks):  # a misaligned check could let a flagged passage through
        raise ValueError(f"{len(checks)} guardrail checks for {len(chunks)} passages")
    kept = [c for c, check in zip(chunks, checks, strict=True) if not check.quarantine]
    held = [(c, check) for c, check in zip(chunks, checks, strict=True) if check.quarantine]
    return kept, held


def hold(db: sqlite_utils.Database, held: Sequence[Held]) -> None:
    """Keep flagged passages in the quarantine table (call inside the version's switch)."""
    flagged_at = registry.now()
    db["quarantine"].upsert_all(
        [
            {
                "chunk_id": chunk.chunk_id,
                "doc_id": str(chunk.metadata["doc_id"]),
                "version": int(chunk.metadata["version"]),
                "source": str(chunk.metadata["source"]),
                "page": int(chunk.metadata["page"]),
                "section": str(chunk.metadata.get("section") or ""),
                "score": float(check.injection),
                "excerpt": check.excerpt,
                "text": chunk.text,
                "metadata": json.dumps(chunk.metadata),
                "state": "held",
                "flagged_at": flagged_at,
                "decided_at": "",
                "decided_by": "",
            }
            for chunk, check in held
        ],
        pk="chunk_id",
    )


def quarantine_events(source: str, held: Sequence[Held]) -> list[dict[str, Any]]:
    """The audit rows of one file's quarantined passages (for one ``record_events`` call)."""
    return [
        event_row(
            "chunk",
            "injection",
            "quarantined",
            detail=score_detail(check.injection),
            excerpt=check.excerpt,
            source=source,
        )
        for _, check in held
    ]


def list_quarantined(store: DocumentStore) -> list[dict[str, Any]]:
    """Passages held for review in the served versions of documents, newest first.

    Each row has ``chunk_id``, ``doc_id``, ``version``, ``source``, ``page``, ``section``,
    ``score``, ``excerpt`` (the most suspicious sentence, personal data redacted),
    ``passage`` (the held text, without its identity header) and ``flagged_at``.
    """
    rows = fetch(
        store.db,
        "select q.* from quarantine q join documents d "
        "on d.doc_id = q.doc_id and d.version = q.version "
        "where q.state = 'held' order by q.flagged_at desc, q.chunk_id",
    )
    return [_listed(row) for row in rows]


def release_passage(store: DocumentStore, chunk_id: str, user_hash: str = "") -> None:
    """Embed a held passage into the store under its version, so answers can use it again."""
    with store.write_lock:
        row = _held(store.db, chunk_id)
        metadata = json.loads(row["metadata"])
        doc = registry.get_document(store.db, row["doc_id"])
        if doc is not None:  # read under the collection its document is in now
            metadata["collection"] = doc["collection"]
        store.add_chunks([StoredChunk(row["chunk_id"], row["text"], metadata)])
        try:
            with write_transaction(store.db):
                _decide(store.db, chunk_id, "released", user_hash)
                store.db.execute(
                    "update documents set chunks = chunks + 1 where doc_id = ?", [row["doc_id"]]
                )
                registry.bump_index_version(store.db)  # the lexical index picks it up
        except BaseException:
            # Its version is served: left in the store, the passage would be answered from
            # while the registry still says it is held.
            store.delete_chunks([chunk_id])
            raise
        _audit(store.db, row, "released", user_hash)


def delete_passage(store: DocumentStore, chunk_id: str, user_hash: str = "") -> None:
    """Discard a held passage for good: it never enters the store."""
    with store.write_lock:
        row = _held(store.db, chunk_id)
        with write_transaction(store.db):
            _decide(store.db, chunk_id, "deleted", user_hash)
        _audit(store.db, row, "deleted", user_hash)


def _held(db: sqlite_utils.Database, chunk_id: str) -> dict[str, Any]:
    """The row of a passage held in a served version, or an error saying why there is none."""
    rows = fetch(db, "select * from quarantine where chunk_id = ?", [chunk_id])
    if not rows:
        raise IngestError(chunk_id, "no such held passage; it may have been removed already.")
    row = rows[0]
    if row["state"] != "held":
        raise IngestError(
            row["source"], f"this passage was {row['state']} already; reload the page."
        )
    document = registry.get_document(db, row["doc_id"])
    if document is None or document["version"] != row["version"]:
        raise IngestError(
            row["source"],
            "this passage belongs to a version of the document that is no longer served "
            "(it was replaced or deleted); review the passages of the current version instead.",
        )
    return row


def _decide(db: sqlite_utils.Database, chunk_id: str, state: str, user_hash: str) -> None:
    db["quarantine"].update(
        chunk_id, {"state": state, "decided_at": registry.now(), "decided_by": user_hash}
    )


def _audit(db: sqlite_utils.Database, row: dict[str, Any], action: str, user_hash: str) -> None:
    record_event(
        db,
        stage="chunk",
        kind="injection",
        action=action,
        detail=score_detail(row["score"]),
        excerpt=row["excerpt"] or "",
        source=row["source"],
        user_hash=user_hash,
    )


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    metadata = json.loads(row["metadata"] or "{}")
    passage = row["text"][int(metadata.get("text_offset", 0)) :]
    keys = ("chunk_id", "doc_id", "version", "source", "page", "section", "score", "excerpt")
    return {**{k: row[k] for k in keys}, "passage": passage, "flagged_at": row["flagged_at"]}
