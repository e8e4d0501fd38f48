"""Sample handbook passages shared by the verification and evidence tests."""

from __future__ import annotations

from rag.types import Passage


def passage(text: str, n: int = 1, source: str = "handbook.md") -> Passage:
    """A passage numbered ``n`` of ``source``."""
    return Passage(chunk_id=f"c{n}", doc_id="d", source=source, page=1, section="", text=text)


LEAVE = passage(
    "New employees accrue 4 hours of annual leave per pay period. Employees get 25 days of "
    "leave in their first year. Leave requests should be submitted at least three business "
    "days in advance.",
    1,
)
TRAVEL = passage(
    "Travel must be booked in Concur at least 14 days before departure. The Travel Office, "
    "led by Jane Doe, approves all international trips. Per diem rates are set by GSA.",
    2,
)
PARENTAL = passage(
    "Paid parental leave gives employees 12 weeks of paid leave after the birth or placement "
    "of a child. You must have worked for 12 months to qualify.",
    3,
)
PASSAGES = [LEAVE, TRAVEL, PARENTAL]
