"""Operations: the SQLite database and its migrations, feedback, the run log,
insights, prices, telemetry and each user's saved conversations."""

from rag.ops.audit import event_counts, recent_events, record_event, record_events
from rag.ops.conversations import (
    MAX_CONVERSATION_MESSAGES,
    MAX_CONVERSATIONS,
    append_to_conversation,
    clean_conversation_title,
    conversation_title,
    create_conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
    load_conversation,
    rename_conversation,
    save_conversation_turn,
    stored_turn,
)
from rag.ops.database import open_db
from rag.ops.feedback import (
    FEEDBACK_REASONS,
    count_feedback,
    export_feedback,
    feedback_facets,
    feedback_span,
    get_feedback,
    list_feedback,
    mark_reviewed,
    record_feedback,
)
from rag.ops.insights import load_insights, run_days
from rag.ops.pricing import PriceTable
from rag.ops.runlog import log_run
from rag.ops.signals import (
    DRIFT_SIGNALS,
    Drift,
    drift_questions,
    load_drift,
    score_histogram,
)
from rag.ops.telemetry import Telemetry, user_pseudonym

__all__ = [
    "DRIFT_SIGNALS",
    "FEEDBACK_REASONS",
    "MAX_CONVERSATIONS",
    "MAX_CONVERSATION_MESSAGES",
    "Drift",
    "PriceTable",
    "Telemetry",
    "append_to_conversation",
    "clean_conversation_title",
    "conversation_title",
    "count_feedback",
    "create_conversation",
    "delete_conversation",
    "drift_questions",
    "event_counts",
    "export_feedback",
    "feedback_facets",
    "feedback_span",
    "get_conversation",
    "get_feedback",
    "list_conversations",
    "list_feedback",
    "load_conversation",
    "load_drift",
    "load_insights",
    "log_run",
    "mark_reviewed",
    "open_db",
    "recent_events",
    "record_event",
    "record_events",
    "record_feedback",
    "rename_conversation",
    "run_days",
    "save_conversation_turn",
    "score_histogram",
    "stored_turn",
    "user_pseudonym",
]
