"""What the guardrails add to each question, and to ingesting a document.

    .venv/bin/python -m bench guardrails
    .venv/bin/python -m bench guardrails --repeat 3 --chunks 300

- per question (goal: p95 <= 50 ms): ``Guardrails.check_question`` (PII with spaCy NER, the
  injection score) plus ``check_answer`` (output checks on an answer quoting its passages), on
  every question of ``evals/*.jsonl`` and the same questions with personal data inserted; the
  audit-log write of the events they raise, on a real SQLite file; p50/p95 ms and the total;
- per document: ``check_chunks`` on handbook-sized passages (the 18F handbook from ``../shared``,
  the sample documents without it) against embedding the same passages with MiniLM: chunks/s
  each, and the ratio — the share of ingestion time the document guardrails add.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_pii import passages, questions  # noqa: E402


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms"


def per_question(guard, db, items: list[str], answers: list[str], repeat: int) -> None:
    """Time the question checks, the answer checks and the audit write, per question."""
    from rag.ops.audit import event_row, record_events

    asked, answered, audited, total = [], [], [], []
    for _ in range(repeat):
        for question, answer in zip(items, answers, strict=True):
            t0 = time.perf_counter()
            check = guard.check_question(question)
            t1 = time.perf_counter()
            guard.check_answer(answer, [answer, check.text], "You are Groundwork.")
            t2 = time.perf_counter()
            if check.pii:
                record_events(db, [event_row("question", "pii", "redacted", "", check.text)])
            t3 = time.perf_counter()
            asked.append((t1 - t0) * 1000)
            answered.append((t2 - t1) * 1000)
            audited.append((t3 - t2) * 1000)
            total.append((t3 - t0) * 1000)
    print(f"per question ({len(items)} questions x {repeat}):")
    print(f"  question checks (PII + injection)  {_ms(asked)}")
    print(f"  answer checks (output)             {_ms(answered)}")
    print(f"  audit write                        {_ms(audited)}")
    print(f"  all guardrails                     {_ms(total)}   (goal: p95 <= 50 ms)")


def per_document(guard, chunks: list[str]) -> None:
    """Chunks per second for the document checks and for embedding, and their ratio."""
    from rag.models.embeddings import MiniLMEmbeddings

    minilm = MiniLMEmbeddings()
    minilm.embed_documents(chunks[:8])  # warm up
    t0 = time.perf_counter()
    checks = guard.check_chunks(chunks)
    checked = time.perf_counter() - t0
    t0 = time.perf_counter()
    minilm.embed_documents(chunks)
    embedded = time.perf_counter() - t0
    held = sum(c.quarantine for c in checks)
    with_pii = sum(bool(c.pii) for c in checks)
    print(f"per document ({len(chunks)} passages of ~1,500 characters):")
    print(f"  document checks  {len(chunks) / checked:7.1f} chunks/s")
    print(f"  embedding        {len(chunks) / embedded:7.1f} chunks/s")
    print(f"  checks / embedding time: {checked / embedded:.2f} (ingestion time added)")
    print(f"  flagged as injection (held back): {held}; with personal data: {with_pii}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=200)
    args = parser.parse_args()

    from rag.config import Settings
    from rag.guardrails.guard import Guardrails
    from rag.ops.database import open_db

    items = questions()
    answers = [f"The policy says so [1]. {q}" for q in items]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        guard = Guardrails(settings)
        guard.check_question("warm up the models")
        db = open_db(settings.db_path)
        per_question(guard, db, items, answers, args.repeat)
        per_document(guard, passages(args.chunks))
        db.close()


if __name__ == "__main__":
    main()
