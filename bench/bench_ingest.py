"""Time PDF ingestion: Groundwork against the naive tutorial pipeline, with retrieval quality.

    .venv/bin/python -m bench ingest [--corpus ../shared/corpora/r-manuals] [--repeat 3]
    .venv/bin/python -m bench ingest --outcomes ../shared/corpora/18f-handbook

Both pipelines ingest the same PDFs, each run in its own subprocess (so peak RSS is its own)
with a fresh temporary data directory and the same warmed-up MiniLM embedder:

- naive: ``PyPDFLoader`` per file, ``RecursiveCharacterTextSplitter(1000, 200)``,
  ``Chroma.from_documents`` — what a tutorial writes;
- groundwork: ``DocumentStore`` + ``ingest_files``.

Reports wall time, pages/s, chunks/s and peak RSS (medians over ``--repeat``), then hit@5 of the
right source and of the right page on the golden set (``evals/r-manuals.jsonl``): the naive
pipeline by vector top-5, Groundwork by ``HybridSearch`` top-5. ``--outcomes DIR`` instead
ingests every file under DIR through Groundwork and counts each outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from rag.models import DEFAULT_EMBEDDER

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "r-manuals"
DEFAULT_EVALS = ROOT / "evals" / "r-manuals.jsonl"
PIPELINES = ("naive", "groundwork")


def load_average() -> str:
    """Return the 1/5/15-minute load average (Linux), or '?' elsewhere."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_embedder():
    from rag.models.embeddings import MiniLMEmbeddings

    embedder = MiniLMEmbeddings()
    embedder.encode(["warm up"])  # graph build and weight load are not ingestion
    return embedder


def _hits(results: list[tuple[str, int]], case: dict) -> tuple[bool, bool]:
    sources = set(case["sources"])
    pages = {(s, p) for s in case["sources"] for p in case.get("pages", [])}
    return (
        any(src in sources for src, _ in results),
        any(hit in pages for hit in results),
    )


def _score(search, cases: list[dict]) -> dict[str, float]:
    source = page = 0
    for case in cases:
        s, p = _hits(search(case["question"]), case)
        source, page = source + s, page + p
    n = max(len(cases), 1)
    return {"hit_source": source / n, "hit_page": page / n, "questions": len(cases)}


def run_naive(files: list[Path], data_dir: Path, cases: list[dict]) -> dict:
    """The tutorial pipeline; returns its measurements."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # langchain-community sunset
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embedder = _warm_embedder()
    started = time.perf_counter()
    pages = []
    for path in files:
        pages.extend(PyPDFLoader(str(path)).load())
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(pages)
    db = Chroma.from_documents(
        chunks,
        embedding=embedder,
        persist_directory=str(data_dir / "chroma"),
        collection_name="naive",
    )
    seconds = time.perf_counter() - started
    rss = peak_rss_mb()

    def search(question: str) -> list[tuple[str, int]]:
        docs = db.similarity_search(question, k=5)
        return [(Path(d.metadata["source"]).name, int(d.metadata["page"]) + 1) for d in docs]

    return {"pages": len(pages), "chunks": len(chunks), "seconds": seconds, "rss_mb": rss,
            **_score(search, cases)}  # fmt: skip


def _open_store(data_dir: Path, embedder):
    from rag.config import Settings
    from rag.index.store import DocumentStore

    settings = Settings(data_dir=data_dir, backend="embedded")
    return DocumentStore(settings, lambda name: embedder, DEFAULT_EMBEDDER)


def run_groundwork(files: list[Path], data_dir: Path, cases: list[dict]) -> dict:
    """Groundwork's ingestion; returns its measurements."""
    from rag.index.indexing import ingest_files
    from rag.index.retrieve import HybridSearch

    embedder = _warm_embedder()
    with _open_store(data_dir, embedder) as store:
        started = time.perf_counter()
        reports = ingest_files(store, [(p.name, p.read_bytes()) for p in files])
        seconds = time.perf_counter() - started
        rss = peak_rss_mb()
        failed = [r.error for r in reports if not r.ok]
        hybrid = HybridSearch(store)

        def search(question: str) -> list[tuple[str, int]]:
            return [(p.source, p.page) for p in hybrid.search(question, 5)]

        return {"pages": sum(r.pages for r in reports), "chunks": sum(r.chunks for r in reports),
                "seconds": seconds, "rss_mb": rss, "failed": failed,
                **_score(search, cases)}  # fmt: skip


def worker(pipeline: str, corpus: Path, evals: Path) -> None:
    """Run one pipeline in this process and print its measurements as one JSON line."""
    files = sorted(corpus.glob("*.pdf"))
    cases = [json.loads(line) for line in evals.read_text().splitlines() if line.strip()]
    cases = [c for c in cases if c.get("answerable", True) and c.get("sources")]
    with tempfile.TemporaryDirectory(prefix=f"bench-{pipeline}-") as tmp:
        run = run_naive if pipeline == "naive" else run_groundwork
        result = run(files, Path(tmp), cases)
    print(json.dumps(result))


