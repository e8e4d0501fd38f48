"""Insights aggregations, checked against a small dataset computed by hand."""

from __future__ import annotations

import pytest

import rag.ops.feedback as feedback
from rag.ops.database import open_db
from rag.ops.insights import (
    content_gaps,
    latency_by_day,
    load_insights,
    refusals_by_day,
    run_days,
    satisfaction_by,
    top_documents,
    usage_by_day,
)
from rag.ops.pricing import Price, PriceTable
from rag.ops.runlog import log_run
from tests.ops.test_runlog import make_run

DAY1, DAY2 = "2026-03-01", "2026-03-02"


def _run(run_id, day, total, ttft, **kw):
    timings = {"total_ms": total, "ttft_ms": ttft}
    return make_run(run_id=run_id, created_at=f"{day}T10:00:00+00:00", timings=timings, **kw)


@pytest.fixture
def db(tmp_path, monkeypatch):
    """Day 1: four runs, one refused; day 2: one run. Three ratings of v1, one of v2."""
    db = open_db(tmp_path / "app.db")
    runs = [
        _run("r1", DAY1, 100, 10, tokens_in=1000, tokens_out=500, model="paid", cpu_seconds=10,
             cited_sources=["a.pdf", "b.pdf"], question="How do I reset my password?"),
        _run("r2", DAY1, 300, 30, tokens_in=100, tokens_out=50, cited_sources=["a.pdf"],
             support_score=0.2, question="Where is the VPN guide?"),
        _run("r3", DAY1, 200, 20, tokens_in=100, tokens_out=50, refused=True,
             support_score=None, cited_sources=[], question="where is the  VPN guide? "),
        _run("r4", DAY1, 400, None, tokens_in=None, tokens_out=None, cited_sources=["a.pdf"],
             support_score=0.4, question="Who approves travel?"),
        _run("r5", DAY2, 1000, 50, tokens_in=10, tokens_out=10, refused=True,
             support_score=None, cited_sources=[], question="Where is the VPN guide?"),
    ]  # fmt: skip
    for run in runs:
        log_run(db, run)
    ratings = [  # (run, user, score, day)
        ("r1", "ana", 1, DAY1), ("r2", "ana", 1, DAY1), ("r2", "ben", 0, DAY1),
        ("r5", "ana", 0, DAY2),
    ]  # fmt: skip
    by_id = {r["run_id"]: r for r in runs}
    for run_id, user, score, day in ratings:
        monkeypatch.setattr(feedback, "utc_now", lambda d=day: f"{d}T11:00:00.000000+00:00")
        prompt = "v2" if run_id == "r5" else "v1"
        feedback.record_feedback(db, by_id[run_id] | {"prompt_version": prompt}, score, None,
                                 None, user)  # fmt: skip
    yield db
    db.close()


def test_latency_percentiles_per_day(db):
    frame = latency_by_day(db)
    assert frame.to_dict("records") == [
        # day 1 totals 100..400: p50 is the 2nd of 4, p95 the 4th; ttft known for 3: 2nd, 3rd
        {"day": DAY1, "runs": 4, "p50_ms": 200.0, "p95_ms": 400.0,
         "ttft_p50_ms": 20.0, "ttft_p95_ms": 30.0},
        {"day": DAY2, "runs": 1, "p50_ms": 1000.0, "p95_ms": 1000.0,
         "ttft_p50_ms": 50.0, "ttft_p95_ms": 50.0},
    ]  # fmt: skip


def test_percentile_is_nearest_rank_on_twenty_values(tmp_path):
    db = open_db(tmp_path / "p.db")
    for i in range(1, 21):
        log_run(db, _run(f"r{i}", DAY1, float(i), float(i)))
    [row] = latency_by_day(db).to_dict("records")
    assert (row["p50_ms"], row["p95_ms"]) == (10.0, 19.0)


