"""Golden sets: line validation, loading, and the folders the app may read from."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.golden import allowed_eval_path, golden_sets, load_dataset

REPO = Path(__file__).resolve().parents[2]
SAMPLES_SET = REPO / "evals" / "samples.jsonl"
SAMPLES_DIR = REPO / "rag" / "samples"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"question": "", "answerable": true, "sources": ["a.md"]}', "'question'"),
        ('{"question": "Q?", "sources": ["a.md"]}', "'answerable'"),
        ('{"question": "Q?", "answerable": true, "sources": "a.md"}', "'sources'"),
        ('{"question": "Q?", "answerable": true}', "needs 'sources'"),
        ('{"question": "Q?", "answerable": true, "sources": ["a.pdf"], "pages": [0]}', "1-based"),
    ],
)
def test_invalid_line_names_file_line_and_problem(tmp_path, line, problem):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"question": "Fine?", "answerable": false, "sources": []}\n\n' + line + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert "gold.jsonl line 3" in str(info.value) and problem in str(info.value)


def test_dataset_missing_or_empty(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(tmp_path / "empty.jsonl")


def test_limit_and_fields():
    cases = load_dataset(SAMPLES_SET, limit=3)
    assert [c.id for c in cases] == ["sm-001", "sm-002", "sm-003"]
    assert cases[0].sources == ["travel-policy.md"] and cases[0].dataset == "samples.jsonl"


# --- where the app may read ----------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path):
    """An allowed folder (with a golden set and a symlink out) next to a private one."""
    allowed, private = tmp_path / "allowed", tmp_path / "private"
    (allowed / "docs").mkdir(parents=True)
    private.mkdir()
    (private / "secret.md").write_text("# Secret\n\nThe vault code is 4711.\n")
    (private / "private.jsonl").write_text('{"question": "Q?", "answerable": false}\n')
    (allowed / "set.jsonl").write_text('{"question": "Q?", "answerable": false}\n')
    (allowed / "out").symlink_to(private, target_is_directory=True)
    (allowed / "linked.jsonl").symlink_to(private / "private.jsonl")
    (tmp_path / "allowed-evil").mkdir()  # shares the allowed folder's name as a prefix
    return Settings(data_dir=tmp_path / "data", eval_dirs=[allowed]), allowed, private


@pytest.mark.parametrize(
    "given",
    ["{private}", "{allowed}/../private", "{allowed}/out", "{allowed}/out/secret.md",
     "{allowed}/linked.jsonl", "{allowed}-evil", "/etc", "../../../../../../etc", "evals"],
)  # fmt: skip
def test_paths_outside_the_allowed_folders_are_refused(roots, given):
    settings, allowed, private = roots
    text = given.format(allowed=allowed, private=private)
    with pytest.raises(DatasetError, match="outside the folders evaluation may read") as caught:
        allowed_eval_path(text, settings)
    assert str(allowed) in str(caught.value) and "GROUNDWORK_EVAL_DIRS" in str(caught.value)


def test_paths_inside_the_allowed_folders_resolve(roots):
    settings, allowed, _ = roots
    assert allowed_eval_path(allowed, settings) == allowed
    assert allowed_eval_path(f" {allowed}/docs/../set.jsonl ", settings) == allowed / "set.jsonl"
    assert allowed_eval_path(allowed / "missing", settings) == allowed / "missing"  # checked later
    assert golden_sets(settings) == [allowed / "set.jsonl"]  # the symlink out is not listed


def test_default_folders_are_the_shipped_ones_and_the_grown_golden_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDWORK_EVAL_DIRS", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.eval_roots == [REPO / "evals", SAMPLES_DIR, tmp_path / "data" / "golden"]
    assert allowed_eval_path("rag/samples", settings) == SAMPLES_DIR  # from the project root
    assert SAMPLES_SET in golden_sets(settings)
    monkeypatch.setenv("GROUNDWORK_EVAL_DIRS", f"{tmp_path}/a:b")
    assert Settings().eval_roots == [tmp_path / "a", REPO / "b"]
    monkeypatch.setenv("GROUNDWORK_EVAL_DIRS", "")
    with pytest.raises(DatasetError, match="none are configured"):
        allowed_eval_path("rag/samples", Settings())
