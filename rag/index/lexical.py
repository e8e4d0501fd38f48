"""Lexical indexes: BM25 over passages and over document profiles, kept in step incrementally.

A passage's indexed text is what was embedded: the identity header (file, title, subject,
period, section) plus the passage. A document's profile is its header alone, so a question
naming a company, a team or a period ranks documents.

When the registry's index version moves, the served (document, version) pairs are compared with
what is indexed: documents removed or replaced leave, only the chunks of new versions are read
and tokenised, and a document moved to another collection is re-labelled in place
(:mod:`rag.index.lexical_bm25` keeps the scores equal to a fresh build's). Each refresh makes a
new snapshot and swaps it in whole, so a failed refresh leaves the previous one serving.

Every passage and profile carries its document's collection, and a search limited to some
collections masks the others out before the top k is taken.

Documents are ranked on a question's *naming* terms only: terms that are much rarer in passage
bodies than in profiles ("Acme", "FY2023": a body page says "the Company"), not topic terms that
are everywhere in both ("travel" in a handbook whose page titles and pages all speak of travel).
That is what keeps the document ranking silent on collections where titles are only topics.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.index.collections import collection_name
from rag.index.lexical_bm25 import EMPTY, Batch, BM25Index, Vocabulary
from rag.index.store import DocumentStore, StoredChunk
from rag.ops.database import fetch
from rag.text.words import tokenize

NAMING_RATIO = 0.5  # a naming term is at most this common in bodies relative to profiles
DOCUMENTS_K = 50  # documents ranked for a question
BULK_DOCUMENTS = 64  # more new documents than this are read in one pass over the store


@dataclass(frozen=True)
class Served:
    """A served document as the registry has it."""

    version: int
    chunks: int  # changes when a held passage is released into the version
    collection: str


@dataclass(frozen=True)
class Indexed:
    """What one served document contributed to the indexes."""

    served: Served
    passages: Batch
    profile: Batch
    body: Batch  # document frequencies of its passage bodies (slots unused)


@dataclass
class Read:
    """A new document's chunks, tokenised."""

    doc_id: str
    served: Served
    ids: list[str]
    tokens: list[np.ndarray]
    profile: np.ndarray
    body_terms: np.ndarray
    body_counts: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """The indexes at one index version; never changed once served."""

    passages: BM25Index = field(default_factory=BM25Index)
    profiles: BM25Index = field(default_factory=BM25Index)
    body_df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    documents: dict[str, Indexed] = field(default_factory=dict)


def served_documents(store: DocumentStore) -> dict[str, Served]:
    """Each served document's version, chunk count and collection, from the registry."""
    rows = fetch(store.db, "select doc_id, version, chunks, collection from documents")
    return {
        str(r["doc_id"]): Served(int(r["version"]), int(r["chunks"] or 0),
                                 collection_name(r["collection"]))
        for r in rows
    }  # fmt: skip


def split_terms(chunk: StoredChunk) -> tuple[list[str], list[str], str]:
    """(all terms, body terms, profile text) of a chunk; the header is tokenised once."""
    offset = int(chunk.metadata.get("text_offset", 0))
    head, body = chunk.text[:offset], chunk.text[offset:]
    body_terms = tokenize(body)
    joined = head[-1:].lower() + body[:1].lower()
    # A term can only straddle the header's end if word characters touch there.
    if len(joined) == 2 and all(c.isalnum() or c in ".'" for c in joined):
        terms = tokenize(chunk.text)
    else:
        terms = tokenize(head) + body_terms
    return terms or [EMPTY], body_terms, head.split(" | ")[0]


