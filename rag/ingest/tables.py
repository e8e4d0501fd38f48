"""Tables in PDF pages: labelled rows read from where pdfium places each character.

pypdf's text flattens a financial statement into runs of numbers with the column headers lines
away. Here a page's characters and their boxes (pdfium) are grouped into lines (by vertical
position) and cells (at wide horizontal gaps). A table is a run of lines with at least two
numeric cells under the same columns; its column headers are the lines just above whose cells
sit over those columns (several lines joined top-down; a cell spanning columns heads each).
Each row becomes one line of text::

    Operating expenses: Research and development | Years Ended December 2, 2016: 975,987 | ...

the row label (its leftmost text, after the section line it is indented under) then each value
with its column header. :func:`merge_rows` writes those lines into the page text in place of the
lines they were read from (rows it cannot place go after the page text), so chunks and citations,
which are exact slices of the page text, carry whole labelled rows. :func:`parse_row` reads such
a line back (to show quoted rows as a table).

The work is bounded: a page with more than ``MAX_CHARS`` characters or ``MAX_LINES`` lines, or a
line of more than ``MAX_CELLS`` cells, is not searched (``TooComplex``).
"""

from __future__ import annotations

import ctypes
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

MAX_CHARS = 40_000
MAX_LINES = 600
MAX_CELLS = 60
SEPARATOR = " | "

_CELL_GAP = 0.6  # a gap wider than this share of the line height starts a new cell
_RUN_GAP = 2.6  # lines further apart than this many line heights do not share a table
_MAX_HEADER_LINES = 4
_MAX_LABEL_LINES = 3  # label-only lines (section names, wrapped labels) between two rows
_LOOSE_MATCH = 16  # letters and digits a row needs to be matched anywhere inside a line
_CLOSE = 8  # letters and digits that may separate a row from the previous one in the text
_MAX_TRIES = 50  # occurrences of a row's letters and digits examined (bounds a hostile page)
# signs around a row's letters and digits that belong to its text: "$ (1,508)", "7 %"
_SIGNS_BEFORE = re.compile(r"(?:[$€£¥(\-−–][ \t]*)+\Z")
_SIGNS_AFTER = re.compile(r"(?:[ \t]*[)%])+")
_NUMBER = r"\(?[-+−–]?(?:[$€£¥]\s?)?\(?\d[\d,]*(?:\.\d+)?\)?"
_UNIT = r"(?:\s?(?:%|[A-Za-zµ°/²³]{1,4}\.?))?\)?"
_VALUE = re.compile(
    rf"{_NUMBER}{_UNIT}(?:\s?[-–/]\s?{_NUMBER}{_UNIT})?"  # 1,875 (1,508) $2.35 12% 400 W 2023-2051
    r"|[-−–—]+|\d{1,2}[:/]\d{2}(?:[:/]\d{2,4})?"  # nil dashes, times, dates
    r"|(?i:n/?a|n/?m|nil|none|free)"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_CURRENCY = {"$", "€", "£", "¥", "US$", "(", "($", "$("}
_CLOSERS = {")", "%", ")%", "%)", "pts", "bps", "x"}
_NUMERIC_TOKEN = re.compile(r"(?<!\S)\(?[-−–]?[$€£¥]?\d[\d,]*(?:\.\d+)?\)?%?(?!\S)")


class TooComplex(Exception):
    """The page holds more text than table search is allowed to examine."""


@dataclass
class Cell:
    """Text between two wide gaps on one line; ``x0``/``x1`` in PDF points."""

    x0: float
    x1: float
    text: str

    @cached_property
    def is_value(self) -> bool:
        return bool(_VALUE.fullmatch(self.text))

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Line:
    """Cells at one height; ``top``/``bottom`` in PDF points (y grows upwards)."""

    top: float
    bottom: float
    cells: list[Cell]

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)

    @property
    def values(self) -> list[Cell]:
        return [c for c in self.cells if c.is_value]

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells)


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


# --- reading a page ------------------------------------------------------------------------


def read_lines(textpage) -> list[Line]:
    """Group a pdfium text page's characters into lines of cells, top to bottom.

    Raises ``TooComplex`` past the bounds; pdfium errors propagate.
    """
    import pypdfium2.raw as pdfium_c

    count = textpage.count_chars()
    if count > MAX_CHARS:
        raise TooComplex(f"{count} characters")
    text = textpage.get_text_range() if count else ""
    turn = _turn(textpage.page)
    box = pdfium_c.FS_RECTF()
    words: list[list] = []  # [x0, x1, bottom, top, chars]
    current: list | None = None
    for k, ch in enumerate(text[:count]):
        if ch.isspace():
            current = None
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, k, ctypes.byref(box)):
            current = None
            continue
        x0, x1, bottom, top = turn(box.left, box.right, box.bottom, box.top)
        if current is not None:
            height = current[3] - current[2]
            same_line = abs((bottom + top) / 2 - (current[2] + current[3]) / 2) < 0.4 * height
            if same_line and current[1] - 0.3 * height <= x0 <= current[1] + 0.25 * height:
                current[1] = max(current[1], x1)
                current[4].append(ch)
                continue
        current = [x0, x1, bottom, top, [ch]]
        words.append(current)
    return _lines(words)


