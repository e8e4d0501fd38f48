"""Who is asking, and what they may do: identities from sign-in claims, roles, readable
collections.

One notation names people everywhere (who may sign in, who is an admin or an editor, who may
read a collection), so an operator learns it once:

* ``*``: anyone signed in;
* ``@example.org``: any verified address in that email domain;
* ``jo@example.org``: one address;
* anything else (optionally written ``group:NAME``): a group in the identity provider's groups
  claim.

Roles nest: an *admin* has every page and reads every collection; an *editor* manages the
documents of the collections they may read; a *reader* asks questions. Without sign-in
configured there is one local user, an admin, and the app says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rag.config import Settings
from rag.errors import AccessDenied

Role = Literal["admin", "editor", "reader"]
LOCAL_USER = "local"
MAX_GROUPS = 500  # a claim is data from the provider: bound what is kept of it


@dataclass(frozen=True)
class Identity:
    """A signed-in person (or the local user) and their role."""

    email: str
    role: Role
    groups: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    local: bool = False

    @property
    def is_admin(self) -> bool:
        """Every page, every collection."""
        return self.role == "admin"

    @property
    def manages_documents(self) -> bool:
        """The Documents page: admins, and editors for the collections they read."""
        return self.role in ("admin", "editor")

    @property
    def domain(self) -> str:
        """The part of the email after the last '@' (lower-case), or ""."""
        return self.email.rpartition("@")[2].lower() if "@" in self.email else ""

    def matches(self, entries: Iterable[str]) -> bool:
        """Whether any entry (``*``, ``@domain``, an address, a group) names this person."""
        return any(_matches(self, entry) for entry in entries)

    def readable(self, collections: Mapping[str, Iterable[str]]) -> frozenset[str] | None:
        """The collections this person may read, given each collection's readers; None means
        every collection (an admin)."""
        if self.is_admin:
            return None
        return frozenset(name for name, readers in collections.items() if self.matches(readers))


def _matches(identity: Identity, entry: str) -> bool:
    entry = entry.strip()
    if not entry:
        return False
    if entry == "*":
        return True
    if entry.startswith("@"):
        return bool(identity.domain) and identity.domain == entry[1:].lower()
    if "@" in entry:
        return identity.email.lower() == entry.lower()
    return entry.removeprefix("group:") in identity.groups


def local_identity() -> Identity:
    """The one user of a deployment without sign-in: an admin."""
    return Identity(email=LOCAL_USER, role="admin", local=True, name="Local user")


def groups_from(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    """The groups a provider's claim lists (a list, or a comma- or space-separated string)."""
    value = claims.get(claim)
    if isinstance(value, str):
        items: Iterable[Any] = value.replace(",", " ").split()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return frozenset()
    return frozenset(str(g).strip() for g in list(items)[:MAX_GROUPS] if str(g).strip())


def identity_from_claims(claims: Mapping[str, Any], settings: Settings) -> Identity:
    """The identity of a signed-in user from their OIDC claims (``st.user``).

    Raises:
        AccessDenied: the account is not on the allow-list, or its address is unverified.
    """
    email = str(claims.get("email") or "").strip()
    if not email:
        raise AccessDenied(
            "Your sign-in did not share an email address, so access cannot be checked."
        )
    if claims.get("email_verified") is False:  # a domain rule must not admit unverified mail
        raise AccessDenied(f"The address {email} is not verified by your identity provider.")
    groups = groups_from(claims, settings.groups_claim)
    probe = Identity(email=email, role="reader", groups=groups)
    role: Role = (
        "admin"
        if probe.matches(settings.admins)
        else "editor"
        if probe.matches(settings.editors)
        else "reader"
    )
    if role == "reader" and not probe.matches(settings.allowed_users):
        if not settings.allowed_users:
            raise AccessDenied(
                "Groundwork has no list of who may sign in yet: an administrator must set "
                "GROUNDWORK_ALLOWED_USERS (and GROUNDWORK_ADMINS)."
            )
        raise AccessDenied(f"The account {email} is not allowed to use Groundwork.")
    name = str(claims.get("name") or "")[:200]
    return Identity(email=email, role=role, groups=groups, name=name)
