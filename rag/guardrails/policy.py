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
# How a type is named to the user when a question is blocked for it.
TYPE_NAMES = {
    "PERSON": "a person's name",
    "LOCATION": "a place",
    "ADDRESS": "a street address",
    "EMAIL_ADDRESS": "an email address",
    "PHONE_NUMBER": "a phone number",
    "CREDIT_CARD": "a payment card number",
    "US_SSN": "a social security number",
    "IBAN_CODE": "a bank account number (IBAN)",
    "IP_ADDRESS": "an IP address",
}


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
