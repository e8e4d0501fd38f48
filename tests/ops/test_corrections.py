"""Corrections: a reviewed rating becomes a golden-set case, appended once per question."""

from __future__ import annotations

import json

import pytest

from rag.errors import FeedbackError, GroundworkError
from rag.ops.corrections import append_golden, golden_case
from rag.ops.feedback import get_feedback


def test_golden_case_and_append(db, tmp_path, rated):
    row = get_feedback(db, rated["b"])
    case = golden_case(row, " Staff get 27 days. ", ["handbook.pdf", "handbook.pdf"],
                       key_facts=["27 days", " "])  # fmt: skip
    assert case == {"id": "feedback-run-b", "question": "question b",
                    "answer": "Staff get 27 days.", "key_facts": ["27 days"],
                    "sources": ["handbook.pdf"], "answerable": True}  # fmt: skip
    path = tmp_path / "golden" / "feedback.jsonl"
    assert append_golden(path, case)
    assert not append_golden(path, case | {"question": "  QUESTION   b "})  # same question
    path.write_text(path.read_text().rstrip("\n"))  # a hand edit dropped the final newline
    assert append_golden(path, golden_case(get_feedback(db, rated["c"]), "x", []))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [c["question"] for c in lines] == ["question b", "question c"]
    with pytest.raises(FeedbackError, match="corrected answer") as caught:
        golden_case(row, "  ", [])
    assert isinstance(caught.value, GroundworkError)  # the Feedback page catches the root