def spawn(pipeline: str, corpus: Path, evals: Path) -> dict:
    """Run one pipeline in a child process; return its JSON result."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        pipeline,
        "--corpus",
        str(corpus),
        "--evals",
        str(evals),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"{pipeline} run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(corpus: Path, evals: Path, repeat: int) -> None:
    """Run both pipelines ``repeat`` times and print the table."""
    pdfs = sorted(corpus.glob("*.pdf"))
    size = sum(p.stat().st_size for p in pdfs) / 1e6
    print(f"corpus: {corpus} ({len(pdfs)} PDFs, {size:.1f} MB)")
    print(f"load average before: {load_average()}")
    runs: dict[str, list[dict]] = {p: [] for p in PIPELINES}
    for i in range(repeat):
        for pipeline in PIPELINES if i % 2 == 0 else PIPELINES[::-1]:  # alternate who goes first
            result = spawn(pipeline, corpus, evals)
            runs[pipeline].append(result)
            print(
                f"  run {i + 1} {pipeline:>10}: {result['seconds']:6.1f} s, "
                f"{result['pages'] / result['seconds']:5.2f} pages/s, load {load_average()}",
                flush=True,
            )
    table = {}
    for pipeline, results in runs.items():
        table[pipeline] = {
            "pages": results[0]["pages"],
            "chunks": results[0]["chunks"],
            "seconds": statistics.median(r["seconds"] for r in results),
            "pages_s": statistics.median(r["pages"] / r["seconds"] for r in results),
            "chunks_s": statistics.median(r["chunks"] / r["seconds"] for r in results),
            "rss_mb": statistics.median(r["rss_mb"] for r in results),
            "hit_source": results[0]["hit_source"],
            "hit_page": results[0]["hit_page"],
            "questions": results[0]["questions"],
        }
        for failure in results[0].get("failed", []):
            print(f"  {pipeline} failed: {failure}")
    header = f"{'pipeline':<11}{'pages':>6}{'chunks':>7}{'wall s':>8}{'pages/s':>9}{'chunks/s':>9}"
    header += f"{'peak MB':>9}{'hit@5 src':>10}{'hit@5 page':>11}"
    print(f"\nmedians of {repeat} run(s); hit@5 over {table['naive']['questions']} questions")
    print(header)
    for pipeline, t in table.items():
        print(
            f"{pipeline:<11}{t['pages']:>6}{t['chunks']:>7}{t['seconds']:>8.1f}{t['pages_s']:>9.2f}"
            f"{t['chunks_s']:>9.2f}{t['rss_mb']:>9.0f}{t['hit_source']:>10.0%}{t['hit_page']:>11.0%}"
        )
    naive, ours = table["naive"], table["groundwork"]
    print(f"groundwork/naive throughput (pages/s): {ours['pages_s'] / naive['pages_s']:.2f}x")
    print(f"load average after: {load_average()}")


def outcomes(folder: Path) -> None:
    """Ingest every file under ``folder`` through Groundwork and count each outcome."""
    from rag.index.indexing import ingest_files

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    print(f"folder: {folder} ({len(files)} files)")
    print(f"load average before: {load_average()}")
    embedder = _warm_embedder()
    with (
        tempfile.TemporaryDirectory(prefix="bench-outcomes-") as tmp,
        _open_store(Path(tmp), embedder) as store,
    ):
        started = time.perf_counter()
        reports = ingest_files(store, [(str(p.relative_to(folder)), p.read_bytes()) for p in files])
        seconds = time.perf_counter() - started
        stored = store.count()
    statuses = Counter(r.status for r in reports)
    reasons = Counter(r.error.partition(": ")[2] for r in reports if r.status == "failed")
    peak = peak_rss_mb()
    print(f"{len(reports)} files in {seconds:.1f} s; {stored} chunks stored; peak {peak:.0f} MB")
    for status, n in statuses.most_common():
        print(f"  {status:<10}{n:>5}")
    for reason, n in reasons.most_common():
        print(f"    failed {n:>3}x: {reason}")
    for r in reports:
        if r.status in ("failed", "duplicate", "updated"):
            print(f"      {r.status:<9} {r.filename}: {r.error or '; '.join(r.warnings)}")
    warned = [r for r in reports if r.ok and r.warnings and r.status != "duplicate"]
    print(f"  ingested with warnings: {len(warned)}")
    print(f"load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="examples:\n  python -m bench ingest --repeat 3\n"
        "  python -m bench ingest --outcomes ../shared/corpora/18f-handbook",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of PDFs")
    parser.add_argument("--evals", type=Path, default=DEFAULT_EVALS, help="golden set (JSONL)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per pipeline (median kept)")
    parser.add_argument("--outcomes", type=Path, help="ingest every file under this folder instead")
    parser.add_argument("--worker", choices=PIPELINES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    folder = args.outcomes or args.corpus
    if not folder.is_dir():
        print(f"error: corpus folder {folder} does not exist; pass --corpus or --outcomes DIR.",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    if args.worker:
        worker(args.worker, args.corpus, args.evals)
    elif args.outcomes:
        outcomes(args.outcomes)
    else:
        if not args.evals.is_file():
            print(f"error: golden set {args.evals} does not exist; pass --evals.", file=sys.stderr)
            sys.exit(2)
        compare(args.corpus, args.evals, max(1, args.repeat))


if __name__ == "__main__":
    main()
