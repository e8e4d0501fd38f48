"""The verifier scored on labelled claims over real ingested passages (the shipped samples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.encoder import CachingEncoder
from rag.cli import main
from rag.errors import DatasetError
from rag.evaluation.claims import PassageFinder, check_claims, load_claims, summarise
from rag.models.embeddings import MiniLMEmbeddings

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "claims-samples.jsonl"


def test_claims_file_errors_name_the_line(tmp_path):
    good = json.loads(FIXTURE.read_text().splitlines()[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(good) + "\n" + json.dumps(good | {"colour": "red"}) + "\n")
    with pytest.raises(DatasetError, match="line 2: unknown field"):
        load_claims(bad)
    bad.write_text(json.dumps(good | {"label": "supported", "kind": "negation"}) + "\n")
    with pytest.raises(DatasetError, match="line 1: label"):
        load_claims(bad)
    missing = {k: v for k, v in good.items() if k != "anchor"}
    bad.write_text(json.dumps(missing) + "\n")
    with pytest.raises(DatasetError, match="missing field"):
        load_claims(bad)


def test_the_anchor_picks_the_chunk_the_claim_is_checked_against(settings):
    finder = PassageFinder(ROOT / "rag", settings)
    [claim] = [c for c in load_claims(FIXTURE) if c.id == "ts-005"]
    passages, anchored = finder.passages(claim)
    assert anchored and 1 <= len(passages) <= 3
    assert any("14 days" in p.text for p in passages)
    assert all(p.context for p in passages)  # the document's title travels with its chunks


def test_verifier_on_the_sample_claims(settings):
    finder = PassageFinder(ROOT / "rag", settings)
    claims = load_claims(FIXTURE)
    results = check_claims(claims, finder, CachingEncoder(MiniLMEmbeddings().encode))
    verdict = {r.claim.id: r for r in results}
    assert verdict["ts-001"].passed  # a paraphrase
    assert verdict["ts-002"].passed and "computed" in verdict["ts-002"].reason
    for cid in ("ts-003", "ts-004", "ts-005", "ts-006"):  # negation, polarity, unit, entity
        assert not verdict[cid].passed, verdict[cid].claim.claim
    summary = summarise(results)
    assert summary["balanced_accuracy"] == 1.0 and summary["kinds"]["negation"]["n"] == 1


def test_cli_scores_claims_per_corpus(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "claims.json"
    code = main(["eval", "--claims", str(FIXTURE), "--corpora", str(ROOT / "rag"),
                 "--show", "all", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "samples: 6 claims" in printed and "balanced accuracy" in printed
    assert "ts-004 [reversed_polarity] flagged" in printed
    saved = json.loads(out.read_text())
    assert saved["summary"]["samples"]["claims"] == 6 and len(saved["claims"]) == 6
