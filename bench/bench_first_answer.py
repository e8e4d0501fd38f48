"""Measure what a new user sees first with the embedded model: quoted versus generated answers.

    .venv/bin/python bench/bench_first_answer.py
    .venv/bin/python -m bench first_answer --filing none      # the three samples only

A fresh store in a temporary data dir (the embedded backend: SmolLM2 in-process through
llama.cpp, no Ollama; default settings, ``GROUNDWORK_*`` variables ignored) gets the three
shipped samples and, when the shared corpora are there, the Amcor 10-Q
(``../shared/corpora/financebench-dev/docs/AMCOR_2023Q2_10Q.pdf``). The questions are the eight
of ``evals/samples.jsonl`` plus four about the 10-Q; each is answered in both modes:

- quote: the documents' best sentences, no model (what the embedded backend does by default);
- generate: the small model drafts an answer and the verifier checks it (the old behaviour).

Each outcome is classified by the answer's first line: "answer" (a verified generated answer),
"quoted" (``QUOTED``), "not found" (``NOT_FOUND``), "failed check" (``NOT_VERIFIED`` or
``MODEL_FOUND_NOTHING``: the header tells the user something failed). An answer is *useful* when
its visible text holds every key fact (case-insensitive); for a question the documents do not
answer, when it says "not found". Time is ``timings["total_ms"]`` (question to final answer).

The README's first question is asked once per mode before the timed set, cold: the generated one
pays for loading the model. The timed questions alternate which mode goes first; each mode has
its own assistant (own sentence cache) over the same store and model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.models import DEFAULT_EMBEDDER

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES_SET = ROOT / "evals" / "samples.jsonl"
DEFAULT_FILING = (
    ROOT.parent / "shared" / "corpora" / "financebench-dev" / "docs" / "AMCOR_2023Q2_10Q.pdf"
)
FIRST_QUESTION = "How many days of annual leave do full-time employees get?"  # the README's
MODES = ("quote", "generate")
OUTCOMES = ("answer", "quoted", "not found", "failed check")

# Stated in the 10-Q (quarter ended December 31, 2022): income statement, Note 13 (segments),
# balance sheet, Note 6 (restructuring).
AMCOR_QUESTIONS = [
    {
        "id": "am-001",
        "question": "What were Amcor's net sales for the three months ended December 31, 2022?",
        "key_facts": ["3,642"],
        "answerable": True,
    },
    {
        "id": "am-002",
        "question": "What net sales did Amcor's Flexibles segment report for the three months "
        "ended December 31, 2022?",
        "key_facts": ["2,812"],
        "answerable": True,
    },
    {
        "id": "am-003",
        "question": "How much cash and cash equivalents did Amcor have at December 31, 2022?",
        "key_facts": ["837"],
        "answerable": True,
    },
    {
        "id": "am-004",
        "question": "How much were Amcor's restructuring and related expenses, net in the three "
        "months ended December 31, 2022?",
        "key_facts": ["$2 million"],
        "answerable": True,
    },
]


@dataclass
class Run:
    """One question answered in one mode."""

    qid: str
    mode: str
    outcome: str
    total_ms: float
    ttft_ms: float | None
    refused: bool
    extractive: bool
    header: str
    facts_found: int
    facts: int
    useful: bool
    answerable: bool = True
    notes: list[str] = field(default_factory=list)


def _clean_env() -> None:
    """Default settings, nothing leaves the machine: drop the developer's own configuration."""
    for name in list(os.environ):
        if name.startswith(("GROUNDWORK_", "LANGSMITH_", "LANGCHAIN_")) or name in (
            "OLLAMA_HOST",
            "CHROMA_URL",
        ):
            del os.environ[name]
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"


def visible_text(answer: str) -> str:
    """The answer's words: Markdown escapes (``\\$65``) undone, then emphasis removed."""
    from rag.text.markup import strip_markup

    return strip_markup(re.sub(r"\\([^\w\s])", r"\1", answer))


