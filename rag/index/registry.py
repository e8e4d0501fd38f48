"""The document registry: which documents exist, their active version, and the index version.

The registry (SQLite) is the source of truth for what is served. Chunks of a new version are
written to the vector store first and switched on here in one transaction, so a crash at any
point leaves either the old or the new version served, never both or neither; chunks the
registry does not point at are ignored by retrieval and purged when the store opens.

Every attempt to write a document gets a version number of its own from the ``versions`` table
before its first chunk is written (``writing``); the switch marks it ``served`` and the version it
replaces ``retired``; an attempt that fails is ``failed``. A purge deletes the chunks of retired
and failed versions (and of ``writing`` ones no writer is alive for) and marks them ``purged``.
Numbers are never reused, so a crashed attempt's chunks can never pass for a later attempt's.

Passages held back at ingestion as possible prompt injections live in the ``quarantine`` table
instead of the vector store (:mod:`rag.index.quarantine`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from rag.ops.database import apply_migrations, fetch, write_transaction

migrations = Migrations("groundwork.registry")
DEFAULT_COLLECTION = "general"  # the collection of a document uploaded without one
EVERYONE = "*"  # a reader entry naming everyone signed in


@migrations()
def m001_documents(db: sqlite_utils.Database) -> None:
    # fmt: off
    db["documents"].create(
        {
            "doc_id": str, "filename": str, "kind": str, "title": str, "content_hash": str,
            "version": int, "pages": int, "chunks": int, "size_bytes": int,
            "owner": str, "collection": str, "review_by": str,
            "ingested_at": str, "updated_at": str, "report": str, "metadata": str,
        },
        pk="doc_id",
    )
    # fmt: on
    db["documents"].create_index(["content_hash"])
    db["registry_meta"].create({"key": str, "value": str}, pk="key")
    db["registry_meta"].insert({"key": "index_version", "value": "0"})


@migrations()
def m002_document_context(db: sqlite_utils.Database) -> None:
    # The derived context (title, subject, period) and a user's corrections to it.
    db["documents"].add_column("context", str)
    db["documents"].add_column("context_edits", str)


@migrations()
def m003_versions(db: sqlite_utils.Database) -> None:
    # One row per write attempt of a document; the name as uploaded, to tell collisions apart.
    db["versions"].create(
        {"doc_id": str, "version": int, "state": str, "started_at": str},
        pk=("doc_id", "version"),
    )
    db["versions"].create_index(["state"])
    db["documents"].add_column("upload_name", str)
    db.execute("insert into versions select doc_id, version, 'served', updated_at from documents")
    db.execute("update documents set upload_name = filename")


@migrations()
def m004_quarantine(db: sqlite_utils.Database) -> None:
    # Passages flagged as prompt injections at ingestion: held here, never in the vector store,
    # until an admin releases (embeds) or deletes them. ``text`` is the chunk as it would have
    # been stored (identity header + passage); rows of versions not served are ignored.
    # fmt: off
    db["quarantine"].create(
        {
            "chunk_id": str, "doc_id": str, "version": int, "source": str, "page": int,
            "section": str, "score": float, "excerpt": str, "text": str, "metadata": str,
            "state": str, "flagged_at": str, "decided_at": str, "decided_by": str,
        },
        pk="chunk_id",
    )
    # fmt: on
    db["quarantine"].create_index(["doc_id", "version", "state"])


@migrations()
def m005_collections(db: sqlite_utils.Database) -> None:
    # Who may read each collection (rag.index.collections); documents without one join
    # "general". Every tag that existed before stays readable by everyone, as it was.
    db["collections"].create(
        {"name": str, "readers": str, "created_at": str, "updated_at": str}, pk="name"
    )
    db.execute(
        "update documents set collection = ? where trim(coalesce(collection, '')) = ''",
        [DEFAULT_COLLECTION],
    )
    names = {DEFAULT_COLLECTION}
    names |= {r[0] for r in db.execute("select distinct collection from documents").fetchall()}
    for name in sorted(names):
        db["collections"].insert(
            {"name": name, "readers": json.dumps([EVERYONE]), "created_at": "", "updated_at": ""}
        )


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
    rows = fetch(db, "select value from registry_meta where key = 'index_version'")
    return int(rows[0]["value"]) if rows else 0


def meta_value(db: sqlite_utils.Database, key: str) -> str | None:
    """A value of the registry's own bookkeeping (``registry_meta``), or None."""
    rows = fetch(db, "select value from registry_meta where key = ?", [key])
    return rows[0]["value"] if rows else None


