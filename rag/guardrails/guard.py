"""The guardrails in one place: questions, document passages and answers checked by policy.

``Guardrails(settings)`` combines the PII detector, the injection detector and the output
checks with the settings that say what to do with what they find. The heavy parts (the spaCy
model, the fitted injection model) are loaded once per process and shared, so making a
``Guardrails`` is cheap. Nothing here writes the audit log: callers do, with the records returned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rag.config import Settings
from rag.guardrails.checks import ChunkCheck, QuestionCheck
from rag.guardrails.injection import InjectionModel, injection_model
from rag.guardrails.output import OutputIssue, check_output
from rag.guardrails.pii import PiiDetector, PiiSpan, pii_detector
from rag.guardrails.policy import PiiPolicy, one_of
from rag.guardrails.redaction import Redaction, redact

QUESTION_CHARS = 4000  # a question longer than this is checked (and answered) on its start only

INJECTION_BLOCKED = (
    "This question looks like an attempt to change the assistant's instructions (a prompt "
    "injection), so it was not answered. Ask about the documents in your own words; if this is "
    "a genuine question, an admin can review the event on the Guardrails page."
)
INJECTION_WARNED = (
    "This question looks like an attempt to change the assistant's instructions (a prompt "
    "injection). It was answered from the documents only; treat the answer with care."
)


class Guardrails:
    """Check questions, document passages and answers against the configured policy."""

    def __init__(
        self,
        settings: Settings,
        pii: PiiDetector | None = None,
        injection: InjectionModel | None = None,
    ):
        self.settings = settings
        self.policy = PiiPolicy.parse(settings.pii_policy)
        self._pii = pii
        self.injection = injection or injection_model()

    @property
    def pii(self) -> PiiDetector:
        """The question's PII detector (spaCy NER too, by setting), loaded on first use."""
        if self._pii is None:
            self._pii = pii_detector(ner=self.settings.pii_ner)
        return self._pii

    CHUNK_CHARS = 20_000  # the PII detector's cap per call; chunks are far shorter

    @property
    def threshold(self) -> float:
        """The injection score at or above which text counts as an injection."""
        configured = self.settings.injection_threshold
        return self.injection.threshold if configured is None else configured

    @property
    def passage_threshold(self) -> float:
        """The injection score at or above which a document passage is quarantined."""
        configured = self.settings.passage_injection_threshold
        if configured is not None:
            return configured
        fitted = self.injection.passage_threshold
        return self.threshold if fitted is None else fitted

    def check_question(self, text: str, mapping: dict[str, str] | None = None) -> QuestionCheck:
        """Redact, block or warn on a question before retrieval, the model, traces and logs.

        ``mapping`` carries the placeholders of earlier turns of the conversation, so the same
        value keeps its placeholder in follow-ups.
        """
        text = text[:QUESTION_CHARS]
        spans = self.pii.find(text)
        redaction = self._redact(text, spans, mapping)
        check = QuestionCheck(
            text=redaction.text,
            mapping=redaction.mapping,
            pii=dict(Counter(s.entity_type for s in spans)),
        )
        check.injection = round(self.injection.score([text])[0], 4)
        check.injection_flagged = check.injection >= self.threshold
        if blocked := sorted({s.entity_type for s in spans} & self.policy.types("block")):
            check.action, check.blocked_by = "block", "pii"
            check.message = _pii_blocked(blocked)
        elif check.injection_flagged:
            check.action = "block" if self.settings.injection_action == "block" else "warn"
            check.blocked_by = "injection" if check.action == "block" else ""
            check.message = INJECTION_BLOCKED if check.action == "block" else INJECTION_WARNED
        elif redaction.text != text:
            check.action = "redact"
        return check

    def redact_text(self, text: str, mapping: dict[str, str] | None = None) -> tuple[str, dict]:
        """Redact ``text`` by the question policy (for conversation history); the new mapping.

        Only its first ``QUESTION_CHARS`` characters are kept: what follows is never checked,
        so it never goes on.
        """
        text = text[:QUESTION_CHARS]
        redaction = self._redact(text, self.pii.find(text), mapping)
        return redaction.text, redaction.mapping

    def check_chunks(self, texts: Sequence[str]) -> list[ChunkCheck]:
        """Check document passages at ingestion: personal data found, injection score.

        A passage at or above the passage injection threshold is quarantined. With
        ``pii_redact_documents`` the passage's redacted text is returned for storing instead.
        """
        if not texts:
            return []
        # Names and places are everywhere in documents (authors, offices) and spaCy over every
        # chunk would double ingestion time: documents are scanned with the patterns, and with
        # NER too only when they are to be redacted.
        ner = self.settings.pii_ner and self.settings.pii_redact_documents
        detector = pii_detector(ner=ner)
        found = detector.find_many([t[: self.CHUNK_CHARS] for t in texts])
        scored = self.injection.score_passages(list(texts))
        checks = []
        for text, spans, (score, sentence) in zip(texts, found, scored, strict=True):
            check = ChunkCheck(
                pii=dict(Counter(s.entity_type for s in spans)),
                injection=round(score, 4),
                quarantine=score >= self.passage_threshold,
            )
            if check.quarantine:
                check.excerpt = self._redact(sentence, detector.find(sentence), None).text
            if self.settings.pii_redact_documents and spans:
                check.redacted_text = self._redact(text, spans, None).text
            checks.append(check)
        return checks

    def check_answer(
        self, answer: str, sources: Sequence[str], system_prompt: str
    ) -> list[OutputIssue]:
        """Output checks on an answer: leaked personal data, the system prompt, denied terms."""
        return check_output(
            answer,
            sources=sources,
            system_prompt=system_prompt,
            deny_terms=self.settings.deny_terms,
            # Patterns only: spaCy over a whole answer and its passages costs ~60 ms (p50), more
            # than the per-question budget, and a name in an answer is seldom a leak.
            pii=pii_detector(ner=False),
        )

    def _redact(
        self, text: str, spans: Sequence[PiiSpan], mapping: dict[str, str] | None
    ) -> Redaction:
        allowed = self.policy.types("allow")
        spans = [s for s in spans if s.entity_type not in allowed]
        return redact(text, spans, mapping)


def _pii_blocked(types: list[str]) -> str:
    names = " and ".join(one_of(t) for t in types)
    return (
        f"Your question contains {names}. Questions with this kind of personal data are not "
        "sent to the assistant: remove it and ask again."
    )