def read_document(
    doc_id: str, served: Served, chunks: list[StoredChunk], vocab: Vocabulary
) -> Read:
    """Tokenise one version's chunks (in id order, so any build sees the same profile)."""
    chunks = sorted(chunks, key=lambda c: c.chunk_id)
    tokens, body = [], []
    for chunk in chunks:
        terms, body_terms, _ = split_terms(chunk)
        tokens.append(vocab.encode(terms))
        body.append(np.unique(vocab.encode(body_terms)))
    profile = split_terms(chunks[0])[2] if chunks else ""
    body_terms, body_counts = np.unique(
        np.concatenate(body) if body else np.zeros(0, np.int64), return_counts=True
    )
    return Read(
        doc_id,
        served,
        [c.chunk_id for c in chunks],
        tokens,
        vocab.encode(tokenize(profile) or [EMPTY]),
        body_terms,
        body_counts,
    )


def read_new(
    store: DocumentStore, new: dict[str, Served], vocab: Vocabulary, total: int
) -> list[Read]:
    """Read and tokenise the chunks of new document versions."""
    if len(new) > BULK_DOCUMENTS or sum(s.chunks for s in new.values()) * 2 > total:
        grouped: dict[str, list[StoredChunk]] = {d: [] for d in new}
        for chunk in store.chunks():  # one paged pass instead of a query per document
            doc_id = str(chunk.metadata.get("doc_id"))
            if doc_id in new and chunk.metadata.get("version") == new[doc_id].version:
                grouped[doc_id].append(chunk)
    else:
        grouped = {d: store.version_chunks(d, s.version) for d, s in new.items()}
    return [read_document(d, new[d], grouped[d], vocab) for d in sorted(new)]


def refreshed(
    old: Snapshot,
    served: dict[str, Served],
    read: Callable[[dict[str, Served]], list[Read]],
    code: Callable[[str], int],
) -> Snapshot:
    """The snapshot for ``served``, built from ``old`` by reading only new versions."""
    gone = [d for d, e in old.documents.items() if _replaced(e.served, served.get(d))]
    new = {d: s for d, s in served.items() if d not in old.documents or d in gone}
    reads = read(new)  # the only step that can fail on the store; nothing changed yet
    documents = {d: e for d, e in old.documents.items() if d not in gone}
    passages = old.passages.without([old.documents[d].passages for d in gone])
    profiles = old.profiles.without([old.documents[d].profile for d in gone])
    body_df = old.body_df.copy()
    for d in gone:
        body_df[old.documents[d].body.terms] -= old.documents[d].body.counts
    for d, e in list(documents.items()):
        if e.served.collection != served[d].collection:  # a metadata edit moved it
            passages = passages.regrouped(e.passages.slots, code(served[d].collection))
            profiles = profiles.regrouped(e.profile.slots, code(served[d].collection))
            documents[d] = Indexed(served[d], e.passages, e.profile, e.body)
    codes = [code(r.served.collection) for r in reads]
    passages, passage_batches = passages.added([r.tokens for r in reads], codes,
                                               [r.ids for r in reads])  # fmt: skip
    profiles, profile_batches = profiles.added([[r.profile] for r in reads], codes,
                                               [[r.doc_id] for r in reads])  # fmt: skip
    body_df = _grown(body_df, max(len(passages.df), len(profiles.df)))
    for r, p, q in zip(reads, passage_batches, profile_batches, strict=True):
        body_df[r.body_terms] += r.body_counts
        documents[r.doc_id] = Indexed(r.served, p, q, Batch(p.slots[:0], r.body_terms,
                                                            r.body_counts))  # fmt: skip
    return _compacted(Snapshot(passages, profiles, body_df, documents))


def _replaced(indexed: Served, served: Served | None) -> bool:
    """Whether an indexed document is gone or its chunks changed (new version, released
    passage); a collection change alone keeps its postings."""
    return served is None or (served.version, served.chunks) != (indexed.version, indexed.chunks)


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    if len(array) >= size:
        return array
    out = np.zeros(size, array.dtype)
    out[: len(array)] = array
    return out


