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
# Words that say the digits nearby are a phone number.
_PHONE_WORD = re.compile(
    r"\b(?:tel|tele|telephone|phone|ph|call|calling|called|dial|fax|facsimile|mobile|mob|cell|"
    r"cellphone|landline|hotline|helpline|whatsapp|sms|text|reach|contact|voicemail|tty|"
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
    if not _phone_shape(text, start, end, value):
        return False
    if value.startswith("+") or _phone_word(text[max(0, start - _BEFORE) : start]):
        return True
    label = _label_after(text, end)
    if _phone_word(label):
        return True
    if _ID_LABEL.search(text[max(0, start - _BEFORE) : start] + " " + label):
        return False
    if _in_number_row(text, start, end, value):
        return False
    return "(" in value or _national_layout(value)


def _phone_shape(text: str, start: int, end: int, value: str) -> bool:
    """Reject the digit runs phonenumbers accepts that no one writes as a phone number."""
    digits = sum(c.isdigit() for c in re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    if digits < 7 or digits > 15:
        return False
    if _DATE.match(value) or _SSN_SHAPE.match(value) or _YEAR_RANGE.match(value):
        return False
    # A regulation number (5 CFR 2635.203) or a date range (11/27–12/26), not a phone.
    if "/" in value or (value.count(".") == 1 and not re.search(r"[\s()-]", value)):
        return False
    # Table columns: a wide gap, a tab or a dash other than the hyphen between the digits.
    if re.search(r"\s{2,}|[\t\xa0–—−]", value):
        return False
    # Only years ("2022 2021", a table's column headers).
    groups = re.findall(r"\d+", value)
    if len(groups) > 1 and all(_YEAR.fullmatch(g) for g in groups):
        return False
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    # Part of an amount, a decimal, a form number, a version or a longer identifier.
    if re.search(r"[$€£#/=_]\s?\Z|\d[.,:]\Z|\d[ \t-]\Z|\w\Z", before) or re.match(
        r"[.,]\d|[%\w/]|-\d", after
    ):
        return False
    # A bare run of digits without separators is a phone number only with a "+" or 10+ digits.
    return not (value.isdigit() and digits < 10)


def _phone_word(context: str) -> bool:
    return bool(_PHONE_WORD.search(context))


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
    if re.search(rf"(?:^|\s){number}\s*\Z", left) or re.match(rf"\s*{number}(?:\s|$)", right):
        return True
    # Decimals between spaces ("128.30 4.2") are figures, not a dotted phone number.
    return " " in value and "." in value


def _national_layout(value: str) -> bool:
    """A trunk "0" first, or North America's 3-3-4 groups with one kind of separator."""
    digits = re.sub(r"\D", "", re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    if digits.startswith("0"):
        return True
    groups = re.findall(r"\d+", re.split(r"\s?(?:x|ext)", value, flags=re.I)[0])
    separators = set(re.findall(r"[^\d]+", value.split("x")[0].split("ext")[0]))
    lengths = [len(g) for g in groups]
    if lengths in ([3, 3, 4], [1, 3, 3, 4]) and len(separators) == 1:
        return digits[-10] in "23456789"
    return value.isdigit() and len(digits) >= 10
