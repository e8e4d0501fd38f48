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

from rag.answer import verify
from rag.answer.prompts import load_prompt
from rag.answer.refusal import DEFAULT_GATE, gate_features
from rag.answer.render import render_answer, render_quotes
from rag.answer.result import AnswerResult
from rag.answer.rewrite import rewrite_query
from rag.config import Settings
from rag.errors import BackendUnavailable
from rag.index.retrieve import GroundworkRetriever, HybridSearch
from rag.index.store import DocumentStore
from rag.models.backends import BackendChoice
from rag.ops.telemetry import Telemetry
from rag.text.markup import strip_markup
from rag.types import Citation, Passage

NOT_FOUND = "I could not find this in the documents."
QUOTED = "From the documents:"
NOT_VERIFIED = (
    "I could not verify a generated answer against the documents, so here is what they say:"
)
MODEL_FOUND_NOTHING = "The model found no answer in these passages. The most relevant say:"


def format_context(passages: Sequence[Passage]) -> str:
    """Number passages for the prompt: ``[1] (document context) text``.

    The document's context (title, subject, period) says which company, team or period a
    passage speaks of when its text only says "the Company". File names and pages stay out:
    small models copy them into the answer, and citations map [n] back to file and page anyway.
    """
    return "\n\n".join(
        f"[{i}] {_context_note(p)}{strip_markup(' '.join(p.text.split()))}"
        for i, p in enumerate(passages, 1)
    )


def _context_note(passage: Passage) -> str:
    context = " ".join(passage.context.split())
    return f"(From: {strip_markup(context)}) " if context else ""


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
        from rag.models.embeddings import MiniLMEmbeddings

        minilm = (
            store.embeddings
            if isinstance(store.embeddings, MiniLMEmbeddings)
            else MiniLMEmbeddings()
        )
        self._sentence_cache = verify.CachingEncoder(minilm.encode)
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
    ) -> AnswerStream:
        """Start answering ``question``; iterate the result for streamed text.

        ``mode`` overrides the ``answer_mode`` setting for this question ("quote" or
        "generate").
        """
        stream = AnswerStream(self, question.strip(), list(history), session_id, user)
        stream.result.mode = self.mode(mode)
        return stream

    def _pipeline(self, inputs: dict[str, Any], config: RunnableConfig) -> Iterator[dict[str, Any]]:
        """The traced chain: retrieval, the refusal gate, then the model on the prompt."""
        docs = self.retriever.invoke(inputs["query"], config)
        passages = [d.metadata["passage"] for d in docs]
        yield {"passages": passages}
        # The gate reads the user's own question: a follow-up's search query carries the
        # previous question too, whose names need not be in these passages.
        features = gate_features(self.search, inputs["question"], passages, self.encode)
        probability = DEFAULT_GATE.probability(features) if passages else 0.0
        yield {"evidence": probability, "features": features}
        # Generating, a capable model says itself when the passages do not answer: the gate
        # then only stops the clearly empty case.
        floor = self.settings.refusal_threshold
        if inputs["mode"] == "generate":
            floor *= GENERATE_FLOOR
        if not passages or probability < floor or inputs["mode"] != "generate":
            return
        messages = self.template.invoke(
            {"context": format_context(passages), "question": inputs["question"]}, config
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
        self.prompt_text = ""

    def __iter__(self) -> Iterator[str]:
        a, r = self.assistant, self.result
        started = time.perf_counter()
        cpu_started = time.process_time()
        timings = r.timings
        if self.history:
            rewriter = a.model if a.backend.name == "ollama" else None
            r.rewritten_query = rewrite_query(rewriter, a.settings, r.question, self.history)
        timings["rewrite_ms"] = _ms(started)
        config: RunnableConfig = {
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
        pieces: list[str] = []
        usage: AIMessageChunk | None = None
        generation_started = None
        for event in _guarded(
            a.pipeline.stream(
                {"question": r.question, "query": r.rewritten_query, "mode": r.mode}, config
            ),
            r,
        ):
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
                usage = chunk if usage is None else usage + chunk
                if chunk.text:
                    if not pieces:
                        timings["ttft_ms"] = _ms(started)
                    pieces.append(chunk.text)
                    yield chunk.text
        if generation_started is not None and self.prompt_text:  # the model was called
            timings["generate_ms"] = _ms(generation_started)
        r.raw_answer = "".join(pieces).strip()
        if usage is not None and usage.usage_metadata:
            r.tokens_in = usage.usage_metadata.get("input_tokens", 0)
            r.tokens_out = usage.usage_metadata.get("output_tokens", 0)
        elif self.prompt_text:  # the backend reported no usage: count with its tokenizer
            r.tokens_in = a.count_tokens(self.prompt_text)
            r.tokens_out = a.count_tokens(r.raw_answer)
        verify_started = time.perf_counter()
        self._finish()
        timings["verify_ms"] = _ms(verify_started)
        r.cpu_seconds = round(time.process_time() - cpu_started, 3)
        timings["total_ms"] = _ms(started)
        self.done = True

    def _finish(self) -> None:
        """Verify the model's answer; quote the documents when there is none or it fails."""
        a, r = self.assistant, self.result
        if not r.passages:
            r.refused, r.answer = True, f"{NOT_FOUND} No documents matched the question."
            return
        found = r.evidence >= a.settings.refusal_threshold
        model_refused = bool(r.raw_answer) and _is_refusal(r.raw_answer)
        if r.raw_answer and not model_refused:
            r.verification = verify.verify_answer(r.raw_answer, r.passages, a.encode)
            if r.verification.support_score > 0 and verify.answers_question(
                r.question, r.verification, r.passages, a.encode
            ):
                r.answer = render_answer(r.verification, mode=a.settings.unsupported)
                used = sorted(
                    {s.passage for s in r.verification.sentences if s.supported and s.passage}
                )
                r.citations = [
                    Citation(n, r.passages[n - 1], _quote(r.verification, n)) for n in used
                ]
                return
        # Quote the documents: as the answer (quote mode), instead of a draft that failed the
        # check, or as the closest evidence. "Not found" only when the gate (or the model, with
        # the gate agreeing) says the passages do not answer it.
        picks = verify.extractive_answer(r.question, r.passages, a.encode)
        r.extractive = True
        r.refused = not picks or not found
        if r.refused:
            head = f"{NOT_FOUND} The closest passages say:"
        elif model_refused:
            head = MODEL_FOUND_NOTHING
        elif r.raw_answer:
            head = NOT_VERIFIED
        else:
            head = QUOTED
        r.answer = f"{head}\n{render_quotes(picks)}" if picks else NOT_FOUND
        used = sorted({n for _, n in picks})
        r.citations = [
            Citation(n, r.passages[n - 1], next(s for s, m in picks if m == n)) for n in used
        ]


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


def _quote(v: verify.Verification, n: int) -> str:
    return next((s.evidence for s in v.sentences if s.supported and s.passage == n), "")


def _is_refusal(text: str) -> bool:
    lowered = text.lower()
    return (
        "could not find" in lowered
        or "couldn't find" in lowered
        or "not in the documents" in lowered
    )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
