"""The evaluation runner: golden questions in, a scored run out.

``evaluate`` ingests a folder into a store of its own (cached by :mod:`rag.evaluation.cache`,
never the live store), answers every golden question through the real ``Assistant`` (or only
retrieves, with ``retrieval_only``), scores each answer (:mod:`rag.evaluation.metrics`), and
compares retrieval with the naive tutorial baseline (:mod:`rag.evaluation.baseline`). The
result is an :class:`~rag.evaluation.runs.EvalRun`, which ``record_run`` keeps as history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.answer.encoder import CachingEncoder
from rag.answer.refusal import DEFAULT_GATE, gate_features
from rag.config import Settings
from rag.errors import GuardrailBlocked
from rag.evaluation.cache import (
    CachedStore,
    CorpusFile,
    Progress,
    baseline_folder,
    collect_docs,
    eval_store,
)
from rag.evaluation.fingerprint import run_fingerprint
from rag.evaluation.golden import EvalCase
from rag.evaluation.metrics import (
    K,
    key_fact_recall,
    retrieval_scores,
    retrieval_summary,
    summarise,
    unflagged_unsupported,
)
from rag.evaluation.runs import EvalRun

__all__ = [
    "EvalRun",
    "baseline_retrieval",
    "evaluate",
]

Answer = Callable[[EvalCase], dict[str, Any]]  # one case's answer (or retrieval) fields


def evaluate(
    cases: Sequence[EvalCase],
    docs_dir: str | Path,
    settings: Settings,
    *,
    retrieval_only: bool = False,
    baseline: bool = True,
    embeddings=None,
    chat_model=None,
    choice=None,
    progress: Progress | None = None,
) -> EvalRun:
    """Run the golden ``cases`` against ``docs_dir`` and score them.

    Args:
        settings: the configuration under test; its ``data_dir`` holds the eval cache.
        retrieval_only: skip the model (refusal = weak evidence).
        baseline: also score the naive tutorial pipeline's retrieval.
        embeddings: the MiniLM embedder (default: a new one).
        chat_model, choice: the model and ``BackendChoice`` to answer with (default: built
            from ``settings.backend``).
        progress: called as (stage, done, total, label).
    """
    from rag.models.embeddings import MiniLMEmbeddings

    files = collect_docs(docs_dir)
    bases = {f.name: f.base for f in files}
    embeddings = embeddings or MiniLMEmbeddings()
    config = _run_config(settings, retrieval_only)
    with eval_store(settings, files, embeddings, progress) as cached:
        if retrieval_only:
            answer = _retriever(cached, embeddings, bases)
        else:
            answer, backend = _answerer(cached, bases, chat_model, choice)
            config |= backend
        rows = _run_cases(cases, answer, progress)
        ingest = _ingest_summary(cached)
        index_version = cached.store.index_version
    base_summary = None
    if baseline:
        base_summary = _score_baseline(settings, files, cases, rows, embeddings, progress)
    if progress:
        progress("done", len(cases), len(cases), "")
    return _scored_run(
        cases, settings, config, rows, index_version, cached.folder.name, ingest,
        docs_dir=str(docs_dir), baseline=base_summary,
    )  # fmt: skip


def live_evaluate(cases: Sequence[EvalCase], assistant, settings: Settings) -> EvalRun:
    """Answer ``cases`` through the live ``assistant`` (its store, every collection), scored
    like any run; golden sources name documents as they were uploaded."""
    config = _run_config(settings, False) | {
        "backend": assistant.backend.name,
        "model": assistant.backend.chat_model,
        "embedder": assistant.store.embedder,
    }
    rows = _run_cases(cases, lambda case: _answer_row(case, assistant, {}), None)
    version = assistant.store.index_version
    return _scored_run(cases, settings, config, rows, version, None, {"index_version": version})


def _scored_run(
    cases: Sequence[EvalCase],
    settings: Settings,
    config: dict[str, Any],
    rows: list[dict[str, Any]],
    index_version: int,
    docs: str | None,
    ingest: dict[str, Any],
    *,
    docs_dir: str = "",
    baseline: dict[str, Any] | None = None,
) -> EvalRun:
    """A run of ``cases``: its rows summarised, and the fingerprint of what the answers used."""
    fingerprint = run_fingerprint(
        settings,
        config,
        index_version=index_version,
        datasets={c.dataset: c.dataset_sha for c in cases},
        docs=docs,
    )
    datasets = list(dict.fromkeys(c.dataset for c in cases))
    summary = summarise(rows, bool(config.get("retrieval_only")))
    return EvalRun(
        datasets, docs_dir, config, rows, summary, baseline, ingest, fingerprint=fingerprint
    )


def _run_config(settings: Settings, retrieval_only: bool) -> dict[str, Any]:
    """The configuration under test, as recorded with the run (backend and model filled later)."""
    from rag.answer.prompts import load_prompt
    from rag.models.embeddings import MODEL_NAME

    return {
        "backend": "none" if retrieval_only else "",
        "model": "",
        "prompt_version": load_prompt("answer", settings.prompt_version).ref,
        "embedder": f"embedded/{MODEL_NAME}",
        "top_k": settings.top_k,
        "chunk_tokens": settings.chunk_tokens,
        "unsupported": settings.unsupported,
        "retrieval_only": retrieval_only,
    }


def _retriever(cached: CachedStore, embeddings, bases: dict[str, str]) -> Answer:
    """Retrieve only: the top K passages and the refusal gate's verdict on them."""
    from rag.index.retrieve import HybridSearch

    search = HybridSearch(cached.store, top_k=K)
    encode = CachingEncoder(embeddings.encode)
    return lambda case: _retrieval_row(case, search, encode, bases)


