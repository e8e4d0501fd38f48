"""The answer pipeline: rewrite → hybrid retrieval → versioned prompt → model → verification.

``Assistant.ask`` returns an ``AnswerStream``: iterate it for the model's text as it is
generated (what ``st.write_stream`` consumes); when it is exhausted, ``.result`` holds the
verified answer, its citations and everything measured about it (an
:class:`~rag.answer.result.AnswerResult`). The run id exists before the model is called, so the
trace, the run log and feedback all join on it. All backends run through this same chain.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda

from rag.answer.encoder import CachingEncoder
from rag.answer.guarding import check_answer, screen_question
from rag.answer.outcome import settle
from rag.answer.prompts import format_context, load_prompt
from rag.answer.refusal import DEFAULT_GATE, gate_features
from rag.answer.result import AnswerResult
from rag.answer.rewrite import rewrite_query
from rag.config import Settings
from rag.errors import BackendUnavailable
from rag.guardrails.guard import Guardrails
from rag.guardrails.private import private_values, unredacted
from rag.index.retrieve import GroundworkRetriever, HybridSearch
from rag.index.store import DocumentStore
from rag.models.backends import BackendChoice
from rag.ops.telemetry import Telemetry
from rag.types import Passage

__all__ = [
    "AnswerStream",
    "Assistant",
]


GENERATE_FLOOR = 0.5  # generating, the gate refuses below this share of refusal_threshold


class Assistant:
    """Answers questions from the store with a chat model; one per process."""

    def __init__(
        self,
        settings: Settings,
        store: DocumentStore,
        chat_model: BaseChatModel,
        backend: BackendChoice,
        search: HybridSearch | None = None,
        telemetry: Telemetry | None = None,
        guardrails: Guardrails | None = None,
    ):
        self.settings = settings
        self.store = store
        self.model = chat_model
        self.backend = backend
        self.search = search or HybridSearch(store, top_k=settings.top_k)
        self.retriever = GroundworkRetriever(search=self.search, k=settings.top_k)
        self.prompt = load_prompt("answer", settings.prompt_version)
        self.template = ChatPromptTemplate.from_messages(
            [("system", self.prompt.system), ("human", self.prompt.user)]
        )
        self.telemetry = telemetry or Telemetry(settings)
        self.guardrails = guardrails or Guardrails(settings)
        from rag.models.embeddings import MiniLMEmbeddings

        minilm = (
            store.embeddings
            if isinstance(store.embeddings, MiniLMEmbeddings)
            else MiniLMEmbeddings()
        )
        self._sentence_cache = CachingEncoder(minilm.encode)
        self._encode_lock = threading.Lock()
        self.pipeline = RunnableLambda(self._pipeline).with_config(run_name="groundwork-answer")

    def encode(self, texts: list[str]):
        """Embed sentences for verification (always the local MiniLM: fast and offline).

        Cached, so passages embedded to judge the evidence are not embedded again to verify.
        """
        with self._encode_lock:
            return self._sentence_cache(texts)

    def count_tokens(self, text: str) -> int:
        """Count tokens with the chat model's own tokenizer when it has one (else MiniLM's)."""
        counter = getattr(self.model, "count_tokens", None)
        if callable(counter):
            return counter(text)
        from rag.models.embeddings import count_tokens

        return count_tokens(text)

    def mode(self, requested: str | None = None) -> str:
        """How to answer: "quote" (the documents' best sentences, no model) or "generate".

        ``auto`` quotes first with the embedded model (a small model's drafts rarely pass the
        check) and generates with Ollama; a user can still ask for a generated answer.
        """
        mode = requested or self.settings.answer_mode
        if mode == "auto":
            return "quote" if self.backend.name == "embedded" else "generate"
        return mode

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        session_id: str = "",
        user: str = "",
        mode: str | None = None,
        collections: frozenset[str] | None = None,
    ) -> AnswerStream:
        """Start answering ``question``; iterate the result for streamed text.

        The question and its conversation are screened first: personal data is redacted (the
        model, traces and logs see placeholders), and a blocked question raises
        ``GuardrailBlocked`` before anything runs. ``mode`` overrides the ``answer_mode``
        setting for this question ("quote" or "generate"). ``collections`` are the ones the
        asker may read: retrieval sees no other (None: every collection).
        """
        check, safe_history = screen_question(self, question.strip(), history, user)
        stream = AnswerStream(self, check.text, safe_history, session_id, user)
        stream.collections = collections
        r = stream.result
        r.mode, r.mapping = self.mode(mode), check.mapping
        r.guardrails = {"pii": check.pii, "injection": check.injection, "action": check.action}
        if check.action == "warn":
            r.warnings.append(check.message)
        return stream

    def _pipeline(self, inputs: dict[str, Any], config: RunnableConfig) -> Iterator[dict[str, Any]]:
        """The traced chain: retrieval, the refusal gate, then the model on the prompt."""
        scope = inputs["collections"]
        collections = None if scope is None else frozenset(scope)
        docs = self.retriever.invoke(inputs["query"], config, collections=collections)
        passages = [d.metadata["passage"] for d in docs]
        yield {"passages": passages}
        # The gate reads the user's own question: a follow-up's search query carries the
        # previous question too, whose names need not be in these passages.
        question = unredacted(inputs["question"])  # local only: the features are numbers
        features = gate_features(self.search, question, passages, self.encode)
        probability = DEFAULT_GATE.probability(features) if passages else 0.0
        yield {"evidence": probability, "features": features}
        if inputs["mode"] == "generate" and self._worth_generating(passages, probability):
            yield from self._generate(inputs["question"], passages, config)

    def _worth_generating(self, passages: list[Passage], probability: float) -> bool:
        """Whether the gate lets the model answer from ``passages``.

        Generating, a capable model says itself when the passages do not answer: the gate then
        only stops the clearly empty case.
        """
        return bool(passages) and probability >= self.settings.refusal_threshold * GENERATE_FLOOR

    def _generate(
        self, question: str, passages: list[Passage], config: RunnableConfig
    ) -> Iterator[dict[str, Any]]:
        """Prompt the model with the numbered passages; pass on its chunks as they come."""
        messages = self.template.invoke(
            {"context": format_context(passages), "question": question}, config
        )
        yield {"prompt": "\n".join(m.text for m in messages.to_messages())}
        for chunk in self.model.stream(messages, config):
            yield {"chunk": chunk}


class AnswerStream:
    """Iterate for streamed answer text; afterwards ``result`` holds the verified answer."""

    def __init__(self, assistant: Assistant, question: str, history, session_id: str, user: str):
        a = assistant
        self.assistant = assistant
        self.history = history
        self.result = AnswerResult(
            run_id=str(uuid.uuid4()),
            question=question,
            rewritten_query=question,
            backend=a.backend.name,
            model=a.backend.chat_model,
            embed_model=a.store.embedder,
            prompt_version=a.prompt.ref,
            index_version=a.store.index_version,
            session_id=session_id,
            user=user,
        )
        self.done = False
        self.collections: frozenset[str] | None = None  # what the asker may read; None: all
        self.prompt_text = ""
        self._usage: AIMessageChunk | None = None  # the model's chunks summed: token usage

    def __iter__(self) -> Iterator[str]:
        """Yield the model's text as it comes; then verify it, or quote the documents."""
        started = time.perf_counter()
        cpu_started = time.process_time()
        self._rewrite(started)
        yield from self._stream(started)
        self._count_tokens()
        verify_started = time.perf_counter()
        settle(self.result, self.assistant.settings, self.assistant.encode)
        check_answer(self.assistant, self.result)
        timings = self.result.timings
        timings["verify_ms"] = _ms(verify_started)
        self.result.cpu_seconds = round(time.process_time() - cpu_started, 3)
        timings["total_ms"] = _ms(started)
        self.done = True

    def _rewrite(self, started: float) -> None:
        """Turn a follow-up into a standalone search query (only Ollama's model rewrites it)."""
        a, r = self.assistant, self.result
        if self.history:
            rewriter = a.model if a.backend.name == "ollama" else None
            r.rewritten_query = rewrite_query(rewriter, a.settings, r.question, self.history)
        r.timings["rewrite_ms"] = _ms(started)

    def _config(self) -> RunnableConfig:
        """The traced run: its id (the run log's and feedback's too), tags and metadata."""
        a, r = self.assistant, self.result
        return {
            "run_id": uuid.UUID(r.run_id),
            "run_name": "groundwork-answer",
            "callbacks": a.telemetry.callbacks(),
            "tags": ["groundwork", f"backend:{r.backend}", f"prompt:{r.prompt_version}"],
            "metadata": {
                "prompt_version": r.prompt_version,
                "model": r.model,
                "backend": r.backend,
                "embed_model": r.embed_model,
                "index_version": r.index_version,
                "session_id": r.session_id,
                "user_hash": a.telemetry.pseudonym(r.user),
            },
        }

    def _stream(self, started: float) -> Iterator[str]:
        """Run the pipeline with the user's own words available to its local steps only."""
        with private_values(self.result.mapping):
            yield from self._events(started)

    def _events(self, started: float) -> Iterator[str]:
        """Run the pipeline, recording what each step reports; yield the model's text."""
        r, timings = self.result, self.result.timings
        scope = None if self.collections is None else sorted(self.collections)
        inputs = {
            "question": r.question,
            "query": r.rewritten_query,
            "mode": r.mode,
            "collections": scope,
        }
        pieces: list[str] = []
        generation_started = None
        for event in _guarded(self.assistant.pipeline.stream(inputs, self._config()), r):
            if "passages" in event:
                r.passages = event["passages"]
                timings["retrieve_ms"] = _ms(started) - timings["rewrite_ms"]
                generation_started = time.perf_counter()
            elif "evidence" in event:
                r.evidence = round(event["evidence"], 4)
                r.features = event["features"]
            elif "prompt" in event:
                self.prompt_text = event["prompt"]
            elif "chunk" in event:
                chunk: AIMessageChunk = event["chunk"]
                self._usage = chunk if self._usage is None else self._usage + chunk
                if chunk.text:
                    if not pieces:
                        timings["ttft_ms"] = _ms(started)
                    pieces.append(chunk.text)
                    yield chunk.text
        if generation_started is not None and self.prompt_text:  # the model was called
            timings["generate_ms"] = _ms(generation_started)
        r.raw_answer = "".join(pieces).strip()

    def _count_tokens(self) -> None:
        """Record the tokens in and out: as the backend reports them, else counted."""
        r, usage = self.result, self._usage
        if usage is not None and usage.usage_metadata:
            r.tokens_in = usage.usage_metadata.get("input_tokens", 0)
            r.tokens_out = usage.usage_metadata.get("output_tokens", 0)
        elif self.prompt_text:  # the backend reported no usage: count with its tokenizer
            r.tokens_in = self.assistant.count_tokens(self.prompt_text)
            r.tokens_out = self.assistant.count_tokens(r.raw_answer)


def _guarded(events: Iterator[dict[str, Any]], r: AnswerResult) -> Iterator[dict[str, Any]]:
    """Turn a model server failing mid-answer into ``BackendUnavailable`` with what to do."""
    import httpx

    try:
        from ollama import ResponseError
    except ImportError:  # the ollama client is optional for the embedded backend
        ResponseError = httpx.HTTPError  # noqa: N806
    try:
        yield from events
    except (httpx.HTTPError, ConnectionError, ResponseError) as exc:
        r.error = f"{type(exc).__name__}: {exc}"
        raise BackendUnavailable(
            f"The {r.backend} model server stopped answering ({r.error}). Check that it is "
            "running (`ollama serve`) and has the model, or switch to the embedded model."
        ) from exc


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
