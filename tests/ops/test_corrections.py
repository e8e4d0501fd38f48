"""Corrections: a reviewed rating becomes a golden-set case, appended once per question."""

from __future__ import annotations

import json

import pytest

from rag.errors import FeedbackError, GroundworkError
from rag.ops.corrections import append_golden, expected_sources, feedback_golden_set, golden_case
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"question": "q"}\nnot json\n', "line 2 of the golden set .* is not a JSON case"),
        ('["a list, not a case"]\n', "line 1 of the golden set .* is not a JSON case"),
        (b"\xff\xfe broken", "is not UTF-8 text"),
    ],
)
def test_a_broken_golden_set_is_a_clear_error_and_left_as_it_was(tmp_path, content, message):
    path = tmp_path / "feedback.jsonl"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    before = path.read_bytes()
    case = {"id": "c1", "question": "new question", "answer": "a"}
    with pytest.raises(FeedbackError, match=message):
        append_golden(path, case)
    assert path.read_bytes() == before  # nothing appended to a file that could not be read


def test_an_unwritable_golden_set_is_a_clear_error(tmp_path):
    blocker = tmp_path / "golden"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(FeedbackError, match="cannot be written.*writable"):
        append_golden(blocker / "feedback.jsonl", {"question": "q", "answer": "a"})


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"cited_sources": ["b.pdf"], "passages": [{"source": "a.pdf"}, {"source": "b.pdf"}]},
         ["b.pdf", "a.pdf"]),
        ({"cited_sources": [], "passages": [{"source": ""}, {"source": "a.pdf"}, {}]}, ["a.pdf"]),
        ({"cited_sources": ["", "c.md"], "passages": []}, ["c.md"]),
        ({}, []),
    ],
)  # fmt: skip
def test_expected_sources_cited_first_then_retrieved_each_once(row, expected):
    assert expected_sources(row) == expected


def test_feedback_golden_set_lives_in_the_data_folder(tmp_path):
    from rag.config import Settings

    assert (
        feedback_golden_set(Settings(data_dir=tmp_path)) == tmp_path / "golden" / "feedback.jsonl"
    )
