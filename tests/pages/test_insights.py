"""AppTest of the insights page against a real SQLite database under tmp_path."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from rag.ops.database import open_db
from rag.ops.feedback import record_feedback
from rag.ops.runlog import log_run, log_runs
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


HOSTILE = "![x](http://evil/x.png) <img src=x onerror=alert(1)> **bold**"


@pytest.fixture
def drifting(page_data_dir):
    """Week of March 1: 40 answers, 1 refused. Week of March 8: 40 answers, 12 refused, one of
    them asking a hostile question; top scores fall from 0.03-0.05 to 0.016-0.03."""
    from tests.ops.test_signals import answer

    db = open_db(page_data_dir / "app.db")
    before = [answer(1, i, kind="refused" if i < 1 else "ok", top=0.03 + 0.0005 * i)
              for i in range(40)]  # fmt: skip
    now = [answer(8, i, kind="refused" if i < 12 else "ok", top=0.01 + 0.0005 * i)
           for i in range(40)]  # fmt: skip
    now[0]["question"] = HOSTILE
    log_runs(db, before + now)
    db.close()


def this_week(at: AppTest) -> AppTest:
    at.date_input(key="range").set_value((date(2026, 3, 8), date(2026, 3, 14))).run()
    assert not at.exception, at.exception
    return at


def behind(at: AppTest, signal: str):
    """The table of answers in the expander of ``signal`` (its label up to the colon)."""
    [expander] = [e for e in at.expander if e.label.startswith(f"{signal}:")]
    return expander.dataframe[0].value


def drift_metric(at: AppTest, label: str):
    [found] = [m for m in at.metric if m.label == label]
    return found


def test_drift_shows_the_signals_against_the_previous_period(drifting):
    at = this_week(run_page())
    assert any("(2026-03-08 to 2026-03-14) against" in c.value and "(2026-03-01 to 2026-03-07)"
               in c.value for c in at.caption)  # fmt: skip
    refused = drift_metric(at, "Refused")
    assert (refused.value, refused.delta) == ("30%", "+27.5 pts")
    assert drift_metric(at, "Median top score").delta.startswith("-0.0")
    assert drift_metric(at, "Thumbs down").value == "–"  # nobody rated
    [warning] = at.warning
    assert "Refused" in warning.value and "Top retrieval score" in warning.value
    assert "Thumbs down" not in warning.value
    verdicts = [c.value for c in at.caption if "Shift" in c.value or "Too few" in c.value]
    assert sum("**Shift**" in v for v in verdicts) == 2  # refused, top score
    assert sum("Too few to judge" in v for v in verdicts) == 1  # thumbs down: no ratings


def test_the_questions_behind_a_shift_are_one_click_away(drifting):
    at = this_week(run_page())
    labels = [e.label for e in at.expander]
    assert "Refused: 12 answers · shift" in labels
    assert "Top retrieval score: 28 answers · shift" in labels  # all under last week's p10
    frame = behind(at, "Refused")
    assert len(frame) == 12 and set(frame["value"]) == {"no passage matched"}
    assert all(q.startswith("week 8 ") or q == HOSTILE for q in frame["question"])


def test_no_shift_on_the_first_week_alone(drifting):
    at = run_page()
    at.date_input(key="range").set_value((date(2026, 3, 1), date(2026, 3, 7))).run()
    assert not at.warning
    assert "Too few to judge" in " ".join(c.value for c in at.caption)  # nothing before it


def test_a_hostile_question_renders_inert(drifting):
    at = this_week(run_page())
    frame = behind(at, "Refused")
    assert HOSTILE in frame["question"].tolist()  # shown as a table cell, verbatim
    rendered = [e.value for kind in ("markdown", "caption", "warning", "info", "error", "success")
                for e in getattr(at, kind)] + [e.label for e in at.expander]  # fmt: skip
    assert not [text for text in rendered if "evil" in text or "onerror" in text]
