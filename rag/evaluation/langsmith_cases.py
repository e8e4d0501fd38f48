"""What a LangSmith push sends for a run: names, redacted examples and runs, scores, metadata.

Every text (questions, answers, expected answers, key facts) is redacted by the guardrails'
question policy, the one traces go through, with one placeholder mapping per case so a case's
example and run show the same placeholders; file names go through the patterns only. Texts
are cut at ``MAX_TEXT`` characters and lists at ``MAX_ITEMS`` items. Experiment metadata
leaves out anything named like a secret or an address.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from rag.config import Settings
from rag.evaluation.golden import EvalCase, golden_sets, load_dataset
from rag.evaluation.runs import EvalRun
from rag.guardrails import Guardrails, pii_detector

MAX_TEXT = 4000  # characters of any one text (the guardrails check no more)
MAX_ITEMS = 20  # items of any one list (sources, pages, key facts, retrieved passages)
SCORES = {  # feedback key -> row field
    "hit@5": "hit5",
    "reciprocal_rank": "rr",
    "page_hit@5": "page_hit5",
    "key_fact_recall": "key_fact_recall",
    "unsupported_sentences": "unsupported",
}
_SECRET_WORDS = {"key", "apikey", "secret", "password", "token", "credential", "credentials", "url"}


def dataset_name(run: EvalRun) -> str:
    """The LangSmith dataset for the run's golden sets, e.g. ``groundwork/samples``."""
    stems = [d.removesuffix(".jsonl") for d in run.datasets] or ["golden"]
    return ("groundwork/" + "+".join(stems))[:120]


def experiment_name(run: EvalRun) -> str:
    """A new experiment's name: the run, its fingerprint and a short suffix (pushes differ)."""
    fingerprint = getattr(run, "fingerprint", None) or {}
    label = fingerprint.get("prompt_version") or run.config.get("prompt_version") or "run"
    number = f"run-{run.id}" if run.id is not None else "unsaved-run"
    return f"{dataset_name(run)} {number} {label} {uuid.uuid4().hex[:6]}"[:160]


def case_scores(row: dict[str, Any]) -> dict[str, float]:
    """The scores a row carries, as LangSmith feedback (absent or None scores left out)."""
    scores = {key: row.get(field) for key, field in SCORES.items()}
    if "refused" in row:
        scores["refusal_correct"] = row["refused"] == (not row["answerable"])
    return {k: float(v) for k, v in scores.items() if v is not None}


class Redactor:
    """Redact texts by the guardrails' question policy, one placeholder mapping per case.

    File names go through the patterns only (emails, phone numbers, ...): the name
    recogniser reads ``travel-policy.md`` as a person.
    """

    def __init__(self, settings: Settings):
        self.texts = Guardrails(settings)
        self.names = Guardrails(settings, pii=pii_detector(ner=False))
        self.mappings: dict[tuple[str, str], dict[str, str]] = {}
        self.done: dict[tuple[tuple[str, str], str, bool], str] = {}  # a question goes twice

    def __call__(self, case: tuple[str, str], text: Any, *, name: bool = False) -> str:
        text = str(text or "")[:MAX_TEXT]
        if not text.strip():
            return text
        if (case, text, name) not in self.done:
            guardrails = self.names if name else self.texts
            redacted, self.mappings[case] = guardrails.redact_text(text, self.mappings.get(case))
            self.done[case, text, name] = redacted
        return self.done[case, text, name]


def case_key(row: dict[str, Any]) -> tuple[str, str]:
    return (str(row["dataset"]), str(row["id"]))


def references(run: EvalRun, settings: Settings, cases) -> dict[tuple[str, str], EvalCase]:
    """Golden cases by (set, id): those given, else the sets found unchanged since the run."""
    if cases is None:
        hashes = (getattr(run, "fingerprint", None) or {}).get("datasets") or {}
        cases = []
        for path in golden_sets(settings):
            if path.name not in run.datasets:
                continue
            # A run records a prefix of the SHA-256 of each set it read; a set edited since
            # would give the run references it never saw.
            recorded = str(hashes.get(path.name) or "")
            if hashlib.sha256(path.read_bytes()).hexdigest().startswith(recorded):
                cases.extend(load_dataset(path))
    return {(c.dataset, c.id): c for c in cases}


def reference(row, case: EvalCase | None, redact: Redactor) -> dict[str, Any]:
    key = case_key(row)
    facts = case.key_facts if case else row.get("key_facts") or []
    answer = case.answer if case else row.get("expected_answer") or ""
    return {
        "answer": redact(key, answer) or None,
        "answerable": bool(row["answerable"]),
        "sources": [redact(key, s, name=True) for s in row.get("sources", [])[:MAX_ITEMS]],
        "pages": [int(p) for p in row.get("pages", [])[:MAX_ITEMS]],
        "key_facts": [redact(key, f) for f in facts[:MAX_ITEMS]],
    }


def run_outputs(row: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    key = case_key(row)
    outputs: dict[str, Any] = {
        "refused": bool(row.get("refused")),
        "retrieved": [
            {"source": redact(key, source, name=True), "page": page}
            for source, page in row.get("retrieved", [])[:MAX_ITEMS]
        ],
        "evidence": row.get("evidence"),
    }
    if "answer" in row:
        outputs["answer"] = redact(key, row["answer"])
    return outputs


def experiment_metadata(run: EvalRun) -> dict[str, Any]:
    return _public(
        {
            "fingerprint": getattr(run, "fingerprint", None) or {},
            "trigger": getattr(run, "trigger", None),
            "config": run.config,
            "summary": run.summary,
            "groundwork_run_id": run.id,
            "run_created_at": run.created_at,
            "golden_sets": list(run.datasets),
        }
    )


def _public(value: Any) -> Any:
    """``value`` without any entry named like a secret or an address (keys, URLs)."""
    if isinstance(value, dict):
        return {
            str(k): _public(v)
            for k, v in value.items()
            if not _SECRET_WORDS.intersection(str(k).lower().replace("-", "_").split("_"))
        }
    if isinstance(value, list | tuple):
        return [_public(v) for v in value[: MAX_ITEMS * 5]]
    if isinstance(value, str):
        return value[:MAX_TEXT]
    return value if isinstance(value, int | float | bool | None) else str(value)[:MAX_TEXT]
