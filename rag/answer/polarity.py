"""Reading meaning, not only overlap: where a claim contradicts the sentence it rests on.

Word overlap and embeddings score "revenue increased" and "revenue decreased" as near
identical. These checks compare a claim with its evidence (the passage sentence or pair that
best matches it) on what overlap misses:

* **polarity**: words on opposite ends of one axis (increased/decreased, gain/loss,
  included/excluded, required/optional, before/after, ...), with a negation folded into the
  word it governs ("not required" is *optional*, "no more than" is a *maximum*), and affixal
  opposites (paid/unpaid, direct/indirect, billable/non-billable);
* **negation**: one side negated and the other not, once the folded negations are gone;
* **units**: the same number with a different unit or scale (13 days / 13 hours, TB / GB,
  weekly / monthly).

Each check returns a short reason, or ``None`` when it finds nothing wrong. Rules are about
English, not about any collection: nothing here is fitted to data.
"""

from __future__ import annotations

import re

from rag.ingest.table_rows import parse_row
from rag.text.factmatch import _NUMBER, _SCALES, _fmt

# --- polarity -------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return text.split()


def _poles(low: str, high: str) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(_split(low)), frozenset(_split(high))


# Each axis: (one pole, the other pole). Words are lowercase surface forms.
AXES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "change": _poles(
        "increase increased increases increasing rise rises rose risen rising grew grow grows "
        "growing climbed climb jumped surged soared doubled tripled raise raised expand expanded "
        "improve improved improves",
        "decrease decreased decreases decreasing decline declined declines declining fall falls "
        "fell fallen falling drop dropped drops dropping shrank shrink shrinks reduce reduced "
        "reduces reducing reduction halved cut cuts lowered contracted deteriorated worsened",
    ),
    "comparison": _poles(
        "more greater larger bigger higher above over exceeds exceeded exceed faster longer "
        "older most largest highest biggest heavier stronger",
        "less fewer smaller lower below under slower shorter younger least smallest lowest "
        "lighter weaker",
    ),
    "bound": _poles("⟨max⟩ maximum max ceiling", "⟨min⟩ minimum min floor"),
    "result": _poles(
        "gain gains profit profits profitable income earnings surplus",
        "loss losses deficit unprofitable",
    ),
    "inclusion": _poles(
        "include included includes including inclusive", "exclude excluded excludes excluding"
    ),
    "judgment": _poles(
        "favorable favourable positive beneficial", "unfavorable unfavourable negative adverse"
    ),
    "obligation": _poles(
        "required require requires mandatory must obligatory compulsory necessary needed always",
        "optional voluntary discretionary ⟨optional⟩",
    ),
    "permission": _poles(
        "allowed permitted allow allows permit permits authorized ⟨allowed⟩",
        "prohibited forbidden banned disallowed prohibits forbids ⟨prohibited⟩",
    ),
    "order": _poles(
        "before prior earlier beginning precede precedes preceding first",
        "after later subsequent subsequently following end last afterwards",
    ),
    "flow": _poles("inflow inflows", "outflow outflows"),
    "truth": _poles("true enabled", "false disabled"),
    "opacity": _poles("opaque", "transparent"),
    "endianness": _poles("big-endian", "little-endian"),
}
_WORD_AXIS = {
    w: (axis, side) for axis, poles in AXES.items() for side in (0, 1) for w in poles[side]
}

