"""Collections: named groups of documents, each with the people who may read it.

Every document belongs to exactly one collection (``documents.collection``; ``general`` when
none is named) and every chunk carries its collection in the vector store's metadata, so
retrieval filters by what a user may read inside the store, on the vector and the lexical path
alike. Readers are written in :mod:`rag.access`'s notation (``*``, ``@domain``, an address, a
group); admins read every collection.

A collection named for the first time (an upload or ``ingest --collection``) starts readable
by admins only: a new collection is private until someone opens it. On upgrade, collections
that existed as free-text tags stay readable by everyone, as they were.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from rag.index.registry import DEFAULT_COLLECTION, doc_id_for, get_document
from rag.ops.database import fetch, utc_now, write_transaction

MAX_NAME = 80
MAX_READERS = 200


def collection_name(value: Any) -> str:
    """A collection name as stored: whitespace collapsed, bounded; empty means ``general``."""
    return " ".join(str(value or "").split())[:MAX_NAME] or DEFAULT_COLLECTION


def clean_readers(readers: Any) -> list[str]:
    """Reader entries as stored: trimmed, unique, in order, bounded (a string is split on
    commas)."""
    items = readers.split(",") if isinstance(readers, str) else list(readers or [])
    out: list[str] = []
    for item in items:
        entry = " ".join(str(item).split())[:MAX_NAME]
        if entry and entry not in out:
            out.append(entry)
    return out[:MAX_READERS]


def list_collections(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every collection and its readers, by name."""
    return {
        r["name"]: json.loads(r["readers"] or "[]")
        for r in fetch(db, "select name, readers from collections order by name")
    }


def collection_sizes(db: sqlite_utils.Database) -> dict[str, int]:
    """How many documents each collection holds."""
    rows = fetch(db, "select collection, count(*) n from documents group by collection")
    return {r["collection"]: int(r["n"]) for r in rows}


def ensure_collection(db: sqlite_utils.Database, name: str, now: str) -> None:
    """Create ``name`` readable by admins only, unless it exists (inside a transaction)."""
    db.execute(
        "insert or ignore into collections (name, readers, created_at, updated_at) "
        "values (?, '[]', ?, ?)",
        [name, now, now],
    )


def set_readers(db: sqlite_utils.Database, name: str, readers: Any) -> list[str]:
    """Set who may read ``name`` (creating it); return the readers as stored."""
    name, cleaned, now = collection_name(name), clean_readers(readers), utc_now()
    with write_transaction(db):
        ensure_collection(db, name, now)
        db.execute(
            "update collections set readers = ?, updated_at = ? where name = ?",
            [json.dumps(cleaned), now, name],
        )
    return cleaned


def delete_collection(db: sqlite_utils.Database, name: str) -> bool:
    """Remove an empty collection (never ``general``); return whether it was removed."""
    if name == DEFAULT_COLLECTION:
        return False
    with write_transaction(db):
        held = db.execute("select 1 from documents where collection = ? limit 1", [name])
        if held.fetchone():
            return False
        return db.execute("delete from collections where name = ?", [name]).rowcount > 0


def outside_scope(
    db: sqlite_utils.Database, names: list[str], collections: frozenset[str] | None
) -> list[str]:
    """The file names whose upload would replace a document of a collection not in
    ``collections`` (None: every collection is in scope, so none)."""
    if collections is None:
        return []
    out = []
    for name in names:
        doc = get_document(db, doc_id_for(name))
        if doc is not None and doc["collection"] not in collections:
            out.append(name)
    return out
