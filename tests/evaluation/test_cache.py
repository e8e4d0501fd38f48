"""The evaluation corpus: which files of a docs folder are collected, and under which names."""

from __future__ import annotations

import pytest

from rag.errors import DatasetError
from rag.evaluation.cache import collect_docs


def test_collect_docs_recurses_and_keeps_clashing_names_apart(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        collect_docs(tmp_path / "missing")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "notes.xyz").write_text("unsupported")
    with pytest.raises(DatasetError, match="no supported files"):
        collect_docs(tmp_path)
    (tmp_path / "a" / "index.md").write_text("# A")
    (tmp_path / "a" / "b" / "index.md").write_text("# B")
    (tmp_path / "a" / "b" / "leave.md").write_text("# Leave")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("# hidden")
    files = collect_docs(tmp_path)
    assert [(f.name, f.base) for f in files] == [
        ("a__b__index.md", "index.md"),
        ("leave.md", "leave.md"),
        ("a__index.md", "index.md"),
    ]
