"""Retrieval over a real store: document-aware ranking of look-alike documents, the identity
header, naming terms. Fusion's rules on hand-built rankings are in test_fusion.py."""

from __future__ import annotations

import pytest

from rag.index import ingest_file
from rag.index.retrieve import HybridSearch
from tests.conftest import make_pdf

BODY = (
    "Results of operations.\n"
    "Research and development expenses were ${rd} million in the quarter, driven by "
    "engineering headcount. Sales and marketing expenses were ${sm} million."
)


def _filing(company: str, quarter_end: str, rd: int, sm: int) -> bytes:
    cover = (
        "FORM 10-Q\nQUARTERLY REPORT\n"
        f"For the quarterly period ended {quarter_end}\n{company}\n"
        "(Exact name of registrant as specified in its charter)"
    )
    return make_pdf([cover, BODY.replace("${rd}", f"${rd:,}").replace("${sm}", f"${sm:,}")])


@pytest.fixture
def filings(store):
    """Four look-alike filings: two companies, two quarters, identical body pages."""
    files = {
        "acme-q1.pdf": _filing("Acme Widgets, Inc.", "March 31, 2024", 1875, 950),
        "acme-q2.pdf": _filing("Acme Widgets, Inc.", "June 30, 2024", 1990, 970),
        "globex-q1.pdf": _filing("Globex Corporation", "March 31, 2024", 610, 300),
        "globex-q2.pdf": _filing("Globex Corporation", "June 30, 2024", 655, 310),
    }
    for name, data in files.items():
        assert ingest_file(store, name, data).ok
    return store


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("How much did Globex spend on research and development in the quarter ended "
         "June 30, 2024?", "globex-q2.pdf"),
        ("What were Acme Widgets' R&D expenses for Q1 2024?", "acme-q1.pdf"),
        ("Sales and marketing expenses of Acme in the second quarter of 2024", "acme-q2.pdf"),
    ],
)  # fmt: skip
def test_look_alike_filings_answer_from_the_named_company_and_quarter(filings, question, source):
    hits = HybridSearch(filings).search(question, 5)
    assert (hits[0].source, hits[0].page) == (source, 2)  # the body page, not just the cover
    assert "Globex" not in hits[0].text and "Acme" not in hits[0].text  # identity came from context
    assert hits[0].context  # citations can say which document it is


def test_a_question_comparing_quarters_retrieves_from_each(filings):
    hits = HybridSearch(filings).search(
        "Compare Globex research and development expenses between the quarters ended "
        "March 31, 2024 and June 30, 2024",
        5,
    )
    assert {"globex-q1.pdf", "globex-q2.pdf"} <= {h.source for h in hits}


def test_context_header_is_indexed_and_served_without_it(filings):
    chunk = next(c for c in filings.chunks() if c.metadata["source"] == "globex-q2.pdf")
    header = chunk.text[: chunk.metadata["text_offset"]]
    assert "Globex Corporation" in header and "Q2 2024" in header
    assert chunk.passage().text == chunk.text[chunk.metadata["text_offset"] :]


def test_only_naming_terms_rank_documents(filings):
    paragraph = "Travel must be booked through the travel desk; travel advances need approval. "
    travel = "# Travel policy\n\n" + "\n\n".join(paragraph * 6 for _ in range(8))
    assert ingest_file(filings, "travel-policy.md", travel.encode()).chunks >= 3
    search = HybridSearch(filings)
    search.lexical.search("warm up", 1)  # build the indexes
    # "globex" is in two profiles and no body; "travel" is in a title and all over the bodies
    assert search.lexical.naming_terms(["globex", "travel", "research"]) == ["globex"]
    assert search.lexical.documents("travel booking rules") == []
    named = search.lexical.documents("Globex research spending")
    assert {filings.documents()[0]["doc_id"]} != {d for d, _ in named}
    assert len(named) == 2  # both Globex filings, nothing else
