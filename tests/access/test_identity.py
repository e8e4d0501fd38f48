"""Who may sign in, their role, and which collections they read, from OIDC claims."""

from __future__ import annotations

import pytest

from rag.access import Identity, identity_from_claims, local_identity
from rag.config import Settings
from rag.errors import AccessDenied


def settings(**kw) -> Settings:
    return Settings(**kw)


@pytest.mark.parametrize(
    ("entry", "email", "groups", "expected"),
    [
        ("*", "a@x.org", (), True),
        ("@x.org", "a@x.org", (), True),
        ("@X.ORG", "a@x.org", (), True),
        ("@x.org", "a@evilx.org", (), False),
        ("@x.org", "a@x.org.evil.com", (), False),
        ("jo@x.org", "JO@x.org", (), True),
        ("jo@x.org", "jo2@x.org", (), False),
        ("finance", "a@x.org", ("finance",), True),
        ("group:finance", "a@x.org", ("finance",), True),
        ("finance", "a@x.org", ("finance-ro",), False),
        ("", "a@x.org", ("",), False),
    ],
)
def test_one_notation_names_people_domains_addresses_and_groups(entry, email, groups, expected):
    person = Identity(email=email, role="reader", groups=frozenset(groups))
    assert person.matches([entry]) is expected


def test_only_allowed_accounts_sign_in_and_the_refusal_says_why():
    s = settings(allowed_users=["@x.org", "contractors"])
    assert identity_from_claims({"email": "a@x.org"}, s).role == "reader"
    assert identity_from_claims({"email": "c@y.com", "groups": ["contractors"]}, s).email
    with pytest.raises(AccessDenied, match="c@gmail.com is not allowed"):
        identity_from_claims({"email": "c@gmail.com"}, s)


def test_with_no_allow_list_nobody_signs_in_and_the_admin_is_told_what_to_set():
    with pytest.raises(AccessDenied, match="GROUNDWORK_ALLOWED_USERS"):
        identity_from_claims({"email": "a@x.org"}, settings())


def test_an_unverified_address_does_not_pass_a_domain_rule():
    s = settings(allowed_users=["@x.org"])
    with pytest.raises(AccessDenied, match="not verified"):
        identity_from_claims({"email": "a@x.org", "email_verified": False}, s)
    with pytest.raises(AccessDenied, match="email"):
        identity_from_claims({"sub": "123"}, s)


def test_admins_and_editors_are_named_the_same_way_and_need_no_separate_allow_entry():
    s = settings(allowed_users=["@x.org"], admins=["boss@x.org"], editors=["group:docs"])
    assert identity_from_claims({"email": "boss@x.org"}, s).role == "admin"
    assert identity_from_claims({"email": "e@y.com", "groups": "docs, other"}, s).role == "editor"
    assert identity_from_claims({"email": "r@x.org", "groups": ["docs2"]}, s).role == "reader"


def test_the_groups_claim_is_configurable_and_bounded():
    s = settings(allowed_users=["staff"], groups_claim="roles")
    person = identity_from_claims({"email": "a@x.org", "roles": ["staff"], "groups": []}, s)
    assert person.groups == {"staff"}
    claims = {"email": "a@x.org", "roles": [f"g{i}" for i in range(9999)] + ["staff"]}
    many = identity_from_claims(claims, settings(allowed_users=["*"], groups_claim="roles"))
    assert len(many.groups) == 500


def test_readers_see_the_collections_that_name_them_and_admins_see_all():
    collections = {"general": ["*"], "hr": ["hr"], "board": [], "finance": ["@fin.x.org"]}
    reader = Identity(email="a@x.org", role="reader", groups=frozenset({"hr"}))
    assert reader.readable(collections) == {"general", "hr"}
    assert Identity(email="b@fin.x.org", role="editor").readable(collections) == {
        "general",
        "finance",
    }
    assert Identity(email="c@x.org", role="admin").readable(collections) is None
    assert local_identity().readable(collections) is None and local_identity().local
