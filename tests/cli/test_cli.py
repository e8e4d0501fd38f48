"""``python -m rag`` through a real subprocess: exit codes, reports, results files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.evaluation.runs import list_runs
from rag.models import DEFAULT_EMBEDDER
from rag.ops.database import open_db
from tests.conftest import make_pdf
from tests.ingest.ingest_samples import misdirect_xref

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROUNDWORK_", "LANGSMITH_"))}
    env |= {
        "GROUNDWORK_DATA_DIR": str(data_dir),
        "GROUNDWORK_BACKEND": "embedded",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "overtime.pdf").write_bytes(make_pdf(["Overtime is paid at 1.5 times the rate."]))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    (docs / "sub" / "deep.md").write_text("# Deep\n\nOnly found with --recursive.\n")
    return docs


def test_help_has_examples(tmp_path):
    for command in ("eval", "ingest", "reindex", "guard-eval", "guard-fit"):
        result = run_cli(command, "--help", data_dir=tmp_path)
        assert result.returncode == 0 and "examples:" in result.stdout


def test_ingest_good_and_bad_file(folder, tmp_path):
    result = run_cli("ingest", str(folder), "--owner", "ops@example.org", data_dir=tmp_path / "d")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "overtime.pdf" in out and "broken.pdf" in out and "deep.md" not in out
    assert "1 failed, 1 ingested" in out
    [broken] = [line for line in out.splitlines() if line.startswith("broken.pdf")]
    assert "failed" in broken and "damaged" in broken
    assert "Traceback" not in result.stderr

    again = run_cli("ingest", str(folder), "--recursive", data_dir=tmp_path / "d")
    assert again.returncode == 1
    assert "1 failed, 1 ingested, 1 unchanged" in again.stdout  # deep.md new, overtime.pdf known
    db = open_db(tmp_path / "d" / "app.db")
    owners = {r["filename"]: r["owner"] for r in db["documents"].rows}
    assert owners == {"overtime.pdf": "ops@example.org", "deep.md": ""}
    db.close()


def test_progress_without_a_terminal_is_plain_lines(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("alpha", "beta", "gamma"):
        (docs / f"{name}.md").write_text(f"# {name.title()}\n\nThe {name} policy applies.\n")
    result = run_cli("ingest", str(docs), data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("ingest: ")] == [
        "ingest: 1/3 alpha.md 1 chunks",
        "ingest: 2/3 beta.md 1 chunks",
        "ingest: 3/3 gamma.md 1 chunks",
    ]
    assert "\r" not in result.stderr and "\x1b" not in result.stderr  # no bar redraws

    reindexed = run_cli("reindex", data_dir=tmp_path / "d")
    assert reindexed.returncode == 0, reindexed.stderr
    assert "reindex: 3/3 chunks" in reindexed.stderr.splitlines()
    assert "\r" not in reindexed.stderr


def test_pypdf_repairs_are_in_the_report_not_on_stderr(tmp_path):
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(misdirect_xref(make_pdf(["Overtime is paid at 1.5 times the rate."]), 2))
    result = run_cli("ingest", str(damaged), data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("damaged.pdf")]
    assert "ingested" in row and "2 broken object references (repaired" in row
    assert "wrong pointing" not in result.stderr and "Object" not in result.stderr


def test_unsupported_files_in_a_folder_are_listed_as_skipped(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text("# Policy\n\nDesks are cleared every Friday.\n")
    (docs / "tracker.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    result = run_cli("ingest", str(docs), data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [row for row in result.stdout.splitlines() if row.startswith("tracker.xlsx")]
    assert "skipped" in line and ".xlsx files are not supported" in line
    assert "1 ingested, 1 skipped" in result.stdout


def test_ingest_all_good_exits_0_and_bad_arguments(folder, tmp_path):
    good = folder / "overtime.pdf"
    assert run_cli("ingest", str(good), data_dir=tmp_path / "d").returncode == 0
    missing = run_cli("ingest", str(tmp_path / "nope.pdf"), data_dir=tmp_path / "d")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_date = run_cli("ingest", str(good), "--review-by", "soon", data_dir=tmp_path / "d")
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr


def test_a_name_collision_is_a_conflict_unless_replace(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "Leave.md").write_text("# Leave\n\nStaff get 25 days of leave.\n")
    (two / "leave.md").write_text("# Leave\n\nStaff get 30 days of leave.\n")
    assert run_cli("ingest", str(one / "Leave.md"), data_dir=tmp_path / "d").returncode == 0
    clash = run_cli("ingest", str(two / "leave.md"), data_dir=tmp_path / "d")
    assert clash.returncode == 1 and "1 conflict" in clash.stdout
    assert "uploaded as 'Leave.md'" in clash.stdout
    replaced = run_cli("ingest", str(two / "leave.md"), "--replace", data_dir=tmp_path / "d")
    assert replaced.returncode == 0 and "1 updated" in replaced.stdout
    db = open_db(tmp_path / "d" / "app.db")
    assert [(r["filename"], r["version"]) for r in db["documents"].rows] == [("leave.md", 2)]
    db.close()


def test_reindex_rebuilds_the_index(folder, tmp_path):
    assert run_cli("ingest", str(folder / "overtime.pdf"), data_dir=tmp_path / "d").returncode == 0
    result = run_cli("reindex", data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert f"Re-indexed 1 chunks with {DEFAULT_EMBEDDER}." in result.stdout
    empty = run_cli("reindex", data_dir=tmp_path / "empty")
    assert empty.returncode == 1 and "no document store" in empty.stderr.lower()


@pytest.mark.embedded_store("its lock file")
def test_ingest_into_a_locked_store_exits_2(folder, tmp_path, open_store, settings):
    open_store(settings)  # this process now holds the embedded store, like a running app
    result = run_cli("ingest", str(folder / "overtime.pdf"), data_dir=settings.data_dir)
    assert result.returncode == 2
    assert "open in another Groundwork process" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_retrieval_only_on_samples(tmp_path):
    out = tmp_path / "results.json"
    result = run_cli(
        "eval",
        "--dataset",
        "evals/samples.jsonl",
        "--docs",
        "rag/samples",
        "--retrieval-only",
        "--out",
        str(out),
        data_dir=tmp_path / "d",
    )
    assert result.returncode == 0, result.stderr
    assert "source hit@5" in result.stdout and "by construction" in result.stdout
    results = json.loads(out.read_text())
    for key in (
        "source_hit_at_1",
        "source_hit_at_5",
        "mrr",
        "page_hit_at_5",
        "refusal_accuracy",
        "false_refusal_rate",
        "total_ms_p50",
        "total_ms_p95",
    ):
        assert key in results["summary"]
    assert results["baseline"]["refusal_accuracy"] == 0.0
    assert len(results["rows"]) == 8 and "retrieved" in results["rows"][0]
    db = open_db(tmp_path / "d" / "app.db")
    assert [r["datasets"] for r in list_runs(db)] == [["samples.jsonl"]]
    db.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--dataset", "BAD", "--docs", "rag/samples"],
            "bad.jsonl line 2: missing field(s) answerable",
        ),
        (["--dataset", "evals/samples.jsonl", "--docs", "no/such/dir"], "no/such/dir does not"),
        (["--dataset", "evals/missing.jsonl", "--docs", "rag/samples"], "does not exist"),
    ],
)
def test_eval_invalid_input_exits_1_naming_the_problem(tmp_path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "question": "Q?", "answerable": false}\n{"id": "b", "question": "Q2?"}\n'
    )
    args = [str(bad) if a == "BAD" else a for a in args]
    result = run_cli("eval", *args, "--retrieval-only", data_dir=tmp_path / "d")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
