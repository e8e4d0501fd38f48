"""Deciding "not found": signals that mean the same on any collection, weighed by a small model.

An absolute cosine cut does not transfer: what a good match scores depends on the collection,
its length and its language. The gate instead reads signals relative to the collection itself:

* ``coverage``: the share of the question's terms, weighted by how rare each is in this
  collection (IDF), that the retrieved passages (and their documents' titles and periods) hold;
* ``names_found``: the share of what the question names (capitalised names, abbreviations,
  years, codes) that the passages or their documents' titles and periods name too (1.0 when
  the question names nothing): a question about a company, a year or a product the passages do
  not name is not answered by them, however close the topic;
* ``period_match``: the share of the years a question asks about that the retrieved documents
  cover (their stated periods, and the two years before, which reports compare against); 1.0
  when the question or the documents name no year. A question about 2019 put to reports that
  end in 2017 is not answered by them;
* ``strength``: the best question/sentence cosine and word coverage (:func:`rag.answer.evidence.
  evidence_strength`), the last release's absolute cut, kept as one signal among several (alone
  it does not transfer: on FinanceBench, questions wrapped in instructions score lower than
  off-collection ones).

Three more signals were tried and left out, as fitted across corpora they did not transfer:
the rarest question term the passages lack (in a small collection every filler word of a
question is "rare"), how far the best passage's cosine stands above the median of the top 30
(its scale differs by collection), and the share of the top passages both rankings found.

A logistic model over these (:class:`Gate`) gives the probability that the passages answer the
question; below ``threshold`` the answer is "not found". Its weights are fitted across the
development corpora by :func:`fit` and reported leave-one-corpus-out by
``python -m rag eval --suite`` (fitted on the other corpora, scored on the held-out one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.encoder import Encode
from rag.answer.evidence import evidence_strength
from rag.index.retrieve import HybridSearch, question_terms
from rag.text.factmatch import expands, is_abbreviation, normalize_periods, passage_words
from rag.text.sentences import split_sentences
from rag.text.words import tokenize
from rag.types import Passage

FEATURES = ("coverage", "names_found", "period_match", "strength")


@dataclass(frozen=True)
class Signals:
    """What retrieval knows about how well a question matched (computed at retrieval)."""

    coverage: float = 0.0
    names_found: float = 1.0
    period_match: float = 1.0

    def with_strength(self, strength: float) -> dict[str, float]:
        """All gate features, with the evidence strength measured on the passages."""
        return {
            "coverage": self.coverage,
            "names_found": self.names_found,
            "period_match": self.period_match,
            "strength": strength,
        }


def term_coverage(
    terms: Sequence[str], idf: dict[str, float], max_idf: float, found: set[str]
) -> float:
    """IDF-weighted share of the question's ``terms`` this collection knows that are ``found``.

    Terms no passage of the collection has are left out: in a small collection that is every
    filler word of the question ("much", "quickly"), and whether the question names something
    absent is what ``names_found`` reads.
    """
    known = {t: idf.get(t, max_idf) for t in dict.fromkeys(terms)}
    known = {t: w for t, w in known.items() if w < max_idf}
    total = sum(known.values())
    return round(sum(w for t, w in known.items() if t in found) / total, 4) if total else 0.0


_NAME = re.compile(r"(?<![\w'])(?:[A-Z][\w&'’.-]*[\w]|(?:19|20)\d\d|\w*\d\w*)")


def question_focus(question: str) -> str:
    """The asking part of a question that comes wrapped in instructions.

    "You are an analyst ... Here's the question: what was X in 2019? Round to two decimals."
    is asked about "what was X in 2019?": sentences that ask (end in "?") are kept, and within
    one, what follows its last colon. A question with no "?" is kept whole. Signals read the
    focus, so instructions ("round your answer", "use the balance sheet") do not count as
    terms the passages must hold.
    """
    asking = [s for s in split_sentences(question) if s.rstrip().endswith("?")]
    if not asking:
        return question
    return " ".join(s.rsplit(": ", 1)[-1] for s in asking)


_NOT_A_NAME = re.compile(r"\d{1,3}|\d+(?:st|nd|rd|th)|[QH][1-4]", re.I)


def question_names(question: str) -> list[str]:
    """What a question names: capitalised words not opening a sentence, years, codes.

    Counts, ordinals and quarter labels are not names (the year of "Q2 2023" is).
    """
    names = []
    for m in _NAME.finditer(question):
        before = question[: m.start()].rstrip()
        opens = not before or before[-1] in '.?!:"“(' or before.endswith("'s")
        word = re.sub(r"['’]s$", "", m.group(0)).rstrip(".'’")
        if opens and not (word.isupper() or any(c.isdigit() for c in word)):
            continue  # sentence case, not a name
        if _NOT_A_NAME.fullmatch(word):
            continue
        names.append(word)
    return list(dict.fromkeys(names))


def names_found(names: Sequence[str], haystack: str) -> float:
    """Share of ``names`` found in ``haystack``: as whole words (case-insensitive), or for an
    abbreviation, spelled out ("D&A": "depreciation and amortization")."""
    if not names:
        return 1.0
    low = haystack.lower().replace("_", " ")
    words: list[str] | None = None
    found = 0
    for n in names:
        if re.search(rf"(?<!\w){re.escape(n.lower())}(?!\w)", low):
            found += 1
        elif is_abbreviation(n):
            words = words if words is not None else passage_words(low)
            found += expands(n, words)
    return round(found / len(names), 4)


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def period_match(question: str, contexts: Sequence[str]) -> float:
    """Share of the question's years within the periods the documents cover (see above)."""
    asked = {int(y) for y in _YEAR.findall(question)}
    covered = {int(y) for c in contexts for y in _YEAR.findall(c)}
    if not asked or not covered:
        return 1.0
    lo, hi = min(covered) - 2, max(covered)
    return round(sum(lo <= y <= hi for y in asked) / len(asked), 4)


