"""The evaluation gate CI runs: a small golden subset scored against committed thresholds.

The gate file (``evals/gate.json``) is the one place a reviewer reads: which corpora, which
questions of each (the first ``limit`` of each golden set, or the cases listed in ``ids``), how
many of its documents are ingested (``files``), which groundedness-claims files (about
``limit`` claims each, taken evenly), and per corpus the threshold each metric must meet
(``{"min": x}`` or ``{"max": x}``). Each
corpus is evaluated with the embedded backend, the answer mode the app uses with it (or
``mode``: "generate" has the model write every answer, so verification is exercised), and no
baseline (:func:`rag.evaluation.evaluate.evaluate`); the claims go through the verifier
(:mod:`rag.evaluation.claims`). A metric past its threshold fails the gate, and the failure
names the cases that regressed against the reference run committed next to the gate file
(``reference``: per-case results of the last accepted run, written with ``--update-reference``).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.compare import Comparison, compare_runs
from rag.evaluation.runs import EvalRun

CLAIMS = "claims/"  # thresholds for the claims of corpus C are under "claims/C"


@dataclass
class GateCorpus:
    """One corpus of the gate: its documents and the first ``limit`` lines of each set.

    With ``files``, only that many documents are ingested: the ones the gate's questions name,
    then others of the folder taken evenly in name order (distractors), so a large corpus stays
    fast to ingest on a fresh machine.
    """

    name: str
    docs: Path
    datasets: list[Path]
    limit: int | None = None
    files: int | None = None
    ids: list[str] | None = None  # these cases instead of the first ``limit`` of each set
    mode: str | None = None  # "generate": the model writes every answer (greedy) and is checked


@dataclass
class GateSpec:
    """What the gate runs and the thresholds it holds runs to."""

    path: Path
    corpora: list[GateCorpus]
    claims: list[Path]
    claims_limit: int | None
    thresholds: dict[str, dict[str, dict[str, float]]]
    reference: Path | None


@dataclass
class Failure:
    """A metric past its threshold."""

    corpus: str
    metric: str
    value: float | None
    bound: str  # "min" or "max"
    threshold: float

    def __str__(self) -> str:
        shown = "missing" if self.value is None else f"{self.value:.3f}"
        word = "below the minimum" if self.bound == "min" else "above the maximum"
        return f"{self.corpus}: {self.metric} {shown} is {word} {self.threshold:.3f}"


@dataclass
class GateResult:
    """The gate's verdict: every corpus run, the failures, and what regressed against the
    reference run."""

    runs: dict[str, EvalRun]
    claims: dict[str, dict[str, Any]]  # "claims/C" -> summary and the ids judged wrong
    failures: list[Failure]
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    newly_wrong: dict[str, list[str]] = field(default_factory=dict)  # claims right in reference
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per corpus and claims

    @property
    def passed(self) -> bool:
        """Whether every metric met its threshold."""
        return not self.failures


def _resolve(text: str, gate_file: Path, corpora_root: Path) -> Path:
    # "repo:" paths live in this repository, others under the corpora root
    return (
        gate_file.parent.parent / text[5:] if text.startswith("repo:") else corpora_root / text
    ).resolve()


def load_gate(path: str | Path, corpora_root: Path) -> GateSpec:
    """Read the gate file; a missing corpus folder or a malformed threshold is named."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Gate file {path} cannot be read ({exc}).") from None
    corpora = [
        GateCorpus(
            c["name"],
            _resolve(c["docs"], path, corpora_root),
            [_resolve(d, path, corpora_root) for d in c["datasets"]],
            c.get("limit"),
            c.get("files"),
            c.get("ids"),
            c.get("mode"),
        )
        for c in data.get("corpora", [])
    ]
    if missing := [f"{c.name} ({c.docs})" for c in corpora if not c.docs.is_dir()]:
        raise DatasetError(
            f"Gate corpora not found: {', '.join(missing)}. "
            "Pass --corpora with the folder holding them."
        )
    claims = data.get("claims") or {}
    thresholds = data.get("thresholds") or {}
    _check_thresholds(path, thresholds, {c.name for c in corpora})
    reference = data.get("reference")
    return GateSpec(
        path,
        corpora,
        [_resolve(f, path, corpora_root) for f in claims.get("files", [])],
        claims.get("limit"),
        thresholds,
        _resolve(reference, path, corpora_root) if reference else None,
    )


def _check_thresholds(path: Path, thresholds: dict, names: set[str]) -> None:
    for corpus, metrics in thresholds.items():
        if corpus not in names and not corpus.startswith(CLAIMS):
            raise DatasetError(f"Gate file {path}: thresholds name an unknown corpus {corpus!r}.")
        for metric, bound in metrics.items():
            if not (isinstance(bound, dict) and set(bound) <= {"min", "max"} and bound):
                raise DatasetError(
                    f'Gate file {path}: {corpus}.{metric} must be {{"min": x}} or {{"max": x}}.'
                )


def check_thresholds(corpus: str, summary: dict[str, Any], limits: dict) -> list[Failure]:
    """The metrics of one corpus's summary that are past their thresholds."""
    failures = []
    for metric, bound in limits.items():
        value = summary.get(metric)
        for kind, threshold in bound.items():
            bad = value is None or (value < threshold if kind == "min" else value > threshold)
            if bad:
                failures.append(Failure(corpus, metric, value, kind, float(threshold)))
    return failures