def _turn(page):
    """Map character boxes from the page's own space to how it is shown (``/Rotate``)."""
    rotation = page.get_rotation() % 360
    left, bottom, right, top = page.get_mediabox()
    width, height = right - left, top - bottom
    if rotation == 90:  # shown turned clockwise: the left edge becomes the top
        return lambda x0, x1, y0, y1: (
            y0 - bottom,
            y1 - bottom,
            width - x1 + left,
            width - x0 + left,
        )
    if rotation == 180:
        return lambda x0, x1, y0, y1: (width - x1 + left, width - x0 + left,
                                       height - y1 + bottom, height - y0 + bottom)  # fmt: skip
    if rotation == 270:
        return lambda x0, x1, y0, y1: (
            height - y1 + bottom,
            height - y0 + bottom,
            x0 - left,
            x1 - left,
        )
    return lambda x0, x1, y0, y1: (x0, x1, y0, y1)


def _lines(words: list[list]) -> list[Line]:
    """Cluster words by vertical centre, then split each line into cells at wide gaps."""
    words = [w for w in words if w[3] > w[2]]
    words.sort(key=lambda w: -(w[2] + w[3]))
    groups: list[list[list]] = []
    centre = 0.0
    for w in words:
        mid, height = (w[2] + w[3]) / 2, w[3] - w[2]
        if groups and abs(centre - mid) < 0.4 * height:
            groups[-1].append(w)
        else:
            groups.append([w])
            centre = mid
            if len(groups) > MAX_LINES:
                raise TooComplex(f"more than {MAX_LINES} lines")
    lines = []
    for group in groups:
        group.sort(key=lambda w: w[0])
        height = statistics.median(w[3] - w[2] for w in group)
        cells: list[Cell] = []
        previous = None
        for x0, x1, _, _, chars in group:
            word = unicodedata.normalize("NFKC", "".join(chars))
            if previous is not None and x0 - previous <= _CELL_GAP * height:
                cells[-1].x1 = max(cells[-1].x1, x1)
                cells[-1].text += " " + word
            else:
                cells.append(Cell(x0, x1, word))
            previous = max(previous or x1, x1)
        if len(cells) > MAX_CELLS:
            raise TooComplex(f"a line of more than {MAX_CELLS} cells")
        top = max(w[3] for w in group)
        bottom = min(w[2] for w in group)
        lines.append(Line(top, bottom, _glue(cells)))
    return lines


def _glue(cells: list[Cell]) -> list[Cell]:
    """Join a lone currency sign to the number after it and ")" or "%" to the one before."""
    out: list[Cell] = []
    for cell in cells:
        currency = out and out[-1].text in _CURRENCY and _VALUE.fullmatch(cell.text)
        if currency or out and cell.text in _CLOSERS and out[-1].is_value:
            out[-1] = Cell(out[-1].x0, cell.x1, out[-1].text + cell.text)
        else:
            out.append(cell)
    return out


# --- finding tables ------------------------------------------------------------------------


def _is_year_line(cells: list[Cell]) -> bool:
    """Bare years ("2016  2015  2014"): a column header, not a row."""
    return bool(cells) and all(_YEAR.fullmatch(c.text) for c in cells)


def _code(cell: Cell) -> bool:
    """Short text with digits in a table's value area: a rating, a code, a note number."""
    return len(cell.text) <= 15 and any(ch.isdigit() for ch in cell.text)


def _strip_leaders(label: str) -> str:
    return re.sub(r"(?:\s*[.…·_]){3,}\s*$", "", label).strip()


@dataclass
class _Frame:
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
    def start(cls, line: Line) -> _Frame | None:
        """The frame of a table whose first row is ``line``, or None if it cannot start one."""
        values = line.values
        if len(values) < 2 or _is_year_line(values):
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
        if not values or _is_year_line(values) and len(values) == len(cells):
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


class _Columns:
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


@dataclass
class _Part:
    """A line of a table: its cells inside the table and whether it is a row."""

    line: Line
    inside: list[Cell]
    row: bool


