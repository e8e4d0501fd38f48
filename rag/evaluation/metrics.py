"""Metrics: scoring one golden question's retrieval and answer, and summarising a run.

Metrics (answerable questions unless said otherwise):

* source hit@k: a top-k passage comes from a file listed in the line's ``sources``;
* MRR: mean of 1/rank of the first such passage (0 when none is in the top k);
* page hit@5: a top-5 passage has a listed source *and* a listed page (lines with ``pages``);
* key-fact recall: mean share of a line's ``key_facts`` found (case-insensitive, whitespace
  normalised) in the answer as shown, not counting sentences flagged as unverified;
* unsupported-sentence rate: unsupported claim sentences / claim sentences, over all answers;
* unflagged unsupported: unsupported sentences that appear in the shown answer outside the
  "unverified" flag (must be 0);
* refusal accuracy: share of unanswerable lines refused ("not found"); false-refusal rate:
  share of answerable lines refused (with ``retrieval_only``, refusal = weak evidence); a
  question a guardrail blocked counts as refused, and ``blocked`` counts them;
  quoted rate: share of answerable lines whose generated answer failed verification and
  were answered with quoted passages instead;
* latency p50/p95 of ``total_ms`` and ``verify_ms`` (the price of verification).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.answer.render import UNVERIFIED
from rag.answer.verdict import Verification
from rag.evaluation.golden import EvalCase
from rag.text.sentences import split_sentences, strip_citations

K = 5


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def first_hit_rank(retrieved: Sequence[str], sources: Sequence[str], k: int = K) -> int | None:
    """1-based rank of the first retrieved source listed in ``sources`` (within the top k)."""
    wanted = {s.lower() for s in sources}
    return next((i for i, s in enumerate(retrieved[:k], 1) if s.lower() in wanted), None)


def hit_at(retrieved: Sequence[str], sources: Sequence[str], k: int) -> bool:
    """Whether a listed source is among the top ``k`` retrieved sources."""
    return first_hit_rank(retrieved, sources, k) is not None


def reciprocal_rank(retrieved: Sequence[str], sources: Sequence[str], k: int = K) -> float:
    """1/rank of the first listed source in the top ``k`` (0 when none)."""
    rank = first_hit_rank(retrieved, sources, k)
    return 1.0 / rank if rank else 0.0


def page_hit(
    retrieved: Sequence[tuple[str, int]], sources: Sequence[str], pages: Sequence[int], k: int = K
) -> bool:
    """Whether a top-``k`` passage has a listed source and a listed page."""
    wanted = {s.lower() for s in sources}
    return any(s.lower() in wanted and p in pages for s, p in retrieved[:k])


_FLAGGED = re.compile(re.escape(UNVERIFIED) + r"\s*~~.*?~~", re.S)


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def shown_text(answer: str) -> str:
    """The answer as the reader sees it: flagged (unverified) sentences out, escapes undone."""
    return _ESCAPED.sub(r"\1", _FLAGGED.sub(" ", answer)).replace("\u2060", "")


def key_fact_recall(answer: str, key_facts: Sequence[str]) -> float | None:
    """Share of ``key_facts`` in the shown answer (None when there are none to find)."""
    if not key_facts:
        return None
    shown = _norm(shown_text(answer))
    return sum(_norm(f) in shown for f in key_facts) / len(key_facts)


def _sentence_key(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", _norm(strip_citations(text))).split())


def unflagged_unsupported(
    verification: Verification | None, answer: str, extractive: bool = False
) -> int:
    """Count unsupported claim sentences the answer shows as fact (outside an "unverified" flag).

    Sentences are compared whole (punctuation, citations and case ignored), so a short claim
    such as "1." does not match inside another sentence. An extractive answer shows passage
    quotes instead of the model's sentences, so none of its claims is shown.
    """
    if verification is None or extractive:
        return 0
    shown = {_sentence_key(s) for s in split_sentences(shown_text(answer))}
    return sum(
        1
        for s in verification.unsupported
        if _sentence_key(s.claim) and _sentence_key(s.claim) in shown
    )


def _mean(values: Sequence[float | bool]) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def retrieval_scores(retrieved: Sequence[tuple[str, int]], case: EvalCase) -> dict[str, Any]:
    """hit@1, hit@5, reciprocal rank and page hit@5 of one answerable line."""
    names = [s for s, _ in retrieved]
    return {
        "hit1": hit_at(names, case.sources, 1),
        "hit5": hit_at(names, case.sources, K),
        "rr": round(reciprocal_rank(names, case.sources), 4),
        "page_hit5": page_hit(retrieved, case.sources, case.pages) if case.pages else None,
    }


def retrieval_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Source hit@1/@5, MRR and page hit@5 over the answerable rows."""
    ans = [r for r in rows if r["answerable"]]
    paged = [r["page_hit5"] for r in ans if r.get("page_hit5") is not None]
    return {
        "source_hit_at_1": _mean([r["hit1"] for r in ans]),
        "source_hit_at_5": _mean([r["hit5"] for r in ans]),
        "mrr": _mean([r["rr"] for r in ans]),
        "page_hit_at_5": _mean(paged),
        "page_questions": len(paged),
    }


def summarise(rows: Sequence[dict[str, Any]], retrieval_only: bool = False) -> dict[str, Any]:
    """All metrics of a run from its per-question rows."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {
        "mode": "retrieval-only" if retrieval_only else "full",
        "questions": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        **retrieval_summary(rows),
        "refusal_accuracy": _mean([r["refused"] for r in una]),
        "false_refusal_rate": _mean([r["refused"] for r in ans]),
        "blocked": sum(1 for r in rows if r.get("blocked")),  # stopped by a guardrail
    }
    if not retrieval_only:
        claims = sum(r["claims"] for r in rows)
        unsupported = sum(r["unsupported"] for r in rows)
        recalls = [r["key_fact_recall"] for r in ans if r["key_fact_recall"] is not None]
        out |= {
            # Answerable questions whose generated answer failed verification, so passages
            # were quoted instead (neither a refusal nor a generated answer).
            "quoted_rate": _mean([r.get("quoted", False) for r in ans]),
            "key_fact_recall": _mean(recalls),
            "claim_sentences": claims,
            "unsupported_sentences": unsupported,
            "unsupported_sentence_rate": round(unsupported / claims, 4) if claims else None,
            "unflagged_unsupported": sum(r["unflagged"] for r in rows),
        }
    totals = [r["total_ms"] for r in rows if r.get("total_ms") is not None]
    verifies = [r["verify_ms"] for r in rows if r.get("verify_ms") is not None]
    out |= {
        "total_ms_p50": _pct(totals, 50),
        "total_ms_p95": _pct(totals, 95),
        "verify_ms_p50": _pct(verifies, 50),
        "verify_ms_p95": _pct(verifies, 95),
    }
    return out
