"""Answering: the chain (rewrite, retrieval, refusal gate, model), sentence verification,
rendering and the versioned prompts.

Modules, lowest first: ``prompts`` (versioned prompt files), ``encoder`` (cached sentence
vectors), ``verdict`` (per-sentence verdicts), ``polarity`` and ``quantities`` (contradictions),
``support`` (one claim against the passages), ``verify`` (an answer's sentences), ``evidence``
(strength, relevance, extractive picks), ``refusal`` (the gate), ``render``, ``result``,
``outcome`` (verified answer or quoted documents), ``rewrite`` (follow-ups), ``chain``
(``Assistant`` and ``AnswerStream``), ``guarding`` (the guardrails around one answer) and
``conversation`` (a chat's history, an answer read
back from its text, overdue citations).
"""

from rag.answer.chain import Assistant
from rag.answer.conversation import (
    Outcome,
    ReadBack,
    answer_message,
    answer_outcome,
    follow_up_history,
    offers_generation,
    overdue_documents,
    rating_details,
    read_answer,
    redaction_note,
    searched_as,
    section_heading,
    sentence_support,
)
from rag.answer.encoder import CachingEncoder
from rag.answer.outcome import MODEL_FOUND_NOTHING, NOT_FOUND, QUOTED
from rag.answer.prompts import load_prompt
from rag.answer.render import highlight
from rag.answer.result import AnswerResult
from rag.answer.verdict import Verification

__all__ = [
    "AnswerResult",
    "Assistant",
    "CachingEncoder",
    "MODEL_FOUND_NOTHING",
    "NOT_FOUND",
    "Outcome",
    "QUOTED",
    "ReadBack",
    "Verification",
    "answer_message",
    "answer_outcome",
    "follow_up_history",
    "highlight",
    "load_prompt",
    "offers_generation",
    "overdue_documents",
    "rating_details",
    "read_answer",
    "redaction_note",
    "searched_as",
    "section_heading",
    "sentence_support",
]
