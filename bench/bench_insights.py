"""Time every insights aggregation over 100k logged runs (goal: all of them in under 2 s).

    .venv/bin/python bench/bench_insights.py [--runs 100000] [--days 90] [--repeat 5]

Seeds a temporary database with synthetic runs and feedback through the real ``log_runs`` and
``record_feedback``, then reports the median time of ``load_insights`` and of each aggregation.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.ops.database import open_db  # noqa: E402
from rag.ops.feedback import FEEDBACK_REASONS, record_feedback  # noqa: E402
from rag.ops.insights import (  # noqa: E402
    content_gaps,
    latency_by_day,
    load_insights,
    satisfaction_by,
    top_documents,
    usage_by_day,
)
from rag.ops.runlog import log_runs, new_run_id  # noqa: E402

SOURCES = [f"doc-{i:03d}.pdf" for i in range(200)]
QUESTIONS = [f"What does policy {i} say about leave?" for i in range(3000)]


def synthetic_run(rng: random.Random, start: datetime, days: int) -> dict:
    """Return one plausible run record."""
    cited = rng.sample(SOURCES, rng.randint(0, 3))
    total = rng.lognormvariate(7.5, 0.6)
    refused = rng.random() < 0.08
    return {
        "run_id": new_run_id(),
        "created_at": start + timedelta(seconds=rng.uniform(0, days * 86400)),
        "session_id": f"s{rng.randint(0, 5000)}",
        "user": f"user{rng.randint(0, 50)}",
        "question": rng.choice(QUESTIONS),
        "rewritten_query": "rewritten",
        "answer": "An answer. " * 20,
        "refused": refused,
        "support_score": None if refused else rng.random(),
        "verification": [{"sentence": "An answer.", "supported": True, "score": 0.9,
                          "citation": 1}],
        "passages": [{"chunk_id": f"c{rng.randint(0, 10**6)}", "source": s, "page": 1,
                      "score": 0.5} for s in cited],
        "cited_chunk_ids": [f"c{i}" for i in range(len(cited))],
        "cited_sources": cited,
        "backend": "embedded",
        "model": rng.choice(["smollm2-135m", "llama3.2:3b"]),
        "embed_model": "all-MiniLM-L6-v2",
        "prompt_version": rng.choice(["v1", "v2"]),
        "index_version": 1,
        "timings": {"rewrite_ms": 5.0, "retrieve_ms": 20.0, "ttft_ms": total * 0.3,
                    "generate_ms": total * 0.6, "verify_ms": 30.0, "total_ms": total},
        "tokens_in": rng.randint(300, 1500),
        "tokens_out": rng.randint(20, 300),
        "cpu_seconds": total / 1000,
        "error": None,
    }  # fmt: skip


def seed(db, runs: int, days: int, feedback_share: float = 0.05) -> None:
    """Fill ``db`` with ``runs`` runs over ``days`` days and rate a share of them."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    rated = []
    for _ in range(runs):
        batch.append(synthetic_run(rng, start, days))
        if rng.random() < feedback_share:
            rated.append(batch[-1])
        if len(batch) == 10_000:
            log_runs(db, batch)
            batch = []
    log_runs(db, batch)
    for run in rated:
        up = rng.random() < 0.7
        reason = None if up else rng.choice(FEEDBACK_REASONS)
        record_feedback(db, run, int(up), reason, None, run["user"])


def timed(fn, repeat: int) -> float:
    """Median wall time of ``fn`` in ms."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        seed(db, args.runs, args.days)
        print(f"seeded {args.runs:,} runs over {args.days} days in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        last_month = ("2026-03-01", "2026-03-31")
        cases = {
            "load_insights (all)": lambda: load_insights(db),
            "load_insights (one month)": lambda: load_insights(db, *last_month),
            "latency_by_day": lambda: latency_by_day(db),
            "usage_by_day": lambda: usage_by_day(db),
            "satisfaction_by prompt": lambda: satisfaction_by(db, "prompt_version"),
            "top_documents": lambda: top_documents(db),
            "content_gaps": lambda: content_gaps(db),
        }
        for name, fn in cases.items():
            print(f"{name:28s} median of {args.repeat}: {timed(fn, args.repeat):8.1f} ms")
        db.close()


if __name__ == "__main__":
    main()
