"""The vector store: embedder records, the single-writer lock, and the Chroma server mode."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.errors import EmbedderMismatch, StoreLocked
from rag.index import ingest_file
from rag.index.retrieve import HybridSearch
from rag.models import DEFAULT_EMBEDDER

DOC = b"# Parking\n\nVisitors park in bay C and sign in at reception.\n"


def test_collection_records_its_embedder(open_store, settings, minilm):
    store = open_store(settings)
    assert store.embedder == DEFAULT_EMBEDDER
    store.close()
    with pytest.raises(EmbedderMismatch, match="re-index"):
        open_store(settings, expect_embedder="ollama/nomic-embed-text")
    # The recorded embedder wins over the backend default for an existing store, so starting
    # or stopping Ollama never strands the documents.
    from rag.index.store import DocumentStore

    asked = []
    reopened = DocumentStore(
        settings, lambda name: asked.append(name) or minilm, "ollama/nomic-embed-text"
    )
    assert reopened.embedder == DEFAULT_EMBEDDER
    assert asked == [DEFAULT_EMBEDDER]
    reopened.close()


@pytest.mark.embedded_store("its lock file")
def test_second_process_is_refused(store, settings):
    code = (
        "import sys\n"
        "from rag.config import Settings\n"
        "from rag.index.store import DocumentStore\n"
        "from rag.errors import StoreLocked\n"
        f"s = Settings(data_dir={str(settings.data_dir)!r})\n"
        "try:\n"
        f"    DocumentStore(s, lambda n: None, {DEFAULT_EMBEDDER!r})\n"
        "except StoreLocked as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "open in another Groundwork process" in proc.stdout
    assert "CHROMA_URL" in proc.stdout


@pytest.mark.embedded_store("its lock file")
def test_lock_is_released_on_close(open_store, settings):
    first = open_store(settings)
    with pytest.raises(StoreLocked):
        open_store(settings)
    first.close()
    assert open_store(settings).embedder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on loopback."""
    chroma = Path(sys.executable).parent / "chroma"
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_chroma_server_mode_shares_the_store(open_store, tmp_path, chroma_server):
    from rag.config import Settings

    # Two app instances (separate data dirs for their registries would diverge, so they share
    # one registry database, as replicas share a server and a database).
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server, backend="embedded")
    first = open_store(settings)
    second = open_store(settings)  # no lock in server mode
    assert ingest_file(first, "parking.md", DOC).status == "ingested"
    hits = HybridSearch(second).search("where do visitors park?")
    assert hits and hits[0].source == "parking.md" and "bay C" in hits[0].text


def test_reads_past_sqlite_variable_limit(store):
    """A collection larger than one SQLite query can list is read a page at a time."""
    import numpy as np

    from rag.index import registry
    from rag.index.store import StoredChunk
    from rag.ops.database import write_transaction

    n = 33_000  # SQLite's default limit is 32,766 variables per statement
    vectors = np.random.default_rng(0).normal(size=(n, 384)).astype("float32")
    chunks = [
        StoredChunk(f"big-v1-{i:05d}", f"row {i}", {"doc_id": "big", "version": 1, "source": "b",
                                                     "page": 1, "section": "", "text_offset": 0})
        for i in range(n)
    ]  # fmt: skip
    store.add_embedded(chunks, vectors.tolist())
    with write_transaction(store.db):
        store.db["documents"].insert({"doc_id": "big", "filename": "b", "version": 1})
        registry.bump_index_version(store.db)
    assert len(store.chunks()) == n
