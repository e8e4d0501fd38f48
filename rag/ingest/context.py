"""Document context: what a document is, about whom, and for when, derived at ingestion.

Once a document is cut into chunks, a body passage of a quarterly filing says "the Company",
never its name or quarter; a passage of this year's policy reads like last year's. The context
travels with every chunk (in the embedded header and in the lexical index), so a question that
names a company, a team, a product or a period can find that document's passages.

It is derived the same way for every format, from cues any document offers:

* **title**: a meaningful metadata title (PDF /Title, DOCX core properties, Markdown/HTML
  title or first heading), else the most prominent line of the first page (largest font in a
  PDF), else the file name;
* **subject**: the organisation or party it is about: a name with a legal-entity suffix
  ("Adobe Inc.", "Acme Holdings plc"), a case caption ("Smith v. Jones"), or a PDF /Subject
  or author that names one;
* **period**: the period or date it covers when stated ("for the quarterly period ended June
  25, 2022", "statement period", "as of", "dated"), with the fiscal year or calendar quarter it
  names spelled the way people ask for it ("FY2022", "calendar Q2 2022").

Every field can be corrected by a user on the Documents page; a corrected field wins. A PDF's
own cues (/Subject, /Author, its largest-font line) are read by :mod:`rag.ingest.pdf_cues`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import PurePath

from rag.ingest.text import sensible_title
from rag.types import LoadedDocument

_FIRST_PAGES = 2  # cover and first page: where documents say what they are
_SCAN_CHARS = 6000  # per page: bounds the regex work on a hostile first page
_MAX_FIELD = 120

_ENTITY_SUFFIX = (
    r"Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.|LLC|L\.L\.C\.|LLP|L\.P\.|LP|PLC|plc|"
    r"Ltd\.?|Limited|Holdings|Group|N\.A\.|AG|SE|S\.A\.|GmbH|N\.V\.|B\.V\.|Trust|Bank|"
    r"University|Agency|Department|Council|Authority|Association|Foundation"
)
_NAME_WORD = r"(?:[A-Z][A-Za-z0-9&'’.\-]*|&|of|and|the|de)"
_ENTITY = re.compile(
    rf"\b([A-Z][A-Za-z0-9&'’.\-]*(?:[ ,]{{1,2}}{_NAME_WORD}){{0,5}}?[ ,]{{1,2}}"
    rf"(?:{_ENTITY_SUFFIX})(?:[ ,]{{1,2}}(?:{_ENTITY_SUFFIX}))*)(?![A-Za-z])"
)
_SELF_REFERENCE = re.compile(
    r"\b(?:the|our|this)\s+\w+$|^(?:The\s+)?(?:Company|Corporation)$", re.I
)
_CAPTION = re.compile(
    r"\b([A-Z][A-Za-z.'’&\- ]{1,60}?)\s+v\.?\s+([A-Z][A-Za-z.'’&\-, ]{1,80}?)(?=[,\n(]|\s{2}|$)",
    re.M,
)
_REGISTRANT = re.compile(r"\n([^\n]{3,100})\n[^\n]{0,10}\(?\s*Exact name of registrant", re.I)
# Page furniture that opens many documents without naming them.
_BOILERPLATE = re.compile(
    r"^(?:table of contents|contents|index|united states\b.*|for immediate release|form\s+\S+|"
    r"page \d+.*|confidential|draft|exhibit \S+|\(mark one\))$|commission file|reporting company|"
    r"growth company|registrant|securities and exchange commission|proof pending|"
    r"\bpage \d+ of \d+\b",
    re.I,
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = (
    rf"(?:{_MONTH}\s+\d{{1,2}}\s*,\s*\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})"
)
_PERIOD_CUES = (
    rf"(?P<kind>fiscal\s+year|quarterly\s+period|quarter|year|period|six\s+months|"
    rf"nine\s+months|three\s+months|statement\s+period)\s+(?:ended|ending|end)\s*:?\s*"
    rf"(?P<date>{_DATE})",
    rf"(?P<kind>statement\s+period|billing\s+period|period)\s*:?\s*(?:from\s+)?"
    rf"(?P<date>{_DATE}\s*(?:-|–|to|through)\s*{_DATE})",
    rf"(?P<kind>date\s+of\s+report)[^:\n]{{0,60}}:\s*(?P<date>{_DATE})",
    rf"(?P<kind>as\s+of|dated|effective)\s+(?P<date>{_DATE})",
)
_PERIOD = [re.compile(p, re.I) for p in _PERIOD_CUES]
_SUBJECT_PERIOD = re.compile(r"for the period ending (\d{4})-(\d{2})-(\d{2})", re.I)
_TOOL_AUTHORS = re.compile(r"edgar|donnelley|kaleidoscope|microsoft|adobe acrobat|word|pdf", re.I)
_ID_LIKE = re.compile(r"^[\W\d_]*$|^\d{6,}|_[A-Za-z0-9]+_")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}

__all__ = [
    "DocumentContext",
    "derive_context",
    "file_words",
    "find_period",
    "find_subject",
    "meaningful_title",
    "prominent_line",
]


@dataclass
class DocumentContext:
    """A document's identity: title, what it is about, the period it covers."""

    title: str
    subject: str = ""
    period: str = ""

    def label(self) -> str:
        """One line naming the document: ``title · subject · period`` without repeats."""
        parts: list[str] = []
        for part in (self.title, self.subject, self.period):
            if part and not any(part.lower() in p.lower() for p in parts):
                parts.append(part)
        return " · ".join(parts)

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None, fallback_title: str = "") -> DocumentContext:
        """Rebuild from a stored dict (missing fields empty, title falling back)."""
        data = data or {}
        return cls(
            title=_clip(str(data.get("title") or fallback_title)),
            subject=_clip(str(data.get("subject") or "")),
            period=_clip(str(data.get("period") or "")),
        )


