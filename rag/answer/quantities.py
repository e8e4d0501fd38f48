"""Figures against the passage: units and frequencies, periods, and directions of change.

A claim can copy a passage's number and still misstate it. These checks read the number in
its setting:

* **units**: the same number with a different unit or scale (13 days / 13 hours, TB / GB),
  or another frequency (weekly / monthly);
* **periods**: a figure the passage's table gives for one year, claimed for another;
* **directions**: a rise or fall the table's two years contradict.

Each check returns a short reason, or ``None`` when it finds nothing wrong. Rules are about
English and table layout, not about any collection: nothing here is fitted to data.
"""

from __future__ import annotations

import re

from rag.answer.polarity import polarity
from rag.ingest.table_rows import parse_row
from rag.text.factmatch import NUMBER, SCALES, format_number

# --- units ----------------------------------------------------------------------------------

_UNITS = {
    **dict.fromkeys(["second", "seconds", "sec", "secs", "s"], ("time", "second")),
    **dict.fromkeys(["minute", "minutes", "min", "mins"], ("time", "minute")),
    **dict.fromkeys(["hour", "hours", "hr", "hrs", "h"], ("time", "hour")),
    **dict.fromkeys(["day", "days"], ("time", "day")),
    **dict.fromkeys(["week", "weeks", "wk", "wks"], ("time", "week")),
    **dict.fromkeys(["month", "months", "mo"], ("time", "month")),
    **dict.fromkeys(["year", "years", "yr", "yrs"], ("time", "year")),
    **dict.fromkeys(["pay period", "pay periods"], ("time", "pay period")),
    **dict.fromkeys(["byte", "bytes", "b"], ("size", "byte")),
    **dict.fromkeys(["kb", "kib", "kilobyte", "kilobytes"], ("size", "kb")),
    **dict.fromkeys(["mb", "mib", "megabyte", "megabytes"], ("size", "mb")),
    **dict.fromkeys(["gb", "gib", "gigabyte", "gigabytes"], ("size", "gb")),
    **dict.fromkeys(["tb", "tib", "terabyte", "terabytes"], ("size", "tb")),
    **dict.fromkeys(["%", "percent", "per cent"], ("share", "percent")),
    **dict.fromkeys(["percentage point", "percentage points", "points", "pp"], ("share", "points")),
    **dict.fromkeys(["basis points", "bps", "basis point"], ("share", "bps")),
    **dict.fromkeys(["thousand", "k"], ("scale", "thousand")),
    **dict.fromkeys(["million", "m", "mn"], ("scale", "million")),
    **dict.fromkeys(["billion", "bn", "b"], ("scale", "billion")),
    **dict.fromkeys(["trillion", "tn"], ("scale", "trillion")),
}
_UNIT_WORDS = sorted(_UNITS, key=len, reverse=True)
_NUMBER_UNIT = re.compile(
    r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?:\s*(?:-|–|to)\s*\d[\d,]*(?:\.\d+)?)?\s*("
    + "|".join(re.escape(u) for u in _UNIT_WORDS)
    + r")(?![a-z])",
    re.I,
)
_FREQUENCY = {
    "daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
    "annually": "year", "yearly": "year", "biweekly": "two weeks",
}  # fmt: skip
_PER = re.compile(
    r"\b(?:per|each|every|a|an)\s+(day|week|month|quarter|year|pay period|leave year|"
    r"calendar year|fiscal year)\b|\b(daily|weekly|monthly|quarterly|annually|yearly|biweekly)\b",
    re.I,
)


def _number_units(text: str) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for m in _NUMBER_UNIT.finditer(text):
        number = m.group(1).replace(",", "")
        unit = _UNITS.get(m.group(2).lower())
        if unit and not (m.group(2) in ("b", "s", "h", "m", "k") and m.group(2).islower()):
            found.setdefault(number, set()).add(unit)
    return found


def _frequencies(text: str) -> set[str]:
    out = set()
    for m in _PER.finditer(text):
        word = (m.group(1) or m.group(2)).lower()
        out.add(_FREQUENCY.get(word, word))
    return out


def unit_conflict(claim: str, passage: str, evidence: str | None = None) -> str | None:
    """Why the claim's number has another unit than the same number in the passage, or its
    frequency ("per month") another than its ``evidence`` sentence's, or None."""
    claimed = _number_units(claim)
    stated = _number_units(passage)
    for number, units in claimed.items():
        there = stated.get(number)
        if not there:
            continue
        for dim, unit in units:
            same_dim = {u for d, u in there if d == dim}
            if same_dim and unit not in same_dim:
                return f"“{number} {unit}” where the passage has {number} {sorted(same_dim)[0]}"
    c_freq, p_freq = _frequencies(claim), _frequencies(passage if evidence is None else evidence)
    if c_freq and p_freq and not c_freq & p_freq:
        return f"says per {sorted(c_freq)[0]} where the passage says per {sorted(p_freq)[0]}"
    return None


