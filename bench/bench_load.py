"""Load test: 1, 4 and 16 users chatting at once with the embedded model and a Chroma server.

    .venv/bin/python -m bench load
    .venv/bin/python -m bench load --users 1 4 --quote-turns 2 --generate-turns 1

A `chroma run` server is started on loopback in a temp dir; the three shipped samples and, when
``../shared`` is there, pages of the 18F handbook are ingested through it. Then, as Streamlit
runs sessions, each user is a thread of this one process sharing one ``Assistant`` (one store,
one embedded SmolLM2 model): it asks its questions in turn, iterating the answer stream as the
page does, each follow-up sent with the conversation so far (``follow_up_history`` of the
page's messages), and each answer logged to the run log as the page does.

Two answer modes are measured: "quote" (the embedded backend's default: the documents' best
sentences, no model) and "generate" (the model writes the answer; callers queue for it, one
generation at a time). Per number of users: answers, errors, throughput (answers per minute of
wall time), p50/p95 latency (question to final answer), and for "generate" the queue: the mean
wait for the model per generation and the most questions seen waiting at once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HANDBOOK = ROOT.parent / "shared" / "corpora" / "18f-handbook" / "pages" / "travel-and-leave"

# Conversations: the second question of each is a follow-up that needs the first.
CONVERSATIONS = [
    ["How many unused annual leave days can I carry into next year?", "By when must I use them?"],
    ["What per diem do I get for a full day on a domestic trip?", "And on the first and last day?"],
    ["How quickly do I need to report a security incident?", "Who do I contact about it?"],
    ["How much paid parental leave does the primary caregiver get?", "Is it paid in full?"],
    ["Who approves a business trip estimated to cost $3,000?", "And one over $5,000?"],
    ["What is the minimum length for a company account password?", "Where should I store it?"],
]


@dataclass
class Level:
    """What one run of ``users`` concurrent users measured."""

    mode: str
    users: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per answer
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    queue_wait: float | None = None  # mean seconds a generation waited for the model
    most_waiting: int = 0

    def percentile(self, q: int) -> float:
        """The q-th percentile latency (nearest rank), in seconds."""
        ranked = sorted(self.latencies)
        return ranked[max(0, -(-q * len(ranked) // 100) - 1)] if ranked else float("nan")

    def row(self) -> str:
        answers = len(self.latencies)
        per_min = answers / self.wall * 60 if self.wall else 0.0
        wait = "-" if self.queue_wait is None else f"{self.queue_wait:6.1f} s"
        return (
            f"{self.mode:<9}{self.users:>5}{answers:>9}{len(self.errors):>8}{per_min:>12.1f}"
            f"{self.percentile(50):>9.2f}{self.percentile(95):>9.2f}{wait:>10}"
            f"{self.most_waiting:>9}"
        )


HEADER = (
    f"{'mode':<9}{'users':>5}{'answers':>9}{'errors':>8}{'answers/min':>12}"
    f"{'p50 s':>9}{'p95 s':>9}{'wait':>10}{'queued':>9}"
)


def chat(assistant, documents, questions: list[str], mode: str, user: str, level: Level) -> None:
    """One user's conversation, as the chat page runs it: ask, stream, keep, log."""
    from rag import answer_message, follow_up_history, log_run

    messages: list[dict] = []
    for question in questions:
        messages.append({"role": "user", "content": question})
        started = time.perf_counter()
        try:
            stream = assistant.ask(
                question, follow_up_history(messages), session_id=user, user=user, mode=mode
            )
            for _ in stream:  # the page shows each piece as it arrives
                pass
            message = answer_message(stream.result, documents)
            log_run(assistant.store.db, message["run"])
        except Exception as exc:  # every failure is counted, none may end the run
            level.errors.append(f"{type(exc).__name__}: {exc}")
            messages.append({"role": "assistant", "content": "", "error": str(exc)})
            continue
        level.latencies.append(time.perf_counter() - started)
        messages.append(message)


