"""The per-corpus evaluation suite: real run on the shipped samples, and leave-one-corpus-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import DatasetError
from rag.evaluation.suite import CorpusResult, best_overall, leave_one_out, load_suite

SUITE = Path(__file__).resolve().parents[2] / "evals" / "suite.json"


def test_suite_runs_a_corpus_with_baseline_and_ablations(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "suite.json"
    code = main(["eval", "--suite", str(SUITE), "--corpus", "samples", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "samples: 6 answerable questions of 8" in printed
    for column in ("baseline", "vector only", "lexical only", "groundwork"):
        assert column in printed
    [result] = json.loads(out.read_text())["corpora"]
    ours, naive = result["scores"]["groundwork"], result["scores"]["baseline"]
    assert ours["source_hit_at_5"] == 1.0  # three short policies: every answer is found
    assert naive["source_hit_at_5"] is not None  # the baseline ran in the same run
    refusal = result["refusal"]["groundwork"]
    assert refusal["unanswerable"] == 2 and refusal["refusal_accuracy"] is not None
    assert refusal["answerable"] == 6 and refusal["false_refusal_rate"] is not None
    assert "previous (cosine 0.61)" in result["refusal"]  # the last release's gate beside it
    assert len(result["gate_rows"]) == 8  # every question's gate features, for fitting
    assert "refusal gate" in printed


def _result(name: str, grid: dict[str, float]) -> CorpusResult:
    r = CorpusResult(name, 10, 10)
    r.grid = {
        label: {"source_hit_at_1": v, "source_hit_at_5": v, "page_hit_at_5": None}
        for label, v in grid.items()
    }
    return r


def test_leave_one_out_scores_each_corpus_with_weights_fitted_on_the_others():
    a = _result("a", {"x": 0.9, "y": 0.5})  # a alone prefers x
    b = _result("b", {"x": 0.2, "y": 0.6})
    c = _result("c", {"x": 0.4, "y": 0.7})
    loco = leave_one_out([a, b, c])
    assert loco["a"]["fusion"] == "y" and loco["a"]["source_hit_at_1"] == 0.5  # not a's best
    assert loco["b"]["fusion"] == "x"  # on a and c: x averages 0.65, y 0.6
    assert best_overall([a, b, c]) == "y"
    assert leave_one_out([a]) == {}  # one corpus: nothing to hold out against


def test_suite_names_missing_corpora(tmp_path):
    with pytest.raises(DatasetError, match="Corpora not found: handbook"):
        load_suite(SUITE, tmp_path, ["handbook"])
    with pytest.raises(DatasetError, match="no corpus named nope"):
        load_suite(SUITE, tmp_path, ["nope"])


def _gate_result(name: str, rows) -> CorpusResult:
    r = CorpusResult(name, len(rows), sum(a for _, a in rows))
    r.gate_rows = rows
    return r


def _features(strength: float, names: float) -> dict[str, float]:
    return {"coverage": 0.5, "names_found": names, "period_match": 1.0, "strength": strength}


def test_gate_leave_one_out_fits_on_the_other_corpora_only():
    from rag.evaluation.suite import gate_leave_one_out

    # On a and b, answerable questions name what the passages name; c is scored with their fit.
    a = _gate_result("a", [(_features(0.8, 1.0), True), (_features(0.3, 0.0), False)] * 5)
    b = _gate_result("b", [(_features(0.7, 0.9), True), (_features(0.2, 0.2), False)] * 5)
    c = _gate_result("c", [(_features(0.9, 1.0), True), (_features(0.1, 0.5), False)] * 3)
    loco = gate_leave_one_out([a, b, c])
    assert loco["c"]["refusal_accuracy"] == 1.0 and loco["c"]["false_refusal_rate"] == 0.0
    # Fitted on a and b alone: the weights differ from a fit that saw c (c was held out).
    assert loco["c"]["gate"] != loco["a"]["gate"]