def _compacted(s: Snapshot) -> Snapshot:
    """Renumber an index's slots once most are dead, and the documents' slots with it."""
    passages, profiles, documents = s.passages, s.profiles, dict(s.documents)
    if passages.needs_compaction():
        passages, renumber = passages.compacted()
        for d, e in documents.items():
            batch = Batch(renumber[e.passages.slots], e.passages.terms, e.passages.counts)
            documents[d] = Indexed(e.served, batch, e.profile, e.body)
    if profiles.needs_compaction():
        profiles, renumber = profiles.compacted()
        for d, e in documents.items():
            batch = Batch(renumber[e.profile.slots], e.profile.terms, e.profile.counts)
            documents[d] = Indexed(e.served, e.passages, batch, e.body)
    return Snapshot(passages, profiles, s.body_df, documents)


class LexicalIndex:
    """BM25 over the served chunks and over document profiles, updated on index changes."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._version = -1
        self._snapshot = Snapshot()
        self._vocab = Vocabulary()
        self._codes: dict[str, int] = {}  # collection name -> access code (only grows)
        self._lock = threading.Lock()

    @property
    def doc_count(self) -> int:
        """Documents indexed."""
        return self._snapshot.profiles.count

    @property
    def chunk_count(self) -> int:
        """Passages indexed."""
        return self._snapshot.passages.count

    def _code(self, collection: str) -> int:
        return self._codes.setdefault(collection, len(self._codes))

    def _current(self) -> Snapshot:
        """The snapshot for the registry's index version, updated first when it moved."""
        with self._lock:
            version = self.store.index_version
            if version != self._version:
                served = served_documents(self.store)
                total = sum(s.chunks for s in served.values())
                self._snapshot = refreshed(
                    self._snapshot,
                    served,
                    lambda new: read_new(self.store, new, self._vocab, total),
                    self._code,
                )
                self._version = version
            return self._snapshot

    def collection_of(self, doc_id: str) -> str | None:
        """The collection the registry puts a served document in (None: not served)."""
        entry = self._current().documents.get(doc_id)
        return entry.served.collection if entry is not None else None

    def chunk_ids(self, doc_ids: list[str]) -> list[str]:
        """The ids of the indexed chunks of ``doc_ids`` (served versions)."""
        s = self._current()
        ids = s.passages.ids
        return [
            ids[int(slot)]
            for d in doc_ids
            if (entry := s.documents.get(d)) is not None
            for slot in entry.passages.slots
        ]

    def _allowed(self, collections: frozenset[str] | None) -> np.ndarray | None:
        if collections is None:
            return None
        return np.array([self._codes[c] for c in collections if c in self._codes], np.int64)

    def naming_terms(self, terms: list[str]) -> list[str]:
        """The terms that name documents: in profiles, and much rarer in passage bodies."""
        s = self._snapshot
        out = []
        for t in terms:
            i = self._vocab.ids.get(t)
            profile = int(s.profiles.df[i]) if i is not None and i < len(s.profiles.df) else 0
            body = int(s.body_df[i]) if i is not None and i < len(s.body_df) else 0
            if profile and body / max(1, s.passages.count) < NAMING_RATIO * profile / max(
                1, s.profiles.count
            ):
                out.append(t)
        return out

    def rarity(self, terms: list[str]) -> tuple[dict[str, float], float]:
        """IDF of each term over passage bodies, and the IDF of a term no passage has."""
        s = self._current()
        n = s.passages.count
        ids = [self._vocab.ids.get(t) for t in terms]
        body = [int(s.body_df[i]) if i is not None and i < len(s.body_df) else 0 for i in ids]
        return {t: math.log((n + 1.0) / (b + 1.0)) for t, b in zip(terms, body, strict=True)}, (
            math.log(n + 1.0)
        )

    def search(
        self, query: str, k: int, collections: frozenset[str] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to ``k`` (chunk id, BM25 score) pairs with a positive score, from the
        given collections only (every one when None)."""
        s = self._current()
        return s.passages.top(self._vocab.query(tokenize(query)), k, self._allowed(collections))

    def documents(
        self, query: str, collections: frozenset[str] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to ``DOCUMENTS_K`` (doc id, BM25 score) pairs whose profile the query
        names, from the given collections only (every one when None)."""
        s = self._current()
        terms = self._vocab.query(self.naming_terms(tokenize(query)))
        return s.profiles.top(terms, DOCUMENTS_K, self._allowed(collections))
