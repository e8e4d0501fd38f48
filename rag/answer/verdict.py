"""What verification concludes: a verdict per answer sentence and the answer's support score.

:mod:`rag.answer.verify` fills these in; :mod:`rag.answer.render` shows them and the run log
stores them (``Verification.to_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
