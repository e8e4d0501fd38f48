"""kill -9 during a real ingest, at several points: after restart exactly one complete version
of the document is served, no chunk of the dead attempt remains, and its original is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag.index import ingest_file, read_document, registry

# Under the exclusive lock no other writer can be alive, so a restart purges a dead attempt at
# once; replicas sharing a server wait ABANDONED_AFTER before doing so.
pytestmark = pytest.mark.embedded_store("a restart purges a killed writer's attempt at once")

ROOT = Path(__file__).resolve().parents[2]


def _policy(days: int, paragraphs: int) -> bytes:
    body = "\n\n".join(
        f"## Rule {i}\n\nStaff may work remotely up to {days} days per week under rule {i}, "
        f"with the approval of their manager and the agreement of team {i}."
        for i in range(paragraphs)
    )
    return f"# Remote work\n\n{body}\n".encode()


OLD, NEW, LATER = _policy(3, 12), _policy(4, 8), _policy(5, 3)

# The child ingests NEW and stops dead at one point: the hook prints a marker and sleeps.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from rag.index import indexing, registry, store as store_module
    from rag.config import Settings
    from rag.models import DEFAULT_EMBEDDER, MiniLMEmbeddings
    from rag.index.store import DocumentStore

    point, data_dir, source = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def stop_here():
        print("AT", point, flush=True)
        time.sleep(600)

    def pause_before(module, name, when=lambda *a, **k: True):
        real = getattr(module, name)
        def hooked(*args, **kwargs):
            if when(*args, **kwargs):
                stop_here()
            return real(*args, **kwargs)
        setattr(module, name, hooked)

    store_module.UPSERT_BATCH = store_module.ADD_BATCH = 2  # many writes, to stop between them
    calls = []
    if point == "mid-chunks":
        third = lambda *a, **k: calls.append(1) or len(calls) == 3
        pause_before(DocumentStore, "add_embedded", third)
    elif point == "mid-original":
        pause_before(os, "replace", lambda src, dst: str(src).endswith(".partial"))
    elif point == "before-switch":
        pause_before(registry, "switch_version")
    elif point == "mid-switch":  # inside the transaction: the documents row is written already
        pause_before(registry, "bump_index_version")
    elif point == "after-switch":
        pause_before(DocumentStore, "purge_stale", lambda *a, **k: "doc_id" in k)
    settings = Settings(data_dir=data_dir, backend="embedded")
    embeddings = MiniLMEmbeddings()
    with DocumentStore(settings, lambda name: embeddings, DEFAULT_EMBEDDER) as store:
        report = indexing.ingest_file(store, "remote.md", source.read_bytes())
    print("DONE", report.status, flush=True)
    """
)

POINTS = {  # where the process dies -> which content is served after restart
    "mid-chunks": OLD,
    "mid-original": OLD,
    "before-switch": OLD,
    "mid-switch": OLD,
    "after-switch": NEW,
}


def _kill_ingest_at(point: str, data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "new.md"
    source.write_bytes(NEW)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, point, str(data_dir), str(source)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    deadline, seen = time.monotonic() + 120, []
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("AT "):
                os.kill(child.pid, signal.SIGKILL)
                child.wait(30)
                return
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    pytest.fail(f"the ingest never reached {point}:\n{''.join(seen)[-3000:]}")


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_during_ingest_leaves_one_complete_version(point, settings, open_store, tmp_path):
    first = open_store(settings)
    assert ingest_file(first, "remote.md", OLD).status == "ingested"
    first.close()

    _kill_ingest_at(point, settings.data_dir, tmp_path)

    store = open_store(settings)  # the restart: the dead attempt is purged here
    docs = store.documents()
    assert len(docs) == 1
    doc = docs[0]
    expected = POINTS[point]
    assert doc["content_hash"] == registry.content_hash(expected)
    _, _, drafts = read_document("remote.md", expected, settings)
    served = store.chunks()
    assert len(served) == doc["chunks"] == len(drafts)
    assert store.count() == len(served)  # nothing of the other version is left in the index
    assert {c.metadata["version"] for c in served} == {doc["version"]}
    days = "4 days" if expected is NEW else "3 days"
    assert all(days in c.text for c in served if "Rule" in c.text)
    original = store.originals_dir(doc["doc_id"]) / f"v{doc['version']}" / "remote.md"
    assert original.read_bytes() == expected
    assert not list(store.originals_dir(doc["doc_id"]).rglob("*.partial"))

    later = ingest_file(store, "remote.md", LATER)  # and the next upload starts clean
    assert later.status == "updated" and later.version > doc["version"]
    assert store.count() == later.chunks == len(store.chunks())
