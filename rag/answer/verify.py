"""Grounding: check every answer sentence against the passages.

Whatever model wrote the answer, a sentence is shown as fact only when a passage supports it:

* **meaning** — the MiniLM cosine between the claim and its best passage sentence (or pair of
  adjacent sentences) reaches ``SUPPORT_THRESHOLD``; and
* **hard facts** — every number, amount, date, capitalised name and quoted term in the claim
  appears in that passage (normalised: "1,000" = "1000" = "one thousand" is not tried, but
  "two" = "2", "$1.5 million" = "1,500,000", "January" = month 1).

A sentence is checked against the passages it cites first; if they do not support it but another
passage does, it is re-attributed (:mod:`rag.answer.support` judges one claim). Sentences that
assert nothing (greetings, "Here is what I found:", questions back to the user, "The documents
do not mention this.") are exempt: see :func:`is_claim`.

Beyond overlap, a claim that contradicts the sentence it rests on (polarity, negation:
:mod:`rag.answer.polarity`; unit, period, direction: :mod:`rag.answer.quantities`) is
unsupported, and facts written another way (scale, precision, abbreviations, one-step
arithmetic: :mod:`rag.text.factmatch`) are accepted. Whether to answer at all is the refusal
gate's call (:mod:`rag.answer.refusal`); quoting the documents instead is
:mod:`rag.answer.evidence`'s. Showing the verdicts as Markdown is :mod:`rag.answer.render`'s job.
"""

from __future__ import annotations

import re
import time

import numpy as np

from rag.answer.encoder import Encode
from rag.answer.support import Units, check_claim, passage_sentences
from rag.answer.verdict import SentenceCheck, Verification
from rag.text.facts import FactIndex, extract_facts
from rag.text.sentences import cited_numbers, segments, strip_citations
from rag.text.words import content_words
from rag.types import Passage

__all__ = ["SUPPORT_THRESHOLD", "is_claim", "verify_answer"]

# Calibrated on the 18F handbook (public markdown pages), 2026-11: 17 paraphrases vs 17
# on-topic unsupported claims (no hard facts to catch them): 29/34 right at 0.74; 2 unsupported
# claims pass, 3 paraphrases are flagged.
SUPPORT_THRESHOLD = 0.74

_NO_INFO_RE = re.compile(
    r"\b(?:documents?|passages?|context|sources?|excerpts?|information|text)\b[^.]*"
    r"\b(?:not|n't|no)\b[^.]*\b(?:mention|say|state|specify|contain|include|cover|provide|"
    r"describe|address|discuss|answer)|\bI (?:could|can|did|do)(?: not|n't) (?:find|see|know)|"
    r"\bno (?:relevant )?information\b",
    re.IGNORECASE,
)
_EMPHASIS_RE = re.compile(r"\*\*|__|\*")  # bold and italics, not snake_case


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
    units = Units.build(passages, vectors[len(to_embed) :], per) if to_embed and flat else None
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
            check = check_claim(
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
