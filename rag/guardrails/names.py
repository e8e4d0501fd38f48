"""Refine spaCy's names and places with two word lists shipped in the package.

spaCy's small English model misses names in lower-case text and in lists, and tags capitalised
common words ("Email ana@x.org ...", "DESCRIPTION") as people. Two lists fix much of that:

- ``first_names.txt``: the US Census Bureau's 1990 first names (public domain; as shipped by the
  MIT-licensed ``names`` package), 5,163 names;
- ``common_words.txt``: SCOWL's common English words (sizes 10-35, permissive licence);
- ``countries.txt`` and ``regions.txt``: ISO 3166 country and region names (Debian's iso-codes).

The rules (each can be switched off for measurement, ``RULES``):

- ``drop_words``: a one-word PERSON that is a common English word and not a first name, or is
  written in capitals, is dropped;
- ``first_names``: a first name that is not a common word, with the capitalised words after it,
  is a PERSON (in lower-case text, the words after it that are not common words);
- ``titles``: "Mr./Ms./Dr." and a capitalised word is a PERSON;
- ``relabel``: a one-word LOCATION that is a first name and not a common word is a PERSON;
- ``lower_case``: all-lower-case text is analysed again with every word that is a first name or
  not a common word capitalised, so the model sees names as it was trained to;
- ``places``: a country or region the model called a person is a place, and country names
  it missed are found;
- ``address_places``: a place written right after a street address (", Springfield") joins it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path

from rag.guardrails.recognizers import PiiSpan

HERE = Path(__file__).resolve().parent
RULES = frozenset(
    {"drop_words", "first_names", "titles", "relabel", "lower_case", "address_places", "places"}
)
NAME_SCORE = 0.6  # the same trust as the model's own names
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_TITLE_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+(?-i:[A-Z][\w'’-]+)(?:[ \t]+(?-i:[A-Z][\w'’-]+))?"
)


@cache
def _word_list(name: str) -> frozenset[str]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def first_names() -> frozenset[str]:
    """Lower-case first names."""
    return _word_list("first_names.txt")


def common_words() -> frozenset[str]:
    """Lower-case common English words."""
    return _word_list("common_words.txt")


def is_place(text: str) -> bool:
    """Whether ``text`` is a country, or a state or region that is not also a first name."""
    lower = " ".join(text.lower().split())
    if lower in _word_list("countries.txt"):
        return True
    return lower in _word_list("regions.txt") and lower not in first_names()


def is_common_word(word: str) -> bool:
    """Whether ``word`` (any case) is an ordinary English word: "Email", "Block", "Windows"."""
    lower = word.lower()
    words = common_words()
    return lower in words or (lower.endswith("s") and lower[:-1] in words)


# Census first names that are far more often a month or a day ("April", "June").
_CALENDAR = frozenset(
    {
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december", "monday", "tuesday"),
        *("wednesday", "thursday", "friday", "saturday", "sunday"),
    }
)


def is_first_name(word: str) -> bool:
    """Whether ``word`` (any case) is a first name of the census list, not a month or day."""
    lower = word.lower()
    return lower in first_names() and lower not in _CALENDAR


def restore_case(text: str) -> str:
    """Capitalise each first name and each word that is not a common one (same length)."""

    def cap(match: re.Match[str]) -> str:
        word = match.group()
        if len(word) > 1 and (is_first_name(word) or not is_common_word(word)):
            return word[0].upper() + word[1:]
        return word

    return _WORD.sub(cap, text)


def is_lower_case(text: str) -> bool:
    """Text with letters and no capital: worth analysing again with its case restored."""
    return text == text.lower() and any(c.isalpha() for c in text)


def keep_name(span: PiiSpan) -> bool:
    """Drop a one-word PERSON that is a common word (not a first name) or written in capitals."""
    if span.entity_type != "PERSON" or not _one_word(span.text):
        return True
    word = span.text.strip()
    if is_first_name(word):
        return True
    return not (is_common_word(word) or (word.isupper() and len(word) > 1))


def relabel(span: PiiSpan) -> PiiSpan:
    """A one-word place that is a first name and no common word is a person ("Yesenia")."""
    word = span.text.strip()
    if (
        span.entity_type == "LOCATION"
        and _one_word(word)
        and is_first_name(word)
        and not is_common_word(word)
        and word.lower() not in _word_list("countries.txt") | _word_list("regions.txt")
    ):
        return replace(span, entity_type="PERSON")
    return span


def place_as_place(span: PiiSpan) -> PiiSpan:
    """A country or region the model called a person is a place ("Vanuatu", "Burkina Faso")."""
    if span.entity_type == "PERSON" and is_place(span.text):
        return replace(span, entity_type="LOCATION")
    return span


_COUNTRY_WORDS = 4  # the longest country names the scan tries, in words


def find_countries(text: str) -> list[PiiSpan]:
    """Country names written with capitals (or in lower-case text), one to four words."""
    countries = _word_list("countries.txt")
    lower = is_lower_case(text)
    words = list(_WORD.finditer(text))
    spans = []
    i = 0
    while i < len(words):
        for n in range(min(_COUNTRY_WORDS, len(words) - i), 0, -1):
            start, end = words[i].start(), words[i + n - 1].end()
            value = text[start:end]
            if (lower or value[0].isupper()) and " ".join(value.lower().split()) in countries:
                spans.append(PiiSpan("LOCATION", start, end, NAME_SCORE, value))
                i += n - 1
                break
        i += 1
    return spans


def find_first_names(text: str) -> list[PiiSpan]:
    """A first name that is no common word, with the surname-like words that follow it."""
    lower = is_lower_case(text)
    words = list(_WORD.finditer(text))
    spans = []
    i = 0
    while i < len(words):
        word = words[i].group()
        # Title case only: "IRA" or "RAY" in capitals is an acronym more often than a name.
        capitalised = lower or (word[0].isupper() and not word.isupper())
        if capitalised and len(word) > 2 and is_first_name(word) and not is_common_word(word):
            j = i
            while (
                j + 1 < len(words) and j - i < 2 and _continues(text, words[j], words[j + 1], lower)
            ):
                j += 1
            start, end = words[i].start(), words[j].end()
            spans.append(PiiSpan("PERSON", start, end, NAME_SCORE, text[start:end]))
            i = j
        i += 1
    return spans


def _continues(text: str, word: re.Match[str], after: re.Match[str], lower: bool) -> bool:
    """The next word is part of the name: one space away, a surname, not an ordinary word."""
    if text[word.end() : after.start()] not in (" ", "\t"):
        return False
    value = after.group()
    if any(c.isdigit() for c in value) or (value.isupper() and len(value) > 1):
        return False  # a model number or an acronym ("Trina TSM-DE08M"), not a surname
    if is_common_word(value) and not is_first_name(value):
        return False
    return lower or value[0].isupper()


def find_titled_names(text: str) -> list[PiiSpan]:
    """ "Mr. Reese", "Dr Anna Berg": a courtesy title and the capitalised words after it."""
    return [
        PiiSpan("PERSON", m.start(), m.end(), NAME_SCORE, m.group())
        for m in _TITLE_NAME.finditer(text)
    ]


def join_address_places(text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
    """Take a place that follows an address after a comma or line break into the address."""
    out: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: s.start):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.entity_type == "ADDRESS"
            and span.entity_type == "LOCATION"
            and re.fullmatch(r"[ \t]*[,\n][ \t\n]*", text[prev.end : span.start])
        ):
            out[-1] = replace(prev, end=span.end, text=text[prev.start : span.end])
        else:
            out.append(span)
    return out


def _one_word(text: str) -> bool:
    return len(text.split()) == 1
