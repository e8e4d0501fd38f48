"""Comparing runs: a real regression (a policy file missing from the documents) is named case by
case, metric deltas carry paired-bootstrap intervals, and stored runs keep their per-case
results and fingerprint."""

from __future__ import annotations

import json

import pytest

from rag.errors import DatasetError
from rag.evaluation.compare import compare_runs, metric_delta
from rag.evaluation.fingerprint import GIT_ENV, code_version, differences
from rag.evaluation.runs import list_runs, load_run, read_run_file, record_run, resolve_run
from rag.ops.database import open_db
from tests.evaluation.two_runs import good_and_worse


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, minilm):
    """Run A on the shipped samples; run B on the same folder without the travel policy."""
    return good_and_worse(tmp_path_factory.mktemp("compare"), minilm)


def test_a_missing_document_is_named_as_the_regression(two_runs):
    _settings, a, b = two_runs
    c = compare_runs(a, b)
    travel = {r["id"] for r in a.rows if "travel-policy.md" in r["sources"]}
    assert travel  # the samples ask about the travel policy
    regressed = {change.key[1] for change in c.regressed}
    assert travel <= regressed
    for change in c.regressed:
        if change.key[1] in travel:
            assert "right source left the top 5" in change.changes
            assert all(src != "travel-policy.md" for src, _ in change.b["retrieved"])
            assert any(src == "travel-policy.md" for src, _ in change.a["retrieved"])
    assert not c.improved and c.paired == len(a.rows) and not c.only_a
    hit5 = next(m for m in c.metrics if m.name == "source_hit_at_5")
    assert hit5.a == a.summary["source_hit_at_5"] and hit5.b == b.summary["source_hit_at_5"]
    assert hit5.delta < 0 and hit5.low <= hit5.delta <= hit5.high
    assert ("docs", a.fingerprint["docs"], b.fingerprint["docs"]) in c.changed


def test_a_run_compared_with_itself_changes_nothing(two_runs):
    _settings, a, _b = two_runs
    c = compare_runs(a, a)
    assert not c.regressed and not c.improved and not c.changed
    assert all(m.delta == 0 and m.low == 0 and m.high == 0 for m in c.metrics)
    assert all(m.verdict == "same" for m in c.metrics)


def _rows(hits: list[bool]) -> list[dict]:
    return [
        {"id": f"q{i}", "dataset": "d", "answerable": True, "hit5": h} for i, h in enumerate(hits)
    ]


def test_bootstrap_interval_separates_a_real_drop_from_noise():
    a = _rows([True] * 160 + [False] * 40)  # 0.80
    worse = _rows([True] * 100 + [False] * 100)  # 0.50: 60 of A's hits lost
    drop = metric_delta("source_hit_at_5", list(zip(a, worse, strict=True)))
    assert drop.delta == pytest.approx(-0.30) and drop.high < 0 and drop.verdict == "worse"
    assert drop.low < -0.30 < drop.high
    # two cases swapped places: same score, an interval around zero
    swapped = _rows([True] * 159 + [False] + [True] + [False] * 39)
    noise = metric_delta("source_hit_at_5", list(zip(a, swapped, strict=True)))
    assert noise.delta == 0 and noise.low < 0 < noise.high and noise.verdict == "same"
    again = metric_delta("source_hit_at_5", list(zip(a, worse, strict=True)))
    assert (again.low, again.high) == (drop.low, drop.high)  # a fixed seed: reproducible


def test_lower_is_better_metrics_read_the_right_way():
    a = [{"id": str(i), "answerable": True, "refused": False} for i in range(100)]
    b = [dict(r, refused=i < 30) for i, r in enumerate(a)]
    false_refusals = metric_delta("false_refusal_rate", list(zip(a, b, strict=True)))
    assert false_refusals.delta == pytest.approx(0.30) and false_refusals.verdict == "worse"


def test_unsupported_rate_is_a_ratio_of_sentences_not_a_mean_of_cases():
    a = [{"id": "1", "answerable": True, "claims": 10, "unsupported": 0},
         {"id": "2", "answerable": True, "claims": 1, "unsupported": 1}]  # fmt: skip
    got = metric_delta("unsupported_sentence_rate", list(zip(a, a, strict=True)))
    assert got.a == round(1 / 11, 4)  # not (0 + 1) / 2


def test_stored_runs_keep_cases_and_fingerprint(two_runs):
    settings, a, b = two_runs
    db = open_db(settings.db_path)
    try:
        ids = [record_run(db, a), record_run(db, b)]
        back = load_run(db, ids[0])
        assert back.rows == [dict(r, retrieved=[list(p) for p in r["retrieved"]]) for r in a.rows]
        assert back.fingerprint == a.fingerprint and back.trigger == "manual"
        assert resolve_run(db, "latest").id == ids[1]
        assert [r["id"] for r in list_runs(db)] == ids
        assert compare_runs(back, load_run(db, ids[1])).regressed  # stored runs compare too
        with pytest.raises(DatasetError, match="no evaluation run 999"):
            load_run(db, 999)
    finally:
        db.close()


def test_fingerprint_names_what_answers_depend_on(two_runs, tmp_path):
    settings, a, _b = two_runs
    f = a.fingerprint
    assert f["embedder"] == a.config["embedder"] and f["index_version"] >= 1
    assert f["settings"]["top_k"] == settings.top_k and f["datasets"]["samples.jsonl"]
    assert f["git_sha"] == code_version() and f["git_sha"] != ""
    wider = dict(f, settings=dict(f["settings"], top_k=9))
    assert differences(f, wider) == [("settings.top_k", settings.top_k, 9)]
    out = tmp_path / "run.json"
    out.write_text(json.dumps(a.to_dict()))
    assert read_run_file(out).rows == json.loads(json.dumps(a.rows))


def test_code_version_prefers_the_build_setting(monkeypatch):
    monkeypatch.setenv(GIT_ENV, "0123456789abcdef")
    assert code_version() == "0123456789abcdef"
