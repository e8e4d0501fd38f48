"""Groundwork: answers from your documents, with verified citations.

The public API used by the pages, the CLI and tests. Names are imported on first use, so
``import rag.config`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Settings": "rag.config",
    "GroundworkError": "rag.errors",
    "BackendUnavailable": "rag.errors",
    "ConfigError": "rag.errors",
    "DatabaseError": "rag.errors",
    "DatasetError": "rag.errors",
    "EmbedderMismatch": "rag.errors",
    "FeedbackError": "rag.errors",
    "IngestError": "rag.errors",
    "StoreError": "rag.errors",
    "StoreLocked": "rag.errors",
    "BackendChoice": "rag.models",
    "resolve_backend": "rag.models",
    "make_chat_model": "rag.models",
    "make_embeddings": "rag.models",
    "default_embedder": "rag.models",
    "MiniLMEmbeddings": "rag.models",
    "DocumentStore": "rag.index",
    "IngestReport": "rag.index",
    "ingest_file": "rag.index",
    "ingest_files": "rag.index",
    "delete_document": "rag.index",
    "reingest_document": "rag.index",
    "restore_previous": "rag.index",
    "edit_context": "rag.index",
    "DocumentContext": "rag.ingest",
    "sample_files": "rag.index",
    "HybridSearch": "rag.index",
    "Fusion": "rag.index",
    "Assistant": "rag.answer",
    "AnswerResult": "rag.answer",
    "Verification": "rag.answer",
    "open_db": "rag.ops",
    "record_feedback": "rag.ops",
    "log_run": "rag.ops",
    "Telemetry": "rag.ops",
    "load_prompt": "rag.answer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
