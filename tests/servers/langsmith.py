"""Own `LangSmithCapture`: a loopback LangSmith API that records traces and feedback.

It accepts what the installed ``langsmith`` client (0.15) sends when ``LANGSMITH_ENDPOINT``
points at it:

- ``GET /info``: its ``batch_ingest_config.use_multipart_endpoint`` and
  ``instance_flags.zstd_compression_enabled`` decide how the client ships runs, so the
  ``ingest`` argument picks one of the three real paths: ``"multipart-zstd"`` (what a current
  LangSmith advertises), ``"multipart"`` or ``"batch"`` (JSON ``POST /runs/batch``).
- ``POST /runs``, ``PATCH /runs/{id}``, ``POST /runs/batch``, ``POST /runs/multipart`` (form
  parts ``post.<id>[.<field>]``, ``patch.<id>[.<field>]``, ``feedback.<id>``,
  ``attachment.<id>.<name>``; zstd bodies are decompressed).
- ``POST /feedback`` (``create_feedback`` without ``trace_id``; with ``trace_id`` on a multipart
  server the client queues it as a ``feedback.<id>`` part instead: both are recorded).
- ``GET /sessions?name=``, ``GET /sessions/{id}``, ``POST /sessions`` so ``read_project`` and
  ``create_project`` work; a project's id is ``project_id(name)`` (stable uuid5). Created
  projects are kept (``projects``, ``project(name)``) with their ``reference_dataset_id``.
- Datasets and examples (``datasets``, ``dataset(name)``, ``examples(dataset_id)``): see
  `tests.servers.langsmith_datasets.DatasetStore` for the endpoints.

Runs are merged by id (post, then patches) into plain dicts with the client's own field names:
``id``, ``name``, ``run_type``, ``parent_run_id``, ``trace_id``, ``inputs``, ``outputs``,
``extra`` (``extra["metadata"]``), ``tags``, ``session_name``, ``error``, ``end_time``.

``mode`` may be ``"normal"``, ``"hang"`` (hold each request up to ``hang_seconds``, for timeout
tests; closing the server or setting ``mode`` back releases them at once) or ``"error500"``.
``fail_paths`` (e.g. ``{"/runs/multipart"}``) answers 500 on those paths only, to fail a
client part-way through.

How a test sends LangChain traces here (what `LangSmithCapture.tracing_env` and the
``langsmith_capture`` fixture do): langsmith reads its environment through the lru-cached
``langsmith.utils.get_env_var`` (and ``get_tracer_project``), and LangChain's tracer sends
through one process-wide client cached in ``langsmith.run_trees._CLIENT``. So a test must
(1) set ``LANGSMITH_TRACING=true``, ``LANGSMITH_ENDPOINT=<capture.url>``,
``LANGSMITH_API_KEY``, ``LANGSMITH_PROJECT`` and remove any other ``LANGSMITH_*`` /
``LANGCHAIN_*`` variables (``LANGSMITH_RUNS_ENDPOINTS`` would redirect writes, ``OTEL_*`` would
change the mode); (2) call `reset_langsmith_caches`; (3) after the traced code, call
``langchain_core.tracers.langchain.wait_for_all_tracers()`` before asserting (runs are sent by
a background thread); and (4) at the end flush, stop the cached client, restore the
environment and reset the caches again so no later test traces by accident.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from ._http import Exchange, LoopbackServer
from .langsmith_datasets import DatasetStore

Ingest = Literal["multipart-zstd", "multipart", "batch"]
Mode = Literal["normal", "hang", "error500"]
Run = dict[str, Any]
Feedback = dict[str, Any]

_PROJECT_NAMESPACE = uuid.UUID("6b1f3f4e-8d1c-4d0e-9b7a-0c1d2e3f4a5b")
_TENANT_ID = "00000000-0000-4000-8000-000000000001"
_PART_NAME = re.compile(rb'name="([^"]+)"')
_DONE_FIELDS = ("outputs", "end_time", "error")


def project_id(name: str) -> str:
    """Return the id the capture server gives the project called `name`."""
    return str(uuid.uuid5(_PROJECT_NAMESPACE, name))


def reset_langsmith_caches() -> None:
    """Forget langsmith's cached environment and its process-wide tracing client."""
    from langsmith import run_trees, utils

    utils.get_env_var.cache_clear()
    utils.get_tracer_project.cache_clear()
    run_trees._CLIENT = None


