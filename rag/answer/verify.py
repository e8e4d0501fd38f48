"""Grounding: check every answer sentence against the passages, and answer extractively.

Whatever model wrote the answer, a sentence is shown as fact only when a passage supports it:

* **meaning** — the MiniLM cosine between the claim and its best passage sentence (or pair of
  adjacent sentences) reaches ``SUPPORT_THRESHOLD``; and
* **hard facts** — every number, amount, date, capitalised name and quoted term in the claim
  appears in that passage (normalised: "1,000" = "1000" = "one thousand" is not tried, but
  "two" = "2", "$1.5 million" = "1,500,000", "January" = month 1).

A sentence is checked against the passages it cites first; if they do not support it but another
passage does, it is re-attributed. Sentences that assert nothing (greetings, "Here is what I
found:", questions back to the user, "The documents do not mention this.") are exempt: see
:func:`is_claim`.

Beyond overlap, a claim that contradicts the sentence it rests on (polarity, negation, unit,
period, direction: :mod:`rag.answer.meaning`) is unsupported, and facts written another way
(scale, precision, abbreviations, one-step arithmetic: :mod:`rag.text.factmatch`) are accepted.
Whether to answer at all is the refusal gate's call (:mod:`rag.answer.refusal`;
:func:`evidence_strength` is one of its signals); :func:`extractive_answer` quotes the best
sentences. Showing the verdicts as Markdown is :mod:`rag.answer.render`'s job.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rag.answer import meaning
from rag.ingest.table_rows import parse_row
from rag.text.factmatch import FRAME_WORDS, is_abbreviation, passage_words
from rag.text.facts import FactIndex, extract_facts
from rag.text.markup import strip_markup
from rag.text.sentences import cited_numbers, segments, split_sentences, strip_citations
from rag.text.words import STOPWORDS, content_words
from rag.types import Passage

Encode = Callable[[list[str]], np.ndarray]
_YEAR_KEYS = frozenset(f"{y:.6g}" for y in range(1990, 2041))

# Calibrated on the 18F handbook (public markdown pages), 2026-11:
# - support: 17 paraphrases vs 17 on-topic unsupported claims (no hard facts to catch them):
#   29/34 right at 0.74; 2 unsupported claims pass, 3 paraphrases are flagged.
# - evidence: recalibrated on what the hybrid retriever returns (top 5 fused passages), over
#   the golden development sets (evals/: 93 answerable, 13 on-topic unanswerable questions asked
#   of each corpus). 0.61 is the lowest value that refuses at least 90% of the unanswerable
#   ones on both corpora (12/13 handbook, 13/13 PDF manuals); it refuses 9/62 and 7/31 of the
#   answerable ones, which still get the closest passages quoted. With so few unanswerable
#   questions expect some drift on other material; `python -m rag eval` measures it. (A first
#   calibration on BM25-only passages gave 0.67: a third of answerable questions refused.)
SUPPORT_THRESHOLD = 0.74
WEAK_EVIDENCE_THRESHOLD = 0.61  # the previous release's refusal cut (the suite's baseline)
EXTRACTIVE_RELATIVE_FLOOR = 0.75  # extractive picks score at least this share of the best
RELEVANCE_RATIO = 0.8  # a verified answer must be this close to the passages' best relevance
_LEXICAL_WEIGHT = 0.4  # share of content-word coverage in the support score
_PAIR_MARGIN = 0.03  # a sentence pair must beat a single sentence by this to be the evidence
_MAX_PASSAGE_SENTENCES = 40  # per passage: bounds embedding cost on huge chunks

_NO_INFO_RE = re.compile(
    r"\b(?:documents?|passages?|context|sources?|excerpts?|information|text)\b[^.]*"
    r"\b(?:not|n't|no)\b[^.]*\b(?:mention|say|state|specify|contain|include|cover|provide|"
    r"describe|address|discuss|answer)|\bI (?:could|can|did|do)(?: not|n't) (?:find|see|know)|"
    r"\bno (?:relevant )?information\b",
    re.IGNORECASE,
)
_EMPHASIS_RE = re.compile(r"\*\*|__|\*")  # bold and italics, not snake_case


@dataclass
class SentenceCheck:
    """The verdict on one answer sentence."""

    text: str  # as written, citation markers included
    claim: str  # without markers or emphasis
    cited: list[int]  # passage numbers it cites (corrected when re-attributed)
    supported: bool
    score: float  # 0..1 support score against ``passage``
    passage: int | None  # 1-based number of the best supporting passage
    evidence: str  # the passage sentence(s) that best support it
    missing: list[str] = field(default_factory=list)  # hard facts absent from the passage
    is_claim: bool = True  # False: exempt (greeting, framing, refusal)
    corrected: bool = False  # True when ``cited`` differs from what the answer wrote
    lead: str = ""  # layout before it: "", "paragraph", "-" or "1." (list item)
    reason: str = ""  # why it is not supported (or how it is: "computed from [n]")


@dataclass
class Verification:
    """All sentence verdicts for one answer."""

    sentences: list[SentenceCheck]
    support_score: float  # supported claims / claims; 1.0 when there are no claims
    seconds: float = 0.0

    @property
    def unsupported(self) -> list[SentenceCheck]:
        """Claim sentences no passage supports."""
        return [s for s in self.sentences if s.is_claim and not s.supported]

    @property
    def claims(self) -> list[SentenceCheck]:
        """Sentences that assert something (the non-exempt ones)."""
        return [s for s in self.sentences if s.is_claim]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "support_score": self.support_score,
            "seconds": self.seconds,
            "unsupported": len(self.unsupported),
            "sentences": [asdict(s) for s in self.sentences],
        }


class CachingEncoder:
    """Wrap an ``encode`` function with an LRU cache of text → vector.

    Build one per service (next to the embeddings) so the passages embedded for
    :func:`evidence_strength` are not embedded again by :func:`verify_answer`.
    """

    def __init__(self, encode: Encode, maxsize: int = 4096):
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.maxsize = maxsize

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            for text, vec in zip(todo, self._encode(todo), strict=True):
                self._cache[text] = vec
        out = np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384))
        for t in texts:
            self._cache.move_to_end(t)
        while len(self._cache) > self.maxsize:
            self._cache.popitem(last=False)
        return out


def is_claim(claim: str) -> bool:
    """Whether a sentence asserts something checkable.

    Rule: a sentence is exempt when it asks (ends with "?"), introduces what follows (ends with
    ":") or says the documents lack the answer, and states no hard fact; or when it has no
    content word outside the vocabulary of conversation ("found", "documents", "help", ...).
    Everything else is a claim and must be supported.
    """
    if extract_facts(claim):
        return True
    stripped = claim.rstrip()
    if stripped.endswith(("?", ":")) or _NO_INFO_RE.search(claim):
        return False
    return bool(content_words(claim, meta=False))


@dataclass
class _Units:
    """Passage sentences and adjacent pairs, with their passage numbers and vectors."""

    texts: list[str]
    passage: list[int]
    pair: list[bool]
    vectors: np.ndarray
    passage_words: list[set[str]]
    passage_texts: list[str]
    passage_contexts: list[str]


def _units(passages: list[Passage], sentence_vectors: np.ndarray, per: list[list[str]]) -> _Units:
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
                # A pair's vector is the normalised sum: close to embedding the pair, at no cost.
                both = vecs[i] + vecs[i + 1]
                texts.append(f"{s} {sentences[i + 1]}")
                owner.append(number)
                pair.append(True)
                rows.append(both / max(float(np.linalg.norm(both)), 1e-12))
    vectors = np.stack(rows) if rows else np.zeros((0, sentence_vectors.shape[1] or 384))
    return _Units(
        texts, owner, pair, vectors, [content_words(p.text) for p in passages],
        [p.text for p in passages], [f"{p.context} {p.section}" for p in passages],
    )  # fmt: skip


def passage_sentences(passage: Passage) -> list[str]:
    """The sentences of a passage (at most ``_MAX_PASSAGE_SENTENCES``)."""
    return split_sentences(passage.text)[:_MAX_PASSAGE_SENTENCES]


def _coverage(claim_words: set[str], unit_words: set[str]) -> float:
    return len(claim_words & unit_words) / len(claim_words) if claim_words else 0.0


def verify_answer(
    answer: str,
    passages: list[Passage],
    encode: Encode,
    threshold: float = SUPPORT_THRESHOLD,
) -> Verification:
    """Check each sentence of ``answer`` against ``passages`` (cited as [1], [2], ... 1-based).

    All claims and passage sentences are embedded in one ``encode`` call. The support score of a
    claim against a passage is ``(1 - w) * cosine + w * coverage`` over its best sentence or
    sentence pair, where coverage is the share of the claim's content words found there.
    """
    started = time.perf_counter()
    segs = segments(answer)
    claims = [_clean(strip_citations(s.text)) for s in segs]
    flags = [is_claim(c) for c in claims]
    per = [passage_sentences(p) for p in passages]
    to_embed = [c for c, f in zip(claims, flags, strict=True) if f]
    flat = [s for sentences in per for s in sentences]
    vectors = encode(to_embed + flat) if (to_embed and flat) else np.zeros((0, 384))
    units = _units(passages, vectors[len(to_embed) :], per) if to_embed and flat else None
    # A passage speaks for its document: the company and period in its context count as stated.
    indexes = [FactIndex.of(f"{p.context}\n{p.text}") for p in passages]

    checks: list[SentenceCheck] = []
    row = 0
    previous = ""  # the claim before: "That is a 16% rise" speaks of its subject
    for seg, claim, flag in zip(segs, claims, flags, strict=True):
        cited = [n for n in cited_numbers(seg.text) if 1 <= n <= len(passages)]
        if not flag:
            check = SentenceCheck(seg.text, claim, cited, True, 1.0, None, "", is_claim=False)
        elif units is None:
            check = SentenceCheck(seg.text, claim, cited, False, 0.0, None, "")
        else:
            check = _check(
                seg.text, claim, cited, vectors[row], units, indexes, threshold, previous
            )
            previous = claim
            row += 1
        check.lead = seg.lead
        checks.append(check)
    n_claims = sum(flags)
    supported = sum(1 for c in checks if c.is_claim and c.supported)
    return Verification(
        checks,
        supported / n_claims if n_claims else 1.0,
        time.perf_counter() - started,
    )


def _clean(text: str) -> str:
    return _EMPHASIS_RE.sub("", text).strip()


def _check(
    text: str,
    claim: str,
    cited: list[int],
    vector: np.ndarray,
    units: _Units,
    indexes: list[FactIndex],
    threshold: float,
    previous: str = "",
) -> SentenceCheck:
    facts = extract_facts(claim)
    words = content_words(claim)
    cos = units.vectors @ vector
    best: dict[int, int] = {}  # passage number -> index of its closest unit
    single: dict[int, int] = {}  # passage number -> index of its closest single sentence
    for i, p in enumerate(units.passage):
        if p not in best or cos[i] > cos[best[p]] + (_PAIR_MARGIN if units.pair[i] else 0.0):
            best[p] = i
        if not units.pair[i] and (p not in single or cos[i] > cos[single[p]]):
            single[p] = i
    scores = {
        p: (1 - _LEXICAL_WEIGHT) * max(float(cos[i]), 0.0)
        + _LEXICAL_WEIGHT * _coverage(words, units.passage_words[p - 1])
        for p, i in best.items()
    }

    claim_words = set(passage_words(f"{previous} {claim}")) - STOPWORDS
    subject = {w for w in claim_words if not w.isdigit()} - FRAME_WORDS
    computed: dict[int, list[str]] = {}

    def pool_of(p: int) -> list[int]:
        # A sentence citing several passages may combine their facts.
        return [p] + ([c for c in cited if c != p] if p in cited else [])

    combined: dict[tuple[int, ...], FactIndex] = {}

    def pooled(numbers: tuple[int, ...]) -> FactIndex:
        # Built only when a fact is missing, and once per pool.
        if len(numbers) == 1:
            return indexes[numbers[0] - 1]
        if numbers not in combined:
            combined[numbers] = FactIndex.of("\n".join(units.passage_texts[n - 1] for n in numbers))
        return combined[numbers]

    def missing(p: int) -> list[str]:
        pool = [indexes[n - 1] for n in pool_of(p)]
        absent = []
        for f in facts:
            if any(ix.has(f) for ix in pool):
                continue
            if how := pooled(tuple(pool_of(p))).derive(f, claim, subject):
                computed.setdefault(p, []).append(f"{f.text} = {how}")
            else:
                absent.append(f.text)
        return absent

    verdicts = {p: (scores[p], missing(p)) for p in best}
    numbers = [f for f in facts if f.kind == "number" and f.written and f.key not in _YEAR_KEYS]

    abbreviated = [w for w in re.findall(r"[A-Za-z&]+", claim) if is_abbreviation(w)]

    def anchored(p: int) -> bool:
        # Figures found in rows or lines that name what the claim names: a table cell and an
        # analyst's sentence about it rarely embed alike, so the figures carry the support.
        pool = indexes[p - 1].pool  # its own lines: they are what its sentences are checked on
        return bool(numbers) and all(
            pool.anchored(f.written, subject, abbreviated)
            or any(f.text in c for c in computed.get(p, []))
            for f in numbers
        )

    ok = [p for p, (s, miss) in verdicts.items() if (s >= threshold or anchored(p)) and not miss]

    # Polarity and negation are read against the closest single sentence: a pair can join a
    # negated neighbour to the sentence that supports the claim.
    # When the claim's figures rest on table rows or arithmetic instead, that sentence is not
    # its evidence: the rows are checked for period and direction.
    def sentence_speaks(p: int) -> bool:
        if not numbers or verdicts[p][0] >= threshold and not computed.get(p):
            return True
        evidence = FactIndex.of(units.texts[single[p]])
        return any(evidence.has(f) for f in numbers)

    conflicts = {
        p: _conflict(
            claim,
            units.texts[single[p]] if sentence_speaks(p) else "",
            units.passage_texts[p - 1],
        )
        for p in ok
    }
    # Names and identifiers must be where the claim's evidence is (its sentence, a neighbour,
    # or the document's own title): a name found elsewhere in the passage may be another
    # party's ("HR Links tracks hours" against "Tock tracks hours; HR Links records leave").
    named = [f for f in facts if f.kind in ("name", "code")]
    for p in ok:
        if named and not conflicts[p]:
            local = FactIndex.of(f"{units.passage_contexts[p - 1]}\n{_window(units, single[p])}")
            elsewhere = [f.text for f in named if not local.has(f)]
            if elsewhere:
                conflicts[p] = (
                    "names " + ", ".join(elsewhere) + " away from the sentence it rests on"
                )
    ok = [p for p in ok if not conflicts[p]]
    ranked = sorted(ok, key=lambda p: (p not in cited, -verdicts[p][0]))
    if ranked:
        chosen = ranked[0]
        new_cited = [c for c in cited if c in ok] if chosen in cited else [chosen]
    else:
        pool = [p for p in best if p in cited] or list(best)
        chosen = max(pool, key=lambda p: (not verdicts[p][1], verdicts[p][0]))
        new_cited = cited
    score, miss = verdicts[chosen]
    if ranked:
        reason = (
            f"computed from [{chosen}]: " + "; ".join(computed[chosen])
            if chosen in computed
            else ""
        )
    elif conflicts.get(chosen):
        reason = conflicts[chosen]
    elif miss:
        reason = "not in the passage: " + ", ".join(miss)
    else:
        reason = f"no passage sentence says this (support {score:.2f})"
    return SentenceCheck(
        text=text,
        claim=claim,
        cited=new_cited,
        supported=bool(ranked),
        score=round(min(max(score, 0.0), 1.0), 4),
        passage=chosen,
        evidence=units.texts[best[chosen]],
        missing=miss,
        corrected=new_cited != cited,
        reason=reason,
    )


def _window(units: _Units, i: int, reach: int = 1) -> str:
    """The single sentence ``i`` with its neighbours in the same passage."""
    owner = units.passage[i]
    singles = [j for j, p in enumerate(units.passage) if p == owner and not units.pair[j]]
    at = singles.index(i)
    return " ".join(units.texts[j] for j in singles[max(0, at - reach) : at + reach + 1])


def _conflict(claim: str, evidence: str, passage: str) -> str:
    """Why the claim contradicts its evidence sentence(s) or its passage ("" when it does not)."""
    return (
        (evidence and meaning.contradiction(claim, evidence))
        or meaning.unit_conflict(claim, passage, evidence)
        or meaning.period_conflict(claim, passage)
        or meaning.direction_conflict(claim, passage)
        or ""
    )


# --- weak evidence and the extractive fallback ----------------------------------------------


def _question_scores(question: str, passages: list[Passage], encode: Encode):
    """Score passage sentences against the question: (sentences, owners, cosine, coverage).

    Coverage is the share of the question's content words found in the sentence.
    """
    per = [passage_sentences(p) for p in passages]
    flat = [s for sentences in per for s in sentences]
    owners = [n for n, sentences in enumerate(per, start=1) for _ in sentences]
    if not flat:
        return [], [], np.zeros(0), np.zeros(0)
    vectors = encode([question, *flat])
    cos = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
    q_words = _question_words(question)
    cover = np.array([_coverage(q_words, content_words(s)) for s in flat])
    return flat, owners, cos, cover


def _question_words(question: str) -> set[str]:
    return content_words(question, meta=False) or content_words(question)


def evidence_strength(question: str, passages: list[Passage], encode: Encode) -> float:
    """Rate in 0..1 how well the passages can answer ``question``.

    ``0.6 * best question/sentence cosine + 0.4 * best share of the question's content words
    found in one passage``. Below ``WEAK_EVIDENCE_THRESHOLD`` the chain should refuse and show
    :func:`extractive_answer`.
    """
    _, _, cos, _ = _question_scores(question, passages, encode)
    if not len(cos):
        return 0.0
    words = _question_words(question)
    cover = max(_coverage(words, content_words(p.text)) for p in passages)
    return round(float(0.6 * cos.max() + 0.4 * cover), 4)


def answers_question(
    question: str, verification: Verification, passages: list[Passage], encode: Encode
) -> bool:
    """Whether the supported sentences address ``question``, not just restate the passages.

    A small model can copy true but irrelevant sentences; each is "supported", yet the answer
    misses the point. The best supported sentence must be about as relevant to the question
    (cosine) as the best passage sentence is.
    """
    supported = [s.claim for s in verification.sentences if s.supported and s.is_claim]
    if not supported:
        return False
    _, _, cos, _ = _question_scores(question, passages, encode)
    if not len(cos):
        return False
    vectors = encode([question, *supported])
    relevance = float(np.max(vectors[1:] @ vectors[0]))
    return relevance >= RELEVANCE_RATIO * float(cos.max())


def extractive_answer(
    question: str, passages: list[Passage], encode: Encode, max_sentences: int = 3
) -> list[tuple[str, int]]:
    """Pick the passage sentences that best answer ``question``, with their passage numbers.

    Sentences are ranked by ``0.7 * cosine + 0.3 * coverage`` of the question's content words;
    near-duplicates (cosine > 0.9 or the same words) are skipped; the picks are returned in
    reading order (passage, then position) so adjacent sentences read naturally.
    """
    flat, owners, cos, cover = _question_scores(question, passages, encode)
    if not flat:
        return []
    score = 0.7 * cos + 0.3 * cover
    picked: list[int] = []
    seen_words: list[set[str]] = []
    floor = EXTRACTIVE_RELATIVE_FLOOR * float(score.max())
    for i in np.argsort(-score, kind="stable"):
        if score[i] < floor:  # far below the best sentence: more noise than evidence
            break
        if strip_markup(flat[i]).lstrip()[:1].islower():  # a fragment cut mid-sentence
            continue
        words = content_words(flat[i])
        # Headings and table fragments ("Passwords", "International — $95") answer nothing alone.
        if len(split_sentences(flat[i])) == 0 or len(words) < 3 or len(flat[i].split()) < 4:
            continue
        # Rows of one table share their column headers: their values tell them apart.
        if row := parse_row(flat[i]):
            words = words | {value for _, value in row[1]}
        if any(w == words or len(w & words) / len(w | words) > 0.8 for w in seen_words):
            continue
        picked.append(int(i))
        seen_words.append(words)
        if len(picked) == max_sentences:
            break
    return [(flat[i], owners[i]) for i in sorted(picked)]
