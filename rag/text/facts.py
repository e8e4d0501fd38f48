"""Hard facts in a claim (numbers, names, quoted phrases) and whether a passage states them.

Pure Python and deterministic; :mod:`rag.answer.support` requires every fact of an answer
sentence to be stated by (or, for numbers, computed from) its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.factmatch import (
    NumberPool,
    Written,
    abbreviations,
    expands,
    is_abbreviation,
    normalize_periods,
    passage_words,
    written_number,
)
from rag.text.words import STOPWORDS, wordlist

# --- hard facts -----------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        wordlist(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty")
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
     "ninety": 90, "hundred": 100, "dozen": 12}  # fmt: skip
# "zero"/"one" double as pronouns ("one of the forms"): numbers in passages, never claims.
_CLAIM_NUMBER_WORDS = {w: v for w, v in _NUMBER_WORDS.items() if v > 1}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        wordlist(
            "january february march april may june july august september october november december"
        )
    )
}
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9}
_NUMBER_RE = re.compile(
    r"(?<![\d.,])(?P<version>\d+(?:\.\d+){2,})"  # 1.2.3 versions, dotted dates
    r"|(?<![\d.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\.\d)"
    r"(?:\s*(?P<scale>thousand|million|billion|bn|mn|[km])\b)?",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(r"\"([^\"]{2,60})\"|“([^”]{2,60})”|`([^`]{1,60})`")
_PERIOD_WORD = re.compile(r"[QH][1-4]")
_CODE_RE = re.compile(
    r"(?<![\w.-])(?:--?[a-z][\w-]+|\.?[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+(?:\(\))?|"
    r"[A-Za-z]\w*\(\)|\.[A-Z][A-Za-z]+)"
)
_NAME_JOINERS = frozenset({"of", "for", "the", "de", "la", "van", "von", "&"})
_TOKEN_RE = re.compile(r"[\w][\w'’&.-]*[\w]|[\w&]")


@dataclass(frozen=True)
class Fact:
    """A checkable detail of a claim: ``kind`` is number, name or quote; ``text`` as written."""

    text: str
    kind: str
    key: str  # number: canonical value; name/quote: normalised phrase
    written: Written | None = None  # number: value and written precision


def normalize_phrase(text: str) -> str:
    """Lowercase, drop possessive 's and punctuation, collapse spaces (for phrase matching)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    return " ".join(re.sub(r"[^\w&]+", " ", text).split())


def number_key(value: float) -> str:
    """The key a number is matched by: six significant figures ("1500", "0.25")."""
    return f"{value:.6g}"


def _numbers(text: str, words: dict[str, int]) -> list[tuple[str, str, Written | None]]:
    """(as written, key, value with precision) for each number in ``text``: digits, scaled
    amounts and number words."""
    found: list[tuple[str, str, Written | None]] = []
    for m in _NUMBER_RE.finditer(text):
        if m.group("version"):
            found.append((m.group(0), m.group("version"), None))
            continue
        value = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        # A bare "m"/"k" right after a number is a unit only for money-like amounts.
        if scale in ("m", "k") and not text[: m.start()].rstrip().endswith(("$", "€", "£")):
            scale = ""
        written = m.group("num") if not scale else m.group(0)
        factor = _SCALE.get(scale, 1)
        precise = written_number(text, m.start(), m.group("num"), "", m.end())
        precise = Written(precise.value * factor, precise.step * factor, precise.percent,
                          precise.hedged)  # fmt: skip
        found.append((written, number_key(value * factor), precise))
    for m in re.finditer(r"[A-Za-z]+", text):
        if (low := m.group(0).lower()) in words:
            found.append((m.group(0), number_key(words[low]), None))
    return found


