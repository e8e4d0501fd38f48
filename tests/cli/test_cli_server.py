"""``python -m rag ingest`` while the app is running, through a shared `chroma run` server.

The embedded store refuses a second process (``test_cli.py::test_ingest_into_a_locked_store_
exits_2`` and ``tests/index/test_store.py::test_second_process_is_refused``); with
``CHROMA_URL`` set, the CLI writes through the server and the running app finds the new
document on its next search.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.index import ingest_file
from rag.index.retrieve import HybridSearch
from tests.servers.chroma import ChromaServer

REPO = Path(__file__).resolve().parents[2]

RUNNING = b"# Parking\n\nVisitors park in bay C and sign in at reception.\n"
ADDED = (
    "# Bicycle storage\n\nStaff bicycles are kept in the locked cage behind building 7; "
    "ask facilities for a key card.\n"
)


@pytest.fixture
def chroma_server(tmp_path) -> Iterator[str]:
    """A fresh `chroma run` server on loopback for this test alone."""
    with ChromaServer(tmp_path / "server") as server:
        yield server.url


def _cli_ingest(path: Path, settings: Settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROUNDWORK_", "LANGSMITH_"))}
    env |= {
        "CHROMA_URL": str(settings.chroma_url),
        "GROUNDWORK_COLLECTION": settings.collection,
        "GROUNDWORK_DATA_DIR": str(settings.data_dir),
        "GROUNDWORK_BACKEND": "embedded",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    return subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_ingest_while_the_app_runs_is_found_by_the_app(open_store, tmp_path, chroma_server):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server, backend="embedded")
    store = open_store(settings)  # the running app's store and search, held open throughout
    search = HybridSearch(store)
    assert ingest_file(store, "parking.md", RUNNING).status == "ingested"
    assert {p.source for p in search.search("where are bicycles kept?")} == {"parking.md"}

    added = tmp_path / "bicycles.md"
    added.write_text(ADDED)
    result = _cli_ingest(added, settings)

    assert result.returncode == 0, result.stderr
    assert "bicycles.md" in result.stdout + result.stderr
    hits = search.search("where are staff bicycles kept?")
    assert hits[0].source == "bicycles.md" and "locked cage behind building 7" in hits[0].text
    assert {d["filename"] for d in store.documents()} == {"parking.md", "bicycles.md"}
