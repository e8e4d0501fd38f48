"""Output checks: personal data from nowhere, the system prompt echoed, denied terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.guardrails.output import (
    MAX_ANSWER_CHARS,
    OutputIssue,
    builtin_deny_terms,
    check_output,
)

PASSAGE = (
    "For payroll questions write to Ana.Lopez@example.com or call 555.123.4567. "
    "The office is at 12 Harbour Road."
)


@dataclass(frozen=True)
class Span:
    entity_type: str
    start: int
    end: int
    score: float
    text: str


class PatternDetector:
    """A stand-in detector for control flow: emails, US SSNs and NANP phone numbers."""

    PATTERNS = {
        "EMAIL_ADDRESS": r"[\w.+-]+@[\w-]+\.[\w.]+",
        "US_SSN": r"\b\d{3}-\d{2}-\d{4}\b",
        "PHONE_NUMBER": r"(?:\+1[ .-]?)?\(?\b\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b",
    }

    def __init__(self):
        self.calls = 0

    def find(self, text: str) -> list[Span]:
        self.calls += 1
        return [
            Span(kind, m.start(), m.end(), 1.0, m[0])
            for kind, pattern in self.PATTERNS.items()
            for m in re.finditer(pattern, text)
        ]


def leaks(answer: str, sources=(PASSAGE,), detector=None) -> list[str]:
    issues = check_output(
        answer, sources=list(sources), system_prompt="", pii=detector or PatternDetector()
    )
    return [i.detail.split()[0] for i in issues if i.kind == "pii_leak"]


# --- personal data ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Write to Ana.Lopez@example.com [1].", []),  # quoted from the passage
        ("Write to ana.lopez@EXAMPLE.com [1].", []),  # case differs
        ("Call (555) 123-4567 [1].", []),  # punctuation differs
        ("Call 555 123 4567 [1].", []),
        ("Call +1 555-123-4567 [1].", []),  # with the country code
        ("Her SSN is 078-05-1120.", ["US_SSN"]),  # invented
        ("Write to ana.lopez@example.org.", ["EMAIL_ADDRESS"]),  # another domain
        ("Write to lopez@example.com.", ["EMAIL_ADDRESS"]),  # a part of a known address
        ("Call 555-123-4568.", ["PHONE_NUMBER"]),  # one digit off
        ("Call 555-123-4567 or 555-987-6543.", ["PHONE_NUMBER"]),  # one of two invented
        ("Mail Ana.Lopez@example.com, SSN 078-05-1120, fax 555-000-1111.",
         ["PHONE_NUMBER", "US_SSN"]),
        ("Payroll is handled in house [1].", []),
    ],
)  # fmt: skip
def test_pii_leak(answer, expected):
    assert leaks(answer) == expected


def test_a_value_the_question_gave_is_no_leak():
    question = "Is 078-05-1120 a valid SSN format?"
    assert leaks("Yes, 078-05-1120 has the format [1].", sources=[PASSAGE, question]) == []
    assert leaks("Yes, 078-05-1120 has the format [1].", sources=[PASSAGE]) == ["US_SSN"]


def test_a_number_inside_a_longer_source_number_is_a_leak():
    # 555-123-4567's digits are inside this order number, but it is not that phone number
    assert leaks("Call 555-123-4567.", sources=["Order 98555123456701 shipped."]) == [
        "PHONE_NUMBER"
    ]


def test_a_value_split_across_two_sources_is_a_leak():
    assert leaks("Write to ana@example.com.", sources=["Ask ana", "at example.com"]) == [
        "EMAIL_ADDRESS"
    ]


def test_leak_detail_counts_per_type_and_never_holds_the_value():
    answer = "SSNs 078-05-1120 and 219-09-9999 are on file."
    [issue] = check_output(answer, sources=[PASSAGE], system_prompt="", pii=PatternDetector())
    assert issue.kind == "pii_leak" and issue.detail.startswith("US_SSN ×2")
    assert not re.search(r"\d", issue.detail.replace("×2", ""))


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (Span("PERSON", 0, 9, 0.6, "Ana Lopez"), []),
        (Span("PERSON", 0, 9, 0.6, "Lopez, Ana"), []),  # reordered
        (Span("PERSON", 0, 9, 0.6, "Ms Lopez"), []),  # title, surname
        (Span("PERSON", 0, 9, 0.6, "Ana Silva"), ["PERSON"]),  # one word unknown
        (Span("PERSON", 0, 9, 0.6, "J. Li"), ["PERSON"]),  # nothing long enough to compare
        (Span("LOCATION", 0, 7, 0.6, "Atlantis"), []),  # a place alone is no leak
        (Span("ADDRESS", 0, 7, 0.6, "40 Mill Lane"), ["ADDRESS"]),
        (Span("ADDRESS", 0, 7, 0.6, "12 HARBOUR ROAD"), []),
        (Span("EMAIL_ADDRESS", 0, 7, 0.6, "lopez ana@example.com"), ["EMAIL_ADDRESS"]),
    ],
)
def test_names_places_and_addresses(span, expected):
    class OneSpan:
        def find(self, text):
            return [span]

    got = check_output("…", sources=[PASSAGE + " Ana Lopez"], system_prompt="", pii=OneSpan())
    assert [i.detail.split()[0] for i in got] == expected


def test_no_detector_no_pii_check():
    assert check_output("SSN 078-05-1120.", sources=[], system_prompt="") == []


def test_the_detector_reads_only_the_capped_answer():
    seen = []

    class Recorder(PatternDetector):
        def find(self, text):
            seen.append(len(text))
            return super().find(text)

    answer = "x " * MAX_ANSWER_CHARS + "SSN 078-05-1120."
    assert check_output(answer, sources=[], system_prompt="", pii=Recorder()) == []
    assert seen == [MAX_ANSWER_CHARS]


@pytest.fixture(scope="module")
def real_detector():
    pii = pytest.importorskip("rag.guardrails.pii")
    return pii.PiiDetector()


REAL_SOURCES = [
    PASSAGE + " Ana Lopez runs payroll. Refunds go to IBAN DE89 3704 0044 0532 0130 00.",
    "Which address does payroll use?",
]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Ana Lopez runs payroll [1].", []),
        ("Maria Silva runs payroll.", ["PERSON"]),
        ("Maria Lopez runs payroll.", ["PERSON"]),  # another first name
        ("Lopez runs payroll [1].", []),  # the surname alone
        ("Staff in Germany and London get 25 days [1].", []),  # places are no leak
        ("The office is at 12 harbour road [1].", []),
        ("The office is at 40 Mill Lane.", ["ADDRESS"]),
        ("Call 555 123 4567 or write to ana.lopez@example.com [1].", []),
        ("Call +1 555-123-4567 [1].", []),
        ("Refunds go to DE89370400440532013000 [1].", []),
        ("Refunds go to GB82 WEST 1234 5698 7654 32.", ["IBAN_CODE"]),
        ("Her SSN is 536-22-8167.", ["US_SSN"]),
        ("Pay with card 4111 1111 1111 1111.", ["CREDIT_CARD"]),
        ("Write to payroll@globex.com.", ["EMAIL_ADDRESS"]),
        ("The server is at 10.0.0.12.", ["IP_ADDRESS"]),
    ],
)
def test_pii_leak_with_the_real_detector(real_detector, answer, expected):
    got = check_output(answer, sources=REAL_SOURCES, system_prompt="", pii=real_detector)
    assert sorted({i.detail.split()[0] for i in got if i.kind == "pii_leak"}) == expected


# --- system prompt echo -----------------------------------------------------------------------
PROMPTS = Path(__file__).resolve().parents[2] / "rag" / "answer" / "prompts"
VERSIONS = sorted(p.name.split(".")[1] for p in PROMPTS.glob("answer.*.md"))


def system_prompt(version: str) -> str:
    """The system turn of a shipped answer prompt, as the prompt loader splits it."""
    text = (PROMPTS / f"answer.{version}.md").read_text(encoding="utf-8")
    return text.split("## system", 1)[1].split("## user", 1)[0].strip()


def echo(answer: str, system: str, sources=()) -> list[OutputIssue]:
    return [
        i
        for i in check_output(answer, sources=list(sources), system_prompt=system)
        if i.kind == "prompt_echo"
    ]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("make_answer", "echoed"),
    [
        (lambda s: s, True),  # the whole system prompt
        (lambda s: s.upper().replace("\n- ", " "), True),  # reflowed, other case
        (lambda s: "My instructions: " + s.split("Rules:")[1], True),  # the rules
        (lambda s: "I was told: end every sentence with the number of the passage it comes "
                   "from, like [1].", True),  # one 14-word rule
        (lambda s: "I could not find this in the documents.", False),  # the dictated refusal
        (lambda s: "The passages do not say; I could not find this in the documents.", False),
        (lambda s: "Employees get 25 days of annual leave per year [1].", False),
        (lambda s: "Copy names and dates exactly as the passages give them [1].", False),
        (lambda s: "", False),
    ],
)  # fmt: skip
def test_prompt_echo_of_the_real_system_prompt(version, make_answer, echoed):
    system = system_prompt(version)
    assert bool(echo(make_answer(system), system)) is echoed


@pytest.mark.parametrize("version", VERSIONS)
def test_prompt_text_the_sources_hold_is_no_echo(version):
    system = system_prompt(version)
    assert echo(system, system, sources=["Please repeat this: " + system]) == []


def test_echo_detail_says_how_much_was_echoed():
    system = system_prompt(VERSIONS[0])
    [issue] = echo(system, system)
    total = len(re.findall(r"[^\W_]+", system))
    assert issue.detail == f"{total} of the system prompt's {total} words"


def test_a_prompt_shorter_than_a_shingle_is_not_checked():
    assert echo("Be brief and polite.", "Be brief and polite.") == []


# --- denied terms -----------------------------------------------------------------------------
def denied(answer: str, terms=()) -> list[str]:
    return [
        i.detail
        for i in check_output(answer, sources=[], system_prompt="", deny_terms=terms)
        if i.kind == "deny_term"
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Only an idiot would ask that.", ["idiot"]),
        ("IDIOTS, all of them.", ["idiot"]),  # case and plural
        ("Ｉｄｉｏｔ.", ["idiot"]),  # fullwidth letters
        ("You íd\u200biot.", ["idiot"]),  # accent and a zero-width space
        ("You are an i d i o t.", ["idiot"]),  # letter spacing
        ("Just shut   up.", ["shut up"]),
        ("Just shut-up.", ["shut up"]),
        ("Shut up, you moron.", ["moron", "shut up"]),
        ("Our office is in Scunthorpe.", []),  # no match inside a word
        ("The class assessment is due Friday [1].", []),
        ("This is idiotic.", []),  # not the same word
        ("The shuttle up the hill leaves at 9 [1].", []),
        ("Dick Smith approves travel; see hell's kitchen menu [1].", []),  # not on the list
    ],
)
def test_builtin_deny_terms(answer, expected):
    assert sorted(denied(answer)) == expected


@pytest.mark.parametrize(
    ("terms", "answer", "expected"),
    [
        (["Acme Corp"], "Acme-Corp sells the same thing.", ["acme corp"]),
        (["Acme Corp"], "ACME   CORP sells it.", ["acme corp"]),
        (["Acme Corp"], "Acme Corporation sells it.", []),
        (["guarantee"], "We guarantee delivery.", ["guarantee"]),
        (["guarantee"], "No guarantees are given.", ["guarantee"]),
        (["c++"], "Write it in C++ please.", ["c++"]),
        (["c++"], "Grade C is fine.", []),
        (["", " - ", "   "], "Anything at all.", []),  # blank terms match nothing
        (["Idiot"], "idiot", ["idiot"]),  # also built in: reported once
    ],
)
def test_configured_deny_terms(terms, answer, expected):
    assert denied(answer, terms) == expected


def test_builtin_list_is_loaded_and_clean():
    terms = builtin_deny_terms()
    assert "idiot" in terms and "kill yourself" in terms
    assert all(t == t.strip() and t and not t.startswith("#") for t in terms)
    assert len(set(terms)) == len(terms)


def test_issues_of_every_kind_together():
    system = system_prompt(VERSIONS[0])
    answer = f"{system} Also, idiot, her SSN is 078-05-1120."
    got = check_output(answer, sources=[], system_prompt=system, pii=PatternDetector())
    assert [i.kind for i in got] == ["pii_leak", "prompt_echo", "deny_term"]
