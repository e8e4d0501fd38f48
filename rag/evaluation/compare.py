"""Comparing two evaluation runs: metric deltas with bootstrap intervals, and the cases that moved.

Cases are paired by golden set and id, so only questions both runs answered are compared.
Every metric is a ratio over cases (a mean is a ratio with one per case), and its delta's 95%
interval comes from a paired bootstrap: cases are resampled with replacement, and the same
resample is scored in both runs. A delta whose interval excludes zero is called worse or better;
otherwise the runs are not distinguishable on those cases.

A case *regressed* when one of its outcomes got worse: the right source left the top 5 or the
top 1, the right page left the top 5, an unanswerable question was answered, an answerable one
refused, fewer key facts shown, or an unsupported sentence shown unflagged. Regressed and
improved cases are listed first, most changed first, each with both answers and their sources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.evaluation.fingerprint import differences
from rag.evaluation.runs import EvalRun

RESAMPLES = 2000
SEED = 13  # a fixed seed: the same two runs always give the same interval

Row = dict[str, Any]
# metric -> (label, numerator, denominator, higher is better); None when the case does not count
Part = Callable[[Row], float | None]


def _when(test: Callable[[Row], bool], value: Callable[[Row], Any]) -> Part:
    return lambda r: (float(value(r)) if value(r) is not None else None) if test(r) else None


def _answerable(r: Row) -> bool:
    return bool(r.get("answerable"))


def _unanswerable(r: Row) -> bool:
    return not r.get("answerable")


def _one(_r: Row) -> float:
    return 1.0


METRICS: dict[str, tuple[str, Part, Part, bool]] = {
    "source_hit_at_5": ("source hit@5", _when(_answerable, lambda r: r.get("hit5")), _one, True),
    "source_hit_at_1": ("source hit@1", _when(_answerable, lambda r: r.get("hit1")), _one, True),
    "mrr": ("MRR", _when(_answerable, lambda r: r.get("rr")), _one, True),
    "page_hit_at_5": ("page hit@5", _when(_answerable, lambda r: r.get("page_hit5")), _one, True),
    "refusal_accuracy": (
        "refusal accuracy",
        _when(_unanswerable, lambda r: r["refused"]),
        _one,
        True,
    ),
    "false_refusal_rate": (
        "false refusals",
        _when(_answerable, lambda r: r["refused"]),
        _one,
        False,
    ),
    "key_fact_recall": (
        "key-fact recall",
        _when(_answerable, lambda r: r.get("key_fact_recall")),
        _one,
        True,
    ),
    "unsupported_sentence_rate": (
        "unsupported sentences",
        lambda r: r.get("unsupported") if r.get("claims") else None,
        lambda r: r.get("claims") or None,
        False,
    ),
}


@dataclass
class MetricDelta:
    """One metric in both runs, on the cases both answered."""

    name: str
    label: str
    a: float | None
    b: float | None
    delta: float | None
    low: float | None
    high: float | None
    cases: int
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        """ "worse", "better" or "same" (the interval includes no change)."""
        if self.low is None or self.high is None or (self.low <= 0 <= self.high):
            return "same"
        up = self.low > 0
        return "better" if up == self.higher_is_better else "worse"


@dataclass
class CaseChange:
    """A case whose outcome moved between the runs, with what each run answered."""

    key: tuple[str, str]
    question: str
    changes: list[str]
    severity: float
    a: Row
    b: Row


@dataclass
class Comparison:
    """Two runs side by side."""

    a: EvalRun
    b: EvalRun
    metrics: list[MetricDelta]
    regressed: list[CaseChange]
    improved: list[CaseChange]
    paired: int
    only_a: list[tuple[str, str]] = field(default_factory=list)
    only_b: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, Any, Any]] = field(default_factory=list)  # fingerprint fields
    reworded: int = 0  # cases answered in other words (scores moved or not)

    @property
    def coverage(self) -> str:
        """Which cases were compared: "40 cases in both runs; 3 only in A; …"."""
        return (
            f"{self.paired} cases in both runs"
            + (f"; {len(self.only_a)} only in A" if self.only_a else "")
            + (f"; {len(self.only_b)} only in B" if self.only_b else "")
            + (f"; {self.reworded} answered in other words" if self.reworded else "")
            + "."
        )

    @property
    def worse(self) -> list[MetricDelta]:
        """The metrics whose interval says run B is worse."""
        return [m for m in self.metrics if m.verdict == "worse"]


def retrieved_sources(row: Row, k: int = 5) -> str:
    """A case's top ``k`` retrieved passages as "file p.N, …" ("none" when nothing came back)."""
    return ", ".join(f"{s} p.{p}" for s, p in (row.get("retrieved") or [])[:k]) or "none"


