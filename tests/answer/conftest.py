"""Fixtures for the answer room's tests."""

from __future__ import annotations

import pytest

from rag.answer.encoder import CachingEncoder


@pytest.fixture(scope="session")
def encode(minilm):
    """The real MiniLM sentence encoder behind the verification cache."""
    return CachingEncoder(minilm.encode)
