"""SQLite failures (locked, read-only, damaged, unreachable) surface as DatabaseError."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlite_utils import Database

from rag.errors import DatabaseError, GroundworkError
from rag.ops.database import fetch, open_db, write_transaction

BUSY = "is busy"


@contextmanager
def held_exclusive(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding ``BEGIN EXCLUSIVE`` on the database at ``path``."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the file at ``path`` read-only, even for root (immutable attribute)."""
    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = os.geteuid() == 0
    if immutable:  # root writes through file modes
        chattr = shutil.which("chattr")
        if not chattr or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
            path.chmod(mode)
            pytest.skip("running as root and chattr +i is unavailable here")
    try:
        yield
    finally:
        if immutable:
            subprocess.run([chattr, "-i", str(path)], check=True)
        path.chmod(mode)


def insert_eval_run(db) -> None:
    with write_transaction(db):
        db.conn.execute("INSERT INTO eval_runs (created_at, summary) VALUES ('2026-01-01', '{}')")


def test_write_to_a_locked_database_raises_database_error(tmp_path):
    path = tmp_path / "app.db"
    db = open_db(path, busy_timeout=0.2)
    started = time.monotonic()
    with held_exclusive(path), pytest.raises(DatabaseError) as caught:
        insert_eval_run(db)
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert str(path) in message and BUSY in message and "Try again" in message
    assert isinstance(caught.value, GroundworkError) and caught.value.path == str(path)
    assert not db.conn.in_transaction  # rolled back: the next write works
    insert_eval_run(db)
    assert fetch(db, "SELECT count(*) AS n FROM eval_runs") == [{"n": 1}]
    db.close()


def test_read_of_a_locked_rollback_journal_database_raises_database_error(tmp_path):
    path = tmp_path / "plain.db"
    Database(path)["t"].insert({"x": 1})
    db = Database(sqlite3.connect(path, timeout=0.1))  # not WAL: an exclusive lock stops readers
    with held_exclusive(path), pytest.raises(DatabaseError, match=BUSY) as caught:
        fetch(db, "SELECT * FROM t")
    assert str(path) in str(caught.value)
    assert fetch(db, "SELECT x FROM t") == [{"x": 1}]


def test_open_db_on_a_locked_database_gives_up_after_the_busy_timeout(tmp_path):
    path = tmp_path / "app.db"
    Database(path)["t"].insert({"x": 1})  # made by another program, still in rollback mode
    started = time.monotonic()
    with held_exclusive(path), pytest.raises(DatabaseError, match=BUSY):
        open_db(path, busy_timeout=0.2)
    assert time.monotonic() - started < 5
    assert open_db(path).journal_mode == "wal"  # once released it opens


def test_write_to_a_read_only_database_says_to_make_it_writable(tmp_path):
    path = tmp_path / "app.db"
    open_db(path).close()
    with read_only(path), pytest.raises(DatabaseError) as caught:
        db = open_db(path, busy_timeout=0.2)
        try:
            insert_eval_run(db)
        finally:
            db.close()
    message = str(caught.value)
    assert str(path) in message and "writable" in message


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    path = tmp_path / "app.db"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(DatabaseError, match="is not a SQLite database") as caught:
        open_db(path)
    assert str(path) in str(caught.value)


def test_a_data_dir_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseError, match="cannot be created") as caught:
        open_db(tmp_path / "file" / "app.db")
    assert "GROUNDWORK_DATA_DIR" in str(caught.value)


def test_bugs_are_not_disguised_as_database_errors(tmp_path):
    db = open_db(tmp_path / "app.db")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        fetch(db, "SELECT * FROM missing")
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db):
        db.conn.execute("INSERT INTO eval_runs (created_at) VALUES ('2026-01-01')")  # NOT NULL
    assert fetch(db, "SELECT count(*) AS n FROM eval_runs") == [{"n": 0}]
    db.close()
