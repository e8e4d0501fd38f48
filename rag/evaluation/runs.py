"""Runs and their history: what one evaluation produced, kept in the ``eval_runs`` table.

``record_run`` stores a run's configuration and summary so the Evaluation page can chart
history; ``list_runs`` reads them back, oldest first. The per-question rows stay in the run
(and in the CLI's ``--out`` file), not in the database.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.ops.database import fetch, utc_now, write_transaction


@dataclass
class EvalRun:
    """Everything one evaluation produced."""

    datasets: list[str]
    docs_dir: str
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    baseline: dict[str, Any] | None
    ingest: dict[str, Any]
    created_at: str = field(default_factory=utc_now)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def record_run(db, run: EvalRun) -> int:
    """Store a run's configuration and summary in ``eval_runs``; return its id."""
    row = {
        "created_at": run.created_at,
        "datasets": json.dumps(run.datasets),
        "docs_dir": run.docs_dir,
        **{k: run.config.get(k) for k in ("backend", "model", "prompt_version", "embedder")},
        "top_k": run.config.get("top_k"),
        "retrieval_only": int(bool(run.config.get("retrieval_only"))),
        "questions": run.summary["questions"],
        "summary": json.dumps(run.summary),
        "baseline": json.dumps(run.baseline) if run.baseline is not None else None,
    }
    with write_transaction(db):
        run.id = int(db["eval_runs"].insert(row).last_pk)
    return run.id


def list_runs(db, limit: int = 500) -> list[dict[str, Any]]:
    """Past runs, oldest first, with their summaries decoded."""
    rows = fetch(db, "select * from eval_runs order by created_at desc, id desc limit ?", [limit])
    for row in rows:
        row["datasets"] = json.loads(row["datasets"] or "[]")
        row["summary"] = json.loads(row["summary"] or "{}")
        row["baseline"] = json.loads(row["baseline"]) if row["baseline"] else None
    return rows[::-1]
