"""The conversation's rules: follow-up history, outcomes read back, overdue citations, ratings."""

from __future__ import annotations

import pytest

from rag.answer.conversation import (
    Outcome,
    answer_message,
    answer_outcome,
    follow_up_history,
    offers_generation,
    overdue_documents,
    rating_details,
    read_answer,
    searched_as,
    section_heading,
    sentence_support,
)
from rag.answer.outcome import MODEL_FOUND_NOTHING, NOT_FOUND, NOT_VERIFIED, QUOTED
from rag.answer.result import AnswerResult
from rag.types import Citation, Passage

QUOTE = "> Full-time employees get 25 days. [1]"


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def bot(text: str) -> dict:
    return {"role": "assistant", "content": text, "run": {"question": "?"}}


def failed() -> dict:
    return {"role": "assistant", "content": "", "error": "the model server stopped"}


@pytest.mark.parametrize(
    ("messages", "history"),
    [
        ([user("q1")], []),
        ([user("q1"), bot("a1"), user("q2")], [("q1", "a1")]),
        (
            [user("q1"), bot("a1"), user("q2"), bot("a2"), user("q3")],
            [("q1", "a1"), ("q2", "a2")],
        ),
        # An answer that failed is no context for the next question.
        ([user("q1"), failed(), user("q2")], []),
        ([user("q1"), failed(), user("q2"), bot("a2"), user("q3")], [("q2", "a2")]),
    ],
    ids=["first", "one-turn", "two-turns", "after-error", "skips-error"],
)
def test_follow_up_history(messages, history):
    assert follow_up_history(messages) == history


def message(content: str, refused=False, extractive=False, cited=True) -> dict:
    return {
        "content": content,
        "refused": refused,
        "extractive": extractive,
        "citations": [{"number": 1}] if cited else [],
    }


