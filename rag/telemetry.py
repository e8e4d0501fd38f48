"""LangSmith tracing and feedback, configured from ``Settings`` and never in an answer's way.

Traces go through a ``LangChainTracer`` whose client batches runs on a background thread; feedback
is posted from a small worker pool with a bounded timeout. LangSmith being slow or down costs an
answer nothing: errors are logged, never raised.
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from rag.config import Settings

log = logging.getLogger(__name__)


def hash_user(user: str) -> str:
    """A stable pseudonym for a user id, so traces carry no names or emails."""
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:16]


class Telemetry:
    """Builds trace callbacks and mirrors feedback to LangSmith when tracing is on."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.enabled = bool(settings.langsmith_tracing and settings.langsmith_api_key)
        self._client = None
        self._tracer = None
        self._project_id = None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="langsmith-feedback")

    @property
    def client(self):
        """The LangSmith client (created on first use)."""
        if self._client is None:
            from langsmith import Client

            timeout_ms = int(self.settings.langsmith_timeout * 1000)
            self._client = Client(
                api_url=self.settings.langsmith_endpoint,
                api_key=self.settings.langsmith_api_key,
                timeout_ms=(timeout_ms, timeout_ms),
            )
        return self._client

    def callbacks(self) -> list[Any]:
        """Callbacks to pass in a chain's config (empty when tracing is off)."""
        if not self.enabled:
            return []
        if self._tracer is None:
            from langchain_core.tracers.langchain import LangChainTracer

            self._tracer = LangChainTracer(
                project_name=self.settings.langsmith_project, client=self.client
            )
        return [self._tracer]

    def send_feedback(
        self, run_id: str, score: int, reason: str | None = None, comment: str | None = None
    ) -> Future | None:
        """Mirror a rating to LangSmith in the background; returns the pending request."""
        if not self.enabled:
            return None
        return self._pool.submit(self._post_feedback, run_id, score, reason, comment)

    def _post_feedback(
        self, run_id: str, score: int, reason: str | None, comment: str | None
    ) -> bool:
        try:
            if self._project_id is None:
                # LangSmith files run feedback under the run's project; look its id up once.
                self._project_id = self.client.read_project(
                    project_name=self.settings.langsmith_project
                ).id
            self.client.create_feedback(
                run_id,
                session_id=self._project_id,
                key="user_score",
                score=score,
                comment=" — ".join(x for x in (reason, comment) if x) or None,
                stop_after_attempt=2,
            )
            return True
        except Exception as exc:  # any transport or API error: the local record already exists
            log.warning("LangSmith feedback for run %s not sent: %s", run_id, exc)
            return False

    def close(self) -> None:
        """Send what is queued, then stop the feedback workers and the client's sender."""
        self.flush()
        self._pool.shutdown(wait=True)
        if self._client is not None:
            self._client.cleanup()

    def flush(self) -> None:
        """Wait for queued traces to be sent (used by tests and the CLI at exit)."""
        if self._tracer is not None:
            self._tracer.wait_for_futures()
        if self._client is not None:
            self._client.flush()
