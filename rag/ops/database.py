"""The SQLite database: connections, migrations applied under the write lock, transactions.

Owns ``open_db`` (WAL, busy timeout, pending migrations), ``write_transaction`` and ``fetch``,
the translation of SQLite's failures into ``DatabaseError``, and the stored time format. The
schema itself is a list of migrations in :mod:`rag.ops.migrations`.

One ``Database`` may be shared by the threads of a Streamlit server (it is built once behind
``st.cache_resource``): statements on it are serialised by ``db.lock``. Several processes may
open the same file; writes use ``BEGIN IMMEDIATE`` so that they queue on the busy timeout instead
of failing when two writers meet.

SQLite's own failures (busy, read-only, disk I/O, damaged file) leave this module as
``rag.errors.DatabaseError`` naming the file and what to do: ``open_db``, ``write_transaction``
and ``fetch`` translate them, and other code reading the database directly wraps its statements
in ``database_errors(db)``. Programming errors (bad SQL, constraint violations) are not
translated: they are bugs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from rag.errors import DatabaseError
from rag.ops.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 5.0


class AppDatabase(Database):
    """A sqlite-utils ``Database`` that threads may share; ``lock`` serialises its statements."""

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_S):
        conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False)
        super().__init__(conn)
        self.path = path
        self.timeout = timeout
        self.lock = threading.RLock()


_BUSY = (
    "is busy: another process or request kept it locked for longer than the busy timeout. "
    "Try again in a moment; if it keeps happening, check that no other program (a backup, a "
    "database browser, a stuck Groundwork process) holds the file open."
)
_ADVICE = {
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,
    sqlite3.SQLITE_READONLY: (
        "is read-only, so nothing can be saved. Make the file, its folder and its -wal and -shm "
        "files writable by the user running Groundwork, or set GROUNDWORK_DATA_DIR to a "
        "writable folder."
    ),
    sqlite3.SQLITE_PERM: (
        "refused access. Make the file and its folder readable and writable by the user running "
        "Groundwork, or set GROUNDWORK_DATA_DIR to another folder."
    ),
    sqlite3.SQLITE_CANTOPEN: (
        "cannot be opened. Check that its folder exists and is writable by the user running "
        "Groundwork, or set GROUNDWORK_DATA_DIR to another folder."
    ),
    sqlite3.SQLITE_IOERR: (
        "could not be read or written (disk I/O error). Check that the disk is mounted, healthy "
        "and not full, then try again."
    ),
    sqlite3.SQLITE_FULL: "cannot grow: the disk is full. Free some space, then try again.",
    sqlite3.SQLITE_CORRUPT: (
        "is damaged. Restore it from a backup, or move it aside so that Groundwork starts a new "
        "one (the ratings, run log and document list in it are then no longer shown)."
    ),
    sqlite3.SQLITE_NOTADB: (
        "is not a SQLite database. Move the file aside, or set GROUNDWORK_DATA_DIR to another "
        "folder."
    ),
}


def _db_label(db: Database | str | Path | None) -> str:
    if db is None or isinstance(db, str | Path):
        return str(db or "(unknown path)")
    if path := getattr(db, "path", None):
        return str(path)
    try:  # a plain sqlite-utils Database: ask SQLite which file it has open
        row = db.conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:  # only the label of an error already being raised is lost
        row = None
    return (row[2] if row else "") or "(in memory)"


def as_database_error(exc: sqlite3.Error, db: Database | str | Path | None) -> DatabaseError | None:
    """The ``DatabaseError`` a user should see for a SQLite failure, or None for a bug.

    Failures of the file, the disk or a concurrent writer are translated; bad SQL and constraint
    violations (``SQLITE_ERROR``, ``SQLITE_CONSTRAINT``, ...) return None.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    advice = _ADVICE.get(code & 0xFF) if code is not None else None  # primary code
    if advice is None:
        return None
    return DatabaseError(_db_label(db), f"{advice} (SQLite: {exc})")


@contextmanager
def database_errors(db: Database | str | Path | None) -> Iterator[None]:
    """Raise SQLite failures of the block as ``DatabaseError`` naming ``db``'s file."""
    try:
        yield
    except sqlite3.Error as exc:
        error = as_database_error(exc, db)
        if error is None:
            raise
        raise error from exc


def open_db(
    path: str | Path, *, migrate: bool = True, busy_timeout: float = BUSY_TIMEOUT_S
) -> AppDatabase:
    """Open (creating if needed) the database at ``path`` in WAL mode and apply migrations.

    Args:
        busy_timeout: seconds a statement waits for another writer before failing as busy.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            str(path),
            f"cannot be created: its folder {path.parent} cannot be made ({exc.strerror}). "
            "Set GROUNDWORK_DATA_DIR to a writable folder.",
        ) from exc
    with database_errors(path):
        db = AppDatabase(path, busy_timeout)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # the first switch to WAL needs a moment alone with the file
            _retry_busy(db.enable_wal, busy_timeout)
            db.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode except on power loss
            if migrate:
                apply_migrations(db)
        except BaseException:
            db.close()
            raise
    return db


def apply_migrations(
    db: Database, migrations: Migrations = MIGRATIONS, *, stop_before: str | None = None
) -> None:
    """Apply pending migrations of a set, holding the write lock so concurrent openers (threads
    or processes) apply each one once. Other modules pass their own ``Migrations`` set."""
    with database_errors(db):
        if not migrations.pending(db):
            return
    with write_transaction(db):
        migrations.apply(db, stop_before=stop_before)


def _retry_busy(fn, seconds: float) -> None:
    # Changing the journal mode may fail busy at once, without waiting on the busy timeout.
    deadline = time.monotonic() + seconds
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _lock(db: Database):
    return getattr(db, "lock", None) or nullcontext()


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction (waits up to the busy timeout).

    SQLite failures inside it (busy, read-only, disk) are rolled back and raised as
    ``DatabaseError``.
    """
    with _lock(db), database_errors(db):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


def fetch(db: Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
    """Run a SELECT and return all rows as dicts (fetched while holding the lock)."""
    with _lock(db), database_errors(db):
        cursor = db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- time ------------------------------------------------------------------------------------


def utc_now() -> str:
    """Return the current time as an ISO-8601 UTC string, the format stored everywhere."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def to_iso(value: str | datetime | None) -> str:
    """Normalise a timestamp to the stored format (UTC, microseconds); naive means UTC."""
    if value is None:
        return utc_now()
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def time_bounds(
    since: str | date | datetime | None, until: str | date | datetime | None
) -> tuple[str | None, str | None]:
    """Turn an inclusive [since, until] range into stored-format bounds ``lo <= t < hi``.

    A date (or ``YYYY-MM-DD`` string) covers that whole UTC day.
    """

    def parse(value):
        if isinstance(value, str):
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        return value

    since, until = parse(since), parse(until)
    lo = hi = None
    if isinstance(since, datetime):
        lo = to_iso(since)
    elif isinstance(since, date):
        lo = since.isoformat()
    if isinstance(until, datetime):
        hi = to_iso(until + timedelta(microseconds=1))
    elif isinstance(until, date):
        hi = (until + timedelta(days=1)).isoformat()
    return lo, hi
