"""Phone numbers: ``phonenumbers`` finds digit runs of a phone's shape, our rules keep the phones.

``phonenumbers`` at its ``POSSIBLE`` leniency accepts almost any 7–15 digits, so on real documents
most of its matches are table cells ("2022 2021", "244 452 364"), filing and account numbers
("File No. 001-38932", "Account 111-111111"), citations and version strings. A match is kept
when it carries a phone's own evidence: a "+" country code, a phone word nearby (tel, phone,
call, fax, ...), an area code in parentheses, or a national layout (a trunk "0", or the North
American 3-3-4 groups) outside a row of numbers and away from an identifier's label.
"""

from __future__ import annotations

import re

# Regions whose national formats are tried; a number with a "+" country code parses anywhere.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "AU", "NL", "IT", "ES")

_DATE = re.compile(r"^\d{1,4}([-/.])\d{1,2}\1\d{1,4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_YEAR_RANGE = re.compile(r"^(1[89]|20)\d\d\s*[-–]\s*(1[89]|20)?\d\d$")
_YEAR = re.compile(r"(?:19|20)\d\d")
_ZIP4 = re.compile(r"^\d{5}\s?-\s?\d{4}$")
# An area code in parentheses opening the number: "(415) 555-0132", "+44 (0)20 7946 0958"; a
# table's negative figures ("(194) 21 235") are not laid out so.
_AREA_CODE = re.compile(
    r"^(?:\+\d{1,3}[\s-]?)?\(\d{1,5}\s?\)\s?"
    r"(?:\d{2,5}[-.]\d{3,4}|\d{3,4}\s\d{4}|\d{1,4}\s\d{3,4}\s\d{3,4})"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?$",
    re.I,
)
# Words that say the digits nearby are a phone number.
_PHONE_WORD = re.compile(
    r"\b(?:tel|tele|telephone|phone|ph|call|calling|called|dial|fax|facsimile|mobile|mob|cell|"
    r"cellphone|landline|hotline|helpline|whatsapp|sms|contact|voicemail|tty|telecopier|"
    r"telefax|"
    r"office|answering)\b|☎|📞",
    re.I,
)
# Labels that say the digits nearby are an identifier, not a phone number.
_ID_LABEL = re.compile(
    r"\b(?:file|commission|registration|reg|employer|identification|ein|fein|tin|taxpayer|"
    r"account|acct|a/c|invoice|inv|order|case|docket|cusip|isin|isbn|issn|sedol|serial|"
    r"patent|policy|claim|reference|ref|routing|aba|swift|member|membership|license|licence|"
    r"permit|contract|ticket|tracking|receipt|transaction|voucher|cert|certificate|no|nos|"
    r"number|id)\b\.?|#|№",
    re.I,
)
_BEFORE = 40  # characters before a number where its label or phone word is looked for
_AFTER_LINES = 120  # characters after a number (its line and the next) for its label


def phone_matches(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has phone numbers in any of ``PHONE_REGIONS``' formats, with evidence."""
    import phonenumbers

    seen: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE, max_tries=200
        )
        for match in matcher:
            seen.add(extend_extension(text, match.start, match.end))
    return [(start, end) for start, end in sorted(seen) if plausible_phone(text, start, end)]


def extend_extension(text: str, start: int, end: int) -> tuple[int, int]:
    """Take in an extension written right after the number ("x1711")."""
    tail = re.match(r"\s?(?:x|ext\.?)\s?\d{1,6}\b", text[end:], re.I)
    return start, end + (tail.end() if tail else 0)


def plausible_phone(text: str, start: int, end: int) -> bool:
    """Keep a match only if it has a phone's shape and a phone's evidence."""
    value = text[start:end].strip()
    if value.startswith("+") and not value[1:2].isdigit():
        return False  # a sign before figures ("LIBOR + 3.78"), not a country code
    if not _phone_shape(text, start, end, value):
        return False
    if value.startswith("+"):
        return True
    # The nearest label decides: the last one before the number, else the first one after it.
    label = _nearest_label(text[max(0, start - _BEFORE) : start], last=True)
    label = label or _nearest_label(_label_after(text, end), last=False)
    if label:
        return label == "phone"
    if _in_number_row(text, start, end, value):
        return False
    return bool(_AREA_CODE.match(value)) or _national_layout(value)


def _phone_shape(text: str, start: int, end: int, value: str) -> bool:
    """Reject the digit runs phonenumbers accepts that no one writes as a phone number."""
    digits = sum(c.isdigit() for c in re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    if digits < 7 or digits > 15:
        return False
    bare = value.strip("()")
    if any(shape.match(bare) for shape in (_DATE, _SSN_SHAPE, _YEAR_RANGE, _ZIP4)):
        return False
    # A regulation number (5 CFR 2635.203) or a date range (11/27–12/26), not a phone.
    if "/" in value or (value.count(".") == 1 and not re.search(r"[\s()-]", value)):
        return False
    # Table columns: a wide gap, a tab or a dash other than the hyphen between the digits.
    if re.search(r"\s{2,}|[\t\xa0–—−]", value):
        return False
    # Only years ("2022 2021", a table's column headers), or a year in parentheses ("(2023)").
    groups = re.findall(r"\d+", value)
    if len(groups) > 1 and all(_YEAR.fullmatch(g) for g in groups):
        return False
    if re.search(r"\((?:19|20)\d\d\)", value) or value.count("(") > 1:
        return False
    # Decimals between spaces ("128.30 4.2") are figures; a single digit between spaces is a
    # list of figures ("0 7 11 15"): phone groups have two digits or more.
    figures = "." in value or re.search(r"(?:^|\s)\d(?=\s)", value)
    if " " in value and figures and not value.startswith("+1 "):
        return False
    if _in_url(text, start, end):
        return False
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    # Part of an amount, a decimal, a form number, a version or a longer identifier.
    if re.search(
        r"[$€£#/=_|]\s?\Z|\d[.,:]\Z|\d[ \t-]\Z|\w-?\Z|(?:^|[\s=(])[-−]\Z", before
    ) or re.match(r"[.,]\d|[%\w/]|-\d", after):
        return False
    # A bare run of digits without separators is a phone number only with a "+" or 10+ digits.
    return not (value.isdigit() and digits < 10)


def _nearest_label(context: str, last: bool) -> str | None:
    """ "phone" or "identifier" for the label nearest the number in ``context``, or None."""
    found = [(m.start(), "phone") for m in _PHONE_WORD.finditer(context)]
    for m in _ID_LABEL.finditer(context):
        # "Tel. No.", "phone number", "Fax #": the number of a phone.
        if not _PHONE_WORD.search(context[max(0, m.start() - 12) : m.start()]):
            found.append((m.start(), "identifier"))
    if not found:
        return None
    return (max(found) if last else min(found))[1]


def _label_after(text: str, end: int) -> str:
    """The rest of the number's line and the next line: where a label under it would be."""
    # Cover pages put the label on the line under the number: "(Commission File Number)".
    lines = text[end : end + 200].split("\n")
    return " ".join(lines[:2])[:_AFTER_LINES]


def _in_number_row(text: str, start: int, end: int, value: str) -> bool:
    """The match sits among other numbers on its line: a table row, a list of figures."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    left = text[line_start:start]
    right = text[end : len(text) if line_end < 0 else line_end]
    number = r"[-−(]?[$€£]?\d[\d,.]*%?\)?"
    return bool(
        re.search(rf"(?:^|\s){number}\s*\Z", left) or re.match(rf"\s*{number}(?:\s|$)", right)
    )


def _in_url(text: str, start: int, end: int) -> bool:
    """Digits inside a web address or a path ("eventbrite.com/o/pmo-13413630716")."""
    token_start = max(text.rfind(c, 0, start) for c in " \t\n(<[") + 1
    return "/" in text[token_start:start] or "=" in text[token_start:start]


def _national_layout(value: str) -> bool:
    """A trunk "0" first, or North America's 3-3-4 groups with one kind of separator."""
    digits = re.sub(r"\D", "", re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    # A trunk "0" then an area code and number (9+ digits); "00" is the international prefix,
    # so a country code and a whole number follow it.
    if digits.startswith("00"):
        return len(digits) >= 11
    if digits.startswith("0"):
        return len(digits) >= 9
    groups = re.findall(r"\d+", re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    separators = set(re.findall(r"[^\d]+", value.split("x")[0].split("ext")[0]))
    lengths = [len(g) for g in groups]
    if lengths in ([3, 3, 4], [1, 3, 3, 4]) and len(separators) == 1:
        return digits[-10] in "23456789"
    return value.isdigit() and len(digits) >= 10
