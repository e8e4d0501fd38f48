"""The local run log: one row per answer in the ``runs`` table, for insights and reproduction.

A run record is a plain dict (keys in ``RUN_FIELDS``) made by the chat pipeline; ``run_id`` is
created before the model is called so traces and feedback can refer to it. Lists and dicts are
stored as JSON; the timings are also flattened into ``*_ms`` columns so aggregations need no JSON.
Keys this schema does not know are kept in the ``extra`` JSON column, never dropped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from rag.ops.database import fetch, to_iso, write_transaction

RUN_FIELDS = (
    "run_id",
    "created_at",
    "session_id",
    "user",
    "question",
    "rewritten_query",
    "answer",
    "refused",
    "support_score",
    "verification",
    "passages",
    "cited_chunk_ids",
    "cited_sources",
    "backend",
    "model",
    "embed_model",
    "prompt_version",
    "index_version",
    "timings",
    "tokens_in",
    "tokens_out",
    "cpu_seconds",
    "error",
)
TIMING_FIELDS = ("rewrite_ms", "retrieve_ms", "ttft_ms", "generate_ms", "verify_ms", "total_ms")
JSON_FIELDS = ("verification", "passages", "cited_chunk_ids", "cited_sources", "timings", "extra")
_LIST_FIELDS = ("verification", "passages", "cited_chunk_ids", "cited_sources")
_COLUMNS = (*RUN_FIELDS, *TIMING_FIELDS, "extra")
_INSERT = (
    f"INSERT OR REPLACE INTO runs ({', '.join(f'[{c}]' for c in _COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def new_run_id() -> str:
    """Return a fresh run id (uuid4 hex)."""
    return uuid.uuid4().hex


def dumps(value: Any) -> str:
    """Serialise a JSON column value (UTF-8 kept readable)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a run record into a ``runs`` row: JSON columns, flat timings, unknown keys in extra."""
    if not run.get("run_id"):
        raise ValueError("a run record needs a run_id (rag.ops.runlog.new_run_id())")
    row: dict[str, Any] = {name: run.get(name) for name in RUN_FIELDS}
    row["created_at"] = to_iso(run.get("created_at"))
    row["refused"] = int(bool(run.get("refused")))
    timings = dict(run.get("timings") or {})
    row["timings"] = timings
    for name in TIMING_FIELDS:
        value = timings.get(name)
        row[name] = float(value) if value is not None else None
    for name in _LIST_FIELDS:
        row[name] = list(row[name] or [])
    extra = {k: v for k, v in run.items() if k not in RUN_FIELDS}
    row["extra"] = extra or None
    for name in JSON_FIELDS:
        if row[name] is not None:
            row[name] = dumps(row[name])
    return row


def log_run(db: Database, run: Mapping[str, Any]) -> str:
    """Store one run (replacing an earlier record with the same ``run_id``); return its id."""
    return log_runs(db, [run])[0]


def log_runs(db: Database, runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """Store many runs in one transaction; return their ids."""
    rows = [run_row(run) for run in runs]
    with write_transaction(db):
        db.conn.executemany(_INSERT, [tuple(row[c] for c in _COLUMNS) for row in rows])
    return [row["run_id"] for row in rows]


def decode(row: Mapping[str, Any]) -> dict[str, Any]:
    """Parse a stored row's JSON columns back into lists and dicts."""
    out = dict(row)
    for name in JSON_FIELDS:
        value = out.get(name)
        if isinstance(value, str):
            out[name] = json.loads(value)
    if "refused" in out and out["refused"] is not None:
        out["refused"] = bool(out["refused"])
    return out


def get_run(db: Database, run_id: str) -> dict[str, Any] | None:
    """Return the run record stored under ``run_id``, or None."""
    rows = fetch(db, "SELECT * FROM runs WHERE run_id = ?", [run_id])
    if not rows:
        return None
    run = decode(rows[0])
    for name in TIMING_FIELDS:
        run.pop(name, None)  # they live in run["timings"]
    run.update(run.pop("extra", None) or {})
    return run


def count_runs(db: Database) -> int:
    """Return how many runs are logged."""
    return fetch(db, "SELECT count(*) AS n FROM runs")[0]["n"]