def extract_facts(claim: str) -> list[Fact]:
    """Return the hard facts a claim commits to: numbers (amounts, dates, percentages),
    capitalised names and quoted terms. Each must appear in the supporting passage.

    A capitalised word opening the sentence counts only as part of a multi-word name ("Jane
    Doe approves") or as an acronym ("GSA covers"): on its own it is just sentence case.
    """
    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, kind: str, key: str) -> None:
        if key and (kind, key) not in seen:
            seen.add((kind, key))
            facts.append(Fact(text, kind, key))

    claim = normalize_periods(claim)
    for written, key, precise in _numbers(claim, _CLAIM_NUMBER_WORDS):
        if key not in {k for kind, k in seen if kind == "number"}:
            seen.add(("number", key))
            facts.append(Fact(written, "number", key, precise))
    for m in _QUOTED_RE.finditer(claim):
        quoted = next(g for g in m.groups() if g)
        add(quoted, "quote", normalize_phrase(quoted))
    body = _QUOTED_RE.sub(" ", claim)
    for m in _CODE_RE.finditer(body):  # identifiers: R_LIBS_USER, read.table(), .Rprofile
        if not re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", m.group(0)):  # not "e.g", "U.S"
            add(m.group(0), "code", normalize_phrase(m.group(0)))
    for phrase, at_start in _capitalised_runs(body):
        first, _, rest = phrase.partition(" ")
        if at_start and not _is_acronym(first):
            phrase = rest  # sentence case: "Taking PPL" commits only to "PPL"
        # Quarters and halves ("Q2", "H1") are periods: their year is the fact.
        phrase = " ".join(w for w in phrase.split() if not _PERIOD_WORD.fullmatch(w))
        if phrase and phrase.split()[0].lower() not in _NAME_JOINERS:
            add(phrase, "name", normalize_phrase(phrase))
    return facts


def _capitalised_runs(text: str) -> list[tuple[str, bool]]:
    """Runs of capitalised words ("Department of Labor"), and whether each opens a clause."""
    runs: list[tuple[str, bool]] = []
    words: list[str] = []
    at_start = True
    prev_end = 0
    clause_start = True

    def close() -> None:
        while words and words[-1].lower() in _NAME_JOINERS:
            words.pop()
        if words:
            runs.append((" ".join(words), at_start))
        words.clear()

    for m in _TOKEN_RE.finditer(text):
        word = m.group(0).rstrip(".")
        gap = text[prev_end : m.start()]
        if gap.strip():  # punctuation between words ends a name
            close()
            clause_start = bool(re.search(r"[:;(\"“—–]", gap))
        prev_end = m.end()
        low = word.lower()
        if word[:1].isupper() and low not in STOPWORDS and low not in _NAME_JOINERS and word != "I":
            if not words:
                at_start = clause_start
            words.append(word)
        elif words and low in _NAME_JOINERS:
            words.append(word)
        else:
            close()
        clause_start = False
    close()
    return runs


def _is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


# Words of a capitalised name that say what was computed, not who: "Operating Margin".
_COMPUTED_WORDS = frozenset(
    wordlist("margin margins ratio rate growth change total average share yoy qoq")
)


@dataclass(frozen=True)
class FactIndex:
    """What a passage offers for fact matching: its numbers, words and abbreviations."""

    numbers: frozenset[str]
    text: str
    pool: NumberPool
    words: tuple[str, ...]
    abbreviations: frozenset[str]

    @classmethod
    def of(cls, text: str) -> FactIndex:
        """Index ``text`` (numbers include number words and month names as 1-12)."""
        text = normalize_periods(text)
        keys = {key for _, key, _ in _numbers(text, _NUMBER_WORDS)}
        keys |= {number_key(v) for m, v in _MONTHS.items() if re.search(rf"\b{m}\b", text, re.I)}
        return cls(
            frozenset(keys),
            f" {normalize_phrase(text)} ",
            NumberPool(text),
            tuple(passage_words(text)),
            frozenset(abbreviations(text)),
        )

    def has(self, fact: Fact) -> bool:
        """Whether this passage states ``fact``."""
        if fact.kind == "number":
            if fact.key in self.numbers or f" {fact.key} " in self.text:
                return True
            return fact.written is not None and self.pool.has(fact.written)
        if f" {fact.key} " in self.text:
            return True
        return fact.kind == "name" and self._names(fact.text)

    def _names(self, phrase: str) -> bool:
        """A name written another way: abbreviated, expanded, or its words in another order."""
        words = [w for w in re.findall(r"[A-Za-z][\w&.'’-]*", phrase)]
        low = [normalize_phrase(w) for w in words]
        if len(words) > 1 and any(expands(a, low) for a in self.abbreviations):
            return True  # "Fair Labor Standards Act" for the passage's "FLSA"
        present = set(self.words)
        for word, norm in zip(words, low, strict=True):
            if norm in _COMPUTED_WORDS or all(part in present for part in norm.split()):
                continue
            if is_abbreviation(word) and expands(word, list(self.words)):
                continue
            return False
        return True

    def derive(self, fact: Fact, claim: str, subject: set[str]) -> str:
        """How a number the passage does not state is computed from its numbers ("" if not)."""
        if fact.kind != "number" or fact.written is None:
            return ""
        return self.pool.derive(fact.written, claim, subject)
