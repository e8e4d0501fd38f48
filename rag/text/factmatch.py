"""Matching a claim's hard facts the way a careful reader would.

A good answer does not copy the passage's notation: it writes "$4.72 billion" for a table cell
"4,724" under "(in millions)", "FY2015" for "fiscal 2015", "CAPEX" for "capital expenditures",
and values computed from the passage ("operating income rose 65.4%"). These helpers accept
exactly that, and no more:

* **numbers** match within the precision the claim writes them ("4.72 billion" is 4.715-4.725
  billion), in the passage's declared scale ("in millions") or, when it declares none, any scale;
* **computed values** match when one arithmetic step over the numbers of the passage's lines that
  share words with the claim gives the claimed value (a sum, a difference, a ratio, a share, a
  percentage change) — :meth:`NumberPool.derive` returns how;
* **abbreviations** match their expansion in either direction ("SG&A" / "selling, general and
  administrative", "FLSA" / "Fair Labor Standards Act", "YoY" / "year over year").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.text.words import wordlist

SCALES = {"thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6,
          "billion": 1e9, "billions": 1e9}  # fmt: skip
_DECLARED = re.compile(r"\bin (thousands|millions|billions)\b", re.I)
NUMBER = re.compile(
    r"(?<![\w.,])[$€£]?\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d,]*\.\d)"
    r"(?:\s*(thousand|million|billion|bn|mn)\b)?"
)
_WORD = re.compile(r"[a-z0-9&]+")
_HEDGES = re.compile(
    r"\b(?:about|around|approximately|roughly|nearly|almost|some|over|under|"
    r"just|close to|more than|less than|a little)\b\s*[$€£]?\s*$",
    re.I,
)
_JOINERS = frozenset(("of", "and", "the", "for", "in", "on", "to"))
_MAX_OPERANDS = 16


def normalize_periods(text: str) -> str:
    """Spell period shorthand out: "FY2015"/"FY15" → "fiscal 2015", "1Q21"/"Q1'21" → "Q1 2021"."""
    text = re.sub(r"\bFY\s?'?(\d{4})\b", r"fiscal \1", text, flags=re.I)
    text = re.sub(r"\bFY\s?'?(\d{2})\b", r"fiscal 20\1", text, flags=re.I)
    text = re.sub(r"\b([1-4])Q\s?'?(\d{2})\b", r"Q\1 20\2", text)
    return re.sub(r"\bQ([1-4])\s?'(\d{2})\b", r"Q\1 20\2", text)


@dataclass(frozen=True)
class Written:
    """A number as a claim writes it: its value and half the unit of its last digit."""

    value: float
    step: float
    percent: bool
    hedged: bool


def written_number(text: str, start: int, mantissa: str, scale: str, end: int) -> Written:
    """Read one number of ``text`` (``mantissa`` as printed, ``scale`` word, ``end`` offset)."""
    digits = mantissa.replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    factor = SCALES.get(scale.lower(), 1e9 if scale.lower() == "bn" else 1e6 if scale else 1.0)
    after = text[end : end + 12].lower()
    percent = after.lstrip().startswith(("%", "percent"))
    hedged = bool(_HEDGES.search(text[max(0, start - 16) : start]))
    return Written(float(digits) * factor, 0.5 * 10.0**-decimals * factor, percent, hedged)


def _values(text: str) -> tuple[list[float], list[float], list[int]]:
    """(bare values, explicitly scaled values, line of each bare value) of a passage."""
    bare, scaled, lines = [], [], []
    for line_no, line in enumerate(text.splitlines()):
        for m in NUMBER.finditer(line):
            value = float(m.group(1).replace(",", ""))
            if m.group(2):
                word = m.group(2).lower()
                scaled.append(value * SCALES.get(word, 1e9 if word == "bn" else 1e6))
            else:
                bare.append(value)
                lines.append(line_no)
    return bare, scaled, lines


class NumberPool:
    """The numbers a passage states, for approximate and computed matches."""

    def __init__(self, text: str):
        self.lines = [line.lower() for line in text.splitlines()]
        self.bare, self.scaled, self.line_of = _values(text)
        declared = {SCALES[m.lower()] for m in _DECLARED.findall(text)}
        # Undeclared: a bare number may stand for any scale (a table's header is elsewhere).
        self.factors = sorted({1.0} | (declared or {1e3, 1e6, 1e9}))
        self._all = np.array(
            [v * f for v in self.bare for f in self.factors] + self.scaled, dtype=float
        )

    def lines_with(self, w: Written) -> set[int]:
        """The lines of the passage that state ``w`` (bare numbers in any allowed scale)."""
        tolerance = w.step * (2.0 if w.hedged else 1.0) + 1e-9 * max(1.0, abs(w.value))
        return {
            line
            for v, line in zip(self.bare, self.line_of, strict=True)
            if any(abs(v * f - w.value) <= tolerance for f in self.factors)
        }

    def anchored(self, w: Written, subject: set[str], abbreviated: Sequence[str] = ()) -> bool:
        """Whether a line stating ``w`` also names something the claim names (a word, or the
        expansion of an abbreviation the claim uses)."""
        for i in self.lines_with(w):
            words = _WORD.findall(self.lines[i])
            if subject & set(words) or any(expands(a, words) for a in abbreviated):
                return True
        return False

    def has(self, w: Written) -> bool:
        """Whether the passage states ``w`` within its written precision."""
        tolerance = w.step * (2.0 if w.hedged else 1.0) + 1e-9 * max(1.0, abs(w.value))
        return bool(len(self._all)) and bool(np.any(np.abs(self._all - w.value) <= tolerance))

    def derive(self, w: Written, claim: str, subject: set[str]) -> str:
        """How ``w`` is computed from the passage's relevant numbers ("" when it is not).

        Only the steps the claim's wording asks for are tried (a share or change for a
        percentage, a sum for "total"/"combined", a difference for "less"/"rose by", a ratio
        for "ratio"/"times" or a decimal), over numbers on lines naming what the claim names.
        """
        steps = _asked_steps(claim, w)
        relevant = {i for i, line in enumerate(self.lines) if subject & set(_WORD.findall(line))}
        operands = list(
            dict.fromkeys(v for v, line in zip(self.bare, self.line_of, strict=True)
                          if line in relevant and v not in _YEARS)
        )[:_MAX_OPERANDS]  # fmt: skip
        if len(operands) < 2 or not steps:
            return ""
        tolerance = w.step + 1e-9 * max(1.0, abs(w.value))
        for f in self.factors:
            for a, b in itertools.permutations(operands, 2):
                for label, value in _steps(a, b, steps):
                    if label in ("sum", "difference"):
                        value *= f
                    if abs(value - w.value) <= tolerance:
                        return f"{label} of {format_number(a)} and {format_number(b)}"
        return ""


_SUM_CUE = re.compile(r"\b(?:total|totals|totaled|totalled|combined|together|sum|plus|adding|"
                      r"altogether|in all|aggregate)\b", re.I)  # fmt: skip
_DIFFERENCE_CUE = re.compile(
    r"\b(?:difference|less|minus|net of|gap|free cash flow|by|more than|fewer than|"
    r"higher than|lower than)\b",
    re.I,
)
_CHANGE_CUE = re.compile(
    r"\b(?:grew|grow|growth|rose|rise|increased?|decreased?|declined?|fell|fall|dropped|"
    r"change|changed|up|down|slipped|jumped|climbed|yoy|year over year|year-over-year)\b",
    re.I,
)
_SHARE_CUE = re.compile(r"\b(?:of|share|margin|rate|accounted|made up|represent\w*)\b", re.I)
_RATIO_CUE = re.compile(r"\b(?:ratio|times|multiple|per|x)\b", re.I)


def _asked_steps(claim: str, w: Written) -> set[str]:
    if w.percent:
        steps = {"share"} if _SHARE_CUE.search(claim) else set()
        return steps | ({"percentage change"} if _CHANGE_CUE.search(claim) else set())
    steps = set()
    if _SUM_CUE.search(claim):
        steps.add("sum")
    if _DIFFERENCE_CUE.search(claim) or _CHANGE_CUE.search(claim):
        steps.add("difference")
    if _RATIO_CUE.search(claim) or w.step < 0.5:
        steps.add("ratio")
    return steps


YEARS = range(1990, 2041)  # a bare number in this span dates a figure rather than being one
_YEARS = frozenset(float(y) for y in YEARS)
# Words that date or frame a figure rather than say what it is.
FRAME_WORDS = frozenset(
    wordlist(
        "january february march april may june july august september october november december "
        "fiscal year years quarter quarters month months ended ending end period total net "
        "million millions billion billions thousand thousands"
    )
)


def _steps(a: float, b: float, asked: set[str]) -> list[tuple[str, float]]:
    candidates = {
        "share": lambda: 100.0 * a / b,
        "percentage change": lambda: 100.0 * (a - b) / abs(b),
        "sum": lambda: a + b,
        "difference": lambda: a - b,
        "ratio": lambda: a / b,
    }
    return [(k, candidates[k]()) for k in asked if b or k in ("sum", "difference")]


def format_number(value: float) -> str:
    """Write ``value`` with thousands separators and no trailing zeros ("1,500", "4.72")."""
    return f"{value:,.10g}"


# --- abbreviations --------------------------------------------------------------------------


def is_abbreviation(token: str) -> bool:
    """Two or more capitals in a short token: "CAPEX", "SG&A", "YoY", "U.S"."""
    letters = [c for c in token if c.isalpha()]
    return 2 <= len(letters) <= 7 and sum(c.isupper() for c in letters) >= 2


def _letters(abbreviation: str) -> str:
    return "".join(c.lower() for c in abbreviation if c.isalpha() or c == "&")


@lru_cache(maxsize=4096)
def _consumes(letters: str, words: tuple[str, ...]) -> bool:
    """Whether ``words`` spell ``letters``: each word gives a prefix of what is left, in order
    ("cap" + "ex" = capex); "and" may give "&"; joiners may give nothing."""
    if not letters:
        return not words or all(w in _JOINERS for w in words)
    if not words:
        return False
    head, rest = words[0], words[1:]
    if letters[0] == "&":  # "D&A": "depreciation and amortization" or "..., amortization"
        return _consumes(letters[1:], rest if head in ("and", "&") else words)
    if head in _JOINERS and _consumes(letters, rest):
        return True
    for k in range(min(len(head), len(letters)), 0, -1):
        if head.startswith(letters[:k]) and _consumes(letters[k:], rest):
            return True
    return False


def expands(abbreviation: str, words: list[str]) -> bool:
    """Whether some run of ``words`` (lowercase) is an expansion of ``abbreviation``."""
    letters = _letters(abbreviation)
    if len(letters) < 2:
        return False
    firsts = letters[0]
    for i, word in enumerate(words):
        if word[:1] != firsts:
            continue
        for j in range(i + 1, min(len(words), i + len(letters) + 3) + 1):
            if _consumes(letters, tuple(words[i:j])):
                return True
    return False


def passage_words(text: str) -> list[str]:
    """The passage's words, lowercase, for expansion matching."""
    return _WORD.findall(text.lower().replace("’", "'"))


def abbreviations(text: str) -> set[str]:
    """The abbreviations a passage writes."""
    return {t for t in re.findall(r"[A-Za-z][A-Za-z&.]*[A-Za-z]", text) if is_abbreviation(t)}
