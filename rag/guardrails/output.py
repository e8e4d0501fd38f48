"""Output checks: an answer is checked before it is shown for personal data from nowhere, the
system prompt echoed back, and terms the assistant must never say.

Each check reports what it found as an :class:`OutputIssue` whose ``detail`` is safe to show and
to log: an entity type and a count, a denied term, an overlap size, never the personal data.
The caller decides what to do with the issues (the ``output_action`` setting: flag or block).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# An answer is one to three sentences; anything past this is not read (bounds the work a runaway
# generation can cause). Sources are capped the same way: enough for every passage shown.
MAX_ANSWER_CHARS = 8_000
MAX_SOURCE_CHARS = 200_000

# A prompt echo is a run of words shared with the system prompt and absent from every source.
# Eight-word shingles: a chance eight-word overlap with an instruction list is rare, while any
# shorter run ("the number of the passage") is ordinary prose. An echo is reported once the
# shared shingles cover ECHO_WORDS words of the system prompt: more than one shingle, so the
# refusal sentence the prompt itself dictates ("I could not find this in the documents", eight
# words) never counts, while any whole rule of twelve words or more, or the prompt itself, does.
SHINGLE = 8
ECHO_WORDS = 12

# A place name alone (a country, a city: spaCy's GPE/LOC) identifies no one and answers name them
# freely; street addresses are ADDRESS and still count.
NOT_LEAKS = frozenset({"LOCATION"})

# Invisible characters that split a word without showing (zero-width space/joiners, word joiner,
# soft hyphen, BOM): removed before matching denied terms.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_TOKEN = re.compile(r"[^\W_]+")
_GAP = r"[\W_]+"  # between the words of a denied phrase: any run of non-letters
_TERM_SPLIT = re.compile(r"[\s\-_]+")  # a term's words ("shut up", "shut-up"); "c++" stays whole
# Separators inside a number ("555-123 4567", "(555) 123", "DE89 3704"): dropped, so a phone,
# card or account number compares equal however it is punctuated.
_NUMBER_GAP = re.compile(r"(?<=\d)[\s\-.()/]+(?=\d)")
# A value's token: letters and digits, with inner "." "@" "+" "_" "'" (addresses, O'Brien).
_VALUE_TOKEN = re.compile(r"[^\W_]+(?:[.@+_'’][^\W_]+)*")
# "i d i o t": three or more single letters separated by one space, dot or hyphen.
_SPACED = re.compile(r"\b(?:[^\W\d_][ .\-]){2,}[^\W\d_]\b")
# A short digit key could match inside any long number; phones differ by at most a country code.
_MIN_NUMBER_DIGITS = 7
_COUNTRY_CODE_DIGITS = 3


@dataclass(frozen=True)
class OutputIssue:
    """One problem found in an answer."""

    kind: str  # "pii_leak" | "prompt_echo" | "deny_term"
    detail: str  # what was found, safe to show and log; never the personal data itself


def check_output(
    answer: str,
    *,
    sources: Sequence[str],
    system_prompt: str,
    deny_terms: Sequence[str] = (),
    pii: Any = None,
) -> list[OutputIssue]:
    """Check an answer before it is shown.

    Args:
        answer: the model's answer (only its first ``MAX_ANSWER_CHARS`` characters are read).
        sources: what the model was shown: the passages and the question as the model saw it.
            Personal data and prompt text found in them are the answer's to repeat.
        system_prompt: the system turn the model was given.
        deny_terms: configured words or phrases, checked with the built-in list.
        pii: a detector with ``find(text)`` returning spans with ``entity_type`` and ``text``;
            ``None`` skips the personal-data check.
    """
    text = answer[:MAX_ANSWER_CHARS]
    capped = _capped(sources)
    issues = []
    if pii is not None:
        issues += pii_leaks(text, capped, pii)
    issues += prompt_echo(text, capped, system_prompt)
    issues += denied_terms(text, (*builtin_deny_terms(), *deny_terms))
    return issues


# --- personal data ----------------------------------------------------------------------------
def pii_leaks(answer: str, sources: Sequence[str], pii: Any) -> list[OutputIssue]:
    """Personal data in ``answer`` whose value appears in none of ``sources``, per entity type."""
    spans = pii.find(answer)
    if not spans:
        return []
    known = _SourceValues(sources)
    leaked: dict[str, int] = {}
    for span in spans:
        if span.entity_type not in NOT_LEAKS and not known.has(span.text, span.entity_type):
            leaked[span.entity_type] = leaked.get(span.entity_type, 0) + 1
    return [
        OutputIssue("pii_leak", f"{kind} ×{n} not in the passages or the question")
        for kind, n in sorted(leaked.items())
    ]


def value_tokens(text: str) -> list[str]:
    """The words and numbers of a value, as compared: folded, numbers without separators, and
    words joined by inner punctuation kept whole (an address is one token, so its local part
    alone is not taken for it)."""
    return _VALUE_TOKEN.findall(_NUMBER_GAP.sub("", _fold(text)))


class _SourceValues:
    """The sources' words as one token stream, for whole-token matching of values."""

    def __init__(self, sources: Sequence[str]):
        tokens = [t for s in sources for t in (*value_tokens(s), "\n")]
        self.joined = f" {' '.join(tokens)} "
        self.words = set(tokens)
        self.numbers = {t for t in tokens if t.isdigit() and len(t) >= _MIN_NUMBER_DIGITS}

    def has(self, value: str, entity_type: str = "") -> bool:
        tokens = value_tokens(value)
        if not tokens:
            return True  # nothing comparable: punctuation alone is no personal data
        if f" {' '.join(tokens)} " in self.joined:
            return True
        if entity_type == "PERSON":
            return self._same_person(tokens)
        return len(tokens) == 1 and self._same_number(tokens[0])

    def _same_person(self, tokens: list[str]) -> bool:
        """A name whose every word the sources hold: a surname alone, "Lopez, Ana", "Ms Lopez"
        (words under three letters, titles and initials, are not compared)."""
        names = [t for t in tokens if len(t) >= 3]
        return bool(names) and all(t in self.words for t in names)

    def _same_number(self, value: str) -> bool:
        """A number equal to a source's up to a country code (+1 555… against 555…)."""
        if not value.isdigit() or len(value) < _MIN_NUMBER_DIGITS:
            return False
        return any(
            0 < abs(len(n) - len(value)) <= _COUNTRY_CODE_DIGITS
            and (n.endswith(value) or value.endswith(n))
            for n in self.numbers
        )


