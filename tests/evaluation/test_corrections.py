"""Golden cases from feedback review: the reviewer's choice becomes a schema-valid case,
appended once per question to a golden set whose every line follows the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import FeedbackError, GroundworkError
from rag.evaluation.corrections import (
    append_golden,
    expected_sources,
    feedback_golden_set,
    golden_case,
    parse_pages,
    registered_documents,
)
from rag.evaluation.golden import golden_sets, load_dataset
from rag.evaluation.schema import GOLDEN, MAX_TEXT
from rag.ops.database import open_db
from rag.ops.feedback import get_feedback, record_feedback
from tests.ops.conftest import run_in_processes
from tests.ops.test_runlog import make_run

WRONG = "Staff get 25 days of annual leave [1]."


@pytest.fixture
def row(tmp_path):
    """A thumbs-down on a wrong answer, read back from a real database."""
    db = open_db(tmp_path / "app.db")
    run = make_run(run_id="0123456789abcdef0123", answer=WRONG, cited_sources=["handbook.pdf"])
    rating = get_feedback(db, record_feedback(db, run, 0, "incorrect", None, "ana"))
    db.close()
    return rating


def test_an_answerable_case_holds_what_the_reviewer_chose(row):
    case = golden_case(
        row,
        answerable=True,
        answer=" Staff get 27 days. ",
        key_facts=["27 days", " ", "27 days", "pro rata"],
        sources=["leave-policy.pdf", "leave-policy.pdf"],
        pages=[3, 4, 3],
        reviewer="lead@example.org",
        note=" the table on page 3 ",
    )
    added_at = datetime.fromisoformat(case.pop("added_at"))
    assert added_at.utcoffset() == UTC.utcoffset(None)
    assert case == {
        "id": "feedback-0123456789ab",
        "question": "How many days of annual leave do staff get?",
        "answerable": True,
        "answer": "Staff get 27 days.",
        "key_facts": ["27 days", "pro rata"],
        "sources": ["leave-policy.pdf"],
        "pages": [3, 4],
        "origin": "feedback",
        "run_id": "0123456789abcdef0123",
        "reviewer": "lead@example.org",
        "note": "the table on page 3",
    }
    assert WRONG not in json.dumps(case)  # the rated answer is never the expected one


def test_an_unanswerable_case_has_no_source_pages_or_facts(row):
    case = golden_case(row, answerable=False, reviewer="lead", note="not in any policy")
    assert case["answerable"] is False and case["origin"] == "feedback"
    assert not {"sources", "pages", "key_facts", "answer"} & set(case)
    assert GOLDEN.validate(case, "here") == case
    assert case["id"] == golden_case(row, answerable=False)["id"]  # stable for the rated answer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answerable": True, "answer": "27 days"}, "^choose the source that answers it$"),
        ({"answerable": True, "sources": ["a.pdf"], "answer": " ", "key_facts": [" "]},
         "write the expected answer or at least one key fact"),
        ({"answerable": True, "sources": ["a.pdf"], "answer": "x", "pages": [0]},
         "pages are numbers from 1, not 0"),
        ({"answerable": True, "sources": ["a.pdf"], "answer": "x", "pages": [True]},
         "pages are numbers from 1"),
        ({"answerable": True, "sources": ["a.pdf"], "answer": "x" * (MAX_TEXT + 1)},
         "'answer' is longer than 4000 characters"),
        ({"answerable": False, "key_facts": ["27 days"]}, "do not answer has no expected answer"),
        ({"answerable": False, "sources": ["a.pdf"]}, "clear them, or choose"),
        ({"answerable": False, "pages": [2]}, "do not answer has no"),
        ({"answerable": False, "answer": "27"}, "do not answer has no"),
    ],
)  # fmt: skip
def test_an_incomplete_or_contradictory_case_is_refused_in_the_reviewers_words(
    row, change, message
):
    with pytest.raises(FeedbackError, match=message) as caught:
        golden_case(row, **change)
    assert isinstance(caught.value, GroundworkError)  # the Feedback page catches the root


def test_a_rating_without_a_question_makes_no_case(row):
    with pytest.raises(FeedbackError, match="no question"):
        golden_case(row | {"question": "  "}, answerable=False)


@pytest.mark.parametrize(
    ("text", "pages"),
    [("", []), ("12, 14", [12, 14]), ("3-5", [3, 4, 5]), ("3–5; 9", [3, 4, 5, 9]),
     ("7 7 2", [7, 2]), (" 1 ,", [1])],
)  # fmt: skip
def test_typed_pages_are_read_as_1_based_numbers(text, pages):
    assert parse_pages(text) == pages


@pytest.mark.parametrize("text", ["0", "twelve", "5-3", "-1", "1.5", "12,,x", "1-500", "9" * 501])
def test_a_mistyped_page_is_refused(text):
    with pytest.raises(FeedbackError, match="page"):
        parse_pages(text)


def test_cases_are_appended_once_and_the_file_loads_as_a_golden_set(row, tmp_path):
    path = tmp_path / "golden" / "feedback.jsonl"
    answered = golden_case(row, answerable=True, sources=["a.pdf"], key_facts=["27 days"])
    assert append_golden(path, answered)
    assert not append_golden(path, answered | {"question": "  how MANY days of annual leave "
                                                            "do staff   get? "})  # fmt: skip
    assert not append_golden(path, answered | {"question": "Reworded by hand"})  # same id
    path.write_text(path.read_text().rstrip("\n"))  # a hand edit dropped the final newline
    other = golden_case(
        row | {"question": "Is there a dress code?", "run_id": "feedbeefcafe99"}, answerable=False
    )
    assert append_golden(path, other)
    cases = load_dataset(path)
    assert [(c.id, c.answerable, c.sources, c.key_facts) for c in cases] == [
        ("feedback-0123456789ab", True, ["a.pdf"], ["27 days"]),
        ("feedback-feedbeefcafe", False, [], []),
    ]


def test_a_case_that_does_not_follow_the_schema_is_not_written(tmp_path):
    path = tmp_path / "feedback.jsonl"
    with pytest.raises(FeedbackError, match="the new case: missing field.*answerable"):
        append_golden(path, {"id": "c1", "question": "q"})
    assert not path.exists()


GOOD = json.dumps({"id": "g1", "question": "Where is the VPN guide?", "answerable": False})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{GOOD}\nnot json\n", "line 2 of the golden set .* is not JSON"),
        ('["a list, not a case"]\n', "line 1 of the golden set .*must be a JSON object"),
        (f'{GOOD}\n\n{{"id": "g2", "question": "q", "answerable": false, "extra": 1}}\n',
         "line 3 of the golden set .*unknown field.*extra"),
        ('{"question": "q", "answerable": false}\n', "line 1 of .*missing field.*id"),
        ('{"id": "g2", "question": "q", "answerable": true}\n', "line 1 of .*needs 'sources'"),
        (f"{GOOD}\n{GOOD.replace('VPN', 'HR')}\n", "line 2 .* repeats the id 'g1' of line 1"),
        (b"\xff\xfe broken", "is not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_golden_set_with_a_bad_line_is_refused_naming_the_line(tmp_path, content, message):
    path = tmp_path / "feedback.jsonl"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    before = path.read_bytes()
    case = {"id": "c1", "question": "new question", "answerable": False}
    with pytest.raises(FeedbackError, match=message) as caught:
        append_golden(path, case)
    assert "fix or remove that line" in str(caught.value) or b"\xff" in before
    assert path.read_bytes() == before  # nothing appended to a file that could not be read


def test_an_unwritable_golden_set_is_a_clear_error(tmp_path):
    blocker = tmp_path / "golden"
    blocker.write_text("a file where the folder should be")
    case = {"id": "c1", "question": "q", "answerable": False}
    with pytest.raises(FeedbackError, match="cannot be written.*writable"):
        append_golden(blocker / "feedback.jsonl", case)


WORKERS, ROUNDS = 8, 20


def _append_cases(path: Path, worker: int) -> None:
    """Worker: once every worker has started, add a case of its own and one question every
    worker adds, round after round."""
    import time

    (path.parent / f"ready-{worker}").touch()
    deadline = time.monotonic() + 120  # spawned workers start seconds apart: start together
    while len(list(path.parent.glob("ready-*"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.01)
    for n in range(ROUNDS):
        question = f"worker {worker} question {n} " + "padding " * 200  # long lines
        append_golden(path, {"id": f"w{worker}-{n}", "question": question, "answerable": False})
        shared = {"id": f"shared-{n}-{worker}", "question": f"Shared {n}?", "answerable": False}
        append_golden(path, shared)


def test_concurrent_appends_neither_interleave_nor_duplicate(tmp_path):
    path = tmp_path / "golden" / "feedback.jsonl"
    path.parent.mkdir()
    run_in_processes(_append_cases, path, workers=WORKERS)
    cases = load_dataset(path)  # every line whole and valid, every id once
    own = {c.id for c in cases if c.id.startswith("w")}
    assert own == {f"w{w}-{n}" for w in range(WORKERS) for n in range(ROUNDS)}
    shared = sorted(c.question for c in cases if c.question.startswith("Shared"))
    assert shared == sorted(f"Shared {n}?" for n in range(ROUNDS))  # each added once
    assert len(cases) == WORKERS * ROUNDS + ROUNDS


@pytest.mark.parametrize(
    ("rating", "documents", "expected"),
    [
        ({"cited_sources": ["b.pdf"], "passages": [{"source": "a.pdf"}, {"source": "b.pdf"}]},
         ["z.md", "b.pdf", "C.docx", "a.pdf"], ["b.pdf", "a.pdf", "C.docx", "z.md"]),
        ({"cited_sources": [], "passages": [{"source": ""}, {"source": "a.pdf"}, {}]}, [],
         ["a.pdf"]),
        ({"cited_sources": ["", "c.md"], "passages": None}, ["", "c.md"], ["c.md"]),
        ({}, ["only.md"], ["only.md"]),
        ({}, [], []),
    ],
)  # fmt: skip
def test_expected_sources_cited_then_retrieved_then_every_other_document(
    rating, documents, expected
):
    assert expected_sources(rating, documents) == expected


def test_registered_documents_are_the_names_citations_use(store, settings):
    from rag.index import ingest_file

    assert registered_documents(open_db(settings.data_dir / "empty.db")) == []
    for name in ("vpn.md", "Leave policy.md"):
        report = ingest_file(store, name, f"# {name}\n\nStaff get 27 days of leave.\n".encode())
        assert report.status == "ingested"
    assert registered_documents(store.db) == ["Leave policy.md", "vpn.md"]


def test_the_feedback_golden_set_is_one_the_evaluation_page_lists(tmp_path):
    settings = Settings(data_dir=tmp_path)
    path = feedback_golden_set(settings)
    assert path == tmp_path / "golden" / "feedback.jsonl"
    append_golden(path, {"id": "c1", "question": "q", "answerable": False})
    assert path.resolve() in golden_sets(settings)
