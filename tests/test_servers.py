"""Prove the loopback fakes speak the real protocols, using the real clients against them."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import langsmith
import ollama
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.langchain import LangChainTracer, wait_for_all_tracers
from langchain_ollama import ChatOllama, OllamaEmbeddings
from langsmith import run_trees
from langsmith import utils as ls_utils
from urllib3.util.retry import Retry

from tests.servers import (
    FakeOllama,
    LangSmithCapture,
    closed_port,
    echo_reply,
    hashed_embedding,
    project_id,
)

CHAT = "llama3.2:3b"
EMBED = "nomic-embed-text"
NOT_FOUND = 'model "missing:7b" not found, try pulling it first'


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --- Ollama: the `ollama` client ---------------------------------------------------------------


def test_ollama_client_lists_models_and_version(fake_ollama):
    client = ollama.Client(host=fake_ollama.url)
    assert [m.model for m in client.list().models] == ["llama3.2:3b", "nomic-embed-text:latest"]
    assert client.show(CHAT).capabilities == ["completion", "tools"]
    assert httpx.get(f"{fake_ollama.url}/api/version").json() == {"version": "0.12.6"}
    tags = httpx.get(f"{fake_ollama.url}/api/tags").json()
    assert tags["models"][0]["name"] == tags["models"][0]["model"] == "llama3.2:3b"
    client.close()


def test_ollama_client_chat_streams_ndjson_with_final_counts(fake_ollama):
    fake_ollama.reply = "Paris is the capital [1]."
    with ollama.Client(host=fake_ollama.url) as client:
        parts = list(
            client.chat(model=CHAT, messages=[{"role": "user", "content": "capital?"}], stream=True)
        )
    assert "".join(p.message.content for p in parts) == "Paris is the capital [1]."
    assert len(parts) > 2 and not any(p.done for p in parts[:-1])
    final = parts[-1]
    assert final.done and final.done_reason == "stop"
    assert final.eval_count == len(parts) - 1 and final.prompt_eval_count == 1
    assert final.total_duration and final.total_duration > 0
    raw = fake_ollama.requests_to("/api/chat")[0]
    assert raw.json["stream"] is True and raw.json["model"] == CHAT


def test_ollama_client_chat_without_stream_returns_one_object(fake_ollama):
    with ollama.Client(host=fake_ollama.url) as client:
        resp = client.chat(model=CHAT, messages=[{"role": "user", "content": "hello"}])
    assert resp.message.content == "Echo: hello [1]"
    assert resp.done and resp.eval_count == 3


def test_ollama_client_embed_string_and_list(fake_ollama):
    with ollama.Client(host=fake_ollama.url) as client:
        one = client.embed(model=EMBED, input="refund policy")
        many = client.embed(model=EMBED, input=["refund policy", "holiday rota"])
        short = client.embed(model=EMBED, input="x", dimensions=8)
    assert len(one.embeddings) == 1 and len(many.embeddings) == 2
    assert one.embeddings[0] == many.embeddings[0] == hashed_embedding("refund policy")
    assert all(math.isclose(sum(v * v for v in e), 1.0) for e in many.embeddings)
    assert len(short.embeddings[0]) == 8


# --- Ollama: langchain-ollama --------------------------------------------------------------------


def test_chat_ollama_invoke_reports_usage(fake_ollama):
    fake_ollama.reply = lambda messages: f"{len(messages)} messages seen [1]"
    llm = ChatOllama(base_url=fake_ollama.url, model=CHAT, validate_model_on_init=True)
    msg = llm.invoke([SystemMessage("Answer from context."), HumanMessage("What is it?")])
    assert msg.content == "2 messages seen [1]"
    assert msg.usage_metadata == {"input_tokens": 6, "output_tokens": 4, "total_tokens": 10}
    assert msg.response_metadata["done_reason"] == "stop"
    assert msg.response_metadata["model_name"] == CHAT
    sent = fake_ollama.chat_requests()[0]
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert sent["stream"] is True  # ChatOllama always streams, even for invoke


def test_chat_ollama_stream_arrives_token_by_token(fake_ollama):
    fake_ollama.reply = "one two three four five"
    fake_ollama.token_delay = 0.1
    llm = ChatOllama(base_url=fake_ollama.url, model=CHAT)
    started = time.monotonic()
    arrivals, text, usage = [], "", None
    for chunk in llm.stream("count"):
        arrivals.append(time.monotonic() - started)
        text += chunk.content
        usage = chunk.usage_metadata or usage
    assert text == "one two three four five"
    assert arrivals[0] < arrivals[-1] - 0.25  # the first token came well before the last
    assert usage == {"input_tokens": 1, "output_tokens": 5, "total_tokens": 6}


def test_ollama_embeddings_are_deterministic_and_similarity_preserving(fake_ollama):
    emb = OllamaEmbeddings(base_url=fake_ollama.url, model=EMBED)
    refund, refund2, rota = emb.embed_documents(
        ["How do I get a refund?", "refund request how", "The holiday rota for December"]
    )
    assert len(refund) == 64
    assert _cosine(refund, refund2) > 0.4 > abs(_cosine(refund, rota)) + 0.2
    assert emb.embed_query("How do I get a refund?") == refund
    assert fake_ollama.requests_to("/api/embed")[0].json["input"][0] == "How do I get a refund?"


def test_default_reply_echoes_and_cites():
    assert echo_reply([{"role": "user", "content": "where   is\nit"}]) == "Echo: where is it [1]"


# --- Ollama: failures ---------------------------------------------------------------------------


def _missing_model_calls(url: str):
    client = ollama.Client(host=url)
    return {
        "client.chat stream": lambda: list(
            client.chat(model="missing:7b", messages=[], stream=True)
        ),
        "client.chat": lambda: client.chat(model="missing:7b", messages=[]),
        "client.embed": lambda: client.embed(model="missing:7b", input="x"),
        "client.show": lambda: client.show("missing:7b"),
        "ChatOllama.invoke": lambda: ChatOllama(base_url=url, model="missing:7b").invoke("x"),
        "OllamaEmbeddings": lambda: OllamaEmbeddings(base_url=url, model="missing:7b").embed_query(
            "x"
        ),
    }


@pytest.mark.parametrize(
    "call",
    [
        "client.chat stream",
        "client.chat",
        "client.embed",
        "client.show",
        "ChatOllama.invoke",
        "OllamaEmbeddings",
    ],
)
def test_unknown_model_is_a_404_response_error(fake_ollama, call):
    with pytest.raises(ollama.ResponseError) as info:
        _missing_model_calls(fake_ollama.url)[call]()
    assert info.value.status_code == 404
    assert info.value.error == NOT_FOUND


def test_validate_model_on_init_rejects_unknown_model(fake_ollama):
    with pytest.raises(ValueError, match="Model `missing:7b` not found in Ollama"):
        ChatOllama(base_url=fake_ollama.url, model="missing:7b", validate_model_on_init=True)
    assert fake_ollama.requests_to("/api/tags")  # validation lists models, it does not /api/show


def test_untagged_model_name_means_latest(fake_ollama):
    with ollama.Client(host=fake_ollama.url) as client:
        assert client.embed(model="nomic-embed-text", input="x").embeddings


def test_injected_server_error(fake_ollama):
    fake_ollama.error = (500, "llama runner process has terminated")
    with pytest.raises(ollama.ResponseError) as info:
        ChatOllama(base_url=fake_ollama.url, model=CHAT).invoke("x")
    assert info.value.status_code == 500
    assert info.value.error == "llama runner process has terminated"


# What each client raises when nothing listens (DESIGN.md): ChatOllama and a streamed
# ollama.Client.chat let httpx.ConnectError through (the client's streaming path does not
# translate it); every non-streamed ollama.Client call raises the builtin ConnectionError.
def _closed(url: str) -> dict[str, tuple[Callable[[], object], type[BaseException]]]:
    client = ollama.Client(host=url)
    return {
        "ChatOllama.invoke": (
            lambda: ChatOllama(base_url=url, model=CHAT).invoke("x"),
            httpx.ConnectError,
        ),
        "ChatOllama.stream": (
            lambda: list(ChatOllama(base_url=url, model=CHAT).stream("x")),
            httpx.ConnectError,
        ),
        "OllamaEmbeddings": (
            lambda: OllamaEmbeddings(base_url=url, model=EMBED).embed_query("x"),
            ConnectionError,
        ),
        "client.list": (client.list, ConnectionError),
        "client.chat": (lambda: client.chat(model=CHAT, messages=[]), ConnectionError),
        "client.chat stream": (
            lambda: list(client.chat(model=CHAT, messages=[], stream=True)),
            httpx.ConnectError,
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "ChatOllama.invoke",
        "ChatOllama.stream",
        "OllamaEmbeddings",
        "client.list",
        "client.chat",
        "client.chat stream",
    ],
)
def test_closed_port_errors(case):
    call, expected = _closed(f"http://127.0.0.1:{closed_port()}")[case]
    with pytest.raises(Exception) as info:  # noqa: B017 - the exact type is asserted below
        call()
    assert type(info.value) is expected
    assert not issubclass(httpx.ConnectError, ConnectionError)  # catch both in rag/backends


def test_close_is_prompt_while_a_stream_is_open():
    server = FakeOllama(reply="a b c d e f g h", token_delay=5.0).start()
    errors: list[BaseException] = []

    def consume():
        try:
            list(ChatOllama(base_url=server.url, model=CHAT).stream("x"))
        except Exception as exc:  # the server hangs up mid-stream; that is the point
            errors.append(exc)

    reader = threading.Thread(target=consume)
    reader.start()
    deadline = time.monotonic() + 5
    while not server.requests_to("/api/chat") and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2
    reader.join(timeout=5)
    assert not reader.is_alive()
    assert errors  # the client saw the connection drop instead of waiting for more tokens


# --- LangSmith ----------------------------------------------------------------------------------


def _traced_chain_run(callbacks: list | None = None) -> uuid.UUID:
    """Run a two-step chain (traced per the environment, or by `callbacks`); return its id."""
    to_messages = RunnableLambda(lambda q: [HumanMessage(q)]).with_config(run_name="to_messages")
    chain = to_messages | GenericFakeChatModel(messages=iter(["Paris [1]"]))
    root_id = uuid.uuid4()
    config = {
        "run_id": root_id,
        "metadata": {"prompt_version": "answer.v1"},
        "tags": ["qa"],
        "callbacks": callbacks,
    }
    assert chain.invoke("capital?", config=config).content == "Paris [1]"
    return root_id


def _assert_trace_tree(capture: LangSmithCapture, root_id: uuid.UUID) -> None:
    root = capture.run(root_id)
    assert root["name"] == "RunnableSequence" and root["run_type"] == "chain"
    assert root.get("parent_run_id") is None and root["trace_id"] == str(root_id)
    assert root["inputs"] == {"input": "capital?"}
    assert root["outputs"]["output"]["content"] == "Paris [1]"
    assert root["extra"]["metadata"]["prompt_version"] == "answer.v1"
    assert "qa" in root["tags"] and root["session_name"] == "groundwork-tests"
    children = {r["name"]: r for r in capture.children(root_id)}
    assert set(children) == {"to_messages", "GenericFakeChatModel"}
    assert children["GenericFakeChatModel"]["run_type"] == "llm"
    assert children["to_messages"]["run_type"] == "chain"
    assert all(c["trace_id"] == str(root_id) and c.get("end_time") for c in children.values())
    assert [r["name"] for r in capture.trace(root_id)][0] == "RunnableSequence"


def test_langsmith_capture_receives_trace_tree_and_feedback(langsmith_capture):
    root_id = _traced_chain_run()
    wait_for_all_tracers()  # runs leave on a background thread
    _assert_trace_tree(langsmith_capture, root_id)
    assert langsmith_capture.requests_to("/runs/multipart", "POST")

    client = langsmith.Client(api_url=langsmith_capture.url, api_key="test")
    project = client.read_project(project_name="groundwork-tests")
    assert str(project.id) == project_id("groundwork-tests")
    client.create_feedback(root_id, key="user_score", score=1, comment="ok", session_id=project.id)
    client.close()

    [fb] = langsmith_capture.wait_for_feedback(lambda f: f["key"] == "user_score")
    assert fb["run_id"] == str(root_id) and fb["score"] == 1 and fb["comment"] == "ok"
    assert fb["session_id"] == project_id("groundwork-tests")


@pytest.mark.parametrize("ingest", ["multipart-zstd", "multipart", "batch"])
def test_every_ingest_path_records_runs_and_feedback(ingest):
    with LangSmithCapture(ingest=ingest) as capture:
        client = langsmith.Client(api_url=capture.url, api_key="test")
        if ingest == "multipart-zstd":
            # The client turns compression on from its tracing thread once /info has answered;
            # runs queued before that go uncompressed. Wait so this test sees zstd for sure.
            deadline = time.monotonic() + 5
            while client.compressed_traces is None and time.monotonic() < deadline:
                time.sleep(0.01)
        tracer = LangChainTracer(client=client, project_name="groundwork-tests")
        root_id = _traced_chain_run(callbacks=[tracer])
        # With trace_id a multipart server gets the feedback queued as a form part;
        # a batch-only server gets POST /feedback. Both must be recorded.
        client.create_feedback(
            root_id, trace_id=root_id, key="user_score", score=0, session_id=project_id("p")
        )
        client.flush()
        client.close()

        _assert_trace_tree(capture, root_id)
        [fb] = capture.wait_for_feedback()
        assert fb["run_id"] == str(root_id) and fb["score"] == 0
        expected_path = "/runs/batch" if ingest == "batch" else "/runs/multipart"
        sent = capture.requests_to(expected_path, "POST")
        assert sent and not capture.errors
        encodings = {r.headers.get("content-encoding") for r in sent}
        assert encodings == ({"zstd"} if ingest == "multipart-zstd" else {None})


def test_tracing_env_is_undone_afterwards():
    with LangSmithCapture() as capture:
        with capture.tracing_env(project="elsewhere"):
            assert ls_utils.tracing_is_enabled() is True
            assert ls_utils.get_tracer_project() == "elsewhere"
        assert ls_utils.tracing_is_enabled() is False
        assert run_trees._CLIENT is None
        RunnableLambda(lambda x: x).invoke(1)  # not traced: nothing reaches the capture
        assert capture.runs == []


def test_feedback_without_session_id_warns():
    """The client deprecates run feedback without session_id; with warnings as errors it fails."""
    import gc

    # Sockets an earlier test leaked would otherwise be finalised inside pytest.warns, which
    # re-raises their ResourceWarning; outside it they go to the ignored unraisable hook.
    gc.collect()
    with LangSmithCapture() as capture:
        client = langsmith.Client(api_url=capture.url, api_key="test")
        with pytest.warns(ls_utils.LangSmithWarning, match="without session_id"):
            client.create_feedback(uuid.uuid4(), key="user_score", score=1)
        client.close()
        assert capture.wait_for_feedback()


def test_hang_mode_times_out_and_still_closes_fast():
    with LangSmithCapture(mode="hang", hang_seconds=60) as capture:
        client = langsmith.Client(
            api_url=capture.url,
            api_key="test",
            timeout_ms=300,
            retry_config=Retry(total=0),
            info={"version": "0.12.33"},
        )
        started = time.monotonic()
        # stop_after_attempt defaults to 10 with exponential sleeps: minutes against a hung server.
        with pytest.raises(Exception) as info:  # noqa: B017 - the exact type is asserted below
            client.create_feedback(
                uuid.uuid4(), key="k", score=1, session_id=project_id("p"), stop_after_attempt=1
            )
        assert type(info.value).__name__ == "ReadTimeout"  # requests', not wrapped by langsmith
        assert time.monotonic() - started < 3
        client.close(timeout=1)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert capture.feedback == []


def test_error500_mode_raises_api_error():
    with LangSmithCapture(mode="error500") as capture:
        client = langsmith.Client(
            api_url=capture.url, api_key="test", retry_config=Retry(total=0), info={"version": "1"}
        )
        with pytest.raises(ls_utils.LangSmithAPIError):
            client.create_feedback(
                uuid.uuid4(), key="k", score=1, session_id=project_id("p"), stop_after_attempt=1
            )
        client.close(timeout=1)
        capture.mode = "normal"
        assert httpx.get(f"{capture.url}/info").json()["batch_ingest_config"]
