"""Polarity and negation: where a claim says the opposite of the sentence it rests on.

Word overlap and embeddings score "revenue increased" and "revenue decreased" as near
identical. These checks compare a claim with its evidence (the passage sentence or pair that
best matches it) on what overlap misses:

* **polarity**: words on opposite ends of one axis (increased/decreased, gain/loss,
  included/excluded, required/optional, before/after, ...), with a negation folded into the
  word it governs ("not required" is *optional*, "no more than" is a *maximum*), and affixal
  opposites (paid/unpaid, direct/indirect, billable/non-billable);
* **negation**: one side negated and the other not, once the folded negations are gone.

Figures (units, periods, directions of change) are :mod:`rag.answer.quantities`'s. Rules are
about English, not about any collection: nothing here is fitted to data.
"""

from __future__ import annotations

import re

from rag.text.words import wordlist


def _poles(low: str, high: str) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(wordlist(low)), frozenset(wordlist(high))


# Each axis: (one pole, the other pole). Words are lowercase surface forms.
AXES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "change": _poles(
        "increase increased increases increasing rise rises rose risen rising grew grow grows "
        "growing climbed climb jumped surged soared doubled tripled raise raised expand expanded "
        "improve improved improves",
        "decrease decreased decreases decreasing decline declined declines declining fall falls "
        "fell fallen falling drop dropped drops dropping shrank shrink shrinks reduce reduced "
        "reduces reducing reduction halved cut cuts lowered contracted deteriorated worsened",
    ),
    "comparison": _poles(
        "more greater larger bigger higher above over exceeds exceeded exceed faster longer "
        "older most largest highest biggest heavier stronger",
        "less fewer smaller lower below under slower shorter younger least smallest lowest "
        "lighter weaker",
    ),
    "bound": _poles("⟨max⟩ maximum max ceiling", "⟨min⟩ minimum min floor"),
    "result": _poles(
        "gain gains profit profits profitable income earnings surplus",
        "loss losses deficit unprofitable",
    ),
    "inclusion": _poles(
        "include included includes including inclusive", "exclude excluded excludes excluding"
    ),
    "judgment": _poles(
        "favorable favourable positive beneficial", "unfavorable unfavourable negative adverse"
    ),
    "obligation": _poles(
        "required require requires mandatory must obligatory compulsory necessary needed always",
        "optional voluntary discretionary ⟨optional⟩",
    ),
    "permission": _poles(
        "allowed permitted allow allows permit permits authorized ⟨allowed⟩",
        "prohibited forbidden banned disallowed prohibits forbids ⟨prohibited⟩",
    ),
    "order": _poles(
        "before prior earlier beginning precede precedes preceding first",
        "after later subsequent subsequently following end last afterwards",
    ),
    "flow": _poles("inflow inflows", "outflow outflows"),
    "truth": _poles("true enabled", "false disabled"),
    "opacity": _poles("opaque", "transparent"),
    "endianness": _poles("big-endian", "little-endian"),
}
_WORD_AXIS = {
    w: (axis, side) for axis, poles in AXES.items() for side in (0, 1) for w in poles[side]
}

_BOUND_PHRASES = [
    (re.compile(r"\b(?:no|not) (?:more|greater|longer|later) than\b|\bnot to exceed\b|"
                r"\b(?:do(?:es)?|must|shall|should|may|can)(?: not|n't) exceed\b|\bup to\b|"
                r"\bat (?:the )?most\b|\bcapped at\b|\bno later than\b", re.I), " ⟨max⟩ "),
    (re.compile(r"\b(?:no|not) (?:less|fewer|shorter|earlier) than\b|\bat (?:the )?least\b", re.I),
     " ⟨min⟩ "),
]  # fmt: skip
_NEGATIONS = frozenset(["not", "no", "never", "cannot", "none", "neither", "nor", "n't", "without"])
_SKIP = frozenset(
    wordlist(
        "be been being is are was were do does did have has had to the a an any it they this "
        "that so yet also still always usually generally currently necessarily really"
    )
)
_TOKEN = re.compile(r"⟨\w+⟩|[a-z]+(?:-[a-z]+)*|n't")
_AFFIXES = ("un", "in", "non-", "non", "dis", "im", "ir", "il")


def _tokens(text: str) -> list[str]:
    low = text.lower().replace("’", "'")
    low = re.sub(r"(\w)n't\b", r"\1 n't", low).replace("can't", "can n't").replace("won't", "n't")
    low = low.replace("cannot", "can n't")
    for pattern, token in _BOUND_PHRASES:
        low = pattern.sub(token, low)
    return _TOKEN.findall(low)


def polarity(text: str) -> tuple[dict[str, set[int]], bool, set[str]]:
    """(axis → poles present, whether an unfolded negation remains, the words) of ``text``.

    Words a negation governs are returned as "not-WORD" too ("not used" is "unused").
    """
    tokens = _tokens(text)
    poles: dict[str, set[int]] = {}
    negated = False
    pending = -1  # index of a negation waiting for the word it governs
    governed: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok in _NEGATIONS:
            if pending >= 0:
                negated = True
            pending = i
            continue
        if pending >= 0 and i - pending <= 3:
            governed.add(f"not-{tok}")
        hit = _WORD_AXIS.get(tok)
        if hit:
            axis, side = hit
            if pending >= 0 and i - pending <= 3:
                side = 1 - side  # "not required" → optional, "not included" → excluded
                pending = -1
            poles.setdefault(axis, set()).add(side)
            continue
        if pending >= 0 and tok not in _SKIP and i - pending > 3:
            negated, pending = True, -1
    if pending >= 0:
        negated = True
    return poles, negated, set(tokens) | governed


def _affix_opposite(claim_words: set[str], evidence_words: set[str]) -> str | None:
    for word in claim_words:
        if word.startswith("not-"):
            continue
        for affix in _AFFIXES:
            if word.startswith(affix) and len(word) - len(affix) >= 4:
                base = word[len(affix) :]
                if (
                    base in evidence_words
                    and word not in evidence_words
                    and f"not-{base}" not in evidence_words  # "not used" is "unused"
                ):
                    return f"says “{word}” where the passage says “{base}”"
            elif (
                len(word) >= 4
                and affix + word in evidence_words
                and word not in evidence_words
                and f"not-{word}" not in claim_words
            ):
                return f"says “{word}” where the passage says “{affix + word}”"
    return None


def contradiction(claim: str, evidence: str) -> str | None:
    """Why ``claim`` contradicts ``evidence`` (polarity or negation), or ``None``."""
    c_poles, c_neg, c_words = polarity(claim)
    e_poles, e_neg, e_words = polarity(evidence)
    for axis, sides in c_poles.items():
        other = e_poles.get(axis, set())
        for side in sides:
            if 1 - side in other and side not in other:
                return f"reverses the passage ({axis})"
    if reason := _affix_opposite(c_words, e_words):
        return reason
    if c_neg != e_neg and " | " not in evidence:  # a table row states values, not negations
        return "negates what the passage says" if c_neg else "drops the passage's negation"
    return None
