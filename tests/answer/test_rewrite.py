"""Follow-up questions become standalone queries."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.answer.rewrite import needs_rewrite, rewrite_query
from rag.config import Settings

HISTORY = [("How many days of annual leave do employees get?", "25 days [1].")]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("And how many can I carry over?", True),
        ("What about sick leave?", True),
        ("Does it apply to contractors?", True),
        ("Contractors?", True),
        ("What is the capital of France?", False),
        ("How long must passwords be?", False),
    ],
)
def test_needs_rewrite(question, expected):
    assert needs_rewrite(question, HISTORY) is expected
    assert needs_rewrite(question, []) is False


def fake(reply: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(reply)]))


def test_without_a_model_the_previous_question_is_prepended():
    query = rewrite_query(None, Settings(), "And how many can I carry over?", HISTORY)
    assert query.startswith(HISTORY[0][0]) and query.endswith("carry over?")


def test_model_rewrite_is_kept_when_on_topic_and_role_prefix_dropped():
    model = fake("User: How many days of annual leave can employees carry over?")
    query = rewrite_query(model, Settings(), "And how many can I carry over?", HISTORY)
    assert query == "How many days of annual leave can employees carry over?"


def test_model_rewrite_that_drifts_falls_back():
    model = fake("Tell me a joke about penguins.")
    query = rewrite_query(model, Settings(), "And how many can I carry over?", HISTORY)
    assert query == f"{HISTORY[0][0]} And how many can I carry over?"


def test_standalone_question_is_untouched():
    model = fake("should not be called")
    assert rewrite_query(model, Settings(), "What is MFA?", HISTORY) == "What is MFA?"
