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


GOOD = '{"id": "g-1", "question": "Fine?", "answerable": false, "sources": []}'
BAD_LINES = [
    ("{not json", "not valid JSON"),
    ('["a list"]', "must be a JSON object"),
    ('{"question": "Q?", "answerable": false}', "missing field(s) id"),
    ('{"id": "g-2", "question": "Q?", "sources": ["a.md"]}', "missing field(s) answerable"),
    ('{"id": "g-2", "question": "", "answerable": true, "sources": ["a.md"]}', "'question'"),
    ('{"id": "g-2", "question": "Q?", "answerable": "yes"}', "'answerable' must be true"),
    ('{"id": "g-2", "question": "Q?", "answerable": true, "sources": "a.md"}', "'sources'"),
    ('{"id": "g-2", "question": "Q?", "answerable": true}', "needs 'sources'"),
    ('{"id": "g-2", "question": "Q?", "answerable": true, "sources": ["a.pdf"], "pages": [0]}',
     "1-based"),
    ('{"id": "g-2", "question": "Q?", "answerable": true, "sources": ["a.pdf"], "pages": [true]}',
     "1-based"),
    ('{"id": "g-2", "question": "Q?", "answerable": false, "souces": []}',
     "unknown field(s) souces"),
    ('{"id": "g-1", "question": "Again?", "answerable": false}',
     "already used on gold.jsonl line 1"),
    ('{"id": "g-2", "question": "Q?", "answerable": false, "key_facts": ["x"]}', "unanswerable"),
    ('{"id": "g-2", "question": "Q?", "answerable": true, "sources": ["a.md"], '
     '"origin": "feedback"}', "needs the expected 'answer' or 'key_facts'"),
    ('{"id": "g-2", "question": "Q?", "answerable": false, "origin": "chat"}', "one of curated"),
    ('{"id": "g-2", "question": "' + "x" * 5000 + '", "answerable": false}', "longer than"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_invalid_line_names_file_line_and_problem(tmp_path, line, problem):
    path = tmp_path / "gold.jsonl"
    path.write_text(GOOD + "\n\n" + line + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert "gold.jsonl line 3" in str(info.value) and problem in str(info.value)


def test_feedback_cases_validate_with_their_review_fields(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text(
        '{"id": "feedback-1", "question": "How long is leave?", "answerable": true, '
        '"sources": ["leave.md"], "pages": [2], "key_facts": ["27 days"], "origin": "feedback", '
        '"run_id": "abc", "reviewer": "ana@example.org", "added_at": "2026-11-30T10:00:00Z"}\n'
        '{"id": "feedback-2", "question": "Is there a sabbatical?", "answerable": false, '
        '"origin": "feedback", "note": "the leave policy has none"}\n'
    )
    first, second = load_dataset(path)
    assert (first.pages, first.key_facts, first.answerable) == ([2], ["27 days"], True)
    assert second.answerable is False and second.sources == []


def test_every_committed_file_follows_its_schema():
    from rag.evaluation.schema import CLAIM, GOLDEN, validate_file

    files = sorted((REPO / "evals").glob("*.jsonl")) + sorted(
        (REPO / "evals/claims").glob("*.jsonl")
    )
    seen = {validate_file(f)[0].name for f in files}
    assert seen == {GOLDEN.name, CLAIM.name}


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
    (private / "private.jsonl").write_text('{"id": "p", "question": "Q?", "answerable": false}\n')
    (allowed / "set.jsonl").write_text('{"id": "s", "question": "Q?", "answerable": false}\n')
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
