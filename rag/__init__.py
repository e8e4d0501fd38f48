"""Groundwork: answers from your documents, with verified citations.

The public API used by the pages, the CLI and tests. Names are imported on first use, so
``import rag.config`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "REPO": "rag.config",
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
    "escape_line": "rag.text",
    "escape_markdown": "rag.text",
    "inert_markdown": "rag.text",
    "BackendChoice": "rag.models",
    "DEFAULT_EMBEDDER": "rag.models",
    "resolve_backend": "rag.models",
    "make_chat_model": "rag.models",
    "make_embeddings": "rag.models",
    "default_embedder": "rag.models",
    "MiniLMEmbeddings": "rag.models",
    "open_db": "rag.ops",
    "recent_events": "rag.ops",
    "event_counts": "rag.ops",
    "record_event": "rag.ops",
    "user_pseudonym": "rag.ops",
    "FEEDBACK_REASONS": "rag.ops",
    "record_feedback": "rag.ops",
    "append_golden": "rag.ops",
    "expected_sources": "rag.ops",
    "feedback_golden_set": "rag.ops",
    "count_feedback": "rag.ops",
    "export_feedback": "rag.ops",
    "feedback_facets": "rag.ops",
    "feedback_span": "rag.ops",
    "get_feedback": "rag.ops",
    "golden_case": "rag.ops",
    "list_feedback": "rag.ops",
    "mark_reviewed": "rag.ops",
    "log_run": "rag.ops",
    "load_insights": "rag.ops",
    "run_days": "rag.ops",
    "PriceTable": "rag.ops",
    "Telemetry": "rag.ops",
    "MAX_CONVERSATIONS": "rag.ops",
    "MAX_CONVERSATION_MESSAGES": "rag.ops",
    "clean_conversation_title": "rag.ops",
    "delete_conversation": "rag.ops",
    "list_conversations": "rag.ops",
    "load_conversation": "rag.ops",
    "rename_conversation": "rag.ops",
    "save_conversation_turn": "rag.ops",
    "DocumentContext": "rag.ingest",
    "SUPPORTED_EXTENSIONS": "rag.ingest",
    "DocumentStore": "rag.index",
    "context_changes": "rag.index",
    "document_details": "rag.index",
    "review_date": "rag.index",
    "open_store": "rag.index",
    "IngestReport": "rag.index",
    "ingest_file": "rag.index",
    "ingest_files": "rag.index",
    "delete_document": "rag.index",
    "reingest_document": "rag.index",
    "previous_version": "rag.index",
    "restore_previous": "rag.index",
    "edit_context": "rag.index",
    "update_metadata": "rag.index",
    "list_quarantined": "rag.index",
    "release_passage": "rag.index",
    "delete_passage": "rag.index",
    "reindex": "rag.index",
    "sample_files": "rag.index",
    "HybridSearch": "rag.index",
    "Fusion": "rag.index",
    "Assistant": "rag.answer",
    "AnswerResult": "rag.answer",
    "Verification": "rag.answer",
    "highlight": "rag.answer",
    "load_prompt": "rag.answer",
    "Outcome": "rag.answer",
    "ReadBack": "rag.answer",
    "answer_message": "rag.answer",
    "answer_outcome": "rag.answer",
    "follow_up_history": "rag.answer",
    "offers_generation": "rag.answer",
    "rating_details": "rag.answer",
    "read_answer": "rag.answer",
    "redaction_note": "rag.answer",
    "searched_as": "rag.answer",
    "section_heading": "rag.answer",
    "sentence_support": "rag.answer",
    "allowed_eval_path": "rag.evaluation",
    "evaluate": "rag.evaluation",
    "golden_sets": "rag.evaluation",
    "list_runs": "rag.evaluation",
    "load_dataset": "rag.evaluation",
    "record_run": "rag.evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
