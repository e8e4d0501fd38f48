"""LangSmith tracing and feedback against a loopback server speaking LangSmith's API."""

from __future__ import annotations

import hashlib
import logging
import stat
import time

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.answer.chain import Assistant
from rag.config import Settings
from rag.errors import ConfigError
from rag.index.indexing import ingest_file
from rag.models.backends import BackendChoice
from rag.ops.telemetry import KEY_FILE, Telemetry, pseudonym, pseudonym_secret
from tests.conftest import run_in_threads

DOC = b"# Badges\n\nLost badges are replaced by the front desk for a fee of 15 dollars.\n"
REPLY = "Lost badges are replaced by the front desk for a fee of 15 dollars [1]."


def make_assistant(settings: Settings, store) -> Assistant:
    # A scripted model keeps this test about tracing; the real models have their own tests.
    model = GenericFakeChatModel(messages=iter([AIMessage(REPLY)] * 5))
    choice = BackendChoice("ollama", "scripted", "test")
    return Assistant(settings, store, model, choice, telemetry=Telemetry(settings))


@pytest.fixture
def traced(langsmith_capture, tmp_path, open_store):
    settings = Settings(data_dir=tmp_path / "data", backend="embedded")
    assert settings.langsmith_tracing and settings.langsmith_endpoint == langsmith_capture.url
    store = open_store(settings)
    ingest_file(store, "badges.md", DOC)
    assistant = make_assistant(settings, store)
    yield assistant, langsmith_capture
    langsmith_capture.mode = "normal"
    assistant.telemetry.close()


def test_trace_carries_retrieval_and_model_steps(traced):
    assistant, capture = traced
    stream = assistant.ask("Who replaces lost badges?", user="ana@example.org")
    list(stream)
    run_id = stream.result.run_id
    assistant.telemetry.flush()
    capture.wait_for_runs(lambda r: r.get("id") == run_id and r.get("end_time"), timeout=20)

    root = capture.run(run_id)
    assert root["name"] == "groundwork-answer"
    meta = root["extra"]["metadata"]
    assert meta["prompt_version"] == "answer.v2" and meta["index_version"] == 1
    key = (assistant.settings.data_dir / KEY_FILE).read_bytes().strip()
    assert meta["user_hash"] == pseudonym("ana@example.org", key)
    assert meta["user_hash"] not in hashlib.sha256(b"ana@example.org").hexdigest()
    assert "ana@example.org" not in str(root)
    steps = capture.trace(run_id)
    kinds = {r["run_type"] for r in steps}
    assert {"retriever", "llm"} <= kinds
    retriever = next(r for r in steps if r["run_type"] == "retriever")
    assert "badges" in str(retriever["outputs"]).lower()


def test_feedback_is_mirrored_with_the_run_id(traced):
    assistant, capture = traced
    stream = assistant.ask("Who replaces lost badges?")
    list(stream)
    future = assistant.telemetry.send_feedback(stream.result.run_id, 0, "incorrect", "fee is 20")
    assert future is not None and future.result(timeout=20) is True
    (feedback,) = capture.wait_for_feedback(lambda f: True, timeout=20)
    assert str(feedback["run_id"]) == stream.result.run_id
    assert feedback["score"] == 0 and "fee is 20" in feedback["comment"]


@pytest.mark.parametrize("mode", ["hang", "error500"])
def test_langsmith_down_never_breaks_an_answer(traced, mode):
    assistant, capture = traced
    capture.mode = mode
    started = time.perf_counter()
    stream = assistant.ask("Who replaces lost badges?")
    list(stream)
    elapsed = time.perf_counter() - started
    assert "15 dollars" in stream.result.answer
    # The answer path never waits on LangSmith (the hang is several seconds long).
    assert elapsed < capture.hang_seconds
    future = assistant.telemetry.send_feedback(stream.result.run_id, 1)
    assert future is not None and future.result(timeout=30) is False


