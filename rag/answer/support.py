"""Whether the passages support one claim, and which passage it rests on.

The passages are cut into units (each sentence, and each pair of adjacent sentences). A claim's
support score against a passage is ``(1 - w) * cosine + w * coverage`` over that passage's
closest unit, where coverage is the share of the claim's content words found there. A passage
supports the claim when the score reaches the threshold (or the claim's figures are anchored in
its rows), every hard fact is stated or computed there, and nothing in it contradicts the claim
(:mod:`rag.answer.polarity`, :mod:`rag.answer.quantities`, names found away from the evidence).
The cited passages are preferred; another supporting passage re-attributes the claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answer import polarity, quantities
from rag.answer.verdict import SentenceCheck
from rag.text.factmatch import FRAME_WORDS, YEARS, is_abbreviation, passage_words
from rag.text.facts import FactIndex, extract_facts, number_key
from rag.text.sentences import split_sentences
from rag.text.words import STOPWORDS, content_words
from rag.types import Passage

_YEAR_KEYS = frozenset(number_key(y) for y in YEARS)
_LEXICAL_WEIGHT = 0.4  # share of content-word coverage in the support score
_PAIR_MARGIN = 0.03  # a sentence pair must beat a single sentence by this to be the evidence
_MAX_PASSAGE_SENTENCES = 40  # per passage: bounds embedding cost on huge chunks


def passage_sentences(passage: Passage) -> list[str]:
    """The sentences of a passage (at most ``_MAX_PASSAGE_SENTENCES``)."""
    return split_sentences(passage.text)[:_MAX_PASSAGE_SENTENCES]


def coverage(claim_words: set[str], unit_words: set[str]) -> float:
    """The share of ``claim_words`` found in ``unit_words`` (0 when the claim has none)."""
    return len(claim_words & unit_words) / len(claim_words) if claim_words else 0.0


@dataclass
class Units:
    """Passage sentences and adjacent pairs, with their passage numbers and vectors."""

    texts: list[str]
    passage: list[int]
    pair: list[bool]
    vectors: np.ndarray
    passage_words: list[set[str]]
    passage_texts: list[str]
    passage_contexts: list[str]

    @classmethod
    def build(
        cls, passages: list[Passage], sentence_vectors: np.ndarray, per: list[list[str]]
    ) -> Units:
        """Lay out ``per`` (each passage's sentences, embedded in ``sentence_vectors``)."""
        texts, owner, pair, rows = [], [], [], []
        k = 0
        for number, sentences in enumerate(per, start=1):
            vecs = sentence_vectors[k : k + len(sentences)]
            k += len(sentences)
            for i, s in enumerate(sentences):
                texts.append(s)
                owner.append(number)
                pair.append(False)
                rows.append(vecs[i])
                if i + 1 < len(sentences):
                    # A pair's vector is the normalised sum: close to embedding the pair, free.
                    both = vecs[i] + vecs[i + 1]
                    texts.append(f"{s} {sentences[i + 1]}")
                    owner.append(number)
                    pair.append(True)
                    rows.append(both / max(float(np.linalg.norm(both)), 1e-12))
        vectors = np.stack(rows) if rows else np.zeros((0, sentence_vectors.shape[1] or 384))
        return cls(
            texts, owner, pair, vectors, [content_words(p.text) for p in passages],
            [p.text for p in passages], [f"{p.context} {p.section}" for p in passages],
        )  # fmt: skip

    def window(self, i: int, reach: int = 1) -> str:
        """The single sentence ``i`` with its neighbours in the same passage."""
        owner = self.passage[i]
        singles = [j for j, p in enumerate(self.passage) if p == owner and not self.pair[j]]
        at = singles.index(i)
        return " ".join(self.texts[j] for j in singles[max(0, at - reach) : at + reach + 1])


def check_claim(
    text: str,
    claim: str,
    cited: list[int],
    vector: np.ndarray,
    units: Units,
    indexes: list[FactIndex],
    threshold: float,
    previous: str = "",
) -> SentenceCheck:
    """Judge ``claim`` (embedded as ``vector``) against every passage's units and facts.

    ``indexes`` holds each passage's facts; ``previous`` is the claim before, whose subject a
    follow-on sentence ("That is a 16% rise") speaks of.
    """
    c = _Claim(claim, cited, units, indexes, previous)
    cos = units.vectors @ vector
    best, single = _closest(units, cos)
    words = content_words(claim)
    verdicts = {
        p: (
            (1 - _LEXICAL_WEIGHT) * max(float(cos[i]), 0.0)
            + _LEXICAL_WEIGHT * coverage(words, units.passage_words[p - 1]),
            c.missing(p),
        )
        for p, i in best.items()
    }
    ok = [p for p, (s, miss) in verdicts.items() if (s >= threshold or c.anchored(p)) and not miss]
    conflicts = {p: c.conflict(p, single[p], verdicts[p][0] >= threshold) for p in ok}
    ok = [p for p in ok if not conflicts[p]]
    chosen, new_cited = _choose(ok, cited, best, verdicts)
    score, miss = verdicts[chosen]
    return SentenceCheck(
        text=text,
        claim=claim,
        cited=new_cited,
        supported=bool(ok),
        score=round(min(max(score, 0.0), 1.0), 4),
        passage=chosen,
        evidence=units.texts[best[chosen]],
        missing=miss,
        corrected=new_cited != cited,
        reason=_reason(c, chosen, bool(ok), score, miss, conflicts.get(chosen, "")),
    )


def _closest(units: Units, cos: np.ndarray) -> tuple[dict[int, int], dict[int, int]]:
    """Per passage number: the index of its closest unit, and of its closest single sentence."""
    best: dict[int, int] = {}
    single: dict[int, int] = {}
    for i, p in enumerate(units.passage):
        if p not in best or cos[i] > cos[best[p]] + (_PAIR_MARGIN if units.pair[i] else 0.0):
            best[p] = i
        if not units.pair[i] and (p not in single or cos[i] > cos[single[p]]):
            single[p] = i
    return best, single


def _choose(
    ok: list[int],
    cited: list[int],
    best: dict[int, int],
    verdicts: dict[int, tuple[float, list[str]]],
) -> tuple[int, list[int]]:
    """The passage the claim rests on and its corrected citations (cited passages first)."""
    ranked = sorted(ok, key=lambda p: (p not in cited, -verdicts[p][0]))
    if ranked:
        chosen = ranked[0]
        return chosen, [c for c in cited if c in ok] if chosen in cited else [chosen]
    pool = [p for p in best if p in cited] or list(best)
    return max(pool, key=lambda p: (not verdicts[p][1], verdicts[p][0])), cited


def _reason(
    c: _Claim, chosen: int, supported: bool, score: float, miss: list[str], conflict: str
) -> str:
    """Why the claim is not supported, or how a supported one was computed ("" otherwise)."""
    if supported:
        if chosen in c.computed:
            return f"computed from [{chosen}]: " + "; ".join(c.computed[chosen])
        return ""
    if conflict:
        return conflict
    if miss:
        return "not in the passage: " + ", ".join(miss)
    return f"no passage sentence says this (support {score:.2f})"


class _Claim:
    """One claim's hard facts, and how each passage states, computes or contradicts them."""

    def __init__(
        self,
        claim: str,
        cited: list[int],
        units: Units,
        indexes: list[FactIndex],
        previous: str,
    ):
        self.claim, self.cited, self.units, self.indexes = claim, cited, units, indexes
        self.facts = extract_facts(claim)
        claim_words = set(passage_words(f"{previous} {claim}")) - STOPWORDS
        self.subject = {w for w in claim_words if not w.isdigit()} - FRAME_WORDS
        self.numbers = [
            f for f in self.facts if f.kind == "number" and f.written and f.key not in _YEAR_KEYS
        ]
        self.abbreviated = [w for w in re.findall(r"[A-Za-z&]+", claim) if is_abbreviation(w)]
        self.named = [f for f in self.facts if f.kind in ("name", "code")]
        self.computed: dict[int, list[str]] = {}  # passage -> "fact = how it was computed"
        self._combined: dict[tuple[int, ...], FactIndex] = {}

    def _pool_of(self, p: int) -> tuple[int, ...]:
        # A sentence citing several passages may combine their facts.
        return (p, *([c for c in self.cited if c != p] if p in self.cited else []))

    def _pooled(self, numbers: tuple[int, ...]) -> FactIndex:
        # Built only when a fact is missing, and once per pool.
        if len(numbers) == 1:
            return self.indexes[numbers[0] - 1]
        if numbers not in self._combined:
            texts = (self.units.passage_texts[n - 1] for n in numbers)
            self._combined[numbers] = FactIndex.of("\n".join(texts))
        return self._combined[numbers]

    def missing(self, p: int) -> list[str]:
        """The claim's facts passage ``p`` (with its co-cited passages) neither states nor
        computes; what it computes is noted in ``computed``."""
        pool = [self.indexes[n - 1] for n in self._pool_of(p)]
        absent = []
        for f in self.facts:
            if any(ix.has(f) for ix in pool):
                continue
            if how := self._pooled(self._pool_of(p)).derive(f, self.claim, self.subject):
                self.computed.setdefault(p, []).append(f"{f.text} = {how}")
            else:
                absent.append(f.text)
        return absent

    def anchored(self, p: int) -> bool:
        """Whether every figure of the claim sits in a line of ``p`` naming what it names.

        A table cell and an analyst's sentence about it rarely embed alike, so the figures
        carry the support.
        """
        pool = self.indexes[p - 1].pool  # its own lines: what its sentences are checked on
        return bool(self.numbers) and all(
            pool.anchored(f.written, self.subject, self.abbreviated)
            or any(f.text in c for c in self.computed.get(p, []))
            for f in self.numbers
        )

    def conflict(self, p: int, single: int, similar: bool) -> str:
        """Why the claim contradicts passage ``p`` ("" when it does not).

        ``single`` is the passage's closest single sentence; ``similar`` whether the claim's
        score reached the threshold there.
        """
        units = self.units
        # Polarity and negation are read against the closest single sentence: a pair can join
        # a negated neighbour to the sentence that supports the claim. When the claim's figures
        # rest on table rows or arithmetic instead, that sentence is not its evidence: the rows
        # are checked for period and direction.
        speaks = not self.numbers or similar and not self.computed.get(p)
        if not speaks:
            evidence = FactIndex.of(units.texts[single])
            speaks = any(evidence.has(f) for f in self.numbers)
        sentence = units.texts[single] if speaks else ""
        reason = _conflict(self.claim, sentence, units.passage_texts[p - 1])
        return reason or self._names_away(p, single)

    def _names_away(self, p: int, single: int) -> str:
        # Names and identifiers must be where the claim's evidence is (its sentence, a
        # neighbour, or the document's own title): a name found elsewhere in the passage may be
        # another party's ("HR Links tracks hours" against "Tock tracks hours; HR Links records
        # leave").
        if not self.named:
            return ""
        context = self.units.passage_contexts[p - 1]
        local = FactIndex.of(f"{context}\n{self.units.window(single)}")
        elsewhere = [f.text for f in self.named if not local.has(f)]
        if not elsewhere:
            return ""
        return "names " + ", ".join(elsewhere) + " away from the sentence it rests on"


def _conflict(claim: str, evidence: str, passage: str) -> str:
    """Why the claim contradicts its evidence sentence(s) or its passage ("" when it does not)."""
    return (
        (evidence and polarity.contradiction(claim, evidence))
        or quantities.unit_conflict(claim, passage, evidence)
        or quantities.period_conflict(claim, passage)
        or quantities.direction_conflict(claim, passage)
        or ""
    )
