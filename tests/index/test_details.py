"""Document details as typed on the Documents page: review dates, owner and context edits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rag.index import context_changes, document_details, is_overdue, review_date


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2025-03-01", date(2025, 3, 1)),
        ("2025-03-01T00:00:00+00:00", date(2025, 3, 1)),
        ("", None),
        (None, None),
        ("next spring", None),
        ("2025-13-40", None),
    ],
)
def test_review_date_reads_what_is_stored(stored, expected):
    assert review_date(stored) == expected


def test_is_overdue_only_for_a_past_date():
    today = date.today()
    assert is_overdue((today - timedelta(days=1)).isoformat())
    assert not is_overdue(today.isoformat())
    assert not is_overdue("not a date") and not is_overdue(None)


def test_document_details_are_trimmed_with_an_iso_review_date():
    assert document_details("  HR team ", " policies", date(2026, 1, 31)) == {
        "owner": "HR team",
        "collection": "policies",
        "review_by": "2026-01-31",
    }
    assert document_details("", "", None)["review_by"] == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({"title": "Annual report", "subject": "Acme Inc.", "period": ""}, {}),
        ({"title": " Annual report 2024 ", "subject": "Acme Inc.", "period": ""},
         {"title": "Annual report 2024"}),
        ({"title": "Annual report", "subject": "", "period": ""}, {"subject": ""}),
        ({"title": "Annual report", "subject": "Acme Inc.", "period": "FY2024"},
         {"period": "FY2024"}),
    ],
)  # fmt: skip
def test_context_changes_are_the_fields_typed_differently(typed, expected):
    derived = {"title": "Annual report", "subject": "Acme Inc.", "period": None}
    assert context_changes(derived, **typed) == expected
