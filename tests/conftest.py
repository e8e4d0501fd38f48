"""Shared fixtures: a network guard, isolated settings, and small sample files."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from rag.config import Settings
from rag.models import DEFAULT_EMBEDDER

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
    import os

    for name in list(os.environ):
        if name.startswith(("GROUNDWORK_", "LANGSMITH_", "LANGCHAIN_")) or name in (
            "OLLAMA_HOST",
            "CHROMA_URL",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings with all state under a temp dir and the embedded backend."""
    return Settings(data_dir=tmp_path / "data", backend="embedded")


# Loopback servers speaking the Ollama and LangSmith protocols.
from tests.servers.fixtures import fake_ollama, langsmith_capture  # noqa: E402, F401


@pytest.fixture(scope="session")
def minilm():
    """The real embedded embedder, loaded once for the whole run."""
    from rag.models.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture
def open_store(minilm):
    """Open a real Chroma store for some settings; every store is closed at teardown."""
    from rag.index.store import DocumentStore

    opened = []

    def _open(settings: Settings, **kwargs):
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
def page_data_dir(tmp_path, monkeypatch):
    """Point the app's pages at a temp data dir, with Streamlit's resource cache cleared.

    For pages that open no document store (feedback, insights, evaluation); the Ask and
    Documents page tests also close the store the page opened.
    """
    import streamlit as st

    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GROUNDWORK_BACKEND", "embedded")
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
