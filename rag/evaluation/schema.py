"""The schema of evaluation files: golden questions and labelled groundedness claims.

Both are JSONL, one object a line, and both are checked the same way: every field has a declared
type, an unknown field or a missing required one is an error naming the file and line, and ids
are unique within a file. ``GOLDEN`` describes a golden question (committed sets and cases added
from feedback review alike); ``CLAIM`` a claim checked against its passage.
``validate_file`` checks any evaluation file, telling the two apart by their fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import DatasetError

MAX_TEXT = 4000  # characters in one question, answer or claim
MAX_ITEMS = 200  # entries in one list field

SUPPORTED_KINDS = ("verbatim", "paraphrase", "abbreviation", "computed")
UNSUPPORTED_KINDS = (
    "changed_number",
    "reversed_polarity",
    "negation",
    "swapped_entity",
    "wrong_period",
    "wrong_unit",
    "wrong_passage",
)
ORIGINS = ("curated", "feedback")


@dataclass(frozen=True)
class Field:
    """One field of a line: its type, whether it must be there, and the values it may take.

    ``kind`` is ``text`` (a string), ``bool``, ``page`` (a 1-based number, or null when
    ``nullable``), ``texts`` (a list of strings) or ``pages`` (a list of 1-based numbers).
    """

    kind: str
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    non_empty: bool = False


def _is_page(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _type_error(name: str, spec: Field, value: Any) -> str | None:
    """Why ``value`` does not fit ``spec`` (None when it does)."""
    if value is None and spec.nullable:
        return None
    if spec.kind == "text":
        if not isinstance(value, str):
            return f"'{name}' must be a string"
        if spec.non_empty and not value.strip():
            return f"'{name}' must not be empty"
        if len(value) > MAX_TEXT:
            return f"'{name}' is longer than {MAX_TEXT} characters"
        if spec.choices and value not in spec.choices:
            return f"'{name}' must be one of {', '.join(spec.choices)}, not {value!r}"
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            return f"'{name}' must be true or false"
    elif spec.kind == "page":
        if not _is_page(value):
            return f"'{name}' must be a 1-based page number" + (" or null" * spec.nullable)
    elif spec.kind in ("texts", "pages"):
        ok = _is_page if spec.kind == "pages" else lambda v: isinstance(v, str) and v.strip()
        what = "1-based page numbers" if spec.kind == "pages" else "non-empty strings"
        if not isinstance(value, list) or not all(ok(v) for v in value):
            return f"'{name}' must be a list of {what}"
        if len(value) > MAX_ITEMS:
            return f"'{name}' has more than {MAX_ITEMS} entries"
    return None


@dataclass(frozen=True)
class Schema:
    """The fields of one kind of evaluation line, and a check across them."""

    name: str
    fields: dict[str, Field]
    check: Callable[[dict[str, Any]], str | None] = lambda _record: None

    def validate(self, record: Any, where: str) -> dict[str, Any]:
        """Return ``record`` if it fits; else raise ``DatasetError`` naming ``where``."""
        if not isinstance(record, dict):
            raise DatasetError(
                f"{where}: a line must be a JSON object, not {type(record).__name__}."
            )
        if unknown := sorted(set(record) - set(self.fields)):
            allowed = ", ".join(self.fields)
            raise DatasetError(
                f"{where}: unknown field(s) {', '.join(unknown)} "
                f"(a {self.name} line has {allowed})."
            )
        if missing := [k for k, f in self.fields.items() if f.required and k not in record]:
            raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}.")
        for name, value in record.items():
            if problem := _type_error(name, self.fields[name], value):
                raise DatasetError(f"{where}: {problem}.")
        if problem := self.check(record):
            raise DatasetError(f"{where}: {problem}.")
        return record


def _golden_check(record: dict[str, Any]) -> str | None:
    if record["answerable"]:
        if not record.get("sources"):
            return "an answerable line needs 'sources' (file names)"
        if record.get("origin") == "feedback" and not (
            record.get("answer", "").strip() or record.get("key_facts")
        ):
            return "a case from feedback review needs the expected 'answer' or 'key_facts'"
    elif record.get("key_facts") or record.get("pages"):
        return "an unanswerable line has no 'key_facts' or 'pages'"
    if record.get("pages") and not record.get("sources"):
        return "'pages' need the 'sources' they are pages of"
    return None


GOLDEN = Schema(
    "golden question",
    {
        "id": Field("text", required=True, non_empty=True),
        "question": Field("text", required=True, non_empty=True),
        "answerable": Field("bool", required=True),
        "sources": Field("texts"),
        "pages": Field("pages"),
        "key_facts": Field("texts"),
        "answer": Field("text"),
        "origin": Field("text", choices=ORIGINS),
        "run_id": Field("text"),  # the rated answer a feedback case came from
        "reviewer": Field("text"),
        "added_at": Field("text"),
        "note": Field("text"),
    },
    _golden_check,
)


def _claim_check(record: dict[str, Any]) -> str | None:
    kinds = SUPPORTED_KINDS if record["label"] == "supported" else UNSUPPORTED_KINDS
    if record["kind"] not in kinds:
        return f"label {record['label']!r} with kind {record['kind']!r} is not valid"
    return None


CLAIM = Schema(
    "claim",
    {
        "id": Field("text", required=True, non_empty=True),
        "corpus": Field("text", required=True, non_empty=True),
        "source": Field("text", required=True, non_empty=True),
        "page": Field("page", required=True, nullable=True),
        "anchor": Field("text", required=True, non_empty=True),
        "claim": Field("text", required=True, non_empty=True),
        "label": Field("text", required=True, choices=("supported", "unsupported")),
        "kind": Field("text", required=True, choices=SUPPORTED_KINDS + UNSUPPORTED_KINDS),
        "note": Field("text"),
    },
    _claim_check,
)


def jsonl_records(path: Path, what: str = "Dataset") -> Iterator[tuple[str, Any]]:
    """Yield ``(where, record)`` for each non-blank line of a JSONL file ("name line N").

    A missing file or a line that is not JSON raises ``DatasetError`` naming it.
    """
    import json

    if not path.is_file():
        raise DatasetError(f"{what} {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{what} {path} is not UTF-8 text.") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name} line {lineno}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}).") from None


def validated(path: Path, schema: Schema, what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield each line of ``path`` checked against ``schema``; a repeated id is an error too."""
    seen: dict[str, str] = {}
    for where, record in jsonl_records(path, what):
        schema.validate(record, where)
        if (first := seen.setdefault(record["id"], where)) != where:
            raise DatasetError(f"{where}: id {record['id']!r} is already used on {first}.")
        yield where, record


def schema_of(path: Path) -> Schema:
    """Which schema a file's lines follow: claims have a 'claim' field, questions do not."""
    for _where, record in jsonl_records(path, "Evaluation file"):
        return CLAIM if isinstance(record, dict) and "claim" in record else GOLDEN
    raise DatasetError(f"Evaluation file {path} has no lines.")


def validate_file(path: str | Path) -> tuple[Schema, int]:
    """Check every line of a golden set or claims file; return its schema and line count."""
    path = Path(path)
    schema = schema_of(path)
    return schema, sum(1 for _ in validated(path, schema, "Evaluation file"))
