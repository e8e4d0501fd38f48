"""Continuous evaluation: golden sets in, retrieval and answer metrics out, with history.

``evaluate`` ingests a folder into a store of its own (cached by :mod:`rag.evaluation.cache`, never
the live store), answers every golden question through the real ``Assistant`` (or only
retrieves, with ``retrieval_only``), scores each answer, and compares retrieval with the naive
tutorial baseline (:mod:`rag.evaluation.baseline`). ``record_run``
keeps the summary in the ``eval_runs`` table so the Evaluation page can chart history.

Metrics (answerable questions unless said otherwise):

* source hit@k: a top-k passage comes from a file listed in the line's ``sources``;
* MRR: mean of 1/rank of the first such passage (0 when none is in the top k);
* page hit@5: a top-5 passage has a listed source *and* a listed page (lines with ``pages``);
* key-fact recall: mean share of a line's ``key_facts`` found (case-insensitive, whitespace
  normalised) in the answer as shown, not counting sentences flagged as unverified;
* unsupported-sentence rate: unsupported claim sentences / claim sentences, over all answers;
* unflagged unsupported: unsupported sentences that appear in the shown answer outside the
  "unverified" flag (must be 0);
* refusal accuracy: share of unanswerable lines refused ("not found"); false-refusal rate:
  share of answerable lines refused (with ``retrieval_only``, refusal = weak evidence);
  quoted rate: share of answerable lines whose generated answer failed verification and
  were answered with quoted passages instead;
* latency p50/p95 of ``total_ms`` and ``verify_ms`` (the price of verification).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import verify
from rag.answer.refusal import DEFAULT_GATE, gate_features
from rag.answer.render import UNVERIFIED
from rag.config import REPO, Settings
from rag.errors import DatasetError
from rag.evaluation.cache import CorpusFile, Progress, baseline_folder, collect_docs, eval_store
from rag.ops.database import fetch, utc_now, write_transaction
from rag.text.sentences import split_sentences, strip_citations

K = 5


# --- where evaluation may read ---------------------------------------------------------------


def allowed_eval_path(text: str | Path, settings: Settings, what: str = "Documents folder") -> Path:
    """Resolve a golden set or docs folder given in the app, inside ``settings.eval_roots``.

    Relative paths are from the project root. ``..`` and symlinks are resolved before the
    check, so they cannot lead outside. A path elsewhere raises ``DatasetError`` naming the
    allowed folders and the setting that adds one. (The CLI reads any path: its user has a shell.)
    """
    path = (REPO / Path(str(text).strip()).expanduser()).resolve()
    roots = settings.eval_roots
    if any(path.is_relative_to(root) for root in roots):
        return path
    shown = f"{text}" if Path(str(text).strip()) == path else f"{text} ({path})"
    allowed = ", ".join(str(root) for root in roots) or "none are configured"
    raise DatasetError(
        f"{what} {shown} is outside the folders evaluation may read ({allowed}). Choose a path "
        "inside one of them, or add its folder to GROUNDWORK_EVAL_DIRS."
    )


def golden_sets(settings: Settings) -> list[Path]:
    """The JSONL golden sets directly inside the allowed evaluation folders."""
    found: dict[Path, None] = {}
    for root in settings.eval_roots:
        for path in sorted(root.glob("*.jsonl")):
            if path.resolve().is_relative_to(root):  # a symlink out of the folder is not listed
                found.setdefault(path.resolve())
    return list(found)


# --- golden sets ------------------------------------------------------------------------------


@dataclass
class EvalCase:
    """One golden question."""

    question: str
    answerable: bool
    sources: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    answer: str = ""
    id: str = ""
    dataset: str = ""


def _case(record: Any, where: str, dataset: str) -> EvalCase:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a line must be a JSON object, not {type(record).__name__}.")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string.")
    answerable = record.get("answerable")
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: 'answerable' must be true or false.")
    lists = {}
    for key, kind in (("sources", str), ("key_facts", str), ("pages", int)):
        value = record.get(key) or []
        if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value
        ):
            raise DatasetError(f"{where}: '{key}' must be a list of {kind.__name__}s.")
        lists[key] = value
    if answerable and not lists["sources"]:
        raise DatasetError(f"{where}: an answerable line needs 'sources' (file names).")
    if any(p < 1 for p in lists["pages"]):
        raise DatasetError(f"{where}: 'pages' are 1-based page numbers.")
    return EvalCase(
        question=question.strip(),
        answerable=answerable,
        sources=[Path(s.replace("\\", "/")).name for s in lists["sources"]],
        pages=lists["pages"],
        key_facts=lists["key_facts"],
        answer=str(record.get("answer") or ""),
        id=str(record.get("id") or where),
        dataset=dataset,
    )


def jsonl_records(path: Path, what: str = "Dataset") -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)`` for each non-blank line of a JSONL file ("name line N").

    A missing file or a line that is not JSON raises ``DatasetError`` naming it.
    """
    if not path.is_file():
        raise DatasetError(f"{what} {path} does not exist.")
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name} line {lineno}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}).") from None


