"""Table rows as labelled lines of text, and placing them into a page's text.

A found :class:`Table` writes each row as one line::

    Operating expenses: Research and development | Years Ended December 2, 2016: 975,987 | ...

the row label (its leftmost text, after the section line it is indented under) then each value
with its column header. :func:`merge_rows` writes those lines into the page text in place of the
lines they were read from (rows it cannot place go after the page text), so chunks and citations,
which are exact slices of the page text, carry whole labelled rows. :func:`parse_row` reads such
a line back (to show quoted rows as a table).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.ingest.layout import VALUE

SEPARATOR = " | "

_LOOSE_MATCH = 16  # letters and digits a row needs to be matched anywhere inside a line
_CLOSE = 8  # letters and digits that may separate a row from the previous one in the text
_MAX_TRIES = 50  # occurrences of a row's letters and digits examined (bounds a hostile page)
# signs around a row's letters and digits that belong to its text: "$ (1,508)", "7 %"
_SIGNS_BEFORE = re.compile(r"(?:[$€£¥(\-−–][ \t]*)+\Z")
_SIGNS_AFTER = re.compile(r"(?:[ \t]*[)%])+")
_NUMERIC_TOKEN = re.compile(r"(?<!\S)\(?[-−–]?[$€£¥]?\d[\d,]*(?:\.\d+)?\)?%?(?!\S)")


@dataclass
class Row:
    """One table row: its label, one value per column ("" when empty), its printed text."""

    label: str
    values: list[str]
    source: str  # its cells' text as printed, to find it in the page text


@dataclass
class Table:
    """Column headers (one per column, "" when none was found) and rows."""

    headers: list[str]
    rows: list[Row] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Each row as one labelled line of text."""
        return [
            format_row(row.label, list(zip(self.headers, row.values, strict=True)))
            for row in self.rows
        ]


def format_row(label: str, cells: list[tuple[str, str]]) -> str:
    """One labelled row: ``label | header: value | ...`` (empty values are left out)."""
    parts = [_plain(label)] if label else []
    for header, value in cells:
        if value:
            header = _plain(header)
            parts.append(f"{header}: {_plain(value)}" if header else _plain(value))
    return SEPARATOR.join(parts)


def _plain(text: str) -> str:
    # the separator must stay unambiguous: a pipe in the document's text becomes a slash
    return " ".join(text.replace("|", "/").split())


def parse_row(line: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Read a line written by :func:`format_row` back: ``(label, [(header, value), ...])``.

    Returns None when the line is not a labelled row (fewer than two parts, or a part after the
    label that does not end in a value).
    """
    parts = line.strip().split(SEPARATOR)
    if len(parts) < 2:
        return None
    label = parts[0].strip()
    if VALUE.fullmatch(label) or ": " in label and VALUE.fullmatch(label.rsplit(": ", 1)[1]):
        label, rest = "", parts  # a row without a label starts with its first value
    else:
        rest = parts[1:]
    cells = []
    for part in rest:
        header, _, value = part.rpartition(": ")
        if not VALUE.fullmatch(value.strip()):
            return None
        cells.append((header.strip(), value.strip()))
    return label, cells


def numeric_lines(text: str) -> int:
    """Count lines with two or more numbers: a cheap test of whether a page may hold a table."""
    return sum(len(_NUMERIC_TOKEN.findall(line)) >= 2 for line in text.split("\n"))


def merge_rows(text: str, tables: list[Table]) -> tuple[str, int, int]:
    """Put each table's labelled rows into ``text`` in place of the text they were read from.

    A row's printed text is found by its letters and digits (pypdf may spread a row's cells over
    several lines, or run it on from another line), searching on from the previous row; a match
    that starts and ends at line breaks is preferred, and short rows must match so. The match,
    with any "$", "(", ")" or "%" around it, is replaced; rows not found are appended after the
    text. Each row stands in a paragraph of its own so that sentence splitting and chunking keep
    it whole. Returns ``(text, placed, appended)``.
    """
    if not tables:
        return text, 0, 0
    stream, where = _keyed(text)
    spans: list[tuple[int, int, str]] = []  # (start, end) in text, row line
    leftover: list[str] = []
    cursor = 0  # position in ``stream``
    for table in tables:
        for row, row_text in zip(table.rows, table.lines(), strict=True):
            target = _key(row.source)
            found = _locate(text, stream, where, target, cursor)
            if found is None:  # tables may come in another order than the text has them
                found = _locate(text, stream, where, target, 0)
            if found is None or any(a < found[1] and found[0] < b for a, b, _ in spans):
                leftover.append(row_text)
                continue
            spans.append((found[0], found[1], row_text))
            cursor = max(cursor, found[2])
    spans.sort()
    out, pos = [], 0
    for start, end, row_text in spans:
        out += [text[pos:start], f"\n\n{row_text}\n\n"]
        pos = end
    out.append(text[pos:])
    if leftover:
        out.append("\n\n" + "\n\n".join(leftover))
    merged = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(out))
    return re.sub(r"\n{3,}", "\n\n", merged).strip(), len(spans), len(leftover)


def _key(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def _keyed(text: str) -> tuple[str, list[int]]:
    """The letters and digits of ``text`` (normalised) and the index each came from."""
    keys, where = [], []
    for i, ch in enumerate(text):
        if ch.isalnum() or not ch.isascii():
            for k in _key(ch):
                keys.append(k)
                where.append(i)
    return "".join(keys), where


def _locate(
    text: str, stream: str, where: list[int], target: str, cursor: int
) -> tuple[int, int, int] | None:
    """Find ``target`` in ``stream`` from ``cursor``: (start, end) in ``text``, next cursor.

    A match with nothing but signs and spaces between it and the line breaks around it takes
    those lines whole. Otherwise it takes the signs next to it, if it is long enough not to be
    a coincidence, or if it has letters and digits and either touches a line break or follows
    the previous row closely (pypdf may run a row on from the end of another line).
    """
    if not target:
        return None
    mixed = any(ch.isalpha() for ch in target) and any(ch.isdigit() for ch in target)
    loose = None
    k = stream.find(target, cursor)
    for _ in range(_MAX_TRIES):
        if k < 0:
            break
        start, end = where[k], where[k + len(target) - 1] + 1
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        head, tail = not _alnum(text[line_start:start]), not _alnum(text[end:line_end])
        if head and tail:
            return line_start, line_end, k + len(target)
        close = cursor > 0 and k - cursor <= _CLOSE
        if loose is None and (len(target) >= _LOOSE_MATCH or mixed and (head or tail or close)):
            if m := _SIGNS_BEFORE.search(text, max(0, start - 16), start):
                start = m.start()
            if m := _SIGNS_AFTER.match(text, end):
                end = m.end()
            loose = (start, end, k + len(target))
        k = stream.find(target, k + 1)
    return loose


def _alnum(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
