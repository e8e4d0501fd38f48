"""The gate file: the committed one is consistent with its reference run, bad files are named,
and a corpus's question and document subsets are chosen as the file says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import DatasetError
from rag.evaluation.cache import collect_docs
from rag.evaluation.gate import (
    CLAIMS,
    GateCorpus,
    _cases,
    _documents,
    _evenly,
    check_thresholds,
    load_gate,
    read_reference,
)

REPO = Path(__file__).resolve().parents[2]
GATE = REPO / "evals" / "gate.json"


def test_committed_reference_meets_the_committed_thresholds():
    """Thresholds are the reference less a case: the accepted run itself must pass them."""
    spec = json.loads(GATE.read_text())
    runs, claims = read_reference(REPO / "evals" / "gate-reference.json")
    names = {c["name"] for c in spec["corpora"]}
    assert set(runs) == names and set(claims) == {
        k for k in spec["thresholds"] if k.startswith(CLAIMS)
    }
    for name, limits in spec["thresholds"].items():
        summary = runs[name].summary if name in runs else claims[name]["summary"]
        assert check_thresholds(name, summary, limits) == [], name
        assert limits, name  # every corpus is held to something
    for name in names:
        assert spec["thresholds"][name]["unflagged_unsupported"] == {"max": 0}


def test_thresholds_fail_past_their_bound():
    limits = {"source_hit_at_5": {"min": 0.9}, "false_refusal_rate": {"max": 0.2}}
    failures = check_thresholds("c", {"source_hit_at_5": 0.85, "false_refusal_rate": 0.25}, limits)
    assert [str(f) for f in failures] == [
        "c: source_hit_at_5 0.850 is below the minimum 0.900",
        "c: false_refusal_rate 0.250 is above the maximum 0.200",
    ]
    assert check_thresholds("c", {"source_hit_at_5": None}, limits)[0].value is None  # missing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thresholds": {"nope": {"mrr": {"min": 0.5}}}}, "unknown corpus 'nope'"),
        ({"thresholds": {"samples": {"mrr": 0.5}}}, 'samples.mrr must be {"min": x}'),
        ({"corpora": [{"name": "x", "docs": "no-such", "datasets": []}]}, "Gate corpora not found"),
    ],
)
def test_bad_gate_files_are_named(tmp_path, change, message):
    spec = {
        "corpora": [{"name": "samples", "docs": "repo:rag/samples", "datasets": []}],
        "thresholds": {},
    } | change
    path = tmp_path / "evals" / "gate.json"
    path.parent.mkdir()
    (tmp_path / "rag" / "samples").mkdir(parents=True)
    path.write_text(json.dumps(spec))
    with pytest.raises(DatasetError, match=message):
        load_gate(path, tmp_path)


def test_cases_by_id_or_first_lines():
    sets = [REPO / "evals" / "samples.jsonl"]
    assert [c.id for c in _cases(GateCorpus("s", REPO, sets, limit=2))] == ["sm-001", "sm-002"]
    picked = _cases(GateCorpus("s", REPO, sets, ids=["sm-007", "sm-001"]))
    assert [c.id for c in picked] == ["sm-007", "sm-001"]
    with pytest.raises(DatasetError, match="no case sm-999"):
        _cases(GateCorpus("s", REPO, sets, ids=["sm-999"]))


def test_document_subset_keeps_the_named_files_then_spreads_the_rest(tmp_path):
    docs = tmp_path / "corpus"
    for i in range(20):
        (docs / f"d{i // 10}").mkdir(parents=True, exist_ok=True)
        (docs / f"d{i // 10}" / f"page-{i:02}.md").write_text(f"# Page {i}\n\nText {i}.\n")
    cases = _cases(GateCorpus("s", docs, [REPO / "evals" / "samples.jsonl"], limit=1))
    cases[0].sources = ["page-17.md"]
    folder = _documents(GateCorpus("s", docs, [], files=5), cases, tmp_path / "gate")
    chosen = [f.base for f in collect_docs(folder)]
    # the named page, then every fourth of the other 19 (spread, not the folder's first files)
    assert sorted(chosen) == ["page-00.md", "page-04.md", "page-08.md", "page-12.md", "page-17.md"]
    assert all(p.is_symlink() for p in folder.rglob("*.md"))  # linked, not copied
    everything = GateCorpus("s", docs, [])
    assert _documents(everything, cases, tmp_path / "all") == docs


def test_claims_are_taken_evenly_through_a_file():
    items = ["supported"] * 50 + ["unsupported"] * 50
    picked = _evenly(items, 10)
    assert len(picked) == 10 and picked.count("unsupported") == 5
    assert _evenly(items, None) == items and _evenly(items, 500) == items
