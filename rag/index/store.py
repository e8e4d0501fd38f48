"""The vector store: Chroma (through langchain-chroma) plus the SQLite document registry.

One ``DocumentStore`` per process; the embedded store is held under a lock file and several
processes share a ``chroma run`` server instead (:mod:`rag.index.chroma`). The collection
records which embedding model built it, and opening it with another is refused: vectors from
two models never mix.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from langchain_core.embeddings import Embeddings

from rag.config import Settings
from rag.errors import BackendUnavailable, EmbedderMismatch
from rag.index import registry
from rag.index.chroma import connect, lock_store, open_collection
from rag.index.collections import collection_name, collection_sizes
from rag.index.partitions import Partitions, finish_swaps
from rag.ops.database import open_db
from rag.types import Passage

ADD_BATCH = 64  # chunks embedded per call: the granularity of progress reports
UPSERT_BATCH = 512  # chunks per Chroma write: 64 at a time halves its add rate
# A write attempt still "writing" this long after it started has no live writer on a shared
# (server) store; on the embedded store the exclusive lock means none is alive at all.
ABANDONED_AFTER = timedelta(hours=1)

log = logging.getLogger(__name__)


@dataclass
class StoredChunk:
    """One chunk as held in the store: the embedded text and its metadata."""

    chunk_id: str
    text: str  # what was embedded: identity header + passage text
    metadata: dict[str, Any]

    def passage(self, score: float = 0.0) -> Passage:
        """View this chunk as a retrieved passage (without the identity header)."""
        m = self.metadata
        return Passage(
            chunk_id=self.chunk_id,
            doc_id=str(m["doc_id"]),
            source=str(m["source"]),
            page=int(m["page"]),
            section=str(m.get("section") or ""),
            text=self.text[int(m.get("text_offset", 0)) :],
            start=int(m.get("start", 0)),
            end=int(m.get("end", 0)),
            score=score,
            context=str(m.get("context") or m.get("title") or ""),
        )


class DocumentStore:
    """Chunks in Chroma, documents in the registry; retrieval sees only active versions."""

    def __init__(
        self,
        settings: Settings,
        embeddings_for: Callable[[str], Embeddings],
        new_embedder: str,
        expect_embedder: str | None = None,
        db: sqlite_utils.Database | None = None,
    ):
        """Open the store.

        Args:
            settings: where the store lives.
            embeddings_for: builds the embedding model named by the collection's record.
            new_embedder: the embedder a brand-new collection records.
            expect_embedder: refuse to open unless the collection was built by this embedder.
            db: the registry database (default: ``settings.db_path``).
        """
        self.settings = settings
        self._lock = lock_store(settings)
        try:
            self.client = connect(settings)
            finish_swaps(self.client, settings.collection)
            collection = open_collection(self.client, settings.collection, new_embedder)
            self.embedder = str((collection.metadata or {}).get("embedder") or new_embedder)
            if expect_embedder and expect_embedder != self.embedder:
                raise EmbedderMismatch(
                    f"The document store was built with the embedder '{self.embedder}', not "
                    f"'{expect_embedder}'. Vectors from different models cannot be mixed: use "
                    f"'{self.embedder}', or re-index the documents with the new embedder."
                )
            self.embeddings = embeddings_for(self.embedder)
            self.partitions = Partitions(self.client, settings.collection, self.embedder)
            self.partitions.sync()
            self._sizes: dict[str, int] = {}
            self._sizes_at = -1
            self.db = db if db is not None else open_db(settings.db_path)
            registry.ensure_schema(self.db)
            # Ingest, re-ingest and delete of this process take turns (sessions are threads).
            self.write_lock = threading.RLock()
            self._purge_abandoned()
            self._partition_collections()
        except BaseException:
            self.close()
            raise

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the Chroma client and release the embedded store's lock."""
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- registry views ------------------------------------------------------------------------
    @property
    def index_version(self) -> int:
        """The counter that advances on every change to what is served."""
        return registry.index_version(self.db)

    def documents(self) -> list[dict[str, Any]]:
        """All documents in the registry."""
        return registry.list_documents(self.db)

    # --- chunks ---------------------------------------------------------------------------------
    def add_chunks(
        self, chunks: list[StoredChunk], progress: Callable[[int], None] | None = None
    ) -> None:
        """Embed and store chunks (not served until the registry points at their version)."""
        # Embedding is most of the time; writing 512 chunks per upsert instead of langchain's
        # add_texts per embedding call roughly doubles Chroma's add rate (569 -> 1,188/s).
        for start in range(0, len(chunks), UPSERT_BATCH):
            group = chunks[start : start + UPSERT_BATCH]
            vectors: list[list[float]] = []
            for offset in range(0, len(group), ADD_BATCH):
                batch = group[offset : offset + ADD_BATCH]
                vectors.extend(self.embeddings.embed_documents([c.text for c in batch]))
                if progress and offset + len(batch) < len(group):
                    progress(start + offset + len(batch))
            self.add_embedded(group, vectors)
            if progress:
                progress(start + len(group))

    def add_embedded(self, chunks: list[StoredChunk], vectors: list[list[float]]) -> None:
        """Store chunks whose vectors were computed already, each in its collection's
        partition."""
        groups: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            groups.setdefault(collection_name(chunk.metadata.get("collection")), []).append(i)
        for collection, rows in groups.items():
            partition = self.partitions.for_collection(collection)
            for start in range(0, len(rows), UPSERT_BATCH):
                batch = rows[start : start + UPSERT_BATCH]
                partition.upsert(
                    ids=[chunks[i].chunk_id for i in batch],
                    embeddings=[vectors[i] for i in batch],
                    documents=[chunks[i].text for i in batch],
                    metadatas=[chunks[i].metadata for i in batch],
                )

    def chunks(self) -> list[StoredChunk]:
        """Every chunk of a served version."""
        active = registry.active_versions(self.db)
        out = []
        for cid, text, meta in self.partitions.read():
            if active.get(str(meta.get("doc_id"))) != meta.get("version"):
                continue
            out.append(StoredChunk(cid, text or "", dict(meta or {})))
        return out

    def version_chunks(self, doc_id: str, version: int) -> list[StoredChunk]:
        """The chunks of one version of a document, in no particular order."""
        where = {"$and": [{"doc_id": doc_id}, {"version": version}]}
        out: list[StoredChunk] = []
        for cid, text, meta in self.partitions.read(where):
            out.append(StoredChunk(cid, text or "", dict(meta or {})))
        return out

    def search_by_vector(
        self,
        vector: list[float],
        k: int,
        among_ids: list[str] | None = None,
        collections: frozenset[str] | None = None,
    ) -> list[Passage]:
        """Nearest chunks to a query vector, served versions only (of ``among_ids`` if given).

        ``collections`` limits the search to those collections' partitions, inside the store
        (None: every collection).
        """
        hits = self.nearest(vector, k, among_ids, collections)
        found = self.passages([cid for _, cid in hits], collections)
        out = []
        for score, cid in hits:
            if cid in found:
                passage = found[cid]
                passage.score = passage.vector_score = score
                out.append(passage)
        return out

    def nearest(
        self,
        vector: list[float],
        k: int,
        among_ids: list[str] | None = None,
        collections: frozenset[str] | None = None,
    ) -> list[tuple[float, str]]:
        """(cosine similarity, chunk id) of the ``k`` served chunks nearest ``vector`` (among
        the chunks ``among_ids`` only, if given), best first, searched in the partitions of
        ``collections`` only (None: all); no text is read."""
        active = registry.active_versions(self.db)
        if not active or collections is not None and not collections:
            return []
        # Over-fetched: stale versions may sit in the index until purged.
        among = self._searchable(collections)
        hits = self.partitions.nearest(vector, k * 2 + 4, among, among_ids)
        return [(1.0 - float(d), cid) for d, cid in hits if _served(cid, active)][:k]

    def passages(
        self, chunk_ids: list[str], collections: frozenset[str] | None = None
    ) -> dict[str, Passage]:
        """The served chunks ``chunk_ids`` of ``collections`` (None: all) as passages, by id;
        one read per partition."""
        if not chunk_ids:
            return {}
        active = registry.active_versions(self.db)
        found = self.partitions.fetch(chunk_ids, self._searchable(collections))
        return {
            cid: StoredChunk(cid, text, meta).passage()
            for cid, (text, meta) in found.items()
            if active.get(str(meta.get("doc_id"))) == meta.get("version")
        }

    def _searchable(self, collections: frozenset[str] | None) -> list[Any]:
        """The partitions of ``collections`` (None: all) that hold served documents: each
        partition searched costs a query, an empty one included."""
        version = self.index_version
        if self._sizes_at != version:
            self.partitions.sync(version)
            self._sizes = collection_sizes(self.db)
            self._sizes_at = version
        held = {name for name, count in self._sizes.items() if count}
        return self.partitions.readable(
            frozenset(held if collections is None else held & collections)
        )

    def set_chunk_collection(self, doc_id: str, version: int, collection: str) -> int:
        """Move a version's chunks into ``collection``'s partition; return how many."""
        return self.partitions.move(
            {"$and": [{"doc_id": doc_id}, {"version": version}]}, collection
        )

    def _partition_collections(self) -> None:
        """Give the chunks of a store made before partitions their collection's partition."""
        if registry.meta_value(self.db, "chunk_partitions"):
            return
        for doc in registry.list_documents(self.db):
            self.set_chunk_collection(doc["doc_id"], int(doc["version"]), doc["collection"])
        registry.set_meta_value(self.db, "chunk_partitions", "1")

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        """Remove chunks by id, from whichever partition holds them."""
        self.partitions.delete(ids=chunk_ids)

    def get_passages(self, chunk_ids: Iterable[str]) -> list[Passage]:
        """Fetch chunks by id as passages (any version, any collection)."""
        ids = list(chunk_ids)
        found = self.partitions.fetch(ids) if ids else {}
        return [StoredChunk(i, *found[i]).passage() for i in ids if i in found]

    def purge_stale(self, doc_id: str | None = None, writing_before: str | None = None) -> int:
        """Delete the chunks of versions the registry marks stale (and of write attempts that
        started before ``writing_before``); return how many versions were purged."""
        versions = registry.stale_versions(self.db, writing_before, doc_id)
        for stale_doc, version, served in versions:
            self.partitions.delete(where={"$and": [{"doc_id": stale_doc}, {"version": version}]})
            if not served:  # a retired version's original stays, to be restored
                shutil.rmtree(self.originals_dir(stale_doc) / f"v{version}", ignore_errors=True)
            registry.mark_purged(self.db, stale_doc, version)
        return len(versions)

    def originals_dir(self, doc_id: str) -> Path:
        """Where the uploaded bytes of a document's versions are kept (``v{N}/name``)."""
        return self.settings.data_dir / "uploads" / doc_id

    def _purge_abandoned(self) -> None:
        # Attempts that died mid-write (a crash, a kill) left chunks no version will serve.
        shared = bool(self.settings.chroma_url)
        cutoff = datetime.now(UTC) + (-ABANDONED_AFTER if shared else timedelta(minutes=1))
        purged = self.purge_stale(writing_before=cutoff.isoformat(timespec="seconds"))
        if purged:
            log.info("purged the chunks of %d stale or abandoned document versions", purged)

    def count(self) -> int:
        """Number of chunks in the store (all versions, every partition)."""
        return self.partitions.count()


def _served(chunk_id: str, active: dict[str, int]) -> bool:
    """Whether a chunk id (``<doc>-v<version>-<n>``) belongs to a served version."""
    doc_id, version, _ = (chunk_id.rsplit("-", 2) + ["", ""])[:3]
    return version[1:].isdigit() and active.get(doc_id) == int(version[1:])


def open_store(settings: Settings, db: sqlite_utils.Database | None = None) -> DocumentStore:
    """Open the document store at ``settings``' location, as the app and the CLI do.

    A new store gets Ollama's embedder when Ollama serves it, else the embedded MiniLM (also
    when the model server is down); an existing store keeps the embedder that built it.
    """
    from rag.models.backends import default_embedder, make_embeddings, resolve_backend
    from rag.models.embeddings import DEFAULT_EMBEDDER

    try:
        new_embedder = default_embedder(settings, resolve_backend(settings))
    except BackendUnavailable:
        new_embedder = DEFAULT_EMBEDDER
    return DocumentStore(
        settings, lambda name: make_embeddings(settings, name), new_embedder, db=db
    )