def _clip(text: str) -> str:
    text = " ".join(re.sub(r"[_=~*]{3,}|-{3,}", " ", text).split()).strip(" .,;:")
    return text if len(text) <= _MAX_FIELD else text[: _MAX_FIELD - 1].rstrip() + "…"


def file_words(filename: str) -> str:
    """The words of a file name: ``ACME_2023Q2_10Q.pdf`` -> ``ACME 2023 Q2 10Q``."""
    stem = PurePath(filename).stem
    stem = re.sub(r"[_\-.+]+", " ", stem)
    stem = re.sub(r"(?<=\d)(?=[A-Za-z]{1,2}\d)|(?<=[a-z])(?=[A-Z])", " ", stem)
    return " ".join(stem.split())


def meaningful_title(raw: object) -> str | None:
    """A metadata title that names something, not a tool default, file name or record id."""
    title = sensible_title(_clip(str(raw or "")))
    if not title or _ID_LIKE.search(title) or _BOILERPLATE.search(title):
        return None
    words = re.findall(r"[A-Za-z]{2,}", title)
    return title if words and sum(len(w) for w in words) >= 5 else None


def _period_label(kind: str, when: str) -> str:
    kind = " ".join(kind.lower().split())
    label = f"{kind} ended {when}" if kind not in ("as of", "dated", "effective") else ""
    label = label or f"{kind} {when}"
    if kind == "date of report":
        label = f"report dated {when}"
    return label + _period_aliases(kind, when)


def _period_aliases(kind: str, when: str) -> str:
    """The names people use for a period end: ``FY2022``, ``Q2 2022``."""
    year = re.search(r"(\d{4})\s*$", when) or re.match(r"(\d{4})-", when)
    if not year:
        return ""
    y = year.group(1)
    if "fiscal" in kind or kind == "year":
        return f" (FY{y}, fiscal {y})"
    if "quarter" in kind or kind == "three months":
        month = re.match(r"([A-Za-z]{3})", when)
        num = _MONTHS.get(month.group(1).lower()) if month else None
        if num is None and (iso := re.match(r"\d{4}-(\d{2})", when)):
            num = int(iso.group(1))
        if num:
            q = (num - 1) // 3
            # the calendar quarter: a fiscal quarter's number is the company's own to say
            nth = ("first", "second", "third", "fourth")[q]
            return f" (calendar Q{q + 1} {y}, {nth} calendar quarter of {y})"
    return f" ({y})"