# --- system prompt echo -----------------------------------------------------------------------
def prompt_echo(answer: str, sources: Sequence[str], system_prompt: str) -> list[OutputIssue]:
    """The system prompt reproduced: shared 8-word runs covering ``ECHO_WORDS`` of its words."""
    prompt = _prompt_shingles(system_prompt)
    if not prompt:
        return []
    shared = set(_shingles(_words(answer))) & prompt.keys()
    if not shared:
        return []
    shared -= {s for text in sources for s in _shingles(_words(text))}
    covered = {i for s in shared for start in prompt[s] for i in range(start, start + SHINGLE)}
    if len(covered) < ECHO_WORDS:
        return []
    total = len(_words(system_prompt))
    return [OutputIssue("prompt_echo", f"{len(covered)} of the system prompt's {total} words")]


@lru_cache(maxsize=16)
def _prompt_shingles(system_prompt: str) -> dict[tuple[str, ...], list[int]]:
    """Each 8-word run of the prompt and where it starts (the prompt is fixed: cached)."""
    found: dict[tuple[str, ...], list[int]] = {}
    for start, shingle in enumerate(_shingles(_words(system_prompt))):
        found.setdefault(shingle, []).append(start)
    return found


def _shingles(words: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]


def _words(text: str) -> list[str]:
    return _TOKEN.findall(_fold(text))


# --- denied terms -----------------------------------------------------------------------------
def denied_terms(answer: str, terms: Sequence[str]) -> list[OutputIssue]:
    """The terms of ``terms`` the answer says, each once, in the list's order."""
    matchers = _deny_matchers(tuple(terms))
    if not matchers:
        return []
    text = _fold(answer)
    views = (text, _SPACED.sub(lambda m: re.sub(r"[ .\-]", "", m[0]), text))
    # Words-only terms are looked up in the word stream (fast); a term with other characters
    # ("c++") needs its own pattern.
    streams = [f" {' '.join(_TOKEN.findall(view))} " for view in views]
    said = []
    for name, forms, pattern in matchers:
        if pattern is not None:
            hit = any(pattern.search(view) for view in views)
        else:
            hit = any(form in stream for form in forms for stream in streams)
        if hit:
            said.append(OutputIssue("deny_term", name))
    return said


@lru_cache(maxsize=8)
def _deny_matchers(
    terms: tuple[str, ...],
) -> list[tuple[str, tuple[str, ...], re.Pattern[str] | None]]:
    """Per distinct term: its reported name, its forms in the word stream (" shut up ",
    plurals too), or a whole-word pattern when the term holds more than letters and digits."""
    words_of = dict.fromkeys(tuple(w for w in _TERM_SPLIT.split(_fold(t)) if w) for t in terms)
    matchers = []
    for words in filter(None, words_of):
        name = " ".join(words)
        if all(_TOKEN.fullmatch(w) for w in words):
            matchers.append((name, tuple(f" {name}{end} " for end in ("", "s", "es")), None))
        else:
            body = _GAP.join(map(re.escape, words))
            pattern = re.compile(rf"(?<![^\W_]){body}(?:e?s)?(?![^\W_])")
            matchers.append((name, (), pattern))
    return matchers


@cache
def builtin_deny_terms() -> tuple[str, ...]:
    """The built-in list of abusive terms an assistant at work must never say."""
    lines = (Path(__file__).with_name("deny_terms.txt")).read_text(encoding="utf-8").splitlines()
    return tuple(s for line in lines if (s := line.split("#", 1)[0].strip()))


# --- shared -----------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """Compatibility-normalised, accents and invisible characters dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare).casefold().translate(_INVISIBLE)


def _capped(sources: Sequence[str]) -> list[str]:
    """The sources up to ``MAX_SOURCE_CHARS`` in all."""
    kept, budget = [], MAX_SOURCE_CHARS
    for source in sources:
        if budget <= 0:
            break
        kept.append(source[:budget])
        budget -= len(kept[-1])
    return kept
