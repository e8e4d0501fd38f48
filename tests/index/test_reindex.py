"""Re-indexing moves a store between embedders without losing a document."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.config import Settings
from rag.errors import BackendUnavailable
from rag.index import ingest_file
from rag.index.chroma import rebuild_name
from rag.index.reindex import reindex
from rag.index.retrieve import HybridSearch
from rag.index.store import DocumentStore
from rag.models import DEFAULT_EMBEDDER
from rag.models.backends import make_embeddings
from tests.conftest import close_page_store

DOC = b"# Parking\n\nVisitors park in bay C and sign in at reception.\n"
MINILM = DEFAULT_EMBEDDER


@pytest.fixture
def ollama_built_store(tmp_path, fake_ollama):
    """A store built with Ollama embeddings, whose Ollama has since gone away."""
    settings = Settings(data_dir=tmp_path / "data", ollama_host=fake_ollama.url)
    with DocumentStore(
        settings, lambda n: make_embeddings(settings, n), "ollama/nomic-embed-text"
    ) as store:
        ingest_file(store, "parking.md", DOC)
        before = store.index_version
    fake_ollama.close()
    return settings, before


def test_reindex_moves_the_store_to_the_embedded_embedder(ollama_built_store, minilm):
    settings, before = ollama_built_store
    with pytest.raises(BackendUnavailable, match="reindex"):
        DocumentStore(settings, lambda n: make_embeddings(settings, n), MINILM)

    assert reindex(settings, MINILM, lambda n: minilm) >= 1

    with DocumentStore(settings, lambda n: minilm, "ollama/nomic-embed-text") as store:
        assert store.embedder == MINILM
        assert store.index_version == before + 1
        hits = HybridSearch(store).search("where do visitors park?")
        assert hits[0].source == "parking.md" and "bay C" in hits[0].text


def test_a_swap_interrupted_after_the_copy_is_finished_on_open(ollama_built_store, minilm):
    settings, _ = ollama_built_store
    reindex(settings, MINILM, lambda n: minilm)
    # Simulate a crash between dropping the old index and renaming the rebuilt one.
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.chroma_dir))
    client.get_collection(settings.collection).modify(name=rebuild_name(settings.collection))
    client.close()
    with DocumentStore(settings, lambda n: minilm, MINILM) as store:
        assert store.embedder == MINILM and store.count() >= 1


def test_the_app_offers_the_reindex(ollama_built_store, monkeypatch):
    import streamlit as st

    settings, _ = ollama_built_store
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OLLAMA_HOST", settings.ollama_host)
    monkeypatch.setenv("GROUNDWORK_BACKEND", "embedded")
    st.cache_resource.clear()
    try:
        page = str(Path(__file__).resolve().parents[2] / "pages" / "documents.py")
        at = AppTest.from_file(page, default_timeout=120).run()
        assert "not reachable" in at.error[0].value
        [button] = [b for b in at.button if b.label == "Re-index with the embedded embedder"]
        button.click().run()
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        assert "parking.md" in str(at.dataframe[0].value)
    finally:
        close_page_store()
        st.cache_resource.clear()