def test_usage_and_costs_per_day(db):
    prices = PriceTable(
        models={"paid": Price(1.0, 2.0)},
        shadow={"ref": Price(0.5, 1.0)},
        shadow_model="ref",
        cpu_hour_usd=3.6,
    )
    frame = usage_by_day(db, prices=prices)
    day1, day2 = frame.to_dict("records")
    assert (day1["runs"], day1["tokens_in"], day1["tokens_out"]) == (4, 1200, 600)
    # paid run: 1000 in * 1/1k + 500 out * 2/1k = 2.0, plus 10 s of CPU at 3.6/h = 0.01;
    # the other runs' cpu (3 * 1.7 s) costs 0.0051
    assert day1["cost_usd"] == pytest.approx(2.0 + 0.01 + 3 * 1.7 / 1000)
    assert day1["shadow_cost_usd"] == pytest.approx(1200 * 0.5 / 1000 + 600 * 1.0 / 1000)
    assert day1["cpu_seconds"] == pytest.approx(10 + 3 * 1.7)
    assert (day2["tokens_in"], day2["tokens_out"]) == (10, 10)
    assert usage_by_day(db)["cost_usd"].sum() == 0.0  # default prices: local models are free


def test_refusal_rate_per_day(db):
    frame = refusals_by_day(db)
    assert frame[["day", "runs", "refused", "refusal_rate"]].to_dict("records") == [
        {"day": DAY1, "runs": 4, "refused": 1, "refusal_rate": 0.25},
        {"day": DAY2, "runs": 1, "refused": 1, "refusal_rate": 1.0},
    ]


def test_thumbs_up_rate_by_prompt_version_and_model(db):
    by_prompt = satisfaction_by(db, "prompt_version").to_dict("records")
    assert by_prompt[0] == {"prompt_version": "v1", "ratings": 3, "up": 2, "down": 1,
                            "up_rate": pytest.approx(2 / 3)}  # fmt: skip
    assert by_prompt[1]["prompt_version"] == "v2" and by_prompt[1]["up_rate"] == 0.0
    by_model = {r["model"]: r["up_rate"] for r in satisfaction_by(db, "model").to_dict("records")}
    assert by_model == {"smollm2-135m": pytest.approx(1 / 3), "paid": 1.0}
    with pytest.raises(ValueError):
        satisfaction_by(db, "user")


def test_most_cited_documents(db):
    frame = top_documents(db)
    assert frame.to_dict("records") == [
        {"source": "a.pdf", "answers": 3, "share": 0.6},
        {"source": "b.pdf", "answers": 1, "share": 0.2},
    ]
    assert top_documents(db, limit=1)["source"].tolist() == ["a.pdf"]


def test_content_gaps(db):
    rows = content_gaps(db).to_dict("records")
    vpn, travel = rows
    # r2 (low support), r3 (refused, other case and spacing) and r5 (refused) are one question
    assert (vpn["asks"], vpn["refused"], vpn["low_support"]) == (3, 2, 1)
    assert vpn["avg_support"] == pytest.approx(0.2) and vpn["thumbs_down"] == 2
    assert vpn["last_asked"].startswith(DAY2)
    assert (travel["question"], travel["asks"], travel["thumbs_down"]) == ("Who approves travel?",
                                                                          1, 0)  # fmt: skip
    assert [r["asks"] for r in content_gaps(db, support_below=0.3).to_dict("records")] == [3]


def test_date_range_limits_every_aggregation(db):
    insights = load_insights(db, since=DAY1, until=DAY1)
    assert insights.latency["day"].tolist() == [DAY1]
    assert insights.totals["runs"] == 4 and insights.totals["refusal_rate"] == 0.25
    assert insights.totals["ratings"] == 3 and insights.totals["up_rate"] == pytest.approx(2 / 3)
    assert insights.gaps["asks"].tolist() == [2, 1]
    assert insights.documents["share"].tolist() == [0.75, 0.25]
    assert load_insights(db, since=DAY2).totals["runs"] == 1
    assert run_days(db) == (
        __import__("datetime").date(2026, 3, 1),
        __import__("datetime").date(2026, 3, 2),
    )


def test_empty_database(tmp_path):
    db = open_db(tmp_path / "empty.db")
    insights = load_insights(db)
    assert insights.totals["runs"] == 0 and insights.totals["up_rate"] is None
    for frame in (insights.latency, insights.usage, insights.refusals, insights.by_prompt,
                  insights.documents, insights.gaps):  # fmt: skip
        assert frame.empty and len(frame.columns) > 1
    assert run_days(db) == (None, None)