def classify(answer: str) -> str:
    """The outcome named by the answer's first line."""
    from rag.answer.outcome import MODEL_FOUND_NOTHING, NOT_FOUND, NOT_VERIFIED, QUOTED

    if answer.startswith(NOT_FOUND):
        return "not found"
    if answer.startswith(QUOTED):
        return "quoted"
    if answer.startswith((NOT_VERIFIED, MODEL_FOUND_NOTHING)):
        return "failed check"
    return "answer"


def ask(assistant, item: dict, mode: str) -> Run:
    """Answer ``item`` in ``mode``, consuming the stream, and judge what the user sees."""
    stream = assistant.ask(item["question"], mode=mode)
    for _piece in stream:
        pass
    r = stream.result
    outcome = classify(r.answer)
    text = visible_text(r.answer).lower()
    facts = item.get("key_facts") or []
    found = sum(f.lower() in text for f in facts)
    answerable = item.get("answerable", True)
    useful = found == len(facts) if answerable else outcome == "not found"
    notes = []
    if (outcome == "answer") == r.extractive:
        notes.append(f"header/extractive disagree (extractive={r.extractive})")
    return Run(
        qid=item["id"],
        mode=mode,
        outcome=outcome,
        total_ms=r.timings["total_ms"],
        ttft_ms=r.timings.get("ttft_ms"),
        refused=r.refused,
        extractive=r.extractive,
        header=r.answer.split("\n", 1)[0],
        facts_found=found,
        facts=len(facts),
        useful=useful,
        answerable=answerable,
        notes=notes,
    )