def find_tables(lines: list[Line]) -> list[Table]:
    """Find tables in lines (top to bottom) and read their rows with labels and headers."""
    tables = []
    i = 0
    while i < len(lines):
        frame = _Frame.start(lines[i])
        if frame is None:
            i += 1
            continue
        parts, columns, end = _run(lines, i, frame)
        while parts and i > 0 and len(parts) < MAX_LINES:  # rows with one value above the first
            above, inside = lines[i - 1], frame.inside(lines[i - 1])
            if above.bottom - lines[i].top > _RUN_GAP * max(above.height, lines[i].height):
                break
            if not inside or not frame.is_row(inside) or not columns.aligned(inside):
                break
            if _is_year_line([c for c in inside if c.is_value]):
                break  # the years over the columns: a header
            i -= 1
            parts.insert(0, _Part(lines[i], inside, True))
        if parts:
            labels = max((c.x1 for p in parts for c in p.inside if c.x1 <= frame.values + 2),
                         default=frame.values)  # fmt: skip
            spans = columns.ordered()
            headers, section = _headers(lines, i, frame, spans, labels)
            table = _table(parts, frame, spans, headers, section)
            if table is not None:
                tables.append(table)
        i = max(end, i + 1)
    return tables


def _run(lines: list[Line], start: int, frame: _Frame) -> tuple[list[_Part], _Columns, int]:
    """Collect the table starting at line ``start``: its parts, columns and the next line."""
    columns = _Columns()
    parts: list[_Part] = []
    pending: list[_Part] = []
    last = lines[start]
    j = start
    while j < len(lines):
        line = lines[j]
        if last.bottom - line.top > _RUN_GAP * max(line.height, last.height):
            break
        inside = frame.inside(line)
        if inside is None:
            break
        part = _Part(line, inside, False)
        if not inside:
            j += 1  # only text beside the table on this line: look past it
            continue
        if frame.is_row(inside) and (not parts or columns.aligned(inside)):
            if _is_year_line([c for c in inside if c.is_value]) and not _label(inside):
                break  # a header row of the next table
            part.row = True
            parts += pending + [part]
            pending = []
            for c in inside:
                if c.is_value:
                    columns.place(c)
            frame.grow(inside)
        elif frame.is_label_only(inside) and len(pending) < _MAX_LABEL_LINES:
            pending.append(part)
        else:
            break
        last = line
        j += 1
    # a label printed just below the last row's values belongs to it
    if pending and parts and not _label(parts[-1].inside):
        parts.append(pending[0])
    strong = sum(1 for p in parts if p.row and len([c for c in p.inside if c.is_value]) >= 2)
    if strong < 2 or len(columns.spans) < 2:
        return [], columns, j
    end = lines.index(parts[-1].line) + 1
    return parts, columns, end


def _label(cells: list[Cell]) -> str:
    values = [c.x0 for c in cells if c.is_value]
    first = min(values) if values else float("inf")
    return _strip_leaders(" ".join(c.text for c in cells if not c.is_value and c.x1 <= first + 2))


def _text(part: _Part) -> str:
    return _strip_leaders(" ".join(c.text for c in part.inside))


def _touching(upper: Line, lower: Line) -> bool:
    """Two lines with (almost) no vertical gap between them."""
    return upper.bottom - lower.top <= 0.5 * min(upper.height, lower.height)


def _table(
    parts: list[_Part],
    frame: _Frame,
    spans: list[list[float]],
    headers: list[str],
    section: tuple[float, str] | None,
) -> Table | None:
    table = Table(headers)
    labels: list[_Part] = []
    k = 0
    while k < len(parts):
        part = parts[k]
        k += 1
        if not part.row:
            labels.append(part)
            continue
        label = _label(part.inside)
        texts = [c for c in part.inside if not c.is_value and c.x1 <= frame.values + 2]
        x0 = texts[0].x0 if texts else frame.values
        above: list[_Part] = []
        below: list[_Part] = []
        if not label:
            # a label printed beside several lines: above the values, below them, or both
            up = labels[-1] if labels and _touching(labels[-1].line, part.line) else None
            down = parts[k] if k < len(parts) and not parts[k].row else None
            down = down if down and _touching(part.line, down.line) else None
            if down and (up is None or _text(down)[:1].islower()):
                below.append(down)
                k += 1
            if up:
                above.append(labels.pop())
            label = " ".join(_text(p) for p in [*above, *below])
            x0 = min((p.inside[0].x0 for p in [*above, *below]), default=x0)
        elif label[:1].islower() and labels:  # the start of the label is on the line above
            above.append(labels.pop())
            label = f"{_text(above[0])} {label}"
        for pending in labels:
            text = _text(pending)
            if text.endswith(":") or pending.inside[0].x0 + 2 < x0:
                section = (pending.inside[0].x0, text)
        labels = []
        if section and x0 <= section[0] + 1:
            section = None  # back at the section's own indent: it has ended
        values = [""] * len(spans)
        for c in part.inside:
            if c.is_value or c.x1 > frame.values + 2:
                col = _nearest(spans, c)
                values[col] = f"{values[col]} {c.text}".strip()
        if section:
            joiner = " " if section[1].endswith(":") else ": "
            label = f"{section[1]}{joiner}{label}" if label else section[1]
        lines = [*above, part, *below]
        source = " ".join(c.text for p in lines for c in p.inside)
        table.rows.append(Row(label, values, source))
    return table if len(table.rows) >= 2 else None


