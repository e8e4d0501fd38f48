"""Where a table sits on its lines: its frame on the page and the extents of its columns.

A :class:`Frame` tells a table's cells from text beside it (another column of the page) and
whether a line's cells make a row; :class:`Columns` grows column extents from the value cells of
the rows. Used by :mod:`rag.ingest.tables`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.layout import Cell, Line

_YEAR = re.compile(r"(?:19|20)\d\d")


def is_year_line(cells: list[Cell]) -> bool:
    """Bare years ("2016  2015  2014"): a column header, not a row."""
    return bool(cells) and all(_YEAR.fullmatch(c.text) for c in cells)


def _code(cell: Cell) -> bool:
    """Short text with digits in a table's value area: a rating, a code, a note number."""
    return len(cell.text) <= 15 and any(ch.isdigit() for ch in cell.text)


@dataclass
class Frame:
    """Where a table sits on its line: text beside it (another column of the page) is not in it.

    ``left``: text starting further left belongs beside the table unless it runs into the values;
    ``values``: where the first value column starts; ``right``: text starting further right is
    beside it.
    """

    left: float
    values: float
    right: float
    unit: float  # a line height

    @classmethod
    def start(cls, line: Line) -> Frame | None:
        """The frame of a table whose first row is ``line``, or None if it cannot start one."""
        values = line.values
        if len(values) < 2 or is_year_line(values):
            return None
        first = min(c.x0 for c in values)
        # the label: the nearest text left of the values that is not a short code ("AAA-2")
        labels = [c for c in line.cells if not c.is_value and c.x1 <= first and not _code(c)]
        if not labels:
            return None
        unit = line.height
        # text close before the label is part of it ("1 February  Card payment"); far before
        # it, it is another column of the page
        left = labels[-1]
        for cell in reversed([c for c in line.cells if c.x1 <= left.x0]):
            if left.x0 - cell.x1 > 2.5 * unit or len(cell.text) > 40:
                break
            left = cell
        frame = cls(left.x0 - 3 * unit, first, max(c.x1 for c in values), unit)
        inside = frame.inside(line)
        return frame if inside is not None and frame.is_row(inside) else None

    def inside(self, line: Line) -> list[Cell] | None:
        """The line's cells in the table (not beside it); None when text runs across its edge."""
        cells = []
        for c in line.cells:
            if c.is_value and self.left <= c.x0 <= self.right + 8 * self.unit:
                cells.append(c)
            elif c.x0 < self.left:
                if c.x1 > self.values:
                    return None
            elif c.is_value or c.x0 <= self.right + 0.5 * self.unit:
                cells.append(c)
        return cells

    def is_row(self, cells: list[Cell]) -> bool:
        """Values, and text only before them (the label) or short (such as "N/A")."""
        values = [c for c in cells if c.is_value]
        if not values or is_year_line(values) and len(values) == len(cells):
            return False
        first = min(c.x0 for c in values)
        return all(c.is_value or c.x1 <= first + 2 or len(c.text) <= 15 for c in cells)

    def is_label_only(self, cells: list[Cell]) -> bool:
        return bool(cells) and all(not c.is_value and c.x1 <= self.values + 2 for c in cells)

    def grow(self, cells: list[Cell]) -> None:
        for c in cells:
            if c.is_value:
                self.values = min(self.values, c.x0)
                self.right = max(self.right, c.x1)


class Columns:
    """Column extents grown from the value cells of a table's rows."""

    def __init__(self) -> None:
        self.spans: list[list[float]] = []

    def place(self, cell: Cell, grow: bool = True) -> int | None:
        """Return the column ``cell`` falls in (the most overlapped), adding one if allowed."""
        best, overlap = None, 0.0
        for i, (x0, x1) in enumerate(self.spans):
            o = min(x1, cell.x1) - max(x0, cell.x0)
            if o > overlap:
                best, overlap = i, o
        if best is not None:
            if grow:
                span = self.spans[best]
                span[0], span[1] = min(span[0], cell.x0), max(span[1], cell.x1)
            return best
        if not grow:
            return None
        self.spans.append([cell.x0, cell.x1])
        return len(self.spans) - 1

    def aligned(self, cells: list[Cell]) -> bool:
        """Most of the values sit under known columns."""
        values = [c for c in cells if c.is_value]
        hits = sum(self.place(c, grow=False) is not None for c in values)
        return hits >= max(1, (len(values) + 1) // 2)

    def ordered(self) -> list[list[float]]:
        return sorted(self.spans)
