"""Partitions: one Chroma collection per document collection, so reading is limited by
collection inside the store without a metadata filter.

Chroma answers a query with a ``where`` filter by first listing the matching rows from its
metadata tables, which grows with the rows that match: 40 ms for 12,500 of 50,000 chunks here,
100 ms for 37,500, against 4 ms for an unfiltered query. So each document collection's chunks
live in a Chroma collection of their own (``general``'s in the store's base collection, any
other in ``<base>-p-<hash>``) and a scoped search queries only the partitions the asker may
read, each without a filter; every chunk still carries its collection in its metadata.

A re-index rebuilds every partition beside the old one and swaps them all; a swap interrupted
by a crash is finished the next time the store opens, so vectors of two embedders never serve
together.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from rag.index.chroma import create_collection, rebuild_name
from rag.index.registry import DEFAULT_COLLECTION

PARTITION_MARK = "-p-"
READ_PAGE = 5000  # chunks per read: SQLite refuses a query with too many variables at once
WRITE_BATCH = 512  # chunks per Chroma write


def partition_name(base: str, collection: str) -> str:
    """The Chroma collection holding ``collection``'s chunks."""
    if collection == DEFAULT_COLLECTION:
        return base
    return f"{base}{PARTITION_MARK}{hashlib.sha1(collection.encode()).hexdigest()[:12]}"


def is_partition(base: str, name: str) -> bool:
    """Whether the Chroma collection ``name`` is one of ``base``'s partitions (not a rebuild)."""
    if name == base:
        return True
    tail = name.removeprefix(base + PARTITION_MARK)
    return tail != name and len(tail) == 12 and all(c in "0123456789abcdef" for c in tail)


def finish_swaps(client: Any, base: str) -> None:
    """Finish a re-index whose swap a crash interrupted.

    Once any partition exists only as its rebuild, the copy was complete and the swap had
    begun: every partition that still has both is swapped too. Before that, the old partitions
    keep serving (the next re-index starts its rebuilds over).
    """
    names = {c.name for c in client.list_collections()}
    rebuilt = [n for n in names if n.endswith("-reindex") and is_partition(base, n[:-8])]
    if not any(n[:-8] not in names for n in rebuilt):
        return
    for name in rebuilt:
        old = name[: -len("-reindex")]
        if old in names:
            client.delete_collection(old)
        client.get_collection(name).modify(name=old)


