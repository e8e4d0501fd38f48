"""The per-type personal-data policy read from its setting."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.guardrails.policy import POLICY_TYPES, PiiPolicy


@pytest.mark.parametrize(
    ("text", "default", "overrides"),
    [
        ("redact", "redact", {}),
        ("", "redact", {}),
        ("block", "block", {}),
        ("redact,US_SSN=block", "redact", {"US_SSN": "block"}),
        (" allow , credit_card = Block ,IBAN_CODE=redact", "allow",
         {"CREDIT_CARD": "block", "IBAN_CODE": "redact"}),
        ("US_SSN=block", "redact", {"US_SSN": "block"}),  # no default given: redact
    ],
)  # fmt: skip
def test_policy_reads_a_default_and_overrides(text, default, overrides):
    policy = PiiPolicy.parse(text)
    assert (policy.default, policy.overrides) == (default, overrides)
    for kind in POLICY_TYPES:
        assert policy.action(kind) == overrides.get(kind, default)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mask", "'mask' is not an action"),
        ("redact,SSN=block", "'SSN' is not a personal-data type"),
        ("redact,US_SSN=", "'' is not an action"),
    ],
)
def test_a_bad_policy_names_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        PiiPolicy.parse(text)


def test_types_lists_the_types_with_an_action():
    policy = PiiPolicy.parse("allow,US_SSN=block,CREDIT_CARD=block")
    assert policy.types("block") == {"US_SSN", "CREDIT_CARD"}
    assert policy.types("redact") == set()
    assert "PERSON" in policy.types("allow")
