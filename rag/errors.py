"""Groundwork's exceptions: every error a user can meet, each saying what happened and what to do.

    GroundworkError
     ├── ConfigError            a setting has a value that cannot work
     ├── BackendUnavailable     the model server is down or lacks the model
     ├── StoreError             the vector store cannot be used
     │    ├── StoreLocked       another process holds the embedded store
     │    └── EmbedderMismatch  the store was built by another embedding model
     ├── DatabaseError          the SQLite database is busy, read-only, damaged or unreachable
     ├── IngestError            a file could not be read into the store
     ├── DatasetError           a golden set or evaluation docs folder cannot be used
     ├── FeedbackError          a rating, review or golden case cannot be recorded as given
     ├── LangSmithPushError     LangSmith could not take a pushed evaluation run
     ├── GuardrailBlocked       a question or answer was stopped by a privacy or safety check
     └── AccessDenied           the signed-in account may not do this (or use Groundwork)

Pages and the CLI catch ``GroundworkError`` and show its message; anything else is a bug.
"""

from __future__ import annotations


class GroundworkError(Exception):
    """Root of every error Groundwork reports to a user."""


class ConfigError(GroundworkError):
    """A setting has a value that cannot work."""


class BackendUnavailable(GroundworkError):
    """The model backend cannot answer (server down, model missing, package absent)."""


class StoreError(GroundworkError):
    """The vector store cannot be opened or used."""


class StoreLocked(StoreError):
    """Another process has the embedded store open."""


class EmbedderMismatch(StoreError):
    """The store was built with a different embedding model than the one configured."""


class DatabaseError(GroundworkError):
    """The SQLite database could not be used; the message names the file and what to do."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"The database at {path} {reason}")


class IngestError(GroundworkError):
    """A file could not be ingested; the message names the file and the reason."""

    def __init__(self, filename: str, reason: str):
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename}: {reason}")


class DatasetError(GroundworkError):
    """A golden set or docs folder cannot be used; the message names the file and line."""


class FeedbackError(GroundworkError):
    """A rating, review or golden case is incomplete or refers to nothing stored."""


class LangSmithPushError(GroundworkError):
    """LangSmith could not take a pushed run; the message names the endpoint, never the key."""


class GuardrailBlocked(GroundworkError):
    """A question or answer was stopped by a guardrail; the message says which and why.

    ``kind`` names the check ("pii", "injection", "output"); ``detail`` what it found (entity
    types, a score), never the offending text itself.
    """

    def __init__(self, kind: str, message: str, detail: str = ""):
        self.kind = kind
        self.detail = detail
        super().__init__(message)


class AccessDenied(GroundworkError):
    """The signed-in account may not use Groundwork, or may not do what it asked."""
