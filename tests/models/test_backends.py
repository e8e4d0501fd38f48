"""Backends against a loopback server speaking Ollama's API, and the embedded fallback."""

from __future__ import annotations

import pytest

from rag.answer.chain import Assistant
from rag.config import Settings
from rag.errors import BackendUnavailable, ConfigError, GroundworkError
from rag.index.indexing import ingest_file
from rag.index.store import DocumentStore
from rag.models import DEFAULT_EMBEDDER
from rag.models.backends import (
    default_embedder,
    make_chat_model,
    make_embeddings,
    probe_ollama,
    resolve_backend,
)
from tests.servers import closed_port

DOC = (
    b"# Expenses\n\nTaxi receipts must be submitted within 30 days of the trip.\n\n"
    b"# Equipment\n\nEvery new starter receives a laptop and a headset.\n"
)


def ollama_settings(tmp_path, url: str, **extra) -> Settings:
    return Settings(data_dir=tmp_path / "data", ollama_host=url, **extra)


def ollama_assistant(tmp_path, fake_ollama, open_store) -> Assistant:
    """An assistant on the fake Ollama server over a store holding the taxi policy."""
    settings = ollama_settings(tmp_path, fake_ollama.url)
    choice = resolve_backend(settings)
    store = open_store(settings)
    ingest_file(store, "policy.md", DOC)
    return Assistant(settings, store, make_chat_model(settings, choice), choice)


def test_auto_prefers_ollama_when_it_has_the_model(tmp_path, fake_ollama):
    choice = resolve_backend(ollama_settings(tmp_path, fake_ollama.url))
    assert (choice.name, choice.chat_model) == ("ollama", "llama3.2:3b")
    assert fake_ollama.url in choice.reason


def test_auto_falls_back_when_model_is_not_pulled(tmp_path, fake_ollama):
    fake_ollama.models = ["qwen2.5:0.5b"]
    choice = resolve_backend(ollama_settings(tmp_path, fake_ollama.url))
    assert choice.name == "embedded"
    assert "ollama pull llama3.2:3b" in choice.reason and "qwen2.5:0.5b" in choice.reason


def test_auto_falls_back_when_ollama_is_down(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    choice = resolve_backend(ollama_settings(tmp_path, url))
    assert choice.name == "embedded"
    assert "not reachable" in choice.reason and "ollama serve" in choice.reason


@pytest.mark.parametrize(
    ("models", "down", "expected"),
    [
        (["llama3.2:3b"], True, "ollama serve"),
        (["qwen2.5:0.5b"], False, "ollama pull llama3.2:3b"),
    ],
)
def test_forced_ollama_says_what_to_run(tmp_path, fake_ollama, models, down, expected):
    fake_ollama.models = models
    url = f"http://127.0.0.1:{closed_port()}" if down else fake_ollama.url
    with pytest.raises(BackendUnavailable, match=expected):
        resolve_backend(ollama_settings(tmp_path, url, backend="ollama"))


def test_unknown_backend_lists_the_allowed_ones():
    settings = Settings.model_construct(backend="gpu-cluster")
    with pytest.raises(ConfigError, match="auto, ollama, embedded"):
        resolve_backend(settings)


def test_probe_reads_model_names(tmp_path, fake_ollama):
    status = probe_ollama(ollama_settings(tmp_path, fake_ollama.url))
    assert status.reachable and status.has("llama3.2:3b") and status.has("nomic-embed-text")


def test_store_built_with_ollama_embeddings_is_not_stranded(tmp_path, fake_ollama):
    settings = ollama_settings(tmp_path, fake_ollama.url)
    choice = resolve_backend(settings)
    assert default_embedder(settings, choice) == "ollama/nomic-embed-text"
    with DocumentStore(
        settings, lambda n: make_embeddings(settings, n), "ollama/nomic-embed-text"
    ) as store:
        ingest_file(store, "policy.md", DOC)
    assert fake_ollama.requests_to("/api/embed")
    # Ollama goes away: reopening says what to do instead of mixing in another vector space.
    fake_ollama.close()
    with pytest.raises(BackendUnavailable, match="re-index"):
        DocumentStore(settings, lambda n: make_embeddings(settings, n), DEFAULT_EMBEDDER)


def test_chain_streams_a_cited_answer_through_ollama(tmp_path, fake_ollama, open_store):
    fake_ollama.reply = "Taxi receipts must be submitted within 30 days of the trip [1]."
    fake_ollama.token_delay = 0.01
    assistant = ollama_assistant(tmp_path, fake_ollama, open_store)

    stream = assistant.ask("How long do I have to submit taxi receipts?")
    pieces = list(stream)
    result = stream.result

    assert len(pieces) > 3
    assert result.backend == "ollama" and result.model == "llama3.2:3b"
    assert result.verification is not None and result.verification.support_score == 1.0
    assert [(c.passage.source, c.number) for c in result.citations] == [("policy.md", 1)]
    assert "30 days" in result.answer and "[1]" in result.answer
    assert result.tokens_in > 0 and result.tokens_out > 0  # from prompt_eval_count / eval_count
    (request,) = fake_ollama.chat_requests()
    assert request["model"] == "llama3.2:3b"
    assert "Taxi receipts must be submitted" in request["messages"][-1]["content"]


def test_model_not_found_mid_session_is_a_clear_error(tmp_path, fake_ollama, open_store):
    assistant = ollama_assistant(tmp_path, fake_ollama, open_store)
    fake_ollama.models = []  # someone ran `ollama rm`
    with pytest.raises(GroundworkError, match="stopped answering"):
        list(assistant.ask("How long do I have to submit taxi receipts?"))


def test_server_down_mid_session_is_a_clear_error(tmp_path, fake_ollama, open_store):
    assistant = ollama_assistant(tmp_path, fake_ollama, open_store)
    fake_ollama.close()
    with pytest.raises(BackendUnavailable, match="ollama serve"):
        list(assistant.ask("How long do I have to submit taxi receipts?"))


def test_a_model_saying_not_found_is_checked_against_the_evidence(
    tmp_path, fake_ollama, open_store
):
    """The model's "not found" is itself a claim: with strong evidence it is not a refusal."""
    from rag.answer.outcome import MODEL_FOUND_NOTHING

    fake_ollama.reply = "I could not find this in the documents."
    assistant = ollama_assistant(tmp_path, fake_ollama, open_store)
    stream = assistant.ask("How long do I have to submit taxi receipts?")
    list(stream)
    result = stream.result
    assert result.mode == "generate" and result.evidence >= assistant.settings.refusal_threshold
    assert not result.refused and result.answer.startswith(MODEL_FOUND_NOTHING)
    assert "30 days" in result.answer  # the passage that does answer it is quoted


def test_the_gate_reads_a_follow_ups_own_question_not_the_previous_one(
    tmp_path, fake_ollama, open_store
):
    """A follow-up is searched with the previous question prepended; that question's names
    (here a company the policy never mentions) must not make the gate refuse the new one."""
    fake_ollama.reply = "Taxi receipts must be submitted within 30 days of the trip [1]."
    assistant = ollama_assistant(tmp_path, fake_ollama, open_store)
    history = [("What was Target Corporation's revenue in 2022?", "I could not find this.")]
    stream = assistant.ask("And how long do I have to submit taxi receipts?", history)
    list(stream)
    result = stream.result
    assert "Target" in result.rewritten_query  # the search query carries the earlier question
    assert result.features["names_found"] == 1.0 and not result.refused
