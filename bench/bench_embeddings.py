"""Time the embedded MiniLM embedder: ONNX engine against the NumPy reference.

    .venv/bin/python bench/bench_embeddings.py [--chunks 64] [--repeat 3] [--queries 30]

Embeds a batch of 256-token chunks (cut from the shipped sample policies) and reports chunks/s,
then the latency of one short query; medians over the repeats, per engine, and the ratio.
The first call of each engine (weight loading, graph build) is timed separately and excluded.
Prints the load average too: on a shared machine it explains more spread than anything else.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.models.embeddings import MAX_TOKENS, MiniLMEmbeddings, onnx_available  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "rag" / "samples"
QUERY = "How many days of annual leave do new employees get?"


def make_chunks(embedder: MiniLMEmbeddings, count: int) -> list[str]:
    """Cut ``count`` chunks of exactly 256 tokens from the sample documents, cycling them."""
    words = " ".join(p.read_text() for p in sorted(SAMPLES.glob("*.md"))).split()
    words = words * (1 + count * 300 // max(len(words), 1))
    chunks, start = [], 0
    while len(chunks) < count:
        chunk = " ".join(words[start : start + 300])  # 300 words > 256 tokens; the tokenizer cuts
        chunks.append(chunk)
        start += 97  # overlapping windows give distinct chunks from a small corpus
    lengths = [len(e.ids) for e in embedder.tokenizer.encode_batch(chunks)]
    assert min(lengths) == MAX_TOKENS, lengths
    return chunks


def load_average() -> str:
    """Return the 1/5/15-minute load average (Linux), or '?' elsewhere."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bench(engine: str, chunks: list[str], repeat: int, queries: int) -> dict[str, float]:
    """Return first-call seconds, median chunks/s and median query ms for one engine."""
    embedder = MiniLMEmbeddings(engine=engine)
    start = time.perf_counter()
    embedder.encode(["warm up"])
    first = time.perf_counter() - start
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        embedder.encode(chunks)
        rates.append(len(chunks) / (time.perf_counter() - start))
    latencies = []
    for _ in range(queries):
        start = time.perf_counter()
        embedder.embed_query(QUERY)
        latencies.append((time.perf_counter() - start) * 1000)
    return {
        "first": first,
        "rate": statistics.median(rates),
        "rate_min": min(rates),
        "rate_max": max(rates),
        "query": statistics.median(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64, help="256-token chunks per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (median kept)")
    parser.add_argument("--queries", type=int, default=30, help="single-query calls timed")
    parser.add_argument("--engines", default="onnx,numpy", help="comma-separated engines")
    args = parser.parse_args()

    engines = [e for e in args.engines.split(",") if e != "onnx" or onnx_available()]
    chunks = make_chunks(MiniLMEmbeddings(engine="numpy"), args.chunks)
    print(f"load average before: {load_average()}")
    results = {}
    for engine in engines:
        r = results[engine] = bench(engine, chunks, args.repeat, args.queries)
        print(
            f"{engine:>6}: {r['rate']:6.2f} chunks/s (min {r['rate_min']:.2f}, max "
            f"{r['rate_max']:.2f}) | query median {r['query']:7.1f} ms | first call "
            f"{r['first']:.2f} s"
        )
    if {"onnx", "numpy"} <= results.keys():
        print(
            f"onnx/numpy: {results['onnx']['rate'] / results['numpy']['rate']:.1f}x chunks/s, "
            f"{results['numpy']['query'] / results['onnx']['query']:.1f}x faster queries"
        )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
