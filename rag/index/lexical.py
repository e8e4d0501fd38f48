"""Lexical indexes: BM25 over passages and over document profiles.

Both are rebuilt from the store whenever its index version moves, so they stay in step with
ingestion, deletion and context edits. A passage's indexed text is what was embedded: the
identity header (file, title, subject, period, section) plus the passage. A document's profile
is its header alone, so a question naming a company, a team or a period ranks documents.

Documents are ranked on a question's *naming* terms only: terms that are much rarer in passage
bodies than in profiles ("Acme", "FY2023": a body page says "the Company"), not topic terms that
are everywhere in both ("travel" in a handbook whose page titles and pages all speak of travel).
That is what keeps the document ranking silent on collections where titles are only topics.
"""

from __future__ import annotations

import math
import threading
from collections import Counter

from rag.index.store import DocumentStore
from rag.text.words import tokenize


class _BM25:
    """A bm25s index over (id, text) pairs."""

    def __init__(self, items: list[tuple[str, str]]):
        import bm25s

        self.ids = [i for i, _ in items]
        self.index = None
        if items:
            self.index = bm25s.BM25()
            self.index.index([tokenize(t) or ["\u2205"] for _, t in items], show_progress=False)

    def search(self, terms: list[str], k: int) -> list[tuple[str, float]]:
        if self.index is None or not terms:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.index.retrieve([terms], k=k, show_progress=False, n_threads=1)
        return [
            (self.ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]


NAMING_RATIO = 0.5  # a naming term is at most this common in bodies relative to profiles
DOCUMENTS_K = 50  # documents ranked for a question


class LexicalIndex:
    """BM25 over the served chunks and over document profiles, rebuilt on index changes."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._version = -1
        self._passages = _BM25([])
        self._documents = _BM25([])
        self.doc_count = 0
        self.chunk_count = 0
        self._body_rate: dict[str, float] = {}
        self._profile_rate: dict[str, float] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        version = self.store.index_version
        if version == self._version:
            return
        chunks = self.store.chunks()
        self._passages = _BM25([(c.chunk_id, c.text) for c in chunks])
        profiles: dict[str, str] = {}
        body_df: Counter[str] = Counter()
        for c in chunks:  # a document's profile: its identity header without the section
            offset = int(c.metadata.get("text_offset", 0))
            doc_id = str(c.metadata.get("doc_id"))
            if doc_id not in profiles:
                profiles[doc_id] = c.text[:offset].split(" | ")[0]
            body_df.update(set(tokenize(c.text[offset:])))
        profile_df: Counter[str] = Counter()
        for profile in profiles.values():
            profile_df.update(set(tokenize(profile)))
        self._documents = _BM25(list(profiles.items()))
        self.doc_count = len(profiles)
        self.chunk_count = len(chunks)
        self._body_rate = {t: n / max(1, len(chunks)) for t, n in body_df.items()}
        self._profile_rate = {t: n / max(1, len(profiles)) for t, n in profile_df.items()}
        self._version = version

    def naming_terms(self, terms: list[str]) -> list[str]:
        """The terms that name documents: in profiles, and much rarer in passage bodies."""
        return [
            t
            for t in terms
            if t in self._profile_rate
            and self._body_rate.get(t, 0.0) < NAMING_RATIO * self._profile_rate[t]
        ]

    def rarity(self, terms: list[str]) -> tuple[dict[str, float], float]:
        """IDF of each term over passage bodies, and the IDF of a term no passage has."""
        with self._lock:
            self._refresh()
            n = self.chunk_count
            top = math.log(n + 1.0)
            return {
                t: math.log((n + 1.0) / (self._body_rate.get(t, 0.0) * n + 1.0)) for t in terms
            }, top

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Return up to ``k`` (chunk id, BM25 score) pairs with a positive score."""
        with self._lock:
            self._refresh()
            return self._passages.search(tokenize(query), k)

    def documents(self, query: str) -> list[tuple[str, float]]:
        """Return up to ``DOCUMENTS_K`` (doc id, BM25 score) pairs whose profile the query
        names."""
        with self._lock:
            self._refresh()
            return self._documents.search(self.naming_terms(tokenize(query)), DOCUMENTS_K)