def run_level(assistant, documents, mode: str, users: int, turns: int) -> Level:
    """Run ``users`` users at once, each asking ``turns`` questions; measure them."""
    from rag.models.llm_embedded import queue_status

    level, start, done = Level(mode, users), threading.Barrier(users + 1), threading.Event()
    scripts = []
    for u in range(users):
        questions: list[str] = []
        c = u
        while len(questions) < turns:
            questions += CONVERSATIONS[c % len(CONVERSATIONS)]
            c += 1
        scripts.append(questions[:turns])

    def user(u: int) -> None:
        start.wait()
        chat(assistant, documents, scripts[u], mode, f"load-user-{u}", level)

    def watch() -> None:
        while not done.wait(0.02):
            level.most_waiting = max(level.most_waiting, queue_status().waiting)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    watcher = threading.Thread(target=watch)
    for t in [*threads, watcher]:
        t.start()
    before = queue_status()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    level.wall = time.perf_counter() - began
    done.set()
    watcher.join()
    after = queue_status()
    if after.served > before.served:
        level.queue_wait = (after.waited_seconds - before.waited_seconds) / (
            after.served - before.served
        )
    return level


def corpus(handbook_pages: int) -> list[tuple[str, bytes]]:
    """The shipped samples, plus the first pages of the 18F handbook when ../shared is here."""
    from rag import sample_files

    files = list(sample_files())
    if handbook_pages and HANDBOOK.is_dir():
        pages = sorted(HANDBOOK.rglob("*.md"))[:handbook_pages]
        files += [(p.name, p.read_bytes()) for p in pages]
    elif handbook_pages:
        print(f"NOTE: {HANDBOOK} not found: the samples only.")
    return files


def growth(levels: list[Level]) -> str:
    """How p50 and p95 grow from the fewest users to the most."""
    first, last = levels[0], levels[-1]
    return (
        f"{first.mode}: {first.users} -> {last.users} users: p50 {first.percentile(50):.2f} -> "
        f"{last.percentile(50):.2f} s (x{last.percentile(50) / first.percentile(50):.1f}), "
        f"p95 {first.percentile(95):.2f} -> {last.percentile(95):.2f} s "
        f"(x{last.percentile(95) / first.percentile(95):.1f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--quote-turns", type=int, default=4, help="questions per user, quote")
    parser.add_argument("--generate-turns", type=int, default=2, help="... and generate")
    parser.add_argument("--handbook-pages", type=int, default=15, help="18F pages to ingest")
    args = parser.parse_args(argv)
    for name in [n for n in os.environ if n.startswith(("GROUNDWORK_", "LANGSMITH_"))]:
        del os.environ[name]  # the developer's configuration stays out of the measurement
    os.environ.pop("CHROMA_URL", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"

    from rag import (
        Assistant,
        DocumentStore,
        Settings,
        ingest_files,
        make_chat_model,
        make_embeddings,
        resolve_backend,
    )
    from rag.models import DEFAULT_EMBEDDER
    from tests.servers.chroma import ChromaServer

    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    data = Path(tempfile.mkdtemp(prefix="gw-bench-load-"))
    try:
        with ChromaServer(data / "chroma-server") as server:
            settings = Settings(data_dir=data / "app", chroma_url=server.url, backend="embedded")
            choice = resolve_backend(settings)
            store = DocumentStore(
                settings, lambda name: make_embeddings(settings, name), DEFAULT_EMBEDDER
            )
            started = time.perf_counter()
            reports = ingest_files(store, corpus(args.handbook_pages))
            chunks = sum(r.chunks for r in reports)
            print(f"chroma server {server.url}: ingested {len(reports)} files, {chunks} chunks "
                  f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
            assistant = Assistant(settings, store, make_chat_model(settings, choice), choice)
            documents = store.documents()
            print(f"backend {choice.name} ({choice.chat_model}), one Assistant shared by all users")
            for mode in ("quote", "generate"):  # warm: load the model, fill the caches
                chat(assistant, documents, CONVERSATIONS[0][:1], mode, "warm", Level(mode, 0))
            tables = []
            for mode, turns in (("quote", args.quote_turns), ("generate", args.generate_turns)):
                levels = []
                for users in args.users:
                    levels.append(run_level(assistant, documents, mode, users, turns))
                    print(levels[-1].row(), flush=True)
                tables.append(levels)
            store.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    report(tables)
    return 1 if any(level.errors for levels in tables for level in levels) else 0


def report(tables: list[list[Level]]) -> None:
    """Print the table, the growth of latency with users, and any errors."""
    print("\n" + HEADER)
    for levels in tables:
        for level in levels:
            print(level.row())
    print("wait: mean time a generation waited for the model; queued: most seen waiting at once")
    for levels in tables:
        print(growth(levels))
    for levels in tables:
        for level in levels:
            for error in level.errors[:5]:
                print(f"ERROR ({level.mode}, {level.users} users): {error}")


if __name__ == "__main__":
    sys.exit(main())
