"""``python -m rag collections``: who may read which collection, from the command line."""

from __future__ import annotations

import argparse

from rag.config import Settings
from rag.errors import GroundworkError


def run_collections(args: argparse.Namespace, settings: Settings) -> int:
    """List the collections (readers, documents), or set one's readers with ``--set``."""
    from rag.index import registry
    from rag.index.collections import (
        collection_name,
        collection_sizes,
        list_collections,
        set_readers,
    )
    from rag.ops.database import open_db

    if (args.set is None) != (args.readers is None):
        raise GroundworkError("Give --set NAME and --readers LIST together.")
    db = open_db(settings.db_path)
    try:
        registry.ensure_schema(db)
        if args.set is not None:
            stored = set_readers(db, args.set, args.readers)
            who = ", ".join(stored) or "admins only"
            print(f"{collection_name(args.set)}: readable by {who}")
            return 0
        print(format_collections(list_collections(db), collection_sizes(db)))
        return 0
    finally:
        db.close()


def format_collections(collections: dict[str, list[str]], sizes: dict[str, int]) -> str:
    """One line per collection: name, documents, readers."""
    if not collections:
        return "No collections yet."
    width = max(len(name) for name in collections)
    return "\n".join(
        f"{name:<{width}}  {sizes.get(name, 0):>5} documents  "
        f"readers: {', '.join(readers) or 'admins only'}"
        for name, readers in collections.items()
    )