def set_meta_value(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Record a value of the registry's own bookkeeping."""
    with write_transaction(db):
        db["registry_meta"].upsert({"key": key, "value": value}, pk="key")


def bump_index_version(db: sqlite_utils.Database) -> int:
    """Advance the index version (call inside the transaction that changes documents)."""
    db.execute(
        "update registry_meta set value = cast(value as integer) + 1 where key = 'index_version'"
    )
    return index_version(db)


def allocate_version(db: sqlite_utils.Database, doc_id: str) -> int:
    """Reserve the next version number of a document for a write attempt (never reused)."""
    with write_transaction(db):
        row = db.execute(
            "select max(v) from (select max(version) v from versions where doc_id = ? "
            "union all select version from documents where doc_id = ?)",
            [doc_id, doc_id],
        ).fetchone()
        version = int(row[0] or 0) + 1
        db["versions"].insert(
            {"doc_id": doc_id, "version": version, "state": "writing", "started_at": now()}
        )
    return version


def switch_version(db: sqlite_utils.Database, row: dict[str, Any]) -> bool:
    """Serve ``row``'s version of its document (call inside a write transaction).

    Returns False, changing nothing, when a newer version is served already (another process
    finished a later upload first); the attempt is then marked failed.
    """
    doc_id, version = row["doc_id"], row["version"]
    current = db.execute("select version from documents where doc_id = ?", [doc_id]).fetchone()
    if current is not None and current[0] >= version:
        mark_failed(db, doc_id, version)
        return False
    _retire_served(db, doc_id)
    db["documents"].upsert(row, pk="doc_id")
    db["versions"].upsert(
        {"doc_id": doc_id, "version": version, "state": "served"}, pk=("doc_id", "version")
    )
    bump_index_version(db)
    return True


def retire_document(db: sqlite_utils.Database, doc_id: str) -> None:
    """Stop serving a document (call inside a write transaction); its version is retired."""
    db["documents"].delete(doc_id)
    _retire_served(db, doc_id)
    bump_index_version(db)


def _retire_served(db: sqlite_utils.Database, doc_id: str) -> None:
    db.execute(
        "update versions set state = 'retired' where doc_id = ? and state = 'served'", [doc_id]
    )


def mark_failed(db: sqlite_utils.Database, doc_id: str, version: int) -> None:
    """Mark a write attempt that will never be served (its chunks are due for purging)."""
    db.execute(
        "update versions set state = 'failed' where doc_id = ? and version = ? "
        "and state = 'writing'",
        [doc_id, version],
    )


def stale_versions(
    db: sqlite_utils.Database, writing_before: str | None = None, doc_id: str | None = None
) -> list[tuple[str, int, bool]]:
    """(doc_id, version, ever served) of versions whose chunks should go: retired and failed
    ones, and attempts still ``writing`` that started before ``writing_before`` (no writer can
    be alive for them)."""
    sql = "select doc_id, version, state from versions where (state in ('retired', 'failed')"
    params: list[Any] = []
    if writing_before is not None:
        sql += " or (state = 'writing' and started_at < ?)"
        params.append(writing_before)
    sql += ")"
    if doc_id is not None:
        sql += " and doc_id = ?"
        params.append(doc_id)
    return [
        (r["doc_id"], int(r["version"]), r["state"] == "retired") for r in fetch(db, sql, params)
    ]


def mark_purged(db: sqlite_utils.Database, doc_id: str, version: int) -> None:
    """Record that a version's chunks are gone (its number stays taken)."""
    with write_transaction(db):
        db.execute(
            "update versions set state = 'purged' where doc_id = ? and version = ? "
            "and state != 'served'",
            [doc_id, version],
        )


def get_document(db: sqlite_utils.Database, doc_id: str) -> dict[str, Any] | None:
    """Return one document row, or None."""
    rows = fetch(db, "select * from documents where doc_id = ?", [doc_id])
    return _decode(rows[0]) if rows else None


def find_by_hash(db: sqlite_utils.Database, digest: str) -> dict[str, Any] | None:
    """Return the document whose active version has these exact bytes, or None."""
    rows = fetch(db, "select * from documents where content_hash = ? limit 1", [digest])
    return _decode(rows[0]) if rows else None


def list_documents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """All documents, newest first, with an ``overdue`` flag for past review-by dates."""
    return [_decode(r) for r in fetch(db, "select * from documents order by updated_at desc")]


def active_versions(db: sqlite_utils.Database) -> dict[str, int]:
    """Map doc_id to the version that is served."""
    return {r["doc_id"]: r["version"] for r in fetch(db, "select doc_id, version from documents")}


def review_date(review_by: str | None) -> date | None:
    """A stored review-by value (YYYY-MM-DD...) as a date; None when empty or not a date."""
    if not review_by:
        return None
    try:
        return date.fromisoformat(str(review_by)[:10])
    except ValueError:
        return None


def is_overdue(review_by: str | None) -> bool:
    """Whether a review-by date (YYYY-MM-DD) has passed."""
    due = review_date(review_by)
    return due is not None and due < date.today()


def document_details(owner: str, collection: str, review_by: date | None) -> dict[str, str]:
    """A document's details as typed in a form: trimmed, the review date in ISO form or ""."""
    return {
        "owner": owner.strip(),
        "collection": collection.strip(),
        "review_by": review_by.isoformat() if review_by else "",
    }


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["upload_name"] = row.get("upload_name") or row.get("filename")
    for key in ("report", "metadata", "context", "context_edits"):
        row[key] = json.loads(row[key]) if row.get(key) else {}
    row["overdue"] = is_overdue(row.get("review_by"))
    return row
