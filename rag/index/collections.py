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

from rag.ops.database import fetch, write_transaction

DEFAULT_COLLECTION = "general"
EVERYONE = "*"
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


def create_table(db: sqlite_utils.Database) -> None:
    """Create the collections table, keeping every existing tag readable by everyone."""
    db["collections"].create(
        {"name": str, "readers": str, "created_at": str, "updated_at": str}, pk="name"
    )
    db.execute("update documents set collection = ? where trim(coalesce(collection, '')) = ''",
               [DEFAULT_COLLECTION])  # fmt: skip
    names = {DEFAULT_COLLECTION}
    names |= {r[0] for r in db.execute("select distinct collection from documents").fetchall()}
    for name in sorted(names):
        db["collections"].insert(
            {"name": name, "readers": json.dumps([EVERYONE]), "created_at": "", "updated_at": ""}
        )


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


def set_readers(db: sqlite_utils.Database, name: str, readers: Any, now: str) -> list[str]:
    """Set who may read ``name`` (creating it); return the readers as stored."""
    name, cleaned = collection_name(name), clean_readers(readers)
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


def document_collections(db: sqlite_utils.Database) -> dict[str, str]:
    """Map each served document to its collection."""
    return {
        r["doc_id"]: r["collection"] for r in fetch(db, "select doc_id, collection from documents")
    }
