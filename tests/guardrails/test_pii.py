"""The PII detector on tables of cases per type, with the real spaCy model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import DatasetError
from rag.guardrails.pii import ENTITY_TYPES, MAX_CHARS, PATTERN_TYPES, PiiDetector, pii_detector
from rag.guardrails.pii_eval import load_pii_cases, score_pii

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT.parent / "shared" / "datasets" / "pii" / "generated_large.json"


@pytest.fixture(scope="module")
def patterns() -> PiiDetector:
    return pii_detector(ner=False)


@pytest.fixture(scope="module")
def full() -> PiiDetector:
    return pii_detector(ner=True)


def found(detector: PiiDetector, text: str) -> set[tuple[str, str]]:
    return {(s.entity_type, s.text) for s in detector.find(text)}


POSITIVES = [
    ("Write to jane.doe+hr@example.co.uk today", "EMAIL_ADDRESS", "jane.doe+hr@example.co.uk"),
    ("contact: LeaMPetersen@teleworm.us", "EMAIL_ADDRESS", "LeaMPetersen@teleworm.us"),
    ("Call me at (415) 555-0132 tomorrow", "PHONE_NUMBER", "(415) 555-0132"),
    ("Phone: 001-668-040-8670x1711", "PHONE_NUMBER", "001-668-040-8670x1711"),
    ("my number is +44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("office 438.812.1525", "PHONE_NUMBER", "438.812.1525"),
    ("Phone: 02.27.96.63.08", "PHONE_NUMBER", "02.27.96.63.08"),
    ("Phone: 0431 19 97 94", "PHONE_NUMBER", "0431 19 97 94"),
    ("Card 4111 1111 1111 1111 expires soon", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("charged to 5527967194945427.", "CREDIT_CARD", "5527967194945427"),
    ("Amex 3782-822463-10005 on file", "CREDIT_CARD", "3782-822463-10005"),
    ("my SSN is 455-99-6622", "US_SSN", "455-99-6622"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
    ("pay to de89370400440532013000", "IBAN_CODE", "de89370400440532013000"),
    ("FR1420041010050500013M02606 is the account", "IBAN_CODE", "FR1420041010050500013M02606"),
    ("the host 192.168.10.254 is down", "IP_ADDRESS", "192.168.10.254"),
    (
        "from 3b20:9a3a:1b2f:7ce:9ef1:4787:85fc:261e today",
        "IP_ADDRESS",
        "3b20:9a3a:1b2f:7ce:9ef1:4787:85fc:261e",
    ),
    ("ping 2001:db8::1 now", "IP_ADDRESS", "2001:db8::1"),
    (
        "She lives at 1600 Pennsylvania Avenue NW, Washington",
        "ADDRESS",
        "1600 Pennsylvania Avenue NW",
    ),
    ("Send it to 221B Baker St. please", "ADDRESS", "221B Baker St."),
    ("his address: 92 ul. Lubartowska 42", "ADDRESS", "92 ul. Lubartowska 42"),
    ("Hallo, Hauptstraße 5 ist neu", "ADDRESS", "Hauptstraße 5"),
    ("deliver to Suite 942", "ADDRESS", "Suite 942"),
    ("My zip code is 98547", "ADDRESS", "98547"),
    ("Springfield, IL 62704", "ADDRESS", "IL 62704"),
]


@pytest.mark.parametrize(("text", "entity_type", "value"), POSITIVES)
def test_pattern_positives(patterns, text, entity_type, value):
    assert (entity_type, value) in found(patterns, text)


NEGATIVES = [
    "Card 4111 1111 1111 1112 fails the Luhn check",
    "The meeting is on 2024-03-15 and 12/11/1952 was a Tuesday",
    "Upgrade to version 10.2.3.4 or v1.2.3.4",
    "See Form 10-Q and Form 10-K for 2023",
    "Revenue was $1,234,567 and costs were 1,234,567.89 dollars",
    "Read section 4.2.1 and 5 CFR 2635.203 before travel on 11/27-12/26",
    "The fiscal years 2019-2020 and 2021–2022 had 1500 employees",
    "Order 123456789 shipped; ZIP+4 12345-6789",
    "Leave accrues at 4 hours per pay period after 1 April 2019",
    "Title 31 U.S.C. 1353 covers travel paid by others",
    "Give it 5 business days. Close the ticket after",
    "The SSN 000-12-3456 and 666-12-3456 are never issued",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_pattern_negatives(patterns, text):
    assert patterns.find(text) == []


def test_iban_with_a_bad_checksum_is_no_iban(patterns):
    # Its digit groups may still read as a phone number: redacting them does no harm.
    text = "IBAN GB82 WEST 1234 5698 7654 33 has a bad checksum"
    assert "IBAN_CODE" not in {s.entity_type for s in patterns.find(text)}
    assert ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32") in found(patterns, text[:-20] + "2")


NAMES = [
    ("John Smith lives in Paris", {("PERSON", "John Smith"), ("LOCATION", "Paris")}),
    ("Please ask Mr. Reese about it", {("PERSON", "Mr. Reese")}),
    ("We moved here from Ethiopia last year", {("LOCATION", "Ethiopia")}),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_and_places(full, text, expected):
    assert expected <= found(full, text)


def test_no_names_without_the_model(patterns):
    assert found(patterns, "John Smith lives in Paris") == set()


def test_spans_are_sorted_non_overlapping_and_exact(full):
    text = "Email LeaMPetersen@teleworm.us or call Lea Petersen at 415-555-0132 in Oslo."
    spans = full.find(text)
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert spans[0].entity_type == "EMAIL_ADDRESS"  # the email wins over a name inside it


def test_entities_filter_and_unknown_type(full):
    text = "John Smith, john@example.com"
    assert {s.entity_type for s in full.find(text, ["EMAIL_ADDRESS"])} == {"EMAIL_ADDRESS"}
    with pytest.raises(ValueError, match="unknown entity types"):
        full.find(text, ["PASSPORT"])


def test_find_many_matches_find(full):
    texts = ["Ring 415-555-0132", "", "Anna Berg from Malmo wrote to anna@example.se"]
    assert full.find_many(texts) == [full.find(t) for t in texts]


def test_text_over_the_cap_is_refused(patterns):
    with pytest.raises(ValueError, match="split it"):
        patterns.find("a" * (MAX_CHARS + 1))


def test_types():
    assert len(ENTITY_TYPES) == 9
    assert set(ENTITY_TYPES) - set(PATTERN_TYPES) == {"PERSON", "LOCATION"}


def test_shared_detector_is_one_instance():
    assert pii_detector(ner=False) is pii_detector(ner=False)


def test_patterns_only_never_loads_the_model(monkeypatch):
    import spacy

    def refuse(*args, **kwargs):
        raise AssertionError("spacy.load called for a patterns-only detector")

    monkeypatch.setattr(spacy, "load", refuse)
    assert PiiDetector(ner=False).find("Anna Berg, 415-555-0132")[0].entity_type == "PHONE_NUMBER"


PROBE = """
import socket, sys
attempts = []
real = socket.socket.connect
def record(self, address):
    attempts.append(address)
    raise OSError("offline")
