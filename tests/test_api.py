"""The package's public API and the README's promise to document every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.config import settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", rag.__all__)
def test_every_export_resolves(name):
    assert getattr(rag, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        rag.no_such_thing  # noqa: B018


@pytest.mark.parametrize("row", settings_table(), ids=lambda r: r["name"])
def test_readme_documents_every_setting(row):
    first_env = row["env"].split(",")[0].strip()
    assert f"`{first_env}`" in README.read_text(encoding="utf-8")


def test_importing_config_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, rag.config; print('chromadb' in sys.modules, 'langchain_core' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
