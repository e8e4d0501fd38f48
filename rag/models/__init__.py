"""Models: which backend answers (Ollama or embedded), the embedded chat model, and the
MiniLM embeddings run in-process from an ONNX graph."""

from rag.models.backends import (
    BackendChoice,
    default_embedder,
    make_chat_model,
    make_embeddings,
    resolve_backend,
)
from rag.models.embeddings import DEFAULT_EMBEDDER, MODEL_NAME, MiniLMEmbeddings

__all__ = [
    "DEFAULT_EMBEDDER",
    "BackendChoice",
    "MODEL_NAME",
    "MiniLMEmbeddings",
    "default_embedder",
    "make_chat_model",
    "make_embeddings",
    "resolve_backend",
]
