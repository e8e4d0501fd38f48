"""Speed of the PII detector on questions and document passages, patterns only and with spaCy.

    .venv/bin/python -m bench pii                 # questions from evals/, handbook passages
    .venv/bin/python -m bench pii --repeat 5 --chunks 600

- questions: ``PiiDetector.find`` on every question of ``evals/*.jsonl`` and on the same
  questions with personal data inserted (a name, an email, a phone number, a card, an
  address); p50/p95 ms per question for ``ner=False`` and ``ner=True`` (goal: p95 <= 25 ms,
  half of the 50 ms guardrail budget per question);
- passages: ``find_many`` over ~1,500-character passages of the 18F handbook (``../shared``;
  the sample documents when it is absent), passages per second both ways, and the spans found
  per type (prose with little personal data: this is where false alarms show).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HANDBOOK = ROOT.parent / "shared" / "corpora" / "18f-handbook"
INSERTS = [
    "I'm Maria Gonzalez, email maria.gonzalez@example.org. {q}",
    "{q} Call me back on (415) 555-0132.",
    "{q} My card 4111 1111 1111 1111 was charged twice.",
    "Sent from 221B Baker Street, London: {q}",
    "{q} (SSN 455-99-6622, IBAN GB82 WEST 1234 5698 7654 32)",
]


def questions() -> list[str]:
    """Every question of the golden sets, then each again with personal data inserted."""
    plain = []
    for path in sorted((ROOT / "evals").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and (question := json.loads(line).get("question")):
                plain.append(question)
    with_pii = [INSERTS[i % len(INSERTS)].format(q=q) for i, q in enumerate(plain)]
    return plain + with_pii


def passages(limit: int, size: int = 1500) -> list[str]:
    """Handbook markdown (or the sample documents) cut into passages of ``size`` characters."""
    files = sorted(HANDBOOK.rglob("*.md")) or sorted((ROOT / "rag" / "samples").glob("*"))
    out: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="ignore")
        out += [text[i : i + size] for i in range(0, len(text), size)]
        if len(out) >= limit:
            break
    return out[:limit]


def time_questions(detector, texts: list[str], repeat: int) -> tuple[float, float]:
    """p50 and p95 milliseconds of ``find`` per question (best of ``repeat`` per question)."""
    times = []
    for text in texts:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            detector.find(text)
            best = min(best, time.perf_counter() - started)
        times.append(best * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the detector's speed and what it finds in ordinary prose."""
    from rag.guardrails.pii import PiiDetector

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timings per question (best kept)")
    parser.add_argument("--chunks", type=int, default=400, help="passages for find_many")
    args = parser.parse_args(argv)

    texts, chunks = questions(), passages(args.chunks)
    print(f"{len(texts)} questions (half with personal data inserted), {len(chunks)} passages")
    print(
        f"{'mode':<12}{'load s':>8}{'p50 ms':>8}{'p95 ms':>8}{'passages/s':>12}  found in passages"
    )
    for ner in (False, True):
        started = time.perf_counter()
        detector = PiiDetector(ner=ner)
        detector.find("warm up: Anna Berg, anna@example.org")
        load = time.perf_counter() - started
        p50, p95 = time_questions(detector, texts, args.repeat)
        started = time.perf_counter()
        found = detector.find_many(chunks)
        rate = len(chunks) / (time.perf_counter() - started)
        counts = Counter(s.entity_type for spans in found for s in spans)
        mode = "ner" if ner else "patterns"
        print(f"{mode:<12}{load:>8.2f}{p50:>8.2f}{p95:>8.2f}{rate:>12.1f}  {dict(counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
