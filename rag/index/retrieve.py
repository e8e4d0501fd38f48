"""Hybrid, document-aware retrieval: rankings gathered, weighed by what they say, fused.

For a question, three rankings are gathered (:meth:`HybridSearch.rankings`):

* **vector**: passages nearest the question's embedding (every chunk embeds its document's
  identity header, so this already knows documents somewhat);
* **lexical**: BM25 over the same header + passage text;
* **documents**: BM25 over document profiles (file name, title, subject, period), so a
  question naming a company, team, product or period ranks that document first; the nearest
  passages of the top documents join the candidates (documents first, then passages).

:func:`fuse` scores each candidate by weighted reciprocal rank of its passage rankings, plus
its document's profile score as a share of the best document's (in the same units as a
first-place rank). What keeps a ranking from speaking when it knows nothing is upstream: the
document ranking only counts a question's *naming* terms (:mod:`rag.index.lexical`), so it is silent
on a question that names no document. ``Fusion.adaptive`` additionally scales the lexical and
document weights by their score margins (how far the best score stands above the median); it
is measured by the suite but, chosen leave-one-corpus-out, did not beat fixed weights, so the
shipped :data:`DEFAULT_FUSION` leaves it off.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.guardrails.private import unredacted
from rag.index.lexical import LexicalIndex
from rag.index.store import DocumentStore
from rag.text.words import META_WORDS, tokenize
from rag.types import Passage

RRF_K = 60
CANDIDATES = 30  # passages each global ranking contributes
PER_DOC = 3  # passages of one document in the answer while others remain
FOCUS_DOCS = 3  # documents whose own nearest passages join the candidates
FOCUS_PASSAGES = 10

__all__ = ["DEFAULT_FUSION", "Fusion", "GroundworkRetriever", "HybridSearch", "fuse"]


@dataclass(frozen=True)
class Fusion:
    """Weights of the rankings in fusion; ``adaptive`` scales them by their score margins."""

    vector: float = 1.0
    lexical: float = 1.0
    document: float = 1.0
    adaptive: bool = True

    def label(self) -> str:
        """Short name, e.g. ``v1 l0.5 d1 adaptive``."""
        mode = "adaptive" if self.adaptive else "fixed"
        return f"v{self.vector:g} l{self.lexical:g} d{self.document:g} {mode}"


# Best on the five development corpora together (python -m rag eval --suite evals/suite.json
# --tune); the README reports each corpus with weights fitted on the other four instead.
DEFAULT_FUSION = Fusion(vector=1.0, lexical=1.0, document=0.5, adaptive=False)


@dataclass
class Rankings:
    """Everything fusion needs about one question, gathered once."""

    passages: dict[str, Passage] = field(default_factory=dict)
    vector: list[str] = field(default_factory=list)  # chunk ids, best first
    lexical: list[str] = field(default_factory=list)
    lexical_scores: list[float] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # doc ids, best first
    document_scores: list[float] = field(default_factory=list)
    document_count: int = 0
    focused: list[str] = field(default_factory=list)  # nearest passages of the top documents
    query_vector: list[float] = field(default_factory=list)


def margin(scores: list[float], population: int | None = None) -> float:
    """How far the best score stands above the median, as a share of the best (0..1).

    Args:
        scores: a ranking's scores, best first (only the positive ones, for BM25).
        population: how many items were ranked in all; the unlisted ones count as 0.
    """
    if not scores or scores[0] <= 0:
        return 0.0
    values = list(scores) + [0.0] * max(0, (population or len(scores)) - len(scores))
    return float(min(1.0, max(0.0, 1.0 - statistics.median(values) / scores[0])))


def fuse(r: Rankings, fusion: Fusion, k: int, per_doc: int = PER_DOC) -> list[Passage]:
    """Rank the gathered candidates by weighted reciprocal rank; keep it diverse."""
    w_vec, w_lex, w_doc = fusion.vector, fusion.lexical, fusion.document
    if fusion.adaptive:
        w_lex *= margin(r.lexical_scores)
        w_doc *= margin(r.document_scores, r.document_count)
    fused: dict[str, float] = defaultdict(float)
    for rank, cid in enumerate(r.vector, 1):
        fused[cid] += w_vec / (RRF_K + rank)
    for rank, cid in enumerate(r.lexical, 1):
        fused[cid] += w_lex / (RRF_K + rank)
    for cid in r.focused:
        fused.setdefault(cid, 0.0)  # a candidate even when neither global ranking found it
    # Documents count by score, not rank: "names this company and this quarter" against
    # "names this company" is a gap that ranks alone would flatten.
    best = r.document_scores[0] if r.document_scores else 0.0
    doc_share = (
        {d: s / best for d, s in zip(r.documents, r.document_scores, strict=True)}
        if best > 0
        else {}
    )
    in_vector = set(r.vector)
    focus_rank = {cid: i for i, cid in enumerate(r.focused, 1) if cid not in in_vector}
    for cid in fused:
        passage = r.passages.get(cid)
        if passage is None:
            continue
        if passage.doc_id in doc_share:
            fused[cid] += w_doc * doc_share[passage.doc_id] / (RRF_K + 1)
        if cid in focus_rank:
            # its rank among its own document's nearest passages stands in for the global one
            fused[cid] += w_vec / (RRF_K + len(r.vector) + focus_rank[cid])
    ranked = sorted((c for c in fused if c in r.passages), key=fused.__getitem__, reverse=True)
    chosen = _diverse([r.passages[c] for c in ranked], k, per_doc)
    for passage in chosen:
        passage.score = fused[passage.chunk_id]
    return chosen


class HybridSearch:
    """Gather vector, lexical and document rankings for a question and fuse them."""

    def __init__(self, store: DocumentStore, top_k: int = 5):
        self.store = store
        self.top_k = top_k
        self.lexical = LexicalIndex(store)

    def rankings(self, query: str, collections: frozenset[str] | None = None) -> Rankings:
        """Gather the three rankings and their candidates for ``query``.

        ``collections`` limits every ranking to passages of those collections, filtered inside
        the vector store and the lexical index (None: every collection).
        """
        store = self.store
        r = Rankings(query_vector=store.embeddings.embed_query(query))
        vector = store.nearest(r.query_vector, CANDIDATES, collections=collections)
        lexical_hits = self.lexical.search(query, CANDIDATES, collections)
        r.lexical = [cid for cid, _ in lexical_hits]
        r.lexical_scores = [score for _, score in lexical_hits]
        documents = self.lexical.documents(query, collections)
        r.documents = [d for d, _ in documents]
        r.document_scores = [s for _, s in documents]
        r.document_count = self.lexical.doc_count
        focus: list[tuple[float, str]] = []
        if r.documents and margin(r.document_scores, r.document_count) > 0:
            top = self.lexical.chunk_ids(r.documents[:FOCUS_DOCS])
            focus = store.nearest(r.query_vector, FOCUS_PASSAGES, top, collections)
        # Text is read once, for every candidate at once: reads cost more than the searches.
        wanted = dict.fromkeys([c for _, c in vector] + r.lexical + [c for _, c in focus])
        found = store.passages(list(wanted), collections)
        for rank, (score, cid) in enumerate((h for h in vector if h[1] in found), 1):
            passage = r.passages[cid] = found[cid]
            passage.score = passage.vector_score = score
            passage.vector_rank = rank
            r.vector.append(cid)
        for score, cid in focus:
            if cid in found:
                passage = r.passages.setdefault(cid, found[cid])
                if passage.vector_score is None:
                    passage.score = passage.vector_score = score
                r.focused.append(cid)
        for rank, cid in enumerate(r.lexical, 1):
            if cid in found:
                r.passages.setdefault(cid, found[cid]).lexical_rank = rank
        if collections is not None:
            self._confirm_scope(r, collections)
        return r

    def _confirm_scope(self, r: Rankings, collections: frozenset[str]) -> None:
        """Check every candidate's document against the registry too (as the lexical index
        read it for this index version), so a document whose move between collections was
        interrupted is hidden rather than shown."""
        allowed = {
            cid
            for cid, p in r.passages.items()
            if self.lexical.collection_of(p.doc_id) in collections
        }
        r.passages = {cid: p for cid, p in r.passages.items() if cid in allowed}
        r.vector = [c for c in r.vector if c in allowed]
        kept = [(c, s) for c, s in zip(r.lexical, r.lexical_scores, strict=True) if c in allowed]
        r.lexical, r.lexical_scores = [c for c, _ in kept], [s for _, s in kept]
        r.focused = [c for c in r.focused if c in allowed]

    def search(
        self, query: str, k: int | None = None, collections: frozenset[str] | None = None
    ) -> list[Passage]:
        """Return the best ``k`` passages for ``query`` (of ``collections``), best first."""
        return self.top(self.rankings(query, collections), k)

    def top(self, r: Rankings, k: int | None = None, fusion: Fusion | None = None) -> list[Passage]:
        """Fuse gathered rankings (with ``fusion``, the shipped one by default) into the best
        ``k`` passages, each with a cosine score."""
        chosen = fuse(r, fusion or DEFAULT_FUSION, k or self.top_k)
        self._fill_vector_scores(chosen, r.query_vector)
        return chosen

    def _fill_vector_scores(self, chosen: list[Passage], query_vector: list[float]) -> None:
        """Give lexical-only hits a cosine score, so evidence strength sees every passage."""
        need = [p for p in chosen if p.vector_score is None]
        if not need:
            return
        vectors = np.asarray(self.store.embeddings.embed_documents([p.text for p in need]))
        for passage, score in zip(need, vectors @ np.asarray(query_vector), strict=True):
            passage.vector_score = float(score)


_META_TERMS = frozenset(t for w in META_WORDS for t in tokenize(w))


def question_terms(question: str) -> list[str]:
    """The question's content terms, without words about the conversation ("documents")."""
    return [t for t in tokenize(question) if t not in _META_TERMS]


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
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        collections: frozenset[str] | None = None,
    ) -> list[Document]:
        """The passages for ``query`` from ``collections`` (None: every collection)."""
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={"source": p.source, "page": p.page, "section": p.section, "passage": p},
            )
            # The traced query has the user's personal data redacted; the search itself is
            # local and finds more with the words they typed.
            for p in self.search.search(unredacted(query), self.k, collections)
        ]
