"""Fusion of gathered rankings, on hand-built ``Rankings`` (no model, no store).

The rules: each passage ranking adds ``weight / (RRF_K + rank)``; a document the question names
adds ``document weight * its score / the best document's score / (RRF_K + 1)`` to each of its
passages; a focused passage the vector ranking missed ranks after that ranking's last;
``adaptive`` scales the lexical and document weights by their score margins; ties keep the
vector ranking's order; at most ``per_doc`` passages of a document while others remain.
"""

from __future__ import annotations

import pytest

from rag.index.retrieve import (
    DEFAULT_FUSION,
    PER_DOC,
    RRF_K,
    Fusion,
    Rankings,
    _diverse,
    fuse,
    margin,
)
from rag.types import Passage

FIXED = Fusion(vector=1.0, lexical=1.0, document=1.0, adaptive=False)


def _passage(cid: str, doc: str) -> Passage:
    return Passage(chunk_id=cid, doc_id=doc, source=f"{doc}.pdf", page=1, section="", text=cid)


def _candidates(*ids: str) -> Rankings:
    """Rankings with a passage per id; an id's first letter, upper-cased, is its document."""
    r = Rankings()
    for cid in ids:
        r.passages[cid] = _passage(cid, cid[0].upper())
    return r


def _ids(passages: list[Passage]) -> list[str]:
    return [p.chunk_id for p in passages]


def _rankings(lexical_scores: list[float], document_scores: list[float]) -> Rankings:
    r = _candidates("a1", "a2", "b1", "b2", "c1")
    r.vector = ["a1", "b1", "a2", "b2", "c1"]
    r.lexical = ["c1", "b2", "b1", "a2", "a1"]
    r.lexical_scores = lexical_scores
    r.documents = ["B", "A", "C"][: len(document_scores)]
    r.document_scores = document_scores
    r.document_count = 3
    return r


# --- reciprocal rank fusion --------------------------------------------------------------------


def test_scores_are_summed_reciprocal_ranks():
    r = _candidates("a1", "b1", "c1")
    r.vector = ["a1", "b1", "c1"]
    r.lexical = ["c1", "b1"]
    fused = fuse(r, FIXED, 3)
    # c1's 1/63 + 1/61 edges out b1's 1/62 + 1/62; both beat a1's lone first place, 1/61
    assert _ids(fused) == ["c1", "b1", "a1"]
    expected = {
        "a1": 1 / (RRF_K + 1),
        "b1": 2 / (RRF_K + 2),
        "c1": 1 / (RRF_K + 3) + 1 / (RRF_K + 1),
    }
    assert {p.chunk_id: p.score for p in fused} == pytest.approx(expected)


def test_weights_scale_each_ranking():
    r = _candidates("a1", "b1", "c1")
    r.vector = ["a1", "b1", "c1"]
    r.lexical = ["c1", "b1", "a1"]
    assert _ids(fuse(r, Fusion(1, 0, 0, adaptive=False), 3)) == ["a1", "b1", "c1"]
    assert _ids(fuse(r, Fusion(0, 1, 0, adaptive=False), 3)) == ["c1", "b1", "a1"]
    lexical_heavy = fuse(r, Fusion(1, 2, 0, adaptive=False), 3)
    assert lexical_heavy[0].chunk_id == "c1"
    assert lexical_heavy[0].score == pytest.approx(1 / (RRF_K + 3) + 2 / (RRF_K + 1))


def test_a_lexical_hit_without_a_passage_is_not_served():
    r = _candidates("a1")
    r.vector = ["a1"]
    r.lexical = ["z9", "a1"]  # z9 was never fetched: nothing to show for it
    assert _ids(fuse(r, FIXED, 5)) == ["a1"]


def test_ties_keep_the_vector_ranking_order():
    r = _candidates("a1", "b1")
    r.vector, r.lexical = ["a1", "b1"], ["b1", "a1"]
    tied = fuse(r, FIXED, 2)
    assert tied[0].score == tied[1].score
    assert _ids(tied) == ["a1", "b1"]
    r.vector, r.lexical = ["b1", "a1"], ["a1", "b1"]
    assert _ids(fuse(r, FIXED, 2)) == ["b1", "a1"]


# --- the lexical vote ---------------------------------------------------------------------------


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


def test_flat_lexical_scores_do_not_outvote_the_vector_ranking():
    flat = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [])
    equal = _ids(fuse(flat, Fusion(1, 1, 0, adaptive=False), 5))
    adaptive = _ids(fuse(flat, Fusion(1, 1, 0, adaptive=True), 5))
    assert equal[0] != "a1"  # equal-weight RRF lets the noise move the top passage
    assert adaptive[:2] == ["a1", "b1"]


def test_perfectly_flat_lexical_scores_have_no_vote_at_all():
    flat = _rankings([3.0] * 5, [])
    fused = fuse(flat, Fusion(1, 1, 0, adaptive=True), 5, per_doc=5)
    assert _ids(fused) == flat.vector
    assert [p.score for p in fused] == pytest.approx([1 / (RRF_K + n) for n in range(1, 6)])


def test_the_lexical_vote_shrinks_by_its_margin():
    r = _candidates("a1", "b1")
    r.vector, r.lexical = ["a1"], ["b1"]
    r.lexical_scores = [4.0, 1.0, 1.0]  # margin 1 - 1/4
    [_, b1] = fuse(r, Fusion(1, 1, 0, adaptive=True), 2)
    assert b1.score == pytest.approx(0.75 / (RRF_K + 1))


