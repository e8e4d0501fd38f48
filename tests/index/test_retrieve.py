"""Retrieval: margin-weighted fusion, document-aware ranking, look-alike documents."""

from __future__ import annotations

import pytest

from rag.index.indexing import ingest_file
from rag.index.retrieve import (
    DEFAULT_FUSION,
    Fusion,
    HybridSearch,
    Rankings,
    _diverse,
    fuse,
    margin,
)
from rag.types import Passage
from tests.conftest import make_pdf


def _passage(cid: str, doc: str) -> Passage:
    return Passage(chunk_id=cid, doc_id=doc, source=f"{doc}.pdf", page=1, section="", text=cid)


@pytest.mark.parametrize(
    ("scores", "population", "expected"),
    [
        ([], None, 0.0),
        ([0.0, 0.0], None, 0.0),
        ([5.0, 5.0, 5.0, 5.0], None, 0.0),  # flat: the ranking says nothing
        ([9.0, 1.0, 1.0, 1.0], None, pytest.approx(8 / 9)),
        ([4.0, 3.0], 50, 1.0),  # two documents of fifty match: the rest score 0
    ],
)
def test_margin_measures_how_far_the_best_stands_out(scores, population, expected):
    assert margin(scores, population) == expected


def _rankings(lexical_scores: list[float], document_scores: list[float]) -> Rankings:
    r = Rankings()
    for cid, doc in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C")):
        r.passages[cid] = _passage(cid, doc)
    r.vector = ["a1", "b1", "a2", "b2", "c1"]
    r.vector_scores = [0.8, 0.79, 0.7, 0.69, 0.6]
    r.lexical = ["c1", "b2", "b1", "a2", "a1"]
    r.lexical_scores = lexical_scores
    r.documents = ["B", "A", "C"][: len(document_scores)]
    r.document_scores = document_scores
    r.document_count = 3
    return r


def test_flat_lexical_scores_do_not_outvote_the_vector_ranking():
    flat = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [])
    equal = [p.chunk_id for p in fuse(flat, Fusion(1, 1, 0, adaptive=False), 5)]
    adaptive = [p.chunk_id for p in fuse(flat, Fusion(1, 1, 0, adaptive=True), 5)]
    assert equal[0] != "a1"  # equal-weight RRF lets the noise move the top passage
    assert adaptive[:2] == ["a1", "b1"]


def test_a_peaked_lexical_ranking_still_counts():
    peaked = _rankings([12.0, 2.0, 1.0, 1.0, 0.5], [])
    ids = [p.chunk_id for p in fuse(peaked, Fusion(1, 1, 0, adaptive=True), 5)]
    assert ids.index("c1") < 4  # last by vector, lifted by a confident lexical match


def test_a_document_named_by_the_question_lifts_its_passages():
    named = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [7.0])  # only B's profile matches
    ids = [p.chunk_id for p in fuse(named, Fusion(1, 0, 1, adaptive=True), 5)]
    assert ids[:2] == ["b1", "a1"] or ids[:2] == ["b1", "b2"]
    unnamed = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [1.0, 1.0, 1.0])  # flat over all
    assert [p.chunk_id for p in fuse(unnamed, Fusion(1, 0, 1, adaptive=True), 2)] == ["a1", "b1"]


def test_focused_passages_join_the_candidates():
    r = _rankings([3.0] * 5, [7.0])
    r.passages["b9"] = _passage("b9", "B")
    r.focused = ["b9"]
    assert "b9" in [p.chunk_id for p in fuse(r, Fusion(1, 0, 1, adaptive=False), 5, per_doc=5)]
    assert DEFAULT_FUSION.document > 0  # the shipped fusion ranks documents


def test_diversity_caps_passages_per_document_while_others_remain():
    ranked = [_passage(f"a{i}", "A") for i in range(5)] + [_passage("b0", "B")]
    assert [p.chunk_id for p in _diverse(ranked, 4, per_doc=3)] == ["a0", "a1", "a2", "b0"]
    assert len(_diverse(ranked[:5], 4, per_doc=3)) == 4  # nothing else: the cap gives way


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
