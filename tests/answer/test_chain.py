"""The chain's branches, with a scripted chat model over a real store and the real MiniLM.

The fake model stands in for the backend only: retrieval, the refusal gate and verification
run for real, so each test shows what one branch does with the model (called or not, and with
what) and what the user is shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from rag.answer.chain import GENERATE_FLOOR, Assistant
from rag.answer.outcome import MODEL_FOUND_NOTHING, NOT_FOUND, NOT_VERIFIED, QUOTED
from rag.errors import BackendUnavailable
from rag.index import ingest_file
from rag.models.backends import BackendChoice

DOC = (
    b"# Expenses\n\nTaxi receipts must be submitted within 30 days of the trip.\n\n"
    b"# Equipment\n\nEvery new starter receives a laptop and a headset.\n"
)
QUESTION = "How long do I have to submit taxi receipts?"
GROUNDED = "Taxi receipts must be submitted within 30 days of the trip [1]."


class ScriptedChat(GenericFakeChatModel):
    """Replies with the scripted messages in turn and keeps every prompt it was given."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        self.prompts.append(messages)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


class DroppingChat(ScriptedChat):
    """Streams ``keep`` chunks of its reply, then loses the connection to its server."""

    keep: int = 3

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any):
        chunks: Iterator[ChatGenerationChunk] = super()._stream(
            messages, stop=stop, run_manager=run_manager, **kwargs
        )
        for i, chunk in enumerate(chunks):
            if i == self.keep:
                raise ConnectionError("connection reset by peer")
            yield chunk


def assistant_with(open_store, settings, model, backend: str = "ollama") -> Assistant:
    """An assistant answering with ``model`` from a store that holds the expenses policy."""
    store = open_store(settings)
    ingest_file(store, "policy.md", DOC)
    return Assistant(settings, store, model, BackendChoice(backend, "scripted", "test"))


def ask(assistant: Assistant, question: str = QUESTION, **kwargs):
    """Ask and drain the stream: (the streamed pieces, the result)."""
    stream = assistant.ask(question, **kwargs)
    pieces = list(stream)
    assert stream.done
    return pieces, stream.result


def test_an_empty_store_is_not_found_without_the_model(open_store, settings):
    model = ScriptedChat(messages=iter([GROUNDED]))
    assistant = Assistant(
        settings, open_store(settings), model, BackendChoice("ollama", "scripted", "test")
    )
    pieces, result = ask(assistant, mode="generate")
    assert pieces == [] and model.prompts == []
    assert result.refused and result.answer == f"{NOT_FOUND} No documents matched the question."
    assert result.citations == []


def test_the_gate_refuses_an_unanswered_question_without_the_model(open_store, settings):
    model = ScriptedChat(messages=iter([GROUNDED]))
    assistant = assistant_with(open_store, settings, model)
    pieces, result = ask(
        assistant, "What was Target Corporation's revenue in 2022?", mode="generate"
    )
    assert model.prompts == [] and pieces == [] and result.raw_answer == ""
    assert result.passages  # retrieval found the closest passages; the gate judged them
    assert result.evidence < settings.refusal_threshold * GENERATE_FLOOR
    assert result.refused and result.answer.startswith(NOT_FOUND)
    assert "generate_ms" not in result.timings and result.tokens_in == 0


def test_quote_mode_quotes_the_documents_without_the_model(open_store, settings):
    model = ScriptedChat(messages=iter([GROUNDED]))
    assistant = assistant_with(open_store, settings, model)
    pieces, result = ask(assistant, mode="quote")
    assert model.prompts == [] and pieces == []
    assert result.mode == "quote" and result.extractive and not result.refused
    assert result.answer.startswith(QUOTED) and "30 days" in result.answer
    assert [(c.number, c.passage.source) for c in result.citations] == [(1, "policy.md")]
    assert "30 days" in result.citations[0].quote


def test_auto_mode_quotes_on_the_embedded_backend_and_generates_on_ollama(open_store, settings):
    embedded = assistant_with(open_store, settings, ScriptedChat(messages=iter([])), "embedded")
    assert embedded.ask(QUESTION).result.mode == "quote"
    ollama = Assistant(settings, embedded.store, embedded.model, BackendChoice("ollama", "m", ""))
    assert ollama.ask(QUESTION).result.mode == "generate"


def test_generate_streams_the_models_tokens_in_order_and_verifies_them(open_store, settings):
    model = ScriptedChat(messages=iter([GROUNDED]))
    assistant = assistant_with(open_store, settings, model)
    pieces, result = ask(assistant, mode="generate")

    assert pieces == [t for t in re.split(r"(\s)", GROUNDED) if t]
    assert result.raw_answer == GROUNDED
    (prompt,) = model.prompts
    assert QUESTION in prompt[-1].text and "[1] " in prompt[-1].text
    assert "Taxi receipts must be submitted" in prompt[-1].text
    assert result.verification is not None and result.verification.support_score == 1.0
    assert not result.extractive and not result.refused
    assert "30 days" in result.answer and "[1]" in result.answer
    assert [(c.number, c.passage.source) for c in result.citations] == [(1, "policy.md")]
    assert result.tokens_in > 0 and result.tokens_out > 0  # counted: the fake reports no usage
    assert {"ttft_ms", "generate_ms", "verify_ms", "total_ms"} <= set(result.timings)


