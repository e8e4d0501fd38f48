"""An incremental BM25 index: immutable posting segments, tombstones and live statistics.

Items (passages, document profiles) get a *slot* when added; each add writes one immutable
segment of postings (term → slots and term frequencies), a removal only clears the slots'
``live`` flags and takes their counts out of the document frequencies and lengths. Scores are
computed at query time from those live statistics, so they equal Lucene-variant BM25 (as
bm25s computes it: k1 1.5, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))) over the live
items, however the index got there. Small segments are merged as they pile up, and the slots
are renumbered once dead ones outnumber the living.

Every update returns a new :class:`BM25Index` and leaves the old one untouched, so a reader
holding the old one keeps a consistent view and a failed update changes nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

K1 = 1.5
B = 0.75
EMPTY = "\u2205"  # the one term of an item with no terms (it still counts, with length 1)
MERGE_RATIO = 4  # merge the newest segment into the previous while that is under 4x its size
COMPACT_MIN_DEAD = 1024  # renumber slots once at least this many are dead, and most are


class Vocabulary:
    """Term ids, shared by indexes and only ever growing (an unused id costs nothing)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def encode(self, terms: list[str]) -> np.ndarray:
        """The ids of ``terms`` (new terms get new ids)."""
        ids = self.ids
        return np.fromiter((ids.setdefault(t, len(ids)) for t in terms), np.int64, len(terms))

    def query(self, terms: list[str]) -> list[tuple[int, int]]:
        """(term id, how many times) of the known query terms, in order of first use."""
        counts = Counter(t for t in terms if t in self.ids)
        return [(self.ids[t], n) for t, n in counts.items()]


@dataclass(frozen=True)
class Segment:
    """Postings of one batch of items, grouped by term (CSR: ``ptr`` indexes ``slots``)."""

    terms: np.ndarray  # sorted distinct term ids
    ptr: np.ndarray
    slots: np.ndarray
    tfs: np.ndarray

    @classmethod
    def build(cls, terms: np.ndarray, slots: np.ndarray, tfs: np.ndarray) -> Segment:
        """Group (term, slot, tf) postings by term."""
        order = np.lexsort((slots, terms))
        terms, slots, tfs = terms[order], slots[order], tfs[order]
        distinct, starts = np.unique(terms, return_index=True)
        ptr = np.append(starts, len(terms)).astype(np.int64)
        # int32 slots and float32 frequencies (exact for counts) halve the postings' memory
        return cls(distinct, ptr, slots.astype(np.int32), tfs.astype(np.float32))

    @property
    def size(self) -> int:
        return len(self.slots)

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots, term frequencies) of one term."""
        i = int(np.searchsorted(self.terms, term))
        if i == len(self.terms) or self.terms[i] != term:
            return self.slots[:0], self.tfs[:0]
        return self.slots[self.ptr[i] : self.ptr[i + 1]], self.tfs[self.ptr[i] : self.ptr[i + 1]]

    def expanded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every posting as (term, slot, tf)."""
        return np.repeat(self.terms, np.diff(self.ptr)), self.slots, self.tfs


def merged(segments: list[Segment], keep: np.ndarray, renumber: np.ndarray | None) -> Segment:
    """One segment of the postings of ``segments`` whose slots are kept (renumbered)."""
    parts = [s.expanded() for s in segments]
    terms, slots, tfs = (np.concatenate([p[i] for p in parts]) for i in range(3))
    alive = keep[slots]
    terms, slots, tfs = terms[alive], slots[alive], tfs[alive]
    return Segment.build(terms, renumber[slots] if renumber is not None else slots, tfs)


@dataclass(frozen=True)
class Batch:
    """What an added item group contributed: its slots and document frequencies."""

    slots: np.ndarray
    terms: np.ndarray
    counts: np.ndarray


def _postings(items: list[np.ndarray], first: int) -> tuple[np.ndarray, ...]:
    """(term, slot, tf) postings of items numbered from ``first``, sorted by slot."""
    lengths = np.array([len(t) for t in items], dtype=np.int64)
    if not items:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    slots = np.repeat(np.arange(first, first + len(items), dtype=np.int64), lengths)
    keys, tfs = np.unique((slots << 32) | np.concatenate(items), return_counts=True)
    return keys & 0xFFFFFFFF, keys >> 32, tfs