socket.socket.connect = record
from rag.guardrails.pii import PiiDetector
spans = PiiDetector(ner=True).find("Mail jane@example.org, host 10.0.0.1, Anna Berg")
print({"attempts": [str(a) for a in attempts], "types": sorted(s.entity_type for s in spans)})
"""


def test_loading_and_finding_reach_no_network(tmp_path):
    """An empty tldextract cache would make its default extractor fetch the suffix list."""
    env = {**os.environ, "TLDEXTRACT_CACHE": str(tmp_path / "tld"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result = eval(out.stdout.strip().splitlines()[-1])  # our own probe's printed dict
    assert result["attempts"] == []
    assert {"EMAIL_ADDRESS", "IP_ADDRESS", "PERSON"} <= set(result["types"])


def test_load_cases_rejects_malformed_files(tmp_path):
    bad = tmp_path / "bad.json"
    for content, problem in [
        ("{not json", "cannot read"),
        ('{"full_text": "x"}', "JSON list"),
        ('[{"spans": []}]', "full_text"),
        ('[{"full_text": "abc", "spans": [{"entity_type": "PERSON"}]}]', "span 0"),
        (
            '[{"full_text": "abc", "spans": [{"entity_type": "PERSON", "start_position": 1,'
            ' "end_position": 9}]}]',
            "outside the text",
        ),
    ]:
        bad.write_text(content)
        with pytest.raises(DatasetError, match=problem) as error:
            load_pii_cases(bad)
        assert "bad.json" in str(error.value)


def test_score_pii_counts_overlaps_per_type(tmp_path, patterns):
    data = [
        {
            "full_text": "Mail a@example.com or call 415-555-0132.",
            "spans": [
                {"entity_type": "EMAIL_ADDRESS", "start_position": 5, "end_position": 18},
                {"entity_type": "PHONE_NUMBER", "start_position": 27, "end_position": 30},
                {"entity_type": "DATE_TIME", "start_position": 0, "end_position": 4},
            ],
        },
        {"full_text": "SSN 455-99-6622", "spans": []},
    ]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data))
    scores = score_pii(load_pii_cases(path), patterns)
    assert scores["EMAIL_ADDRESS"]["recall"] == 1.0
    assert scores["PHONE_NUMBER"]["recall"] == 1.0  # partial overlap counts
    assert scores["US_SSN"]["predicted"] == 1 and "precision" not in scores["US_SSN"]
    assert scores["ANY"]["support"] == 2  # DATE_TIME is not ours


@pytest.mark.skipif(not DATASET.exists(), reason="needs ../shared/datasets/pii")
def test_shared_dataset_pattern_recall(patterns):
    cases = load_pii_cases(DATASET)
    scores = score_pii(cases[::4], patterns)
    for entity_type in ("EMAIL_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "PHONE_NUMBER"):
        assert scores[entity_type]["recall"] >= 0.9, entity_type
        assert scores[entity_type]["precision"] >= 0.9, entity_type


RECOVERED = [
    # lower-case text: the model reads a case-restored copy, the word list finds first names
    ("what is the name on the account? christine fiorentino", "christine fiorentino"),
    # names in a list, which the model misses
    ("They had 6: Natalina, Thomas, Crystal, Omar and Brandy.", "Omar"),
    ("They had 6: Natalina, Thomas, Crystal, Omar and Brandy.", "Brandy"),
    # a courtesy title before an unfamiliar surname
    ("Please ask Dr. Okonkwo about it", "Dr. Okonkwo"),
]


@pytest.mark.parametrize(("text", "name"), RECOVERED)
def test_names_the_model_misses_are_recovered(full, text, name):
    assert ("PERSON", name) in found(full, text)


NOT_PEOPLE = [
    "Email ana@x.org my payslip",  # a sentence-initial verb
    "DESCRIPTION: the Block on Windows",  # capitals and capitalised common words
    "Discipline matters",
    "Morgan Stanley reported revenue",  # a first name inside a company's name
]


@pytest.mark.parametrize("text", NOT_PEOPLE)
def test_common_words_are_not_people(full, text):
    assert "PERSON" not in {t for t, _ in found(full, text)}


PLACES = [
    ("Burkina Faso was super fun to visit!", ("LOCATION", "Burkina Faso")),  # the model: PERSON
    ("i moved here from belarus last year", ("LOCATION", "belarus")),  # lower-case country
    # a place written after a street address is part of the address, not a separate place
    ("Send it to 12 Main Street, Springfield", ("ADDRESS", "12 Main Street, Springfield")),
]


@pytest.mark.parametrize(("text", "expected"), PLACES)
def test_places_and_addresses(full, text, expected):
    assert expected in found(full, text)


@pytest.mark.parametrize(
    ("word", "first_name", "common"),
    [
        ("Kristy", True, False),
        ("mark", True, True),
        ("Email", False, True),
        ("Windows", False, True),
    ],
)
def test_word_lists(word, first_name, common):
    from rag.guardrails import names

    assert names.is_first_name(word) is first_name
    assert names.is_common_word(word) is common


def test_restore_case_keeps_offsets():
    from rag.guardrails.names import restore_case

    text = "nicholas had given sara his address in marseille"
    restored = restore_case(text)
    assert len(restored) == len(text)
    assert "Nicholas" in restored and "Sara" in restored and "Marseille" in restored
    assert " had given " in restored  # common words keep their case
