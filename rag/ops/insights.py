"""Operational insights over a date range, aggregated in SQL from the run log and feedback.

Days are UTC days (the stored timestamps are UTC). Percentiles use the nearest-rank definition:
the p-th percentile of n values is the ceil(p/100 * n)-th smallest. Costs are computed here from
stored tokens with a ``PriceTable``, so a price change recomputes history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd
from sqlite_utils import Database

from rag.ops.database import fetch, time_bounds
from rag.ops.pricing import PriceTable, cost_of

DateLike = str | date | datetime | None
_DAY = "substr(created_at, 1, 10)"
# Ratings are counted on the day of the answer they rate (the rating time if that is unknown),
# so that every chart of a range describes the same answers.
_ANSWERED = "coalesce(run_created_at, created_at)"


def _range(since: DateLike, until: DateLike, column: str = "created_at") -> tuple[str, dict]:
    lo, hi = time_bounds(since, until)
    clauses = ["1"]
    if lo is not None:
        clauses.append(f"{column} >= :lo")
    if hi is not None:
        clauses.append(f"{column} < :hi")
    return " AND ".join(clauses), {"lo": lo, "hi": hi}


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _rank(p: int, n: str) -> str:
    """SQL for the nearest rank ceil(p/100 * n), in integer arithmetic (no float surprises)."""
    return f"(({p} * {n} + 99) / 100)"


def _question_key(column: str) -> str:
    """SQL grouping key of a question: lower case, tabs/newlines as spaces, runs of up to 8
    spaces collapsed (three halving passes), trimmed."""
    expr = f"replace(replace({column}, char(10), ' '), char(9), ' ')"
    for _ in range(3):
        expr = f"replace({expr}, '  ', ' ')"
    return f"lower(trim({expr}))"


def latency_by_day(db: Database, since: DateLike = None, until: DateLike = None) -> pd.DataFrame:
    """Per day: runs, p50/p95 of total latency and of time to first token, in ms."""
    where, params = _range(since, until)
    # NULLs sort last so that a value's row number is its rank among the known values.
    sql = f"""
    WITH r AS (
      SELECT {_DAY} AS day, total_ms, ttft_ms,
        row_number() OVER (PARTITION BY {_DAY} ORDER BY total_ms IS NULL, total_ms) AS t_rank,
        count(total_ms) OVER (PARTITION BY {_DAY}) AS t_n,
        row_number() OVER (PARTITION BY {_DAY} ORDER BY ttft_ms IS NULL, ttft_ms) AS f_rank,
        count(ttft_ms) OVER (PARTITION BY {_DAY}) AS f_n
      FROM runs WHERE {where}
    )
    SELECT day, count(*) AS runs,
      max(CASE WHEN t_rank = {_rank(50, "t_n")} THEN total_ms END) AS p50_ms,
      max(CASE WHEN t_rank = {_rank(95, "t_n")} THEN total_ms END) AS p95_ms,
      max(CASE WHEN f_rank = {_rank(50, "f_n")} THEN ttft_ms END) AS ttft_p50_ms,
      max(CASE WHEN f_rank = {_rank(95, "f_n")} THEN ttft_ms END) AS ttft_p95_ms
    FROM r GROUP BY day ORDER BY day
    """
    columns = ["day", "runs", "p50_ms", "p95_ms", "ttft_p50_ms", "ttft_p95_ms"]
    return _frame(fetch(db, sql, params), columns)


def _daily_by_model(db: Database, since: DateLike, until: DateLike) -> list[dict]:
    where, params = _range(since, until)
    sql = f"""
    SELECT {_DAY} AS day, model, count(*) AS runs, sum(refused) AS refused,
      sum(error IS NOT NULL) AS errors, coalesce(sum(tokens_in), 0) AS tokens_in,
      coalesce(sum(tokens_out), 0) AS tokens_out, coalesce(sum(cpu_seconds), 0.0) AS cpu_seconds
    FROM runs WHERE {where} GROUP BY day, model ORDER BY day
    """
    return fetch(db, sql, params)


def usage_by_day(
    db: Database,
    since: DateLike = None,
    until: DateLike = None,
    prices: PriceTable | None = None,
    *,
    _rows: list[dict] | None = None,
) -> pd.DataFrame:
    """Per day: runs, tokens in/out, CPU seconds, cost and shadow (hosted-equivalent) cost."""
    prices = prices or PriceTable()
    rows = _rows if _rows is not None else _daily_by_model(db, since, until)
    for row in rows:
        row.update(cost_of(row, prices))
    columns = [
        "day", "runs", "tokens_in", "tokens_out", "cpu_seconds", "cost_usd", "shadow_cost_usd",
    ]  # fmt: skip
    if not rows:
        return _frame([], columns)
    frame = pd.DataFrame(rows).groupby("day", as_index=False)[columns[1:]].sum()
    return frame[columns]


def refusals_by_day(
    db: Database, since: DateLike = None, until: DateLike = None, *, _rows: list[dict] | None = None
) -> pd.DataFrame:
    """Per day: runs, refusals, errors and the refusal rate (0..1)."""
    rows = _rows if _rows is not None else _daily_by_model(db, since, until)
    columns = ["day", "runs", "refused", "errors", "refusal_rate"]
    if not rows:
        return _frame([], columns)
    frame = pd.DataFrame(rows).groupby("day", as_index=False)[["runs", "refused", "errors"]].sum()
    frame["refusal_rate"] = frame["refused"] / frame["runs"]
    return frame[columns]


def satisfaction_by(
    db: Database,
    by: Literal["prompt_version", "model"],
    since: DateLike = None,
    until: DateLike = None,
) -> pd.DataFrame:
    """Thumbs-up rate of the answers given in the range, per prompt version or per model."""
    if by not in ("prompt_version", "model"):
        raise ValueError(f"by must be 'prompt_version' or 'model', not {by!r}")
    where, params = _range(since, until, _ANSWERED)
    sql = f"""
    SELECT coalesce([{by}], '(unknown)') AS [{by}], count(*) AS ratings,
      sum(score = 1) AS up, sum(score = 0) AS down, avg(score) AS up_rate
    FROM feedback WHERE {where} GROUP BY 1 ORDER BY ratings DESC, 1
    """
    return _frame(fetch(db, sql, params), [by, "ratings", "up", "down", "up_rate"])


def top_documents(
    db: Database, since: DateLike = None, until: DateLike = None, limit: int = 10
) -> pd.DataFrame:
    """The documents cited by the most answers, with the share of answers citing each."""
    where, params = _range(since, until)
    sql = f"""
    WITH r AS (SELECT run_id, cited_sources FROM runs WHERE {where})
    SELECT j.value AS source, count(DISTINCT r.run_id) AS answers,
      1.0 * count(DISTINCT r.run_id) / (SELECT count(*) FROM r) AS share
    FROM r, json_each(r.cited_sources) AS j
    GROUP BY j.value ORDER BY answers DESC, source LIMIT :limit
    """
    return _frame(fetch(db, sql, {**params, "limit": limit}), ["source", "answers", "share"])


def content_gaps(
    db: Database,
    since: DateLike = None,
    until: DateLike = None,
    support_below: float = 0.5,
    limit: int = 200,
) -> pd.DataFrame:
    """Questions the documents did not answer well: refused, or support below a threshold.

    Questions are grouped ignoring case and spacing; ``thumbs_down`` counts down-ratings of
    the same question answered in the range. Most asked first: the documents to write next.
    """
    where, params = _range(since, until)
    fb_where, _ = _range(since, until, _ANSWERED)
    sql = f"""
    WITH gaps AS (
      SELECT {_question_key("question")} AS k, min(question) AS question, count(*) AS asks,
        sum(refused) AS refused, sum(coalesce(support_score < :t, 0)) AS low_support,
        avg(support_score) AS avg_support, max(created_at) AS last_asked
      FROM runs WHERE {where} AND question IS NOT NULL
        AND (refused = 1 OR support_score < :t)
      GROUP BY k
    ), down AS (
      SELECT {_question_key("question")} AS k, count(*) AS thumbs_down
      FROM feedback WHERE {fb_where} AND score = 0 GROUP BY k
    )
    SELECT gaps.question, asks, refused, low_support, avg_support,
      coalesce(down.thumbs_down, 0) AS thumbs_down, last_asked
    FROM gaps LEFT JOIN down ON down.k = gaps.k
    ORDER BY asks DESC, last_asked DESC LIMIT :limit
    """
    columns = [
        "question", "asks", "refused", "low_support", "avg_support", "thumbs_down", "last_asked",
    ]  # fmt: skip
    return _frame(fetch(db, sql, {**params, "t": support_below, "limit": limit}), columns)


def run_days(db: Database) -> tuple[date | None, date | None]:
    """Return the first and last UTC day with a logged run (None, None when there are none)."""
    row = fetch(db, "SELECT min(created_at) AS lo, max(created_at) AS hi FROM runs")[0]
    if row["lo"] is None:
        return None, None
    return date.fromisoformat(row["lo"][:10]), date.fromisoformat(row["hi"][:10])


@dataclass
class Insights:
    """Every aggregation the insights page shows, for one date range."""

    latency: pd.DataFrame
    usage: pd.DataFrame
    refusals: pd.DataFrame
    by_prompt: pd.DataFrame
    by_model: pd.DataFrame
    documents: pd.DataFrame
    gaps: pd.DataFrame
    totals: dict[str, Any] = field(default_factory=dict)


def load_insights(
    db: Database,
    since: DateLike = None,
    until: DateLike = None,
    prices: PriceTable | None = None,
    *,
    support_below: float = 0.5,
) -> Insights:
    """Compute every aggregation for the range (one pass per table where possible)."""
    daily = _daily_by_model(db, since, until)
    usage = usage_by_day(db, prices=prices, _rows=daily)
    refusals = refusals_by_day(db, _rows=daily)
    by_prompt = satisfaction_by(db, "prompt_version", since, until)
    runs = int(usage["runs"].sum()) if len(usage) else 0
    ratings = int(by_prompt["ratings"].sum()) if len(by_prompt) else 0
    totals = {
        "runs": runs,
        "refusal_rate": float(refusals["refused"].sum()) / runs if runs else None,
        "tokens": int(usage["tokens_in"].sum() + usage["tokens_out"].sum()) if runs else 0,
        "cost_usd": float(usage["cost_usd"].sum()) if runs else 0.0,
        "shadow_cost_usd": float(usage["shadow_cost_usd"].sum()) if runs else 0.0,
        "cpu_seconds": float(usage["cpu_seconds"].sum()) if runs else 0.0,
        "ratings": ratings,
        "up_rate": float(by_prompt["up"].sum()) / ratings if ratings else None,
    }
    return Insights(
        latency=latency_by_day(db, since, until),
        usage=usage,
        refusals=refusals,
        by_prompt=by_prompt,
        by_model=satisfaction_by(db, "model", since, until),
        documents=top_documents(db, since, until),
        gaps=content_gaps(db, since, until, support_below=support_below),
        totals=totals,
    )
