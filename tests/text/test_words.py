"""Words: the one stemmer and stopword list, read the same by retrieval and verification."""

from __future__ import annotations

import pytest

from rag.text.words import META_WORDS, STOPWORDS, content_words, stem, tokenize


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("days", "day"),
        ("policies", "policy"),
        ("Policy", "policy"),  # lower-cased
        ("classes", "class"),
        ("reports", "report"),
        ("submitted", "submitt"),
        ("running", "runn"),
        ("medical", "medic"),
        ("employee's", "employee"),  # possessive dropped
        ("employee’s", "employee"),  # typographic apostrophe too
        # Too short to strip: a suffix leaves at least three (four for -es, -al) letters.
        ("has", "has"),
        ("bus", "bus"),
        ("is", "is"),
        ("goes", "goe"),
        ("ties", "tie"),
    ],
)
def test_stem(word, expected):
    assert stem(word) == expected


@pytest.mark.parametrize("family", [("approves", "approved", "approval", "approving")])
def test_a_words_forms_meet_at_one_stem(family):
    assert {stem(w) for w in family} == {"approv"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The policy requires 25 days of leave.", ["policy", "requir", "25", "day", "leave"]),
        ("Version v1.2 ships in 2024", ["version", "v1.2", "ship", "2024"]),  # numbers kept
        ("Don't do it, e.g. now", []),  # all stopwords, contractions and "e.g" included
        ("TAXI Receipts", ["taxi", "receipt"]),
        ("", []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    ("text", "meta", "expected"),
    [
        (
            "Thanks! The documents say employees get 25 days of leave.",
            True,
            {"thank", "document", "say", "employe", "day", "leave"},
        ),
        # Without conversation words only the subject matter is left; numbers are not words.
        (
            "Thanks! The documents say employees get 25 days of leave.",
            False,
            {"employe", "day", "leave"},
        ),
        ("Sign-off by a co-worker’s manager, I x", True, {"sign-off", "co-worker", "manager"}),
        ("It is what it is.", True, set()),
    ],
)
def test_content_words(text, meta, expected):
    assert content_words(text, meta=meta) == expected


def test_retrieval_and_verification_share_stopwords_and_stems():
    sentence = "Employees submitted the approved policies within 30 days"
    lexical = set(tokenize(sentence)) - {"30"}
    assert lexical == content_words(sentence)
    assert not lexical & STOPWORDS


def test_conversation_words_are_not_stopwords():
    """Retrieval keeps "document" and "help" as terms; only claim checking sets them aside."""
    assert {"document", "help"} <= META_WORDS
    assert tokenize("Which document helps?") == ["document", "help"]
    assert content_words("Which document helps?", meta=False) == set()