def _answerer(
    cached: CachedStore, bases: dict[str, str], chat_model, choice
) -> tuple[Answer, dict[str, str]]:
    """Answer through the real ``Assistant``; also return the backend and model it uses."""
    from rag.answer.chain import Assistant
    from rag.models.backends import make_chat_model, resolve_backend

    own = cached.store.settings
    if chat_model is None or choice is None:
        choice = resolve_backend(own)
        chat_model = make_chat_model(own, choice)
    assistant = Assistant(own, cached.store, chat_model, choice)
    backend = {"backend": choice.name, "model": choice.chat_model}
    return (lambda case: _answer_row(case, assistant, bases)), backend


def _run_cases(
    cases: Sequence[EvalCase], answer: Answer, progress: Progress | None
) -> list[dict[str, Any]]:
    """One row per case: the golden line, what came back, and its retrieval scores."""
    rows = []
    for i, case in enumerate(cases):
        if progress:
            progress("questions", i, len(cases), case.question)
        row = {
            "id": case.id,
            "dataset": case.dataset,
            "question": case.question,
            "answerable": case.answerable,
            "sources": case.sources,
            "pages": case.pages,
        }
        row |= answer(case)
        row |= retrieval_scores(row["retrieved"], case) if case.answerable else {}
        rows.append(row)
    return rows


def _answer_row(case: EvalCase, assistant, bases: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        stream = assistant.ask(case.question)
        for _ in stream:
            pass
    except GuardrailBlocked as exc:  # scored as a refusal, named, and the run goes on
        return _blocked_row(case, exc, started)
    r = stream.result
    v = r.verification
    return {
        "retrieved": [(bases.get(p.source, p.source), p.page) for p in r.passages],
        "answer": r.answer,
        "refused": r.refused,
        "quoted": r.extractive and not r.refused,
        "evidence": r.evidence,
        "support_score": r.support_score,
        "claims": len(v.claims) if v else 0,
        "unsupported": len(v.unsupported) if v else 0,
        "unflagged": unflagged_unsupported(v, r.answer, r.extractive),
        "key_fact_recall": key_fact_recall(r.answer, case.key_facts) if case.answerable else None,
        "total_ms": r.timings.get("total_ms"),
        "verify_ms": r.timings.get("verify_ms"),
    }


def _blocked_row(case: EvalCase, exc: GuardrailBlocked, started: float) -> dict[str, Any]:
    """A question a guardrail stopped: nothing retrieved, refused, with the check's message."""
    return {
        "retrieved": [],
        "answer": str(exc),
        "refused": True,
        "blocked": exc.kind,
        "quoted": False,
        "claims": 0,
        "unsupported": 0,
        "unflagged": 0,
        "key_fact_recall": 0.0 if case.answerable and case.key_facts else None,
        "total_ms": round((time.perf_counter() - started) * 1000, 1),
        "verify_ms": None,
    }


def _retrieval_row(case: EvalCase, search, encode, bases: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    passages = search.search(case.question, K)
    probability = DEFAULT_GATE.probability(gate_features(search, case.question, passages, encode))
    return {
        "retrieved": [(bases.get(p.source, p.source), p.page) for p in passages],
        "refused": not passages or probability < DEFAULT_GATE.threshold,
        "evidence": round(probability, 4),
        "total_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _ingest_summary(cached: CachedStore) -> dict[str, Any]:
    """What the evaluation's store holds and whether it was reused from the cache."""
    reports = cached.reports
    return {
        "cache_dir": str(cached.folder),
        "reused": cached.reused,
        "index_version": cached.store.index_version,
        "files": len(reports),
        "failed": [r["error"] for r in reports if r["status"] == "failed"],  # names the file
        "chunks": sum(int(r.get("chunks") or 0) for r in reports),
    }


def _score_baseline(
    settings: Settings,
    files: Sequence[CorpusFile],
    cases: Sequence[EvalCase],
    rows: list[dict[str, Any]],
    embeddings,
    progress: Progress | None,
) -> dict[str, Any]:
    """Add the naive baseline's retrieval and scores to each row; return its summary."""
    naive = baseline_retrieval(settings, files, cases, embeddings, progress, "baseline")
    for case, row, got in zip(cases, rows, naive, strict=True):
        row["baseline"] = {"retrieved": got}
        if case.answerable:
            row["baseline"] |= retrieval_scores(got, case)
    summary = retrieval_summary([r["baseline"] | {"answerable": r["answerable"]} for r in rows])
    summary["refusal_accuracy"] = 0.0  # it always answers, by construction
    return summary


def baseline_retrieval(
    settings: Settings,
    files: Sequence[CorpusFile],
    cases: Sequence[EvalCase],
    embeddings,
    progress: Progress | None = None,
    stage: str = "baseline",
) -> list[list[tuple[str, int]]]:
    """The naive baseline's top-K (base name, page) per case, its index built once and cached."""
    from rag.evaluation.baseline import open_baseline

    bases = {f.name: f.base for f in files}
    wrap = (lambda name, i, n: progress(stage, i - 1, n, name)) if progress else None
    pairs = [(f.path, f.name) for f in files]
    naive = open_baseline(baseline_folder(settings, files), pairs, embeddings, wrap)
    try:
        return [
            [(bases.get(h.source, h.source), h.page) for h in naive.search(c.question, K)]
            for c in cases
        ]
    finally:
        naive.close()
