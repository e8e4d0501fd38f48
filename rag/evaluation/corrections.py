"""Golden cases from feedback review: a reviewed rating becomes a case of a golden set.

The reviewer says what the case expects: that the documents answer the question (the expected
answer or key facts, and the source and pages that hold them) or that they do not
(``answerable: false``). ``golden_case`` builds that case and checks it against
:data:`rag.evaluation.schema.GOLDEN` before anything is written. ``append_golden`` adds it to a
JSONL golden set unless its question (or the rated answer) is already there, refuses a file with
a line that does not follow the schema, and locks the file so that two reviewers adding at once
never interleave lines. ``expected_sources`` orders the documents a reviewer may pick from.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from rag.config import Settings
from rag.errors import DatasetError, FeedbackError
from rag.evaluation.schema import GOLDEN, MAX_ITEMS
from rag.index.registry import list_documents
from rag.ops.runlog import dumps

MAX_PAGES_TEXT = 500  # characters of a typed page list that are read


def golden_case(
    row: Mapping[str, Any],
    *,
    answerable: bool,
    answer: str = "",
    key_facts: Iterable[str] = (),
    sources: Iterable[str] = (),
    pages: Iterable[int] = (),
    reviewer: str = "",
    note: str = "",
    question: str | None = None,
) -> dict[str, Any]:
    """Turn a reviewed rating into a golden-set case, checked against the schema.

    Args:
        row: the rating (``get_feedback``): its question and run id are used, never its answer.
        answerable: whether the documents answer the question.
        answer, key_facts: what a right answer says (answerable cases need one of them).
        sources, pages: the documents (and their 1-based pages) that hold the answer.
        reviewer, note: who reviewed it, and why, kept with the case.
        question: the reviewer's wording (default: the rated question, whose personal data
            is stored as placeholders that the documents may need spelled out).

    Raises:
        FeedbackError: the case is incomplete or contradictory; the message says what to fix.
    """
    question = (row.get("question") if question is None else question) or ""
    question = question.strip()
    if not question:
        raise FeedbackError("this rating has no question, so there is nothing to add")
    expected = {
        "answer": (answer or "").strip(),
        "key_facts": _texts(key_facts),
        "sources": _texts(sources),
        "pages": list(dict.fromkeys(pages)),
    }
    _check_choice(answerable, expected)
    case: dict[str, Any] = {"id": case_id(row), "question": question, "answerable": answerable}
    if answerable:
        case |= expected
    run_id = row.get("run_id")
    case |= {
        "origin": "feedback",
        **({"run_id": str(run_id)} if run_id else {}),
        "reviewer": (reviewer or "").strip(),
        "added_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": (note or "").strip(),
    }
    return _checked(case, "the new case")


def case_id(row: Mapping[str, Any]) -> str:
    """A stable id for the case made from a rating: from its run id (the rated answer)."""
    run_id = row.get("run_id")
    return f"feedback-{str(run_id)[:12]}" if run_id else f"feedback-rating-{row.get('id')}"


def _texts(values: Iterable[str]) -> list[str]:
    """Stripped, non-empty, each once, in the order given."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _check_choice(answerable: bool, expected: dict[str, Any]) -> None:
    """Say in the reviewer's words what is missing or contradictory."""
    if answerable:
        if not expected["sources"]:
            raise FeedbackError("choose the source that answers it")
        if not (expected["answer"] or expected["key_facts"]):
            raise FeedbackError("write the expected answer or at least one key fact")
        if bad := [p for p in expected["pages"] if not _is_page(p)]:
            raise FeedbackError(f"pages are numbers from 1, not {bad[0]!r}")
    elif any(expected.values()):
        raise FeedbackError(
            "a question the documents do not answer has no expected answer, key facts, source "
            "or pages; clear them, or choose that the documents answer it"
        )


