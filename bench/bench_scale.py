"""Retrieval at scale: latency, memory and upload-to-searchable time at 10k to 1M chunks.

    .venv/bin/python -m bench scale                               # 10k and 100k chunks
    .venv/bin/python -m bench scale --sizes 10000,100000,1000000  # 1M takes ~20 minutes
    .venv/bin/python -m bench scale --sizes 10000 --queries 50 --uploads 1

Each size runs in its own subprocess (so its memory is its own) against a real embedded Chroma
store and registry in a temporary directory: synthetic ~150-word chunks drawn from a Zipf
vocabulary (with real stopwords at the top ranks) under an identity header, 100 chunks per
document, half the documents in collection ``a`` and half in ``b``, and random 384-d unit
vectors. The embedder is a stub (a hash-seeded random vector per text), so only retrieval is
timed, through the real ``HybridSearch``.

Reported per size: hybrid retrieval p50/p95 (all collections, and scoped to ``a``), lexical-only
(BM25 top 30) and vector-only (Chroma top 30) p50/p95, resident memory after the queries, the
initial lexical build, and the time from one new 50-chunk document being switched on to its
chunks being searchable: the incremental refresh against a full rebuild (the previous
implementation: every chunk read from Chroma, tokenised and indexed by bm25s) and against a
fresh build of the current index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 384
WORDS = 150
VOCAB = 50_000
DOC_CHUNKS = 100
UPLOAD_CHUNKS = 50
WRITE_BATCH = 5_000
STOP = ("the", "of", "and", "to", "a", "in", "is", "for", "that", "on", "with", "as", "by", "be",
        "are", "this", "it", "from", "or", "at", "an")  # fmt: skip
SYLLABLES = [c + v for c in "bdfgklmnprtvz" for v in "aeiou"]


class StubEmbeddings(Embeddings):
    """A random unit vector per text, the same for the same text (no model is timed)."""

    def embed_query(self, text: str) -> list[float]:
        return unit_vectors(1, int(hashlib.sha1(text.encode()).hexdigest()[:8], 16))[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def unit_vectors(n: int, seed: int) -> np.ndarray:
    """``n`` random unit vectors of ``DIM`` dimensions."""
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class Corpus:
    """Zipf-distributed pseudo-words (stopwords first), made into chunks and queries."""

    def __init__(self, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        words: list[str] = list(STOP)
        seen = set(words)
        while len(words) < VOCAB:  # consonant-vowel words: no suffix the stemmer strips
            w = "".join(self.rng.choice(SYLLABLES, int(self.rng.integers(2, 5))))
            if w not in seen:
                seen.add(w)
                words.append(w)
        self.words = np.array(words)
        ranks = np.arange(1, VOCAB + 1, dtype=np.float64)
        self.p = 1.0 / ranks
        self.p /= self.p.sum()

    def texts(self, n: int, words: int = WORDS) -> list[str]:
        drawn = self.words[self.rng.choice(VOCAB, size=(n, words), p=self.p)]
        return [" ".join(row) for row in drawn]

    def queries(self, n: int) -> list[str]:
        """Questions of 4-7 content words, as a chunk would use them."""
        out = []
        for text in self.texts(n, 40):
            content = [w for w in text.split() if w not in STOP]
            out.append(" ".join(content[: int(self.rng.integers(4, 8))]))
        return out


def register(store, doc_id: str, name: str, chunks: int, collection: str) -> None:
    """Serve version 1 of a document in the registry, as ingestion's switch does."""
    from rag.index import registry
    from rag.ops.database import write_transaction

    version = registry.allocate_version(store.db, doc_id)
    now = registry.now()
    row = {
        "doc_id": doc_id, "filename": name, "upload_name": name, "kind": "md", "title": name,
        "content_hash": doc_id, "version": version, "pages": 1, "chunks": chunks,
        "size_bytes": 0, "owner": "", "collection": collection, "review_by": "",
        "ingested_at": now, "updated_at": now, "report": "{}", "metadata": "{}",
        "context": "{}", "context_edits": "{}",
    }  # fmt: skip
    with write_transaction(store.db):
        registry.switch_version(store.db, row)


def document_chunks(corpus: Corpus, number: int, chunks: int, collection: str) -> list:
    """One synthetic document's chunks (identity header + text), version 1."""
    from rag.index.store import StoredChunk

    doc_id = f"doc{number:07d}"
    name = f"{doc_id}.md"
    title = " ".join(corpus.texts(1, 3)[0].split()) + f" {number}"
    head = f"{doc_id}: {title}\n"
    meta = {"doc_id": doc_id, "version": 1, "source": name, "title": title, "context": title,
            "page": 1, "section": "", "start": 0, "end": 0, "text_offset": len(head),
            "collection": collection}  # fmt: skip
    return [
        StoredChunk(f"{doc_id}-v1-{i:05d}", head + text, {**meta, "start": i})
        for i, text in enumerate(corpus.texts(chunks))
    ]