def case_key(row: Row) -> tuple[str, str]:
    """How a case is matched across runs: its golden set and id."""
    return (str(row.get("dataset", "")), str(row.get("id", "")))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return num.sum(axis=-1) / den.sum(axis=-1)


def metric_delta(
    name: str, pairs: list[tuple[Row, Row]], resamples: int = RESAMPLES
) -> MetricDelta | None:
    """One metric's values, delta and paired-bootstrap 95% interval (None if no case counts)."""
    label, num, den, higher = METRICS[name]
    values = []
    for ra, rb in pairs:
        got = (num(ra), den(ra), num(rb), den(rb))
        if None not in got:
            values.append(got)
    if not values:
        return None
    na, da, nb, db = (np.array(col, dtype=float) for col in zip(*values, strict=True))
    a, b = float(_ratio(na, da)), float(_ratio(nb, db))
    rng = np.random.default_rng(SEED)
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    deltas = _ratio(nb[idx], db[idx]) - _ratio(na[idx], da[idx])
    low, high = np.nanpercentile(deltas, [2.5, 97.5]) if np.isfinite(deltas).any() else (None,) * 2
    return MetricDelta(
        name, label, round(a, 4), round(b, 4), round(b - a, 4),
        None if low is None else round(float(low), 4),
        None if high is None else round(float(high), 4),
        len(values), higher,
    )  # fmt: skip


def _outcomes(row: Row) -> dict[str, float]:
    """A case's outcomes as numbers where higher is better."""
    out: dict[str, float] = {}
    if row.get("answerable"):
        for key in ("hit5", "hit1", "page_hit5"):
            if row.get(key) is not None:
                out[key] = float(row[key])
        if "refused" in row:
            out["answered"] = float(not row["refused"])
        if row.get("key_fact_recall") is not None:
            out["key facts"] = float(row["key_fact_recall"])
    elif "refused" in row:
        out["refused"] = float(row["refused"])
    if row.get("unflagged") is not None:
        out["no unflagged"] = -float(row["unflagged"])
    return out


_WORDS = {
    "hit5": ("right source left the top 5", "right source now in the top 5"),
    "hit1": ("right source no longer first", "right source now first"),
    "page_hit5": ("right page left the top 5", "right page now in the top 5"),
    "answered": ("now refused", "now answered"),
    "refused": ("unanswerable question now answered", "unanswerable question now refused"),
    "key facts": ("fewer key facts shown", "more key facts shown"),
    "no unflagged": ("unsupported sentence shown unflagged", "no unsupported sentence shown"),
}


def case_change(ra: Row, rb: Row) -> CaseChange | None:
    """What moved for one case (None when nothing did). A case with any outcome worse
    regressed; its severity is the sum of what got worse (negative), else of what got better."""
    oa, ob = _outcomes(ra), _outcomes(rb)
    moved = [(k, ob[k] - oa[k]) for k in oa.keys() & ob.keys() if ob[k] != oa[k]]
    if not moved:
        return None
    worse = [d for _, d in moved if d < 0]
    severity = sum(worse) if worse else sum(d for _, d in moved)
    words = [_WORDS[k][d > 0] for k, d in sorted(moved, key=lambda m: m[1])]
    return CaseChange(case_key(rb), str(rb.get("question", "")), words, round(severity, 4), ra, rb)


def compare_runs(a: EvalRun, b: EvalRun, resamples: int = RESAMPLES) -> Comparison:
    """Compare run ``b`` with run ``a`` (the reference) on the cases both answered."""
    rows_a = {case_key(r): r for r in a.rows}
    rows_b = {case_key(r): r for r in b.rows}
    keys = [k for k in rows_a if k in rows_b]
    pairs = [(rows_a[k], rows_b[k]) for k in keys]
    metrics = [m for name in METRICS if (m := metric_delta(name, pairs, resamples))]
    moved = [c for ra, rb in pairs if (c := case_change(ra, rb))]
    return Comparison(
        a,
        b,
        metrics,
        regressed=sorted((c for c in moved if c.severity < 0), key=lambda c: c.severity),
        improved=sorted((c for c in moved if c.severity > 0), key=lambda c: -c.severity),
        paired=len(pairs),
        only_a=[k for k in rows_a if k not in rows_b],
        only_b=[k for k in rows_b if k not in rows_a],
        changed=differences(a.fingerprint, b.fingerprint),
        reworded=sum(ra.get("answer") != rb.get("answer") for ra, rb in pairs),
    )