_BOUND_PHRASES = [
    (re.compile(r"\b(?:no|not) (?:more|greater|longer|later) than\b|\bnot to exceed\b|"
                r"\b(?:do(?:es)?|must|shall|should|may|can)(?: not|n't) exceed\b|\bup to\b|"
                r"\bat (?:the )?most\b|\bcapped at\b|\bno later than\b", re.I), " ⟨max⟩ "),
    (re.compile(r"\b(?:no|not) (?:less|fewer|shorter|earlier) than\b|\bat (?:the )?least\b", re.I),
     " ⟨min⟩ "),
]  # fmt: skip
_NEGATIONS = frozenset(["not", "no", "never", "cannot", "none", "neither", "nor", "n't", "without"])
_SKIP = frozenset(
    _split(
        "be been being is are was were do does did have has had to the a an any it they this "
        "that so yet also still always usually generally currently necessarily really"
    )
)
_NEGATED = {  # a negation flips these words to their opposite pole
    "obligation": "⟨optional⟩",
}
_TOKEN = re.compile(r"⟨\w+⟩|[a-z]+(?:-[a-z]+)*|n't")
_AFFIXES = ("un", "in", "non-", "non", "dis", "im", "ir", "il")


def _tokens(text: str) -> list[str]:
    low = text.lower().replace("’", "'")
    low = re.sub(r"(\w)n't\b", r"\1 n't", low).replace("can't", "can n't").replace("won't", "n't")
    low = low.replace("cannot", "can n't")
    for pattern, token in _BOUND_PHRASES:
        low = pattern.sub(token, low)
    return _TOKEN.findall(low)


def polarity(text: str) -> tuple[dict[str, set[int]], bool, set[str]]:
    """(axis → poles present, whether an unfolded negation remains, the words) of ``text``.

    Words a negation governs are returned as "not-WORD" too ("not used" is "unused").
    """
    tokens = _tokens(text)
    poles: dict[str, set[int]] = {}
    negated = False
    pending = -1  # index of a negation waiting for the word it governs
    governed: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok in _NEGATIONS:
            if pending >= 0:
                negated = True
            pending = i
            continue
        if pending >= 0 and i - pending <= 3:
            governed.add(f"not-{tok}")
        hit = _WORD_AXIS.get(tok)
        if hit:
            axis, side = hit
            if pending >= 0 and i - pending <= 3:
                side = 1 - side  # "not required" → optional, "not included" → excluded
                pending = -1
            poles.setdefault(axis, set()).add(side)
            continue
        if pending >= 0 and tok not in _SKIP and i - pending > 3:
            negated, pending = True, -1
    if pending >= 0:
        negated = True
    return poles, negated, set(tokens) | governed


def _affix_opposite(claim_words: set[str], evidence_words: set[str]) -> str | None:
    for word in claim_words:
        if word.startswith("not-"):
            continue
        for affix in _AFFIXES:
            if word.startswith(affix) and len(word) - len(affix) >= 4:
                base = word[len(affix) :]
                if (
                    base in evidence_words
                    and word not in evidence_words
                    and f"not-{base}" not in evidence_words  # "not used" is "unused"
                ):
                    return f"says “{word}” where the passage says “{base}”"
            elif (
                len(word) >= 4
                and affix + word in evidence_words
                and word not in evidence_words
                and f"not-{word}" not in claim_words
            ):
                return f"says “{word}” where the passage says “{affix + word}”"
    return None


def contradiction(claim: str, evidence: str) -> str | None:
    """Why ``claim`` contradicts ``evidence`` (polarity or negation), or ``None``."""
    c_poles, c_neg, c_words = polarity(claim)
    e_poles, e_neg, e_words = polarity(evidence)
    for axis, sides in c_poles.items():
        other = e_poles.get(axis, set())
        for side in sides:
            if 1 - side in other and side not in other:
                return f"reverses the passage ({axis})"
    if reason := _affix_opposite(c_words, e_words):
        return reason
    if c_neg != e_neg and " | " not in evidence:  # a table row states values, not negations
        return "negates what the passage says" if c_neg else "drops the passage's negation"
    return None


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
    for m in _NUMBER.finditer(claim):
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
        scale = _SCALES.get((m.group(2) or "").lower(), 1.0)
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
                return f"the passage gives {_fmt(value)} for {hits[0]}, not {year} ({label})"
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
                return (
                    f"says it {word}; the passage gives {_fmt(before)} then {_fmt(now)} ({label})"
                )
    return None