def find_period(texts: list[str], pdf_subject: str = "") -> str:
    """The period the document covers, from its first pages (or a PDF /Subject)."""
    for text in texts:
        for pattern in _PERIOD:
            if m := pattern.search(text):
                when = " ".join(m.group("date").split())
                return _clip(_period_label(m.group("kind"), when))
    if m := _SUBJECT_PERIOD.search(pdf_subject):
        when = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        return _clip(f"period ended {when} ({m.group(1)})")
    return ""


def find_subject(
    texts: list[str], pdf_subject: str = "", author: str = "", prominent: str = ""
) -> str:
    """The organisation or party a document is about, when its first pages name one."""
    joined = "\n".join(texts)
    if m := _REGISTRANT.search("\n" + joined):
        name = _clip(m.group(1))
        if re.search(r"[A-Za-z]{2}", name) and not _BOILERPLATE.search(name):
            return name
    for candidate in (prominent, pdf_subject, author):
        if candidate and not _TOOL_AUTHORS.search(candidate) and _ENTITY.search(candidate):
            return _clip(_ENTITY.search(candidate).group(1))
    if m := _CAPTION.search(joined):
        return _clip(f"{m.group(1).strip()} v. {m.group(2).strip(' ,')}")
    names = Counter(
        " ".join(m.group(1).split()).strip(" ,")
        for m in _ENTITY.finditer(joined)
        if not _BOILERPLATE.search(m.group(1))
    )
    # "Portions of the Company" is the document talking about itself, not a name
    ranked = [n for n, _ in names.most_common() if not _SELF_REFERENCE.search(n)]
    several = [name for name in ranked if len(name.split()) >= 2]  # "Bank" alone names no one
    return _clip((several or ranked or [""])[0])


def prominent_line(text: str) -> str:
    """The first substantial line of a page: a fallback title when nothing better exists."""
    for line in text.split("\n")[:15]:
        line = _clip(line)
        words = len(re.findall(r"[A-Za-z]{3,}", line))
        if 8 <= len(line) <= 100 and words >= 2 and line[0].isupper():  # noqa: SIM102
            if not _BOILERPLATE.search(line):  # page furniture is not a title
                return line
    return ""


def derive_context(doc: LoadedDocument, extra: dict[str, str] | None = None) -> DocumentContext:
    """Derive a document's context from its metadata and first pages.

    Args:
        doc: the loaded document (its ``metadata`` may carry ``title``, ``subject``,
            ``author`` and ``prominent`` (the largest-font line of a PDF's first page)).
        extra: fields that override what is derived (a user's corrections).
    """
    meta = doc.metadata
    texts = [p.text[:_SCAN_CHARS] for p in doc.pages[:_FIRST_PAGES]]
    pdf_subject = str(meta.get("subject") or "")
    title = (
        meaningful_title(meta.get("title"))
        or meaningful_title(meta.get("prominent"))
        or meaningful_title(pdf_subject)
        or (prominent_line(texts[0]) if texts and doc.kind == "pdf" else "")
        or file_words(doc.filename)
    )
    context = DocumentContext(
        title=_clip(title),
        subject=find_subject(
            texts, pdf_subject, str(meta.get("author") or ""), str(meta.get("prominent") or "")
        ),
        period=find_period(texts, pdf_subject),
    )
    for key, value in (extra or {}).items():
        if key in ("title", "subject", "period") and value is not None:
            setattr(context, key, _clip(str(value)))
    return context
