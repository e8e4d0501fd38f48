"""Fixtures shared by the operations tests: a fresh database and a set of known ratings."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.ops.database import open_db
from rag.ops.feedback import mark_reviewed, record_feedback


@pytest.fixture
def db(tmp_path):
    """A fresh database under the test's folder."""
    database = open_db(tmp_path / "app.db")
    yield database
    database.close()


@pytest.fixture
def rated(db, monkeypatch):
    """Five ratings with known attributes, given on known days."""
    import rag.ops.feedback as feedback
    from tests.ops.test_runlog import make_run  # here: test_runlog imports this module

    specs = [  # (id tag, day, score, reason, prompt, model, user, sources)
        ("a", "2026-03-01", 1, None, "v1", "m-small", "ana", ["handbook.pdf"]),
        ("b", "2026-03-02", 0, "incorrect", "v1", "m-small", "ben", ["handbook.pdf"]),
        ("c", "2026-03-03", 0, "incomplete", "v2", "m-big", "ana", ["vpn.md"]),
        ("d", "2026-03-04", 0, "out of date", "v2", "m-big", "cy", []),
        ("e", "2026-03-05", 1, None, "v2", "m-small", "cy", ["policy.docx"]),
    ]
    ids = {}
    for tag, day, score, reason, prompt, model, user, sources in specs:
        monkeypatch.setattr(feedback, "utc_now", lambda d=day: f"{d}T12:00:00.000000+00:00")
        run = make_run(run_id=f"run-{tag}", prompt_version=prompt, model=model,
                       cited_sources=sources, question=f"question {tag}",
                       passages=[{"chunk_id": "x", "source": "retrieved-only.pdf", "page": 1,
                                  "score": 0.2}] if tag == "d" else [])  # fmt: skip
        ids[tag] = record_feedback(db, run, score, reason, None, user)
    mark_reviewed(db, ids["b"], "known issue", "lead")
    return ids


def run_in_processes(target: Callable[[Path, int], None], path: Path, workers: int = 8) -> None:
    """Run ``target(path, worker)`` in ``workers`` spawned processes; each must exit cleanly.

    The children get an empty ``__main__`` to import: after an AppTest in the same session,
    ``__main__`` is the last page it ran, and a spawned child would run that page again.
    """
    import sys
    import types

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=(path, w)) for w in range(workers)]
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for p in procs:
            p.start()
    finally:
        sys.modules["__main__"] = main
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * workers
