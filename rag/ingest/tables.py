"""Tables in page lines: runs of rows under shared columns, with row labels and headers.

A table is a run of lines (:func:`rag.ingest.layout.read_lines`) with at least two numeric cells
under the same columns; its column headers are the lines just above whose cells sit over those
columns (several lines joined top-down; a cell spanning columns heads each). A row's label is its
leftmost text, after the section line it is indented under. :func:`find_tables` returns
:class:`~rag.ingest.table_rows.Table` objects, written as labelled lines by
:mod:`rag.ingest.table_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.ingest.layout import MAX_LINES, Cell, Line
from rag.ingest.table_frame import Columns, Frame, is_year_line
from rag.ingest.table_rows import Row, Table

_RUN_GAP = 2.6  # lines further apart than this many line heights do not share a table
_MAX_HEADER_LINES = 4
_LEADERS = ".…·_"
_MAX_LABEL_LINES = 3  # label-only lines (section names, wrapped labels) between two rows


def _strip_leaders(label: str) -> str:
    """Drop the dot leaders ("Revenue ........") that join a label to its numbers."""
    end, dots = len(label), 0
    while end and (label[end - 1] in _LEADERS or label[end - 1].isspace()):
        dots += label[end - 1] in _LEADERS
        end -= 1  # a backwards scan: a regex here was quadratic on long runs of dots
    return (label[:end] if dots >= 3 else label).strip()


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
        frame = Frame.start(lines[i])
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
            if is_year_line([c for c in inside if c.is_value]):
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


def _run(lines: list[Line], start: int, frame: Frame) -> tuple[list[_Part], Columns, int]:
    """Collect the table starting at line ``start``: its parts, columns and the next line."""
    columns = Columns()
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
            if is_year_line([c for c in inside if c.is_value]) and not _label(inside):
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
    frame: Frame,
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
    lines: list[Line], first: int, frame: Frame, spans: list[list[float]], labels: float
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
        if values and not is_year_line(values) and (len(values) >= 2 or len(over) < len(inside)):
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