def read_reference(path: Path | None) -> tuple[dict[str, EvalRun], dict[str, Any]]:
    """The reference runs by corpus and its claims (empty when there is no reference yet)."""
    if path is None or not path.is_file():
        return {}, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Gate reference {path} cannot be read ({exc}).") from None
    runs = {name: EvalRun.from_dict(run) for name, run in data.get("runs", {}).items()}
    return runs, data.get("claims") or {}


def write_reference(path: Path, result: GateResult) -> None:
    """Keep this gate run's per-case results as the reference later runs are compared with."""
    runs = {}
    for name, run in result.runs.items():
        slim = run.to_dict()
        slim["rows"] = [{k: v for k, v in r.items() if k != "baseline"} for r in run.rows]
        runs[name] = slim
    payload = {"runs": runs, "claims": result.claims}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str) + "\n")


def run_gate(
    spec: GateSpec,
    settings: Settings,
    embeddings=None,
    progress: Callable[[str, int, int, str], None] | None = None,
    corpora_root: Path | None = None,
) -> GateResult:
    """Evaluate every corpus and the claims of ``spec`` and hold them to its thresholds."""
    import time

    from rag.evaluation.evaluate import evaluate
    from rag.models.embeddings import MiniLMEmbeddings

    started = time.perf_counter()
    embeddings = embeddings or MiniLMEmbeddings()
    gated = settings.model_copy(update={"backend": "embedded"})
    runs, failures, timings = {}, [], {}
    for corpus in spec.corpora:
        begun = time.perf_counter()
        cases = _cases(corpus)
        docs = _documents(corpus, cases, settings.data_dir / "gate-docs" / corpus.name)
        own = gated
        if corpus.mode:  # greedy decoding, so a generated answer is the same on every run
            own = gated.model_copy(update={"answer_mode": corpus.mode, "temperature": 0.0})
        run = evaluate(cases, docs, own, baseline=False, embeddings=embeddings, progress=progress)
        run.trigger = "gate"
        runs[corpus.name] = run
        timings[corpus.name] = time.perf_counter() - begun
        failures += check_thresholds(corpus.name, run.summary, spec.thresholds.get(corpus.name, {}))
    begun = time.perf_counter()
    claims = _claims_summary(spec, settings, embeddings, corpora_root) if spec.claims else {}
    timings["claims"] = time.perf_counter() - begun
    for name, got in claims.items():
        failures += check_thresholds(name, got["summary"], spec.thresholds.get(name, {}))
    reference, reference_claims = read_reference(spec.reference)
    comparisons = {n: compare_runs(reference[n], r) for n, r in runs.items() if n in reference}
    newly_wrong = {
        name: sorted(set(got["wrong"]) - set(reference_claims[name]["wrong"]))
        for name, got in claims.items()
        if name in reference_claims
    }
    seconds = time.perf_counter() - started
    return GateResult(runs, claims, failures, comparisons, newly_wrong, seconds, timings)


def _cases(corpus: GateCorpus) -> list:
    """The corpus's gate cases: the listed ids (every one must exist), else the first
    ``limit`` of each golden set."""
    from rag.evaluation.golden import load_dataset

    if not corpus.ids:
        return [c for d in corpus.datasets for c in load_dataset(d, corpus.limit)]
    every = {c.id: c for d in corpus.datasets for c in load_dataset(d)}
    if missing := [i for i in corpus.ids if i not in every]:
        raise DatasetError(f"Gate corpus {corpus.name}: no case {', '.join(missing)}.")
    return [every[i] for i in corpus.ids]


def _documents(corpus: GateCorpus, cases: list, folder: Path) -> Path:
    """The folder the corpus is answered from: all of it, or (``files``) the named documents
    plus evenly spaced others, linked into ``folder``."""
    from rag.evaluation.cache import collect_docs

    if corpus.files is None:
        return corpus.docs
    every = collect_docs(corpus.docs)
    named = {s for c in cases for s in c.sources}
    chosen = [f for f in every if f.base in named]
    others = [f for f in every if f.base not in named]
    room = max(0, corpus.files - len(chosen))
    if room and others:
        step = max(1, len(others) // room)
        chosen += others[::step][:room]
    if folder.exists():
        shutil.rmtree(folder)
    for f in chosen:
        link = folder / f.path.relative_to(corpus.docs)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(f.path.resolve())
    return folder


def _claims_summary(
    spec: GateSpec, settings: Settings, embeddings, corpora_root: Path | None
) -> dict[str, dict[str, Any]]:
    """The verifier on the gate's claims, per corpus: the summary and the claims judged wrong."""
    from rag.answer.encoder import CachingEncoder
    from rag.evaluation.claims import PassageFinder, check_claims, load_claims, summarise

    claims = [c for f in spec.claims for c in _evenly(load_claims(f), spec.claims_limit)]
    finder = PassageFinder(corpora_root or spec.path.parent, settings)
    results = check_claims(claims, finder, CachingEncoder(embeddings.encode))
    by_corpus: dict[str, list] = {}
    for r in results:
        by_corpus.setdefault(CLAIMS + r.claim.corpus, []).append(r)
    return {
        name: {"summary": summarise(rs), "wrong": [r.claim.id for r in rs if not r.correct]}
        for name, rs in by_corpus.items()
    }


def _evenly(items: list, count: int | None) -> list:
    """About ``count`` items taken evenly through ``items`` (a file's order groups its kinds)."""
    if not count or count >= len(items):
        return items
    return items[:: math.ceil(len(items) / count)]
