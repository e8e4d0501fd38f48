"""Measure the app: cold start to first answer, chat-path overhead on time to first token, memory.

    .venv/bin/python bench/bench_app.py [--repeat 5] [--no-browser]

1. Cold start: launch ``streamlit run app.py`` on an empty data dir, open it in headless
   Chromium, click "Load sample documents", ask a question, and stop the clock when the cited
   answer's feedback buttons appear. Peak RSS of the server process is sampled throughout.
2. Time to first token: the app's chat path (``Assistant.ask``: retrieval, evidence check,
   prompt, model) against raw llama.cpp streaming the very same messages, alternating, median
   of ``--repeat`` questions each. The ratio is the chain's overhead (goal: at most 1.10).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.models import DEFAULT_EMBEDDER  # noqa: E402 - after the path setup
from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - the browser test's launch

QUESTIONS = [
    "How many days of annual leave do full-time employees get?",
    "What is the nightly hotel cap in high-cost cities?",
    "How soon must a security incident be reported?",
    "How many weeks of parental leave are paid?",
    "Which travel portal must be used for bookings?",
    "How long must passwords be?",
    "How many unused leave days can be carried over?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakRSS:
    """Sample a process tree's resident memory in the background; keep the peak."""

    def __init__(self, pid: int):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def cold_start() -> dict[str, float]:
    """Launch the app on an empty data dir and time the first answer on the samples."""
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    port = _free_port()
    env = {**os.environ, "GROUNDWORK_DATA_DIR": str(data)}
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rss = PeakRSS(server.pid)
    marks: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            deadline = time.monotonic() + 120
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:  # server not listening yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            page.get_by_role("button", name="Load sample documents").first.click(timeout=120_000)
            marks["page_ready_s"] = time.perf_counter() - started
            box = page.get_by_placeholder("Ask a question about your documents")
            box.wait_for(timeout=300_000)
            page.get_by_text("Load sample documents").first.wait_for(
                state="detached", timeout=300_000
            )
            marks["samples_loaded_s"] = time.perf_counter() - started
            box.fill(QUESTIONS[0])
            box.press("Enter")
            page.locator(
                "[data-testid='stFeedback'], [data-testid='stButtonGroup']"
            ).first.wait_for(timeout=300_000)
            marks["first_answer_s"] = time.perf_counter() - started
            browser.close()
    finally:
        marks["peak_rss_mb"] = rss.stop()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    return marks


def ttft(repeat: int) -> dict[str, float]:
    """Median time to first token: the app's chat path versus raw llama.cpp, same messages."""
    from llama_cpp import Llama

    from rag.answer.chain import Assistant
    from rag.answer.prompts import format_context
    from rag.config import Settings
    from rag.index.indexing import ingest_files, sample_files
    from rag.index.store import DocumentStore
    from rag.models.backends import make_chat_model, make_embeddings, resolve_backend
    from rag.models.llm_embedded import find_model_file

    data = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    settings = Settings(data_dir=data, backend="embedded", temperature=0.0)
    choice = resolve_backend(settings)
    store = DocumentStore(settings, lambda n: make_embeddings(settings, n), DEFAULT_EMBEDDER)
    ingest_files(store, sample_files())
    assistant = Assistant(settings, store, make_chat_model(settings, choice), choice)
    raw = Llama(
        model_path=str(find_model_file()),
        n_ctx=settings.embedded_context,
        n_threads=settings.embedded_threads,
        n_threads_batch=settings.embedded_threads,
        verbose=False,
    )
    app_times, raw_times = [], []
    questions = (QUESTIONS * (1 + repeat // len(QUESTIONS)))[:repeat]
    list(assistant.ask("warm up: what is the per diem?"))  # load the model once, as the app does
    for question in questions:
        t0 = time.perf_counter()
        stream = assistant.ask(question)
        first = None
        for _piece in stream:
            first = first or time.perf_counter() - t0
        if first is None:  # refused on weak evidence: no model call to compare
            continue
        app_times.append(first)
        passages = stream.result.passages
        messages = assistant.template.invoke(
            {"context": format_context(passages), "question": question}
        ).to_messages()
        roles = {"system": "system", "human": "user"}
        chat = [{"role": roles[m.type], "content": m.text} for m in messages]
        t0 = time.perf_counter()
        for part in raw.create_chat_completion(
            messages=chat, stream=True, max_tokens=settings.max_answer_tokens, temperature=0.0
        ):
            if part["choices"][0].get("delta", {}).get("content"):
                raw_times.append(time.perf_counter() - t0)
                break
    store.close()
    shutil.rmtree(data, ignore_errors=True)
    app, base = statistics.median(app_times), statistics.median(raw_times)
    return {"app_ttft_s": app, "raw_ttft_s": base, "ratio": app / base, "n": len(app_times)}


def main(argv: list[str] | None = None) -> int:
    """Run the app benchmarks and print the numbers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="questions timed per path")
    parser.add_argument("--no-browser", action="store_true", help="skip the cold-start run")
    args = parser.parse_args(argv)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    if not args.no_browser:
        if not CHROMIUM.exists():
            print("cold start: skipped (no /usr/bin/chromium; run `make setup-test`)")
        else:
            marks = cold_start()
            print(
                "cold start (launch → first cited answer on the samples): "
                f"{marks['first_answer_s']:.1f} s  [page {marks['page_ready_s']:.1f} s, samples "
                f"loaded {marks['samples_loaded_s']:.1f} s]  peak RSS {marks['peak_rss_mb']:.0f} MB"
            )
    t = ttft(args.repeat)
    print(
        f"time to first token, median of {t['n']}: app {t['app_ttft_s'] * 1000:.0f} ms, raw "
        f"llama.cpp {t['raw_ttft_s'] * 1000:.0f} ms, ratio {t['ratio']:.2f} (goal ≤ 1.10)"
    )
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