def test_an_unsupported_draft_is_replaced_by_the_documents_own_words(open_store, settings):
    model = ScriptedChat(messages=iter(["Taxi receipts must be submitted within 90 days [1]."]))
    assistant = assistant_with(open_store, settings, model)
    _, result = ask(assistant, mode="generate")
    assert len(model.prompts) == 1
    assert result.verification is not None and result.verification.support_score == 0.0
    assert result.answer.startswith(NOT_VERIFIED) and "90 days" not in result.answer
    assert result.extractive and "30 days" in result.answer


def test_a_model_that_found_nothing_gets_the_closest_passages_quoted(open_store, settings):
    model = ScriptedChat(messages=iter(["I could not find this in the documents."]))
    assistant = assistant_with(open_store, settings, model)
    _, result = ask(assistant, mode="generate")
    assert len(model.prompts) == 1
    assert result.verification is None  # a refusal is not checked as a claim
    assert result.evidence >= settings.refusal_threshold and not result.refused
    assert result.answer.startswith(MODEL_FOUND_NOTHING) and "30 days" in result.answer
    assert result.extractive and result.citations


def test_a_server_lost_mid_answer_is_a_clear_error_and_keeps_what_streamed(open_store, settings):
    model = DroppingChat(messages=iter([GROUNDED]), keep=3)
    assistant = assistant_with(open_store, settings, model)
    stream = assistant.ask(QUESTION, mode="generate")
    seen: list[str] = []
    with pytest.raises(BackendUnavailable, match="stopped answering") as failure:
        for piece in stream:
            seen.append(piece)
    assert "ollama serve" in str(failure.value)
    assert isinstance(failure.value.__cause__, ConnectionError)
    assert seen == [t for t in re.split(r"(\s)", GROUNDED) if t][:3]
    assert stream.result.error == "ConnectionError: connection reset by peer"
    assert stream.result.passages and not stream.done  # the run's evidence is kept to log


def test_a_follow_up_is_rewritten_by_the_model_with_the_conversation(open_store, settings):
    rewrite = "How long do I have to submit taxi receipts?"
    model = ScriptedChat(messages=iter([rewrite, GROUNDED]))
    assistant = assistant_with(open_store, settings, model)
    history = [("What does every new starter receive?", "A laptop and a headset [1].")]
    _, result = ask(assistant, "And what about taxi receipts?", history=history, mode="generate")

    assert len(model.prompts) == 2  # the rewrite, then the answer
    asked_to_rewrite = " ".join(m.text for m in model.prompts[0])
    assert "What does every new starter receive?" in asked_to_rewrite
    assert "A laptop and a headset" in asked_to_rewrite
    assert "And what about taxi receipts?" in asked_to_rewrite
    assert result.rewritten_query.startswith(rewrite)
    # The answer prompt carries the user's own question; the rewrite only drove the search.
    assert "And what about taxi receipts?" in model.prompts[1][-1].text
    assert result.verification is not None and result.verification.support_score == 1.0


def test_the_embedded_backend_prepends_the_previous_question_instead(open_store, settings):
    model = ScriptedChat(messages=iter([GROUNDED]))
    assistant = assistant_with(open_store, settings, model, "embedded")
    history = [("How long do I have to submit taxi receipts?", "Within 30 days [1].")]
    _, result = ask(assistant, "And for them?", history=history, mode="generate")
    assert result.rewritten_query == "How long do I have to submit taxi receipts? And for them?"
    assert len(model.prompts) == 1  # asked to answer, never to rewrite


def test_a_question_for_the_busy_embedded_model_knows_how_many_are_ahead(open_store, settings):
    """The page says "waiting for the model: N ahead" from this count (real queue, threads)."""
    import threading

    from rag.models.llm_embedded import MODEL_QUEUE

    embedded = assistant_with(open_store, settings, ScriptedChat(messages=iter([])), "embedded")
    ollama = Assistant(settings, embedded.store, embedded.model, BackendChoice("ollama", "m", ""))
    assert embedded.queue_ahead("generate") == 0
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with MODEL_QUEUE.turn():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        assert embedded.queue_ahead("generate") == 1
        assert embedded.queue_ahead("quote") == 0  # a quoted answer never waits for the model
        assert ollama.queue_ahead("generate") == 0  # nor does one Ollama writes
    finally:
        release.set()
        holder.join()
    assert embedded.queue_ahead("generate") == 0
