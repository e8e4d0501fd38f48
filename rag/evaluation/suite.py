"""Retrieval across several corpora, per corpus, with the baseline and leave-one-corpus-out fits.

A suite file (``evals/suite.json``) lists corpora: a docs folder and golden sets, relative to a
corpora root. For each corpus the suite gathers every answerable question's rankings once
(:meth:`rag.index.retrieve.HybridSearch.rankings`) and scores, in the same run:

* the naive tutorial baseline (:mod:`rag.evaluation.baseline`);
* single rankings (vector only, lexical only) and the previous release's equal-weight RRF;
* Groundwork's shipped fusion (:data:`rag.index.retrieve.DEFAULT_FUSION`);
* with ``tune``: the fusion chosen on the *other* corpora from a small grid, scored on the
  held-out one (leave-one-corpus-out), which is the honest figure for any fitted weight.

Nothing is pooled: every number is per corpus.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.answer.encoder import CachingEncoder
from rag.answer.refusal import DEFAULT_GATE, Gate, fit, gate_features
from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.cache import collect_docs, eval_store
from rag.evaluation.evaluate import baseline_retrieval
from rag.evaluation.golden import EvalCase, load_dataset
from rag.evaluation.metrics import K, retrieval_scores, retrieval_summary
from rag.index.retrieve import DEFAULT_FUSION, Fusion, HybridSearch, Rankings, fuse

METRICS = ("source_hit_at_1", "source_hit_at_5", "mrr", "page_hit_at_5")
PREVIOUS_THRESHOLD = 0.61  # the last release's fixed evidence cut, kept as the refusal baseline
ABLATIONS = {
    "vector only": Fusion(1.0, 0.0, 0.0, adaptive=False),
    "lexical only": Fusion(0.0, 1.0, 0.0, adaptive=False),
    "equal RRF (previous)": Fusion(1.0, 1.0, 0.0, adaptive=False),
}
GRID = [
    Fusion(1.0, lex, doc, adaptive)
    for lex, doc, adaptive in itertools.product(
        (0.0, 0.25, 0.5, 1.0), (0.0, 0.25, 0.5, 1.0, 2.0), (True, False)
    )
]


@dataclass
class CorpusSpec:
    """One corpus of a suite: its documents and golden sets."""

    name: str
    docs: Path
    datasets: list[Path]


@dataclass
class CorpusResult:
    """What one corpus scored under each retrieval configuration."""

    name: str
    questions: int
    answerable: int
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)  # config -> summary
    grid: dict[str, dict[str, Any]] = field(default_factory=dict)  # fusion label -> summary
    refusal: dict[str, dict[str, Any]] = field(default_factory=dict)  # gate -> refusal scores
    gate_rows: list[tuple[dict[str, float], bool]] = field(default_factory=list)


def load_suite(path: Path, corpora_root: Path, only: list[str] | None = None) -> list[CorpusSpec]:
    """Read a suite file; corpora whose folder is missing are reported, not silently dropped."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Suite {path} cannot be read ({exc}).") from None
    specs = []
    for entry in data.get("corpora", []):
        if only and entry["name"] not in only:
            continue

        def resolve(p: str) -> Path:
            # "repo:" paths live in this repository, others under the corpora root
            return (
                path.parent.parent / p[5:] if p.startswith("repo:") else corpora_root / p
            ).resolve()

        specs.append(
            CorpusSpec(
                entry["name"], resolve(entry["docs"]), [resolve(d) for d in entry["datasets"]]
            )
        )
    missing = [s for s in specs if not s.docs.is_dir()]
    if missing:
        names = ", ".join(f"{s.name} ({s.docs})" for s in missing)
        raise DatasetError(
            f"Corpora not found: {names}. Pass --corpora with the folder holding them."
        )
    if not specs:
        raise DatasetError(f"Suite {path} lists no corpus named {', '.join(only or [])}.")
    return specs


def _summary(cases: list[EvalCase], retrieved: list[list[tuple[str, int]]]) -> dict[str, Any]:
    rows = [
        {"answerable": True, **retrieval_scores(got, case)}
        for case, got in zip(cases, retrieved, strict=True)
    ]
    return retrieval_summary(rows)


