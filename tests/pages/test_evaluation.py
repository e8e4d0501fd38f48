"""AppTest of the evaluation page: a real retrieval-only run on the samples, and its history."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from rag.evaluation.runs import list_runs
from rag.ops.database import open_db
from tests.pages.apptest import run_page_file


def run_page() -> AppTest:
    return run_page_file("evaluation", 300)


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_empty_history_and_dataset_choices(page_data_dir):
    (page_data_dir / "golden").mkdir(parents=True)
    (page_data_dir / "golden" / "feedback.jsonl").write_text(
        '{"id": "q", "question": "Q?", "answerable": true, "sources": ["a.md"]}\n'
    )
    at = run_page()
    options = at.selectbox(key="dataset").options
    assert any(o.endswith("evals/samples.jsonl") for o in options)
    assert any(o.endswith("golden/feedback.jsonl") for o in options)
    assert "No evaluation runs yet" in at.info[0].value
    assert not at.metric


def test_retrieval_only_run_shows_metrics_and_records_history(page_data_dir):
    at = run_page()
    samples = next(o for o in at.selectbox(key="dataset").options if o.endswith("samples.jsonl"))
    at.selectbox(key="dataset").set_value(samples)
    at.checkbox(key="retrieval_only").check()
    at.button(key="run").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    assert metric(at, "Source hit@5") == "100%"
    assert metric(at, "Refusal accuracy") == "100%"
    assert "Key-fact recall" not in [m.label for m in at.metric]  # no model in this mode
    rows = frame(at, "retrieved")
    assert len(rows) == 8 and set(rows["hit@5"].dropna()) == {True}

    db = open_db(page_data_dir / "app.db")
    [run] = list_runs(db)
    db.close()
    assert run["retrieval_only"] == 1 and run["summary"]["source_hit_at_5"] == 1.0
    assert len(frame(at, "refusal accuracy")) == 1
    assert not (page_data_dir / "chroma").exists()  # the live store was not opened


def test_missing_docs_folder_is_reported(page_data_dir):
    at = run_page()
    at.text_input(key="docs").set_value("rag/samples/no/such/folder")
    at.checkbox(key="retrieval_only").check()
    at.button(key="run").click()
    at.run()
    assert not at.exception
    assert "does not exist" in at.error[0].value


SECRET = "The vault code is 4711."
HOSTILE_NAME = "**bold** [x](beacon.png).jsonl"
ESCAPED_NAME = r"\*\*bold\*\* \[x\]\(beacon\.png\)\.jsonl"


@pytest.fixture
def hostile_roots(page_data_dir, tmp_path, monkeypatch):
    """One allowed folder (docs, a golden set with a hostile name, a symlink out) and a private
    folder beside it; GROUNDWORK_EVAL_DIRS allows only the first."""
    allowed, private = tmp_path / "allowed", tmp_path / "private"
    (allowed / "docs").mkdir(parents=True)
    private.mkdir()
    (private / "vault.md").write_text(f"# Vault\n\n{SECRET}\n")
    (allowed / "docs" / "badges.md").write_text(
        "# Badges\n\nLost badges are replaced by the front desk for a fee of 15 dollars.\n"
    )
    (allowed / "out").symlink_to(private, target_is_directory=True)
    question = "Who replaces lost badges? ![beacon](http://beacon.invalid/q.png)"
    (allowed / HOSTILE_NAME).write_text(
        json.dumps(
            {"id": "hostile", "question": question, "answerable": True, "sources": ["badges.md"]}
        )
        + "\n"
    )
    monkeypatch.setenv("GROUNDWORK_EVAL_DIRS", str(allowed))
    return allowed, private


def shown_text(at: AppTest) -> str:
    """Every text the page shows: markdown, captions, messages and tables."""
    kinds = ("markdown", "caption", "error", "info", "warning", "success")
    parts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


def click_run(at: AppTest, docs: str) -> AppTest:
    at.text_input(key="docs").set_value(docs)
    at.checkbox(key="retrieval_only").check()
    at.button(key="run").click()
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    "given", ["{private}", "/etc", "../../../../../../etc", "{allowed}/../private", "{allowed}/out"]
)
def test_folders_outside_the_allowed_ones_are_refused_unread(hostile_roots, given):
    allowed, private = hostile_roots
    at = click_run(run_page(), given.format(allowed=allowed, private=private))
    [error] = at.error
    assert "outside the folders evaluation may read" in error.value
    shown = re.sub(r"\\(.)", r"\1", error.value)  # as the reader sees it, escapes resolved
    assert f"({allowed})" in shown and "add its folder to GROUNDWORK_EVAL_DIRS" in shown
    assert SECRET not in shown_text(at) and not at.metric
    assert not (allowed.parent / "data" / "eval-cache").exists()  # nothing was read


def test_allowed_folder_runs_and_untrusted_text_is_escaped(hostile_roots):
    allowed, _ = hostile_roots
    at = run_page()
    assert at.selectbox(key="dataset").options == [str(allowed / HOSTILE_NAME)]
    at = click_run(at, str(allowed / "docs"))
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "Source hit@5") == "100%"
    [about] = [c.value for c in at.caption if "backend" in c.value]
    assert ESCAPED_NAME in about  # shown as a file name, not as bold text and a link


def test_a_bad_golden_set_line_is_reported_escaped(hostile_roots):
    allowed, _ = hostile_roots
    (allowed / HOSTILE_NAME).write_text("{not json\n")
    at = click_run(run_page(), str(allowed / "docs"))
    [error] = at.error
    assert "not valid JSON" in error.value and f"{ESCAPED_NAME} line 1" in error.value
