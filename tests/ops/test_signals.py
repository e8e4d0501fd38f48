"""Online drift signals over a real SQLite run log: two weeks of answers, the second one worse."""

from __future__ import annotations

import numpy as np
import pytest

from rag.ops.feedback import record_feedback
from rag.ops.runlog import log_runs
from rag.ops.signals import (
    drift_questions,
    drift_windows,
    load_drift,
    score_histogram,
)
from rag.ops.stats import ks_two_sample, two_proportion_p, wilson_interval
from tests.ops.test_runlog import make_run

PREVIOUS_WEEK, THIS_WEEK = 1, 8  # first day of each week of March 2026
EXEMPT = {"sentence": "Here is what I found.", "supported": False, "is_claim": False}


def answer(day0: int, i: int, *, kind: str = "ok", top: float = 0.04, **overrides) -> dict:
    """The i-th answer of the week starting on March ``day0``, of one of these kinds.

    ok: a verified draft (an exempt sentence unsupported, which does not count); refused: no
    passage matched; unsupported: a claim sentence failed; quoted: the draft failed the check
    and passages were quoted; quote: quote mode, no draft checked.
    """
    claim = {"sentence": f"Fact {i} [1].", "supported": kind != "unsupported", "score": 0.9}
    run = make_run(
        run_id=f"w{day0}-{i}",
        created_at=f"2026-03-{day0 + i % 7:02d}T{i % 24:02d}:{i // 24:02d}:00+00:00",
        question=f"week {day0} question {i}",
        answer=f"answer {i}",
        verification=[] if kind in ("refused", "quote") else [claim, EXEMPT],
        passages=[] if kind == "refused" else [
            {"chunk_id": "b", "source": "b.md", "page": 1, "score": top / 2},
            {"chunk_id": "a", "source": "a.md", "page": 1, "score": top},  # the best need not lead
        ],
        refused=kind == "refused",
        extractive=kind in ("quoted", "quote"),
        mode="quote" if kind == "quote" else "generate",
        evidence=0.12,
    )  # fmt: skip
    run.update(overrides)
    return run


@pytest.fixture
def worse(db):
    """Previous week: 40 answers, 2 refused, 2 of 38 drafts failed, top scores 0.031-0.0495,
    3 of 30 ratings down. This week: 40 answers + 5 in quote mode, 16 refused, 12 of 24 drafts
    failed (6 unsupported, 6 quoted), top scores 0.018-0.0295 (quote mode 0.045), 15 of 24
    ratings down."""
    before = [answer(PREVIOUS_WEEK, i, top=0.030 + 0.0005 * i) for i in range(40)]
    for i, kind in enumerate(["refused", "refused", "unsupported", "quoted"]):
        before[i] = answer(PREVIOUS_WEEK, i, kind=kind, top=0.030 + 0.0005 * i)
    kinds = ["refused"] * 16 + ["unsupported"] * 6 + ["quoted"] * 6 + ["ok"] * 12
    now = [answer(THIS_WEEK, i, kind=k, top=0.010 + 0.0005 * i) for i, k in enumerate(kinds)]
    now += [answer(THIS_WEEK, 40 + i, kind="quote", top=0.045) for i in range(5)]
    log_runs(db, before + now)
    for i, run in enumerate(before[2:32]):
        record_feedback(db, run, 0 if i < 3 else 1, "incorrect" if i < 3 else None, None, "ana")
    for i, run in enumerate(now[16:40]):
        record_feedback(db, run, 0 if i < 15 else 1, "out of date" if i < 15 else None, None, "ben")
    return db


def test_every_signal_shifts_when_this_week_is_worse(worse):
    drift = load_drift(worse, "2026-03-08", "2026-03-14")
    assert (drift.current.label, drift.previous.label) == (
        "2026-03-08 to 2026-03-14",
        "2026-03-01 to 2026-03-07",
    )
    counts = {
        name: (s.hits, s.total, s.previous_hits, s.previous_total)
        for name, s in (("thumbs_down", drift.thumbs_down), ("refused", drift.refused),
                        ("unverified", drift.unverified))
    }  # fmt: skip
    assert counts == {
        "thumbs_down": (15, 24, 3, 30),  # counted on the answer's day, not the rating's (today)
        "refused": (16, 45, 2, 40),
        "unverified": (12, 24, 2, 38),  # quote mode and refusals carry no checked draft
    }
    assert drift.refused.current == pytest.approx(16 / 45)
    assert drift.refused.change == pytest.approx(16 / 45 - 2 / 40)
    lo, hi = drift.refused.interval
    assert lo < 16 / 45 < hi and drift.refused.previous_interval[1] < lo
    top = drift.top_score
    assert (top.total, top.previous_total) == (29, 38)
    assert top.previous_quantiles == pytest.approx({"p10": 0.0325, "p50": 0.040, "p90": 0.048})
    assert top.quantiles["p50"] == pytest.approx(0.025)  # nearest rank: the 15th of 29
    assert top.below_previous_p10 == pytest.approx(24 / 29)  # the quote-mode five stay above
    assert top.ks == pytest.approx(24 / 29)
    assert drift.shifted == ["thumbs_down", "refused", "unverified", "top_score"]
    assert all(s.p_value < 0.01 for s in (drift.thumbs_down, drift.refused, drift.unverified, top))


