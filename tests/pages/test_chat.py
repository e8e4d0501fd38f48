"""AppTest of the Ask page: real store, real embedded model, real SQLite under tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from rag.config import Settings
from rag.index.indexing import ingest_file
from rag.index.store import DocumentStore
from rag.models import DEFAULT_EMBEDDER
from rag.ops.database import open_db
from rag.ops.feedback import list_feedback
from rag.text.markup import escape_markdown
from tests.pages.apptest import run_page_file

QUESTION = "How many days of annual leave do full-time employees get?"


def run_page() -> AppTest:
    return run_page_file("chat", 180)


def load_samples(at: AppTest) -> None:
    [button] = [b for b in at.button if b.label == "Load sample documents"]
    button.click().run()
    assert not at.exception, at.exception


def feedback_rows(store_page_data_dir: Path) -> list[dict]:
    db = open_db(store_page_data_dir / "app.db")
    try:
        return list_feedback(db)
    finally:
        db.close()


def test_empty_state_offers_the_samples(store_page_data_dir):
    at = run_page()
    assert "no documents to answer from yet" in at.info[0].value
    assert [b.label for b in at.button] == ["Load sample documents"]
    assert at.chat_input[0].disabled  # nothing to ask about yet


def test_samples_question_citations_and_feedback(store_page_data_dir):
    at = run_page()
    load_samples(at)
    assert not at.info, "the empty state is gone once the samples are in"
    assert "Loaded 3 sample documents" in at.success[0].value
    assert not at.chat_input[0].disabled

    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    user, bot = at.chat_message
    assert user.name == "user" and user.markdown[0].value == escape_markdown(QUESTION)
    assert bot.name == "assistant"
    answer_text = " ".join(m.value for m in bot.markdown) + " ".join(i.value for i in bot.info)
    assert answer_text.strip()
    assert any(c.value.endswith(" s") or " s · " in c.value for c in bot.caption), [
        c.value for c in bot.caption
    ]
    labels = [e.label for e in bot.expander]
    cited = [label for label in labels if label.startswith("[")]
    assert cited, labels
    assert all("\\.md, p. 1" in label for label in cited), cited  # file names are escaped
    assert any(escape_markdown("leave-policy.md") in label for label in cited), cited

    # thumbs up → one row in SQLite with the run's question and answer
    at.feedback[0].set_value(1).run()
    assert not at.exception, at.exception
    [row] = feedback_rows(store_page_data_dir)
    assert row["score"] == 1 and row["question"] == QUESTION
    assert row["answer"] and row["user"] == "local"  # without sign-in: the one local user
    assert "Thanks for the feedback" in " ".join(c.value for c in at.caption)
    assert not at.selectbox, "no reason form after a thumbs up"

    # thumbs down → the reason form; sending it updates the same row
    at.feedback[0].set_value(0).run()
    assert [s.label for s in at.selectbox] == ["Reason"]
    assert feedback_rows(store_page_data_dir)[0]["score"] == 0
    at.selectbox[0].set_value("incomplete")
    at.text_area[0].input("It does not say how leave is accrued.")
    [send] = [b for b in at.button if b.label == "Send feedback"]
    send.click().run()
    assert not at.exception, at.exception
    [row] = feedback_rows(store_page_data_dir)
    assert (row["score"], row["reason"]) == (0, "incomplete")
    assert row["comment"] == "It does not say how leave is accrued."
    assert "recorded for review" in " ".join(c.value for c in at.caption)

    # the answer was logged for insights, and a new conversation clears the screen
    db = open_db(store_page_data_dir / "app.db")
    assert db.execute("select count(*) from runs").fetchone()[0] == 1
    db.close()
    [new] = [b for b in at.sidebar.button if b.label == "New conversation"]
    new.click().run()
    assert not at.chat_message


def test_quoted_answer_first_then_a_generated_one_on_request(store_page_data_dir):
    at = run_page()
    load_samples(at)
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    [_, bot] = at.chat_message
    assert "25 days" in " ".join(m.value for m in bot.markdown)  # the policy's own sentence
    assert not bot.info, "a quoted answer carries no warning box"
    assert any(c.value.startswith("quoted from the documents · ") for c in bot.caption)
    [write] = [b for b in at.button if b.label == "Write an answer with the model"]
    write.click().run()
    assert not at.exception, at.exception
    messages = at.chat_message
    assert [m.name for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2].markdown[0].value == escape_markdown(QUESTION)
    assert "written by the model" in messages[2].caption[0].value
    db = open_db(store_page_data_dir / "app.db")
    modes = [r[0] for r in db.execute("select json_extract(extra, '$.mode') from runs")]
    db.close()
    assert sorted(modes) == ["generate", "quote"]


HOSTILE_FILE = "printer_[x](http:evil).md"
HOSTILE_DOC = (
    "# Printer :red[alarm] <b>status</b>\n\n"
    "The printer on floor three is working again ![status](http://evil.example/beacon.png) "
    "and the queue is explained [click](http://evil.example/link) in the guide.\n"
)


def live(md: str) -> str:
    """What Markdown syntax sees: ``md`` with every backslash escape taken out."""
    return re.sub(r"\\.", "", md, flags=re.S)


def test_questions_documents_and_labels_render_as_text(store_page_data_dir, minilm):
    settings = Settings(data_dir=store_page_data_dir, backend="embedded")
    with DocumentStore(settings, lambda name: minilm, DEFAULT_EMBEDDER) as store:
        assert ingest_file(store, HOSTILE_FILE, HOSTILE_DOC.encode()).ok
    question = "Is the printer on floor three working? ![q](http://evil.example/q.png) <img src=x>"
    at = run_page()
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    user, bot = at.chat_message
    assert user.markdown[0].value == escape_markdown(question)
    shown = [m.value for m in bot.markdown] + [e.label for e in bot.expander]
    assert any("beacon" in md for md in shown), shown  # the hostile sentence is quoted
    for md in [user.markdown[0].value, *shown]:
        rest = live(md)
        assert "![" not in rest and "](" not in rest and "<" not in rest, md
        assert ":red[" not in rest and "http://" not in rest, md
    [label] = [e.label for e in bot.expander if e.label.startswith("[")]
    assert "printer\\_\\[x\\]\\(" in label and "\\:red\\[alarm\\]" in label  # as written
