"""The package's public API, the pages' use of it only, and the README's promise to document
every setting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rag
from rag.config import settings_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
APP_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py")])


@pytest.mark.parametrize("name", rag.__all__)
def test_every_export_resolves(name):
    assert getattr(rag, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        rag.no_such_thing  # noqa: B018


def _rag_imports(path: Path) -> tuple[list[str], set[str]]:
    """Return the internal ``rag`` modules ``path`` imports, and the names it takes from ``rag``."""
    internal, names = [], set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            internal += [a.name for a in node.names if a.name.startswith("rag.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("rag."):
                internal.append(node.module)
            elif node.module == "rag":
                names |= {a.name for a in node.names}
    return internal, names


def test_pages_are_found():
    assert {p.name for p in APP_FILES} >= {"app.py", "chat.py", "common.py", "documents.py"}


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: p.name)
def test_pages_use_only_the_public_api(path):
    internal, names = _rag_imports(path)
    assert not internal, f"{path.name} imports internal modules {internal}: use `from rag import`"
    assert names <= set(rag.__all__), f"not exported by rag: {sorted(names - set(rag.__all__))}"


def test_the_import_check_sees_internal_imports(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "import rag\nimport rag.config\nfrom rag.ops import open_db\n"
        "def f():\n    from rag.text.markup import escape_markdown\n"
        "from rag import Settings, nothing_exported\n"
    )
    internal, names = _rag_imports(page)
    assert internal == ["rag.config", "rag.ops", "rag.text.markup"]
    assert names == {"Settings", "nothing_exported"}


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