def add_documents(store, corpus: Corpus, first: int, count: int, chunks: int) -> None:
    """Write ``count`` documents to Chroma in large batches, then serve them."""
    pending: list = []
    docs: list[tuple[str, str]] = []
    for number in range(first, first + count):
        collection = "a" if number % 2 == 0 else "b"
        pending.extend(document_chunks(corpus, number, chunks, collection))
        docs.append((f"doc{number:07d}", collection))
        if len(pending) >= WRITE_BATCH or number == first + count - 1:
            store.add_embedded(pending, unit_vectors(len(pending), number).tolist())
            pending = []
    for doc_id, collection in docs:
        register(store, doc_id, f"{doc_id}.md", chunks, collection)


def old_full_rebuild(store) -> None:
    """The previous refresh: every served chunk read, tokenised and indexed by bm25s."""
    import bm25s

    from rag.text.words import tokenize

    chunks = store.chunks()
    profiles: dict[str, str] = {}
    for c in chunks:
        offset = int(c.metadata.get("text_offset", 0))
        profiles.setdefault(str(c.metadata["doc_id"]), c.text[:offset].split(" | ")[0])
        set(tokenize(c.text[offset:]))
    for texts in ([c.text for c in chunks], list(profiles.values())):
        bm25s.BM25().index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def latencies(fn, items) -> tuple[float, float]:
    """p50 and p95 of ``fn(item)`` in milliseconds."""
    ms = sorted(timed(lambda i=i: fn(i)) * 1000 for i in items)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.95 * len(ms)))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(size: int, queries: int, uploads: int) -> dict:
    """Build a store of ``size`` chunks and time retrieval and uploads on it."""
    from rag.config import Settings
    from rag.index.retrieve import HybridSearch
    from rag.index.store import DocumentStore

    corpus = Corpus()
    out: dict = {"size": size}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", backend="embedded")
        stub = StubEmbeddings()
        with DocumentStore(settings, lambda name: stub, "bench-stub-384") as store:
            docs = max(1, size // DOC_CHUNKS)
            out["load_s"] = timed(lambda: add_documents(store, corpus, 0, docs, DOC_CHUNKS))
            hybrid = HybridSearch(store)
            out["build_s"] = timed(lambda: hybrid.lexical.search("warm up", 1))
            asked = corpus.queries(queries)
            vectors = [stub.embed_query(q) for q in asked]
            hybrid.search(asked[0], 5)  # first query opens Chroma's segment readers
            out["hybrid"] = latencies(lambda q: hybrid.search(q, 5), asked)
            scope = frozenset({"a"})
            out["hybrid_scoped"] = latencies(lambda q: hybrid.search(q, 5, scope), asked)
            out["lexical"] = latencies(lambda q: hybrid.lexical.search(q, 30), asked)
            out["vector"] = latencies(lambda v: store.search_by_vector(v, 30), vectors)
            out["rss_mb"] = rss_mb()
            runs = [time_upload(store, hybrid, corpus, docs + n) for n in range(uploads)]
            out["upload"] = [statistics.median(r[i] for r in runs) for i in range(5)]
    return out


def time_upload(store, hybrid, corpus: Corpus, number: int) -> tuple[float, ...]:
    """Serve one new 50-chunk document; time its write (Chroma, registry), the incremental
    refresh that makes it searchable, a fresh build and the previous full rebuild."""
    from rag.index.lexical import LexicalIndex

    new = document_chunks(corpus, number, UPLOAD_CHUNKS, "a")
    meta = new[0].metadata
    probe = " ".join(new[0].text.split()[2:8])
    chroma = timed(lambda: store.add_embedded(new, unit_vectors(len(new), number).tolist()))
    switch = timed(lambda: register(store, meta["doc_id"], meta["source"], len(new), "a"))
    incremental = timed(lambda: hybrid.lexical.search(probe, 5))
    found = {c for c, _ in hybrid.lexical.search(probe, 5)}
    assert found & {c.chunk_id for c in new}, "the upload is not searchable"
    fresh = timed(lambda: LexicalIndex(store).search(probe, 5))
    old = timed(lambda: old_full_rebuild(store))
    return chroma, switch, incremental, fresh, old


def table(results: list[dict]) -> str:
    """The results as a text table."""

    def pair(v):
        return f"{v[0]:.1f} / {v[1]:.1f}"

    head = ("chunks", "hybrid p50/p95 ms", "hybrid [a] p50/p95", "lexical p50/p95",
            "vector p50/p95", "RSS MB", "lexical build s", "upload: Chroma s", "registry s",
            "incremental s", "fresh build s", "old rebuild s", "old/incremental")  # fmt: skip
    rows = [head]
    for r in results:
        chroma, switch, inc, fresh, old = r["upload"]
        rows.append((f"{r['size']:,}", pair(r["hybrid"]), pair(r["hybrid_scoped"]),
                     pair(r["lexical"]), pair(r["vector"]), f"{r['rss_mb']:.0f}",
                     f"{r['build_s']:.1f}", f"{chroma:.2f}", f"{switch:.2f}", f"{inc:.3f}",
                     f"{fresh:.1f}", f"{old:.1f}", f"{old / inc:.0f}x"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="queries timed per size")
    parser.add_argument("--uploads", type=int, default=3, help="uploads timed (median)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's single size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.queries, args.uploads)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"building {size:,} chunks ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, "-m", "bench", "scale", "--one", str(size),
             "--queries", str(args.queries), "--uploads", str(args.uploads)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if child.returncode:
            print(f"{size:,} chunks failed:\n{child.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
