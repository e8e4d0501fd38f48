"""Collections in the store: every chunk labelled, retrieval filtered inside the store on the
vector and the lexical path, moves relabel, and older stores are labelled on open."""

from __future__ import annotations

import pytest

from rag.index import ingest_file, update_metadata
from rag.index.collections import (
    collection_sizes,
    delete_collection,
    list_collections,
    set_readers,
)
from rag.index.retrieve import HybridSearch

PUBLIC = b"# Canteen\n\nThe canteen opens at eight and serves lunch until two.\n"
SECRET = (
    b"# Salary bands\n\nThe salary band for grade seven is 61,000 to 74,000 euros. Salary "
    b"bands are reviewed each March by the remuneration committee.\n"
)
QUESTION = "What is the salary band for grade seven?"


@pytest.fixture
def two_collections(store):
    assert ingest_file(store, "canteen.md", PUBLIC, {"collection": "general"}).ok
    assert ingest_file(store, "salaries.md", SECRET, {"collection": "hr"}).ok
    return store


def test_a_new_collection_is_private_until_opened_and_general_is_everyones(two_collections):
    readers = list_collections(two_collections.db)
    assert readers == {"general": ["*"], "hr": []}
    assert collection_sizes(two_collections.db) == {"general": 1, "hr": 1}
    assert set_readers(two_collections.db, "hr", " hr-team, hr-team ,@x.org") == [
        "hr-team",
        "@x.org",
    ]
    assert list_collections(two_collections.db)["hr"] == ["hr-team", "@x.org"]


def test_every_chunk_carries_its_collection(two_collections):
    labels = {c.metadata["source"]: c.metadata["collection"] for c in two_collections.chunks()}
    assert labels == {"canteen.md": "general", "salaries.md": "hr"}


def test_a_scoped_search_never_returns_another_collections_passage(two_collections):
    search = HybridSearch(two_collections)
    assert search.search(QUESTION)[0].source == "salaries.md"  # it matches best, unscoped
    scoped = search.search(QUESTION, collections=frozenset({"general"}))
    assert scoped and {p.source for p in scoped} == {"canteen.md"}
    rankings = search.rankings(QUESTION, frozenset({"general"}))
    assert all(rankings.passages[c].source == "canteen.md" for c in rankings.lexical)
    assert search.search(QUESTION, collections=frozenset()) == []


def test_the_vector_filter_is_applied_inside_the_store(two_collections):
    vector = two_collections.embeddings.embed_query(QUESTION)
    hits = two_collections.search_by_vector(vector, 5, collections=frozenset({"general"}))
    assert [p.source for p in hits] == ["canteen.md"]  # k=5, yet only what general holds
    assert two_collections.search_by_vector(vector, 5, collections=frozenset()) == []


def test_the_lexical_path_alone_is_filtered_too(two_collections):
    search = HybridSearch(two_collections)
    hits = search.lexical.search("salary band grade seven", 5, collections=frozenset({"general"}))
    assert hits == [] or all("salaries" not in cid for cid, _ in hits)
    assert search.lexical.search("salary band grade seven", 5)  # unscoped it is found


def test_moving_a_document_relabels_its_chunks_and_changes_who_finds_it(two_collections):
    store = two_collections
    search = HybridSearch(store)
    doc_id = next(d["doc_id"] for d in store.documents() if d["filename"] == "salaries.md")
    update_metadata(store, doc_id, collection="general")
    assert {c.metadata["collection"] for c in store.chunks()} == {"general"}
    assert search.search(QUESTION, collections=frozenset({"general"}))[0].source == "salaries.md"
    update_metadata(store, doc_id, collection="board")
    assert "board" in list_collections(store.db) and list_collections(store.db)["board"] == []
    found = search.search(QUESTION, collections=frozenset({"general"}))
    assert all(p.source != "salaries.md" for p in found)
    assert not delete_collection(store.db, "board")  # it still holds a document
    assert not delete_collection(store.db, "general")