# --- periods --------------------------------------------------------------------------------

_YEAR = re.compile(r"\b(19[9]\d|20[0-4]\d)\b")
_RELATIVE = re.compile(
    r"^[\s,]*(?:\(?\s*)?(?:a year (?:earlier|before|ago)|the (?:prior|previous|preceding) year|"
    r"in the (?:prior|previous|preceding|same) (?:year|period)|last year|the year before)",
    re.I,
)


_LATER = re.compile(r"^[\s,]*(?:a year later|the (?:following|next) year)", re.I)


def _claim_periods(claim: str) -> list[tuple[float, int]]:
    """(value, year) for each number of the claim whose period the claim states."""
    years = [(m.start(), int(m.group(1))) for m in _YEAR.finditer(claim)]
    if not years:
        return []
    out = []
    for m in NUMBER.finditer(claim):
        raw = float(m.group(1).replace(",", ""))
        if raw in {y for _, y in years} and not m.group(2):
            continue
        clause_end = re.search(r"[;,]| compared| versus| vs\.?| from| while", claim[m.end() :])
        stop = m.end() + (clause_end.start() if clause_end else len(claim))
        after = [y for at, y in years if m.end() <= at < stop]
        if _RELATIVE.match(claim[m.end() : m.end() + 40]):
            year = max(y for _, y in years) - 1
        elif _LATER.match(claim[m.end() : m.end() + 40]):
            year = min(y for _, y in years) + 1
        elif not after and re.search(
            r"\bfrom\s*\W{0,2}$", claim[max(0, m.start() - 8) : m.start()]
        ):
            year = max(y for _, y in years) - 1  # "... to $14.9 billion from $6.7 billion"
        elif after:
            year = after[0]
        elif before := [y for at, y in years if at < m.start()]:
            year = before[-1]
        else:
            continue
        scale = SCALES.get((m.group(2) or "").lower(), 1.0)
        out.append((raw * scale, year))
    return out


def period_conflict(claim: str, passage: str) -> str | None:
    """Why a claimed number belongs to another period in the passage's table rows, or None.

    A table row gives one value per period column. When the claim ties a number to a year and
    the row that holds the number has a column for that year with another value, and the
    number sits under another year's column, the claim moved a figure between periods.
    """
    periods = _claim_periods(claim)
    if not periods:
        return None
    rows = _dated_rows(passage)
    for value, year in periods:
        for label, cells in rows:
            dated = [(y, v) for y, v, _ in cells]
            hits = [y for y, v in dated if v is not None and _close(v, value)]
            if not hits or year in hits or None in hits:
                continue
            if any(y == year for y, _ in dated):
                return (
                    f"the passage gives {format_number(value)} for {hits[0]}, not {year} ({label})"
                )
    return None


def _dated_rows(passage: str) -> list[tuple[str, list[tuple[int | None, float | None, bool]]]]:
    """The passage's table rows with two or more cells: (label, [(year of the column, value,
    whether it is negative)])."""
    rows = []
    for line in passage.splitlines():
        row = parse_row(line)
        if row and len(row[1]) > 1:
            label, cells = row
            rows.append(
                (label, [(_header_year(h), _cell_value(v), v.strip().startswith(("(", "-", "−")))
                         for h, v in cells])
            )  # fmt: skip
    return rows


def _header_year(header: str) -> int | None:
    found = _YEAR.findall(header)
    return int(found[-1]) if len(set(found)) == 1 else None


def _cell_value(text: str) -> float | None:
    digits = re.sub(r"[^\d.]", "", text)
    try:
        return float(digits) if digits else None
    except ValueError:
        return None


def _close(cell: float, claimed: float) -> bool:
    """A cell matches a claimed value in any scale, to three significant figures."""
    for factor in (1.0, 1e3, 1e6, 1e9):
        v = cell * factor
        if v and abs(v - claimed) <= 0.005 * max(abs(v), abs(claimed)):
            return True
    return False


def direction_conflict(claim: str, passage: str) -> str | None:
    """Why a claimed rise or fall runs against the passage's table row, or None.

    "Net sales grew to $14.2 billion in 2021" names a direction; the row that holds 14.2
    billion under 2021 also gives 2020. If 2020 was higher, the claim reversed it.
    """
    sides = polarity(claim)[0].get("change", set())
    if len(sides) != 1:
        return None
    up = 0 in sides
    periods = _claim_periods(claim)
    rows = _dated_rows(passage)
    for value, year in periods:
        for label, cells in rows:
            dated = {y: -v if negative else v for y, v, negative in cells if y and v is not None}
            now, before = dated.get(year), dated.get(year - 1)
            if now is None or before is None or not _close(abs(now), value):
                continue
            if (up and now < before) or (not up and now > before):
                word = "rose" if up else "fell"
                values = f"{format_number(before)} then {format_number(now)}"
                return f"says it {word}; the passage gives {values} ({label})"
    return None