def signals(search: HybridSearch, query: str, passages: list[Passage]) -> Signals:
    """How well ``passages`` match ``query``, relative to ``search``'s collection."""
    query = question_focus(query)
    terms = question_terms(query)
    idf, max_idf = search.lexical.rarity(terms)
    haystack = " ".join(f"{p.source} {p.context} {p.section} {p.text}" for p in passages)
    names = question_names(normalize_periods(query))
    return Signals(
        coverage=term_coverage(terms, idf, max_idf, set(tokenize(haystack))),
        names_found=names_found(names, normalize_periods(haystack)),
        period_match=period_match(normalize_periods(query), [p.context for p in passages[:3]]),
    )


def gate_features(
    search: HybridSearch, query: str, passages: list[Passage], encode: Encode
) -> dict[str, float]:
    """The gate's input: retrieval signals plus the evidence strength of ``passages``."""
    strength = evidence_strength(question_focus(query), passages, encode) if passages else 0.0
    return signals(search, query, passages).with_strength(strength)


@dataclass(frozen=True)
class Gate:
    """Logistic model: P(the passages answer the question) from the features."""

    weights: tuple[float, ...]  # one per FEATURES name
    bias: float
    threshold: float = 0.5

    def probability(self, features: dict[str, float]) -> float:
        """The model's probability that the question is answered by the passages."""
        z = self.bias + sum(w * features[f] for w, f in zip(self.weights, FEATURES, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def refuses(self, features: dict[str, float]) -> bool:
        """Whether the answer should be "not found"."""
        return self.probability(features) < self.threshold


def fit(rows: Sequence[tuple[dict[str, float], bool]], l2: float = 1.0, steps: int = 3000) -> Gate:
    """Fit a class-balanced, L2-regularised logistic model on (features, answerable) rows.

    Each group (answerable, unanswerable) weighs half, whatever its size, so the threshold 0.5
    balances false refusals against missed refusals. Features are standardised for fitting and
    the weights mapped back, so the gate reads raw features.
    """
    x = np.array([[f[name] for name in FEATURES] for f, _ in rows], dtype=float)
    y = np.array([1.0 if a else 0.0 for _, a in rows])
    if len(set(y.tolist())) < 2:
        raise ValueError("fitting the gate needs both answerable and unanswerable questions")
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    sample = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum())
    w, b = np.zeros(z.shape[1]), 0.0
    lr = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        grad = p - y
        w -= lr * (z.T @ (sample * grad) + l2 * w / len(y))
        b -= lr * float(np.sum(sample * grad))
    weights = w / std
    bias = b - float(np.sum(w * mean / std))
    return Gate(tuple(round(float(v), 4) for v in weights), round(float(bias), 4))


# Fitted on the development corpora together (handbook, R manuals, FinanceBench filings,
# PDF zoo, samples: answerable and unanswerable questions). That fit is not a result; each corpus's
# figure with weights fitted on the others is (`python -m rag eval --suite ... --tune`).
DEFAULT_GATE = Gate(weights=(-1.2219, 2.2275, 0.6215, 3.4147), bias=-3.668)