def p95(values: list[float]) -> float:
    """95th percentile, nearest rank (with a dozen answers: the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_runs(runs: list[Run]) -> None:
    print(
        f"\n{'question':<9}{'mode':<10}{'outcome':<14}{'ms':>8}{'ttft':>7}{'refused':>9}"
        f"{'extr':>6}{'facts':>7}{'useful':>8}  header"
    )
    for run in runs:
        facts = f"{run.facts_found}/{run.facts}" if run.answerable else "n/a"
        print(
            f"{run.qid:<9}{run.mode:<10}{run.outcome:<14}{run.total_ms:>8.0f}{_ms(run.ttft_ms):>7}"
            f"{'yes' if run.refused else 'no':>9}{'yes' if run.extractive else 'no':>6}"
            f"{facts:>7}{'yes' if run.useful else 'no':>8}  {run.header[:70]}"
            + (f"  [{'; '.join(run.notes)}]" if run.notes else "")
        )


def summarize(runs: list[Run], mode: str) -> float:
    """Print the table for one mode; return its median time to the final answer."""
    mine = [r for r in runs if r.mode == mode]
    times = [r.total_ms for r in mine]
    ttfts = [r.ttft_ms for r in mine if r.ttft_ms is not None]
    answerable = [r for r in mine if r.answerable]
    unanswerable = [r for r in mine if not r.answerable]
    counts = {o: sum(r.outcome == o for r in mine) for o in OUTCOMES}
    median = statistics.median(times)
    print(f"\nmode {mode} ({len(mine)} questions)")
    print(f"  time to final answer   median {median:.0f} ms, p95 {p95(times):.0f} ms")
    if ttfts:
        print(
            f"  time to first token    median {statistics.median(ttfts):.0f} ms "
            f"({len(ttfts)} answers streamed model text)"
        )
    else:
        print("  time to first token    - (no model text streamed)")
    useful = sum(r.useful for r in mine)
    print(
        f"  useful                 {useful}/{len(mine)} = {useful / len(mine):.0%}  (answerable: "
        f"{sum(r.useful for r in answerable)}/{len(answerable)} with every key fact; "
        f"unanswerable: {sum(r.useful for r in unanswerable)}/{len(unanswerable)} said not found)"
    )
    print("  outcomes               " + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES))
    failed = counts["failed check"]
    print(f"  header says something failed: {failed}/{len(mine)} = {failed / len(mine):.0%}")
    return median


def load_questions(with_filing: bool) -> list[dict]:
    items = [json.loads(line) for line in SAMPLES_SET.read_text().splitlines() if line.strip()]
    return items + (AMCOR_QUESTIONS if with_filing else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--filing",
        default=str(DEFAULT_FILING),
        help="the Amcor 10-Q PDF ('none': the samples only)",
    )
    args = parser.parse_args(argv)
    _clean_env()

    from rag.answer.chain import Assistant
    from rag.config import Settings
    from rag.errors import GroundworkError
    from rag.index.indexing import ingest_files, sample_files
    from rag.index.store import DocumentStore
    from rag.models.backends import make_chat_model, make_embeddings, resolve_backend

    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    data = Path(tempfile.mkdtemp(prefix="gw-bench-first-answer-"))
    settings = Settings(data_dir=data, backend="embedded")
    try:
        choice = resolve_backend(settings)
        from rag.models.embeddings import MiniLMEmbeddings

        MiniLMEmbeddings().embed_query("check")  # the embedder ships in a package too
    except (GroundworkError, ImportError, OSError) as exc:
        shutil.rmtree(data, ignore_errors=True)
        print(f"bench first_answer: the embedded backend is not installed here: {exc}")
        print("Nothing is downloaded by this benchmark; run `make setup` first.")
        return 1
    print(f"backend: {choice.name}, model {choice.chat_model}; threads {settings.embedded_threads}")

    files = sample_files()
    filing = None if args.filing.lower() == "none" else Path(args.filing)
    if filing is not None and not filing.is_file():
        print(
            f"NOTE: {filing} not found (the shared corpora, ../shared, are missing): running on "
            "the three samples only, without the Amcor questions."
        )
        filing = None
    elif filing is not None:
        files = [*files, (filing.name, filing.read_bytes())]
    questions = load_questions(filing is not None)

    store = DocumentStore(settings, lambda name: make_embeddings(settings, name), DEFAULT_EMBEDDER)
    try:
        started = time.perf_counter()
        reports = ingest_files(store, files)
        print(
            f"ingested {len(reports)} files in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{r.filename} ({r.status}, {r.chunks} chunks)" for r in reports)
        )
        if failed := [r for r in reports if not r.ok]:
            print("ingest failed: " + "; ".join(f"{r.filename}: {r.error}" for r in failed))
            return 1
        model = make_chat_model(settings, choice)  # shared: loaded once, by the first draft
        assistants = {m: Assistant(settings, store, model, choice) for m in MODES}

        print(f'\ncold first answer ("{FIRST_QUESTION}"), as a new user asks it:')
        for mode in MODES:
            run = ask(assistants[mode], {"id": "first", "question": FIRST_QUESTION}, mode)
            extra = " (includes loading the model)" if mode == "generate" else ""
            print(f"  {mode:<9} {run.outcome:<13} {run.total_ms:>7.0f} ms{extra}  {run.header}")

        print(f"\n{len(questions)} questions x {len(MODES)} modes (order alternates per question)")
        runs: list[Run] = []
        for i, item in enumerate(questions):
            order = MODES if i % 2 == 0 else MODES[::-1]
            done = {mode: ask(assistants[mode], item, mode) for mode in order}
            runs.extend(done[mode] for mode in MODES)
        print_runs(runs)
        medians = {mode: summarize(runs, mode) for mode in MODES}
        print(
            f"\nquote / generate median time to final answer: {medians['quote']:.0f} / "
            f"{medians['generate']:.0f} ms = {medians['quote'] / medians['generate']:.3f} "
            f"(generate is {medians['generate'] / medians['quote']:.1f}x slower)"
        )
        print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        return 0
    finally:
        store.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
