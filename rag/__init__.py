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
    "BackendChoice": "rag.backends",
    "resolve_backend": "rag.backends",
    "make_chat_model": "rag.backends",
    "make_embeddings": "rag.backends",
    "default_embedder": "rag.backends",
    "MiniLMEmbeddings": "rag.embeddings",
    "DocumentStore": "rag.store",
    "IngestReport": "rag.indexing",
    "ingest_file": "rag.indexing",
    "ingest_files": "rag.indexing",
    "delete_document": "rag.indexing",
    "reingest_document": "rag.indexing",
    "restore_previous": "rag.indexing",
    "edit_context": "rag.indexing",
    "DocumentContext": "rag.ingest.context",
    "sample_files": "rag.indexing",
    "HybridSearch": "rag.retrieve",
    "Fusion": "rag.retrieve",
    "Assistant": "rag.chain",
    "AnswerResult": "rag.answer",
    "Verification": "rag.verify",
    "open_db": "rag.database",
    "record_feedback": "rag.feedback",
    "log_run": "rag.runlog",
    "Telemetry": "rag.telemetry",
    "load_prompt": "rag.prompts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
