"""The user's own words for local steps only: placeholders restored outside any trace.

Traced steps (the chain's inputs, the retriever's query, the prompt) see the question with its
personal data redacted. Retrieval runs locally and finds more with the words the user typed, so
the answer pipeline puts the conversation's placeholder mapping in a context variable, and the
retriever restores the query from it inside the step, where no trace records it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

from rag.guardrails.redaction import restore

_MAPPING: ContextVar[dict[str, str] | None] = ContextVar("groundwork_private_mapping", default=None)


@contextmanager
def private_values(mapping: dict[str, str]) -> Iterator[None]:
    """Make ``mapping`` (placeholder → original) available to local steps run inside."""
    token = _MAPPING.set(dict(mapping))
    try:
        yield
    finally:
        # A stream abandoned and closed from another context has nothing to undo here.
        with suppress(ValueError):
            _MAPPING.reset(token)


def unredacted(text: str) -> str:
    """``text`` with the current conversation's placeholders put back (for local use only)."""
    return restore(text, _MAPPING.get() or {})


_ESCAPED_PLACEHOLDER = re.compile(r"\\?<([A-Z]+)\\?_(\d+)\\?>")


def restore_markdown(markdown: str, mapping: dict[str, str], escape) -> str:
    """Put the user's own words back into rendered Markdown (placeholders may be escaped).

    ``escape`` is the Markdown escaper the text was rendered with; the original value is
    escaped the same way, so restoring never makes anything in it live.
    """
    if not mapping:
        return markdown

    def put_back(match: re.Match[str]) -> str:
        key = f"<{match.group(1)}_{match.group(2)}>"
        return escape(mapping[key]) if key in mapping else match.group(0)

    return _ESCAPED_PLACEHOLDER.sub(put_back, markdown)
