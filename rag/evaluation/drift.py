"""Drift: evaluation runs against a baseline, and the monitoring set run when the system changes.

Runs of the same golden sets form a *series* (``series_key``). Each series has a baseline run:
the one an admin pinned (``pin_baseline``), else its first run. ``drift_alerts`` compares the
latest run of every series with its baseline on the cases both answered
(:func:`rag.evaluation.compare.compare_runs`) and reports each metric that fell more than the
margin (``GROUNDWORK_DRIFT_MARGIN``).

The *monitoring set* is the golden sets answered from the live documents (by default the cases
added from feedback review). ``watch_reason`` says whether it is due: the prompt version,
backend, model, embedder or index version differ from its last run, or the set itself changed,
or the schedule
(``GROUNDWORK_EVAL_EVERY_HOURS``) has passed. ``run_monitoring`` answers it through the live
assistant, over every collection, and records the run with what triggered it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.compare import compare_runs
from rag.evaluation.golden import dataset_hash, load_dataset
from rag.evaluation.runs import EvalRun, list_runs, load_run
from rag.ops.database import fetch, utc_now, write_transaction

LIVE = "live store"  # the docs_dir recorded for runs answered from the live documents
WATCHED = ("prompt_version", "backend", "model", "embedder", "index_version")


def series_key(run: EvalRun | dict[str, Any]) -> str:
    """Which runs are comparable over time: the same golden sets on the same documents,
    answered the same way (retrieval only, quoted or generated)."""
    get = run.get if isinstance(run, dict) else lambda k: getattr(run, k)
    summary, fingerprint = get("summary") or {}, get("fingerprint") or {}
    how = summary.get("mode") or ""
    if how == "full":
        how = (fingerprint.get("settings") or {}).get("answer_mode") or how
    return json.dumps([sorted(get("datasets") or []), get("docs_dir") or "", how])


def pin_baseline(db, run_id: int, user: str) -> None:
    """Make run ``run_id`` the baseline of its series."""
    run = load_run(db, run_id)
    with write_transaction(db):
        db["eval_baselines"].upsert(
            {
                "series": series_key(run),
                "run_id": run_id,
                "pinned_by": user,
                "pinned_at": utc_now(),
            },
            pk="series",
        )


def baselines(db, runs: list[dict[str, Any]]) -> dict[str, int]:
    """The baseline run id of each series in ``runs``: pinned, else the series' first run."""
    pinned = {r["series"]: r["run_id"] for r in fetch(db, "select * from eval_baselines")}
    out: dict[str, int] = {}
    for run in runs:  # oldest first
        key = series_key(run)
        out.setdefault(key, pinned.get(key, run["id"]))
    return out


@dataclass
class DriftAlert:
    """A metric of a series' latest run that fell more than the margin below its baseline."""

    series: str
    metric: str
    baseline: float
    latest: float
    baseline_run: int
    latest_run: int
    trigger: str
    cases: int

    @property
    def sets(self) -> str:
        """The golden sets of the series, for people."""
        return ", ".join(json.loads(self.series)[0])

    def __str__(self) -> str:
        sets = self.sets
        return (
            f"{self.metric} on {sets} fell from {self.baseline:.2f} (baseline run "
            f"{self.baseline_run}) to {self.latest:.2f} (run {self.latest_run}, {self.trigger}), "
            f"over {self.cases} cases both answered"
        )


def drift_alerts(db, margin: float) -> list[DriftAlert]:
    """Every metric of every series whose latest run fell more than ``margin`` below baseline."""
    runs = list_runs(db)
    latest: dict[str, dict[str, Any]] = {}
    for run in runs:
        latest[series_key(run)] = run
    alerts = []
    for key, base_id in baselines(db, runs).items():
        last = latest[key]
        if last["id"] == base_id:
            continue
        try:
            comparison = compare_runs(load_run(db, base_id), load_run(db, last["id"]), 200)
        except DatasetError:  # a run recorded before per-case results were kept
            continue
        for m in comparison.metrics:
            fell = (m.a - m.b) if m.higher_is_better else (m.b - m.a)
            if fell > margin:
                alerts.append(
                    DriftAlert(
                        key, m.label, m.a, m.b, base_id, last["id"], last["trigger"], m.cases
                    )
                )
    return alerts


# --- the monitoring set ------------------------------------------------------------------------


def monitoring_sets(settings: Settings) -> list[Path]:
    """The golden sets answered from the live documents that exist (feedback cases by default)."""
    from rag.evaluation.corrections import feedback_golden_set

    paths = settings.eval_watch or [feedback_golden_set(settings)]
    return [Path(p) for p in paths if Path(p).is_file()]


def live_state(assistant) -> dict[str, Any]:
    """What the live answers depend on right now (the fields a change of which starts a run)."""
    from rag.answer.prompts import load_prompt

    return {
        "prompt_version": load_prompt("answer", assistant.settings.prompt_version).ref,
        "backend": assistant.backend.name,
        "model": assistant.backend.chat_model,
        "embedder": assistant.store.embedder,
        "index_version": assistant.store.index_version,
    }


def watch_reason(db, settings: Settings, state: dict[str, Any], now: datetime | None = None) -> str:
    """Why the monitoring set should run now ("change: …", "schedule") or "" when not due."""
    sets = monitoring_sets(settings)
    if not sets:
        return ""
    names = sorted(p.name for p in sets)
    mine = [r for r in list_runs(db) if sorted(r["datasets"]) == names and r["docs_dir"] == LIVE]
    if not mine:
        return "change: first run of the monitoring set"
    last = mine[-1]
    if settings.eval_on_change:
        done = last["fingerprint"] or {}
        changed = [f for f in WATCHED if done.get(f) != state.get(f)]
        if {p.name: dataset_hash(p) for p in sets} != done.get("datasets"):
            changed.append("monitoring set")  # cases were added or edited since
        if changed:
            return "change: " + ", ".join(changed)
    if settings.eval_every_hours:
        now = now or datetime.now(UTC)
        due = datetime.fromisoformat(last["created_at"]) + timedelta(
            hours=settings.eval_every_hours
        )
        if now >= due:
            return "schedule"
    return ""


def run_monitoring(db, settings: Settings, assistant, reason: str) -> EvalRun:
    """Answer the monitoring set from the live documents and record the run."""
    from rag.evaluation.evaluate import live_evaluate
    from rag.evaluation.runs import record_run

    cases = [c for p in monitoring_sets(settings) for c in load_dataset(p)]
    run = live_evaluate(cases, assistant, settings)
    run.docs_dir = LIVE
    run.trigger = reason if reason in ("schedule", "manual") else "change"
    run.config["reason"] = reason
    record_run(db, run)
    return run


def run_if_due(db, settings: Settings, assistant, force: bool = False) -> EvalRun | None:
    """Run the monitoring set if it is due (``force``: now, as a manual run); None if not.
    The run's ``config["reason"]`` says why it ran."""
    reason = watch_reason(db, settings, live_state(assistant)) or ("manual" if force else "")
    return run_monitoring(db, settings, assistant, reason) if reason else None
