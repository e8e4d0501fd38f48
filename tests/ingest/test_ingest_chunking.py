"""Chunking: exact offsets, the token ceiling with a header, sections, and linear cost."""

from __future__ import annotations

import pytest
from ingest_samples import make_docx, make_pdf, word_count

from rag.ingest import chunk_document, load_file
from rag.types import LoadedDocument, PageText

HANDBOOK = """# Leave

Everyone gets leave. Talk to your manager before booking anything long.

## Annual leave

Annual leave is twenty days a year. Unused days carry over up to five days.

Book leave in the HR system at least two weeks ahead.

## Sick leave

Tell your manager on the first morning. A note is needed after three days.

```bash
# this comment is code, not a heading
book-leave --days 3
```

# Travel

Book trips through the portal.
"""


def _doc(*pages: str, kind: str = "markdown", title: str = "Handbook") -> LoadedDocument:
    return LoadedDocument(
        "handbook.md", kind, [PageText(i + 1, t) for i, t in enumerate(pages)], {"title": title}
    )


def _header(doc: LoadedDocument):
    return lambda section: f"{doc.title}\n{section}\n"


def _assert_exact_slices(doc: LoadedDocument, chunks) -> None:
    for chunk in chunks:
        page = doc.pages[chunk.page - 1]
        assert page.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text


@pytest.fixture(params=["words", "minilm"])
def count(request):
    """Run each test with a word counter and with the real embedder tokenizer."""
    return word_count if request.param == "words" else request.getfixturevalue("minilm_count")


def test_sections_follow_the_heading_path(count):
    doc = _doc(HANDBOOK)
    chunks = chunk_document(doc, count, max_tokens=40, header=_header(doc))
    _assert_exact_slices(doc, chunks)
    by_section: dict[str, str] = {}
    for chunk in chunks:
        by_section[chunk.section] = by_section.get(chunk.section, "") + chunk.text + "\n"
    assert list(by_section) == ["Leave", "Leave > Annual leave", "Leave > Sick leave", "Travel"]
    assert by_section["Leave > Sick leave"].startswith("## Sick leave")
    assert "# this comment is code" in by_section["Leave > Sick leave"]  # fenced code stays put


def test_small_paragraphs_merge_up_to_the_budget():
    paragraphs = [f"Paragraph {i} has a few words." for i in range(40)]
    doc = _doc("\n\n".join(paragraphs), kind="text")
    chunks = chunk_document(doc, word_count, max_tokens=60)
    _assert_exact_slices(doc, chunks)
    assert len(chunks) == 5  # 240 words at <= 54 (90% of 60) per chunk, paragraphs kept whole
    assert all(word_count(c.text) <= 54 for c in chunks)
    assert all(c.text.startswith("Paragraph") and c.text.endswith(".") for c in chunks)


def test_heading_only_runs_merge_with_the_text_below():
    doc = _doc("# Part one\n\n## Chapter A\n\n### Rule 1\n\nThe rule text.")
    chunks = chunk_document(doc, word_count, max_tokens=100)
    assert [(c.section, c.text) for c in chunks] == [
        ("Part one > Chapter A > Rule 1", doc.pages[0].text)
    ]


@pytest.mark.parametrize(
    "text",
    [
        " ".join(f"word{i}" for i in range(3000)),  # one giant paragraph of words
        "x" * 20_000,  # a blob without spaces
        "\n".join(f"Sentence number {i} ends here. And another one follows." for i in range(500)),
        "Short.\n\n" + ("Long sentence without end " * 400) + "\n\nTail paragraph.",
        "Ünïcödé ✓ 数据 " * 800,
    ],
    ids=["giant-paragraph", "no-spaces", "many-lines", "run-on-sentence", "unicode"],
)
def test_every_chunk_fits_with_its_header(text, count):
    doc = _doc(text, "Second page.\n\n" + text[:2000], title="Q3 2024 Report — Acme Corp")
    header = _header(doc)
    chunks = chunk_document(doc, count, max_tokens=64, header=header)
    _assert_exact_slices(doc, chunks)
    assert all(count(header(c.section) + c.text) <= 64 for c in chunks)
    covered = "".join("".join(c.text.split()) for c in chunks if c.page == 1)
    assert covered == "".join(text.split())  # nothing lost, nothing repeated


