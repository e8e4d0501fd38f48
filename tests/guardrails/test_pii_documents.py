"""The pattern recognisers on real document text: look-alikes stay unflagged, real data is found.

Every negative below is a line from a real filing, manual, court brief, statement or handbook
page where the patterns once reported a phone number or an address.
"""

from __future__ import annotations

import pytest

from rag.guardrails.pii import PiiDetector, pii_detector
from rag.guardrails.redaction import redact


@pytest.fixture(scope="module")
def patterns() -> PiiDetector:
    return pii_detector(ner=False)


def found(detector: PiiDetector, text: str) -> set[tuple[str, str]]:
    return {(s.entity_type, s.text) for s in detector.find(text)}


NOT_PHONES = [
    # table headers of two years, and years in parentheses
    "(in millions) 2022 2021 Change",
    "Three months ended March 31,\n(in millions) 2021 2020 Change",
    "Cite as: 598 U. S. 39 (2023) 45\nOpinion of the Court",
    "R version 2.14.1 Patched (2012-01-16) r58124",
    # numbers labelled as identifiers, before or on the line under them
    "Jersey 001-38932 98-1455367\n(State or other jurisdiction of incorporation) "
    "(Commission File Number) (I.R.S. Employer Identification No.)",
    "Current Report on Form 8-K, File No. 001-34028, filed November 17, 2016).",
    "Registration Statement (Form S-8 No. 333-181073) pertaining to the Kiva Systems plan",
    "Account 111-111111\nJohn W. Doe - Individual TOD",
    "Account Number: 12345-67-8907\nFor Lost or Stolen Card, Call: 1-800-XXX-XXXX",
    "Federal Employer Identification Number (FEIN): 44-0553234",
    "Springer, ISBN 0-387-98957-0.",
    # table rows: figures, negative figures in parentheses, decimals, column gaps
    "Operation and maintenance 244 452 364\nDepreciation and amortization 16 35 42",
    "Canada 487  608  636\nEMEA 661  724  673",
    "Deferred (194) 21 235\nTotal federal income tax expense 1,131",
    "Other income (expense), net 62 (10) 178\nOperating profit 9,123 8,644 8,545",
    "Global Brand Divisions\n(3) 42 88 -52  % -53  % 73",
    "Forfeited   (349)   28.44\nNon-vested shares",
    '32.4 8.18 1.4 0.36 "eval"\n31.8 8.02 1.4 0.34 ".Call"',
    "[3,] 0 7 11 15 19\n[4,] 4 8 12 16 20",
    "LIBOR + 3.78 168.75 168.75\nSeries U",
    # a zip+4 code, a negative integer, digits inside a web address
    "Seattle, Washington  98109 -5210 (Address of principal executive offices)",
    "or 1 (TRUE) or INT_MIN = -2147483648 (NA, but only",
    "[Organizer profile](https://www.eventbrite.com/o/fedramp-pmo-13413630716)",
    "16 | 070355555588\n18 | 000022233333",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_document_numbers_are_not_phones(patterns, text):
    assert "PHONE_NUMBER" not in {s.entity_type for s in patterns.find(text)}


PHONES = [
    ("Registrant's telephone number, including area code: +44 117 9753200", "+44 117 9753200"),
    ("telephone: (415) 555-0132", "(415) 555-0132"),
    ("Chicago, IL 60606\n(312) 782-1680\npbreen@thomasmoresociety.org", "(312) 782-1680"),
    ("Bethesda, Maryland 20817. Our telephone number is (301) 897-6000 and", "(301) 897-6000"),
    ("Telecopier No. (914) 253-3808; if to any Initial Lender", "(914) 253-3808"),
    ("please call\n800-640-8007 or write to Investor Relations", "800-640-8007"),
    ("Media Relations: Wesley McDade   212-761-2430", "212-761-2430"),
    ("Edifício MGM, Macau\nFax: 8802 5905\nFive.", "8802 5905"),
    ("call AdTrav at (877)\n472-6716 and they will", "472-6716"),
    ("New York, NY 10036\n212.395.1000\nverizon.com", "212.395.1000"),
    ("EAP phone line: 1-800-222-0364 or", "1-800-222-0364"),
    ("They're not answering at 0487 23 46 71", "0487 23 46 71"),
    ("078 6657 2626 office", "078 6657 2626"),
]


@pytest.mark.parametrize(("text", "value"), PHONES)
def test_real_phones_in_documents(patterns, text, value):
    assert ("PHONE_NUMBER", value) in found(patterns, text)


NOT_ADDRESSES = [
    # fair-value hierarchy tables and table headers
    "Assets 2022 Level 1 Level 2 Level 3 Total",
    "Level 3 Balance as of January 1, 2021",
    "Long-Term Debt 68 Note 9\nIncome Taxes 69 Note 10",
    # an English word that ends like a street word ("ring")
    "During 2020, we recorded a pre-tax net loss of $119 million",
    # law reports
    "Beard v. Kindler, 558 U. S. 53, 60 (2009).",
    "Sealed Plaintiff v. Sealed Defendant, 537 F.3d 185, 189 (2d Cir. 2008).",
    "State v. Bigger, 251 Ariz. 402, 412 (2021)",
    # numbered exhibits, sections and tables of figures
    "10.24 Neolane 2008 Stock Option Plan* S-8 8/27/13",
    "6.3.5 Managing the search path",
    "1 Colorado 7.9\n2 Arizona 8.1\n3 California 9.0",
    # prose
    "8 using a path containing spaces is likely to cause problems",
    "Office 365 Consumer subscribers increased to 23.1 million.",
    "tools in a Sprint 0 can be an effective way to set up the engagement",
]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_document_phrases_are_not_addresses(patterns, text):
    assert "ADDRESS" not in {s.entity_type for s in patterns.find(text)}


ADDRESSES = [
    ("Amcor plc\n83 Tower Road North\nWarmley, Bristol", "83 Tower Road North"),
    ("410 Terry Avenue North\nSeattle", "410 Terry Avenue North"),
    ("THOMAS MORE SOCIETY\n309 W. Washington St., Ste. 1250", "309 W. Washington St."),
    ("the corner of 149 William Street and Çiftçi Street", "149 William Street"),
    ("address: 37 margrethes plads 17", "margrethes plads 17"),
    ("The title refers to Paul-Nevermann-Platz 47 street", "Paul-Nevermann-Platz 47"),
    ("Send it to Postfach 71 please", "Postfach 71"),
    ("please update my new address is Via Goffredo Mameli 149", "Via Goffredo Mameli 149"),
    ("The office is at ul. Paderewskiego Ignacego 85", "ul. Paderewskiego Ignacego 85"),
    ("Reginald Gorski\n2914 184th Street\nApt. 333", "2914 184th Street"),
    (
        "Andrea Johansen\n08 251 Charilaou Trikoupi Str.\nSuite 383",
        "08 251 Charilaou Trikoupi Str.",
    ),
]


@pytest.mark.parametrize(("text", "value"), ADDRESSES)
def test_real_addresses_in_documents(patterns, text, value):
    assert any(t == "ADDRESS" and value in v for t, v in found(patterns, text))


def test_a_question_about_years_keeps_its_numbers(patterns):
    question = "What changed between 2022 2021?"
    assert redact(question, patterns.find(question)).text == question


def test_the_filing_cover_keeps_only_its_real_contact_data(patterns):
    cover = (
        "Amcor plc\n(Exact name of registrant as specified in its charter)\n"
        "Jersey 001-38932 98-1455367\n(State or other jurisdiction of incorporation) "
        "(Commission File Number) (I.R.S. Employer Identification No.)\n"
        "83 Tower Road North\nWarmley, Bristol\nUnited Kingdom BS30 8XP\n"
        "(Address of principal executive offices) (Zip Code)\n"
        "Registrant's telephone number, including area code: +44 117 9753200\n"
    )
    spans = found(patterns, cover)
    assert ("PHONE_NUMBER", "+44 117 9753200") in spans
    assert any(t == "ADDRESS" and v.startswith("83 Tower Road North") for t, v in spans)
    assert not any("38932" in v or "1455367" in v for _, v in spans)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("See section 1.2.1.1 for the details.", []),
        ("Use :: to reach a function the package does not export.", []),
        ("Version 2.3.1.0 of the package, released in May.", []),
        ("The server at 10.0.0.12 is down.", ["10.0.0.12"]),
        ("Our DNS server 8.8.8.8 answers.", ["8.8.8.8"]),
        ("Connect to 2001:db8::1 from the office.", ["2001:db8::1"]),
    ],
)
def test_section_numbers_and_bare_colons_are_not_ip_addresses(patterns, text, found):
    spans = [s.text for s in patterns.find(text) if s.entity_type == "IP_ADDRESS"]
    assert spans == found
