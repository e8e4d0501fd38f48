"""Answering: the chain (rewrite, retrieval, refusal gate, model), sentence verification,
rendering and the versioned prompts."""

from rag.answer.chain import Assistant
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
    "QUOTED",
    "Verification",
    "highlight",
    "load_prompt",
]
