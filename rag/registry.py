"""The document registry: which documents exist, their active version, and the index version.

The registry (SQLite) is the source of truth for what is served. Chunks of a new version are
written to the vector store first and switched on here in one transaction, so a crash at any
point leaves either the old or the new version served, never both or neither; chunks the
registry does not point at are ignored by retrieval and purged by ``DocumentStore.reconcile``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from rag.database import apply_migrations

migrations = Migrations("groundwork.registry")


@migrations()
def m001_documents(db: sqlite_utils.Database) -> None:
    db["documents"].create(
        {
            "doc_id": str,
            "filename": str,
            "kind": str,
            "title": str,
            "content_hash": str,
            "version": int,
            "pages": int,
            "chunks": int,
            "size_bytes": int,
            "owner": str,
            "collection": str,
            "review_by": str,
            "ingested_at": str,
            "updated_at": str,
            "report": str,
            "metadata": str,
        },
        pk="doc_id",
    )
    db["documents"].create_index(["content_hash"])
    db["registry_meta"].create({"key": str, "value": str}, pk="key")
    db["registry_meta"].insert({"key": "index_version", "value": "0"})


@migrations()
def m002_document_context(db: sqlite_utils.Database) -> None:
    # The derived context (title, subject, period) and a user's corrections to it.
    db["documents"].add_column("context", str)
    db["documents"].add_column("context_edits", str)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Apply pending registry migrations (once, even when processes race to open a new file)."""
    apply_migrations(db, migrations)


def doc_id_for(filename: str) -> str:
    """Stable id of a document name (a new upload with the same name is a new version)."""
    return hashlib.sha1(filename.lower().encode("utf-8")).hexdigest()[:16]


def content_hash(data: bytes) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def now() -> str:
    """Current UTC time, ISO-8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def index_version(db: sqlite_utils.Database) -> int:
    """The counter that advances on every change to what is served."""
    row = db.execute("select value from registry_meta where key = 'index_version'").fetchone()
    return int(row[0]) if row else 0


def bump_index_version(db: sqlite_utils.Database) -> int:
    """Advance the index version (call inside the transaction that changes documents)."""
    db.execute(
        "update registry_meta set value = cast(value as integer) + 1 where key = 'index_version'"
    )
    return index_version(db)


def get_document(db: sqlite_utils.Database, doc_id: str) -> dict[str, Any] | None:
    """Return one document row, or None."""
    rows = list(db["documents"].rows_where("doc_id = ?", [doc_id]))
    return _decode(rows[0]) if rows else None


def find_by_hash(db: sqlite_utils.Database, digest: str) -> dict[str, Any] | None:
    """Return the document whose active version has these exact bytes, or None."""
    rows = list(db["documents"].rows_where("content_hash = ?", [digest], limit=1))
    return _decode(rows[0]) if rows else None


def list_documents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """All documents, newest first, with an ``overdue`` flag for past review-by dates."""
    return [_decode(r) for r in db["documents"].rows_where(order_by="updated_at desc")]


def active_versions(db: sqlite_utils.Database) -> dict[str, int]:
    """Map doc_id to the version that is served."""
    return {r[0]: r[1] for r in db.execute("select doc_id, version from documents").fetchall()}


def is_overdue(review_by: str | None, today: date | None = None) -> bool:
    """Whether a review-by date (YYYY-MM-DD) has passed."""
    if not review_by:
        return False
    try:
        return date.fromisoformat(str(review_by)[:10]) < (today or date.today())
    except ValueError:
        return False


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("report", "metadata", "context", "context_edits"):
        row[key] = json.loads(row[key]) if row.get(key) else {}
    row["overdue"] = is_overdue(row.get("review_by"))
    return row
