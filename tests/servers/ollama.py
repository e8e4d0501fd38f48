"""Own `FakeOllama`: the Ollama HTTP API on loopback, for tests without a real server.

It implements what `ollama.Client`, `langchain_ollama.ChatOllama`, `OllamaEmbeddings` and
`OllamaLLM` call (read from ollama 0.6 `_client.py` / langchain-ollama 1.1):

- ``GET /`` ("Ollama is running"), ``GET /api/version``, ``GET /api/tags``, ``GET /api/ps``
- ``POST /api/show`` (``validate_model_on_init`` itself only calls ``/api/tags``)
- ``POST /api/chat`` and ``POST /api/generate``: ``stream`` true (ChatOllama's default) answers
  NDJSON over chunked transfer, one line per token and a final ``done`` line carrying
  ``done_reason``, ``prompt_eval_count``, ``eval_count`` and the ``*_duration`` fields;
  ``stream`` false answers one JSON object.
- ``POST /api/embed`` (``input`` string or list) and the legacy ``POST /api/embeddings``.

An unknown model answers 404 ``{"error": "model \\"X\\" not found, try pulling it first"}`` as
real Ollama does; the client turns it into ``ollama.ResponseError`` with ``status_code == 404``.
Embeddings are deterministic hashed bags of words (see `hashed_embedding`), so texts sharing
words get similar vectors.

Example::

    with FakeOllama(reply=lambda messages: "Paris [1]") as ollama_server:
        llm = ChatOllama(base_url=ollama_server.url, model="llama3.2:3b")
        assert llm.invoke("capital?").content == "Paris [1]"
        assert ollama_server.requests_to("/api/chat")[0].json["model"] == "llama3.2:3b"
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from ._http import Exchange, LoopbackServer

DEFAULT_MODELS = ("llama3.2:3b", "nomic-embed-text:latest")
EMBED_DIM = 64

Reply = Callable[[list[dict[str, Any]]], str]

_WORD = re.compile(r"\w+", re.UNICODE)


def echo_reply(messages: list[dict[str, Any]]) -> str:
    """Answer deterministically: echo the last user message and cite source [1]."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    text = " ".join(str(last.get("content", "")).split()) if last else ""
    return f"Echo: {text[:200]} [1]"


