"""Follow-up questions: rewrite them into standalone search queries using the conversation."""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from rag.answer.prompts import load_prompt
from rag.config import Settings
from rag.text.markup import defuse_delimiters
from rag.text.words import tokenize

HISTORY_TURNS = 3  # the earlier turns a follow-up is rewritten with
ANSWER_CHARS = 300  # of each earlier answer
_ROLE_PREFIX = re.compile(r"^(user|assistant|question|standalone question)\s*:\s*", re.I)
_QUESTION_START = re.compile(
    r"^\s*(what|who|whom|whose|when|where|why|how|which|is|are|do|does|did|can|could|should|"
    r"may|must|will|would|explain|describe|list)\b",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|the same|above|"
    r"what about|how about|and|also)\b",
    re.IGNORECASE,
)


def needs_rewrite(question: str, history: Sequence[tuple[str, str]]) -> bool:
    """Whether ``question`` leans on the conversation.

    It does when it refers back (pronouns, 'what about', 'and ...') or is elliptical: a bare
    phrase of one or two content words that is not itself a question ("Contractors?").
    """
    if not history:
        return False
    elliptical = not _QUESTION_START.match(question) and len(tokenize(question)) <= 2
    return bool(_FOLLOW_UP.search(question)) or elliptical


def rewrite_query(
    model: BaseChatModel | None,
    settings: Settings,
    question: str,
    history: Sequence[tuple[str, str]],
) -> str:
    """Return a standalone query for ``question`` given (question, answer) ``history``.

    Without a model (the embedded one is too small to rewrite reliably, and slow at it) the
    previous question is prepended, which is what retrieval needs from a follow-up. A model's
    rewrite is kept only when it stays on the conversation's terms.
    """
    if not needs_rewrite(question, history):
        return question
    last_question = history[-1][0]
    fallback = f"{last_question} {question}"
    if model is None:
        return fallback
    prompt = load_prompt("rewrite", settings.prompt_version)
    convo = defuse_delimiters(
        "\n".join(f"User: {q}\nAssistant: {a[:ANSWER_CHARS]}" for q, a in history[-HISTORY_TURNS:])
    )
    messages = [
        SystemMessage(prompt.system),
        HumanMessage(prompt.user.format(history=convo, question=question)),
    ]
    text = model.invoke(messages, stop=["\n"]).text.strip().splitlines()
    candidate = _ROLE_PREFIX.sub("", text[0].strip()).strip('"') if text else ""
    context_terms = set(tokenize(last_question)) | set(tokenize(question))
    if not candidate or len(candidate) > 300 or not (set(tokenize(candidate)) & context_terms):
        return fallback
    if not set(tokenize(candidate)) & set(tokenize(last_question)):
        return f"{candidate} ({last_question})"
    return candidate
