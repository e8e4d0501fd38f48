"""Sign-in and roles in the running app (AppTest with signed-in users): who gets in, which
pages each role gets, and admin pages refusing anyone else even when opened directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.apptest import AUTH_SECRETS

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PAGES = ["feedback", "insights", "guardrails", "evaluation", "collections"]


@pytest.fixture
def signed_in_app(store_page_data_dir, monkeypatch):
    """Run app.py or a page as a signed-in user (``None``: nobody signed in)."""
    monkeypatch.setenv("GROUNDWORK_ALLOWED_USERS", "@example.org")
    monkeypatch.setenv("GROUNDWORK_ADMINS", "boss@example.org")
    monkeypatch.setenv("GROUNDWORK_EDITORS", "group:docs")

    def run(script: str, user: dict | None, auth: bool = True) -> AppTest:
        at = AppTest.from_file(str(ROOT / script), default_timeout=180)
        if auth:
            at.secrets["auth"] = AUTH_SECRETS
        at.user = {"is_logged_in": True, **user} if user else {"is_logged_in": False}
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def _text(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "title")
             for e in getattr(at, kind)]  # fmt: skip
    parts += [
        e.value for kind in ("markdown", "caption", "warning") for e in getattr(at.sidebar, kind)
    ]
    return " ".join(str(p) for p in parts).replace("\\", "")


def test_a_visitor_is_asked_to_sign_in_and_sees_nothing_else(signed_in_app):
    at = signed_in_app("app.py", None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Ask your documents" not in _text(at)


def test_an_account_outside_the_allow_list_is_refused_with_the_reason(signed_in_app):
    at = signed_in_app("app.py", {"email": "someone@gmail.com"})
    assert "someone@gmail.com is not allowed" in at.error[0].value.replace("\\", "")
    assert "Ask your documents" not in _text(at)
    assert "Sign out" in [b.label for b in at.button]


def test_a_reader_gets_the_ask_page_and_their_role(signed_in_app):
    at = signed_in_app("app.py", {"email": "r@example.org"})
    assert at.title[0].value == "Ask your documents"
    assert any("r@example.org · reader" in c.value.replace("\\", "") for c in at.sidebar.caption)
    assert "Local single-user mode" not in _text(at)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_refuse_a_signed_in_reader_and_an_editor(signed_in_app, page):
    for user in ({"email": "r@example.org"}, {"email": "e@example.org", "groups": ["docs"]}):
        at = signed_in_app(f"pages/{page}.py", user)
        assert "is for administrators" in at.error[0].value
        assert not at.dataframe and not at.button and not at.text_input


def test_the_documents_page_refuses_a_reader_but_opens_for_an_editor(signed_in_app):
    at = signed_in_app("pages/documents.py", {"email": "r@example.org"})
    assert "editors and administrators" in at.error[0].value
    assert not at.get("file_uploader")
    at = signed_in_app("pages/documents.py", {"email": "e@example.org", "groups": ["docs"]})
    assert not at.error and at.title[0].value == "Documents"


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_admin_opens_every_admin_page(signed_in_app, page):
    at = signed_in_app(f"pages/{page}.py", {"email": "boss@example.org"})
    assert not any("is for administrators" in e.value for e in at.error)


def test_feedback_with_its_authors_email_is_not_shown_to_a_reader(signed_in_app):
    from rag.config import Settings
    from rag.ops.database import open_db

    db = open_db(Settings().db_path)
    row = {"run_id": "r1", "user": "author@example.org", "score": 0}
    db["feedback"].insert({**row, "question": "a private question", "created_at": "2026-11-30"})
    at = signed_in_app("pages/feedback.py", {"email": "r@example.org"})
    assert "author@example.org" not in _text(at) and "a private question" not in _text(at)


def test_without_sign_in_the_local_user_is_told_on_every_page(signed_in_app):
    at = signed_in_app("app.py", None, auth=False)
    assert at.title[0].value == "Ask your documents"
    assert "Local single-user mode" in " ".join(w.value for w in at.sidebar.warning)


def test_a_reader_with_nothing_to_read_is_told_whom_to_ask_not_offered_uploads(signed_in_app):
    at = signed_in_app("pages/chat.py", {"email": "r@example.org"})
    assert "Ask an administrator" in at.info[0].value
    assert "Load sample documents" not in [b.label for b in at.button]