def test_tracing_off_sends_nothing(tmp_path, open_store):
    settings = Settings(data_dir=tmp_path / "data")
    telemetry = Telemetry(settings)
    assert not telemetry.enabled and telemetry.callbacks() == []
    assert telemetry.send_feedback("run", 1) is None
    assert telemetry.pseudonym("ana@example.org") is None
    assert not (settings.data_dir / KEY_FILE).exists()  # no trace, no key


# --- pseudonyms ------------------------------------------------------------------------------

EMAIL = "ana@example.org"


def test_pseudonym_is_an_hmac_under_the_secret():
    one, two = b"first-secret-0123456789", b"second-secret-0123456789"
    assert pseudonym(EMAIL, one) == pseudonym(EMAIL, one)  # stable
    assert pseudonym(EMAIL, one) != pseudonym(EMAIL, two)
    assert pseudonym(EMAIL, one) != pseudonym("ben@example.org", one)
    unsalted = hashlib.sha256(EMAIL.encode()).hexdigest()
    assert pseudonym(EMAIL, one) not in unsalted  # not guessable from the email alone
    assert len(pseudonym(EMAIL, one)) == 16


def test_secret_setting_is_used_and_hidden(tmp_path):
    secret = "s3cret-value-for-tests-0123"
    settings = Settings(data_dir=tmp_path, pseudonym_secret=secret)
    assert pseudonym_secret(settings) == secret.encode()
    assert not (tmp_path / KEY_FILE).exists()
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    other = Settings(data_dir=tmp_path, pseudonym_secret="another-value-for-tests-0123")
    assert pseudonym(EMAIL, pseudonym_secret(settings)) != pseudonym(EMAIL, pseudonym_secret(other))
    with pytest.raises(ConfigError, match="GROUNDWORK_PSEUDONYM_SECRET is shorter"):
        pseudonym_secret(Settings(data_dir=tmp_path, pseudonym_secret="short"))


def test_generated_key_is_private_and_stable_across_restarts(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    keys = []
    run_in_threads(lambda _: keys.append(pseudonym_secret(Settings(data_dir=settings.data_dir))))
    path = settings.data_dir / KEY_FILE
    assert len(set(keys)) == 1 and len(keys[0]) == 64  # racing first users share one key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in settings.data_dir.iterdir()] == [KEY_FILE]  # no temp files left
    restarted = Settings(data_dir=settings.data_dir)
    assert pseudonym(EMAIL, pseudonym_secret(restarted)) == pseudonym(EMAIL, keys[0])
    elsewhere = Settings(data_dir=tmp_path / "other")
    assert pseudonym_secret(elsewhere) != keys[0]
    path.chmod(0o644)  # loosened by hand: tightened again on use
    pseudonym_secret(restarted)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unusable_key_file_costs_the_trace_its_pseudonym_not_the_answer(tmp_path, caplog):
    settings = Settings(
        data_dir=tmp_path, langsmith_tracing=True, langsmith_api_key="test-key-not-used"
    )
    (tmp_path / KEY_FILE).write_text("")
    with pytest.raises(ConfigError, match="empty or too short"):
        pseudonym_secret(settings)
    telemetry = Telemetry(settings)
    with caplog.at_level(logging.WARNING, logger="rag.ops.telemetry"):
        assert telemetry.pseudonym(EMAIL) is None
        assert telemetry.pseudonym(EMAIL) is None
    assert len(caplog.records) == 1 and KEY_FILE in caplog.text
    telemetry.close()


def test_tokens_are_counted_when_the_backend_reports_none(tmp_path, open_store):
    settings = Settings(data_dir=tmp_path / "data", backend="embedded")
    store = open_store(settings)
    ingest_file(store, "badges.md", DOC)
    assistant = make_assistant(settings, store)  # the scripted model reports no usage
    stream = assistant.ask("Who replaces lost badges?")
    list(stream)
    result = stream.result
    assert result.tokens_out == assistant.count_tokens(REPLY)
    assert result.tokens_in > result.tokens_out  # the prompt carries the passages
