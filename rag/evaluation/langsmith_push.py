"""Push an evaluation run to LangSmith: its golden cases as a dataset, the run as an experiment.

``push_run`` creates (or reuses by name) a dataset holding one example per golden case, matched
by golden-set file and case id so a second push adds no duplicates (a changed reference is
updated in place), then an experiment on it: a project linked to the dataset with one run per
case (linked to its example) and the case's scores as feedback. The run's fingerprint, config
and summary are the experiment's metadata.

What is sent is built by :mod:`rag.evaluation.langsmith_cases`: every text redacted by the
guardrails that redact traces, texts and lists cut short; at most ``MAX_CASES`` cases go in
one push. Runs and feedback leave in the client's batches (a few
requests, not one per case). LangSmith down, slow or refusing raises ``LangSmithPushError``
naming the endpoint (never the key); the local run is never changed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError, GroundworkError, LangSmithPushError
from rag.evaluation.golden import EvalCase
from rag.evaluation.langsmith_cases import (
    Redactor,
    case_key,
    case_scores,
    dataset_name,
    experiment_metadata,
    experiment_name,
    reference,
    references,
    run_outputs,
)
from rag.evaluation.runs import EvalRun

MAX_CASES = 1000  # cases per push; the rest are counted in ``left_out``
FLUSH_SECONDS = 60.0  # how long the batched runs and feedback may take to leave


@dataclass(frozen=True)
class PushResult:
    """What one push created in LangSmith."""

    dataset_name: str
    dataset_id: str
    dataset_url: str | None
    experiment_name: str
    experiment_id: str
    experiment_url: str | None
    examples_created: int
    examples_updated: int
    examples_reused: int
    runs: int
    feedback: int
    left_out: int = 0

    def message(self) -> str:
        """One line for the CLI and the Evaluation page."""
        text = (
            f"Pushed {self.runs} cases to LangSmith: dataset '{self.dataset_name}' "
            f"({self.examples_created} new, {self.examples_updated} updated, "
            f"{self.examples_reused} unchanged examples), experiment '{self.experiment_name}' "
            f"with {self.feedback} scores."
        )
        if self.experiment_url:
            text += f" Open it at {self.experiment_url}"
        if self.left_out:
            text += f" {self.left_out} cases beyond the first {MAX_CASES} were not pushed."
        return text


def push_run(
    run: EvalRun,
    settings: Settings,
    client: Any = None,
    *,
    cases: Sequence[EvalCase] | None = None,
) -> PushResult:
    """Push ``run`` to LangSmith as a dataset of its golden cases and an experiment on it.

    Args:
        client: a ``langsmith.Client`` to send with (default: one built from the settings,
            which also reports failures of the batched sends).
        cases: the golden cases the run answered, for the expected answers and key facts
            (default: the golden sets of that name in the evaluation folders, when unchanged
            since the run).
    """
    if not (settings.langsmith_tracing and settings.langsmith_api_key):
        raise ConfigError(
            "LangSmith is not configured, so the run was not pushed. Set LANGSMITH_TRACING=true "
            "and LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT for a self-hosted LangSmith)."
        )
    rows = run.rows[:MAX_CASES]
    errors: list[Exception] = []
    own = client is None
    client = client or _client(settings, errors)
    try:
        result = _push(client, run, rows, settings, cases, errors)
    except GroundworkError:
        raise
    except Exception as exc:  # any transport or API error: nothing local was changed
        raise LangSmithPushError(_failure(settings, exc)) from exc
    finally:
        if own:
            client.close(timeout=0)  # sent already, or failed: nothing left worth waiting for
    return result


def _push(client, run, rows, settings, cases, errors) -> PushResult:
    redact = Redactor(settings)
    golden = references(run, settings, cases)
    name = dataset_name(run)
    dataset = _dataset(client, name, run)
    example_ids, counts = _sync_examples(client, dataset.id, rows, golden, redact)
    experiment = experiment_name(run)
    project = client.create_project(
        experiment,
        reference_dataset_id=dataset.id,
        description=f"Groundwork evaluation of {', '.join(run.datasets)}",
        metadata=experiment_metadata(run),
    )
    sent = _send_runs(client, rows, experiment, project.id, example_ids, redact)
    _flush(client, errors, settings)
    created, updated, reused = counts
    return PushResult(
        dataset_name=name,
        dataset_id=str(dataset.id),
        dataset_url=dataset.url,
        experiment_name=experiment,
        experiment_id=str(project.id),
        # LangSmith's own evaluate() links an experiment this way: its dataset's compare view.
        experiment_url=f"{dataset.url}/compare?selectedSessions={project.id}"
        if dataset.url
        else None,
        examples_created=created,
        examples_updated=updated,
        examples_reused=reused,
        runs=len(rows),
        feedback=sent,
        left_out=len(run.rows) - len(rows),
    )


def _send_runs(client, rows, experiment: str, project_id, example_ids, redact) -> int:
    """Queue one run per case and its scores (the client sends them in batches)."""
    started = datetime.now(UTC)
    sent = 0
    for i, row in enumerate(rows):
        run_id = uuid.uuid4()
        start = started + timedelta(microseconds=i)
        client.create_run(
            "groundwork-eval",
            {"question": redact(case_key(row), row["question"])},
            "chain",
            project_name=experiment,
            id=run_id,
            trace_id=run_id,
            dotted_order=f"{start:%Y%m%dT%H%M%S%fZ}{run_id}",
            start_time=start,
            end_time=start + timedelta(milliseconds=float(row.get("total_ms") or 0)),
            outputs=run_outputs(row, redact),
            reference_example_id=example_ids[case_key(row)],
            extra={"metadata": {"case_id": row["id"], "golden_set": row["dataset"]}},
        )
        for key, score in case_scores(row).items():
            # With trace_id the client queues feedback with the runs instead of one POST each.
            client.create_feedback(
                run_id, key, score=score, trace_id=run_id, session_id=project_id,
                stop_after_attempt=2,
            )  # fmt: skip
            sent += 1
    return sent


def _dataset(client, name: str, run: EvalRun):
    from langsmith.utils import LangSmithNotFoundError

    try:
        return client.read_dataset(dataset_name=name)
    except LangSmithNotFoundError:
        return client.create_dataset(
            name,
            description=f"Groundwork golden cases from {', '.join(run.datasets)}",
            metadata={"golden_sets": list(run.datasets)},
        )


def _sync_examples(client, dataset_id, rows, golden, redact) -> tuple[dict, tuple]:
    """Example ids by case, creating the missing examples and updating changed references."""
    existing = {}
    for example in client.list_examples(dataset_id=dataset_id, limit=4 * MAX_CASES):
        meta = example.metadata or {}
        existing[(str(meta.get("golden_set")), str(meta.get("case_id")))] = example
    ids, create, update = {}, [], []
    for row in rows:
        key = case_key(row)
        body = {
            "inputs": {"question": redact(key, row["question"])},
            "metadata": {"case_id": row["id"], "golden_set": row["dataset"]},
        }
        outputs = reference(row, golden.get(key), redact)
        if (found := existing.get(key)) is None:
            ids[key] = str(uuid.uuid4())
            create.append({"id": ids[key], **body, "reference_outputs": outputs})
        else:
            ids[key] = str(found.id)
            if found.inputs != body["inputs"] or found.outputs != outputs:
                update.append({"id": ids[key], **body, "outputs": outputs})
    for start in range(0, len(create), 200):
        client.create_examples(dataset_id=dataset_id, examples=create[start : start + 200])
    if update:
        client.update_examples(dataset_id=dataset_id, updates=update)
    return ids, (len(create), len(update), len(rows) - len(create) - len(update))


def _client(settings: Settings, errors: list[Exception]):
    from langsmith import Client
    from langsmith.utils import LangSmithRetry

    timeout_ms = int(settings.langsmith_timeout * 1000)
    return Client(
        api_url=settings.langsmith_endpoint,
        api_key=settings.langsmith_api_key.get_secret_value(),
        timeout_ms=(timeout_ms, timeout_ms),
        # One retry, not the default three with backoff: a down LangSmith is reported in
        # seconds, and a push can simply be repeated.
        retry_config=LangSmithRetry(
            total=1,
            backoff_factor=0.2,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=None,
            raise_on_status=False,
        ),
        tracing_sampling_rate=1.0,  # an experiment is every case, whatever traces sample
        tracing_error_callback=errors.append,
    )


def _flush(client, errors: list[Exception], settings: Settings) -> None:
    """Wait for the batched runs and feedback to leave; raise when any did not."""
    budget = max(FLUSH_SECONDS, 10 * settings.langsmith_timeout)
    started = time.monotonic()
    client.flush(timeout=budget)
    if errors:
        raise errors[0]
    if time.monotonic() - started >= budget:
        raise TimeoutError(f"runs and scores still unsent after {budget:.0f} s")


def _failure(settings: Settings, exc: Exception) -> str:
    """Say what went wrong at which endpoint, without the key or the client's long traces."""
    from langsmith import utils

    text = str(exc)
    if isinstance(exc, utils.LangSmithAuthError):
        what = "refused the API key (check LANGSMITH_API_KEY)"
    elif isinstance(exc, utils.LangSmithRequestTimeout | TimeoutError) or "timed out" in text:
        what = (
            f"did not answer in time (GROUNDWORK_LANGSMITH_TIMEOUT is "
            f"{settings.langsmith_timeout:g} s per request)"
        )
    elif isinstance(exc, utils.LangSmithConnectionError):
        what = "cannot be reached"
    else:
        what = f"answered with an error ({type(exc).__name__}: {text.splitlines()[0][:200]})"
    if key := settings.langsmith_api_key:
        what = what.replace(key.get_secret_value(), "***")
    return (
        f"LangSmith at {settings.langsmith_endpoint} {what}, so the run was not pushed "
        "completely. Nothing changed here; push again once LangSmith answers (examples "
        "already sent are reused, not duplicated)."
    )
