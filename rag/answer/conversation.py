"""A conversation with the assistant: the turns a page keeps and what it reads back from them.

The Ask page stores each answer as a plain message (``answer_message``) and renders it on every
rerun. The rules for that live here, not in the page: which earlier turns go with a follow-up
question, what an answer's outcome was (read back from its text), which citations point at a
document past its review date, and which details a rating carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rag.answer.outcome import MODEL_FOUND_NOTHING, NOT_FOUND, QUOTED
from rag.guardrails.policy import one_of
from rag.guardrails.private import restore_markdown
from rag.guardrails.redaction import PLACEHOLDER, TAGS
from rag.text.markup import escape_markdown

if TYPE_CHECKING:
    from rag.answer.result import AnswerResult

Message = Mapping[str, Any]


class Outcome(StrEnum):
    """What an answer turned out to be."""

    VERIFIED = "verified"  # the model's answer, its sentences checked against the passages
    NO_PASSAGES = "no passages"  # nothing matched: no passage is quoted
    NOT_FOUND = "not found"  # the closest passages are quoted; they may not answer it
    QUOTED = "quoted"  # the documents' own sentences are the answer
    MODEL_FOUND_NOTHING = "model found nothing"  # the model said the passages do not answer it
    NOT_VERIFIED = "not verified"  # the model's answer failed the check; passages quoted instead


@dataclass(frozen=True)
class ReadBack:
    """An answer message read back for display."""

    outcome: Outcome
    notice: str  # the lead line to show as a notice above the body; "" when there is none
    body: str  # the Markdown under the notice
    not_found: bool  # the answer says the documents do not answer the question


def follow_up_history(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """Return the (question, answer) pairs sent with the question that ends ``messages``.

    Messages alternate user, assistant. A turn whose answer failed (it has no run) is left
    out: the model should not build on an error message.
    """
    return [
        (messages[j]["content"], messages[j + 1]["content"])
        for j in range(0, len(messages) - 2, 2)
        if messages[j + 1]["role"] == "assistant" and "run" in messages[j + 1]
    ]


def answer_outcome(message: Message) -> Outcome:
    """Read an answer message's outcome back from its flags, citations and opening words."""
    content = message["content"]
    if not (message.get("refused") or message.get("extractive")):
        return Outcome.VERIFIED
    if not message.get("citations"):
        return Outcome.NO_PASSAGES
    if content.startswith(NOT_FOUND):
        return Outcome.NOT_FOUND
    if content.startswith(QUOTED):
        return Outcome.QUOTED
    if content.startswith(MODEL_FOUND_NOTHING):
        return Outcome.MODEL_FOUND_NOTHING
    return Outcome.NOT_VERIFIED


def read_answer(message: Message) -> ReadBack:
    """Split an answer message into the notice it leads with and the answer shown under it.

    A quoted or refused answer opens with one line saying what it is; a plain quote needs no
    notice, the documents' sentences are the answer.
    """
    content = message["content"]
    outcome = answer_outcome(message)
    not_found = content.startswith(NOT_FOUND)
    if outcome is Outcome.VERIFIED:
        return ReadBack(outcome, "", _own_words(message, content), not_found)
    head, _, rest = content.partition("\n")
    if head == QUOTED:
        return ReadBack(outcome, "", _own_words(message, rest), not_found)
    return ReadBack(outcome, head, _own_words(message, rest), not_found)


def _own_words(message: Message, markdown: str) -> str:
    """The answer with the asker's redacted personal data put back, for their eyes only."""
    return restore_markdown(markdown, message.get("mapping") or {}, escape_markdown)


def sentence_support(run: Message) -> tuple[int, int]:
    """Return (supported, checked): the answer's claim sentences and how many a passage backs."""
    claims = [s for s in run.get("verification") or [] if s.get("is_claim", True)]
    return sum(1 for s in claims if s.get("supported")), len(claims)


def overdue_documents(documents: Iterable[Message]) -> set[str]:
    """Return the ids of the documents past their review-by date."""
    return {d["doc_id"] for d in documents if d["overdue"]}


def citation_records(result: AnswerResult, documents: Iterable[Message]) -> list[dict[str, Any]]:
    """Return the answer's citations as plain records, each marked when its document is overdue."""
    overdue = overdue_documents(documents)
    return [
        {
            "number": c.number,
            "doc_id": c.passage.doc_id,
            "source": c.passage.source,
            "page": c.passage.page,
            "section": c.passage.section,
            "context": c.passage.context,
            "text": c.passage.text,
            "quote": c.quote,
            "overdue": c.passage.doc_id in overdue,
        }
        for c in result.citations
    ]


def answer_message(result: AnswerResult, documents: Iterable[Message]) -> dict[str, Any]:
    """Return the assistant message kept in the conversation for a finished answer."""
    return {
        "role": "assistant",
        "content": result.answer,  # as logged: the asker's personal data as placeholders
        "mapping": result.mapping,  # placeholder -> what they typed; kept in their session only
        "warnings": list(result.warnings),
        "refused": result.refused,
        "extractive": result.extractive,
        "rewritten": result.rewritten_query,
        "run": result.record(),
        "citations": citation_records(result, documents),
    }


def redaction_note(message: Message) -> str:
    """Say which personal data in the question was replaced before the model and logs saw it."""
    asked = message.get("run", {}).get("question", "")  # as the model and the logs saw it
    mapping = message.get("mapping") or {}
    tags = {m.group(1) for m in PLACEHOLDER.finditer(asked) if m.group(0) in mapping}
    if not tags:
        return ""
    kinds = {tag: kind for kind, tag in TAGS.items()}
    names = ", ".join(one_of(kinds.get(tag, tag)) for tag in sorted(tags))
    return (
        f"Personal data in your question ({names}) was replaced by placeholders before it "
        "reached the model, the traces and the logs; you see it as you typed it."
    )


def section_heading(citation: Message) -> str:
    """Return the most specific heading of a citation's section, or "" when it adds nothing.

    A section path reads ``Part > Chapter > Heading``; a heading that only repeats the file
    name says nothing new.
    """
    heading = " ".join((citation.get("section") or "").split()).rsplit(" > ", 1)[-1]
    return heading if heading != citation["source"] else ""


def offers_generation(message: Message) -> bool:
    """Whether a quoted answer can be followed by one the model writes from the same passages."""
    return message["run"].get("mode") == "quote" and not message.get("refused")


def searched_as(message: Message) -> str:
    """Return the search query a follow-up was rewritten into, or "" when it was not rewritten."""
    rewritten = message.get("rewritten") or ""
    if rewritten == message["run"]["question"]:
        return ""
    return restore_markdown(rewritten, message.get("mapping") or {}, str)


def rating_details(
    score: int, reason: str | None, comment: str | None
) -> tuple[str | None, str | None]:
    """Return the (reason, comment) a rating carries: only a thumbs down (0) has them.

    A blank comment is no comment.
    """
    if score != 0:
        return None, None
    return reason, (comment or "").strip() or None
