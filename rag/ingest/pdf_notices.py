"""pypdf's notices about a damaged PDF, turned into the file's ingest warnings.

pypdf repairs what it can in a broken file and says so through its loggers ("Ignoring wrong
pointing object 2 0 (offset 116)", once per object). With no logging set up, Python prints those
on stderr, where nobody reading a file's report sees them. While a file is read under
:func:`pypdf_notices`, a filter on pypdf's loggers takes the reading thread's notices out of
logging, and :func:`describe` counts them by kind into a few warnings for the file's report.
Notices from other threads (another upload, another reader) are logged as before.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SHOWN = 5  # kinds of notice listed one by one; the rest are counted together

# Notices that have a plain-language line of their own, by pypdf's message template.
_BROKEN_REFERENCE = "Ignoring wrong pointing object %(id)d %(gen)d (offset %(offset)d)"
# pypdf finding an object by searching the file: the repair of a broken reference, not news.
_FOUND_BY_SEARCH = "Object %(idnum)d %(generation)d found"

_local = threading.local()
_attach_lock = threading.Lock()
_attached = False


class _Collector(logging.Filter):
    """Take a pypdf record out of logging when its thread is collecting, into the collection."""

    def filter(self, record: logging.LogRecord) -> bool:
        collected = getattr(_local, "records", None)
        if collected is None:
            return True
        collected.append(record)
        return False


_COLLECTOR = _Collector()


def _attach() -> None:
    """Put the collector on the logger of every pypdf module (once).

    pypdf logs under each module's name (``pypdf._reader``, ``pypdf.filters``), and a logger's
    filters see only the records logged on it. The names come from pypdf's files, not from the
    modules loaded so far: some (``pypdf.filters``) are imported only while a file is read.
    """
    global _attached
    with _attach_lock:
        if _attached:
            return
        for name in _module_names():
            logging.getLogger(name).addFilter(_COLLECTOR)
        _attached = True


def _module_names() -> list[str]:
    """Return the names of pypdf's modules and packages, read from its installed files."""
    import pypdf

    root = Path(pypdf.__file__).parent
    names = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(("pypdf", *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return names


@contextmanager
def pypdf_notices() -> Iterator[list[logging.LogRecord]]:
    """Collect the pypdf log records this thread emits inside the block, instead of logging."""
    _attach()
    outer = getattr(_local, "records", None)
    _local.records = records = []
    try:
        yield records
    finally:
        _local.records = outer


def describe(records: list[logging.LogRecord]) -> list[str]:
    """Return the warnings that sum up pypdf's notices: one per kind, counted, deduplicated."""
    kinds = Counter(record.msg for record in records)
    warnings = []
    if broken := kinds.pop(_BROKEN_REFERENCE, 0):
        noun = "reference" if broken == 1 else "references"
        warnings.append(f"the PDF has {broken} broken object {noun} (repaired while reading).")
        kinds.pop(_FOUND_BY_SEARCH, None)
    first = {}
    for record in records:
        first.setdefault(record.msg, record)
    for template, count in kinds.most_common(_SHOWN):
        times = f" ({count} times)" if count > 1 else ""
        warnings.append(f"pypdf: {_message(first[template])}{times}")
    if rest := sum(count for _, count in kinds.most_common()[_SHOWN:]):
        warnings.append(f"pypdf: {rest} other repair notices.")
    return warnings


def _message(record: logging.LogRecord) -> str:
    """Return a record's message, or its template when its arguments do not fit."""
    try:
        return record.getMessage()
    except (TypeError, ValueError, KeyError):
        return str(record.msg)