def load_dataset(path: str | Path, limit: int | None = None) -> list[EvalCase]:
    """Read a JSONL golden set (its first ``limit`` lines); a bad line raises ``DatasetError``."""
    path = Path(path)
    cases = []
    for where, record in jsonl_records(path):
        cases.append(_case(record, where, path.name))
        if limit is not None and len(cases) >= limit:
            break
    if not cases:
        raise DatasetError(f"Dataset {path} has no questions.")
    return cases


# --- metrics ----------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def first_hit_rank(retrieved: Sequence[str], sources: Sequence[str], k: int = K) -> int | None:
    """1-based rank of the first retrieved source listed in ``sources`` (within the top k)."""
    wanted = {s.lower() for s in sources}
    return next((i for i, s in enumerate(retrieved[:k], 1) if s.lower() in wanted), None)


def hit_at(retrieved: Sequence[str], sources: Sequence[str], k: int) -> bool:
    """Whether a listed source is among the top ``k`` retrieved sources."""
    return first_hit_rank(retrieved, sources, k) is not None


def reciprocal_rank(retrieved: Sequence[str], sources: Sequence[str], k: int = K) -> float:
    """1/rank of the first listed source in the top ``k`` (0 when none)."""
    rank = first_hit_rank(retrieved, sources, k)
    return 1.0 / rank if rank else 0.0


def page_hit(
    retrieved: Sequence[tuple[str, int]], sources: Sequence[str], pages: Sequence[int], k: int = K
) -> bool:
    """Whether a top-``k`` passage has a listed source and a listed page."""
    wanted = {s.lower() for s in sources}
    return any(s.lower() in wanted and p in pages for s, p in retrieved[:k])


_FLAGGED = re.compile(re.escape(UNVERIFIED) + r"\s*~~.*?~~", re.S)


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def shown_text(answer: str) -> str:
    """The answer as the reader sees it: flagged (unverified) sentences out, escapes undone."""
    return _ESCAPED.sub(r"\1", _FLAGGED.sub(" ", answer)).replace("\u2060", "")


def key_fact_recall(answer: str, key_facts: Sequence[str]) -> float | None:
    """Share of ``key_facts`` in the shown answer (None when there are none to find)."""
    if not key_facts:
        return None
    shown = _norm(shown_text(answer))
    return sum(_norm(f) in shown for f in key_facts) / len(key_facts)


def _sentence_key(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", _norm(strip_citations(text))).split())


def unflagged_unsupported(
    verification: verify.Verification | None, answer: str, extractive: bool = False
) -> int:
    """Count unsupported claim sentences the answer shows as fact (outside an "unverified" flag).

    Sentences are compared whole (punctuation, citations and case ignored), so a short claim
    such as "1." does not match inside another sentence. An extractive answer shows passage
    quotes instead of the model's sentences, so none of its claims is shown.
    """
    if verification is None or extractive:
        return 0
    shown = {_sentence_key(s) for s in split_sentences(shown_text(answer))}
    return sum(
        1
        for s in verification.unsupported
        if _sentence_key(s.claim) and _sentence_key(s.claim) in shown
    )


def _mean(values: Sequence[float | bool]) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def retrieval_scores(retrieved: Sequence[tuple[str, int]], case: EvalCase) -> dict[str, Any]:
    """hit@1, hit@5, reciprocal rank and page hit@5 of one answerable line."""
    names = [s for s, _ in retrieved]
    return {
        "hit1": hit_at(names, case.sources, 1),
        "hit5": hit_at(names, case.sources, K),
        "rr": round(reciprocal_rank(names, case.sources), 4),
        "page_hit5": page_hit(retrieved, case.sources, case.pages) if case.pages else None,
    }


def retrieval_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Source hit@1/@5, MRR and page hit@5 over the answerable rows."""
    ans = [r for r in rows if r["answerable"]]
    paged = [r["page_hit5"] for r in ans if r.get("page_hit5") is not None]
    return {
        "source_hit_at_1": _mean([r["hit1"] for r in ans]),
        "source_hit_at_5": _mean([r["hit5"] for r in ans]),
        "mrr": _mean([r["rr"] for r in ans]),
        "page_hit_at_5": _mean(paged),
        "page_questions": len(paged),
    }


def summarise(rows: Sequence[dict[str, Any]], retrieval_only: bool = False) -> dict[str, Any]:
    """All metrics of a run from its per-question rows."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {
        "mode": "retrieval-only" if retrieval_only else "full",
        "questions": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        **retrieval_summary(rows),
        "refusal_accuracy": _mean([r["refused"] for r in una]),
        "false_refusal_rate": _mean([r["refused"] for r in ans]),
    }
    if not retrieval_only:
        claims = sum(r["claims"] for r in rows)
        unsupported = sum(r["unsupported"] for r in rows)
        recalls = [r["key_fact_recall"] for r in ans if r["key_fact_recall"] is not None]
        out |= {
            # Answerable questions whose generated answer failed verification, so passages
            # were quoted instead (neither a refusal nor a generated answer).
            "quoted_rate": _mean([r.get("quoted", False) for r in ans]),
            "key_fact_recall": _mean(recalls),
            "claim_sentences": claims,
            "unsupported_sentences": unsupported,
            "unsupported_sentence_rate": round(unsupported / claims, 4) if claims else None,
            "unflagged_unsupported": sum(r["unflagged"] for r in rows),
        }
    totals = [r["total_ms"] for r in rows if r.get("total_ms") is not None]
    verifies = [r["verify_ms"] for r in rows if r.get("verify_ms") is not None]
    out |= {
        "total_ms_p50": _pct(totals, 50),
        "total_ms_p95": _pct(totals, 95),
        "verify_ms_p50": _pct(verifies, 50),
        "verify_ms_p95": _pct(verifies, 95),
    }
    return out


