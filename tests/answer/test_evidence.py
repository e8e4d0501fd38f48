"""Evidence with the real MiniLM model: its strength, whether an answer addresses the
question, and the sentences quoted when there is no verified answer."""

from __future__ import annotations

import pytest

from rag.answer.evidence import (
    WEAK_EVIDENCE_THRESHOLD,
    answers_question,
    evidence_strength,
    extractive_answer,
)
from rag.answer.verify import verify_answer
from tests.answer.handbook import LEAVE, PARENTAL, TRAVEL, passage

CORPUS = [
    LEAVE,
    TRAVEL,
    PARENTAL,
    passage("Laptops are issued by IT on your first day. Report lost laptops within 24 hours.", 4),
]


def test_extractive_answer_picks_the_answering_sentence(encode):
    picks = extractive_answer("How far in advance must travel be booked?", CORPUS, encode, 2)
    assert ("Travel must be booked in Concur at least 14 days before departure.", 2) in picks
    # Only sentences close to the best one are quoted: the laptop and leave rules are not.
    assert all(n == 2 for _, n in picks)
    assert picks == sorted(picks, key=lambda p: (p[1], CORPUS[p[1] - 1].text.index(p[0])))
    one = extractive_answer("How many weeks of parental leave do I get?", CORPUS, encode, 1)
    assert one == [(PARENTAL.text.split(". ")[0] + ".", 3)]


def test_extractive_answer_skips_fragments_cut_mid_sentence(encode):
    cut = [passage("and 320 dollars per night in high-cost cities. Hotels cost 220 dollars.", 1)]
    picks = extractive_answer("How much may a hotel cost per night?", cut, encode, 2)
    assert picks == [("Hotels cost 220 dollars.", 1)]


def test_extractive_answer_skips_duplicates(encode):
    dup = [
        passage("Report lost laptops within 24 hours.", 1),
        passage("Report lost laptops within 24 hours.", 2),
    ]
    assert len(extractive_answer("When do I report a lost laptop?", dup, encode, 3)) == 1
    assert extractive_answer("Anything?", [], encode) == []


def test_evidence_strength_separates_answerable_from_off_topic(encode):
    answerable = evidence_strength(
        "How many weeks of paid parental leave do I get?", CORPUS, encode
    )
    off_topic = evidence_strength("What is the capital of France?", CORPUS, encode)
    on_topic_unanswerable = evidence_strength("Can I bring my dog to the office?", CORPUS, encode)
    assert 0.0 <= off_topic < on_topic_unanswerable < answerable <= 1.0
    assert off_topic < WEAK_EVIDENCE_THRESHOLD <= answerable
    assert evidence_strength("Anything?", [], encode) == 0.0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Full-time employees get 25 days of paid annual leave per year [1].", True),
        # True, and copied from a passage, but not what was asked.
        ("Travel must be booked in Concur at least 14 days before departure [2].", False),
    ],
)
def test_answers_question_needs_the_supported_text_to_address_it(encode, answer, expected):
    question = "How many days of annual leave do full-time employees get?"
    verification = verify_answer(answer, CORPUS, encode)
    assert verification.support_score == 1.0  # both answers are grounded
    assert answers_question(question, verification, CORPUS, encode) is expected