def _nearest(spans: list[list[float]], cell: Cell) -> int:
    def distance(span: list[float]) -> float:
        overlap = min(span[1], cell.x1) - max(span[0], cell.x0)
        return -overlap if overlap > 0 else abs((span[0] + span[1]) / 2 - cell.centre)

    return min(range(len(spans)), key=lambda i: distance(spans[i]))


def _headers(
    lines: list[Line], first: int, frame: _Frame, spans: list[list[float]], labels: float
) -> tuple[list[str], tuple[float, str] | None]:
    """Column headers from the lines above row ``first``, and a section line right above it.

    Header cells lie right of where the row labels end (``labels``) and of the first column
    less a column gap: headers of narrow right-aligned numbers often start left of them, a
    title centred on the page does not.
    """
    gap = spans[1][0] - spans[0][1] if len(spans) > 1 else 0.0
    edge = max(min(labels, frame.values - 4 * frame.unit), spans[0][0] - max(gap, 2 * frame.unit))
    parts: list[list[str]] = [[] for _ in spans]
    section: tuple[float, str] | None = None
    taken = skipped = 0
    below = lines[first]
    for k in range(first - 1, -1, -1):
        line = lines[k]
        if taken == _MAX_HEADER_LINES:
            break
        if line.bottom - below.top > _RUN_GAP * max(line.height, below.height):
            break
        inside = frame.inside(line)
        if inside is None:
            break
        if not inside:
            continue
        over = [c for c in inside if c.centre > edge]
        if any(c.x0 < edge - frame.unit for c in over):
            break  # text running from the labels into the values: prose or a title
        if not over:
            if taken == 0 and skipped < _MAX_LABEL_LINES and frame.is_label_only(inside):
                if section is None:  # the nearest one: "Current assets" under "Assets"
                    section = (inside[0].x0, _strip_leaders(" ".join(c.text for c in inside)))
                skipped += 1
                below = line
                continue
            break
        values = [c for c in over if c.is_value]
        if values and not _is_year_line(values) and (len(values) >= 2 or len(over) < len(inside)):
            break  # a row: of another table, or of this one with a single value
        for col, text in _assign(over, spans).items():
            parts[col].insert(0, text)
        taken += 1
        below = line
    return [" ".join(p) for p in parts], section


def _assign(cells: list[Cell], spans: list[list[float]]) -> dict[int, str]:
    """Map columns to the text of the header cells over them.

    Column ``i``'s slot runs from column ``i - 1``'s right edge to its own (numbers align
    right; headers centre over them, often left of the numbers). A cell heads the column whose
    slot holds its centre and every column whose values it covers for more than half their
    width ("Three Months Ended" over two); a cell alone on its line, centred over the columns,
    heads them all ("Years Ended").
    """
    left, right = spans[0][0], spans[-1][1]
    if len(cells) == 1 and abs(cells[0].centre - (left + right) / 2) <= (right - left) / 6:
        return dict.fromkeys(range(len(spans)), cells[0].text)
    out: dict[int, list[str]] = {}
    for cell in sorted(cells, key=lambda c: c.x0):
        for i, (x0, x1) in enumerate(spans):
            low = spans[i - 1][1] if i else float("-inf")
            high = x1 if i + 1 < len(spans) else float("inf")
            covered = min(x1, cell.x1) - max(x0, cell.x0)
            if low < cell.centre <= high or covered > (x1 - x0) / 2:
                out.setdefault(i, []).append(cell.text)
    return {i: " ".join(texts) for i, texts in out.items()}


# --- rows as text --------------------------------------------------------------------------


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
    if _VALUE.fullmatch(label) or ": " in label and _VALUE.fullmatch(label.rsplit(": ", 1)[1]):
        label, rest = "", parts  # a row without a label starts with its first value
    else:
        rest = parts[1:]
    cells = []
    for part in rest:
        header, _, value = part.rpartition(": ")
        if not _VALUE.fullmatch(value.strip()):
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