def test_a_peaked_lexical_ranking_still_counts():
    peaked = _rankings([12.0, 2.0, 1.0, 1.0, 0.5], [])
    ids = _ids(fuse(peaked, Fusion(1, 1, 0, adaptive=True), 5))
    assert ids.index("c1") < 4  # last by vector, lifted by a confident lexical match


# --- named documents ----------------------------------------------------------------------------


def test_a_document_named_by_the_question_lifts_its_passages():
    named = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [7.0])  # only B's profile matches
    ids = _ids(fuse(named, Fusion(1, 0, 1, adaptive=True), 5))
    assert ids[:2] == ["b1", "a1"] or ids[:2] == ["b1", "b2"]
    unnamed = _rankings([3.0, 3.0, 2.99, 2.99, 2.98], [1.0, 1.0, 1.0])  # flat over all
    assert _ids(fuse(unnamed, Fusion(1, 0, 1, adaptive=True), 2)) == ["a1", "b1"]


def test_a_document_adds_its_share_of_the_best_documents_score():
    r = _candidates("a1", "b1", "c1")
    r.vector = ["a1", "b1", "c1"]
    r.documents, r.document_scores = ["B", "C"], [8.0, 2.0]  # A is not named at all
    fused = {p.chunk_id: p.score for p in fuse(r, Fusion(1, 0, 1, adaptive=False), 3)}
    assert fused == pytest.approx(
        {
            "a1": 1 / (RRF_K + 1),
            "b1": 1 / (RRF_K + 2) + 1.0 / (RRF_K + 1),
            "c1": 1 / (RRF_K + 3) + 0.25 / (RRF_K + 1),
        }
    )


def test_the_document_vote_shrinks_by_its_margin():
    r = _candidates("a1", "b1", "c1")
    r.vector = ["a1", "b1", "c1"]
    # B 4, A 2 and the third document 0 (unlisted): the median is 2, so the margin is 1/2
    r.documents, r.document_scores, r.document_count = ["B", "A"], [4.0, 2.0], 3
    fused = {p.chunk_id: p.score for p in fuse(r, Fusion(1, 0, 1, adaptive=True), 3)}
    assert fused["b1"] == pytest.approx(1 / (RRF_K + 2) + 0.5 / (RRF_K + 1))
    assert fused["a1"] == pytest.approx(1 / (RRF_K + 1) + 0.25 / (RRF_K + 1))
    assert fused["c1"] == pytest.approx(1 / (RRF_K + 3))


def test_documents_scoring_zero_add_nothing():
    r = _candidates("a1", "b1")
    r.vector = ["a1", "b1"]
    r.documents, r.document_scores = ["B"], [0.0]
    assert _ids(fuse(r, Fusion(1, 0, 1, adaptive=False), 2)) == ["a1", "b1"]


def test_focused_passages_join_the_candidates():
    r = _rankings([3.0] * 5, [7.0])
    r.passages["b9"] = _passage("b9", "B")
    r.focused = ["b9"]
    assert "b9" in _ids(fuse(r, Fusion(1, 0, 1, adaptive=False), 5, per_doc=5))
    assert DEFAULT_FUSION.document > 0  # the shipped fusion ranks documents


def test_a_focused_passage_ranks_after_the_vector_rankings_last():
    r = _candidates("a1", "a2", "b9")
    r.vector = ["a1", "a2"]
    r.focused = ["a2", "b9"]  # a2 was found globally; b9 only among its document's nearest
    fused = {p.chunk_id: p.score for p in fuse(r, Fusion(1, 0, 0, adaptive=False), 3)}
    assert fused["b9"] == pytest.approx(1 / (RRF_K + 2 + 2))
    assert fused["a2"] == pytest.approx(1 / (RRF_K + 2))  # counted once, by its global rank


# --- how many, and from which documents ---------------------------------------------------------


def test_k_limits_the_answer_and_never_pads_it():
    r = _rankings([3.0] * 5, [])
    vector_only = Fusion(1, 0, 0, adaptive=False)
    assert _ids(fuse(r, vector_only, 1)) == ["a1"]
    assert _ids(fuse(r, vector_only, 2)) == ["a1", "b1"]
    assert _ids(fuse(r, vector_only, 50, per_doc=5)) == r.vector  # only the candidates


def test_at_most_per_doc_passages_of_a_document_while_others_remain():
    r = _candidates("a1", "a2", "a3", "a4", "b1")
    r.vector = ["a1", "a2", "a3", "a4", "b1"]
    vector_only = Fusion(1, 0, 0, adaptive=False)
    assert _ids(fuse(r, vector_only, 3, per_doc=1)) == ["a1", "b1", "a2"]
    assert _ids(fuse(r, vector_only, 4)) == ["a1", "a2", "a3", "b1"]  # PER_DOC by default
    assert PER_DOC == 3


def test_diversity_caps_passages_per_document_while_others_remain():
    ranked = [_passage(f"a{i}", "A") for i in range(5)] + [_passage("b0", "B")]
    assert _ids(_diverse(ranked, 4, per_doc=3)) == ["a0", "a1", "a2", "b0"]
    assert len(_diverse(ranked[:5], 4, per_doc=3)) == 4  # nothing else: the cap gives way
    assert _ids(_diverse(ranked[:5], 4, per_doc=3)) == ["a0", "a1", "a2", "a3"]  # in rank order