def _is_page(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _checked(case: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        return GOLDEN.validate(case, where)
    except DatasetError as exc:
        raise FeedbackError(str(exc).rstrip(".")) from exc


def parse_pages(text: str) -> list[int]:
    """Read typed pages ("12, 14" or "3-5") as 1-based page numbers, each once, in order.

    Raises:
        FeedbackError: a part is not a page number from 1 or a range of them.
    """
    text = (text or "").strip()
    if len(text) > MAX_PAGES_TEXT:
        raise FeedbackError(f"the pages are longer than {MAX_PAGES_TEXT} characters")
    pages: list[int] = []
    for part in filter(None, re.split(r"[,;\s]+", text)):
        match = re.fullmatch(r"(\d{1,6})(?:[-–](\d{1,6}))?", part)
        first, last = (int(match[1]), int(match[2] or match[1])) if match else (0, 0)
        if not match or first < 1 or last < first:
            raise FeedbackError(
                f"pages are page numbers from 1 separated by commas (e.g. 12, 14 or 3-5), "
                f"not {part[:20]!r}"
            )
        pages.extend(range(first, last + 1))
        if len(pages) > MAX_ITEMS:
            raise FeedbackError(f"a case lists at most {MAX_ITEMS} pages")
    return list(dict.fromkeys(pages))


def expected_sources(row: Mapping[str, Any], documents: Iterable[str] = ()) -> list[str]:
    """The sources a reviewer may pick: the cited ones, the retrieved ones, then every other
    document in ``documents`` (alphabetically), each once."""
    passages = [p for p in row.get("passages") or [] if isinstance(p, Mapping)]
    named = [*(row.get("cited_sources") or []), *(p.get("source") for p in passages)]
    first = [s for s in dict.fromkeys(named) if isinstance(s, str) and s]
    rest = sorted({d for d in documents if d and d not in first}, key=str.casefold)
    return first + rest


def registered_documents(db: sqlite_utils.Database) -> list[str]:
    """The names of the documents in the store's registry (what citations call them)."""
    if "documents" not in db.table_names():  # nothing has been ingested yet
        return []
    return sorted({d["filename"] for d in list_documents(db)}, key=str.casefold)


def feedback_golden_set(settings: Settings) -> Path:
    """Where reviewed cases are collected (a golden set the Evaluation page can run)."""
    return settings.data_dir / "golden" / "feedback.jsonl"


def append_golden(path: str | Path, case: Mapping[str, Any]) -> bool:
    """Append ``case`` to a JSONL golden set; False (nothing written) if it is there already.

    A case is there already when a line has the same question (ignoring case and spacing) or
    the same id (the same rated answer).

    Raises:
        FeedbackError: the case or a line of the file does not follow the golden-set schema
            (the line is named), or the file cannot be read or written.
    """
    path = Path(path)
    case = _checked(dict(case), "the new case")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # two reviewers adding at once must not interleave lines
            try:
                return _append_new(f, case)
            finally:
                f.flush()  # the line must be in the file before the next reviewer reads it
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


def _question_key(question: str) -> str:
    return " ".join(question.casefold().split())


def _append_new(f: IO[str], case: dict[str, Any]) -> bool:
    key = _question_key(case["question"])
    f.seek(0)
    text = f.read()
    present = False
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record = _record(line, number, f.name)
        if (first := seen.setdefault(record["id"], number)) != number:
            raise FeedbackError(
                f"line {number} of the golden set {f.name} repeats the id {record['id']!r} of "
                f"line {first}; fix or remove that line, then add the case again"
            )
        present |= record["id"] == case["id"] or _question_key(record["question"]) == key
    if present:  # every line is still checked first: a broken file is named, not grown
        return False
    # a hand-edited file may lack its final newline; do not glue two cases together
    f.write(("\n" if text and not text.endswith("\n") else "") + dumps(case) + "\n")
    return True


def _record(line: str, number: int, path: str) -> dict[str, Any]:
    """One line of the file, which must follow the golden-set schema."""
    where = f"line {number} of the golden set {path}"
    try:
        return GOLDEN.validate(json.loads(line), where)
    except json.JSONDecodeError as exc:
        raise FeedbackError(
            f"{where} is not JSON ({exc.msg}); fix or remove that line, then add the case again"
        ) from exc
    except DatasetError as exc:
        raise FeedbackError(
            f"{str(exc).rstrip('.')}; fix or remove that line, then add the case again"
        ) from exc
