"""Guardrails: personal data redacted, prompt injections caught, answers checked before display."""

from rag.guardrails.checks import ChunkCheck, QuestionCheck

__all__ = ["ChunkCheck", "QuestionCheck"]
