"""Street addresses: the patterns that find them and the rules that tell them from look-alikes.

Each pattern is a named alternative of one regular expression; ``address_matches`` returns where
they match, less the look-alikes real documents are full of: "Level 1 Level 2" (a fair-value
table), "During 2020" (a word ending like a street word), "598 U. S. 85" (a law report), "10.24
Neolane 2008" (a numbered exhibit) and "8 using a path" (prose). Nothing here is fitted to a
collection: every rule says what an address never looks like.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

_SUFFIX = (
    r"street|st|str|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|crescent|cres|close|row|"
    r"trail|trl|alley|plaza|grove|gardens|walk|mews|hill|park|path|pike|loop|route|rte|"
    r"expressway|freeway|turnpike|creek|crossing|point|ridge|view|heights|estate"
)
_PREFIX = (
    r"rue|avenue|av\.?|boulevard|bd|chemin|allée|impasse|place|quai|via|viale|piazza|calle|"
    r"avenida|av\.|rua|rúa|travessa|estrada|ul\.|ulica|aleja|al\.|plac|straße|strasse|str\.|"
    r"cours|c/"
)
# The street words written before the name in languages other than English.
_PREFIX_FIRST = (
    r"rue|chemin|allée|impasse|quai|via|viale|piazza|calle|avenida|rua|rúa|travessa|estrada|"
    r"ul\.|ulica|aleja|al\.|plac"
)
_STREET_WORD = (
    r"strasse|straße|str\.|gasse|weg|utca|útja|vej|plads|gade|veien|vegen|gata|tie|katu|"
    r"cesta|ulica|út|tér|sokak|caddesi|straat|laan|vei|rakpart|allee|street|road|avenue"
)
_FOREIGN_WORD = (
    r"plads|gade|vej|vei|veien|vegen|gata|katu|utca|útja|gasse|cesta|ulica|sokak|caddesi|"
    r"straat|laan|rakpart|allee"
)
_NAME_WORD = r"[^\W\d_][\w'’-]*\.?"
_DIRECTION = r"N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest"
# English words that are never part of a street's name ("8 using a path", "Office 365 Consumer
# subscribers increased to 23").
_PROSE_WORDS = (
    "a an the is are was were be been can could will would should may might must to of in for "
    "with using by as on at from or and not no its our your their his her which who that this "
    "there these those it we you they has have had than then when if into per"
)
_PROSE = frozenset(_PROSE_WORDS.split())
# A word of a street's name: not one of those; or an ordinal ("184th Street", "5th Avenue").
_STREET_NAME = rf"(?:(?!(?:{'|'.join(sorted(_PROSE))})\b){_NAME_WORD}|\d{{1,3}}(?:st|nd|rd|th)\b)"
_PROPER = r"(?-i:\p{Lu})[\w'’-]*\.?"


# Not right after a section number's dot or a figure's decimal point ("10.24 Neolane 2008").
_NUMBER_START = r"(?<![\d][.,])\b"
# Words that follow a number in prose, dates, tables and citations, never a street name.
_NOT_STREET = (
    r"(?!(?:in|to|of|the|and|or|for|on|at|by|from|with|per|business|days?|hours?|weeks?|"
    r"months?|years?|minutes?|percent|people|employees|U\.?S\.?C|C\.?F\.?R|section|chapter|"
    r"part|title|page|step|version|item|article|form|line|table|figure|jan(?:uary)?|"
    r"feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|levels?|notes?|tiers?|class|series|phase|"
    r"stages?|rules?|grades?|exhibits?|schedules?|annex|appendix|quarters?|during|fiscal|"
    r"annual|including|using|total)\b)"
)
_ADDRESS_PATTERNS = {
    # 12 Main Street, 1600 Pennsylvania Avenue NW, 221B Baker St., 83 Tower Road North
    "street": rf"{_NUMBER_START}(?:\d{{1,5}}[ \t]+)?\d{{1,6}}[A-Za-z]?[ \t]+{_NOT_STREET}"
    rf"{_STREET_NAME}(?:[ \t]+{_STREET_NAME}){{0,3}}[ \t]+(?:{_SUFFIX})\b\.?"
    rf"(?:[ \t]+(?-i:{_DIRECTION})\b)?",
    # 15 rue Victor Hugo, 71 estrada nacional 105, 92 ul. Lubartowska 42, 46 89 cours Foch
    "prefixed": rf"{_NUMBER_START}(?:\d{{1,5}}[ \t]+)?\d{{1,6}}[A-Za-z]?,?[ \t]+(?:{_PREFIX})"
    rf"(?:[ \t]+{_NAME_WORD}){{1,4}}(?:[ \t]+\d{{1,5}}\b)?",
    # Via Roma 41, Rua Soldado Joaquim Xavier 1471, ul. Paderewskiego 85: the street word
    # first, a name in capitals, the house number after it
    "prefix_first": rf"\b(?:{_PREFIX_FIRST})(?:[ \t]+{_PROPER}){{1,4}}[ \t]+\d{{1,5}}[A-Za-z]?\b"
    r"(?![.,:/-]?\d)",
    # Duizendmonnikenstraat 189, Lozerlaan 172, Hauptstraße 5, kvaløyvågvegen 140
    "compound": r"\b(?:\d{1,5}[ \t]+)?[^\W\d_][\w'’-]*?(?:straat|strasse|straße|laan|weg|gasse|"
    r"gade|vej|gatan|vägen|vegen|veien|plein|gracht|kade|dreef|steeg|allee|platz|ring|damm|tie|katu|"
    r"steenweg|stræti)\s+\d{1,5}[a-z]?\b",
    # 85 Trg revolucije 12, 42 Costanera 9293: a house number, a capitalised street name and
    # the number many countries write after it
    "numbered": rf"{_NUMBER_START}(?:\d{{1,5}}[ \t]+)?\d{{1,5}}[A-Za-z]?[ \t]+{_NOT_STREET}"
    rf"(?-i:\p{{Lu}})[\w'’.-]*(?:[ \t]+{_STREET_NAME}){{0,3}}"
    r"[ \t]+\d{1,5}[A-Za-z]?\b(?![.,:/-]?\d)\.?",
    # Freistädter Strasse 61, Hegedûs Gyula utca 76, Simavikveien 231
    "worded": rf"\b(?-i:\p{{Lu}})[\w'’.-]*(?:[ \t]+{_NAME_WORD}){{0,3}}[ \t]*(?:{_STREET_WORD})"
    r"[ \t]+\d{1,5}[A-Za-z]?\b\.?",
    # margrethes plads 17, frankfurter allee 73: a street word no English prose uses, any case
    "foreign_worded": rf"\b{_STREET_NAME}(?:[ \t]+{_STREET_NAME}){{0,2}}[ \t]+(?:{_FOREIGN_WORD})"
    r"[ \t]+\d{1,5}[A-Za-z]?\b\.?",
    # Chile 53977 / Tartu TA 56325: a place and a postcode closing a line of an address
    "postcode_line": r"(?m)(?<=\p{L}[ \t])\d{5}(?:-\d{4})?[ \t]*$",
    # Apt. 604, Suite 942, Unit 3, P.O. Box 101, PSC 1234, Box 5678, Postfach 71
    "unit": r"\b(?:apt\.?|apartment|suite|ste\.?|unit|flat|room|p\.?\s?o\.?\s?box|psc|box|"
    r"postbox|postfach|apartado|caixa postal)[ \t]"
    r"#?\d{1,6}[A-Za-z]?\b",
    # Military mail: USS Napolitani FPO AP 70381, APO AE 09012
    "military": r"\b(?:USS|USNS|USNV)\s+[A-Z][a-z]+\b|\b[AFD]PO\s+A[AEP]\s+\d{5}\b",
    # Springfield, IL 62704 / Dallas TX 75001-1234
    "state_zip": r"(?<=\p{L},?[ \t])(?-i:[A-Z]{2})[ \t]+\d{5}(?:-\d{4})?\b",
    # "shows on Boyle Street": a capitalised name and a spelled-out street word
    "named_street": r"(?-i:\b\p{Lu}[\w'’-]+[ \t]+(?:Street|Avenue|Road|Boulevard|Lane))\b",
    # Postcodes named as such: "my zip code is 98547", "postcode SW1A 1AA"
    "named_postcode": r"(?i:zip(?:\s?code)?|post(?:al)?\s?code)(?:\s+is)?:?\s+\K"
    r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b",
}
# A law report citation: volume, reporter abbreviations, page ("598 U. S. 85", "537 F.3d 185",
# "251 Ariz. 402", "2d Cir. 2010", "141 S. Ct.", "598 U. S. Part 1", "123 AFTR 2d 2019").
_CITATION = (
    r"^\d{1,4}[a-z]{0,2}[ \t]+(?!P\.\s?O\.\s?Box)(?:"
    r"(?:(?-i:[A-Z])[A-Za-z]{0,5}\.[ \t]?(?:\d?[a-z]{1,2}[ \t]+)?){1,4}(?:\d{1,5}|\(|$)"
    r"|(?:(?-i:[A-Z])[A-Za-z]{0,5}\.[ \t]?){2,}"
    r"|(?-i:[A-Z]+)[ \t]+(?:2d|3d|4th)\b)"
)
# Street words that are also common nouns ("a 100 basis point change", "7 inches square").
_AMBIGUOUS_WORDS = (
    "way place pl square sq row close walk path park hill loop route point view crossing "
    "estate ridge heights court ct circle cir creek trail grove gardens mews plaza"
)
_AMBIGUOUS_SUFFIXES = frozenset(_AMBIGUOUS_WORDS.split())
_DIRECTIONS = frozenset(_DIRECTION.lower().split("|"))
_MONTHS = (
    "jan january feb february mar march apr april may jun june jul july aug august sep sept "
    "september oct october nov november dec december"
)
_CALENDAR = frozenset(_MONTHS.split())


@cache
def _address_regex():
    import regex  # Presidio's dependency; needed for \K (keep the context out of the span)

    alternatives = (f"(?P<{name}>{p})" for name, p in _ADDRESS_PATTERNS.items())
    return regex.compile("|".join(alternatives), regex.IGNORECASE)


@cache
def _citation_regex():
    import regex

    return regex.compile(_CITATION)


@cache
def common_words() -> frozenset[str]:
    """Lower-case common English words (the list the name rules use)."""
    lines = (HERE / "common_words.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def address_matches(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has street lines, units, military addresses and postcodes."""
    found, position, pattern = [], 0, _address_regex()
    while match := pattern.search(text, position):
        if _plausible(match.lastgroup or "", match.group()):
            found.append((match.start(), match.end()))
            position = max(match.end(), position + 1)
        else:
            # A look-alike hides no address of its own shape, but another pattern may start
            # inside it ("98 P.O. Box 101" read as a citation still holds "P.O. Box 101").
            position = match.start() + 1
    return found


