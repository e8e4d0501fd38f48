"""AppTest of the router: navigation and the sidebar's backend line, on a fresh data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import close_page_store

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(tmp_path / "data"))
    # Nothing listens on this loopback port: 'auto' must fall back to the embedded model.
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    st.cache_resource.clear()  # pages.common caches the store, model and database per process
    yield tmp_path / "data"
    close_page_store()
    st.cache_resource.clear()


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_navigation_renders_the_ask_page_first(data_dir):
    at = run_app()
    assert at.title[0].value == "Ask your documents"
    at.switch_page("pages/documents.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Documents"


def test_sidebar_names_the_backend_and_why(data_dir):
    at = run_app()
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    assert "**embedded**" in sidebar_text
    assert "SmolLM2" in sidebar_text
    reasons = [c.value.replace("\\", "") for c in at.sidebar.caption]  # shown escaped
    assert "Model backend" in reasons
    # the reason says why Ollama was not used and what to do about it
    assert any("127.0.0.1:9" in r and "embedded" in r for r in reasons), reasons


def test_explicit_embedded_backend_is_explained(data_dir, monkeypatch):
    monkeypatch.setenv("GROUNDWORK_BACKEND", "embedded")
    at = run_app()
    assert "**embedded**" in " ".join(m.value for m in at.sidebar.markdown)
    assert any("embedded" in c.value.lower() for c in at.sidebar.caption[1:])
