"""Secrets never reach a log, a trace, the run log or a message shown to a user.

The secrets: the LangSmith API key, the pseudonym HMAC key, the sign-in section's client and
cookie secrets (Streamlit secrets) and a password inside ``CHROMA_URL``. Each test sets
distinctive values, runs real components (the answer chain over a real store, tracing to the
loopback LangSmith API, real SQLite, the pages under AppTest) and then searches everything
written: every log record at DEBUG (message and traceback), every request body LangSmith
received (decompressed), every SQLite row and every file under the data folder.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from pathlib import Path

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers

from rag.answer.chain import Assistant
from rag.config import Settings, settings_table
from rag.errors import StoreError
from rag.index import ingest_file
from rag.index.chroma import connect
from rag.models.backends import BackendChoice
from rag.ops.runlog import log_run
from rag.ops.telemetry import Telemetry, pseudonym
from tests.answer.test_chain import ScriptedChat

API_KEY = "lsv2_pt_SECRETAPIKEY7f3a9c1e5b"
PSEUDONYM_KEY = "SECRETPSEUDONYM-4d8e2a6c0b9f1357"
CHROMA_PASSWORD = "SECRETCHROMAPASS-93ab"
CLIENT_SECRET = "SECRETCLIENT-oidc-5e7a1c"
COOKIE_SECRET = "SECRETCOOKIE-a1b2c3d4e5f60718"
SECRETS = (API_KEY, PSEUDONYM_KEY, CHROMA_PASSWORD, CLIENT_SECRET, COOKIE_SECRET)

DOC = b"# Expenses\n\nTaxi receipts must be submitted within 30 days of the trip.\n"
QUESTION = "How long do I have to submit taxi receipts?"
GROUNDED = "Taxi receipts must be submitted within 30 days of the trip [1]."


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logged(caplog) -> str:
    """Every captured record as a handler would write it: message, arguments and traceback."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


def written_files(root: Path) -> Iterable[tuple[Path, bytes]]:
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            yield path, path.read_bytes()


