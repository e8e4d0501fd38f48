"""Runs and their history: what one evaluation produced, kept in ``eval_runs`` and ``eval_results``.

``record_run`` stores a run's configuration, its fingerprint (what its answers depended on:
:mod:`rag.evaluation.fingerprint`), its summary and every case's result, so that any two runs
can be compared case by case; ``load_run`` reads one back, ``list_runs`` the history (oldest
first), ``read_run_file`` a run written by the CLI's ``--out``. A run named by an id or a file:
``resolve_run``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rag.errors import DatasetError
from rag.ops.database import fetch, utc_now, write_transaction

TRIGGERS = ("manual", "cli", "gate", "change", "schedule")


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
    fingerprint: dict[str, Any] = field(default_factory=dict)
    trigger: str = "manual"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalRun:
        """Rebuild a run from ``to_dict`` output (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def label(self) -> str:
        """How the run is named in comparisons: "run 12", or "run from a file"."""
        return f"run {self.id}" if self.id is not None else "run from a file"


def record_run(db, run: EvalRun) -> int:
    """Store a run (configuration, fingerprint, summary, per-case results); return its id."""
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
        "fingerprint": json.dumps(run.fingerprint, default=str),
        "trigger": run.trigger,
        "config": json.dumps(run.config, default=str),
        "ingest": json.dumps(run.ingest, default=str),
    }
    with write_transaction(db):
        run.id = int(db["eval_runs"].insert(row).last_pk)
        db["eval_results"].insert_all(
            {
                "run_id": run.id,
                "position": i,
                "case_id": r.get("id", ""),
                "dataset": r.get("dataset", ""),
                "row": json.dumps(r, default=str, ensure_ascii=False),
            }
            for i, r in enumerate(run.rows)
        )
    return run.id


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key, empty in (("datasets", "[]"), ("summary", "{}"), ("fingerprint", "{}")):
        row[key] = json.loads(row.get(key) or empty)
    for key in ("config", "ingest"):
        row[key] = json.loads(row[key]) if row.get(key) else {}
    row["baseline"] = json.loads(row["baseline"]) if row.get("baseline") else None
    row["trigger"] = row.get("trigger") or "manual"
    return row


def list_runs(db, limit: int = 500) -> list[dict[str, Any]]:
    """Past runs, oldest first, with their summaries and fingerprints decoded (no case rows)."""
    rows = fetch(db, "select * from eval_runs order by created_at desc, id desc limit ?", [limit])
    return [_decode(row) for row in rows[::-1]]


def load_run(db, run_id: int) -> EvalRun:
    """Read one stored run with its per-case results; ``DatasetError`` if it cannot be compared."""
    found = fetch(db, "select * from eval_runs where id = ?", [run_id])
    if not found:
        raise DatasetError(
            f"There is no evaluation run {run_id}; `python -m rag eval runs` lists them."
        )
    head = _decode(found[0])
    rows = [
        json.loads(r["row"])
        for r in fetch(
            db, "select row from eval_results where run_id = ? order by position", [run_id]
        )
    ]
    if not rows:
        raise DatasetError(
            f"Run {run_id} was recorded without per-case results (before they were kept), so it "
            "cannot be compared case by case. Run the evaluation again."
        )
    config = head["config"] or {
        k: head.get(k) for k in ("backend", "model", "prompt_version", "embedder", "top_k")
    }
    return EvalRun(
        datasets=head["datasets"],
        docs_dir=head["docs_dir"] or "",
        config=config,
        rows=rows,
        summary=head["summary"],
        baseline=head["baseline"],
        ingest=head["ingest"],
        created_at=head["created_at"],
        id=head["id"],
        fingerprint=head["fingerprint"],
        trigger=head["trigger"],
    )


def read_run_file(path: str | Path) -> EvalRun:
    """Read a run written with ``python -m rag eval --out FILE``, or one corpus's run of a gate
    reference (``evals/gate-reference.json#handbook``)."""
    path, _, corpus = str(path).partition("#")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} cannot be read as an evaluation run ({exc}).") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if isinstance(runs, dict):  # a gate reference: one run per corpus
        if corpus not in runs:
            names = ", ".join(f"{path}#{name}" for name in runs)
            raise DatasetError(f"{path} holds a run per corpus; name one: {names}.")
        data = runs[corpus]
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise DatasetError(f"{path} is not an evaluation run (written by `eval --out`).")
    return EvalRun.from_dict(data)


def resolve_run(db, name: str) -> EvalRun:
    """A run named by its id ("12"), "latest", a JSON file written by ``eval --out``, or a
    gate reference's corpus (``evals/gate-reference.json#handbook``)."""
    text = str(name).strip()
    if text == "latest":
        runs = list_runs(db, limit=1)
        if not runs:
            raise DatasetError("No evaluation run is recorded yet.")
        return load_run(db, runs[-1]["id"])
    if text.isdigit():
        return load_run(db, int(text))
    return read_run_file(text)
