"""The answer record: what one question produced, and the run record stored from it.

``AnswerResult`` holds a finished answer (the Markdown shown, its citations, the passages and
their verification) with everything measured about it; ``record()`` is the row the run log
stores and feedback copies. :mod:`rag.answer.chain` fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rag.types import Citation, Passage

if TYPE_CHECKING:
    from rag.answer.verdict import Verification


@dataclass
class AnswerResult:
    """A finished answer with its evidence and measurements."""

    run_id: str
    question: str
    rewritten_query: str
    raw_answer: str = ""
    answer: str = ""  # Markdown shown to the user, verified
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    verification: Verification | None = None
    refused: bool = False  # said the documents do not answer it ("not found")
    extractive: bool = False  # shows quoted passages instead of a generated answer
    evidence: float = 0.0  # the refusal gate's probability that the passages answer it
    features: dict[str, float] = field(default_factory=dict)  # what the gate read
    mode: str = "generate"  # "quote": the documents' sentences; "generate": the model's answer
    backend: str = ""
    model: str = ""
    embed_model: str = ""
    prompt_version: str = ""
    index_version: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cpu_seconds: float = 0.0
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    session_id: str = ""
    user: str = ""
    error: str | None = None
    guardrails: dict[str, Any] = field(default_factory=dict)  # what the checks found and did
    warnings: list[str] = field(default_factory=list)  # guardrail notes shown with the answer
    # placeholder -> what the user typed: to show them their own words; never recorded
    mapping: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def support_score(self) -> float | None:
        """Fraction of answer sentences supported by their passages."""
        return self.verification.support_score if self.verification else None

    def record(self) -> dict[str, Any]:
        """The run record stored in the run log and copied into feedback."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "session_id": self.session_id,
            "user": self.user,
            "question": self.question,
            "rewritten_query": self.rewritten_query,
            "answer": self.answer,
            "refused": self.refused,
            "extractive": self.extractive,
            "mode": self.mode,
            "evidence": self.evidence,
            "support_score": self.support_score,
            "verification": self.verification.to_dict()["sentences"] if self.verification else [],
            "passages": [
                {"chunk_id": p.chunk_id, "source": p.source, "page": p.page, "score": p.score}
                for p in self.passages
            ],
            "cited_chunk_ids": [c.passage.chunk_id for c in self.citations],
            "cited_sources": sorted({c.passage.source for c in self.citations}),
            "backend": self.backend,
            "model": self.model,
            "embed_model": self.embed_model,
            "prompt_version": self.prompt_version,
            "index_version": self.index_version,
            "timings": self.timings,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cpu_seconds": self.cpu_seconds,
            "error": self.error,
            "guardrails": self.guardrails,
        }
