"""Online drift signals: the live answers of a period against the period just before it.

A period is an inclusive range of UTC days as on the Insights page (a date covers its whole
day, see ``rag.ops.database.time_bounds``); the previous period is as long and ends where this
one starts. Four signals, read from the run log and feedback:

* ``thumbs_down``: the share of ratings that are thumbs down, among ratings of the answers given
  in the period (a rating counts on the day of the answer it rates, as in ``rag.ops.insights``).
* ``refused``: the share of logged answers that said the documents do not answer
  (``runs.refused``).
* ``unverified``: among answers whose model-written draft was checked sentence by sentence
  (``runs.verification`` lists at least one sentence), the share where the check failed: the
  draft was replaced by quoted passages (``extractive`` in ``runs.extra``), or a claim sentence
  (``is_claim``, true when absent) has ``supported`` false. Quote-mode answers, answers the model
  declined and answers without passages carry no verification and are not counted.
* ``top_score``: each answer's best passage score (``max(runs.passages[].score)``, the fused
  score the retriever ranked by); answers without passages have none. Its scale follows the
  retrieval settings, so it compares periods that used the same ones.

A rate has shifted when both periods hold at least ``min_count`` observations and a two-sided
two-proportion z-test gives p < ``alpha`` (Wilson 95 % intervals are kept for display). The
score distribution has shifted when both periods hold ``min_count`` answers and a two-sample
Kolmogorov-Smirnov test (asymptotic p-value) gives p < ``alpha``. Four signals are read on every
visit, so ``alpha`` defaults to 0.01: noise rarely raises one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlite_utils import Database

from rag.ops.database import fetch, time_bounds, to_iso
from rag.ops.stats import ks_two_sample, two_proportion_p, wilson_interval

DateLike = str | date | datetime | None
DRIFT_SIGNALS = {  # name -> what it is called on the page
    "thumbs_down": "Thumbs down",
    "refused": "Refused",
    "unverified": "Verification failed",
    "top_score": "Top retrieval score",
}
MIN_COUNT = 20
ALPHA = 0.01
MAX_QUESTIONS = 200
_QUESTION_CHARS = 300  # stored text is untrusted: bound what a listing carries
_EXCERPT_CHARS = 160

_ANSWERED = "coalesce(run_created_at, created_at)"  # a rating's answer day, as insights counts
_CHECKED = "json_array_length(verification) > 0"
_QUOTED = "coalesce(json_extract(extra, '$.extractive'), 0) = 1"
_UNSUPPORTED = """(SELECT count(*) FROM json_each(runs.verification) AS v
  WHERE coalesce(json_extract(v.value, '$.is_claim'), 1)
    AND NOT coalesce(json_extract(v.value, '$.supported'), 0))"""
_CLAIMS = """(SELECT count(*) FROM json_each(runs.verification) AS v
  WHERE coalesce(json_extract(v.value, '$.is_claim'), 1))"""
# json_tree walks the flat passage records about twice as fast as json_each + json_extract
_TOP = """(SELECT max(atom) FROM json_tree(runs.passages)
  WHERE key = 'score' AND type IN ('integer', 'real'))"""
_WINDOW = "{col} >= :lo AND {col} < :hi"
_RUNS = _WINDOW.format(col="created_at")
_RATED = _WINDOW.format(col=_ANSWERED)
_FAILED = f"({_QUOTED} OR {_UNSUPPORTED} > 0)"
_COUNTS = {  # signal -> SQL giving (hits, total) in the window :lo..:hi
    "thumbs_down": f"SELECT sum(score = 0) AS hits, count(*) AS total FROM feedback WHERE {_RATED}",
    "refused": f"SELECT sum(refused) AS hits, count(*) AS total FROM runs WHERE {_RUNS}",
    "unverified": f"SELECT sum({_FAILED}) AS hits, count(*) AS total FROM runs"
    f" WHERE {_RUNS} AND {_CHECKED}",
}
# MATERIALIZED: else SQLite flattens the subquery and walks every answer's passages twice
_SCORES = f"""WITH t AS MATERIALIZED (SELECT {_TOP} AS top FROM runs WHERE {_RUNS})
SELECT top FROM t WHERE top IS NOT NULL"""
_LISTED = (
    "run_id, {time} AS time, substr(question, 1, :q) AS question, substr(answer, 1, :a) AS answer"
)
_LISTS = {  # signal -> SQL listing the current period's answers behind it
    "thumbs_down": f"""SELECT {_LISTED.format(time=_ANSWERED)},
  'thumbs down' || coalesce(': ' || reason, '') AS value
