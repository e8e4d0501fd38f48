"""Re-indexing: rebuild the vector index with another embedding model, as an explicit action.

A store keeps the embedder that built it (vectors of two models never mix), so switching
models means re-embedding every chunk. The chunks' text is already in the store, so nothing is
parsed again. The new index is built beside the old one and swapped in only when complete; a
crash before the swap leaves the old index serving, and one during the swap is finished the
next time the store is opened (``DocumentStore`` renames a complete rebuild into place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import StoreError
from rag.index import registry
from rag.index.chroma import connect, create_collection, lock_store, rebuild_name
from rag.ops.database import open_db, write_transaction

BATCH = 256


def reindex(
    settings: Settings,
    embedder: str,
    embeddings_for: Callable[[str], Embeddings],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-embed every chunk with ``embedder`` and make it the store's embedder.

    The store must not be open elsewhere (the app holds it: stop it, or use its re-index
    button). Returns the number of chunks re-embedded.
    """
    lock = lock_store(settings)
    client = None
    try:
        client = connect(settings)
        names = {c.name for c in client.list_collections()}
        old, new = settings.collection, rebuild_name(settings.collection)
        if new in names:  # an interrupted earlier rebuild: start it again
            client.delete_collection(new)
        if old not in names:
            raise StoreError(f"There is no document store to re-index at {settings.data_dir}.")
        got = client.get_collection(old).get(include=["documents", "metadatas"])
        embeddings = embeddings_for(embedder)
        target = create_collection(client, new, embedder)
        total = _copy(got, target, embeddings, progress)
        client.delete_collection(old)
        target.modify(name=old)
        _advance_index_version(settings)
        return total
    finally:
        if client is not None:
            client.close()
        if lock is not None:
            lock.release()


def _copy(
    got: dict[str, Any],
    target: Any,
    embeddings: Embeddings,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Re-embed the chunks ``got`` from the old collection into ``target``; return how many."""
    total = len(got["ids"])
    for start in range(0, total, BATCH):
        ids = got["ids"][start : start + BATCH]
        texts = [t or "" for t in got["documents"][start : start + BATCH]]
        target.add(
            ids=ids,
            embeddings=embeddings.embed_documents(texts),
            documents=texts,
            metadatas=got["metadatas"][start : start + BATCH],
        )
        if progress:
            progress(start + len(ids), total)
    return total


def _advance_index_version(settings: Settings) -> None:
    db = open_db(settings.db_path)
    registry.ensure_schema(db)
    with write_transaction(db):  # answers from here on come from another vector space
        registry.bump_index_version(db)
    db.close()