def _gate_rows(cases, rankings, search, embeddings) -> list[tuple[dict[str, float], bool]]:
    """The refusal gate's features for every question (answerable or not), as the chain sees
    them: the shipped fusion's top passages, their evidence strength and retrieval signals."""
    encode = CachingEncoder(embeddings.encode)
    rows = []
    for case, r in zip(cases, rankings, strict=True):
        passages = search.top(r, K, DEFAULT_FUSION)
        rows.append((gate_features(search, case.question, passages, encode), case.answerable))
    return rows


def refusal_scores(
    rows: list[tuple[dict[str, float], bool]], refuses: Callable[[dict[str, float]], bool]
) -> dict[str, Any]:
    """Refusal accuracy (unanswerable refused) and false refusals (answerable refused)."""
    una = [refuses(f) for f, answerable in rows if not answerable]
    ans = [refuses(f) for f, answerable in rows if answerable]
    return {
        "refusal_accuracy": round(sum(una) / len(una), 4) if una else None,
        "false_refusal_rate": round(sum(ans) / len(ans), 4) if ans else None,
        "unanswerable": len(una),
        "answerable": len(ans),
    }


def _previous_gate(features: dict[str, float]) -> bool:
    return features["strength"] < PREVIOUS_THRESHOLD


def _objective(summary: dict[str, Any]) -> float:
    values = [summary[m] for m in ("source_hit_at_1", "source_hit_at_5", "page_hit_at_5")]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else 0.0


def run_corpus(
    spec: CorpusSpec,
    settings: Settings,
    embeddings,
    tune: bool = False,
    progress: Callable[[str, int, int, str], None] | None = None,
) -> CorpusResult:
    """Score one corpus: baseline, ablations, shipped fusion and (``tune``) the whole grid."""
    cases = [c for d in spec.datasets for c in load_dataset(d)]
    answerable = [c for c in cases if c.answerable]
    files = collect_docs(spec.docs)
    bases = {f.name: f.base for f in files}
    result = CorpusResult(spec.name, len(cases), len(answerable))
    with eval_store(settings, files, embeddings, progress) as cached:
        search = HybridSearch(cached.store, top_k=K)
        every = _rankings(spec.name, cases, search, progress)
        result.gate_rows = _gate_rows(cases, every, search, embeddings)
        result.refusal["previous (cosine 0.61)"] = refusal_scores(result.gate_rows, _previous_gate)
        result.refusal["groundwork"] = refusal_scores(result.gate_rows, DEFAULT_GATE.refuses)
        gathered = [r for r, c in zip(every, cases, strict=True) if c.answerable]
        fusions = {**ABLATIONS, "groundwork": DEFAULT_FUSION}
        for label, fusion in fusions.items():
            result.scores[label] = _fusion_summary(answerable, gathered, fusion, bases)
        if tune:
            result.grid = {f.label(): _fusion_summary(answerable, gathered, f, bases) for f in GRID}
    stage = f"{spec.name} baseline"
    got = baseline_retrieval(settings, files, answerable, embeddings, progress, stage)
    result.scores["baseline"] = _summary(answerable, got)
    return result


def _rankings(
    name: str,
    cases: list[EvalCase],
    search: HybridSearch,
    progress: Callable[[str, int, int, str], None] | None,
) -> list[Rankings]:
    """Every question's rankings, gathered once and fused under each configuration."""
    every = []
    for i, case in enumerate(cases):
        if progress:
            progress(f"{name} questions", i, len(cases), case.question)
        every.append(search.rankings(case.question))
    return every


def _fusion_summary(
    cases: list[EvalCase], rankings: list[Rankings], fusion: Fusion, bases: dict[str, str]
) -> dict[str, Any]:
    """Retrieval scores of the answerable ``cases`` with their ``rankings`` fused by ``fusion``."""
    got = [[(bases.get(p.source, p.source), p.page) for p in fuse(r, fusion, K)] for r in rankings]
    return _summary(cases, got)


