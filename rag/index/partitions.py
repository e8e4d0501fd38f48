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
from typing import Any

from rag.index.chroma import create_collection, rebuild_name
from rag.index.registry import DEFAULT_COLLECTION

PARTITION_MARK = "-p-"


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


def rebuild_names(client: Any, base: str) -> list[tuple[str, str]]:
    """(partition, its rebuild's name) for every partition of ``base``."""
    names = {c.name for c in client.list_collections()}
    return [(n, rebuild_name(n)) for n in sorted(names) if is_partition(base, n)]
