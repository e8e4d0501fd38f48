"""Redaction with typed placeholders, and putting the originals back."""

from __future__ import annotations

import pytest

from rag.guardrails.pii import PiiSpan, pii_detector
from rag.guardrails.redaction import Redaction, redact, restore


def span(text: str, value: str, entity_type: str, nth: int = 0) -> PiiSpan:
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return PiiSpan(entity_type, start, start + len(value), 1.0, value)


@pytest.mark.parametrize(
    ("entity_type", "value", "tag"),
    [
        ("PERSON", "Anna Berg", "<PERSON_1>"),
        ("LOCATION", "Oslo", "<LOCATION_1>"),
        ("ADDRESS", "12 Main Street", "<ADDRESS_1>"),
        ("EMAIL_ADDRESS", "a@b.org", "<EMAIL_1>"),
        ("PHONE_NUMBER", "415-555-0132", "<PHONE_1>"),
        ("CREDIT_CARD", "4111111111111111", "<CARD_1>"),
        ("US_SSN", "455-99-6622", "<SSN_1>"),
        ("IBAN_CODE", "GB82WEST12345698765432", "<IBAN_1>"),
        ("IP_ADDRESS", "10.0.0.1", "<IP_1>"),
    ],
)
def test_each_type_has_its_short_tag(entity_type, value, tag):
    text = f"x {value} y"
    result = redact(text, [span(text, value, entity_type)])
    assert result.text == f"x {tag} y"
    assert result.mapping == {tag: value}
    assert result.counts == {entity_type: 1}


def test_same_value_same_placeholder_and_round_trip():
    text = "Anna wrote to Bo; Anna called Bo at 415-555-0132."
    spans = [
        span(text, "Anna", "PERSON"),
        span(text, "Bo", "PERSON"),
        span(text, "Anna", "PERSON", 1),
        span(text, "Bo", "PERSON", 1),
        span(text, "415-555-0132", "PHONE_NUMBER"),
    ]
    result = redact(text, spans)
    assert (
        result.text == "<PERSON_1> wrote to <PERSON_2>; <PERSON_1> called <PERSON_2> at <PHONE_1>."
    )
    assert result.counts == {"PERSON": 4, "PHONE_NUMBER": 1}
    assert restore(result.text, result.mapping) == text


def test_numbering_continues_from_a_conversation_mapping():
    earlier = {"<PERSON_1>": "Anna", "<EMAIL_1>": "anna@example.org"}
    text = "Did Anna reply to Bo at bo@example.org?"
    spans = [
        span(text, "Anna", "PERSON"),
        span(text, "Bo", "PERSON"),
        span(text, "bo@example.org", "EMAIL_ADDRESS"),
    ]
    result = redact(text, spans, earlier)
    assert result.text == "Did <PERSON_1> reply to <PERSON_2> at <EMAIL_2>?"
    assert result.mapping == {**earlier, "<PERSON_2>": "Bo", "<EMAIL_2>": "bo@example.org"}
    assert earlier == {"<PERSON_1>": "Anna", "<EMAIL_1>": "anna@example.org"}  # not modified


def test_restore_leaves_unknown_placeholders_and_text_alone():
    assert restore("Hi <PERSON_1>, see <PERSON_9> and <b>", {"<PERSON_1>": "Anna"}) == (
        "Hi Anna, see <PERSON_9> and <b>"
    )


def test_overlapping_spans_are_refused():
    text = "Anna Berg"
    with pytest.raises(ValueError, match="overlapping"):
        redact(text, [span(text, "Anna Berg", "PERSON"), span(text, "Berg", "LOCATION")])


def test_nothing_found_leaves_the_text():
    assert redact("no personal data", []) == Redaction("no personal data", {}, {})


def test_detected_question_round_trip():
    question = "Can Anna Berg (anna.berg@example.org, +1 415 555 0132) expense a taxi in Chicago?"
    result = redact(question, pii_detector(ner=True).find(question))
    for value in ("Anna Berg", "anna.berg@example.org", "415 555 0132", "Chicago"):
        assert value not in result.text
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION"} <= set(result.counts)
    assert restore(result.text, result.mapping) == question
