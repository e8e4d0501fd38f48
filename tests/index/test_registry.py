"""The registry's version ledger on a real SQLite file: numbers never reused, states, purges."""

from __future__ import annotations

import pytest

from rag.index import registry
from rag.ops.database import open_db, write_transaction


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "app.db")
    registry.ensure_schema(database)
    yield database
    database.close()


def _serve(db, doc_id: str, version: int) -> bool:
    row = {"doc_id": doc_id, "filename": "a.md", "version": version, "chunks": 1}
    with write_transaction(db):
        return registry.switch_version(db, row)


def test_versions_are_never_reused_and_the_newest_wins(db):
    first = registry.allocate_version(db, "a")
    assert _serve(db, "a", first)
    slow, fast = registry.allocate_version(db, "a"), registry.allocate_version(db, "a")
    assert (first, slow, fast) == (1, 2, 3)
    assert _serve(db, "a", fast)
    assert not _serve(db, "a", slow)  # finished later, but an older attempt: not served
    assert registry.get_document(db, "a")["version"] == fast
    stale = registry.stale_versions(db)
    assert sorted(stale) == [("a", 1, True), ("a", 2, False)]
    for doc_id, version, _ in stale:
        registry.mark_purged(db, doc_id, version)
    assert registry.stale_versions(db) == []
    with write_transaction(db):
        registry.retire_document(db, "a")
    assert registry.allocate_version(db, "a") == 4  # after a delete too


def test_a_writing_attempt_is_abandoned_only_before_the_cutoff(db):
    version = registry.allocate_version(db, "a")
    assert registry.stale_versions(db, writing_before="2000-01-01T00:00:00+00:00") == []
    assert registry.stale_versions(db, writing_before="2999-01-01T00:00:00+00:00") == [
        ("a", version, False)
    ]