def assert_no_secret(where: str, text: str | bytes) -> None:
    """No secret in ``text``, also once Markdown escapes and word joiners are taken out."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    unescaped = data.replace(b"\\", b"").replace("\u2060".encode(), b"")
    for secret in SECRETS:
        assert secret.encode() not in data + unescaped, f"{secret[:14]}… found in {where}"


def assert_nothing_written_holds_a_secret(root: Path) -> None:
    for path, data in written_files(root):
        assert_no_secret(str(path), data)


def sqlite_dump(db) -> str:
    return "\n".join(db.conn.iterdump())


def test_an_answer_traced_rated_and_logged_carries_no_secret(
    langsmith_capture, monkeypatch, tmp_path, open_store, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
    monkeypatch.setenv("GROUNDWORK_PSEUDONYM_SECRET", PSEUDONYM_KEY)
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.langsmith_tracing
    store = open_store(settings)
    assert ingest_file(store, "expenses.md", DOC).ok
    model = ScriptedChat(messages=iter([GROUNDED, GROUNDED]))
    telemetry = Telemetry(settings)
    assert telemetry.enabled  # tracing on, with the key
    assistant = Assistant(
        settings, store, model, BackendChoice("ollama", "scripted", "test"), telemetry=telemetry
    )

    stream = assistant.ask(QUESTION, user="ana@example.org", mode="generate")
    list(stream)
    log_run(store.db, stream.result.record())
    assert telemetry.send_feedback(stream.result.run_id, 0, "incomplete", "too short").result()
    telemetry.flush()
    wait_for_all_tracers()
    [root] = langsmith_capture.wait_for_runs(lambda r: not r.get("parent_run_id"), timeout=20)
    # The key did its work: the trace names the user by the HMAC under it, never the email.
    user_hash = pseudonym("ana@example.org", PSEUDONYM_KEY.encode())
    assert root["extra"]["metadata"]["user_hash"] == user_hash

    # LangSmith failing: the client's and Groundwork's error logs must not echo the key.
    langsmith_capture.mode = "error500"
    failing = Telemetry(settings)
    assert failing.send_feedback(stream.result.run_id, 1).result() is False
    assert "not sent" in caplog.text
    failing.close()

    traced = b"\n".join(langsmith_capture.bodies)
    assert b"ana@example.org" not in traced and user_hash.encode() in traced
    assert_no_secret("a request body LangSmith received", traced)
    assert_no_secret("the log", logged(caplog))
    assert_no_secret("SQLite", sqlite_dump(store.db))
    assert_no_secret("the run record", repr(stream.result.record()))
    store.close()
    telemetry.close()
    assert_nothing_written_holds_a_secret(tmp_path)


def test_the_settings_reference_lists_no_value_of_a_secret(monkeypatch):
    monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
    monkeypatch.setenv("GROUNDWORK_PSEUDONYM_SECRET", PSEUDONYM_KEY)
    monkeypatch.setenv("CHROMA_URL", f"http://groundwork:{CHROMA_PASSWORD}@127.0.0.1:8000")
    table = settings_table()
    assert {row["name"] for row in table} >= {"langsmith_api_key", "pseudonym_secret"}
    assert_no_secret("the settings table", repr(table))


def test_the_pseudonym_key_is_masked_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("GROUNDWORK_PSEUDONYM_SECRET", PSEUDONYM_KEY)
    settings = Settings()
    assert settings.pseudonym_secret.get_secret_value() == PSEUDONYM_KEY
    assert PSEUDONYM_KEY not in repr(settings) and PSEUDONYM_KEY not in str(settings)


def test_the_settings_repr_masks_every_secret(monkeypatch):
    monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
    monkeypatch.setenv("CHROMA_URL", f"http://groundwork:{CHROMA_PASSWORD}@127.0.0.1:8000")
    settings = Settings()
    assert_no_secret("repr(Settings())", repr(settings) + str(settings))


@pytest.mark.parametrize("scheme", ["http://", ""], ids=["unreachable", "not-a-url"])
def test_a_chroma_url_password_is_not_echoed_when_the_store_cannot_open(tmp_path, scheme, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"{scheme}groundwork:{CHROMA_PASSWORD}@127.0.0.1:{closed_port()}"
    settings = Settings(data_dir=tmp_path / "data", chroma_url=url)
    with pytest.raises(StoreError) as raised:
        connect(settings)
    assert "127.0.0.1" in str(raised.value)  # it still says which server
    assert_no_secret("the StoreError", str(raised.value))
    assert_no_secret("the log", logged(caplog))


AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": COOKIE_SECRET,
    "client_id": "groundwork",
    "client_secret": CLIENT_SECRET,
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
REPO = Path(__file__).resolve().parents[2]


def rendered(node) -> list[str]:
    """Every element a page sent to the browser (its protobuf as text), depth first."""
    out = [str(getattr(node, "proto", ""))]
    for child in getattr(node, "children", {}).values():
        out.extend(rendered(child))
    return out


def run_app(script: str, user: dict | None, question: str = "", auth: bool = True):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / script), default_timeout=180)
    if auth:
        at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, **user} if user else {"is_logged_in": False}
    at.run()
    if question:
        at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def test_sign_in_secrets_never_reach_a_page_a_log_or_the_data_folder(
    store_page_data_dir, monkeypatch, minilm, caplog
):
    from rag.index.store import DocumentStore
    from rag.models import DEFAULT_EMBEDDER

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GROUNDWORK_ALLOWED_USERS", "@example.org")
    monkeypatch.setenv("GROUNDWORK_ADMINS", "boss@example.org")
    monkeypatch.setenv("GROUNDWORK_PSEUDONYM_SECRET", PSEUDONYM_KEY)
    with DocumentStore(Settings(), lambda name: minilm, DEFAULT_EMBEDDER) as store:
        assert ingest_file(store, "expenses.md", DOC).ok
    runs = [
        run_app("app.py", None),
        run_app("app.py", {"email": "someone@gmail.com"}),
        run_app("pages/chat.py", {"email": "boss@example.org"}, QUESTION),
        run_app("pages/documents.py", {"email": "boss@example.org"}),
    ]
    answer = " ".join(m.value for m in runs[2].chat_message[1].markdown)
    assert "30 days" in answer  # the signed-in admin was answered
    for at in runs:
        assert_no_secret("a page", "\n".join(rendered(at._tree)))
    assert_no_secret("the log", logged(caplog))
    assert_nothing_written_holds_a_secret(store_page_data_dir)


def test_a_page_that_cannot_reach_chroma_does_not_show_its_password(page_data_dir, monkeypatch):
    url = f"http://groundwork:{CHROMA_PASSWORD}@127.0.0.1:{closed_port()}"
    monkeypatch.setenv("CHROMA_URL", url)
    monkeypatch.delenv("GROUNDWORK_COLLECTION", raising=False)
    at = run_app("pages/chat.py", None, auth=False)
    shown = "\n".join(e.value for e in at.error)
    assert "Chroma" in shown  # the page says the store is out of reach
    assert_no_secret("the page", shown)


def test_chroma_url_credentials_go_to_the_server_as_basic_auth_not_in_the_url(tmp_path):
    """A ``user:password@`` in CHROMA_URL reaches the server only as an Authorization header."""
    import base64
    import http.server
    import threading

    seen: list[tuple[str, str]] = []

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard handler's name
            seen.append((self.path, self.headers.get("Authorization", "")))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://groundwork:{CHROMA_PASSWORD}@127.0.0.1:{server.server_port}"
        settings = Settings(data_dir=tmp_path / "data", chroma_url=url)
        with pytest.raises(StoreError) as raised:
            connect(settings)
    finally:
        server.shutdown()
    expected = "Basic " + base64.b64encode(f"groundwork:{CHROMA_PASSWORD}".encode()).decode()
    assert seen and all(auth == expected for _, auth in seen)
    assert all(CHROMA_PASSWORD not in path for path, _ in seen)
    assert_no_secret("the error", str(raised.value))
