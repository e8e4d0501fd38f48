"""AppTest of run comparison and drift: two real runs of the same golden set (the second after a
document went missing) compared on the Evaluation page, the drift banner on Evaluation and
Insights until the later run is pinned as the baseline, and untrusted answers kept inert."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rag.evaluation.runs import record_run
from rag.ops.database import open_db
from rag.ops.runlog import log_run, new_run_id
from tests.evaluation.two_runs import good_and_worse
from tests.pages.apptest import run_page_file

HOSTILE = "![beacon](http://evil.example/x.png) [click me](http://evil.example/phish)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, minilm):
    _settings, good, bad = good_and_worse(tmp_path_factory.mktemp("pagecompare"), minilm, True)
    bad.rows[0]["answer"] = HOSTILE  # answers are model text: must render inert
    return good, bad


@pytest.fixture
def recorded(page_data_dir, runs):
    page_data_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(page_data_dir / "app.db")
    ids = [record_run(db, run) for run in runs]
    log_run(db, {"run_id": new_run_id(), "question": "Q?", "answer": "A."})  # Insights has data
    db.close()
    return ids


def test_compare_names_the_regressed_cases_with_both_answers(recorded, runs):
    good, _bad = runs
    a, b = recorded
    at = run_page_file("evaluation", 300)
    assert at.selectbox(key="cmp_a").value == a and at.selectbox(key="cmp_b").value == b
    at.button(key="cmp_go").click()
    at.run()
    assert not at.exception, at.exception
    metrics = next(d.value for d in at.dataframe if "95% interval" in d.value.columns)
    hit5 = metrics[metrics["metric"] == "source hit@5"].iloc[0]
    assert hit5["run A"] == f"{good.summary['source_hit_at_5']:.3f}"
    assert hit5["B − A"].startswith("-")
    travel = [r["id"] for r in good.rows if "travel-policy.md" in r["sources"]]
    labels = [e.label.replace("\\", "") for e in at.expander]  # shown escaped
    for case_id in travel:
        assert any(label.startswith(case_id) and "left the top 5" in label for label in labels)
    changed = next(d.value for d in at.dataframe if "setting" in d.value.columns)
    assert "docs" in set(changed["setting"])
    shown = " ".join(m.value for m in at.markdown)
    assert "beacon" in shown  # the hostile answer is on the page ...
    assert "![beacon](http" not in shown and "[click me](http" not in shown  # ... inert


def test_drift_banner_until_the_later_run_is_the_baseline(recorded):
    _a, b = recorded
    for page in ("evaluation", "insights"):
        at = run_page_file(page, 300)
        banner = [w.value for w in at.warning if "Evaluation drift" in w.value]
        shown = banner[0].replace("\\", "") if banner else ""  # the text is shown escaped
        assert "samples.jsonl: run 2 (manual) against baseline run 1" in shown, page
        assert "source hit@5 1.00 → 0.67" in shown, page
    at = run_page_file("evaluation", 300)
    at.selectbox(key="pin_run").set_value(b)
    at.button(key="pin").click()
    at.run()
    assert any(f"Run {b} is now the baseline" in s.value for s in at.success)
    at = run_page_file("evaluation", 300)
    assert not [w for w in at.warning if "Evaluation drift" in w.value]


def test_no_banner_without_a_fall(page_data_dir, runs):
    good, _bad = runs
    page_data_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(page_data_dir / "app.db")
    record_run(db, good)
    record_run(db, good)
    db.close()
    at: AppTest = run_page_file("evaluation", 300)
    assert not [w for w in at.warning if "Evaluation drift" in w.value]