@dataclass(frozen=True)
class BM25Index:
    """BM25 over live slots; ``group`` holds each slot's access group for masks."""

    segments: tuple[Segment, ...] = ()
    ids: tuple[str, ...] = ()
    length: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    live: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    count: int = 0  # live items
    total_length: int = 0  # of live items

    def added(
        self, groups: list[list[np.ndarray]], codes: list[int], ids: list[list[str]]
    ) -> tuple[BM25Index, list[Batch]]:
        """Add groups of items (token-id arrays, with ids), each group under an access code.

        Returns the new index and, per group, the :class:`Batch` that removes it again.
        """
        first = len(self.ids)
        items = [tokens for group in groups for tokens in group]
        terms, slots, tfs = _postings(items, first)
        vocab = max(len(self.df), int(terms.max()) + 1 if len(terms) else 0)
        df = np.zeros(vocab, np.int64)
        df[: len(self.df)] = self.df
        batches, start = [], 0
        for group in groups:
            lo, hi = np.searchsorted(slots, [first + start, first + start + len(group)])
            distinct, counts = np.unique(terms[lo:hi], return_counts=True)
            df[distinct] += counts
            span = np.arange(first + start, first + start + len(group), dtype=np.int64)
            batches.append(Batch(span, distinct, counts))
            start += len(group)
        lengths = np.array([len(t) for t in items], dtype=np.int64)
        segments = list(self.segments)
        if len(terms):
            segments.append(Segment.build(terms, slots, tfs))
        code_of_item = np.repeat(np.array(codes, np.int64), [len(g) for g in groups])
        index = replace(
            self,
            segments=tuple(segments),
            ids=self.ids + tuple(i for group in ids for i in group),
            length=np.concatenate([self.length, lengths]),
            live=np.concatenate([self.live, np.ones(len(items), bool)]),
            group=np.concatenate([self.group, code_of_item]),
            df=df,
            count=self.count + len(items),
            total_length=self.total_length + int(lengths.sum()),
        )
        return index._merged_tail(), batches

    def without(self, batches: list[Batch]) -> BM25Index:
        """Remove the items of ``batches`` (their slots stay, dead, until compaction)."""
        if not batches:
            return self
        live, df = self.live.copy(), self.df.copy()
        count, total = self.count, self.total_length
        for batch in batches:
            live[batch.slots] = False
            df[batch.terms] -= batch.counts
            count -= len(batch.slots)
            total -= int(self.length[batch.slots].sum())
        return replace(self, live=live, df=df, count=count, total_length=total)

    def regrouped(self, slots: np.ndarray, code: int) -> BM25Index:
        """Put ``slots`` under another access code."""
        group = self.group.copy()
        group[slots] = code
        return replace(self, group=group)

    def _merged_tail(self) -> BM25Index:
        segments = list(self.segments)
        while len(segments) > 1 and segments[-2].size < MERGE_RATIO * segments[-1].size:
            tail = merged(segments[-2:], self.live, None)
            segments[-2:] = [tail]
        return replace(self, segments=tuple(segments))

    def needs_compaction(self) -> bool:
        """Whether dead slots are many enough, and most, to renumber."""
        dead = len(self.ids) - self.count
        return dead >= COMPACT_MIN_DEAD and dead > self.count

    def compacted(self) -> tuple[BM25Index, np.ndarray]:
        """Drop dead slots; return the index and each old slot's new number (-1: dropped)."""
        keep = np.flatnonzero(self.live)
        renumber = np.full(len(self.ids), -1, np.int64)
        renumber[keep] = np.arange(len(keep))
        segments = (merged(list(self.segments), self.live, renumber),) if self.segments else ()
        index = replace(
            self,
            segments=segments,
            ids=tuple(self.ids[i] for i in keep),
            length=self.length[keep],
            live=np.ones(len(keep), bool),
            group=self.group[keep],
        )
        return index, renumber

    def scores(self, query: list[tuple[int, int]]) -> np.ndarray:
        """BM25 score of every slot (dead ones included; mask them) for (term id, times)."""
        out = np.zeros(len(self.ids), np.float64)
        if not self.count:
            return out
        n, avg = self.count, self.total_length / self.count
        for term, times in query:
            df = int(self.df[term]) if term < len(self.df) else 0
            if df <= 0:
                continue
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for segment in self.segments:
                slots, tfs = segment.postings(term)
                if len(slots):
                    norm = K1 * ((1.0 - B) + B * self.length[slots] / avg)
                    out[slots] += times * idf * (tfs / (tfs + norm))
        return out

    def top(
        self, query: list[tuple[int, int]], k: int, codes: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Up to ``k`` (id, score) with a positive score, best first (ties by id), among live
        slots whose access code is in ``codes`` (all when None)."""
        scores = self.scores(query)
        allowed = self.live if codes is None else self.live & np.isin(self.group, codes)
        candidates = np.flatnonzero((scores > 0) & allowed)
        if k <= 0 or not len(candidates):
            return []
        values = scores[candidates]
        if len(candidates) > k:  # everything tied with the k-th stays, for a stable order
            kth = np.partition(values, len(values) - k)[len(values) - k]
            candidates, values = candidates[values >= kth], values[values >= kth]
        ranked = sorted(
            zip(values.tolist(), candidates.tolist(), strict=True),
            key=lambda p: (-p[0], self.ids[p[1]]),
        )
        return [(self.ids[slot], score) for score, slot in ranked[:k]]