def test_chunks_cover_all_text_and_never_cross_pages():
    pages = [f"Page {n} line one.\nPage {n} line two.\n\nPage {n} final paragraph." for n in (1, 2)]
    doc = _doc(*pages, "   \n\n  ", kind="text")
    chunks = chunk_document(doc, word_count, max_tokens=8)
    _assert_exact_slices(doc, chunks)
    assert {c.page for c in chunks} == {1, 2}  # the blank third page yields nothing
    for number, page in enumerate(pages, start=1):
        words = [w for c in chunks if c.page == number for w in c.text.split()]
        assert words == page.split()


def test_pdf_headings_are_guessed_from_numbered_and_title_lines(settings):
    pages = [
        "Annual Report\nThis report covers the year.\n1 Introduction\nWe make widgets.\n"
        "1.1 Scope of This Report\nIt covers all plants.\nSome steps:\n1. Preheat the oven\n",
        "2 Results\nRevenue grew.\nRegional Highlights\nThe north did well.\n"
        "2.1 Costs\nCosts fell.\nPage footer 2",
    ]
    doc = load_file("report.pdf", make_pdf(pages), settings)
    chunks = chunk_document(doc, word_count, max_tokens=12)
    _assert_exact_slices(doc, chunks)
    sections = [(c.page, c.section, c.text.split("\n")[0]) for c in chunks]
    assert sections == [
        (1, "Annual Report", "Annual Report"),
        (1, "1 Introduction", "1 Introduction"),
        (1, "1 Introduction > 1.1 Scope of This Report", "1.1 Scope of This Report"),
        (1, "1 Introduction > 1.1 Scope of This Report", "Some steps:"),  # a list, not chapter 1
        (2, "2 Results", "2 Results"),
        (2, "2 Results > Regional Highlights", "Regional Highlights"),
        (2, "2 Results > 2.1 Costs", "2.1 Costs"),
    ]
    assert chunks[2].text == "1.1 Scope of This Report\nIt covers all plants."  # heading + text


def test_docx_and_html_headings_become_sections(settings, count):
    doc = load_file("policy.docx", make_docx(), settings)
    chunks = chunk_document(doc, count, max_tokens=30)
    _assert_exact_slices(doc, chunks)
    assert [c.section for c in chunks] == ["Leave policy", "Leave policy > Annual leave"]
    html = b"<h1>Travel</h1><p>Book early.</p><h2>Per diem</h2><p>Meals are covered.</p>"
    doc = load_file("travel.html", html, settings)
    chunks = chunk_document(doc, count, max_tokens=16)
    assert [c.section for c in chunks] == ["Travel", "Travel > Per diem"]


def test_count_tokens_calls_grow_linearly():
    calls = []

    def counting(text: str) -> int:
        calls.append(len(text))
        return word_count(text)

    paragraphs = [f"Paragraph {i} says something short but useful." for i in range(2000)]
    doc = _doc("\n\n".join(paragraphs), kind="text")
    chunks = chunk_document(doc, counting, max_tokens=200, header=lambda s: "Doc\n")
    assert len(calls) <= len(paragraphs) + 2 * len(chunks) + 5
    assert sum(calls) <= 3 * len(doc.pages[0].text)  # no re-counting of growing concatenations


def test_an_oversized_header_section_is_shortened():
    doc = _doc("# " + "Very long heading words " * 20 + "\n\nBody text under it.")
    chunks = chunk_document(doc, word_count, max_tokens=40, header=lambda s: f"Doc\n{s}\n")
    assert all(word_count(f"Doc\n{c.section}\n" + c.text) <= 40 for c in chunks)
    assert chunks and all(len(c.section.split()) <= 20 for c in chunks)


def test_real_tokenizer_chunks_fit_a_256_window(minilm_count):
    text = "\n\n".join(
        f"## Section {i}\n\n" + " ".join(["The quarterly filing discusses revenue."] * (i % 9 + 1))
        for i in range(60)
    )
    doc = _doc(text, title="Acme 10-Q, Q3 2024")
    header = _header(doc)
    chunks = chunk_document(doc, minilm_count, max_tokens=256, header=header)
    _assert_exact_slices(doc, chunks)
    assert len(chunks) == 60  # one per section: each fits, none merge across headings
    assert all(minilm_count(header(c.section) + c.text) <= 256 for c in chunks)
