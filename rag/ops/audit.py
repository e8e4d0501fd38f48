"""The guardrail audit log: every redaction, block, warning, quarantine and release, in SQLite.

Events are written by the answer pipeline (questions and answers) and by ingestion (document
passages). The excerpt stored is already redacted by the caller and truncated here, so the log
never holds the personal data it reports on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from rag.ops.database import fetch, time_bounds, utc_now, write_transaction

STAGES = ("question", "chunk", "answer")
KINDS = ("pii", "injection", "output")
EXCERPT_CHARS = 300


def event_row(
    stage: str,
    kind: str,
    action: str,
    detail: str = "",
    excerpt: str = "",
    run_id: str = "",
    source: str = "",
    user_hash: str = "",
) -> dict[str, Any]:
    """One event as stored (``excerpt`` must already have its personal data redacted)."""
    if stage not in STAGES or kind not in KINDS:
        raise ValueError(f"unknown guardrail event {stage}/{kind}")
    text = " ".join(excerpt.split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return {
        "created_at": utc_now(),
        "stage": stage,
        "kind": kind,
        "action": action,
        "detail": detail,
        "excerpt": text,
        "run_id": run_id,
        "source": source,
        "user_hash": user_hash,
    }


def record_event(db: Database, **event: str) -> None:
    """Append one guardrail event (the fields of :func:`event_row`, by keyword)."""
    record_events(db, [event_row(**event)])


def record_events(db: Database, rows: Sequence[dict[str, Any]]) -> None:
    """Append several events in one transaction (rows as made by :func:`event_row`)."""
    if not rows:
        return
    with write_transaction(db):
        db["guardrail_events"].insert_all(rows)


def recent_events(
    db: Database, limit: int = 100, kind: str | None = None, stage: str | None = None
) -> list[dict[str, Any]]:
    """The latest events, newest first (optionally of one kind or stage)."""
    where, params = _filters(kind=kind, stage=stage)
    return fetch(
        db,
        f"SELECT * FROM guardrail_events {where} ORDER BY created_at DESC, id DESC LIMIT ?",
        [*params, limit],
    )


def event_counts(db: Database, since=None, until=None) -> list[dict[str, Any]]:
    """Events per UTC day, kind and action (``since``/``until``: dates or ISO times, inclusive)."""
    lo, hi = time_bounds(since, until)
    clauses, params = [], []
    if lo:
        clauses.append("created_at >= ?")
        params.append(lo)
    if hi:
        clauses.append("created_at < ?")
        params.append(hi)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return fetch(
        db,
        "SELECT substr(created_at, 1, 10) AS day, stage, kind, action, count(*) AS n "
        f"FROM guardrail_events {where} GROUP BY day, stage, kind, action ORDER BY day, kind",
        params,
    )


def _filters(**values: str | None) -> tuple[str, list[str]]:
    pairs = [(k, v) for k, v in values.items() if v]
    where = " AND ".join(f"{k} = ?" for k, _ in pairs)
    return (f"WHERE {where}" if where else ""), [v for _, v in pairs]