class Partitions:
    """The Chroma collections of one store, by document collection."""

    def __init__(self, client: Any, base: str, embedder: str):
        self.client, self.base, self.embedder = client, base, embedder
        self._lock = threading.Lock()
        self._known: dict[str, Any] = {}
        self._version: object = None

    def sync(self, version: object = None) -> None:
        """Learn the partitions that exist (another process may have made one) when the
        store's index version has moved since the last look."""
        if version is not None and version == self._version:
            return
        found = {
            c.name: c for c in self.client.list_collections() if is_partition(self.base, c.name)
        }
        with self._lock:
            self._known = {n: self._known.get(n) or self.client.get_collection(n) for n in found}
            self._version = version

    def all(self) -> list[Any]:
        """Every partition, the base first."""
        with self._lock:
            return [self._known[n] for n in sorted(self._known, key=lambda n: n != self.base)]

    def readable(self, collections: frozenset[str] | None) -> list[Any]:
        """The partitions of ``collections`` that exist (all of them for None)."""
        if collections is None:
            return self.all()
        with self._lock:
            names = {partition_name(self.base, c) for c in collections}
            return [self._known[n] for n in sorted(names) if n in self._known]

    def for_collection(self, collection: str) -> Any:
        """The partition of ``collection``, created (recording the store's embedder) if new."""
        name = partition_name(self.base, collection)
        with self._lock:
            if name in self._known:
                return self._known[name]
        existing = {c.name for c in self.client.list_collections()}
        made = (
            self.client.get_collection(name)
            if name in existing
            else create_collection(self.client, name, self.embedder)
        )
        with self._lock:
            self._known[name] = made
            return made

    def names(self) -> list[str]:
        """The Chroma names of every partition."""
        return [c.name for c in self.all()]

    # --- reading and writing across partitions ------------------------------------------------
    def read(self, where: dict[str, Any] | None = None) -> Iterator[tuple[str, str, dict]]:
        """Yield (id, text, metadata) of every chunk (matching ``where``), a page at a time."""
        for partition in self.all():
            offset = 0
            while True:
                got = partition.get(
                    where=where, include=["documents", "metadatas"], limit=READ_PAGE, offset=offset
                )
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                           strict=True):  # fmt: skip
                    yield cid, text or "", dict(meta or {})
                if len(got["ids"]) < READ_PAGE:
                    break
                offset += READ_PAGE

    def fetch(self, ids: list[str], among: list[Any] | None = None) -> dict[str, tuple[str, dict]]:
        """Text and metadata of the chunks ``ids``, looked for in ``among`` (default: all)."""
        found: dict[str, tuple[str, dict]] = {}
        for partition in among if among is not None else self.all():
            missing = [i for i in ids if i not in found]
            if not missing:
                break
            got = partition.get(ids=missing, include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                found[cid] = (text or "", dict(meta or {}))
        return found

    def nearest(
        self, vector: list[float], n: int, among: list[Any], ids: list[str] | None = None
    ) -> list[tuple[float, str]]:
        """(cosine distance, id) of the ``n`` chunks nearest ``vector`` in each partition of
        ``among`` (of the chunks ``ids`` only, if given), nearest first."""
        hits: list[tuple[float, str]] = []
        for partition in among:
            if ids is not None:
                hits.extend(_nearest_of(partition, vector, n, ids))
                continue
            got = partition.query(query_embeddings=[vector], n_results=n, include=["distances"])
            hits.extend(zip(got["distances"][0], got["ids"][0], strict=True))
        return sorted(hits)

    def move(self, where: dict[str, Any], collection: str) -> int:
        """Move the chunks matching ``where`` into ``collection``'s partition, labelled with
        it; return how many. Copied first, then deleted from the old partition (the vectors
        are reused, not recomputed)."""
        target = self.for_collection(collection)
        moved = 0
        for partition in self.all():
            same = partition is target
            got = partition.get(
                where=where,
                include=["metadatas"] if same else ["embeddings", "documents", "metadatas"],
            )
            ids = got["ids"]
            for start in range(0, len(ids), WRITE_BATCH):
                part = slice(start, start + WRITE_BATCH)
                metas = [{**m, "collection": collection} for m in got["metadatas"][part]]
                if same:
                    partition.update(ids=ids[part], metadatas=metas)
                    continue
                target.upsert(ids=ids[part], embeddings=got["embeddings"][part],
                              documents=got["documents"][part], metadatas=metas)  # fmt: skip
                partition.delete(ids=ids[part])
            moved += len(ids)
        return moved

    def delete(self, ids: list[str] | None = None, where: dict[str, Any] | None = None) -> None:
        """Delete chunks by id or by ``where`` from every partition."""
        for partition in self.all():
            partition.delete(ids=ids, where=where)

    def count(self) -> int:
        """Chunks in every partition (all versions)."""
        return sum(partition.count() for partition in self.all())


def _nearest_of(partition: Any, vector: list[float], n: int, ids: list[str]) -> list:
    """(distance, id) of the ``n`` chunks of ``ids`` nearest ``vector`` in one partition.

    Their vectors are read by id and ranked here: much faster than a filtered Chroma query
    (a read by primary key against a metadata scan of the whole partition).
    """
    if not ids:
        return []
    got = partition.get(ids=list(ids), include=["embeddings"])
    if not len(got["ids"]):
        return []
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    query = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
    distances = 1.0 - (matrix @ query) / np.where(norms == 0, 1.0, norms)
    best = np.argsort(distances, kind="stable")[:n]
    return [(float(distances[i]), got["ids"][i]) for i in best]


def rebuild_names(client: Any, base: str) -> list[tuple[str, str]]:
    """(partition, its rebuild's name) for every partition of ``base``."""
    names = {c.name for c in client.list_collections()}
    return [(n, rebuild_name(n)) for n in sorted(names) if is_partition(base, n)]
