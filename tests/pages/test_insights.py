"""AppTest of the insights page against a real SQLite database under tmp_path."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from rag.ops.database import open_db
from rag.ops.feedback import record_feedback
from rag.ops.runlog import log_run
from tests.ops.test_runlog import make_run
from tests.pages.apptest import run_page_file


@pytest.fixture
def seeded(page_data_dir):
    """Two days: day 1 has a gap question refused; day 2 another one with weak support."""
    db = open_db(page_data_dir / "app.db")
    runs = [
        make_run(created_at="2026-03-01T09:00:00+00:00"),
        make_run(created_at="2026-03-01T10:00:00+00:00", refused=True, support_score=None,
                 question="Who is the fire warden?", cited_sources=[]),
        make_run(created_at="2026-03-02T10:00:00+00:00", support_score=0.1,
                 question="What is the parking policy?", cited_sources=["parking.md"]),
    ]  # fmt: skip
    for run in runs:
        log_run(db, run)
    record_feedback(db, runs[0], 1, None, None, "ana")
    record_feedback(db, runs[2], 0, "incorrect", None, "ben")
    db.close()


def run_page() -> AppTest:
    return run_page_file("insights", 60)


def gaps(at: AppTest) -> list[str]:
    [frame] = [d for d in at.dataframe if "asks" in d.value.columns]
    return frame.value["question"].tolist()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_empty_state(page_data_dir):
    at = run_page()
    assert "No answers logged yet" in at.info[0].value
    assert not at.metric


def test_charts_metrics_and_gaps_after_seeding(seeded):
    at = run_page()
    assert at.date_input(key="range").value == (date(2026, 3, 1), date(2026, 3, 2))
    assert metric(at, "Answers") == "3"
    assert metric(at, "Refusal rate") == "33%"
    assert metric(at, "Thumbs up") == "50%"
    assert metric(at, "Cost (USD)") == "0.00"  # local model
    assert gaps(at) == ["What is the parking policy?", "Who is the fire warden?"]
    assert len(at.get("download_button")) == 1
    assert not at.warning


def test_date_range_changes_what_is_shown(seeded):
    at = run_page()
    at.date_input(key="range").set_value((date(2026, 3, 1), date(2026, 3, 1))).run()
    assert not at.exception
    assert metric(at, "Answers") == "2"
    assert gaps(at) == ["Who is the fire warden?"]
    at.date_input(key="range").set_value((date(2026, 3, 2), date(2026, 3, 2))).run()
    assert gaps(at) == ["What is the parking policy?"]
    assert metric(at, "Thumbs up") == "0%"


def test_support_threshold_changes_gaps(seeded):
    at = run_page()
    at.slider(key="support_below").set_value(0.05).run()
    assert gaps(at) == ["Who is the fire warden?"]  # refused still counts; 0.1 is above


def test_bad_price_file_warns_and_uses_defaults(seeded, page_data_dir):
    (page_data_dir / "prices.toml").write_text('shadow_model = "nope"\n')
    at = run_page()
    assert "Unknown shadow model" in at.warning[0].value
    assert metric(at, "Answers") == "3"


def test_an_error_message_quoting_a_file_renders_as_text(seeded, page_data_dir):
    (page_data_dir / "prices.toml").write_text('shadow_model = "![x](http://evil.example/p.png)"\n')
    at = run_page()
    [warning] = at.warning
    assert "Unknown shadow model" in warning.value
    assert "\\!\\[x\\]\\(" in warning.value and "](" not in warning.value.replace("\\]\\(", "")
