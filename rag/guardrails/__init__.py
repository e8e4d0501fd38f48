"""Guardrails: personal data redacted, prompt injections caught, answers checked before display.

``Guardrails`` (in :mod:`rag.guardrails.guard`) applies the settings' policy to what the
detectors find: :mod:`pii` (patterns and spaCy NER) with :mod:`redaction`, :mod:`injection`
(a logistic regression over MiniLM embeddings and cue features, fitted by
:mod:`injection_fit`) and :mod:`output` (answer checks). :mod:`private` carries the user's own
words to local steps outside traces.
"""

from rag.guardrails.checks import ChunkCheck, QuestionCheck
from rag.guardrails.guard import Guardrails
from rag.guardrails.injection import MODEL_PATH, InjectionModel, injection_model
from rag.guardrails.injection_fit import cross_validate, fit_injection, refit
from rag.guardrails.output import OutputIssue, builtin_deny_terms, check_output
from rag.guardrails.pii import ENTITY_TYPES, PATTERN_TYPES, PiiDetector, PiiSpan, pii_detector
from rag.guardrails.pii_eval import format_scores, load_pii_cases, score_pii
from rag.guardrails.policy import PiiPolicy
from rag.guardrails.private import private_values, restore_markdown, unredacted
from rag.guardrails.redaction import Redaction, redact, restore

__all__ = [
    "ENTITY_TYPES",
    "MODEL_PATH",
    "PATTERN_TYPES",
    "ChunkCheck",
    "Guardrails",
    "InjectionModel",
    "OutputIssue",
    "PiiDetector",
    "PiiPolicy",
    "PiiSpan",
    "QuestionCheck",
    "Redaction",
    "builtin_deny_terms",
    "check_output",
    "cross_validate",
    "fit_injection",
    "format_scores",
    "injection_model",
    "load_pii_cases",
    "pii_detector",
    "private_values",
    "redact",
    "refit",
    "restore",
    "restore_markdown",
    "score_pii",
    "unredacted",
]