# (message, outcome, notice, body, not_found)
READ_BACK = [
    (message("25 days [1].", cited=True), Outcome.VERIFIED, "", "25 days [1].", False),
    (message("", cited=False), Outcome.VERIFIED, "", "", False),
    (
        message(f"{NOT_FOUND} No documents matched the question.", refused=True, cited=False),
        Outcome.NO_PASSAGES,
        f"{NOT_FOUND} No documents matched the question.",
        "",
        True,
    ),
    (message(NOT_FOUND, refused=True, extractive=True, cited=False), Outcome.NO_PASSAGES,
     NOT_FOUND, "", True),
    (
        message(f"{NOT_FOUND} The closest passages say:\n{QUOTE}", refused=True, extractive=True),
        Outcome.NOT_FOUND,
        f"{NOT_FOUND} The closest passages say:",
        QUOTE,
        True,
    ),
    (message(f"{QUOTED}\n{QUOTE}", extractive=True), Outcome.QUOTED, "", QUOTE, False),
    (
        message(f"{MODEL_FOUND_NOTHING}\n{QUOTE}", extractive=True),
        Outcome.MODEL_FOUND_NOTHING,
        MODEL_FOUND_NOTHING,
        QUOTE,
        False,
    ),
    (
        message(f"{NOT_VERIFIED}\n{QUOTE}", extractive=True),
        Outcome.NOT_VERIFIED,
        NOT_VERIFIED,
        QUOTE,
        False,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("msg", "outcome", "notice", "body", "not_found"),
    READ_BACK,
    ids=["verified", "verified-empty", "no-passages", "nothing-picked", "not-found", "quoted",
         "model-found-nothing", "not-verified"],
)  # fmt: skip
def test_read_answer(msg, outcome, notice, body, not_found):
    assert answer_outcome(msg) is outcome
    shown = read_answer(msg)
    assert (shown.outcome, shown.notice, shown.body, shown.not_found) == (
        outcome,
        notice,
        body,
        not_found,
    )


@pytest.mark.parametrize(
    ("verification", "counts"),
    [
        (None, (0, 0)),
        ([], (0, 0)),
        ([{"supported": True}, {"supported": False}], (1, 2)),
        # Sentences that claim nothing (a heading, "Here is what I found:") are not counted.
        ([{"supported": True}, {"supported": False, "is_claim": False}], (1, 1)),
        ([{"supported": True, "is_claim": True}, {"supported": True}], (2, 2)),
    ],
)
def test_sentence_support(verification, counts):
    assert sentence_support({"verification": verification}) == counts


def passage(doc_id: str, n: int) -> Passage:
    return Passage(
        chunk_id=f"{doc_id}-{n}",
        doc_id=doc_id,
        source=f"{doc_id}.md",
        page=n,
        section=f"{doc_id}.md > Leave",
        text=f"Passage {n} of {doc_id}.",
        context=f"{doc_id} policy",
    )


def test_answer_message_marks_citations_of_overdue_documents():
    old, current = passage("old", 1), passage("current", 2)
    result = AnswerResult(
        run_id="r1",
        question="How much leave?",
        rewritten_query="How much annual leave?",
        answer="25 days [1][2].",
        citations=[Citation(1, old, "Passage 1 of old."), Citation(2, current)],
        passages=[old, current],
        extractive=True,
    )
    documents = [{"doc_id": "old", "overdue": True}, {"doc_id": "current", "overdue": False}]

    message = answer_message(result, documents)

    assert message["role"] == "assistant" and message["content"] == "25 days [1][2]."
    assert (message["refused"], message["extractive"]) == (False, True)
    assert message["rewritten"] == "How much annual leave?"
    assert message["run"]["run_id"] == "r1"
    assert message["citations"] == [
        {
            "number": 1,
            "doc_id": "old",
            "source": "old.md",
            "page": 1,
            "section": "old.md > Leave",
            "context": "old policy",
            "text": "Passage 1 of old.",
            "quote": "Passage 1 of old.",
            "overdue": True,
        },
        {
            "number": 2,
            "doc_id": "current",
            "source": "current.md",
            "page": 2,
            "section": "current.md > Leave",
            "context": "current policy",
            "text": "Passage 2 of current.",
            "quote": "",
            "overdue": False,
        },
    ]


def test_overdue_documents():
    documents = [
        {"doc_id": "a", "overdue": True},
        {"doc_id": "b", "overdue": False},
        {"doc_id": "c", "overdue": True},
    ]
    assert overdue_documents(documents) == {"a", "c"}
    assert overdue_documents([]) == set()


@pytest.mark.parametrize(
    ("section", "heading"),
    [
        ("handbook.md > Leave > Annual leave", "Annual leave"),
        ("Annual   leave\n", "Annual leave"),
        ("Leave > Annual\n  leave", "Annual leave"),
        ("", ""),
        (None, ""),
        ("handbook.md", ""),  # only repeats the file name
        ("Part 1 > handbook.md", ""),
    ],
)
def test_section_heading(section, heading):
    assert section_heading({"source": "handbook.md", "section": section}) == heading


@pytest.mark.parametrize(
    ("mode", "refused", "offered"),
    [
        ("quote", False, True),
        ("quote", True, False),
        ("generate", False, False),
        (None, False, False),
    ],
)
def test_offers_generation(mode, refused, offered):
    run = {"question": "q"} if mode is None else {"question": "q", "mode": mode}
    assert offers_generation({"run": run, "refused": refused}) is offered


@pytest.mark.parametrize(
    ("rewritten", "shown"),
    [
        ("annual leave days for full-time staff", "annual leave days for full-time staff"),
        ("How many days?", ""),  # searched as asked
        ("", ""),
        (None, ""),
    ],
)
def test_searched_as(rewritten, shown):
    assert searched_as({"rewritten": rewritten, "run": {"question": "How many days?"}}) == shown


@pytest.mark.parametrize(
    ("score", "reason", "comment", "details"),
    [
        (1, None, None, (None, None)),
        (1, "Wrong answer", "left over from a thumbs down", (None, None)),
        (0, None, None, (None, None)),
        (0, "Wrong answer", "  It is 30 days. ", ("Wrong answer", "It is 30 days.")),
        (0, "Wrong answer", "   ", ("Wrong answer", None)),
        (0, None, "no reason chosen", (None, "no reason chosen")),
    ],
)
def test_rating_details(score, reason, comment, details):
    assert rating_details(score, reason, comment) == details
