"""Provide pytest fixtures for the loopback fakes (imported by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .langsmith import LangSmithCapture
from .ollama import FakeOllama


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """Yield a running `FakeOllama` (models ``llama3.2:3b`` and ``nomic-embed-text``).

    Reconfigure it in the test: ``fake_ollama.reply = lambda messages: "..."``,
    ``fake_ollama.models = [...]``, ``fake_ollama.token_delay = 0.05``,
    ``fake_ollama.error = (500, "...")``. Point clients at ``fake_ollama.url``.
    """
    with FakeOllama() as server:
        yield server


@pytest.fixture
def langsmith_capture() -> Iterator[LangSmithCapture]:
    """Yield a running `LangSmithCapture` with LangSmith tracing pointed at it.

    ``LANGSMITH_TRACING/ENDPOINT/API_KEY/PROJECT`` are set (project ``groundwork-tests``) and
    langsmith's caches reset; at teardown the tracers are flushed and everything restored.
    Call ``langchain_core.tracers.langchain.wait_for_all_tracers()`` (or
    ``langsmith_capture.wait_for_runs(...)``) before asserting on ``langsmith_capture.runs``.
    """
    with LangSmithCapture() as capture, capture.tracing_env():
        yield capture
