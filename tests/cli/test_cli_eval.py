"""``python -m rag eval`` actions as a user runs them: runs, compare, check, the gate (passing,
then failing and naming the regressed cases against its reference), baseline and push."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_cli import REPO, run_cli

SAMPLES = REPO / "rag" / "samples"


def _gate(tmp_path: Path, docs: Path, hit5_min: float) -> Path:
    """A gate over the samples, its reference beside it."""
    gate = tmp_path / "evals" / "gate.json"
    gate.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "evals" / "samples.jsonl", gate.parent / "samples.jsonl")
    spec = {
        "corpora": [
            {"name": "samples", "docs": str(docs), "datasets": ["repo:evals/samples.jsonl"]}
        ],
        "thresholds": {
            "samples": {"source_hit_at_5": {"min": hit5_min}, "false_refusal_rate": {"max": 0.5}}
        },
        "reference": "repo:evals/gate-reference.json",
    }
    gate.write_text(json.dumps(spec))
    return gate


def test_gate_passes_then_fails_naming_the_regressed_cases(tmp_path):
    data = tmp_path / "data"
    gate = _gate(tmp_path, SAMPLES, 0.8)
    ok = run_cli("eval", "gate", "--gate", str(gate), "--update-reference", data_dir=data)
    assert ok.returncode == 0, ok.stderr
    assert "PASSED" in ok.stdout and "source_hit_at_5" in ok.stdout
    reference = json.loads((gate.parent / "gate-reference.json").read_text())
    assert len(reference["runs"]["samples"]["rows"]) == 8

    worse = tmp_path / "worse"  # the travel policy went missing
    shutil.copytree(SAMPLES, worse)
    (worse / "travel-policy.md").unlink()
    bad = run_cli("eval", "gate", "--gate", str(_gate(tmp_path, worse, 0.8)), data_dir=data)
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout and "samples: source_hit_at_5" in bad.stdout
    assert "below the minimum 0.800" in bad.stdout
    assert "Regressed (" in bad.stdout and "sm-001 [samples.jsonl]" in bad.stdout
    assert "right source left the top 5" in bad.stdout
    assert "The evaluation gate failed." in bad.stderr

    runs = run_cli("eval", "runs", data_dir=data)
    assert runs.returncode == 0 and runs.stdout.count(" gate ") == 2
    compared = run_cli("eval", "compare", "1", "2", data_dir=data)
    assert compared.returncode == 0, compared.stderr
    assert "Changed between A and B:" in compared.stdout and "docs:" in compared.stdout
    assert "sm-001 [samples.jsonl]" in compared.stdout and "95% interval" in compared.stdout
    reference = str(gate.parent / "gate-reference.json")
    unnamed = run_cli("eval", "compare", reference, "latest", data_dir=data)
    assert unnamed.returncode == 1 and "holds a run per corpus; name one" in unnamed.stderr
    from_file = run_cli("eval", "compare", f"{reference}#samples", "latest", data_dir=data)
    assert from_file.returncode == 0 and "sm-001 [samples.jsonl]" in from_file.stdout
    pinned = run_cli("eval", "baseline", "2", data_dir=data)
    assert pinned.returncode == 0 and "Run 2 is now the baseline" in pinned.stdout


def test_compare_of_unknown_runs_and_check_of_files(tmp_path):
    data = tmp_path / "data"
    missing = run_cli("eval", "compare", "1", "7", data_dir=data)
    assert missing.returncode == 1 and "There is no evaluation run 1" in missing.stderr
    usage = run_cli("eval", "compare", "1", data_dir=data)
    assert usage.returncode == 1 and "compare RUN_A RUN_B" in usage.stderr
    good = run_cli(
        "eval", "check", "evals/samples.jsonl", "evals/claims/handbook.jsonl", data_dir=data
    )
    assert good.returncode == 0
    assert "valid golden question file" in good.stdout and "valid claim file" in good.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?", "answerable": false, "expected": "x"}\n')
    refused = run_cli("eval", "check", str(bad), data_dir=data)
    assert (
        refused.returncode == 1 and "bad.jsonl line 1: unknown field(s) expected" in refused.stderr
    )


def test_push_sends_the_run_to_langsmith(tmp_path, langsmith_capture):
    data = tmp_path / "data"
    made = run_cli(
        "eval", "--dataset", "evals/samples.jsonl", "--docs", "rag/samples", "--retrieval-only",
        "--no-baseline", data_dir=data,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    env = {
        "LANGSMITH_TRACING": "true",
        "LANGSMITH_ENDPOINT": langsmith_capture.url,
        "LANGSMITH_API_KEY": "test-key-not-secret",
    }
    pushed = run_cli_with(env, "eval", "push", "latest", data_dir=data)
    assert pushed.returncode == 0, pushed.stderr
    assert "Pushed 8 cases to LangSmith: dataset 'groundwork/samples'" in pushed.stdout
    [dataset] = langsmith_capture.datasets
    assert len(langsmith_capture.examples(dataset["id"])) == 8


def run_cli_with(env: dict[str, str], *args: str, data_dir: Path):
    """``run_cli`` with extra environment variables (it keeps LangSmith's out by default)."""
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith(("GROUNDWORK_", "LANGSMITH_"))}
    base |= {"GROUNDWORK_DATA_DIR": str(data_dir), "GROUNDWORK_BACKEND": "embedded"}
    base |= {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"} | env
    return subprocess.run(
        [sys.executable, "-m", "rag", *args], cwd=REPO, env=base, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def test_watch_answers_the_monitoring_set_from_the_live_store(tmp_path):
    data = tmp_path / "data"
    none = run_cli("eval", "watch", data_dir=data)
    assert none.returncode == 0 and "No monitoring set" in none.stdout
    assert run_cli("ingest", "rag/samples", data_dir=data).returncode == 0
    golden = data / "golden" / "feedback.jsonl"
    golden.parent.mkdir(parents=True, exist_ok=True)
    lines = (REPO / "evals" / "samples.jsonl").read_text().splitlines()
    golden.write_text(
        "".join(json.dumps(json.loads(x) | {"origin": "feedback"}) + "\n" for x in lines)
    )
    first = run_cli("eval", "watch", data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "Monitoring run 1 (change: first run of the monitoring set)" in first.stdout
    assert "Answered from the live store" in first.stdout and "source hit@5" in first.stdout
    again = run_cli("eval", "watch", data_dir=data)
    assert "up to date" in again.stdout
    forced = run_cli("eval", "watch", "--force", data_dir=data)
    assert "Monitoring run 2 (manual)" in forced.stdout
