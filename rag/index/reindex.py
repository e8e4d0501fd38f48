"""Re-indexing: rebuild the vector index with another embedding model, as an explicit action.

A store keeps the embedder that built it (vectors of two models never mix), so switching
models means re-embedding every chunk. The chunks' text is already in the store, so nothing is
parsed again. Every partition's new index is built beside the old one, and they are swapped in
only when all are complete; a crash before the swap leaves the old index serving, and one
during the swap is finished the next time the store is opened
(:func:`rag.index.partitions.finish_swaps`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import StoreError
from rag.index import registry
from rag.index.chroma import connect, create_collection, lock_store
from rag.index.partitions import finish_swaps, rebuild_names
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
        finish_swaps(client, settings.collection)
        pairs = rebuild_names(client, settings.collection)
        if not any(old == settings.collection for old, _ in pairs):
            raise StoreError(f"There is no document store to re-index at {settings.data_dir}.")
        embeddings = embeddings_for(embedder)
        chunks = {old: client.get_collection(old).get(include=["documents", "metadatas"])
                  for old, _ in pairs}  # fmt: skip
        total, done = sum(len(got["ids"]) for got in chunks.values()), 0
        for old, new in pairs:  # every partition rebuilt first: the old ones serve meanwhile
            if new in {c.name for c in client.list_collections()}:  # an interrupted rebuild
                client.delete_collection(new)
            target = create_collection(client, new, embedder)
            done += _copy(chunks[old], target, embeddings, _offset(progress, done, total))
        for old, new in pairs:  # then swapped; a crash here is finished when the store opens
            client.delete_collection(old)
            client.get_collection(new).modify(name=old)
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
    copied: Callable[[int], Any],
) -> int:
    """Re-embed the chunks ``got`` from an old partition into ``target``, telling ``copied``
    how many so far; return how many."""
    count = len(got["ids"])
    for start in range(0, count, BATCH):
        ids = got["ids"][start : start + BATCH]
        texts = [t or "" for t in got["documents"][start : start + BATCH]]
        target.add(
            ids=ids,
            embeddings=embeddings.embed_documents(texts),
            documents=texts,
            metadatas=got["metadatas"][start : start + BATCH],
        )
        copied(start + len(ids))
    return count


def _offset(
    progress: Callable[[int, int], None] | None, before: int, total: int
) -> Callable[[int], None]:
    """Report a partition's progress as the whole re-index's."""
    return lambda copied: progress(before + copied, total) if progress else None


def _advance_index_version(settings: Settings) -> None:
    db = open_db(settings.db_path)
    registry.ensure_schema(db)
    with write_transaction(db):  # answers from here on come from another vector space
        registry.bump_index_version(db)
    db.close()
