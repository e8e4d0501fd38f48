"""The per-type personal-data policy: what happens to each kind of PII found in a question.

Read from the ``pii_policy`` setting: a default action, then ``TYPE=ACTION`` overrides,
comma-separated (``redact,US_SSN=block,LOCATION=allow``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.errors import ConfigError

ACTIONS = ("redact", "block", "allow")
POLICY_TYPES = (
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
# How a type is named to people (singular, plural): in a blocked question's message, the note on
# a redacted question and a document's ingestion report.
TYPE_NAMES = {
    "PERSON": ("person's name", "people's names"),
    "LOCATION": ("place name", "place names"),
    "ADDRESS": ("postal address", "postal addresses"),
    "EMAIL_ADDRESS": ("email address", "email addresses"),
    "PHONE_NUMBER": ("phone number", "phone numbers"),
    "CREDIT_CARD": ("payment card number", "payment card numbers"),
    "US_SSN": ("US social security number", "US social security numbers"),
    "IBAN_CODE": ("IBAN", "IBANs"),
    "IP_ADDRESS": ("IP address", "IP addresses"),
}


def one_of(kind: str) -> str:
    """One value of ``kind``, with its article: "an email address"."""
    singular = TYPE_NAMES.get(kind, (kind, kind))[0]
    return f"{'an' if singular[0].lower() in 'aeiou' else 'a'} {singular}"


def counted(kind: str, count: int) -> str:
    """``count`` values of ``kind``: "1 phone number", "4 email addresses"."""
    singular, plural = TYPE_NAMES.get(kind, (kind, kind))
    return f"{count} {singular if count == 1 else plural}"


@dataclass(frozen=True)
class PiiPolicy:
    """A default action for every type, and per-type overrides."""

    default: str = "redact"
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> PiiPolicy:
        """Read ``redact,US_SSN=block``; a bad action or type is a ``ConfigError``."""
        default, overrides = "redact", {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, _, action = part.rpartition("=")
            action = action.strip().lower()
            if action not in ACTIONS:
                raise ConfigError(
                    f"GROUNDWORK_PII_POLICY: {action!r} is not an action; use one of "
                    f"{', '.join(ACTIONS)} (e.g. 'redact,US_SSN=block')."
                )
            if not name:
                default = action
                continue
            kind = name.strip().upper()
            if kind not in POLICY_TYPES:
                raise ConfigError(
                    f"GROUNDWORK_PII_POLICY: {name.strip()!r} is not a personal-data type; use "
                    f"one of {', '.join(POLICY_TYPES)}."
                )
            overrides[kind] = action
        return cls(default, overrides)

    def action(self, entity_type: str) -> str:
        """The action for one entity type."""
        return self.overrides.get(entity_type, self.default)

    def types(self, action: str) -> set[str]:
        """The entity types this policy treats with ``action``."""
        return {t for t in POLICY_TYPES if self.action(t) == action}
