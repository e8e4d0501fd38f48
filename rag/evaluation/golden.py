"""Golden sets: where evaluation may read, and the JSONL questions it is given.

A golden set is a JSONL file, one question a line: the ``question``, whether it is
``answerable``, the ``sources`` (file names) and optional ``pages`` and ``key_facts`` an answer
should show. ``load_dataset`` validates every line and names the file and line of a bad one.
The app reads golden sets and docs folders only inside ``settings.eval_roots``
(``allowed_eval_path``, ``golden_sets``); the CLI reads any path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.config import REPO, Settings
from rag.errors import DatasetError

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


def _case(record: Any, where: str, dataset: str) -> EvalCase:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a line must be a JSON object, not {type(record).__name__}.")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string.")
    answerable = record.get("answerable")
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: 'answerable' must be true or false.")
    lists = {}
    for key, kind in (("sources", str), ("key_facts", str), ("pages", int)):
        value = record.get(key) or []
        if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value
        ):
            raise DatasetError(f"{where}: '{key}' must be a list of {kind.__name__}s.")
        lists[key] = value
    if answerable and not lists["sources"]:
        raise DatasetError(f"{where}: an answerable line needs 'sources' (file names).")
    if any(p < 1 for p in lists["pages"]):
        raise DatasetError(f"{where}: 'pages' are 1-based page numbers.")
    return EvalCase(
        question=question.strip(),
        answerable=answerable,
        sources=[Path(s.replace("\\", "/")).name for s in lists["sources"]],
        pages=lists["pages"],
        key_facts=lists["key_facts"],
        answer=str(record.get("answer") or ""),
        id=str(record.get("id") or where),
        dataset=dataset,
    )


def jsonl_records(path: Path, what: str = "Dataset") -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)`` for each non-blank line of a JSONL file ("name line N").

    A missing file or a line that is not JSON raises ``DatasetError`` naming it.
    """
    if not path.is_file():
        raise DatasetError(f"{what} {path} does not exist.")
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name} line {lineno}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}).") from None


def load_dataset(path: str | Path, limit: int | None = None) -> list[EvalCase]:
    """Read a JSONL golden set (its first ``limit`` lines); a bad line raises ``DatasetError``."""
    path = Path(path)
    cases = []
    for where, record in jsonl_records(path):
        cases.append(_case(record, where, path.name))
        if limit is not None and len(cases) >= limit:
            break
    if not cases:
        raise DatasetError(f"Dataset {path} has no questions.")
    return cases
