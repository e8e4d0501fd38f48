"""Golden sets: where evaluation may read, and the JSONL questions it is given.

A golden set is a JSONL file, one question a line: its ``id``, the ``question``, whether it is
``answerable``, the ``sources`` (file names) and optional ``pages`` and ``key_facts`` an answer
should show (the fields are :data:`rag.evaluation.schema.GOLDEN`). ``load_dataset`` validates
every line and names the file and line of a bad one; ``dataset_hash`` identifies its content.
The app reads golden sets and docs folders only inside ``settings.eval_roots``
(``allowed_eval_path``, ``golden_sets``); the CLI reads any path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.config import REPO, Settings
from rag.errors import DatasetError
from rag.evaluation.schema import GOLDEN, validated

# --- where evaluation may read ---------------------------------------------------------------


def allowed_eval_path(text: str | Path, settings: Settings, what: str = "Documents folder") -> Path:
    """Resolve a golden set or docs folder given in the app, inside ``settings.eval_roots``.

    Relative paths are from the project root. ``..`` and symlinks are resolved before the
    check, so they cannot lead outside. A path elsewhere raises ``DatasetError`` naming the
    allowed folders and the setting that adds one. (The CLI reads any path: its user has a shell.)
    """
    path = (REPO / Path(str(text).strip()).expanduser()).resolve()
    roots = settings.eval_roots
    if any(path.is_relative_to(root) for root in roots):
        return path
    shown = f"{text}" if Path(str(text).strip()) == path else f"{text} ({path})"
    allowed = ", ".join(str(root) for root in roots) or "none are configured"
    raise DatasetError(
        f"{what} {shown} is outside the folders evaluation may read ({allowed}). Choose a path "
        "inside one of them, or add its folder to GROUNDWORK_EVAL_DIRS."
    )


def golden_sets(settings: Settings) -> list[Path]:
    """The JSONL golden sets directly inside the allowed evaluation folders."""
    found: dict[Path, None] = {}
    for root in settings.eval_roots:
        for path in sorted(root.glob("*.jsonl")):
            if path.resolve().is_relative_to(root):  # a symlink out of the folder is not listed
                found.setdefault(path.resolve())
    return list(found)


# --- golden sets ------------------------------------------------------------------------------


@dataclass
class EvalCase:
    """One golden question."""

    question: str
    answerable: bool
    sources: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    answer: str = ""
    id: str = ""
    dataset: str = ""
    dataset_sha: str = ""  # the golden set's content hash (``dataset_hash``)


def _case(record: dict[str, Any], dataset: str) -> EvalCase:
    return EvalCase(
        question=record["question"].strip(),
        answerable=record["answerable"],
        sources=[Path(s.replace("\\", "/")).name for s in record.get("sources", [])],
        pages=record.get("pages", []),
        key_facts=record.get("key_facts", []),
        answer=record.get("answer", ""),
        id=record["id"],
        dataset=dataset,
    )


def load_dataset(path: str | Path, limit: int | None = None) -> list[EvalCase]:
    """Read a JSONL golden set (its first ``limit`` lines); a bad line raises ``DatasetError``."""
    path = Path(path)
    cases = []
    for _where, record in validated(path, GOLDEN, "Dataset"):
        cases.append(_case(record, path.name))
        if limit is not None and len(cases) >= limit:
            break
    if not cases:
        raise DatasetError(f"Dataset {path} has no questions.")
    sha = dataset_hash(path)
    for case in cases:
        case.dataset_sha = sha
    return cases


def dataset_hash(path: str | Path) -> str:
    """The SHA-256 of a golden set's bytes (first 16 hex digits): which version a run used."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
