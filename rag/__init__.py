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
    "GuardrailBlocked": "rag.errors",
    "IngestError": "rag.errors",
    "StoreError": "rag.errors",
    "StoreLocked": "rag.errors",
    "BackendChoice": "rag.models.backends",
    "resolve_backend": "rag.models.backends",
    "make_chat_model": "rag.models.backends",
    "make_embeddings": "rag.models.backends",
    "default_embedder": "rag.models.backends",
    "MiniLMEmbeddings": "rag.models.embeddings",
    "DocumentStore": "rag.index.store",
    "IngestReport": "rag.index.indexing",
    "ingest_file": "rag.index.indexing",
    "ingest_files": "rag.index.indexing",
    "delete_document": "rag.index.indexing",
    "reingest_document": "rag.index.indexing",
    "restore_previous": "rag.index.indexing",
    "edit_context": "rag.index.indexing",
    "DocumentContext": "rag.ingest.context",
    "sample_files": "rag.index.indexing",
    "HybridSearch": "rag.index.retrieve",
    "Fusion": "rag.index.retrieve",
    "Assistant": "rag.answer.chain",
    "AnswerResult": "rag.answer.result",
    "Verification": "rag.answer.verify",
    "open_db": "rag.ops.database",
    "record_feedback": "rag.ops.feedback",
    "log_run": "rag.ops.runlog",
    "Telemetry": "rag.ops.telemetry",
    "load_prompt": "rag.answer.prompts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
