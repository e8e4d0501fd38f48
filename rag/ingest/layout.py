"""Page layout: a pdfium text page read as lines of cells, as the page is shown.

pypdf's text flattens a financial statement into runs of numbers with the column headers lines
away. Here a page's characters and their boxes (pdfium) are grouped into lines (by vertical
position) and cells (at wide horizontal gaps), in the page's shown orientation (``/Rotate``);
a lone currency sign, ")" or "%" is glued to its number. :data:`VALUE` says which cell text is
a value (a number, a nil dash, a date), for the table search and the row format built on this.

The work is bounded: a page with more than ``MAX_CHARS`` characters or ``MAX_LINES`` lines, or a
line of more than ``MAX_CELLS`` cells, is not read (``TooComplex``).
"""

from __future__ import annotations

import ctypes
import re
import statistics
import unicodedata
from dataclasses import dataclass
from functools import cached_property

MAX_CHARS = 40_000
MAX_LINES = 600
MAX_CELLS = 60

_CELL_GAP = 0.6  # a gap wider than this share of the line height starts a new cell
_NUMBER = r"\(?[-+−–]?(?:[$€£¥]\s?)?\(?\d[\d,]*(?:\.\d+)?\)?"
_UNIT = r"(?:\s?(?:%|[A-Za-zµ°/²³]{1,4}\.?))?\)?"
VALUE = re.compile(
    rf"{_NUMBER}{_UNIT}(?:\s?[-–/]\s?{_NUMBER}{_UNIT})?"  # 1,875 (1,508) $2.35 12% 400 W 2023-2051
    r"|[-−–—]+|\d{1,2}[:/]\d{2}(?:[:/]\d{2,4})?"  # nil dashes, times, dates
    r"|(?i:n/?a|n/?m|nil|none|free)"
)
_CURRENCY = {"$", "€", "£", "¥", "US$", "(", "($", "$("}
_CLOSERS = {")", "%", ")%", "%)", "pts", "bps", "x"}


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
        return bool(VALUE.fullmatch(self.text))

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
        currency = out and out[-1].text in _CURRENCY and VALUE.fullmatch(cell.text)
        if currency or out and cell.text in _CLOSERS and out[-1].is_value:
            out[-1] = Cell(out[-1].x0, cell.x1, out[-1].text + cell.text)
        else:
            out.append(cell)
    return out
