"""Access: who is signed in, their role, and which collections they may read."""

from rag.access.identity import (
    LOCAL_USER,
    Identity,
    Role,
    identity_from_claims,
    local_identity,
)

__all__ = [
    "LOCAL_USER",
    "Identity",
    "Role",
    "identity_from_claims",
    "local_identity",
]
