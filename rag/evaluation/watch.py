"""The app's evaluation watcher: a background thread that runs the monitoring set when it is due.

Every ``interval`` seconds it asks :func:`rag.evaluation.drift.watch_reason` whether the prompt,
model, embedder or index version changed since the monitoring set last ran (or the schedule has
passed) and, if so, runs it (:func:`rag.evaluation.drift.run_monitoring`). A file lock in the
data folder keeps two replicas from running it at once; an error is logged and the next check
tries again, so a failing evaluation never touches the pages.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from typing import Any

from rag.config import Settings

log = logging.getLogger(__name__)

LOCK_FILE = "eval-watch.lock"


class Watcher:
    """Checks, and runs the monitoring set when due, on a daemon thread."""

    def __init__(
        self, settings: Settings, assistant: Callable[[], Any], interval: float = 300.0
    ) -> None:
        self.settings = settings
        self.assistant = assistant  # called at each check: the app's current assistant
        self.interval = interval
        self.last: str = ""  # what the last check did, for the Evaluation page
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether anything can make the monitoring set run."""
        return self.settings.eval_on_change or self.settings.eval_every_hours > 0

    def start(self, first_check: float = 30.0) -> None:
        """Start checking (the first check after ``first_check`` seconds) unless disabled."""
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, args=(first_check,), name="eval-watcher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop.set()

    def _loop(self, wait: float) -> None:
        while not self._stop.wait(wait):
            self.check()
            wait = self.interval

    def check(self, force: bool = False) -> str:
        """Run the monitoring set if due (or ``force``: now, as a manual run); return what
        happened ("" when it was not due)."""
        from rag.evaluation.drift import monitoring_sets, run_if_due
        from rag.ops.database import open_db

        if not monitoring_sets(self.settings):
            return ""  # nothing to run (and nothing touched on disk)
        try:
            with (self.settings.data_dir / LOCK_FILE).open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return ""  # another replica is running it
                db = open_db(self.settings.db_path)
                try:
                    run = run_if_due(db, self.settings, self.assistant(), force)
                finally:
                    db.close()
                if run is None:
                    return ""
        except Exception:  # noqa: BLE001 - the watcher must never take the app down
            log.exception("The monitoring evaluation failed; it is tried again at the next check.")
            self.last = "failed (see the log)"
            return self.last
        self.last = f"run {run.id} ({run.config['reason']})"
        log.info("Monitoring evaluation %s: %s", self.last, run.summary)
        return self.last