def leave_one_out(results: list[CorpusResult]) -> dict[str, dict[str, Any]]:
    """For each corpus: the grid fusion best on the others, and its score on this one."""
    out = {}
    for held in results:
        others = [r for r in results if r is not held]
        if not others or not held.grid:
            continue
        best = max(
            held.grid,
            key=lambda label: sum(_objective(r.grid[label]) for r in others) / len(others),
        )
        out[held.name] = {"fusion": best, **held.grid[best]}
    return out


def gate_leave_one_out(results: list[CorpusResult]) -> dict[str, dict[str, Any]]:
    """For each corpus with unanswerable questions: the refusal gate fitted on the other
    corpora, scored on this one (the honest figure for the gate's fitted weights)."""
    out = {}
    for held in results:
        train = [row for r in results if r is not held for row in r.gate_rows]
        if not held.gate_rows or len({a for _, a in train}) < 2:
            continue
        gate = fit(train)
        out[held.name] = {"gate": gate, **refusal_scores(held.gate_rows, gate.refuses)}
    return out


def fit_gate(results: list[CorpusResult]) -> Gate | None:
    """The gate fitted on every corpus together (what to ship; not a result by itself)."""
    rows = [row for r in results for row in r.gate_rows]
    return fit(rows) if len({a for _, a in rows}) == 2 else None


def best_overall(results: list[CorpusResult]) -> str | None:
    """The grid fusion best on all corpora together (what to ship; not a result by itself)."""
    tuned = [r for r in results if r.grid]
    if not tuned:
        return None
    return max(tuned[0].grid, key=lambda label: sum(_objective(r.grid[label]) for r in tuned))


COLUMNS = ("baseline", "vector only", "lexical only", "equal RRF (previous)", "groundwork")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _refusal_lines(r: CorpusResult, loco: dict[str, Any] | None) -> list[str]:
    rows = dict(r.refusal)
    if loco:
        rows["groundwork LOCO"] = loco
    if not rows or not any(v.get("unanswerable") for v in rows.values()):
        return []
    lines = [f"  {'refusal gate':<24}{'refuses unanswerable':>22}{'refuses answerable':>20}"]
    for label, v in rows.items():
        refused = f"{_pct(v.get('refusal_accuracy'))} of {v.get('unanswerable', 0)}"
        false = f"{_pct(v.get('false_refusal_rate'))} of {v.get('answerable', 0)}"
        lines.append(f"  {label:<24}{refused:>22}{false:>20}")
    return lines


def format_suite(
    results: list[CorpusResult],
    loco: dict[str, dict[str, Any]],
    gate_loco: dict[str, dict[str, Any]] | None = None,
) -> str:
    """One block per corpus: each configuration's hit@1 / hit@5 / MRR / page hit@5."""
    columns = list(COLUMNS) + (["groundwork LOCO"] if loco else [])
    gate_loco = gate_loco or {}
    lines = []
    for r in results:
        lines.append(f"\n{r.name}: {r.answerable} answerable questions of {r.questions}")
        lines.append(f"  {'metric':<16}" + "".join(f"{c[:20]:>22}" for c in columns))
        for metric in METRICS:
            cells = []
            for c in columns:
                summary = loco.get(r.name, {}) if c == "groundwork LOCO" else r.scores.get(c, {})
                value = summary.get(metric)
                cells.append("–" if value is None else f"{value:.3f}")
            lines.append(f"  {metric:<16}" + "".join(f"{v:>22}" for v in cells))
        if r.name in loco:
            lines.append(f"  LOCO fusion (fitted on the other corpora): {loco[r.name]['fusion']}")
        lines.extend(_refusal_lines(r, gate_loco.get(r.name)))
    lines.append(f"\nShipped fusion: {DEFAULT_FUSION.label()}.")
    if best := best_overall(results):
        lines.append(f"Best on all corpora together (in-sample, not a result): {best}.")
    if gate := fit_gate(results):
        lines.append(f"Shipped refusal gate: {DEFAULT_GATE}.")
        lines.append(f"Gate fitted on all corpora together (in-sample, not a result): {gate}.")
    return "\n".join(lines)