def test_an_interrupted_move_hides_the_document_rather_than_showing_it(two_collections):
    store = two_collections
    doc = next(d for d in store.documents() if d["filename"] == "salaries.md")
    store.set_chunk_collection(doc["doc_id"], doc["version"], "general")  # registry still: hr
    found = HybridSearch(store).search(QUESTION, collections=frozenset({"general"}))
    assert all(p.source != "salaries.md" for p in found)


def test_a_store_from_before_partitions_is_partitioned_when_it_opens(open_store, settings):
    """An older store kept every chunk in one Chroma collection, unlabelled."""
    store = open_store(settings)
    assert ingest_file(store, "salaries.md", SECRET, {"collection": "hr"}).ok
    assert ingest_file(store, "canteen.md", PUBLIC).ok
    hr = store.partitions.for_collection("hr")
    got = hr.get(include=["embeddings", "documents", "metadatas"])
    old = [{k: v for k, v in m.items() if k != "collection"} for m in got["metadatas"]]
    store.partitions.for_collection("general").add(ids=got["ids"], embeddings=got["embeddings"],
                         documents=got["documents"], metadatas=old)  # fmt: skip
    store.client.delete_collection(hr.name)
    store.db.execute("delete from registry_meta where key = 'chunk_partitions'")
    store.close()
    reopened = open_store(settings)
    hr = reopened.partitions.for_collection("hr")
    assert sorted(hr.get()["ids"]) == sorted(got["ids"])
    assert not set(got["ids"]) & set(reopened.partitions.for_collection("general").get()["ids"])
    assert {c.metadata["collection"] for c in reopened.chunks()} == {"hr", "general"}
    vector = reopened.embeddings.embed_query(QUESTION)
    hits = reopened.search_by_vector(vector, 5, collections=frozenset({"general"}))
    assert [p.source for p in hits] == ["canteen.md"]


def test_each_collection_is_a_partition_of_its_own(two_collections):
    store = two_collections
    names = store.partitions.names()
    assert names[0] == store.settings.collection and len(names) == 2
    assert store.count() == sum(p.count() for p in store.partitions.all())
    general = store.partitions.readable(frozenset({"general"}))
    assert [p.name for p in general] == [store.settings.collection]
    assert store.partitions.readable(frozenset({"nobody-has-this"})) == []


def test_upgrading_keeps_every_existing_tag_readable_by_everyone(two_collections):
    """A registry from before collections: tags were free text and everyone read everything."""
    from rag.index import registry

    db = two_collections.db
    db.execute("drop table collections")
    db.execute("delete from _sqlite_migrations where name = 'm005_collections'")
    db.execute("update documents set collection = '' where filename = 'canteen.md'")
    db.execute("update documents set collection = 'legal' where filename = 'salaries.md'")
    registry.ensure_schema(db)
    assert list_collections(db) == {"general": ["*"], "legal": ["*"]}
    assert collection_sizes(db) == {"general": 1, "legal": 1}


def test_a_reindex_swap_cut_short_is_finished_for_every_partition(open_store, settings, minilm):
    """A crash after the first partition was swapped: the others are swapped when the store
    opens, so no partition keeps vectors of the old embedder."""
    from rag.index import reindex
    from rag.index.chroma import create_collection, rebuild_name

    store = open_store(settings)
    assert ingest_file(store, "salaries.md", SECRET, {"collection": "hr"}).ok
    assert ingest_file(store, "canteen.md", PUBLIC).ok
    base, hr = store.partitions.names()
    store.close()
    assert reindex(settings, "embedded/all-MiniLM-L6-v2", lambda name: minilm) == 2
    reopened = open_store(settings)
    client = reopened.client
    for name in (base, hr):  # as if a re-index had copied both partitions …
        got = client.get_collection(name).get(include=["embeddings", "documents", "metadatas"])
        copy = create_collection(client, rebuild_name(name), "embedded/other-model")
        copy.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                 metadatas=got["metadatas"])  # fmt: skip
    client.delete_collection(hr)  # … and swapped hr's in half-way
    reopened.close()
    final = open_store(settings)
    names = {c.name for c in final.client.list_collections()}
    assert names == {base, hr}
    embedders = {final.client.get_collection(n).metadata["embedder"] for n in names}
    assert embedders == {"embedded/other-model"}
