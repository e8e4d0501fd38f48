"""LangSmith tracing and feedback, configured from ``Settings`` and never in an answer's way.

Traces go through a ``LangChainTracer`` whose client batches runs on a background thread; feedback
is posted from a small worker pool with a bounded timeout. LangSmith being slow or down costs an
answer nothing: errors are logged, never raised.

Traces name a user only by a pseudonym: an HMAC-SHA256 of the user id keyed by
``pseudonym_secret`` (or, when unset, by a random key created once in
``data_dir/pseudonym.key``, readable by its owner only). The same user gets the same pseudonym
across restarts; without the key, an email cannot be matched to its pseudonym.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError

log = logging.getLogger(__name__)

KEY_FILE = "pseudonym.key"
MIN_SECRET_CHARS = 16


def pseudonym(user: str, secret: bytes) -> str:
    """The pseudonym traces carry for ``user``: HMAC-SHA256 under ``secret``, 16 hex digits."""
    return hmac.new(secret, user.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def pseudonym_secret(settings: Settings) -> bytes:
    """The HMAC key for pseudonyms: the setting, else the key file (created on first use)."""
    if settings.pseudonym_secret is not None:
        value = settings.pseudonym_secret.get_secret_value()
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"GROUNDWORK_PSEUDONYM_SECRET is shorter than {MIN_SECRET_CHARS} characters, so "
                "pseudonyms could be guessed. Set a long random value (python -c 'import "
                "secrets; print(secrets.token_hex(32))'), or unset it to use a generated key."
            )
        return value.encode("utf-8")
    path = settings.data_dir / KEY_FILE
    try:
        return _stored_key(path)
    except OSError as exc:
        raise ConfigError(
            f"The pseudonym key {path} cannot be read or created ({exc.strerror or exc}). Make "
            "the data folder writable, or set GROUNDWORK_PSEUDONYM_SECRET."
        ) from exc


def user_pseudonym(settings: Settings, user: str) -> str:
    """The pseudonym the audit log records for ``user`` ("" for no user), tracing on or off."""
    return pseudonym(user, pseudonym_secret(settings)) if user else ""


def _stored_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pseudonym-")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # two racing processes: the first wins
                os.link(tmp, path)  # atomic, and never replaces a key already in use
        finally:
            os.unlink(tmp)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"The pseudonym key {path} is empty or too short. Delete it so that a new one is "
            "made (pseudonyms in new traces then change), or set GROUNDWORK_PSEUDONYM_SECRET."
        )
    return key.encode("ascii")


class Telemetry:
    """Builds trace callbacks and mirrors feedback to LangSmith when tracing is on."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.enabled = bool(settings.langsmith_tracing and settings.langsmith_api_key)
        self._client = None
        self._tracer = None
        self._project_id = None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="langsmith-feedback")
        self._secret: bytes | None = None
        self._secret_lock = threading.Lock()

    def pseudonym(self, user: str) -> str | None:
        """The pseudonym a trace carries for ``user``; None when tracing is off (no trace
        carries it) or the key cannot be had (logged once: the answer goes on without it)."""
        if not self.enabled:
            return None
        with self._secret_lock:
            if self._secret is None:
                try:
                    self._secret = pseudonym_secret(self.settings)
                except ConfigError as exc:
                    log.warning("Traces carry no user pseudonym: %s", exc)
                    self._secret = b""
        return pseudonym(user, self._secret) if self._secret else None

    @property
    def client(self):
        """The LangSmith client (created on first use)."""
        if self._client is None:
            from langsmith import Client

            timeout_ms = int(self.settings.langsmith_timeout * 1000)
            self._client = Client(
                api_url=self.settings.langsmith_endpoint,
                api_key=key.get_secret_value()
                if (key := self.settings.langsmith_api_key)
                else None,
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