def hashed_embedding(text: str, dim: int = EMBED_DIM) -> list[float]:
    """Embed `text` as an L2-normalised, signed, hashed bag of lower-cased words.

    Text without words maps to a fixed unit vector (never a zero vector, which breaks cosine).
    """
    vec = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vec[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        return [1.0] + [0.0] * (dim - 1)
    return [v / norm for v in vec]


def split_tokens(text: str) -> list[str]:
    """Split a reply into stream pieces (a word with its leading space); joins back exactly."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)) :]
    if tail:
        pieces.append(tail)
    return pieces or [""]


def _normalise(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeOllama(LoopbackServer):
    """A threaded fake Ollama server on ``127.0.0.1``; use as a context manager or fixture.

    Attributes (all may be changed while the server runs):
        models: model names served, e.g. ``["llama3.2:3b"]``; others answer 404.
        reply: ``messages -> text`` for ``/api/chat`` and ``/api/generate`` (default `echo_reply`).
        token_delay: seconds to sleep before each streamed token.
        embed_dim: embedding size (a request's ``dimensions`` overrides it).
        error: ``(status, message)`` to fail every chat/generate/embed call with, or None.
        received: every request, in order (`RecordedRequest`: method, path, json, ...).
    """

    def __init__(
        self,
        models: Iterable[str] = DEFAULT_MODELS,
        reply: Reply | str | None = None,
        *,
        token_delay: float = 0.0,
        embed_dim: int = EMBED_DIM,
        version: str = "0.12.6",
    ) -> None:
        super().__init__()
        self.models: list[str] = list(models)
        self.reply: Reply | str = reply if reply is not None else echo_reply
        self.token_delay = token_delay
        self.embed_dim = embed_dim
        self.version = version
        self.error: tuple[int, str] | None = None

    # helpers for tests ---------------------------------------------------------------------
    def chat_requests(self) -> list[dict[str, Any]]:
        """Return the JSON bodies of every ``/api/chat`` request received."""
        return [r.json for r in self.requests_to("/api/chat")]

    def has_model(self, name: str) -> bool:
        return _normalise(name) in {_normalise(m) for m in self.models}

    # protocol ------------------------------------------------------------------------------
    def _handle(self, ex: Exchange) -> None:
        route = (ex.method, ex.path)
        match route:
            case ("GET" | "HEAD", "/"):
                ex.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")
            case ("GET", "/api/version"):
                ex.send_json(200, {"version": self.version})
            case ("GET", "/api/tags"):
                ex.send_json(200, {"models": [self._model_entry(m) for m in self.models]})
            case ("GET", "/api/ps"):
                ex.send_json(200, {"models": []})
            case ("POST", "/api/show"):
                self._show(ex)
            case ("POST", "/api/chat"):
                self._generate(ex, chat=True)
            case ("POST", "/api/generate"):
                self._generate(ex, chat=False)
            case ("POST", "/api/embed"):
                self._embed(ex, legacy=False)
            case ("POST", "/api/embeddings"):
                self._embed(ex, legacy=True)
            case _:
                ex.send_bytes(404, b"404 page not found", "text/plain")

    def _model_entry(self, name: str) -> dict[str, Any]:
        digest = hashlib.sha256(name.encode()).hexdigest()
        family = name.split(":")[0].rstrip("0123456789.")
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": 2_019_393_189,
            "digest": digest,
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
        }

    def _check_model(self, ex: Exchange) -> str | None:
        body = ex.json if isinstance(ex.json, dict) else {}
        model = body.get("model") or body.get("name") or ""
        if not model:
            ex.send_json(400, {"error": "model is required"})
            return None
        if not self.has_model(model):
            ex.send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return None
        if self.error is not None:
            status, message = self.error
            ex.send_json(status, {"error": message})
            return None
        return model

    def _show(self, ex: Exchange) -> None:
        body = ex.json if isinstance(ex.json, dict) else {}
        model = body.get("model") or body.get("name") or ""
        if not self.has_model(model):
            ex.send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        entry = self._model_entry(_normalise(model))
        ex.send_json(
            200,
            {
                "modelfile": f"FROM {model}\n",
                "parameters": "stop <|eot_id|>",
                "template": "{{ .Prompt }}",
                "details": entry["details"],
                "model_info": {"general.architecture": entry["details"]["family"]},
                "capabilities": ["embedding"] if "embed" in model else ["completion", "tools"],
                "modified_at": entry["modified_at"],
            },
        )

    def _generate(self, ex: Exchange, *, chat: bool) -> None:
        model = self._check_model(ex)
        if model is None:
            return
        body: dict[str, Any] = ex.json
        if chat:
            messages = list(body.get("messages") or [])
        else:
            messages = [{"role": "user", "content": body.get("prompt", "")}]
            if body.get("system"):
                messages.insert(0, {"role": "system", "content": body["system"]})
        started = time.perf_counter_ns()
        text = self.reply if isinstance(self.reply, str) else self.reply(messages)
        pieces = split_tokens(text)
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in messages) or 1

        def frame(piece: str) -> dict[str, Any]:
            out: dict[str, Any] = {"model": model, "created_at": _now()}
            if chat:
                out["message"] = {"role": "assistant", "content": piece}
            else:
                out["response"] = piece
            out["done"] = False
            return out

        def final(content: str) -> dict[str, Any]:
            out = frame(content)
            total = max(time.perf_counter_ns() - started, 1)
            out.update(
                done=True,
                done_reason="stop",
                total_duration=total,
                load_duration=total // 10,
                prompt_eval_count=prompt_tokens,
                prompt_eval_duration=total // 5,
                eval_count=len(pieces),
                eval_duration=total // 2,
            )
            if not chat:
                out["context"] = [1, 2, 3]
            return out

        if body.get("stream", True) is False:
            if self.token_delay:
                time.sleep(self.token_delay * len(pieces))
            ex.send_json(200, final(text))
            return
        ex.start_stream(200, "application/x-ndjson")
        for piece in pieces:
            if self.token_delay and self._closing.wait(self.token_delay):
                return  # the server is closing: hang up mid-stream
            ex.write_chunk(json.dumps(frame(piece)).encode() + b"\n")
        ex.write_chunk(json.dumps(final("")).encode() + b"\n")
        ex.end_stream()

    def _embed(self, ex: Exchange, *, legacy: bool) -> None:
        model = self._check_model(ex)
        if model is None:
            return
        body: dict[str, Any] = ex.json
        dim = int(body.get("dimensions") or self.embed_dim)
        if legacy:
            ex.send_json(200, {"embedding": hashed_embedding(body.get("prompt") or "", dim)})
            return
        raw = body.get("input", "")
        inputs: Sequence[str] = [raw] if isinstance(raw, str) else list(raw)
        ex.send_json(
            200,
            {
                "model": model,
                "embeddings": [hashed_embedding(t, dim) for t in inputs],
                "total_duration": 1_000_000,
                "load_duration": 100_000,
                "prompt_eval_count": sum(len(t.split()) for t in inputs),
            },
        )
