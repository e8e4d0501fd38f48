"""Metrics on handmade rows: hit@k, MRR, page hits, key-fact recall, unflagged unsupported
sentences and a run's summary."""

from __future__ import annotations

import pytest

from rag.answer import render
from rag.answer.verdict import SentenceCheck, Verification
from rag.evaluation.metrics import (
    hit_at,
    key_fact_recall,
    page_hit,
    reciprocal_rank,
    summarise,
    unflagged_unsupported,
)
from rag.text.markup import escape_markdown


@pytest.mark.parametrize(
    ("retrieved", "sources", "k", "hit", "rr"),
    [
        (["a.md", "b.md", "c.md"], ["a.md"], 1, True, 1.0),
        (["b.md", "a.md", "c.md"], ["a.md"], 1, False, 0.5),
        (["b.md", "c.md", "a.md"], ["a.md"], 5, True, 1 / 3),
        (["b.md", "c.md", "d.md", "e.md", "f.md", "a.md"], ["a.md"], 5, False, 0.0),
        (["b.md", "C.md"], ["x.md", "c.md"], 5, True, 0.5),  # any listed source, any case
        ([], ["a.md"], 5, False, 0.0),
    ],
)
def test_hit_at_k_and_reciprocal_rank(retrieved, sources, k, hit, rr):
    assert hit_at(retrieved, sources, k) is hit
    assert reciprocal_rank(retrieved, sources) == pytest.approx(rr)


@pytest.mark.parametrize(
    ("retrieved", "expected"),
    [
        ([("R-FAQ.pdf", 7)], True),
        ([("R-FAQ.pdf", 8), ("R-intro.pdf", 7)], False),  # right page, wrong file
        ([("x.pdf", 1)] * 5 + [("R-FAQ.pdf", 7)], False),  # only the top 5 count
        ([("x.pdf", 1)] * 4 + [("R-FAQ.pdf", 41)], True),
    ],
)
def test_page_hit_needs_source_and_page_in_top_5(retrieved, expected):
    assert page_hit(retrieved, ["R-FAQ.pdf"], [7, 41]) is expected


@pytest.mark.parametrize(
    ("answer", "facts", "recall"),
    [
        ("Per diem is $65 a day and  $48.75 on travel days.", ["$65", "$48.75"], 1.0),
        ("You may carry over 5 DAYS.", ["5 days", "31 March"], 0.5),
        ("Nothing relevant.", ["16 weeks"], 0.0),
        # a fact inside a flagged (unverified) sentence is not asserted, so not counted
        (f"Leave is paid. {render.UNVERIFIED} ~~It lasts 16 weeks.~~", ["16 weeks"], 0.0),
        ("Anything.", [], None),
    ],
)
def test_key_fact_recall(answer, facts, recall):
    assert key_fact_recall(answer, facts) == recall


def _verification(*claims: tuple[str, bool]) -> Verification:
    checks = [SentenceCheck(c, c, [1], ok, 0.9 if ok else 0.2, 1, "") for c, ok in claims]
    return Verification(checks, sum(ok for _, ok in claims) / len(claims))


def test_unflagged_unsupported_counts_sentences_shown_as_fact():
    v = _verification(
        ("Trips over $5,000 need the CFO.", True), ("The CEO signs all trips.", False)
    )
    flagged = render.render_answer(v, mode="flag")
    removed = render.render_answer(v, mode="remove")
    assert unflagged_unsupported(v, flagged) == 0
    assert unflagged_unsupported(v, removed) == 0
    shown_plainly = "Trips over $5,000 need the CFO [1]. The CEO signs all trips."
    assert unflagged_unsupported(v, shown_plainly) == 1
    assert unflagged_unsupported(None, shown_plainly) == 0
    assert unflagged_unsupported(v, shown_plainly, extractive=True) == 0  # quotes, not claims


def test_unflagged_check_compares_whole_sentences():
    # A flagged stray "1." must not match the list marker or "1" elsewhere in the answer.
    v = _verification(("Passwords change every 90 days.", True), ("1.", False))
    answer = f"1. Passwords change every 90 days [1]. {render.UNVERIFIED} ~~1.~~"
    assert unflagged_unsupported(v, answer) == 0
    assert unflagged_unsupported(v, "Passwords change every 90 days [1]. 1.") == 1


def test_summarise_on_handmade_rows():
    rows = [
        {
            "answerable": True,
            "hit1": True,
            "hit5": True,
            "rr": 1.0,
            "page_hit5": True,
            "refused": False,
            "claims": 2,
            "unsupported": 1,
            "unflagged": 0,
            "key_fact_recall": 1.0,
            "total_ms": 100.0,
            "verify_ms": 10.0,
        },
        {
            "answerable": True,
            "hit1": False,
            "hit5": True,
            "rr": 0.5,
            "page_hit5": None,
            "refused": True,
            "claims": 0,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": 0.0,
            "total_ms": 300.0,
            "verify_ms": 30.0,
        },
        {
            "answerable": False,
            "refused": True,
            "claims": 2,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": None,
            "total_ms": 200.0,
            "verify_ms": 20.0,
        },
        {
            "answerable": False,
            "refused": False,
            "claims": 0,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": None,
            "total_ms": 400.0,
            "verify_ms": None,
        },
    ]
    s = summarise(rows)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (4, 2, 2)
    assert s["source_hit_at_1"] == 0.5 and s["source_hit_at_5"] == 1.0 and s["mrr"] == 0.75
    assert s["page_hit_at_5"] == 1.0 and s["page_questions"] == 1
    assert s["refusal_accuracy"] == 0.5 and s["false_refusal_rate"] == 0.5
    assert s["key_fact_recall"] == 0.5
    assert s["unsupported_sentence_rate"] == 0.25 and s["unflagged_unsupported"] == 0
    assert s["total_ms_p50"] == 250.0 and s["verify_ms_p50"] == 20.0
    assert "key_fact_recall" not in summarise(rows, retrieval_only=True)


def test_shown_text_drops_the_word_joiner_that_keeps_urls_inert():
    shown = escape_markdown("Report it at https://help.example.org/desk today.")
    assert "\u2060" in shown  # the escape that stops the URL from becoming a link
    assert key_fact_recall(shown, ["https://help.example.org/desk"]) == 1.0
