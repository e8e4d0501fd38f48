"""Sentence-level text analysis for grounding: splitting, citation markers, hard facts, words.

Pure Python (no nltk). Everything here is deterministic and model-free; ``rag.answer.verify`` combines
it with embeddings to decide whether an answer sentence is supported by a passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.factmatch import (
    NumberPool,
    Written,
    abbreviations,
    expands,
    is_abbreviation,
    normalize_periods,
    passage_words,
    written_number,
)


def _wordlist(text: str) -> list[str]:
    return text.split()


# --- splitting ------------------------------------------------------------------------------

# Words that end with a period without ending the sentence (lowercased, without the dot).
ABBREVIATIONS = frozenset(
    _wordlist(
        "e.g i.e etc vs cf al approx ca dept est fig figs inc ltd co corp jr sr st mr mrs ms "
        "dr prof rev gen gov sen rep no nos vol vols pp p para sec ch art op ed eds u.s u.k u.n "
        "a.m p.m "
        "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri "
        "sat sun min max avg incl excl approx dist govt assn bros mt ft"
    )
)
# After these a capitalised word usually starts a new sentence ("... and so on, etc. Next").
_ENDING_ABBREVIATIONS = frozenset({"etc", "al"})

CITATION = r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"
_CITATION_RE = re.compile(CITATION)
_CITATION_RUN = rf"(?:\s*{CITATION})*"
# A sentence end: terminal punctuation, closing quotes/brackets, then any citation markers.
_END_RE = re.compile(rf"[.!?…]+[\"'”’)]*{_CITATION_RUN}(?=\s|$)")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+•‣◦]|\d{1,3}[.)]|[a-z][.)](?=\s))\s+")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{3,}")


@dataclass(frozen=True)
class Segment:
    """One sentence and how it sat in its text: ``lead`` is "" (same paragraph),
    "paragraph" (starts a block) or the list marker that introduced it ("-", "1.")."""

    text: str
    lead: str = ""


def split_sentences(text: str) -> list[str]:
    """Split English prose or Markdown into sentences.

    Boundaries: terminal punctuation followed by a space (not after an abbreviation such as
    "e.g." or "Dr.", not before a lowercase word), blank lines, list items, headings, and line
    breaks after a line that ends a sentence or a label (":"). Lines hard-wrapped mid-sentence
    are joined. Citation markers after the punctuation ("... 25 days. [1]") stay with the
    sentence they follow. List markers and heading hashes are not part of the sentence.
    """
    return [s.text for s in segments(text)]


def segments(text: str) -> list[Segment]:
    """Split like :func:`split_sentences`, keeping each sentence's layout lead."""
    out: list[Segment] = []
    for block, lead in _blocks(text):
        for i, sentence in enumerate(_split_block(block)):
            out.append(Segment(sentence, lead if i == 0 else ""))
    return out


def _blocks(text: str) -> list[tuple[str, str]]:
    """Group lines into blocks (paragraphs, list items, headings) with their lead."""
    blocks: list[tuple[list[str], str]] = []
    open_block = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line or _TABLE_RULE_RE.match(line):
            open_block = False
            continue
        if m := _LIST_ITEM_RE.match(line):
            marker = m.group(0).strip()
            blocks.append(([line[m.end() :]], "1." if marker[0].isdigit() else "-"))
            open_block = True
        elif m := _HEADING_RE.match(line):
            blocks.append(([line[m.end() :]], "paragraph"))
            open_block = False  # a heading never continues onto the next line
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|") if c.strip()]
            blocks.append(([" — ".join(cells)], "paragraph"))
            open_block = False
        elif open_block and not _ends_line(blocks[-1][0][-1]):
            blocks[-1][0].append(line)  # hard-wrapped continuation
        else:
            blocks.append(([line], "paragraph" if blocks else ""))
            open_block = True
    return [(" ".join(lines), lead) for lines, lead in blocks]


def _ends_line(line: str) -> bool:
    stripped = _CITATION_RE.sub("", line).rstrip()
    return stripped.endswith((".", "!", "?", ":", ";", "…", '."', ".”"))