def _plausible(kind: str, value: str) -> bool:
    """Reject the look-alikes of the patterns that have no street word to go by."""
    words = [w.strip(".,'’").lower() for w in value.split()]
    if kind in ("street", "numbered") and _citation_regex().match(value):
        return False
    if kind == "street":
        return _plausible_street(value.split())
    if kind == "numbered":
        return _plausible_numbered(value.split(), words)
    if kind == "compound":
        # "During 2020", "Offering 5": an English word that only ends like a street word.
        word = next(w for w in words if not w[:1].isdigit())
        return word not in common_words()
    return True


def _plausible_street(tokens: list[str]) -> bool:
    """A street word that is also a common noun needs a name in capitals before it."""
    suffix = tokens[-1].strip(".").lower()
    if suffix in _DIRECTIONS and len(tokens) > 2:
        suffix = tokens[-2].strip(".").lower()
    if suffix not in _AMBIGUOUS_SUFFIXES:
        return True
    # "7 inches square", "a 100 basis point change", "1 Evaluation always takes place"
    names = [t for t in tokens[:-1] if not t[:1].isdigit()]
    return all(t[:1].isupper() for t in names)


def _plausible_numbered(tokens: list[str], words: list[str]) -> bool:
    """A number, a name, a number: not a date, a model number, a comparison or a table."""
    named = [w for w in words if not w[:1].isdigit()]
    # A common English word between two numbers ("1 Level 2", "2022 Change 2023").
    if all(w in common_words() for w in named):
        return False
    # Dates and comparisons ("2023 Six months ended June 30", "2022 ACTUAL vs. 2021").
    if any(w in _CALENDAR or w in ("vs", "versus") for w in named):
        return False
    # Model and product numbers ("737 MAX 8", "16 F-35 Lot 15", "46 NM 260").
    names = [t for t in tokens if not t[:1].isdigit()]
    return not any(any(c.isdigit() for c in t) or _acronym(t) for t in names)


def _acronym(token: str) -> bool:
    letters = token.strip(".,")
    return len(letters) > 1 and letters.isalpha() and letters.isupper()
