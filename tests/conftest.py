"""Shared fixtures: a network guard, isolated settings, the document store (embedded, or a
`chroma run` server when ``GROUNDWORK_TEST_CHROMA_URL`` is set), and small sample files."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from pathlib import Path

import pytest

from rag.config import Settings
from rag.models import DEFAULT_EMBEDDER
from tests.servers.chroma import TEST_URL_VAR

# Read once at import: `clean_env` removes GROUNDWORK_* variables from every test's environment.
SERVER_URL = os.environ.get(TEST_URL_VAR) or None

# Tests using any of these touch the document store; they carry the `server_store` marker and
# `make test-server` runs them again against a `chroma run` server.
STORE_FIXTURES = frozenset(
    {
        "settings",
        "open_store",
        "store",
        "page_data_dir",
        "store_page_data_dir",
        "server_collections",
    }
)


def pytest_collection_modifyitems(config, items):
    """Mark store-touching tests; in server mode, skip the ones about the embedded store
    itself (marked ``embedded_store(reason)``), which a server store has no equivalent of."""
    for item in items:
        if STORE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server_store)
        if SERVER_URL and (mark := item.get_closest_marker("embedded_store")):
            why = mark.args[0] if mark.args else "about the embedded store"
            item.add_marker(pytest.mark.skip(reason=f"embedded store only: {why}"))


def pytest_report_header(config):
    """Say which store the run uses."""
    return f"document store: {'chroma server at ' + SERVER_URL if SERVER_URL else 'embedded'}"


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if not _is_local(address):
            raise OSError(f"test tried to reach {address!r}: tests never leave this machine")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse any connection that leaves the machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Keep the developer's own configuration out of tests."""
    for name in list(os.environ):
        if name.startswith(("GROUNDWORK_", "LANGSMITH_", "LANGCHAIN_")) or name in (
            "OLLAMA_HOST",
            "CHROMA_URL",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    # No app under test starts the evaluation watcher's thread (tests/evaluation/test_drift.py
    # runs the watcher itself, with the setting on).
    monkeypatch.setenv("GROUNDWORK_EVAL_ON_CHANGE", "false")


class ServerCollections:
    """One test's collections on the shared test server: unique names, dropped at teardown.

    Each (data dir, collection) the test uses gets its own name, so tests never see each
    other's chunks and two stores under different data dirs stay apart, as they would on disk.
    """

    def __init__(self, url: str):
        self.url = url
        self.prefix = f"t{uuid.uuid4().hex[:12]}"
        self._names: dict[tuple[Path, str], str] = {}

    def name_for(self, data_dir: Path, collection: str = "groundwork") -> str:
        """The server collection standing in for ``collection`` under ``data_dir``."""
        key = (Path(data_dir).resolve(), collection)
        if key not in self._names:
            self._names[key] = f"{self.prefix}-{len(self._names)}"
        return self._names[key]

    def adopt(self, settings: Settings) -> Settings:
        """``settings`` pointed at the server (unless the test chose a server itself)."""
        if settings.chroma_url:
            return settings
        name = self.name_for(settings.data_dir, settings.collection)
        return settings.model_copy(update={"chroma_url": self.url, "collection": name})

    def drop(self) -> None:
        """Delete every collection this test created (re-index copies included)."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        host, port = self.url.removeprefix("http://").split(":")
        client = chromadb.HttpClient(
            host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False)
        )
        for collection in client.list_collections():
            if collection.name.startswith(self.prefix):
                client.delete_collection(collection.name)


@pytest.fixture
def server_collections():
    """This test's collections on the test server, or None when tests use the embedded store."""
    if SERVER_URL is None:
        yield None
        return
    names = ServerCollections(SERVER_URL)
    yield names
    names.drop()


@pytest.fixture
def settings(tmp_path, server_collections) -> Settings:
    """Settings with all state under a temp dir and the embedded backend (and, in server mode,
    this test's own collection on the Chroma server)."""
    own = Settings(data_dir=tmp_path / "data", backend="embedded")
    return server_collections.adopt(own) if server_collections else own


# Loopback servers speaking the Ollama and LangSmith protocols.
from tests.servers.fixtures import fake_ollama, langsmith_capture  # noqa: E402, F401


@pytest.fixture(scope="session")
def minilm():
    """The real embedded embedder, loaded once for the whole run."""
    from rag.models.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture
def open_store(minilm, server_collections):
    """Open a real Chroma store for some settings; every store is closed at teardown.

    In server mode, settings without a ``chroma_url`` are pointed at this test's collection on
    the server.
    """
    from rag.index.store import DocumentStore

    opened = []

    def _open(settings: Settings, **kwargs):
        if server_collections:
            settings = server_collections.adopt(settings)
        store = DocumentStore(settings, lambda name: minilm, DEFAULT_EMBEDDER, **kwargs)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store, settings):
    """A real, empty document store under a temp dir."""
    return open_store(settings)


def make_pdf(pages: list[str], title: str = "") -> bytes:
    """Build a text PDF with one string per page (fpdf2, core font)."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


@pytest.fixture
def spawn_safe_main(monkeypatch):
    """Give spawned worker processes an empty ``__main__`` to import.

    AppTest runs page scripts as ``__main__``; a spawned child would otherwise re-run the last
    page it ran.
    """
    import sys
    import types

    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))


@pytest.fixture
def page_data_dir(tmp_path, monkeypatch, server_collections):
    """Point the app's pages at a temp data dir, with Streamlit's resource cache cleared.

    For pages that open no document store (feedback, insights, evaluation); the Ask and
    Documents page tests also close the store the page opened. In server mode the pages use
    this test's collection on the Chroma server.
    """
    import streamlit as st

    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROUNDWORK_BACKEND", "embedded")
    if server_collections:
        monkeypatch.setenv("CHROMA_URL", server_collections.url)
        monkeypatch.setenv("GROUNDWORK_COLLECTION", server_collections.name_for(tmp_path / "data"))
    st.cache_resource.clear()  # pages.common caches settings and the database per process
    yield tmp_path / "data"
    st.cache_resource.clear()


def run_in_threads(target, workers: int = 8) -> None:
    """Run ``target(worker)`` in ``workers`` threads at once and wait for all of them."""
    import threading

    threads = [threading.Thread(target=target, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def close_page_store() -> None:
    """Release the store a page opened (its lock file and Chroma client), if it opened one."""
    import contextlib

    from pages import common
    from rag.errors import GroundworkError

    with contextlib.suppress(GroundworkError):  # a cache hit when the page opened the store
        common.store().close()


@pytest.fixture
def store_page_data_dir(page_data_dir):
    """``page_data_dir`` for pages that open the document store; closes it at teardown."""
    yield page_data_dir
    close_page_store()
