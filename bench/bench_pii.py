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

    .venv/bin/python -m bench pii --documents     # spans per type in the shared corpora

- documents: ``find_many`` with the patterns only (as ingestion scans) over ~1,500-character
  chunks of every PDF (text by pypdf) and markdown file of ``../shared/corpora`` and over the
  golden-set questions; spans per type per corpus, and ``--show N`` random spans of each type
  with their context, to read and judge (real documents have few phone numbers and addresses:
  most spans found there are false alarms).

    .venv/bin/python -m bench pii --names ../shared/datasets/pii/generated_large.json

- names: the word-list rules of ``rag/guardrails/names.py`` on a labelled Presidio-format file:
  PERSON / LOCATION / ADDRESS precision and recall with no rules and with all of them, each rule
  left out in turn (in-sample), then 5-fold cross-validation (seeded shuffle, and folds grouped
  by the generator's template) where the rule set is chosen on four folds (best PERSON F1 +
  LOCATION F1 over every subset) and scored on the fifth; then the names and places found in
  the golden-set questions and the handbook passages with no rules and with all of them.
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


def corpus_chunks(size: int = 1500) -> dict[str, list[str]]:
    """Each shared corpus (PDF text by pypdf, markdown as is) in ``size``-character chunks."""
    from pypdf import PdfReader

    corpora = ROOT.parent / "shared" / "corpora"
    out: dict[str, list[str]] = {}
    for folder in sorted(p for p in corpora.iterdir() if p.is_dir()) if corpora.exists() else []:
        chunks: list[str] = []
        for path in sorted(folder.rglob("*")):
            if path.suffix == ".pdf":
                pages = PdfReader(path).pages
                text = "\n".join(page.extract_text() or "" for page in pages)
            elif path.suffix == ".md":
                text = path.read_text(encoding="utf-8", errors="ignore")
            else:
                continue
            chunks += [text[i : i + size] for i in range(0, len(text), size)]
        out[folder.name] = chunks
    out["questions"] = questions()[: len(questions()) // 2]
    return out


def documents_report(show: int, seed: int = 0) -> None:
    """Print the pattern spans per type per corpus, and ``show`` random ones of each type."""
    import random

    from rag.guardrails.pii import PiiDetector

    detector = PiiDetector(ner=False)
    rng = random.Random(seed)
    for corpus, chunks in corpus_chunks().items():
        results = detector.find_many(chunks)
        found = [(c, s) for c, spans in zip(chunks, results, strict=True) for s in spans]
        counts = Counter(s.entity_type for _, s in found)
        print(f"{corpus:<16}{len(chunks):>7} chunks  {dict(sorted(counts.items()))}")
        for entity_type in sorted(counts):
            of_type = [(c, s) for c, s in found if s.entity_type == entity_type]
            for chunk, span in rng.sample(of_type, min(show, len(of_type))):
                context = chunk[max(0, span.start - 50) : span.end + 30].replace("\n", " ")
                print(f"    {entity_type:<14}{span.text!r:<32} … {context!r}")


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


NAME_TYPES = ("PERSON", "LOCATION", "ADDRESS")


def _cached(detector) -> None:
    """Run the spaCy model and the patterns once per text whatever rules are tried."""
    from rag.guardrails import pii

    docs, found, pipe, patterns = {}, {}, detector._nlp.pipe, pii._patterns

    def cached_pipe(texts, batch_size=64):
        todo = [t for t in dict.fromkeys(texts) if t not in docs]
        docs.update(zip(todo, pipe(todo, batch_size=batch_size), strict=True))
        return [docs[t] for t in texts]

    def cached_patterns(text, wanted):
        if (text, wanted) not in found:
            found[(text, wanted)] = patterns(text, wanted)
        return found[(text, wanted)]

    detector._nlp.pipe = cached_pipe
    pii._patterns = cached_patterns


def _row(scores) -> str:
    return "  ".join(
        f"{t} {scores[t]['precision']:.3f}/{scores[t]['recall']:.3f}" for t in NAME_TYPES
    )


def _folds(cases, by_template: bool, k: int = 5, seed: int = 0) -> list[list[int]]:
    import random

    keys = [c.group if by_template else str(i) for i, c in enumerate(cases)]
    distinct = sorted(set(keys))
    random.Random(seed).shuffle(distinct)
    fold_of = {key: n % k for n, key in enumerate(distinct)}
    return [[i for i, key in enumerate(keys) if fold_of[key] == f] for f in range(k)]


def names_report(path: str) -> None:
    """In-sample, leave-one-rule-out and cross-validated scores of the name rules."""
    import itertools

    from rag.guardrails.names import RULES
    from rag.guardrails.pii import PiiDetector
    from rag.guardrails.pii_eval import load_pii_cases, score_pii

    cases = load_pii_cases(path)
    detector = PiiDetector(ner=True)
    _cached(detector)
    subsets = [
        frozenset(c)
        for n in range(len(RULES) + 1)
        for c in itertools.combinations(sorted(RULES), n)
    ]
    found = {}
    for rules in subsets:
        detector.rules = rules
        found[rules] = detector.find_many([c.text for c in cases])

    class Fixed:  # score_pii asks a detector: this one answers with stored findings
        def __init__(self, spans):
            self.spans = spans

        def find_many(self, texts):
            return self.spans

    def score(idx, rules):
        return score_pii([cases[i] for i in idx], Fixed([found[rules][i] for i in idx]))

    every = list(range(len(cases)))
    print(f"{len(cases)} cases; precision/recall")
    print(f"in-sample, no rules   {_row(score(every, frozenset()))}")
    print(f"in-sample, all rules  {_row(score(every, RULES))}")
    for rule in sorted(RULES):
        print(f"  without {rule:<13}{_row(score(every, RULES - {rule}))}")
    for by_template in (False, True):
        folds = _folds(cases, by_template)
        held = {"no rules": [], "all rules": [], "chosen": []}
        for f, test in enumerate(folds):
            train = [i for g, fold in enumerate(folds) if g != f for i in fold]
            best = max(subsets, key=lambda r: sum(score(train, r)[t]["f1"] for t in NAME_TYPES[:2]))
            print(f"  fold {f}: chose {sorted(best)}")
            for name, rules in (("no rules", frozenset()), ("all rules", RULES), ("chosen", best)):
                held[name].append(score(test, rules))
        print(f"5-fold CV, folds by {'template' if by_template else 'seeded shuffle'}, mean:")
        for name, scores in held.items():
            mean = {
                t: {m: statistics.mean(s[t][m] for s in scores) for m in ("precision", "recall")}
                for t in NAME_TYPES
            }
            print(f"  {name:<10}{_row(mean)}")
    texts = {"questions": questions()[: len(questions()) // 2], "passages": passages(400)}
    for name, rules in (("no rules", frozenset()), ("all rules", RULES)):
        detector.rules = rules
        for label, batch in texts.items():
            spans = [
                s for f in detector.find_many(batch) for s in f if s.entity_type in NAME_TYPES[:2]
            ]
            print(f"{name:<10} {label:<10} {dict(Counter(s.entity_type for s in spans))}")


def main(argv: list[str] | None = None) -> int:
    """Measure and print the detector's speed and what it finds in ordinary prose."""
    from rag.guardrails.pii import PiiDetector

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timings per question (best kept)")
    parser.add_argument("--chunks", type=int, default=400, help="passages for find_many")
    parser.add_argument("--names", metavar="FILE", help="score the name rules on a labelled file")
    parser.add_argument("--documents", action="store_true", help="spans found in ../shared corpora")
    parser.add_argument("--show", type=int, default=0, help="--documents: random spans per type")
    args = parser.parse_args(argv)
    if args.documents:
        documents_report(args.show)
        return 0
    if args.names:
        names_report(args.names)
        return 0

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
