"""What the guardrails report: one record per question, document passage and answer checked.

The records carry counts, types and scores, never the offending text in clear: they are what
reaches the audit log, the ingestion report and the answer record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Action = Literal["allow", "redact", "warn", "block"]


@dataclass
class ChunkCheck:
    """One document passage checked at ingestion."""

    pii: dict[str, int] = field(default_factory=dict)  # entity type -> how many found
    injection: float = 0.0  # the injection detector's score for its most suspicious sentence
    quarantine: bool = False  # held out of retrieval until an admin releases it
    redacted_text: str | None = None  # the passage with PII replaced, when documents are redacted
    excerpt: str = ""  # the most suspicious sentence, PII redacted, for the admin's review


@dataclass
class QuestionCheck:
    """A question checked before it reaches retrieval, the model, a trace or a log."""

    text: str  # the question as the model, traces and logs see it (PII redacted)
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> what the user typed
    pii: dict[str, int] = field(default_factory=dict)
    injection: float = 0.0
    injection_flagged: bool = False  # the score reached the injection threshold
    action: Action = "allow"
    blocked_by: str = ""  # "pii" or "injection" when the action is "block"
    message: str = ""  # what the user is told when the question is warned or blocked


def count_detail(counts: dict[str, int]) -> str:
    """Counts per entity type as the audit log records them: ``EMAIL_ADDRESS=4, PERSON=1``."""
    return ", ".join(f"{kind}={count}" for kind, count in counts.items())


def score_detail(score: float) -> str:
    """An injection score as the audit log records it: ``score 0.93``."""
    return f"score {float(score):.2f}"