# --- running ---------------------------------------------------------------------------------


@dataclass
class EvalRun:
    """Everything one evaluation produced."""

    datasets: list[str]
    docs_dir: str
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    baseline: dict[str, Any] | None
    ingest: dict[str, Any]
    created_at: str = field(default_factory=utc_now)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def _answer_row(case: EvalCase, assistant, bases: dict[str, str]) -> dict[str, Any]:
    stream = assistant.ask(case.question)
    for _ in stream:
        pass
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
    from rag.answer.prompts import load_prompt
    from rag.index.retrieve import HybridSearch
    from rag.models.embeddings import MODEL_NAME, MiniLMEmbeddings

    files = collect_docs(docs_dir)
    bases = {f.name: f.base for f in files}
    embeddings = embeddings or MiniLMEmbeddings()
    config = {
        "backend": "none" if retrieval_only else "",
        "model": "",
        "prompt_version": load_prompt("answer", settings.prompt_version).ref,
        "embedder": f"embedded/{MODEL_NAME}",
        "top_k": settings.top_k,
        "chunk_tokens": settings.chunk_tokens,
        "unsupported": settings.unsupported,
        "retrieval_only": retrieval_only,
    }
    rows: list[dict[str, Any]] = []
    with eval_store(settings, files, embeddings, progress) as cached:
        store = cached.store
        reports = cached.reports
        if retrieval_only:
            search = HybridSearch(store, top_k=K)
            encode = verify.CachingEncoder(embeddings.encode)
            answer = lambda case: _retrieval_row(case, search, encode, bases)  # noqa: E731
        else:
            from rag.answer.chain import Assistant
            from rag.models.backends import make_chat_model, resolve_backend

            own = store.settings
            if chat_model is None or choice is None:
                choice = resolve_backend(own)
                chat_model = make_chat_model(own, choice)
            assistant = Assistant(own, store, chat_model, choice)
            config |= {"backend": choice.name, "model": choice.chat_model}
            answer = lambda case: _answer_row(case, assistant, bases)  # noqa: E731
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
        ingest = {
            "cache_dir": str(cached.folder),
            "reused": cached.reused,
            "index_version": store.index_version,
            "files": len(reports),
            "failed": [r["error"] for r in reports if r["status"] == "failed"],  # names the file
            "chunks": sum(int(r.get("chunks") or 0) for r in reports),
        }
    base_summary = None
    if baseline:
        naive = baseline_retrieval(settings, files, cases, embeddings, progress, "baseline")
        for case, row, got in zip(cases, rows, naive, strict=True):
            row["baseline"] = {"retrieved": got}
            if case.answerable:
                row["baseline"] |= retrieval_scores(got, case)
        base_summary = retrieval_summary(
            [r["baseline"] | {"answerable": r["answerable"]} for r in rows]
        )
        base_summary["refusal_accuracy"] = 0.0  # it always answers, by construction
    if progress:
        progress("done", len(cases), len(cases), "")
    datasets = list(dict.fromkeys(c.dataset for c in cases))
    return EvalRun(
        datasets, str(docs_dir), config, rows, summarise(rows, retrieval_only), base_summary, ingest
    )


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


# --- history ----------------------------------------------------------------------------------


def record_run(db, run: EvalRun) -> int:
    """Store a run's configuration and summary in ``eval_runs``; return its id."""
    row = {
        "created_at": run.created_at,
        "datasets": json.dumps(run.datasets),
        "docs_dir": run.docs_dir,
        **{k: run.config.get(k) for k in ("backend", "model", "prompt_version", "embedder")},
        "top_k": run.config.get("top_k"),
        "retrieval_only": int(bool(run.config.get("retrieval_only"))),
        "questions": run.summary["questions"],
        "summary": json.dumps(run.summary),
        "baseline": json.dumps(run.baseline) if run.baseline is not None else None,
    }
    with write_transaction(db):
        run.id = int(db["eval_runs"].insert(row).last_pk)
    return run.id


def list_runs(db, limit: int = 500) -> list[dict[str, Any]]:
    """Past runs, oldest first, with their summaries decoded."""
    rows = fetch(db, "select * from eval_runs order by created_at desc, id desc limit ?", [limit])
    for row in rows:
        row["datasets"] = json.loads(row["datasets"] or "[]")
        row["summary"] = json.loads(row["summary"] or "{}")
        row["baseline"] = json.loads(row["baseline"]) if row["baseline"] else None
    return rows[::-1]
