"""Corrections from feedback review: a reviewed rating becomes a case of the golden set.

``golden_case`` turns a rating and the reviewer's corrected answer into an evaluation case;
``append_golden`` adds it to a JSONL golden set unless its question is already there, with the
file locked so that two reviewers adding at once never interleave lines.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from rag.config import Settings
from rag.errors import FeedbackError
from rag.ops.runlog import dumps


def golden_case(
    row: Mapping[str, Any],
    corrected_answer: str,
    expected_sources: Iterable[str],
    *,
    key_facts: Iterable[str] = (),
) -> dict[str, Any]:
    """Turn a reviewed rating into an evaluation case for the golden set."""
    question = (row.get("question") or "").strip()
    answer = (corrected_answer or "").strip()
    if not question or not answer:
        raise FeedbackError(
            "a golden case needs the question and a corrected answer; write the corrected answer"
        )
    case_id = f"feedback-{(row.get('run_id') or str(row.get('id')))[:12]}"
    return {
        "id": case_id,
        "question": question,
        "answer": answer,
        "key_facts": [f.strip() for f in key_facts if f.strip()],
        "sources": list(dict.fromkeys(expected_sources)),
        "answerable": True,
    }


def _question_key(question: str) -> str:
    return " ".join(question.casefold().split())


def expected_sources(row: Mapping[str, Any]) -> list[str]:
    """The sources a reviewer may pick for a case: the cited ones, then the retrieved ones."""
    retrieved = [p.get("source") for p in row.get("passages") or []]
    return [s for s in dict.fromkeys([*(row.get("cited_sources") or []), *retrieved]) if s]


def feedback_golden_set(settings: Settings) -> Path:
    """Where reviewed corrections are collected (a golden set the Evaluation page can run)."""
    return settings.data_dir / "golden" / "feedback.jsonl"


def append_golden(path: str | Path, case: Mapping[str, Any]) -> bool:
    """Append ``case`` to a JSONL golden set; False (nothing written) if its question is there.

    Raises:
        FeedbackError: the file cannot be written, or a line of it is not JSON.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # two reviewers adding at once must not interleave lines
            try:
                return _append_new(f, case)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    except OSError as exc:
        raise FeedbackError(
            f"the golden set {path} cannot be written ({exc.strerror or exc}); check that the "
            "data folder is writable"
        ) from exc
    except UnicodeDecodeError as exc:
        raise FeedbackError(
            f"the golden set {path} is not UTF-8 text; save it as UTF-8, then add the case again"
        ) from exc


def _append_new(f: IO[str], case: Mapping[str, Any]) -> bool:
    key = _question_key(case["question"])
    f.seek(0)
    text = f.read()
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and _question_key(_case(line, number, f.name)) == key:
            return False
    # a hand-edited file may lack its final newline; do not glue two cases together
    f.write(("\n" if text and not text.endswith("\n") else "") + dumps(dict(case)) + "\n")
    return True


def _case(line: str, number: int, path: str) -> str:
    try:
        return json.loads(line).get("question", "")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise FeedbackError(
            f"line {number} of the golden set {path} is not a JSON case; fix or remove that "
            "line, then add the case again"
        ) from exc
