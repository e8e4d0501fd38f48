"""User feedback on answers: record ratings, filter and review them, export them.

A rating stores a denormalised copy of what is needed to reproduce the rated answer (question,
rewritten query, answer, passages with scores, citations, verification, model, prompt and index
versions, latency, tokens), so it stays readable after the run log is pruned or the index is
rebuilt. One user has one rating per run: rating again updates it (and reopens its review).
Bad input raises ``FeedbackError``; a database that cannot be written raises ``DatabaseError``.
Turning a reviewed rating into a golden-set case lives in :mod:`rag.evaluation.corrections`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from sqlite_utils import Database

from rag.errors import FeedbackError
from rag.ops.database import fetch, time_bounds, to_iso, utc_now, write_transaction
from rag.ops.runlog import decode, dumps

FEEDBACK_REASONS = (
    "incorrect",
    "wrong or missing citation",
    "incomplete",
    "out of date",
    "unsafe or inappropriate",
    "other",
)

_COPIED = (  # run fields kept with each rating
    "session_id",
    "question",
    "rewritten_query",
    "answer",
    "backend",
    "model",
    "prompt_version",
    "index_version",
    "tokens_in",
    "tokens_out",
    "support_score",
)
_COPIED_JSON = ("passages", "cited_chunk_ids", "cited_sources", "verification")
# On a re-rating the answer is the same; only the verdict changes and the review reopens.
_UPSERT_TAIL = """
ON CONFLICT(run_id, user) DO UPDATE SET
    score = excluded.score, reason = excluded.reason, comment = excluded.comment,
    updated_at = excluded.updated_at,
    reviewed = 0, reviewed_at = NULL, reviewer = NULL, resolution_note = NULL
RETURNING id
"""


def record_feedback(
    db: Database,
    run: Mapping[str, Any],
    score: int,
    reason: str | None,
    comment: str | None,
    user: str,
) -> int:
    """Store ``user``'s rating of ``run`` (1 thumbs up, 0 down); return the feedback id."""
    _check_rating(run, score, reason)
    row = _rating_row(run, score, reason, comment, user)
    columns = ", ".join(f"[{c}]" for c in row)
    sql = f"INSERT INTO feedback ({columns}) VALUES ({', '.join('?' * len(row))})" + _UPSERT_TAIL
    with write_transaction(db):
        return db.conn.execute(sql, list(row.values())).fetchone()[0]


def _check_rating(run: Mapping[str, Any], score: int, reason: str | None) -> None:
    if score not in (0, 1):
        raise FeedbackError(
            f"Not recorded: the score must be 1 (thumbs up) or 0 (thumbs down), not {score!r}."
        )
    if reason is not None and reason not in FEEDBACK_REASONS:
        raise FeedbackError(
            f"Not recorded: unknown reason {reason!r}; choose one of: "
            + ", ".join(FEEDBACK_REASONS)
            + "."
        )
    if not run.get("run_id"):
        raise FeedbackError(
            "Not recorded: this answer has no run id. Ask the question again and rate the new "
            "answer."
        )


def _rating_row(
    run: Mapping[str, Any], score: int, reason: str | None, comment: str | None, user: str
) -> dict[str, Any]:
    now = utc_now()
    row: dict[str, Any] = {
        "run_id": run["run_id"],
        "user": user,
        "score": int(score),
        "reason": reason,
        "comment": (comment or "").strip() or None,
        "created_at": now,
        "updated_at": now,
        "run_created_at": to_iso(run["created_at"]) if run.get("created_at") else None,
        "total_ms": (run.get("timings") or {}).get("total_ms"),
        "refused": int(bool(run.get("refused"))),
    }
    row.update({name: run.get(name) for name in _COPIED})
    row.update({name: dumps(list(run.get(name) or [])) for name in _COPIED_JSON})
    return row


# A rating is about a document when it cites it or one of its retrieved passages came from it.
_DOCUMENT_CLAUSE = (
    "(EXISTS (SELECT 1 FROM json_each(feedback.cited_sources) WHERE value = :document)"
    " OR EXISTS (SELECT 1 FROM json_each(feedback.passages)"
    " WHERE json_extract(value, '$.source') = :document))"
)
_FILTERS = (  # (parameter, the condition it adds when given)
    ("rating", "score = :rating"),
    ("reason", "reason = :reason"),
    ("lo", "created_at >= :lo"),
    ("hi", "created_at < :hi"),
    ("prompt_version", "prompt_version = :prompt_version"),
    ("model", "model = :model"),
    ("user", "user = :user"),
    ("document", _DOCUMENT_CLAUSE),
    ("reviewed", "reviewed = :reviewed"),
)


