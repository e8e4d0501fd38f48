"""What a run's answers depend on, recorded with every evaluation run so two runs can be compared.

A fingerprint names the prompt version, backend and model, embedder, index version, the
settings that change answers, the retrieval and refusal constants in the code, the code version
(git commit, "+dirty" when the work tree has changes), a hash of each golden set, and the key
of the documents' evaluation store (their content and chunk settings). ``differences`` lists
what changed between two runs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag.config import REPO, Settings

# Settings that change what an answer says (paths, secrets, access and tracing do not).
ANSWER_SETTINGS = (
    "backend",
    "ollama_model",
    "ollama_embed_model",
    "embedded_context",
    "max_answer_tokens",
    "temperature",
    "top_k",
    "chunk_tokens",
    "unsupported",
    "answer_mode",
    "refusal_threshold",
    "prompt_version",
    "max_file_mb",
    "max_pages",
    "pii_policy",
    "pii_ner",
    "pii_redact_documents",
    "injection_threshold",
    "passage_injection_threshold",
    "injection_action",
    "output_action",
    "deny_terms",
)
GIT_ENV = "GROUNDWORK_GIT_SHA"  # where a build without .git (an image) records its commit


def code_version(repo: Path = REPO) -> str:
    """The git commit of the code (12 hex digits, "+dirty" with local changes), else "unknown"."""
    if sha := os.environ.get(GIT_ENV, "").strip():
        return sha[:40]
    try:
        head = _git(repo, "rev-parse", "--short=12", "HEAD")
        dirty = _git(repo, "status", "--porcelain", "--untracked-files=no", "--", "rag")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "") if head else "unknown"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()


def run_fingerprint(
    settings: Settings,
    config: Mapping[str, Any],
    *,
    index_version: int | None,
    datasets: Mapping[str, str],
    docs: str | None,
) -> dict[str, Any]:
    """Everything that affects a run's answers: ``config`` holds the backend, model, prompt
    and embedder the run used; ``datasets`` maps golden-set names to their hashes."""
    from rag.answer.refusal import DEFAULT_GATE
    from rag.index.retrieve import DEFAULT_FUSION

    return {
        "prompt_version": config.get("prompt_version"),
        "backend": config.get("backend"),
        "model": config.get("model"),
        "embedder": config.get("embedder"),
        "index_version": index_version,
        "retrieval_only": bool(config.get("retrieval_only")),
        "settings": {name: _plain(getattr(settings, name)) for name in ANSWER_SETTINGS},
        "fusion": DEFAULT_FUSION.label(),
        "refusal_gate": str(DEFAULT_GATE),
        "git_sha": code_version(),
        "datasets": dict(datasets),
        "docs": docs,
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def _flat(fingerprint: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fingerprint.items():
        if isinstance(value, Mapping):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(field, value in a, value in b)`` for every fingerprint field that differs."""
    fa, fb = _flat(a or {}), _flat(b or {})
    return [
        (k, fa.get(k), fb.get(k)) for k in sorted(fa.keys() | fb.keys()) if fa.get(k) != fb.get(k)
    ]