FROM feedback WHERE {_RATED} AND score = 0 ORDER BY time DESC, id DESC LIMIT :limit""",
    "refused": f"""SELECT {_LISTED.format(time="created_at")},
  CASE WHEN json_array_length(passages) = 0 THEN 'no passage matched' ELSE 'refused, gate evidence '
    || coalesce(printf('%.2f', json_extract(extra, '$.evidence')), 'unknown') END AS value
FROM runs WHERE {_RUNS} AND refused = 1 ORDER BY time DESC LIMIT :limit""",
    "unverified": f"""SELECT {_LISTED.format(time="created_at")},
  CASE WHEN {_QUOTED} THEN 'draft failed the check, passages quoted'
    ELSE {_UNSUPPORTED} || ' of ' || {_CLAIMS} || ' claims unsupported' END AS value
FROM runs WHERE {_RUNS} AND {_CHECKED} AND {_FAILED} ORDER BY time DESC LIMIT :limit""",
    "top_score": f"""WITH t AS MATERIALIZED (
  SELECT {_LISTED.format(time="created_at")}, {_TOP} AS value FROM runs WHERE {_RUNS})
SELECT * FROM t WHERE value < :below ORDER BY value, time DESC LIMIT :limit""",
}
QUESTION_COLUMNS = ["run_id", "time", "question", "answer", "value"]


@dataclass(frozen=True)
class Window:
    """A span of stored times, ``lo <= created_at < hi``."""

    lo: str
    hi: str

    @property
    def label(self) -> str:
        """The span as inclusive UTC days: ``2026-03-01`` or ``2026-03-01 to 2026-03-07``."""
        first = _moment(self.lo).date()
        last = (_moment(self.hi) - timedelta(microseconds=1)).date()
        return first.isoformat() if first == last else f"{first} to {last}"


def _moment(stored: str) -> datetime:
    moment = datetime.fromisoformat(stored)  # a bare date is midnight UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def drift_windows(since: DateLike, until: DateLike = None) -> tuple[Window, Window]:
    """Return the period ``since``..``until`` (inclusive) and the one of equal length before it."""
    if since is None:
        raise ValueError("a drift period needs its first day (since)")
    lo, hi = time_bounds(since, until if until is not None else since)
    start = _moment(lo)
    before = start - (_moment(hi) - start)
    before_lo = before.date().isoformat() if len(lo) == 10 else to_iso(before)
    return Window(lo, hi), Window(before_lo, lo)


@dataclass(frozen=True)
class RateSignal:
    """A rate (0..1) in this period and the previous one, with the counts behind each.

    ``current``/``previous`` are None for a period without observations, ``change`` (current
    minus previous) when either is; the intervals are Wilson 95 %.
    """

    name: str
    hits: int
    total: int
    previous_hits: int
    previous_total: int
    current: float | None
    previous: float | None
    change: float | None
    interval: tuple[float, float] | None
    previous_interval: tuple[float, float] | None
    p_value: float | None  # two-proportion z-test; None when a period is empty
    shifted: bool


@dataclass(frozen=True)
class ScoreSignal:
    """Answers' top retrieval scores in this period and the previous one.

    ``current``/``previous`` are the medians (``change`` their difference); quantiles are
    p10/p50/p90 by nearest rank, empty for a period without scores.
    """

    scores: tuple[float, ...]
    previous_scores: tuple[float, ...]
    total: int  # answers with a top score in this period
    previous_total: int
    quantiles: dict[str, float]
    previous_quantiles: dict[str, float]
    current: float | None
    previous: float | None
    change: float | None
    ks: float | None  # the two-sample Kolmogorov-Smirnov statistic
    p_value: float | None
    below_previous_p10: float | None  # share of this period's answers under the old p10
    shifted: bool
    name: str = "top_score"


@dataclass(frozen=True)
class Drift:
    """The four signals of one period against the previous period."""

    current: Window
    previous: Window
    thumbs_down: RateSignal
    refused: RateSignal
    unverified: RateSignal
    top_score: ScoreSignal
    min_count: int = MIN_COUNT  # observations each period needs before a shift is called
    alpha: float = ALPHA

    @property
    def shifted(self) -> list[str]:
        """The names of the signals that shifted, in ``DRIFT_SIGNALS`` order."""
        return [name for name in DRIFT_SIGNALS if getattr(self, name).shifted]


def _quantiles(scores: np.ndarray) -> dict[str, float]:
    if not len(scores):
        return {}
    values = np.quantile(scores, [0.1, 0.5, 0.9], method="inverted_cdf")  # nearest rank
    return {"p10": float(values[0]), "p50": float(values[1]), "p90": float(values[2])}


def _params(window: Window) -> dict[str, str]:
    return {"lo": window.lo, "hi": window.hi}


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _rate(db: Database, name: str, windows: tuple[Window, Window], min_count: int, alpha: float):
    (h, n), (hb, nb) = (
        (int(r["hits"] or 0), int(r["total"]))
        for r in (fetch(db, _COUNTS[name], _params(w))[0] for w in windows)
    )
    now, before = (h / n if n else None), (hb / nb if nb else None)
    p = two_proportion_p(h, n, hb, nb)
    shifted = min(n, nb) >= min_count and p is not None and p < alpha
    return RateSignal(
        name, h, n, hb, nb, now, before, _difference(now, before),
        wilson_interval(h, n), wilson_interval(hb, nb), p, shifted,
    )  # fmt: skip


def _top_scores(db: Database, window: Window) -> np.ndarray:
    return np.array([r["top"] for r in fetch(db, _SCORES, _params(window))], dtype=float)


def _score(db: Database, windows: tuple[Window, Window], min_count: int, alpha: float):
    now, before = (_top_scores(db, w) for w in windows)
    q_now, q_before = _quantiles(now), _quantiles(before)
    ks = p = below = None
    if len(now) and len(before):
        ks, p = ks_two_sample(now, before)
        below = float(np.mean(now < q_before["p10"]))
    shifted = min(len(now), len(before)) >= min_count and p is not None and p < alpha
    median, old_median = q_now.get("p50"), q_before.get("p50")
    return ScoreSignal(
        tuple(now.tolist()), tuple(before.tolist()), len(now), len(before), q_now, q_before,
        median, old_median, _difference(median, old_median), ks, p, below, shifted,
    )  # fmt: skip


def load_drift(
    db: Database,
    since: DateLike,
    until: DateLike = None,
    *,
    min_count: int = MIN_COUNT,
    alpha: float = ALPHA,
) -> Drift:
    """Compute the four drift signals of ``since``..``until`` against the period before it."""
    windows = drift_windows(since, until)
    rates = {name: _rate(db, name, windows, min_count, alpha) for name in _COUNTS}
    top = _score(db, windows, min_count, alpha)
    return Drift(*windows, **rates, top_score=top, min_count=min_count, alpha=alpha)


def drift_questions(
    db: Database,
    signal: str,
    since: DateLike,
    until: DateLike = None,
    *,
    limit: int = MAX_QUESTIONS,
    drift: Drift | None = None,
) -> pd.DataFrame:
    """Return this period's answers behind ``signal``: run id, time, question, answer, value.

    Rates list the rated-down, refused or unverified answers, newest first; ``top_score`` lists
    the answers whose top score fell under the previous period's p10 (under this period's when
    the previous one has no scores), lowest first. At most ``limit`` rows; text is shortened.
    Pass the period's ``drift`` to reuse its score quantiles instead of reading them again.
    """
    if signal not in _LISTS:
        raise ValueError(f"unknown signal {signal!r}; choose one of: {', '.join(DRIFT_SIGNALS)}")
    current, previous = drift_windows(since, until)
    params = {**_params(current), "q": _QUESTION_CHARS * 2, "a": _EXCERPT_CHARS * 2}
    if signal == "top_score":
        if drift is not None:
            quantiles = drift.top_score.previous_quantiles or drift.top_score.quantiles
        else:
            quantiles = _quantiles(_top_scores(db, previous)) or _quantiles(
                _top_scores(db, current)
            )
        if not quantiles:
            return pd.DataFrame(columns=QUESTION_COLUMNS)
        params["below"] = quantiles["p10"]
    rows = fetch(db, _LISTS[signal], {**params, "limit": max(0, min(limit, MAX_QUESTIONS))})
    for row in rows:
        row["time"] = row["time"][:16].replace("T", " ")  # UTC to the minute
        row["question"] = _excerpt(row["question"], _QUESTION_CHARS)
        row["answer"] = _excerpt(row["answer"], _EXCERPT_CHARS)
    return pd.DataFrame(rows, columns=QUESTION_COLUMNS)


def _excerpt(text: str | None, limit: int) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def score_histogram(signal: ScoreSignal, bins: int = 20) -> pd.DataFrame:
    """Return the share of answers per top-score bin, this period and the previous one.

    Both periods share the bins; the index is each bin's lower edge.
    """
    columns = ["current", "previous"]
    both = np.array(signal.scores + signal.previous_scores, dtype=float)
    if not len(both):
        return pd.DataFrame(columns=columns)
    edges = np.histogram_bin_edges(both, bins=bins)
    shares = {}
    for column, scores in zip(columns, (signal.scores, signal.previous_scores), strict=True):
        counts, _ = np.histogram(np.array(scores, dtype=float), bins=edges)
        shares[column] = counts / max(1, len(scores))
    return pd.DataFrame(shares, index=pd.Index(np.round(edges[:-1], 4), name="top score"))
