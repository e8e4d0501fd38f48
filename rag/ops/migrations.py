"""The database schema: ordered migrations of the run log, feedback, evaluation runs, the
guardrail audit log and conversations.

Every schema change is a new function registered on ``MIGRATIONS``, appended at the end, never
edited once released: a database made by an older version migrates forward in place.
``rag.ops.database.open_db`` applies the pending ones under the write lock.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("groundwork")


@MIGRATIONS()
def m001_runs_and_feedback(db: Database) -> None:
    """Create the run log and the feedback table (denormalised copy of the rated answer)."""
    db["runs"].create(
        {
            "run_id": str,
            "created_at": str,
            "session_id": str,
            "user": str,
            "question": str,
            "rewritten_query": str,
            "answer": str,
            "refused": int,
            "support_score": float,
            "verification": str,  # JSON list
            "passages": str,  # JSON list
            "cited_chunk_ids": str,  # JSON list
            "cited_sources": str,  # JSON list
            "backend": str,
            "model": str,
            "embed_model": str,
            "prompt_version": str,
            "index_version": int,
            "timings": str,  # JSON dict, as given
            "rewrite_ms": float,
            "retrieve_ms": float,
            "ttft_ms": float,
            "generate_ms": float,
            "verify_ms": float,
            "total_ms": float,
            "tokens_in": int,
            "tokens_out": int,
            "cpu_seconds": float,
            "error": str,
        },
        pk="run_id",
    )
    db["runs"].create_index(["created_at"])
    db["feedback"].create(
        {
            "id": int,
            "run_id": str,
            "user": str,
            "score": int,
            "reason": str,
            "comment": str,
            "created_at": str,
            "updated_at": str,
            "run_created_at": str,
            "session_id": str,
            "question": str,
            "rewritten_query": str,
            "answer": str,
            "passages": str,
            "cited_chunk_ids": str,
            "cited_sources": str,
            "verification": str,
            "backend": str,
            "model": str,
            "prompt_version": str,
            "index_version": int,
            "total_ms": float,
            "tokens_in": int,
            "tokens_out": int,
        },
        pk="id",
        not_null={"run_id", "user", "score", "created_at"},
    )
    db["feedback"].create_index(["run_id", "user"], unique=True)
    db["feedback"].create_index(["created_at"])


@MIGRATIONS()
def m002_feedback_review(db: Database) -> None:
    """Track the review of each rating: who closed it, when, and with what resolution."""
    feedback = db["feedback"]
    feedback.add_column("reviewed", int, not_null_default=0)
    feedback.add_column("reviewed_at", str)
    feedback.add_column("reviewer", str)
    feedback.add_column("resolution_note", str)


@MIGRATIONS()
def m003_support_and_extra(db: Database) -> None:
    """Keep the grounding outcome with each rating; keep unknown run fields instead of dropping."""
    db["feedback"].add_column("refused", int)
    db["feedback"].add_column("support_score", float)
    db["runs"].add_column("extra", str)  # JSON dict of run keys this schema does not know


@MIGRATIONS()
def m004_eval_runs(db: Database) -> None:
    """Keep the history of evaluation runs: configuration and summary metrics (JSON)."""
    db["eval_runs"].create(
        {
            "id": int,
            "created_at": str,
            "datasets": str,  # JSON list of golden-set file names
            "docs_dir": str,
            "backend": str,
            "model": str,
            "prompt_version": str,
            "embedder": str,
            "top_k": int,
            "retrieval_only": int,
            "questions": int,
            "summary": str,  # JSON dict of metrics
            "baseline": str,  # JSON dict of the naive baseline's metrics, or NULL
        },
        pk="id",
        not_null={"created_at", "summary"},
    )
    db["eval_runs"].create_index(["created_at"])


@MIGRATIONS()
def m005_guardrail_events(db: Database) -> None:
    """Create the audit log of guardrail events (what was checked, found and done)."""
    db["guardrail_events"].create(
        {
            "id": int,
            "created_at": str,
            "stage": str,  # question | chunk | answer
            "kind": str,  # pii | injection | output
            "action": str,  # redacted | blocked | warned | flagged | quarantined | released | ...
            "detail": str,  # entity types with counts, a score, the check that failed
            "excerpt": str,  # the offending text with personal data redacted, truncated
            "run_id": str,
            "source": str,  # the document, for chunk events
            "user_hash": str,  # the pseudonym traces carry, never the email
        },
        pk="id",
    )
    db["guardrail_events"].create_index(["created_at"])
    db["guardrail_events"].create_index(["kind", "created_at"])


@MIGRATIONS()
def m006_conversations(db: Database) -> None:
    """Keep each user's conversations with the assistant, message by message (JSON)."""
    db["conversations"].create(
        {
            "id": str,  # random, never a counter
            "owner": str,  # the signed-in email, or the local user
            "title": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"owner", "title", "created_at", "updated_at"},
    )
    db["conversations"].create_index(["owner", "updated_at"])
    db["conversation_messages"].create(
        {
            "conversation_id": str,
            "position": int,  # 0, 1, 2... in the order they were said
            "message": str,  # JSON dict, as the Ask page keeps it
        },
        pk=("conversation_id", "position"),
        not_null={"message"},
    )


@MIGRATIONS()
def m007_eval_results(db: Database) -> None:
    """Keep each evaluation run's per-case results and what its answers depended on, and the
    baseline run each series of runs is held to."""
    runs = db["eval_runs"]
    runs.add_column("fingerprint", str)  # JSON: prompt, model, embedder, index, settings, git sha
    runs.add_column("trigger", str)  # manual | cli | gate | change | schedule
    runs.add_column("config", str)  # JSON, as the run reported it
    runs.add_column("ingest", str)  # JSON: the evaluation store's files, chunks, failures
    db["eval_results"].create(
        {
            "run_id": int,
            "position": int,  # the case's place in the run
            "case_id": str,
            "dataset": str,
            "row": str,  # JSON: the golden line, what came back, and its scores
        },
        pk=("run_id", "position"),
        not_null={"row"},
    )
    db["eval_results"].create_index(["run_id", "case_id"])
    db["eval_baselines"].create(
        {"series": str, "run_id": int, "pinned_by": str, "pinned_at": str},  # series: sets + docs
        pk="series",
    )
