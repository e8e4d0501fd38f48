"""AppTest of the evaluation page: a real retrieval-only run on the samples, and its history."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from rag.database import open_db
from rag.evaluate import list_runs

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "evaluation.py")


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_empty_history_and_dataset_choices(page_data_dir):
    (page_data_dir / "golden").mkdir(parents=True)
    (page_data_dir / "golden" / "feedback.jsonl").write_text(
        '{"question": "Q?", "answerable": true, "sources": ["a.md"]}\n'
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
    at.text_input(key="docs").set_value("no/such/folder")
    at.checkbox(key="retrieval_only").check()
    at.button(key="run").click()
    at.run()
    assert not at.exception
    assert "does not exist" in at.error[0].value
