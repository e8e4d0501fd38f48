"""The pattern recognisers: personal data found by its shape and checked by its own rules.

Presidio's recognisers where they hold up (email, payment card with Luhn, US SSN, IP address),
``phonenumbers`` for phone numbers (kept by the evidence rules of ``phones.py``),
``python-stdnum`` for the IBAN checksum, and street-address patterns of our own
(``addresses.py``). Each recogniser is a function ``text -> list[PiiSpan]``; nothing here loads
a model or reaches the network (the email check uses tldextract's bundled public-suffix
snapshot, never a download).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from rag.guardrails.addresses import address_matches
from rag.guardrails.phones import phone_matches
from rag.guardrails.policy import POLICY_TYPES

ENTITY_TYPES: tuple[str, ...] = POLICY_TYPES  # every type the policy setting can name
PATTERN_TYPES: tuple[str, ...] = tuple(t for t in ENTITY_TYPES if t not in ("PERSON", "LOCATION"))

# How much a type's evidence is trusted when two findings overlap: checksummed and
# syntax-validated values first, then shapes, then the statistical model's guesses.
SCORES = {
    "EMAIL_ADDRESS": 1.0,
    "CREDIT_CARD": 1.0,
    "IBAN_CODE": 1.0,
    "IP_ADDRESS": 0.95,
    "US_SSN": 0.85,
    "ADDRESS": 0.75,
    "PHONE_NUMBER": 0.7,
}


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: its type, where it is in the text, how sure, and the value."""

    entity_type: str
    start: int
    end: int
    score: float
    text: str


Recogniser = Callable[[str], list[PiiSpan]]


def _span(text: str, entity_type: str, start: int, end: int) -> PiiSpan:
    return PiiSpan(entity_type, start, end, SCORES[entity_type], text[start:end])


# --- Presidio's recognisers --------------------------------------------------------------------


@cache
def _presidio() -> dict[str, object]:
    """Build Presidio's recognisers once (their patterns compile on first use)."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IpRecognizer,
        UsSsnRecognizer,
    )

    # An empty URL list makes tldextract use the public-suffix snapshot shipped in the package:
    # the default would fetch the list from the internet on first use.
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return offline(pattern_text.rsplit("@", 1)[-1]).fqdn != ""

    # Only the delimited SSN shape: Presidio's "very weak" shapes (any nine digits, 5-4
    # groups) match order numbers and zip+4 codes.
    ssn = UsSsnRecognizer()
    ssn.patterns = [p for p in ssn.patterns if "medium" in p.name]
    return {
        "EMAIL_ADDRESS": OfflineEmailRecognizer(),
        "CREDIT_CARD": CreditCardRecognizer(),
        "IP_ADDRESS": IpRecognizer(),
        "US_SSN": ssn,
    }


def _presidio_finder(entity_type: str) -> Recogniser:
    def find(text: str) -> list[PiiSpan]:
        recogniser = _presidio()[entity_type]
        results = recogniser.analyze(text, [entity_type])  # type: ignore[attr-defined]
        return [
            _span(text, entity_type, r.start, r.end)
            for r in results
            if r.score > 0
            and not _is_version(text, r.start)
            and not (entity_type == "IP_ADDRESS" and _not_an_ip(text, r.start, r.end))
        ]

    return find


_IP_WORDS = re.compile(
    r"\b(ip|ipv[46]|address|host|server|dns|gateway|subnet|network|router|"
    r"proxy|firewall|vpn|ping|port|from|to)\b",
    re.I,
)


def _not_an_ip(text: str, start: int, end: int) -> bool:
    """Section numbers ("1.2.1.1") and a bare "::" are not IP addresses.

    An IPv6 match needs two hexadecimal groups; an IPv4 address whose parts are all single
    digits, as section and version numbers are, needs a network word within 40 characters.
    """
    value = text[start:end]
    if ":" in value:
        return len([g for g in value.split(":") if g]) < 2
    if all(len(part) == 1 for part in value.split(".")):
        near = text[max(0, start - 40) : start] + " " + text[end : end + 40]
        return not _IP_WORDS.search(near)
    return False


def _is_version(text: str, start: int) -> bool:
    """A dotted number right after "v" or "version" is a release, not an address."""
    before = text[max(0, start - 9) : start].lower().rstrip()
    return before.endswith(("v", "version", "release"))


# --- IBAN: any country, checksum and national format from python-stdnum ------------------------

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b", re.I)


def find_iban(text: str) -> list[PiiSpan]:
    """IBANs, upper or lower case, grouped or not, that pass the mod-97 and country checks."""
    from stdnum import iban

    spans = []
    for match in _IBAN.finditer(text):
        if iban.is_valid(match.group()):
            spans.append(_span(text, "IBAN_CODE", match.start(), match.end()))
    return spans


# --- phone numbers: the shapes and evidence rules live in phones.py ---------------------------


def find_phone(text: str) -> list[PiiSpan]:
    """Phone numbers in national and international formats that carry a phone's evidence."""
    return [_span(text, "PHONE_NUMBER", start, end) for start, end in phone_matches(text)]


# --- street addresses: the patterns and their filters live in addresses.py ---------------------


def find_address(text: str) -> list[PiiSpan]:
    """Street lines, secondary units, military addresses and named postcodes."""
    spans = [_span(text, "ADDRESS", start, end) for start, end in address_matches(text)]
    return _join_lines(text, spans)


def _join_lines(text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
    """Merge address parts separated only by commas, spaces and line breaks into one span."""
    merged: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and re.fullmatch(r"[\s,]*", text[merged[-1].end : span.start]):
            merged[-1] = _span(text, "ADDRESS", merged[-1].start, max(span.end, merged[-1].end))
        else:
            merged.append(span)
    return merged


PATTERN_RECOGNISERS: dict[str, Recogniser] = {
    "EMAIL_ADDRESS": _presidio_finder("EMAIL_ADDRESS"),
    "CREDIT_CARD": _presidio_finder("CREDIT_CARD"),
    "IP_ADDRESS": _presidio_finder("IP_ADDRESS"),
    "US_SSN": _presidio_finder("US_SSN"),
    "IBAN_CODE": find_iban,
    "PHONE_NUMBER": find_phone,
    "ADDRESS": find_address,
}