def test_a_steady_week_does_not_shift(db):
    rng = np.random.default_rng(7)
    runs = [
        answer(day0, i, kind="refused" if i < refused else "ok", top=float(rng.uniform(0.02, 0.05)))
        for day0, refused in ((PREVIOUS_WEEK, 4), (THIS_WEEK, 5))
        for i in range(40)
    ]
    log_runs(db, runs)
    drift = load_drift(db, "2026-03-08", "2026-03-14")
    assert (drift.refused.hits, drift.refused.previous_hits) == (5, 4)
    assert drift.refused.p_value > 0.5 and not drift.refused.shifted
    assert drift.top_score.p_value > 0.01 and not drift.top_score.shifted
    assert drift.thumbs_down.total == 0 and drift.thumbs_down.current is None
    assert drift.thumbs_down.p_value is None and drift.thumbs_down.change is None
    assert drift.unverified.current == 0.0 and not drift.unverified.shifted
    assert drift.shifted == []


@pytest.mark.parametrize(("min_count", "shifted"), [(20, False), (5, True)])
def test_a_big_change_on_few_answers_needs_the_minimum_count(db, min_count, shifted):
    log_runs(db, [answer(PREVIOUS_WEEK, i) for i in range(5)])
    log_runs(db, [answer(THIS_WEEK, i, kind="refused") for i in range(5)])
    drift = load_drift(db, "2026-03-08", "2026-03-14", min_count=min_count)
    assert drift.refused.p_value < 0.01  # 0/5 -> 5/5
    assert drift.refused.shifted is shifted


def test_questions_behind_each_signal(worse):
    def rows(signal, **kw):
        return drift_questions(worse, signal, "2026-03-08", "2026-03-14", **kw)

    refused = rows("refused")
    assert len(refused) == 16 and set(refused["value"]) == {"no passage matched"}
    assert refused["time"].tolist() == sorted(refused["time"], reverse=True)
    assert all(q.startswith("week 8 ") for q in refused["question"])  # never last week's
    unverified = rows("unverified")
    assert len(unverified) == 12
    assert sorted(set(unverified["value"])) == [
        "1 of 1 claims unsupported",  # the exempt sentence is not a claim
        "draft failed the check, passages quoted",
    ]
    down = rows("thumbs_down")
    assert len(down) == 15 and set(down["value"]) == {"thumbs down: out of date"}
    low = rows("top_score")
    assert len(low) == 24  # under last week's p10 (0.0325); the quote-mode five are above
    assert low["value"].tolist() == sorted(low["value"]) and low["value"].max() < 0.0325
    assert list(low.columns) == ["run_id", "time", "question", "answer", "value"]
    drift = load_drift(worse, "2026-03-08", "2026-03-14")
    assert rows("top_score", drift=drift).equals(low)  # the page passes the drift it has
    assert len(rows("refused", limit=5)) == 5
    with pytest.raises(ValueError, match="unknown signal"):
        rows("latency")


def test_listed_text_is_bounded_and_flattened(db):
    log_runs(db, [answer(THIS_WEEK, 0, kind="refused", question="why\n" * 5000, answer="x" * 9999)])
    [row] = drift_questions(db, "refused", "2026-03-08", "2026-03-14").to_dict("records")
    assert len(row["question"]) <= 300 and "\n" not in row["question"]
    assert row["question"].endswith("…") and len(row["answer"]) <= 160


def test_top_score_histogram_shares_one_set_of_bins(worse):
    frame = score_histogram(load_drift(worse, "2026-03-08", "2026-03-14").top_score, bins=10)
    assert len(frame) == 10 and list(frame.columns) == ["current", "previous"]
    assert frame.sum().tolist() == pytest.approx([1.0, 1.0])
    assert frame["previous"].iloc[0] == 0 and frame["current"].iloc[0] > 0
    assert frame["current"].iloc[-1] == 0 and frame["previous"].iloc[-1] > 0


@pytest.mark.parametrize(
    ("since", "until", "current", "previous"),
    [
        ("2026-03-08", "2026-03-14", ("2026-03-08", "2026-03-15"), ("2026-03-01", "2026-03-08")),
        ("2026-03-08", None, ("2026-03-08", "2026-03-09"), ("2026-03-07", "2026-03-08")),
        ("2026-03-01", "2026-03-31", ("2026-03-01", "2026-04-01"), ("2026-01-29", "2026-03-01")),
    ],
)
def test_the_previous_period_is_as_long_and_ends_where_this_one_starts(
    since, until, current, previous
):
    now, before = drift_windows(since, until)
    assert (now.lo, now.hi) == current and (before.lo, before.hi) == previous


def test_a_period_needs_its_first_day():
    with pytest.raises(ValueError, match="first day"):
        drift_windows(None, "2026-03-08")


@pytest.mark.parametrize(
    ("hits", "total", "lo", "hi"),
    [(10, 100, 0.0552, 0.1744), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (0, 0, None, None)],
)
def test_wilson_interval(hits, total, lo, hi):
    interval = wilson_interval(hits, total)
    if lo is None:
        assert interval is None
    else:
        assert interval == pytest.approx((lo, hi), abs=1e-4)


@pytest.mark.parametrize(
    ("counts", "p"),
    [((10, 100, 20, 100), 0.0477), ((5, 50, 5, 50), 1.0), ((0, 30, 0, 30), 1.0),
     ((0, 5, 5, 5), 0.0016), ((1, 0, 1, 10), None)],
)  # fmt: skip
def test_two_proportion_p(counts, p):
    value = two_proportion_p(*counts)
    assert value == (None if p is None else pytest.approx(p, abs=1e-4))


@pytest.mark.parametrize(
    ("shift", "d", "p_lo", "p_hi"),
    [(0, 0.0, 1.0, 1.0), (19, 0.19, 0.04, 0.05), (100, 1.0, 0.0, 1e-10)],
)
def test_ks_two_sample(shift, d, p_lo, p_hi):
    # n = m = 100, D = 0.19: Stephens' lambda is 1.373, just past the 5 % point (1.358)
    a = np.arange(100.0)
    statistic, p = ks_two_sample(a, a + shift)
    assert statistic == pytest.approx(d)
    assert p_lo <= p <= p_hi
