"""The pattern recognisers: personal data found by its shape and checked by its own rules.

Presidio's recognisers where they hold up (email, payment card with Luhn, US SSN, IP address),
``phonenumbers`` for phone numbers (with the evidence rules of ``phones.py``), ``python-stdnum`` for
the IBAN checksum, and street-address patterns of our own. Each recogniser is a function
``text -> list[PiiSpan]``; nothing here loads a model or reaches the network (the email check uses
tldextract's bundled public-suffix snapshot, never a download).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from rag.guardrails.phones import phone_matches

ENTITY_TYPES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "ADDRESS",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
)
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
            if r.score > 0 and not _is_version(text, r.start)
        ]

    return find


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


# --- street addresses --------------------------------------------------------------------------

_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|crescent|cres|close|row|"
    r"trail|trl|alley|plaza|grove|gardens|walk|mews|hill|park|path|pike|loop|route|rte|"
    r"expressway|freeway|turnpike|creek|crossing|point|ridge|view|heights|estate"
)
_PREFIX = (
    r"rue|avenue|av\.?|boulevard|bd|chemin|allée|impasse|place|quai|via|viale|piazza|calle|"
    r"avenida|av\.|rua|travessa|estrada|ul\.|ulica|aleja|al\.|plac|straße|strasse|str\."
)
_STREET_WORD = (
    r"strasse|straße|str\.|gasse|weg|utca|útja|vej|plads|gade|veien|vegen|gata|tie|katu|"
    r"cesta|ulica|út|tér|sokak|caddesi|straat|laan|street|road|avenue"
)
_NAME_WORD = r"[^\W\d_][\w'’-]*\.?"
# Words that follow a number in prose, dates and citations, never a street name.
_NOT_STREET = (
    r"(?!(?:in|to|of|the|and|or|for|on|at|by|from|with|per|business|days?|hours?|weeks?|"
    r"months?|years?|minutes?|percent|people|employees|U\.?S\.?C|C\.?F\.?R|section|chapter|"
    r"part|title|page|step|version|item|article|form|line|table|figure|jan(?:uary)?|"
    r"feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b)"
)
_ADDRESS_PATTERNS = [
    # 12 Main Street, 1600 Pennsylvania Avenue NW, 221B Baker St.
    rf"\b(?:\d{{1,5}}[ \t]+)?\d{{1,6}}[A-Za-z]?[ \t]+{_NOT_STREET}{_NAME_WORD}"
    rf"(?:[ \t]+{_NAME_WORD}){{0,3}}"
    rf"[ \t]+(?:{_SUFFIX})\b\.?"
    r"(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
    # 15 rue Victor Hugo, 71 estrada nacional 105, 92 ul. Lubartowska 42
    rf"\b\d{{1,6}}[A-Za-z]?,?[ \t]+(?:{_PREFIX})(?:[ \t]+{_NAME_WORD}){{1,4}}"
    r"(?:[ \t]+\d{1,5}\b)?",
    # Duizendmonnikenstraat 189, Lozerlaan 172, Hauptstraße 5
    r"\b[^\W\d_]+(?:straat|strasse|straße|laan|weg|gasse|gade|vej|gatan|vägen|plein|"
    r"gracht|kade|dreef|steeg|allee|platz|ring|damm)\s+\d{1,5}[a-z]?\b",
    # 85 Trg revolucije 12, 42 Costanera 9293: a house number, a capitalised street name and
    # the number many countries write after it
    rf"\b\d{{1,5}}[A-Za-z]?[ \t]+{_NOT_STREET}(?-i:\p{{Lu}})[\w'’.-]*(?:[ \t]+{_NAME_WORD}){{0,3}}"
    r"[ \t]+\d{1,5}[A-Za-z]?\b\.?(?![\d.,:/-]\d)",
    # Freistädter Strasse 61, Hegedûs Gyula utca 76, Simavikveien 231
    rf"\b(?-i:\p{{Lu}})[\w'’.-]*(?:[ \t]+{_NAME_WORD}){{0,3}}[ \t]*(?:{_STREET_WORD})"
    r"[ \t]+\d{1,5}[A-Za-z]?\b\.?",
    # Chile 53977 / Tartu TA 56325: a place and a postcode closing a line of an address
    r"(?m)(?<=\p{L}[ \t])\d{5}(?:-\d{4})?[ \t]*$",
    # Apt. 604, Suite 942, Unit 3, P.O. Box 101, PSC 1234, Box 5678
    r"\b(?:apt\.?|apartment|suite|ste\.?|unit|flat|room|p\.?\s?o\.?\s?box|psc|box)[ \t]+"
    r"#?\d{1,6}[A-Za-z]?\b",
    # Military mail: USS Napolitani FPO AP 70381, APO AE 09012
    r"\b(?:USS|USNS|USNV|USNS)\s+[A-Z][a-z]+\b|\b[AFD]PO\s+A[AEP]\s+\d{5}\b",
    # Springfield, IL 62704 / Dallas TX 75001-1234
    r"(?<=\p{L},?[ \t])(?-i:[A-Z]{2})[ \t]+\d{5}(?:-\d{4})?\b",
    # "shows on Boyle Street": a capitalised name and a spelled-out street word
    r"(?-i:\b\p{Lu}[\w'’-]+[ \t]+(?:Street|Avenue|Road|Boulevard|Lane))\b",
    # Postcodes named as such: "my zip code is 98547", "postcode SW1A 1AA"
    r"(?i:zip(?:\s?code)?|post(?:al)?\s?code)(?:\s+is)?:?\s+\K"
    r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b",
]


@cache
def _address_regex():
    import regex  # Presidio's dependency; needed for \K (keep the context out of the span)

    return regex.compile("|".join(f"(?:{p})" for p in _ADDRESS_PATTERNS), regex.IGNORECASE)


def find_address(text: str) -> list[PiiSpan]:
    """Street lines, secondary units, military addresses and named postcodes."""
    spans = [_span(text, "ADDRESS", m.start(), m.end()) for m in _address_regex().finditer(text)]
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
