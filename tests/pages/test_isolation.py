"""Collection isolation in the running Ask page: a signed-in reader never sees a passage of a
collection they do not read, in answers, citations or a resumed conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.index import ingest_file, set_readers, update_metadata
from tests.pages.apptest import AUTH_SECRETS

ROOT = Path(__file__).resolve().parents[2]
CANTEEN = b"# Canteen\n\nThe canteen opens at eight and serves lunch until two.\n"
SALARIES = (
    b"# Salary bands\n\nThe salary band for grade seven is 61,000 to 74,000 euros. Salary "
    b"bands are reviewed each March by the remuneration committee.\n"
)
QUESTION = "What is the salary band for grade seven?"
SECRET_WORDS = ("61,000", "74,000", "remuneration", "salaries.md")


@pytest.fixture
def library(store_page_data_dir, monkeypatch):
    """The page's own store: the canteen note for everyone, salary bands for HR only."""
    from pages import common

    monkeypatch.setenv("GROUNDWORK_ALLOWED_USERS", "@example.org")
    store = common.store()
    assert ingest_file(store, "canteen.md", CANTEEN, {"collection": "general"}).ok
    assert ingest_file(store, "salaries.md", SALARIES, {"collection": "hr"}).ok
    set_readers(store.db, "hr", ["hr"])
    return store


def ask_as(user: dict, question: str | None, url: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "chat.py"), default_timeout=180)
    at.secrets["auth"] = AUTH_SECRETS
    at.user = {"is_logged_in": True, **user}
    at.query_params.update(url or {})
    at.run()
    if question:
        at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "error")
        for e in getattr(at, kind)
    ]
    parts += [e.label for e in at.expander]
    return " ".join(map(str, parts)).replace("\\", "")


def test_a_reader_outside_hr_never_sees_an_hr_passage(library):
    outsider = ask_as({"email": "ana@example.org", "groups": ["sales"]}, QUESTION)
    text = shown(outsider)
    assert "canteen" in text.lower() or "not found" in text.lower() or "no matching" in text
    assert not any(word in text for word in SECRET_WORDS), text
    insider = ask_as({"email": "hal@example.org", "groups": ["hr"]}, QUESTION)
    assert "salaries.md" in shown(insider)  # the same question finds it for HR


def test_a_resumed_answer_from_a_document_moved_out_of_reach_is_not_shown_again(library):
    hal = {"email": "hal@example.org", "groups": ["hr"]}
    first = ask_as(hal, QUESTION)
    assert "74,000" in shown(first)
    conversation = first.query_params["c"]
    doc = next(d for d in library.documents() if d["filename"] == "salaries.md")
    update_metadata(library, doc["doc_id"], collection="board")  # HR no longer reads it
    again = ask_as(hal, None, {"c": conversation})
    text = shown(again)
    assert "cannot read now" in text
    assert not any(word in text for word in SECRET_WORDS[:3]), text
