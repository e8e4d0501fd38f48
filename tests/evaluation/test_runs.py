"""Run history: a real retrieval-only run stored in and read back from SQLite."""

from __future__ import annotations

from pathlib import Path

from rag.evaluation.evaluate import evaluate
from rag.evaluation.golden import load_dataset
from rag.evaluation.runs import list_runs, record_run
from rag.models import DEFAULT_EMBEDDER
from rag.ops.database import open_db

REPO = Path(__file__).resolve().parents[2]
SAMPLES_SET = REPO / "evals" / "samples.jsonl"
SAMPLES_DIR = REPO / "rag" / "samples"


def test_history_round_trip(settings, minilm):
    run = evaluate(
        load_dataset(SAMPLES_SET, limit=2),
        SAMPLES_DIR,
        settings,
        retrieval_only=True,
        baseline=False,
        embeddings=minilm,
    )
    db = open_db(settings.db_path)
    run_id = record_run(db, run)
    [stored] = list_runs(db)
    assert stored["id"] == run_id and stored["datasets"] == ["samples.jsonl"]
    assert stored["summary"]["source_hit_at_5"] == run.summary["source_hit_at_5"]
    assert stored["embedder"] == DEFAULT_EMBEDDER and stored["retrieval_only"] == 1
    assert stored["baseline"] is None and stored["top_k"] == settings.top_k
    db.close()
