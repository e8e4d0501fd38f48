"""Replace personal data by typed, numbered placeholders and put it back.

``<PERSON_1>``, ``<EMAIL_2>``: the same value always gets the same placeholder, and numbering
continues from a mapping the caller keeps (a conversation's follow-up questions share
placeholders). ``restore`` shows the user their own words again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.guardrails.recognizers import PiiSpan


TAGS = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "ADDRESS": "ADDRESS",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
}
PLACEHOLDER = re.compile(r"<([A-Z]+)_(\d+)>")  # <EMAIL_1>: the tag and the number


@dataclass
class Redaction:
    """Redacted text, placeholder -> original value, and how many values of each type."""

    text: str
    mapping: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def redact(text: str, spans: Sequence[PiiSpan], mapping: dict[str, str] | None = None) -> Redaction:
    """Replace each span of ``text`` by its placeholder, reusing and extending ``mapping``.

    ``spans`` must not overlap (``PiiDetector.find`` guarantees it). The returned mapping holds
    the given one plus the new placeholders; the given dict is not modified.
    """
    mapping = dict(mapping or {})
    by_value = {(_tag_of(p), value): p for p, value in mapping.items()}
    counts: dict[str, int] = {}
    pieces, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < cursor:
            raise ValueError(f"overlapping spans at {span.start}: resolve them before redacting")
        tag = TAGS[span.entity_type]
        value = text[span.start : span.end]
        placeholder = by_value.get((tag, value))
        if placeholder is None:
            placeholder = f"<{tag}_{_next_number(mapping, tag)}>"
            mapping[placeholder] = value
            by_value[(tag, value)] = placeholder
        counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
        pieces += [text[cursor : span.start], placeholder]
        cursor = span.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), mapping, counts)


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put the original values back in place of the placeholders ``mapping`` knows."""
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(), m.group()), text)


def _tag_of(placeholder: str) -> str:
    match = PLACEHOLDER.fullmatch(placeholder)
    return match.group(1) if match else ""


def _next_number(mapping: dict[str, str], tag: str) -> int:
    numbers = [
        int(m.group(2)) for p in mapping if (m := PLACEHOLDER.fullmatch(p)) and m.group(1) == tag
    ]
    return max(numbers, default=0) + 1