def _as_id(value: Any) -> str | None:
    return None if value is None else str(value)


class LangSmithCapture(LoopbackServer):
    """A threaded fake LangSmith API on ``127.0.0.1`` that records runs and feedback."""

    def __init__(
        self,
        ingest: Ingest = "multipart-zstd",
        *,
        mode: Mode = "normal",
        hang_seconds: float = 30.0,
        version: str = "0.12.33",
    ) -> None:
        super().__init__()
        self.ingest: Ingest = ingest
        self.hang_seconds = hang_seconds
        self.version = version
        self._runs: dict[str, Run] = {}
        self._feedback: list[Feedback] = []
        self.store = DatasetStore(self._lock)
        self.fail_paths: set[str] = set()
        self.bodies: list[bytes] = []  # every request body as received (decompressed)
        self._changed = threading.Condition(self._lock)
        self._unhang = threading.Event()
        self._mode: Mode = "normal"
        self.mode = mode

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        if value not in ("normal", "hang", "error500"):
            raise ValueError(f"mode must be 'normal', 'hang' or 'error500', not {value!r}")
        self._mode = value
        if value == "hang":
            self._unhang.clear()
        else:
            self._unhang.set()

    def close(self) -> None:
        self._unhang.set()
        super().close()

    # recorded state ------------------------------------------------------------------------
    @property
    def runs(self) -> list[Run]:
        """Every run received so far (merged post + patches), in arrival order."""
        with self._lock:
            return [dict(r) for r in self._runs.values()]

    @property
    def feedback(self) -> list[Feedback]:
        """Every feedback received so far, by either path, in arrival order."""
        with self._lock:
            return [dict(f) for f in self._feedback]

    @property
    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset created so far."""
        return self.store.datasets

    def dataset(self, name: str) -> dict[str, Any]:
        """Return the dataset called `name` (KeyError when none was created)."""
        return self.store.dataset(name)

    def examples(self, dataset_id: Any = None) -> list[dict[str, Any]]:
        """Every example received (of one dataset, if given), in arrival order."""
        return self.store.examples(dataset_id)

    @property
    def projects(self) -> list[dict[str, Any]]:
        """Projects created by ``create_project`` (experiments among them)."""
        return self.store.projects

    def project(self, name: str) -> dict[str, Any] | None:
        """Return the created project called `name`, or None."""
        return self.store.project(name)

    def run(self, run_id: Any) -> Run:
        """Return the run with `run_id` (KeyError when it has not arrived)."""
        with self._lock:
            return dict(self._runs[str(run_id)])

    def root_runs(self) -> list[Run]:
        return [r for r in self.runs if not r.get("parent_run_id")]

    def children(self, run_id: Any) -> list[Run]:
        return [r for r in self.runs if r.get("parent_run_id") == str(run_id)]

    def trace(self, trace_id: Any) -> list[Run]:
        """Return every run of one trace, ordered by ``dotted_order`` (parents first)."""
        runs = [r for r in self.runs if r.get("trace_id") == str(trace_id)]
        return sorted(runs, key=lambda r: r.get("dotted_order") or "")

    def wait_for_runs(
        self,
        predicate: Callable[[Run], bool] | None = None,
        *,
        count: int = 1,
        finished: bool = True,
        timeout: float = 10.0,
    ) -> list[Run]:
        """Wait until `count` runs match `predicate` (and have ended, if `finished`); return them.

        Raises:
            TimeoutError: listing what did arrive, when they do not within `timeout` seconds.
        """

        def matching() -> list[Run]:
            return [
                r
                for r in self.runs
                if (predicate is None or predicate(r))
                and (not finished or r.get("end_time") is not None)
            ]

        return self._wait(matching, count, timeout, lambda: f"runs: {self._summary()}")

    def wait_for_feedback(
        self,
        predicate: Callable[[Feedback], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Feedback]:
        """Wait until `count` feedback records match `predicate`; return them."""

        def matching() -> list[Feedback]:
            return [f for f in self.feedback if predicate is None or predicate(f)]

        return self._wait(matching, count, timeout, lambda: f"feedback: {self.feedback}")

    def _wait(self, matching, count: int, timeout: float, describe) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = matching()
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"wanted {count}, got {len(found)}; {describe()}")
                self._changed.wait(left)

    def _summary(self) -> list[tuple[Any, ...]]:
        return [(r.get("name"), r.get("run_type"), r.get("id")) for r in self.runs]

    # environment ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def tracing_env(
        self, project: str = "groundwork-tests", api_key: str = "test"
    ) -> Iterator[Any]:
        """Send LangChain/langsmith tracing here for the duration of the block.

        Sets the ``LANGSMITH_*`` variables (removing any other ``LANGSMITH_*``/``LANGCHAIN_*``),
        resets langsmith's caches, and on exit releases hung requests, waits for the tracing
        threads (``wait_for_all_tracers``), stops the cached client, restores the environment
        and resets the caches again.
        """
        from langchain_core.tracers.langchain import wait_for_all_tracers
        from langsmith import run_trees

        saved = {k: v for k, v in os.environ.items() if k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
        for name in saved:
            del os.environ[name]
        ours = {
            "LANGSMITH_TRACING": "true",
            "LANGSMITH_ENDPOINT": self.url,
            "LANGSMITH_API_KEY": api_key,
            "LANGSMITH_PROJECT": project,
        }
        os.environ.update(ours)
        reset_langsmith_caches()
        try:
            yield self
        finally:
            self.mode = "normal"
            try:
                wait_for_all_tracers()
                if run_trees._CLIENT is not None:
                    run_trees._CLIENT.cleanup(timeout=5)
            finally:
                for name in ours:
                    os.environ.pop(name, None)
                os.environ.update(saved)
                reset_langsmith_caches()

    # protocol ------------------------------------------------------------------------------
    def _prepare(self, ex: Exchange) -> None:
        if ex.headers.get("content-encoding", "").lower() == "zstd" and ex.body:
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(ex.body), read_across_frames=True
            )
            ex.body = reader.read()
        with self._lock:
            self.bodies.append(ex.body)
        super()._prepare(ex)

    def _handle(self, ex: Exchange) -> None:
        if self._mode == "hang":
            self._unhang.wait(self.hang_seconds)
            if self._closing.is_set():
                ex.handler.close_connection = True
                return
        if self._mode == "error500" or ex.path in self.fail_paths:
            ex.send_json(500, {"detail": "Internal Server Error (LangSmithCapture error500)"})
            return
        parts = ex.path.rstrip("/").split("/")
        if self.store.handle(ex, parts[1:]):
            return
        match (ex.method, parts[1:]):
            case ("GET", ["info"]):
                ex.send_json(200, self._info())
            case ("POST", ["runs"]):
                self._store_runs(posts=[ex.json], patches=[])
                ex.send_json(202, {})
            case ("PATCH", ["runs", run_id]):
                self._store_runs(posts=[], patches=[{**ex.json, "id": run_id}])
                ex.send_json(202, {})
            case ("POST", ["runs", "batch"]):
                body = ex.json or {}
                self._store_runs(posts=body.get("post", []), patches=body.get("patch", []))
                ex.send_json(202, {})
            case ("POST", ["runs", "multipart"]):
                self._multipart(ex)
                ex.send_json(202, {})
            case ("POST", ["feedback"]):
                record = self._store_feedback(ex.json)
                ex.send_json(200, record)
            case ("GET", ["sessions"]):
                name = (ex.query.get("name") or ["default"])[0]
                ex.send_json(200, [self.store.known_project(name=name) or self._project(name)])
            case ("GET", ["sessions", pid]):
                known = self.store.known_project(pid=pid)
                ex.send_json(200, known or {**self._project("unknown"), "id": pid})
            case ("POST", ["sessions"]):
                body = ex.json or {}
                base = self._project(body.get("name", "default"))
                ex.send_json(200, self.store.store_project(body, base))
            case _:
                ex.send_json(404, {"detail": "Not Found"})

    def _info(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": self.ingest != "batch",
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": 20_971_520,
            },
            "instance_flags": {
                "zstd_compression_enabled": self.ingest == "multipart-zstd",
                "dataset_examples_multipart_enabled": True,
                "examples_multipart_enabled": True,
            },
        }

    def _project(self, name: str) -> dict[str, Any]:
        return {
            "id": project_id(name),
            "name": name,
            "tenant_id": _TENANT_ID,
            "reference_dataset_id": None,
            "start_time": datetime.now(UTC).isoformat(),
            "extra": {},
        }

    def _multipart(self, ex: Exchange) -> None:
        from requests_toolbelt.multipart.decoder import MultipartDecoder

        decoder = MultipartDecoder(ex.body, ex.headers["content-type"])
        runs: dict[tuple[str, str], dict[str, Any]] = {}
        feedback: list[dict[str, Any]] = []
        attachments: dict[str, dict[str, bytes]] = {}
        for part in decoder.parts:
            match = _PART_NAME.search(part.headers.get(b"Content-Disposition", b""))
            if not match:
                continue
            kind, _, rest = match.group(1).decode().partition(".")
            if kind == "attachment":
                run_id, _, attachment = rest.partition(".")
                attachments.setdefault(run_id, {})[attachment] = part.content
                continue
            value = json.loads(part.content) if part.content else None
            if kind == "feedback":
                feedback.append(value)
                continue
            run_id, _, field = rest.partition(".")
            entry = runs.setdefault((kind, run_id), {"id": run_id})
            if field:
                entry[field] = value
            elif isinstance(value, dict):
                entry.update({k: v for k, v in value.items() if k not in entry})
        self._store_runs(
            posts=[v for (k, _), v in runs.items() if k == "post"],
            patches=[v for (k, _), v in runs.items() if k == "patch"],
            attachments=attachments,
        )
        for item in feedback:
            self._store_feedback(item)

    def _store_runs(
        self,
        posts: list[dict[str, Any]],
        patches: list[dict[str, Any]],
        attachments: dict[str, dict[str, bytes]] | None = None,
    ) -> None:
        with self._changed:
            for kind, items in (("post", posts), ("patch", patches)):
                for item in items:
                    self._merge(kind, item)
            for run_id, files in (attachments or {}).items():
                self._runs.setdefault(run_id, {"id": run_id}).setdefault("attachments", {}).update(
                    files
                )
            self._changed.notify_all()

    def _merge(self, kind: str, item: dict[str, Any]) -> None:
        run_id = str(item["id"])
        run = self._runs.setdefault(run_id, {"id": run_id})
        for key, value in item.items():
            if key == "id" or value is None:
                continue
            if key in ("parent_run_id", "trace_id", "session_id", "reference_example_id"):
                value = _as_id(value)
            if key == "extra" and isinstance(run.get("extra"), dict):
                merged = {**run["extra"], **value}
                merged["metadata"] = {
                    **(run["extra"].get("metadata") or {}),
                    **(value.get("metadata") or {}),
                }
                run["extra"] = merged
            elif kind == "post" and key in _DONE_FIELDS and run.get(key) is not None:
                continue  # a patch that arrived first already finished this run
            else:
                run[key] = value

    def _store_feedback(self, item: dict[str, Any] | None) -> Feedback:
        record = dict(item or {})
        record.setdefault("id", str(uuid.uuid4()))
        for key in ("id", "run_id", "trace_id", "session_id"):
            record[key] = _as_id(record.get(key))
        with self._changed:
            self._feedback.append(record)
            self._changed.notify_all()
        return record
