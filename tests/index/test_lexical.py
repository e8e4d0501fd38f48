"""The lexical index: BM25 scores equal bm25s's, an index kept up to date through uploads,
replacements, deletions and moves ranks exactly like a fresh one, and a search limited to some
collections never scores a passage of another."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag.index import delete_document, ingest_file, update_metadata
from rag.index import lexical_bm25 as bm25
from rag.index.lexical import LexicalIndex, split_terms
from rag.index.store import StoredChunk
from rag.text.words import tokenize
from tests.conftest import run_in_threads

SAMPLES = sorted((Path(__file__).parents[2] / "rag" / "samples").glob("*.md"))
QUERIES = [
    "How many days of annual leave do employees get?",
    "travel expenses hotel booking approval",
    "password rotation and multi-factor authentication",
    "security incident reporting",
    "leave leave leave",  # repeated terms count each time, as in bm25s
    "parental leave policy travel security",
    "zebra quantum",  # no term in the index
]


def ingest_samples(store, collection: str = "") -> dict[str, str]:
    """Ingest the bundled sample documents; return doc id by file name."""
    ids = {}
    for path in SAMPLES:
        meta = {"collection": collection} if collection else None
        report = ingest_file(store, path.name, path.read_bytes(), meta)
        assert report.ok, report
        ids[path.name] = report.doc_id
    return ids


def bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    """Scores of every text for ``query`` as bm25s computes them (Lucene variant)."""
    index = bm25s.BM25()
    index.index([tokenize(t) or [bm25.EMPTY] for t in texts], show_progress=False)
    terms = [t for t in tokenize(query) if t in index.vocab_dict]
    return index.get_scores(terms) if terms else np.zeros(len(texts))


def same_rankings(a: LexicalIndex, b: LexicalIndex, collections=None) -> None:
    """Assert two indexes answer every query identically (ids, order and scores)."""
    for query in QUERIES:
        assert a.search(query, 20, collections) == b.search(query, 20, collections), query
        assert a.documents(query, collections) == b.documents(query, collections), query
        terms = tokenize(query)
        assert a.naming_terms(terms) == b.naming_terms(terms)
        assert a.rarity(terms) == b.rarity(terms)
    assert (a.doc_count, a.chunk_count) == (b.doc_count, b.chunk_count)


@pytest.fixture
def samples(store):
    ingest_samples(store)
    return store


@pytest.mark.parametrize("query", QUERIES)
def test_passage_scores_equal_bm25s_on_the_samples(samples, query):
    chunks = samples.chunks()
    expected = bm25s_scores([c.text for c in chunks], query)
    got = dict(LexicalIndex(samples).search(query, len(chunks)))
    want = {c.chunk_id: float(s) for c, s in zip(chunks, expected, strict=True) if s > 0}
    assert got.keys() == want.keys()
    for cid, score in want.items():
        assert got[cid] == pytest.approx(score, rel=1e-5)


def test_profile_scores_equal_bm25s_on_the_samples(samples):
    profiles: dict[str, str] = {}
    for chunk in sorted(samples.chunks(), key=lambda c: c.chunk_id):
        profiles.setdefault(chunk.metadata["doc_id"], split_terms(chunk)[2])
    index = LexicalIndex(samples)
    for query in ["leave policy", "security handbook", "travel"]:
        index.search("", 1)  # build
        naming = " ".join(index.naming_terms(tokenize(query)))
        expected = bm25s_scores(list(profiles.values()), naming)
        got = dict(index.documents(query))
        want = {d: float(s) for d, s in zip(profiles, expected, strict=True) if s > 0}
        assert got.keys() == want.keys()
        assert all(got[d] == pytest.approx(s, rel=1e-5) for d, s in want.items())


def test_updates_rank_exactly_like_a_fresh_build(store):
    ids = ingest_samples(store)
    live = LexicalIndex(store)
    same_rankings(live, LexicalIndex(store))
    extra = "# Expense policy\n\nHotel and travel expenses need approval before booking.\n"
    assert ingest_file(store, "expenses.md", extra.encode()).ok  # add
    same_rankings(live, LexicalIndex(store))
    replaced = SAMPLES[0].read_text() + "\n\nSabbatical leave: six weeks after five years.\n"
    assert ingest_file(store, SAMPLES[0].name, replaced.encode()).ok  # replace
    same_rankings(live, LexicalIndex(store))
    assert any("sabbatical" in store.get_passages([c])[0].text.lower()
               for c, _ in live.search("sabbatical", 3))  # fmt: skip
    assert delete_document(store, ids[SAMPLES[1].name])  # delete
    same_rankings(live, LexicalIndex(store))
    assert live.doc_count == 3 and live.chunk_count == len(store.chunks())


def test_a_released_passage_in_the_same_version_is_indexed(samples):
    live = LexicalIndex(samples)
    assert live.search("ornithopter", 5) == []
    doc = samples.documents()[0]
    chunk = next(c for c in samples.chunks() if c.metadata["doc_id"] == doc["doc_id"])
    released = StoredChunk(chunk.chunk_id + "-r", chunk.text + " ornithopter", chunk.metadata)
    samples.add_chunks([released])
    with samples.db.conn:  # as releasing a held passage does: same version, one more chunk
        samples.db.execute(
            "update documents set chunks = chunks + 1 where doc_id = ?", [doc["doc_id"]]
        )
        samples.db.execute("update registry_meta set value = value + 1 where key = 'index_version'")
    assert [c for c, _ in live.search("ornithopter", 5)] == [released.chunk_id]
    same_rankings(live, LexicalIndex(samples))


def test_a_scoped_search_never_scores_another_collection(store):
    weak = "# Notes\n\n" + "\n\n".join(f"Note {i}: the budget was discussed." for i in range(40))
    strong = "# Budget\n\n" + "Budget budget: the merger budget and the budget forecast. " * 30
    assert ingest_file(store, "notes.md", weak.encode(), {"collection": "a"}).ok
    assert ingest_file(store, "secret-budget.md", strong.encode(), {"collection": "b"}).ok
    index = LexicalIndex(store)
    owner = {c.chunk_id: c.metadata["source"] for c in store.chunks()}
    everyone = index.search("merger budget forecast", 5)
    assert owner[everyone[0][0]] == "secret-budget.md"  # b matches far better
    scoped = index.search("merger budget forecast", 5, frozenset({"a"}))
    assert len(scoped) == min(5, sum(1 for s in owner.values() if s == "notes.md"))
    assert {owner[c] for c, _ in scoped} == {"notes.md"}
    assert index.search("budget", 5, frozenset()) == []
    assert index.documents("secret budget", frozenset({"a"})) == []
    assert index.documents("secret budget", frozenset({"b"}))


def test_a_collection_move_applies_without_re_reading_chunks(store, monkeypatch):
    ids = ingest_samples(store, collection="a")
    live = LexicalIndex(store)
    assert live.search("travel", 5, frozenset({"a"}))
    doc_id = ids["travel-policy.md"]
    update_metadata(store, doc_id, collection="b")
    reads = []
    monkeypatch.setattr(store, "version_chunks", lambda *a: reads.append(a) or [])
    monkeypatch.setattr(store, "chunks", lambda: reads.append("all") or [])
    scoped = live.search("travel", 50, frozenset({"a"}))
    moved = {c.chunk_id for c in store.__class__.chunks(store) if c.metadata["doc_id"] == doc_id}
    assert reads == [] and moved and not moved & {c for c, _ in scoped}
    assert {c for c, _ in live.search("travel", 50, frozenset({"b"}))} <= moved
    monkeypatch.undo()
    same_rankings(live, LexicalIndex(store), frozenset({"a"}))


def test_a_failed_refresh_keeps_the_previous_index(samples, monkeypatch):
    live = LexicalIndex(samples)
    live.search("warm up", 1)
    chunks = live.chunk_count
    assert ingest_file(samples, "drones.md", b"# Drones\n\nDrone flights need a permit.\n").ok

    def broken(*args):
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(samples, "version_chunks", broken)
    with pytest.raises(RuntimeError):
        live.search("drone permit", 5)
    assert (live.doc_count, live.chunk_count) == (3, chunks)  # nothing of it half in
    monkeypatch.undo()
    assert live.search("drone permit", 1)  # the next refresh retries
    same_rankings(live, LexicalIndex(samples))


def test_concurrent_searches_read_a_new_version_once(samples, monkeypatch):
    live = LexicalIndex(samples)
    live.search("warm up", 1)
    assert ingest_file(samples, "drones.md", b"# Drones\n\nDrone flights need a permit.\n").ok
    reads, real = [], samples.version_chunks
    monkeypatch.setattr(samples, "version_chunks", lambda *a: reads.append(a) or real(*a))
    results = [None] * 8

    def ask(worker: int) -> None:
        results[worker] = live.search("drone permit", 3)

    run_in_threads(ask)
    assert len(reads) == 1
    assert all(r == results[0] and r for r in results)


# --- the BM25 index itself, on random corpora (fast enough for many updates) ----------------


def random_items(rng: random.Random, n: int) -> list[list[str]]:
    words = [f"w{i}" for i in range(60)]
    weights = [1 / (i + 1) for i in range(60)]  # Zipf-like
    return [rng.choices(words, weights, k=rng.randint(0, 25)) for _ in range(n)]


def fresh(vocab, live: dict[str, list[str]]) -> bm25.BM25Index:
    index, _ = bm25.BM25Index().added(
        [[vocab.encode(t or [bm25.EMPTY]) for t in live.values()]], [0], [list(live)]
    )
    return index


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_segments_tombstones_and_compaction_rank_like_a_fresh_build(seed, monkeypatch):
    monkeypatch.setattr(bm25, "COMPACT_MIN_DEAD", 8)  # compact often, to test it
    rng = random.Random(seed)
    vocab, index = bm25.Vocabulary(), bm25.BM25Index()
    live: dict[str, list[str]] = {}
    batches: dict[str, bm25.Batch] = {}
    compactions = 0
    for step in range(40):
        if batches and rng.random() < 0.4:
            name = rng.choice(sorted(batches))
            index = index.without([batches.pop(name)])
            live = {k: v for k, v in live.items() if not k.startswith(name + "/")}
        else:
            name = f"g{step}"
            items = random_items(rng, rng.randint(1, 12))
            ids = [f"{name}/{i}" for i in range(len(items))]
            tokens = [vocab.encode(t or [bm25.EMPTY]) for t in items]
            index, (batch,) = index.added([tokens], [0], [ids])
            batches[name] = batch
            live.update(zip(ids, items, strict=True))
        if index.needs_compaction():
            index, renumber = index.compacted()
            batches = {k: bm25.Batch(renumber[b.slots], b.terms, b.counts)
                       for k, b in batches.items()}  # fmt: skip
            compactions += 1
        assert len(index.segments) <= 12  # merged as they pile up
        query = vocab.query(rng.choices([f"w{i}" for i in range(60)], k=3))
        assert index.top(query, 10) == fresh(vocab, live).top(query, 10)
    assert compactions > 0


def test_masked_top_k_fills_k_from_the_allowed_group():
    vocab = bm25.Vocabulary()
    strong = [vocab.encode(["budget"] * 9) for _ in range(5)]
    weak = [vocab.encode(["budget", "note", "misc", "misc"]) for _ in range(5)]
    index, _ = bm25.BM25Index().added(
        [strong, weak], [1, 0], [[f"b{i}" for i in range(5)], [f"a{i}" for i in range(5)]]
    )
    query = vocab.query(["budget"])
    assert [i for i, _ in index.top(query, 3)] == ["b0", "b1", "b2"]
    assert [i for i, _ in index.top(query, 3, np.array([0]))] == ["a0", "a1", "a2"]
    assert index.top(query, 3, np.array([], np.int64)) == []


def test_chunk_ids_of_a_document_follow_replaces_deletes_and_compaction(store, monkeypatch):
    monkeypatch.setattr(bm25, "COMPACT_MIN_DEAD", 1)  # compact at every chance
    ids = ingest_samples(store)
    live = LexicalIndex(store)
    for round_ in range(2):
        text = SAMPLES[0].read_text() + f"\n\nRound {round_}: a new paragraph.\n"
        assert ingest_file(store, SAMPLES[0].name, text.encode()).ok
        live.search("leave", 1)  # refresh
    assert delete_document(store, ids[SAMPLES[1].name])
    assert delete_document(store, ids[SAMPLES[2].name])  # most slots are dead now
    live.search("leave", 1)
    assert len(live._snapshot.passages.ids) == live.chunk_count  # compacted
    for doc in store.documents():
        expected = {c.chunk_id for c in store.version_chunks(doc["doc_id"], doc["version"])}
        assert set(live.chunk_ids([doc["doc_id"]])) == expected
    assert live.chunk_ids([ids[SAMPLES[1].name]]) == []