def _split_block(block: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for m in _END_RE.finditer(block):
        if _is_boundary(block, m):
            piece = block[start : m.end()].strip()
            if piece:
                sentences.append(piece)
            start = m.end()
    tail = block[start:].strip()
    if tail:
        if sentences and _CITATION_RE.fullmatch(tail.replace(" ", "")):
            sentences[-1] += " " + tail
        else:
            sentences.append(tail)
    return sentences


def _is_boundary(block: str, m: re.Match[str]) -> bool:
    rest = block[m.end() :].lstrip()
    if not rest:
        return True
    nxt = rest[0]
    if nxt.islower() or nxt in ",;:)":  # "e.g. a list", "approx. 3", "(see fig. 2)"
        return False
    punct = m.group(0)
    if not punct.startswith(".") or punct.startswith(".."):
        return True
    word = re.search(r"(\S+)$", block[: m.start()])
    if not word:
        return True
    token = word.group(1).lstrip("(\"'“‘[").lower()
    if token in ABBREVIATIONS:
        return token in _ENDING_ABBREVIATIONS and nxt.isupper()
    # Initials ("J. Smith") and dotted acronyms ("U.S.", "Ph.D.") never end a sentence.
    return not (re.fullmatch(r"[a-z]", token) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))


def strip_citations(text: str) -> str:
    """Remove ``[n]`` markers and tidy the spacing they leave."""
    text = _CITATION_RE.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def cited_numbers(text: str) -> list[int]:
    """Return the passage numbers cited as ``[1]``, ``[1, 3]`` or ``[2-4]``, in order, unique."""
    found: list[int] = []
    for marker in _CITATION_RE.findall(text):
        for a, b in re.findall(r"(\d+)(?:\s*[–-]\s*(\d+))?", marker):
            lo, hi = int(a), int(b or a)
            for n in range(lo, min(hi, lo + 20) + 1):
                if n not in found:
                    found.append(n)
    return found


# --- words ----------------------------------------------------------------------------------

STOPWORDS = frozenset(
    _wordlist(
        """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did
    didn't do does doesn't doing don't down during each either else ever every few for
    from further get gets got had hadn't has hasn't have haven't having he her here hers
    herself him himself his how however i if in into is isn't it it's its itself just
    let let's may me might more most must mustn't my myself neither no nor not now of
    off on once one only or other ought our ours ourselves out over own per same shall
    shan't she should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they this those through thus to too under until
    up upon us very via was wasn't we were weren't what what's when where which while
    who whom whose why will with within without won't would wouldn't yes yet you your
    yours yourself yourselves etc e.g i.e"""
    )
)
# Words about the conversation rather than the documents' subject matter.
META_WORDS = frozenset(
    _wordlist(
        """answer answers answered ask asked asking assist based certain clarify context detail
    details document documents excerpt excerpts feel find found free glad happy hello
    help helps helpful hi hope information info know let like mention mentioned mentions
    note passage passages provide provided question questions regarding said say says
    see sorry source sources sure text thank thanks unable unfortunately welcome wish"""
    )
)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def stem(word: str) -> str:
    """Crude suffix stripping so "approves", "approved" and "approval" meet at "approv"."""
    w = word.lower().replace("’", "'").removesuffix("'s")
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("al", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)] + repl
    return w


def content_words(text: str, *, meta: bool = True) -> set[str]:
    """Return stemmed content words (no stopwords; no conversation words unless ``meta``)."""
    words = set()
    for w in _WORD_RE.findall(text):
        low = w.lower().replace("’", "'")
        if low in STOPWORDS or len(low) < 2 or (not meta and low in META_WORDS):
            continue
        words.add(stem(low))
    return words


# --- hard facts -----------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        _wordlist(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty")
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
     "ninety": 90, "hundred": 100, "dozen": 12}  # fmt: skip
