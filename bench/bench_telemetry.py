"""Per-answer overhead of telemetry: the run log (SQLite) plus LangSmith tracing, against off.

    .venv/bin/python -m bench telemetry [--answers 40]

The same answer path runs twice over the same questions: once with tracing off and no run log,
once with tracing on (to a loopback server speaking LangSmith's API) and every run logged to
SQLite. A scripted chat model keeps model time out of the measurement, so what differs is the
telemetry alone. Prints medians and the difference (goal: under 5 ms per answer).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_app import QUESTIONS  # noqa: E402 - the same sample questions
from rag.models import DEFAULT_EMBEDDER  # noqa: E402 - after the path setup

REPLY = "Full-time employees receive 25 days of paid annual leave per calendar year [1]."


def _answer_time(assistant, question: str, db=None) -> float:
    from rag.ops.runlog import log_run

    started = time.perf_counter()
    stream = assistant.ask(question, user="bench@example.org")
    for _ in stream:
        pass
    if db is not None:
        log_run(db, stream.result.record())
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Measure and print the telemetry overhead."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from rag.answer.chain import Assistant
    from rag.config import Settings
    from rag.index.indexing import ingest_files, sample_files
    from rag.index.store import DocumentStore
    from rag.models.backends import BackendChoice
    from rag.models.embeddings import MiniLMEmbeddings
    from rag.ops.database import open_db
    from rag.ops.telemetry import Telemetry
    from tests.servers.langsmith import LangSmithCapture

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=40, help="answers timed per mode")
    args = parser.parse_args(argv)

    data = Path(tempfile.mkdtemp(prefix="gw-bench-telemetry-"))
    minilm = MiniLMEmbeddings()
    settings = Settings(data_dir=data, backend="embedded")
    store = DocumentStore(settings, lambda n: minilm, DEFAULT_EMBEDDER)
    ingest_files(store, sample_files())
    model = GenericFakeChatModel(messages=iter([AIMessage(REPLY)] * (4 * args.answers + 10)))
    choice = BackendChoice("ollama", "scripted", "bench")

    off = Assistant(settings, store, model, choice, telemetry=Telemetry(settings))
    baseline, measured, differences = [], [], []
    with LangSmithCapture() as capture, capture.tracing_env():
        traced = Settings(data_dir=data, backend="embedded")
        assert traced.langsmith_tracing and traced.langsmith_endpoint == capture.url
        db = open_db(data / "bench.db")
        on = Assistant(traced, store, model, choice, telemetry=Telemetry(traced))
        for question in QUESTIONS:  # warm caches: embeddings, BM25 index, prompt, client
            _answer_time(off, question)
            _answer_time(on, question, db)
        # Alternate the two modes question by question, so machine noise hits both alike.
        for i in range(args.answers):
            question = QUESTIONS[i % len(QUESTIONS)]
            plain = _answer_time(off, question)
            full = _answer_time(on, question, db)
            baseline.append(plain)
            measured.append(full)
            differences.append(full - plain)
        on.telemetry.flush()
        received = len(capture.runs)
    store.close()

    base, with_telemetry = statistics.median(baseline), statistics.median(measured)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"answer path, telemetry off: median {base * 1000:.1f} ms over {len(baseline)} answers")
    print(
        f"answer path, run log + LangSmith tracing: median {with_telemetry * 1000:.1f} ms "
        f"({received} runs reached the trace server)"
    )
    print(
        f"telemetry overhead per answer, median of paired differences: "
        f"{statistics.median(differences) * 1000:.1f} ms (ratio of medians "
        f"{with_telemetry / base:.3f}; goal: under 5 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
