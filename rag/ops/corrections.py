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
from typing import Any

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


def append_golden(path: str | Path, case: Mapping[str, Any]) -> bool:
    """Append ``case`` to a JSONL golden set; False (nothing written) if its question is there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = _question_key(case["question"])
    with path.open("a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # two reviewers adding at once must not interleave lines
        try:
            f.seek(0)
            text = f.read()
            for line in text.splitlines():
                if line.strip() and _question_key(json.loads(line).get("question", "")) == key:
                    return False
            # a hand-edited file may lack its final newline; do not glue two cases together
            f.write(("\n" if text and not text.endswith("\n") else "") + dumps(dict(case)) + "\n")
            return True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
