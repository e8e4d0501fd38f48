"""Drift: baselines per series, alerts when the latest run falls past the margin, and the
monitoring set run by the watcher from the live store when the index changes (real Chroma,
MiniLM, SQLite and the embedded model)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rag.answer.chain import Assistant
from rag.evaluation.corrections import feedback_golden_set
from rag.evaluation.drift import (
    drift_alerts,
    live_state,
    pin_baseline,
    watch_reason,
)
from rag.evaluation.runs import list_runs, record_run
from rag.evaluation.watch import Watcher
from rag.index.indexing import ingest_file
from rag.models.backends import make_chat_model, resolve_backend
from rag.ops.database import open_db
from tests.evaluation.two_runs import SAMPLES_DIR, SAMPLES_SET, good_and_worse


@pytest.fixture(scope="module")
def good_then_worse(tmp_path_factory, minilm):
    """The same golden set on the samples folder, then on it without the travel policy."""
    _settings, good, bad = good_and_worse(tmp_path_factory.mktemp("drift"), minilm, True)
    return good, bad


def test_a_fall_past_the_margin_raises_an_alert_until_rebaselined(tmp_path, good_then_worse):
    good, bad = good_then_worse
    db = open_db(tmp_path / "app.db")
    first = record_run(db, good)
    assert drift_alerts(db, 0.05) == []  # one run: it is its own baseline
    second = record_run(db, bad)
    alerts = drift_alerts(db, 0.05)
    fell = {a.metric: a for a in alerts}
    assert "source hit@5" in fell
    hit = fell["source hit@5"]
    assert (hit.baseline_run, hit.latest_run) == (first, second)
    assert hit.baseline == good.summary["source_hit_at_5"] > hit.latest
    assert hit.latest == bad.summary["source_hit_at_5"]
    assert "samples.jsonl" in str(hit) and f"baseline run {first}" in str(hit)
    drop = good.summary["source_hit_at_5"] - bad.summary["source_hit_at_5"]
    assert all(a.metric != "source hit@5" for a in drift_alerts(db, drop + 0.01))
    pin_baseline(db, second, "boss@example.org")  # accepted: the new normal
    assert drift_alerts(db, 0.05) == []
    db.close()


def _monitoring_set(settings) -> Path:
    path = feedback_golden_set(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.loads(line) for line in SAMPLES_SET.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(r | {"origin": "feedback"}) + "\n" for r in lines))
    return path


@pytest.fixture
def live(store, settings):
    settings = settings.model_copy(update={"backend": "embedded", "eval_on_change": True})
    choice = resolve_backend(settings)
    assistant = Assistant(settings, store, make_chat_model(settings, choice), choice)
    for path in sorted(SAMPLES_DIR.glob("*.md"))[:2]:
        ingest_file(store, path.name, path.read_bytes())
    return settings, assistant


def test_watcher_runs_the_monitoring_set_when_the_index_changes(live, store):
    settings, assistant = live
    watcher = Watcher(settings, lambda: assistant)
    assert watcher.check() == ""  # no monitoring set yet: nothing to run
    _monitoring_set(settings)
    assert "first run" in watcher.check()
    db = open_db(settings.db_path)
    [first] = list_runs(db)
    assert first["trigger"] == "change" and first["docs_dir"] == "live store"
    assert first["fingerprint"]["index_version"] == store.index_version
    assert first["summary"]["questions"] == 8
    assert watcher.check() == ""  # nothing changed
    travel = SAMPLES_DIR / "travel-policy.md"
    ingest_file(store, travel.name, travel.read_bytes())  # a new document: a new index version
    assert "index_version" in watcher.check()
    runs = list_runs(db)
    assert len(runs) == 2 and runs[-1]["config"]["reason"] == "change: index_version"
    # the travel questions find their source now that it is in the store
    assert runs[-1]["summary"]["source_hit_at_5"] > first["summary"]["source_hit_at_5"]
    db.close()


def test_schedule_and_changes_make_the_monitoring_set_due(live):
    settings, assistant = live
    _monitoring_set(settings)
    scheduled = settings.model_copy(update={"eval_every_hours": 6.0, "eval_on_change": False})
    db = open_db(settings.db_path)
    state = live_state(assistant)
    assert watch_reason(db, scheduled, state).startswith("change: first run")
    Watcher(settings, lambda: assistant).check()
    last = datetime.fromisoformat(list_runs(db)[-1]["created_at"])
    assert watch_reason(db, scheduled, state, now=last + timedelta(hours=5)) == ""
    assert watch_reason(db, scheduled, state, now=last + timedelta(hours=7)) == "schedule"
    assert watch_reason(db, settings, state) == ""
    assert watch_reason(db, settings, state | {"model": "other"}) == "change: model"
    assert watch_reason(db, settings, state | {"prompt_version": "answer.v9"}).endswith(
        "prompt_version"
    )
    off = settings.model_copy(update={"eval_on_change": False})
    assert watch_reason(db, off, state | {"model": "other"}) == ""
    golden = _monitoring_set(settings)
    golden.write_text(golden.read_text().splitlines()[0] + "\n")  # a reviewer edited the set
    assert watch_reason(db, settings, state) == "change: monitoring set"
    db.close()


def test_watcher_failure_is_logged_not_raised(live, caplog):
    settings, _assistant = live
    _monitoring_set(settings)

    def broken():
        raise RuntimeError("model server down")

    assert Watcher(settings, broken).check() == "failed (see the log)"
    assert "monitoring evaluation failed" in caplog.text
    db = open_db(settings.db_path)
    assert list_runs(db) == []
    db.close()


def test_the_watcher_thread_checks_until_stopped(live):
    settings, assistant = live
    _monitoring_set(settings)
    watcher = Watcher(settings, lambda: assistant, interval=0.05)
    watcher.start(first_check=0.0)
    deadline = datetime.now() + timedelta(seconds=120)
    while not watcher.last and datetime.now() < deadline:
        time.sleep(0.1)
    watcher.stop()
    assert watcher.last.startswith("run ") and "first run" in watcher.last
    off = Watcher(settings.model_copy(update={"eval_on_change": False}), lambda: assistant)
    off.start()
    assert off._thread is None  # nothing can make it due: no thread
