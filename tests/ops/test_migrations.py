"""The schema's migrations: a new database gets them all; an old one migrates forward in place."""

from __future__ import annotations

from sqlite_utils import Database

from rag.ops.database import apply_migrations, open_db
from rag.ops.feedback import get_feedback, list_feedback, mark_reviewed
from rag.ops.migrations import MIGRATIONS


def test_open_db_creates_folder_wal_timeout_and_schema(tmp_path):
    db = open_db(tmp_path / "new" / "dir" / "app.db")
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert {"runs", "feedback"} <= set(db.table_names())
    assert not MIGRATIONS.pending(db)
    open_db(tmp_path / "new" / "dir" / "app.db")  # reopening is a no-op


def test_database_from_first_migration_migrates_forward_in_place(tmp_path):
    path = tmp_path / "app.db"
    old = Database(path)
    apply_migrations(old, stop_before="m002_feedback_review")
    assert "reviewed" not in old["feedback"].columns_dict
    old["runs"].insert({"run_id": "r1", "created_at": "2026-01-05T10:00:00+00:00",
                        "question": "Old question?", "passages": "[]"})  # fmt: skip
    old["feedback"].insert({"run_id": "r1", "user": "ana", "score": 0, "reason": "incomplete",
                            "created_at": "2026-01-05T10:01:00+00:00", "question": "Old question?",
                            "passages": "[]", "cited_sources": '["a.pdf"]'})  # fmt: skip
    old.close()

    db = open_db(path)
    assert not MIGRATIONS.pending(db)
    assert [m.name for m in MIGRATIONS.applied(db)][0] == "m001_runs_and_feedback"
    assert {"reviewed", "resolution_note", "support_score"} <= set(db["feedback"].columns_dict)
    assert "extra" in db["runs"].columns_dict
    [row] = list_feedback(db)
    assert row["question"] == "Old question?" and row["reviewed"] == 0
    assert db["runs"].get("r1")["question"] == "Old question?"
    mark_reviewed(db, row["id"], "added to the handbook", "lead")
    assert get_feedback(db, row["id"])["reviewer"] == "lead"
    assert list_feedback(db, document="a.pdf")[0]["id"] == row["id"]
