"""The guardrails around one answer: the question screened before the chain, the answer after.

Before: personal data in the question and its conversation is replaced by placeholders (what
the model, traces and logs see), a question the policy blocks raises ``GuardrailBlocked``, and a
likely prompt injection is blocked or warned. After: the answer's output checks flag or withhold
it. Every finding is written to the audit log, its excerpt redacted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from rag.answer.rewrite import ANSWER_CHARS, HISTORY_TURNS
from rag.errors import GuardrailBlocked
from rag.guardrails.checks import QuestionCheck, count_detail, score_detail
from rag.guardrails.guard import Guardrails
from rag.guardrails.redaction import PLACEHOLDER
from rag.ops.audit import event_row, record_events
from rag.ops.telemetry import user_pseudonym

if TYPE_CHECKING:
    from rag.answer.prompts import Prompt
    from rag.answer.result import AnswerResult
    from rag.config import Settings
    from rag.index.store import DocumentStore
    from rag.ops.telemetry import Telemetry


class Guarded(Protocol):
    """What the checks need of the assistant: its guardrails, store, telemetry and prompt."""

    settings: Settings
    store: DocumentStore
    telemetry: Telemetry
    guardrails: Guardrails
    prompt: Prompt


WITHHELD = (
    "The answer was withheld by an output check ({reasons}). Rephrase the question or read the "
    "sources below; an admin can review the event on the Guardrails page."
)
FLAGGED = "An output check flagged this answer ({reasons}); read it against its sources."
_ESCAPE = re.compile(r"\\(.)")


def screen_question(
    assistant: Guarded, question: str, history: Sequence[tuple[str, str]], user: str
) -> tuple[QuestionCheck, list[tuple[str, str]]]:
    """Redact the conversation and check the question; raise ``GuardrailBlocked`` if it is.

    Only the turns a follow-up is rewritten with go on, and only the part of each answer the
    rewrite reads, so a long conversation costs no more to screen than a short one. They are
    redacted first and in order, so a value keeps the same placeholder on every turn.
    """
    guard, mapping = assistant.guardrails, {}
    safe_history = []
    for asked, answered in [(q, a[:ANSWER_CHARS]) for q, a in history[-HISTORY_TURNS:]]:
        asked, mapping = guard.redact_text(asked, mapping)
        answered, mapping = guard.redact_text(answered, mapping)
        safe_history.append((asked, answered))
    check = guard.check_question(question, mapping)
    _audit_question(assistant, check, user)
    if check.action == "block":
        raise GuardrailBlocked(check.blocked_by, check.message, _detail(check))
    return check, safe_history


def _audit_question(assistant: Guarded, check: QuestionCheck, user: str) -> None:
    user_hash = user_pseudonym(assistant.settings, user)
    rows = []
    if check.pii:
        action = "blocked" if check.blocked_by == "pii" else "allowed"
        if action == "allowed" and PLACEHOLDER.search(check.text):
            action = "redacted"
        rows.append(
            event_row(
                "question",
                "pii",
                action,
                count_detail(dict(sorted(check.pii.items()))),
                check.text,
                user_hash=user_hash,
            )
        )
    if check.injection_flagged:
        action = "blocked" if check.action == "block" else "warned"
        rows.append(
            event_row(
                "question",
                "injection",
                action,
                score_detail(check.injection),
                check.text,
                user_hash=user_hash,
            )
        )
    record_events(assistant.store.db, rows)


def check_answer(assistant: Guarded, r: AnswerResult) -> None:
    """Run the output checks on a settled answer; flag or withhold it, and audit what failed."""
    text = r.raw_answer or _ESCAPE.sub(r"\1", r.answer)
    sources = [p.text for p in r.passages] + [r.question, r.rewritten_query]
    issues = assistant.guardrails.check_answer(text, sources, assistant.prompt.system)
    r.guardrails["output"] = [{"kind": i.kind, "detail": i.detail} for i in issues]
    if not issues:
        return
    reasons = "; ".join(dict.fromkeys(i.detail for i in issues))
    block = assistant.settings.output_action == "block"
    if block:
        r.answer, r.citations, r.extractive = WITHHELD.format(reasons=reasons), [], False
    else:
        r.warnings.append(FLAGGED.format(reasons=reasons))
    user_hash = user_pseudonym(assistant.settings, r.user)
    record_events(
        assistant.store.db,
        [
            event_row(
                "answer",
                "output",
                "blocked" if block else "flagged",
                f"{i.kind}: {i.detail}",
                "",  # the answer is in the run log under run_id; the audit keeps no copy
                run_id=r.run_id,
                user_hash=user_hash,
            )
            for i in issues
        ],
    )


def _detail(check: QuestionCheck) -> str:
    parts = [count_detail(dict(sorted(check.pii.items())))] if check.pii else []
    if check.injection_flagged:
        parts.append(f"injection score {check.injection:.2f}")
    return "; ".join(parts)