def list_feedback(
    db: Database,
    rating: int | None = None,
    reason: str | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    prompt_version: str | None = None,
    model: str | None = None,
    user: str | None = None,
    document: str | None = None,
    reviewed: bool | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Return ratings matching every given filter, newest first, JSON columns decoded.

    ``since``/``until`` are inclusive (a date covers its whole UTC day) and apply to when the
    rating was given; ``document`` matches a cited source or a retrieved passage's source.
    """
    lo, hi = time_bounds(since, until)
    params = {
        "rating": rating,
        "reason": reason,
        "lo": lo,
        "hi": hi,
        "prompt_version": prompt_version,
        "model": model,
        "user": user,
        "document": document,
        "reviewed": None if reviewed is None else int(reviewed),
        "limit": limit,
    }
    where = [clause for name, clause in _FILTERS if params[name] is not None]
    sql = "SELECT * FROM feedback"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT :limit"
    return [decode(row) for row in fetch(db, sql, params)]


def get_feedback(db: Database, feedback_id: int) -> dict[str, Any] | None:
    """Return one rating by id, or None."""
    rows = fetch(db, "SELECT * FROM feedback WHERE id = ?", [feedback_id])
    return decode(rows[0]) if rows else None


def count_feedback(db: Database) -> int:
    """Return how many ratings are stored."""
    return fetch(db, "SELECT count(*) AS n FROM feedback")[0]["n"]


def feedback_facets(db: Database) -> dict[str, list[str]]:
    """Return the distinct values the review filters can take (models, users, documents, ...)."""
    facets = {}
    for name in ("prompt_version", "model", "user"):
        rows = fetch(
            db, f"SELECT DISTINCT [{name}] AS v FROM feedback WHERE [{name}] IS NOT NULL ORDER BY 1"
        )
        facets[name] = [str(r["v"]) for r in rows]
    rows = fetch(
        db,
        """SELECT value AS v FROM feedback, json_each(feedback.cited_sources)
           UNION SELECT json_extract(value, '$.source') FROM feedback, json_each(feedback.passages)
           ORDER BY 1""",
    )
    facets["document"] = [r["v"] for r in rows if r["v"]]
    return facets


def feedback_span(db: Database) -> tuple[date | None, date | None]:
    """Return the UTC days of the first and last rating (None, None when there are none)."""
    row = fetch(db, "SELECT min(created_at) AS lo, max(created_at) AS hi FROM feedback")[0]
    if row["lo"] is None:
        return None, None
    return date.fromisoformat(row["lo"][:10]), date.fromisoformat(row["hi"][:10])


def mark_reviewed(db: Database, feedback_id: int, note: str | None, reviewer: str) -> None:
    """Close the review of a rating with a resolution note."""
    with write_transaction(db):
        cursor = db.conn.execute(
            "UPDATE feedback SET reviewed = 1, reviewed_at = ?, reviewer = ?, resolution_note = ?"
            " WHERE id = ?",
            [utc_now(), reviewer, (note or "").strip() or None, feedback_id],
        )
        if cursor.rowcount == 0:
            raise FeedbackError(
                f"No rating with id {feedback_id}: it is no longer stored. Reload the page."
            )


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return dumps(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text; numbers stay numbers
    return value


def export_feedback(rows: Iterable[Mapping[str, Any]], fmt: Literal["csv", "jsonl"]) -> str:
    """Serialise rows as CSV (lists and dicts as JSON text) or JSON Lines.

    In CSV, a text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return) gets a leading ``'``; JSON Lines keeps every
    value exact.
    """
    rows = list(rows)
    if fmt == "jsonl":
        return "".join(dumps(dict(row)) + "\n" for row in rows)
    if fmt != "csv":
        raise FeedbackError(f"Unknown export format {fmt!r}; use 'csv' or 'jsonl'.")
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    # CRLF rows (RFC 4180): the writer then also quotes a lone \r inside a cell
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return out.getvalue()