# "zero"/"one" double as pronouns ("one of the forms"): numbers in passages, never claims.
_CLAIM_NUMBER_WORDS = {w: v for w, v in _NUMBER_WORDS.items() if v > 1}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        _wordlist(
            "january february march april may june july august september october november december"
        )
    )
}
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9}
_NUMBER_RE = re.compile(
    r"(?<![\d.,])(?P<version>\d+(?:\.\d+){2,})"  # 1.2.3 versions, dotted dates
    r"|(?<![\d.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\.\d)"
    r"(?:\s*(?P<scale>thousand|million|billion|bn|mn|[km])\b)?",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(r"\"([^\"]{2,60})\"|“([^”]{2,60})”|`([^`]{1,60})`")
_PERIOD_WORD = re.compile(r"[QH][1-4]")
_CODE_RE = re.compile(
    r"(?<![\w.-])(?:--?[a-z][\w-]+|\.?[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+(?:\(\))?|"
    r"[A-Za-z]\w*\(\)|\.[A-Z][A-Za-z]+)"
)
_NAME_JOINERS = frozenset({"of", "for", "the", "de", "la", "van", "von", "&"})
_TOKEN_RE = re.compile(r"[\w][\w'’&.-]*[\w]|[\w&]")


@dataclass(frozen=True)
class Fact:
    """A checkable detail of a claim: ``kind`` is number, name or quote; ``text`` as written."""

    text: str
    kind: str
    key: str  # number: canonical value; name/quote: normalised phrase
    written: Written | None = None  # number: value and written precision


def normalize_phrase(text: str) -> str:
    """Lowercase, drop possessive 's and punctuation, collapse spaces (for phrase matching)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    return " ".join(re.sub(r"[^\w&]+", " ", text).split())


def _number_key(value: float) -> str:
    return f"{value:.6g}"


def _numbers(text: str, words: dict[str, int]) -> list[tuple[str, str, Written | None]]:
    """(as written, key, value with precision) for each number in ``text``: digits, scaled
    amounts and number words."""
    found: list[tuple[str, str, Written | None]] = []
    for m in _NUMBER_RE.finditer(text):
        if m.group("version"):
            found.append((m.group(0), m.group("version"), None))
            continue
        value = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        # A bare "m"/"k" right after a number is a unit only for money-like amounts.
        if scale in ("m", "k") and not text[: m.start()].rstrip().endswith(("$", "€", "£")):
            scale = ""
        written = m.group("num") if not scale else m.group(0)
        factor = _SCALE.get(scale, 1)
        precise = written_number(text, m.start(), m.group("num"), "", m.end())
        precise = Written(precise.value * factor, precise.step * factor, precise.percent,
                          precise.hedged)  # fmt: skip
        found.append((written, _number_key(value * factor), precise))
    for m in re.finditer(r"[A-Za-z]+", text):
        if (low := m.group(0).lower()) in words:
            found.append((m.group(0), _number_key(words[low]), None))
    return found


def extract_facts(claim: str) -> list[Fact]:
    """Return the hard facts a claim commits to: numbers (amounts, dates, percentages),
    capitalised names and quoted terms. Each must appear in the supporting passage.

    A capitalised word opening the sentence counts only as part of a multi-word name ("Jane
    Doe approves") or as an acronym ("GSA covers"): on its own it is just sentence case.
    """
    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, kind: str, key: str) -> None:
        if key and (kind, key) not in seen:
            seen.add((kind, key))
            facts.append(Fact(text, kind, key))

    claim = normalize_periods(claim)
    for written, key, precise in _numbers(claim, _CLAIM_NUMBER_WORDS):
        if key not in {k for kind, k in seen if kind == "number"}:
            seen.add(("number", key))
            facts.append(Fact(written, "number", key, precise))
    for m in _QUOTED_RE.finditer(claim):
        quoted = next(g for g in m.groups() if g)
        add(quoted, "quote", normalize_phrase(quoted))
    body = _QUOTED_RE.sub(" ", claim)
    for m in _CODE_RE.finditer(body):  # identifiers: R_LIBS_USER, read.table(), .Rprofile
        if not re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", m.group(0)):  # not "e.g", "U.S"
            add(m.group(0), "code", normalize_phrase(m.group(0)))
    for phrase, at_start in _capitalised_runs(body):
        first, _, rest = phrase.partition(" ")
        if at_start and not _is_acronym(first):
            phrase = rest  # sentence case: "Taking PPL" commits only to "PPL"
        # Quarters and halves ("Q2", "H1") are periods: their year is the fact.
        phrase = " ".join(w for w in phrase.split() if not _PERIOD_WORD.fullmatch(w))
        if phrase and phrase.split()[0].lower() not in _NAME_JOINERS:
            add(phrase, "name", normalize_phrase(phrase))
    return facts


def _capitalised_runs(text: str) -> list[tuple[str, bool]]:
    """Runs of capitalised words ("Department of Labor"), and whether each opens a clause."""
    runs: list[tuple[str, bool]] = []
    words: list[str] = []
    at_start = True
    prev_end = 0
    clause_start = True

    def close() -> None:
        while words and words[-1].lower() in _NAME_JOINERS:
            words.pop()
        if words:
            runs.append((" ".join(words), at_start))
        words.clear()

    for m in _TOKEN_RE.finditer(text):
        word = m.group(0).rstrip(".")
        gap = text[prev_end : m.start()]
        if gap.strip():  # punctuation between words ends a name
            close()
            clause_start = bool(re.search(r"[:;(\"“—–]", gap))
        prev_end = m.end()
        low = word.lower()
        if word[:1].isupper() and low not in STOPWORDS and low not in _NAME_JOINERS and word != "I":
            if not words:
                at_start = clause_start
            words.append(word)
        elif words and low in _NAME_JOINERS:
            words.append(word)
        else:
            close()
        clause_start = False
    close()
    return runs


def _is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


# Words of a capitalised name that say what was computed, not who: "Operating Margin".
_COMPUTED_WORDS = frozenset(
    _wordlist("margin margins ratio rate growth change total average share yoy qoq")
)


@dataclass(frozen=True)
class FactIndex:
    """What a passage offers for fact matching: its numbers, words and abbreviations."""

    numbers: frozenset[str]
    text: str
    pool: NumberPool
    words: tuple[str, ...]
    abbreviations: frozenset[str]

    @classmethod
    def of(cls, text: str) -> FactIndex:
        """Index ``text`` (numbers include number words and month names as 1-12)."""
        text = normalize_periods(text)
        keys = {key for _, key, _ in _numbers(text, _NUMBER_WORDS)}
        keys |= {_number_key(v) for m, v in _MONTHS.items() if re.search(rf"\b{m}\b", text, re.I)}
        return cls(
            frozenset(keys),
            f" {normalize_phrase(text)} ",
            NumberPool(text),
            tuple(passage_words(text)),
            frozenset(abbreviations(text)),
        )

    def has(self, fact: Fact) -> bool:
        """Whether this passage states ``fact``."""
        if fact.kind == "number":
            if fact.key in self.numbers or f" {fact.key} " in self.text:
                return True
            return fact.written is not None and self.pool.has(fact.written)
        if f" {fact.key} " in self.text:
            return True
        return fact.kind == "name" and self._names(fact.text)

    def _names(self, phrase: str) -> bool:
        """A name written another way: abbreviated, expanded, or its words in another order."""
        words = [w for w in re.findall(r"[A-Za-z][\w&.'’-]*", phrase)]
        low = [normalize_phrase(w) for w in words]
        if len(words) > 1 and any(expands(a, low) for a in self.abbreviations):
            return True  # "Fair Labor Standards Act" for the passage's "FLSA"
        present = set(self.words)
        for word, norm in zip(words, low, strict=True):
            if norm in _COMPUTED_WORDS or all(part in present for part in norm.split()):
                continue
            if is_abbreviation(word) and expands(word, list(self.words)):
                continue
            return False
        return True

    def derive(self, fact: Fact, claim: str, subject: set[str]) -> str:
        """How a number the passage does not state is computed from its numbers ("" if not)."""
        if fact.kind != "number" or fact.written is None:
            return ""
        return self.pool.derive(fact.written, claim, subject)
