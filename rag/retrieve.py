"""Hybrid retrieval: BM25 and vector search fused by reciprocal rank, with per-document diversity.

The lexical index is rebuilt from the store's served chunks whenever the index version moves, so
it stays in step with ingestion and deletion. ``GroundworkRetriever`` exposes the same search as a
LangChain retriever, so it appears as a retrieval step in traces.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.store import DocumentStore
from rag.types import Passage

RRF_K = 60
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
# A word list reads better as prose than as 117 quoted strings.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our out over own same she should so some
    such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours""".split()  # noqa: SIM905
)


def _stem(word: str) -> str:
    # A light suffix stripper: enough to match "policies"/"policy", "days"/"day".
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case content-word stems of ``text`` for lexical matching."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class LexicalIndex:
    """BM25 over the served chunks, rebuilt when the store's index version changes."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._version = -1
        self._ids: list[str] = []
        self._bm25 = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        version = self.store.index_version
        if version == self._version:
            return
        import bm25s

        chunks = self.store.chunks()
        self._ids = [c.chunk_id for c in chunks]
        if chunks:
            bm25 = bm25s.BM25()
            bm25.index([tokenize(c.text) or ["\u2205"] for c in chunks], show_progress=False)
            self._bm25 = bm25
        else:
            self._bm25 = None
        self._version = version

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Return up to ``k`` (chunk id, BM25 score) pairs with a positive score."""
        with self._lock:
            self._refresh()
            terms = tokenize(query)
            if self._bm25 is None or not terms:
                return []
            k = min(k, len(self._ids))
            docs, scores = self._bm25.retrieve([terms], k=k, show_progress=False, n_threads=1)
            return [
                (self._ids[int(i)], float(s))
                for i, s in zip(docs[0], scores[0], strict=True)
                if s > 0
            ]


class HybridSearch:
    """Fuse lexical and vector rankings, then keep the list diverse across documents."""

    def __init__(
        self, store: DocumentStore, top_k: int = 5, candidates: int = 30, per_doc: int = 3
    ):
        self.store = store
        self.top_k = top_k
        self.candidates = candidates
        self.per_doc = per_doc
        self.lexical = LexicalIndex(store)

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """Return the best ``k`` passages for ``query``, best first."""
        k = k or self.top_k
        query_vector = self.store.embeddings.embed_query(query)
        vector_hits = self.store.search_by_vector(query_vector, self.candidates)
        lexical_hits = self.lexical.search(query, self.candidates)
        fused: dict[str, float] = defaultdict(float)
        passages: dict[str, Passage] = {}
        for rank, passage in enumerate(vector_hits, 1):
            fused[passage.chunk_id] += 1.0 / (RRF_K + rank)
            passage.vector_rank = rank
            passages[passage.chunk_id] = passage
        missing = [cid for cid, _ in lexical_hits if cid not in passages]
        for passage in self.store.get_passages(missing):
            passages[passage.chunk_id] = passage
        for rank, (cid, _score) in enumerate(lexical_hits, 1):
            if cid in passages:
                fused[cid] += 1.0 / (RRF_K + rank)
                passages[cid].lexical_rank = rank
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        chosen = _diverse([passages[c] for c in ranked], k, self.per_doc)
        self._fill_vector_scores(chosen, query_vector)
        for passage in chosen:
            passage.score = fused[passage.chunk_id]
        return chosen

    def _fill_vector_scores(self, chosen: list[Passage], query_vector: list[float]) -> None:
        # Lexical-only hits lack a cosine score; compute it so evidence strength sees every passage.
        need = [p for p in chosen if p.vector_score is None]
        if not need:
            return
        vectors = np.asarray(self.store.embeddings.embed_documents([p.text for p in need]))
        for passage, score in zip(need, vectors @ np.asarray(query_vector), strict=True):
            passage.vector_score = float(score)


def _diverse(ranked: list[Passage], k: int, per_doc: int) -> list[Passage]:
    """Take the best ``k``, at most ``per_doc`` per document while others remain."""
    chosen: list[Passage] = []
    count: dict[str, int] = defaultdict(int)
    overflow: list[Passage] = []
    for passage in ranked:
        if count[passage.doc_id] < per_doc:
            chosen.append(passage)
            count[passage.doc_id] += 1
        else:
            overflow.append(passage)
        if len(chosen) == k:
            return chosen
    return chosen + overflow[: k - len(chosen)]


class GroundworkRetriever(BaseRetriever):
    """LangChain retriever over ``HybridSearch``; documents carry the passage in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={"source": p.source, "page": p.page, "section": p.section, "passage": p},
            )
            for p in self.search.search(query, self.k)
        ]
