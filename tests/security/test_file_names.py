"""Hostile file names, through the real ingest path: nothing lands outside the data folder, the
registry keeps a tame name, and the Documents page, chat citations and the CLI show it as text.

A name comes from the browser or the command line, so it may hold path separators, HTML,
Markdown links and images, control and bidi characters, or be absurdly long. The registry
stores the sanitised name (``safe_filename``, cut to ``NAME_BYTES`` of UTF-8): that name is
the document's identity and the file name of its kept original, so it must be safe as a path
component. The name as given is kept verbatim in ``upload_name`` (data, shown only escaped).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.config import Settings
from rag.index import ingest_file
from rag.index.reading import NAME_BYTES
from rag.index.store import DocumentStore
from rag.models import DEFAULT_EMBEDDER
from rag.ops.database import open_db
from rag.text.markup import escape_line, escape_markdown
from tests.cli.test_cli import run_cli
from tests.pages.apptest import run_page_file


def body(topic: str) -> bytes:
    """A small Markdown document; distinct per name so no upload is a duplicate of another."""
    return f"# {topic}\n\nThe {topic} rule: staff file the {topic} form within ten days.\n".encode()


# (name as given, the name the registry keeps); None: refused (no supported extension left).
NAMES = [
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\evil.md", "evil.md"),
    ("/abs/path.md", "path.md"),
    ("a/b/c.md", "c.md"),
    ("<img src=x onerror=alert(1)>report.md", "report.md"),
    ("<img src=x onerror=alert(1)>.md", None),
    ("<script>alert(1)</script>.md", "alert(1).md"),
    ("[click](http://evil.example).md", "evil.example).md"),
    ("![x](http://evil.example/p.png).md", "p.png).md"),
    ("[click](evil.example).md", "[click](evil.example).md"),
    ("![x](beacon.png).md", "![x](beacon.png).md"),
    ("nul\x00byte.md", "nulbyte.md"),
    ("new\nline.md", "new line.md"),
    ("invoice\u202egnp.md", "invoicegnp.md"),
    ("bell\x07 and escape\x1b[31m.md", "bell and escape[31m.md"),
    ("a" * 1000 + ".md", "a" * 147 + ".md"),
    (".", None),
    ("..", None),
    ("", None),
    (".md", None),
]
LONG = [("é" * 1000 + ".md", "é" * 98 + ".md"), ("日" * 1000 + ".md", "日" * 65 + ".md")]
FORBIDDEN = re.compile(r"[/\\<>\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def files_under(root: Path) -> set[Path]:
    return {Path(d, f) for d, _, names in os.walk(root) for f in names}


def assert_kept_inside(settings: Settings, rows: list[dict], inputs: Path | None = None) -> None:
    """Every file is under the data folder (or the ``inputs`` read from); each kept original
    sits at uploads/<id>/v<N>/<name>."""
    allowed = [settings.data_dir, *([inputs] if inputs else [])]
    found = files_under(settings.data_dir.parent)
    assert all(any(root in p.parents for root in allowed) for p in found), found
    uploads = settings.data_dir / "uploads"
    kept = files_under(uploads)
    expected = {uploads / r["doc_id"] / f"v{r['version']}" / r["filename"] for r in rows}
    assert kept == expected
    for path in ("/etc/passwd.md", "/abs/path.md", "/evil.md"):
        assert not Path(path).exists()


@pytest.mark.parametrize(("given", "stored"), NAMES + LONG, ids=repr)
def test_a_hostile_name_is_stored_tame_and_kept_inside_the_data_folder(store, given, stored):
    report = ingest_file(store, given, body("travel"))
    rows = list(store.db["documents"].rows)
    assert_kept_inside(store.settings, rows)
    if stored is None:
        assert report.status == "failed" and not rows
        assert "not supported" in report.error
        assert not FORBIDDEN.search(report.filename)
        return
    assert report.ok, report.error
    [row] = rows
    assert row["filename"] == report.filename == stored
    assert not FORBIDDEN.search(row["filename"]) and not row["filename"].startswith(".")
    assert len(row["filename"].encode()) <= NAME_BYTES
    assert all(unicodedata.category(c)[0] != "C" for c in row["filename"])
    assert row["upload_name"] == given  # verbatim, as data


def test_a_long_name_in_a_non_latin_script_can_be_stored_restored_and_reingested(store):
    from rag.index import reingest_document

    given = "年次休暇の規程" * 100 + ".md"
    first = ingest_file(store, given, body("leave"))
    assert first.ok, first.error
    again = reingest_document(store, first.doc_id)
    assert again.ok and again.doc_id == first.doc_id  # the kept name is the same identity
    assert again.version == first.version + 1


def live(md: str) -> str:
    """What Markdown syntax sees: ``md`` with every backslash escape taken out."""
    return re.sub(r"\\.", "", md, flags=re.S)


def assert_inert(md: str) -> None:
    """No link, image, HTML tag or autolink can form from ``md``."""
    rest = live(md)
    assert "](" not in rest and "![" not in rest and "<" not in rest, md
    assert not re.search(r"(?<!\u2060)https?:", md), md


SHOWN = [
    ("[click](http://evil.example/x)report.md", "x)report.md"),
    ("![x](beacon.png).md", "![x](beacon.png).md"),
    ("[click](evil.example).md", "[click](evil.example).md"),
    ("<img src=x onerror=alert(1)>notes.md", "notes.md"),
    ("**bold** _it_ :red[x] $x$.md", "bold _it_ red[x] $x$.md"),
]


def page_texts(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "success", "warning", "error", "info", "subheader")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def test_the_documents_page_shows_hostile_names_as_text(store_page_data_dir):
    at = run_page_file("documents", 180)
    at.file_uploader[0].set_value(
        [(given, body(f"topic {i}"), "text/markdown") for i, (given, _) in enumerate(SHOWN)]
    )
    [add] = [b for b in at.button if b.label == "Add to library"]
    add.click().run()
    assert not at.exception, at.exception
    reports = [e.value for e in [*at.success, *at.warning] if "— added" in e.value]
    for _, stored in SHOWN:
        assert any(v.startswith(f"**{escape_markdown(stored)}** — added") for v in reports), (
            stored,
            reports,
        )
    for text in page_texts(at):
        assert_inert(text)
    # Grid cells and select options are plain text: the stored names appear as written.
    assert set(at.dataframe[0].value["name"]) == {stored for _, stored in SHOWN}
    db = open_db(store_page_data_dir / "app.db")
    try:
        assert_kept_inside(Settings(data_dir=store_page_data_dir), list(db["documents"].rows))
    finally:
        db.close()


def test_chat_citations_show_hostile_names_as_text(store_page_data_dir, minilm):
    settings = Settings(data_dir=store_page_data_dir, backend="embedded")
    given = "![x](http://evil.example/p.png)<b>printer</b>[help](guide).md"
    with DocumentStore(settings, lambda name: minilm, DEFAULT_EMBEDDER) as store:
        report = ingest_file(store, given, body("printer"))
    assert report.ok, report.error
    assert report.filename == "p.png)printer[help](guide).md"
    at = run_page_file("chat", 180)
    at.chat_input[0].set_value("Within how many days do staff file the printer form?").run()
    assert not at.exception, at.exception
    _, bot = at.chat_message
    labels = [e.label for e in bot.expander if e.label.startswith("[")]
    assert labels and all(escape_line(report.filename) in label for label in labels), labels
    for md in [*labels, *(m.value for m in bot.markdown), *(c.value for c in bot.caption)]:
        assert_inert(md)


def test_the_cli_stores_names_from_paths_tame_and_prints_no_control_characters(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    given = {
        "<img src=x onerror=alert(1)>report.md": "report.md",
        "[click](evil.example).md": "[click](evil.example).md",
        "new\nline.md": "new line.md",
        "invoice\u202egnp.md": "invoicegnp.md",
        "escape\x1b[31mred.md": "escape[31mred.md",
        "日" * 80 + ".md": "日" * 65 + ".md",  # 240 bytes: a valid file name, cut when stored
    }
    for i, name in enumerate(given):
        (docs / name).write_bytes(body(f"topic {i}"))
    data_dir = tmp_path / "data"
    result = run_cli("ingest", str(docs), data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", result.stdout + result.stderr)
    db = open_db(data_dir / "app.db")
    try:
        rows = list(db["documents"].rows)
    finally:
        db.close()
    assert {r["filename"] for r in rows} == set(given.values())
    assert_kept_inside(Settings(data_dir=data_dir), rows, inputs=docs)
