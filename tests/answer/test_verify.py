"""Grounding checks with the real MiniLM model: splitter, facts, verdicts and rendering."""

from __future__ import annotations

import pytest

from rag.answer.render import highlight, render_answer
from rag.answer.verdict import SentenceCheck, Verification
from rag.answer.verify import is_claim, verify_answer
from rag.text.facts import extract_facts
from rag.text.sentences import cited_numbers, split_sentences, strip_citations
from rag.types import Passage
from tests.answer.handbook import PASSAGES, passage

# --- splitting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        (
            "Use a form, e.g. the SF-71. Then wait.",
            ["Use a form, e.g. the SF-71.", "Then wait."],
        ),
        ("That is, i.e. Leave. Next one.", ["That is, i.e. Leave.", "Next one."]),
        (
            "Ask Dr. Smith in the U.S. Army office. Done.",
            ["Ask Dr. Smith in the U.S. Army office.", "Done."],
        ),
        (
            "The rate is 3.5 percent. Version 1.2.3 is out.",
            ["The rate is 3.5 percent.", "Version 1.2.3 is out."],
        ),
        (
            "Leave is 25 days [1]. Travel needs Concur [2].",
            ["Leave is 25 days [1].", "Travel needs Concur [2]."],
        ),
        (
            "Leave is 25 days. [1] Travel needs Concur. [2]",
            ["Leave is 25 days. [1]", "Travel needs Concur. [2]"],
        ),
        ("Costs $1,000 in total. Ok.", ["Costs $1,000 in total.", "Ok."]),
        (
            "Steps:\n- Open Concur\n- Book the trip\n1. Submit",
            ["Steps:", "Open Concur", "Book the trip", "Submit"],
        ),
        ("A line that wraps\nmid sentence. Next.", ["A line that wraps mid sentence.", "Next."]),
        ("# Heading\nBody text here.", ["Heading", "Body text here."]),
        ("First paragraph\n\nSecond paragraph", ["First paragraph", "Second paragraph"]),
        ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
        ("It costs approx. 3 dollars.", ["It costs approx. 3 dollars."]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "numbers", "plain"),
    [
        ("Leave is 25 days [1].", [1], "Leave is 25 days."),
        ("See [1][3] and [2, 4].", [1, 3, 2, 4], "See and."),
        ("Range [2-4].", [2, 3, 4], "Range."),
        ("No markers.", [], "No markers."),
    ],
)
def test_citations(text, numbers, plain):
    assert cited_numbers(text) == numbers
    assert strip_citations(text) == plain


@pytest.mark.parametrize(
    ("claim", "facts"),
    [
        ("Employees get 30 days of leave.", ["30"]),
        ("It costs $1,500 or 25% of the budget.", ["1,500", "25"]),
        ("Approved by Jane Doe in Concur.", ["Jane Doe", "Concur"]),
        ("The Department of Labor decides.", ["Department of Labor"]),
        ('Use the "Request leave" form.', ["Request leave"]),
        ("Submit two weeks ahead.", ["two"]),
        ("Employees must file it.", []),  # sentence case is not a name
        ("GSA pays per diem.", ["GSA"]),  # an acronym opening the sentence is
    ],
)
def test_extract_facts(claim, facts):
    assert [f.text for f in extract_facts(claim)] == facts


@pytest.mark.parametrize(
    ("sentence", "claim"),
    [
        ("Here is what I found:", False),
        ("I could not find this in the documents.", False),
        ("The documents do not mention the per diem rate.", False),
        ("I hope this helps!", False),
        ("Would you like more details?", False),
        ("Hello!", False),
        ("Leave requests need approval.", True),
        ("The documents do not mention it, but leave is 30 days.", True),  # hard fact
    ],
)
def test_is_claim(sentence, claim):
    assert is_claim(sentence) is claim


# --- verdicts -------------------------------------------------------------------------------


def check(answer: str, encode, passages=PASSAGES) -> SentenceCheck:
    v = verify_answer(answer, passages, encode)
    (only,) = v.sentences
    return only


def test_supported_paraphrase(encode):
    s = check("New staff earn four hours of annual leave every pay period [1].", encode)
    assert s.supported and s.passage == 1 and s.cited == [1] and not s.corrected
    assert s.evidence == "New employees accrue 4 hours of annual leave per pay period."
    assert s.missing == []


def test_wrong_number_fails(encode):
    s = check("Employees get 30 days of leave in their first year [1].", encode)
    assert not s.supported
    assert s.missing == ["30"]
    assert s.passage == 1  # still points at the passage it contradicts


def test_wrong_name_fails(encode):
    s = check("International trips are approved by John Smith [2].", encode)
    assert not s.supported
    assert s.missing == ["John Smith"]


def test_wrong_citation_is_reattributed(encode):
    s = check("Parents get 12 weeks of paid parental leave [1].", encode)
    assert s.supported
    assert s.passage == 3 and s.cited == [3] and s.corrected


def test_uncited_supported_sentence_gets_its_passage(encode):
    s = check("Travel has to be booked in Concur two weeks before departure.", encode)
    assert not s.supported  # "two" weeks is not "14 days": numbers must match literally
    s = check("Travel has to be booked in Concur 14 days before you leave.", encode)
    assert s.supported and s.passage == 2 and s.cited == [2]


def test_invented_sentence_fails(encode):
    s = check("The cafeteria serves free lunch to all staff [2].", encode)
    assert not s.supported
    assert s.score < 0.5


def test_exempt_sentences_do_not_count(encode):
    v = verify_answer(
        "Here is what I found:\nParents get 12 weeks of paid leave [3]. I hope this helps!",
        PASSAGES,
        encode,
    )
    assert [s.is_claim for s in v.sentences] == [False, True, False]
    assert v.support_score == 1.0 and v.unsupported == []


def test_empty_answer_and_no_passages(encode):
    assert verify_answer("", PASSAGES, encode).support_score == 1.0
    v = verify_answer("Leave is 25 days [1].", [], encode)
    assert v.support_score == 0.0 and v.sentences[0].cited == []
    assert v.to_dict()["unsupported"] == 1


# --- rendering ------------------------------------------------------------------------------

ANSWER = (
    "Here is what I found:\n"
    "Parents get 12 weeks of paid parental leave [1]. "
    "Employees get 30 days of leave in their first year [1]. "
    "The cafeteria serves free lunch [2]."
)


def test_render_flag(encode):
    md = render_answer(verify_answer(ANSWER, PASSAGES, encode), mode="flag")
    assert md.startswith("Here is what I found:\n\n")
    assert "Parents get 12 weeks of paid parental leave [3]." in md  # corrected citation
    assert "⚠️ *unverified:* ~~Employees get 30 days of leave in their first year.~~" in md
    assert "⚠️ *unverified:* ~~The cafeteria serves free lunch.~~" in md


def test_render_remove(encode):
    md = render_answer(verify_answer(ANSWER, PASSAGES, encode), mode="remove")
    assert "30 days" not in md and "cafeteria" not in md
    assert "Parents get 12 weeks of paid parental leave [3]." in md
    assert md.endswith("_2 sentences were removed: the documents do not support them._")


def test_render_keeps_lists():
    checks = [
        SentenceCheck("Steps:", "Steps:", [], True, 1.0, None, "", is_claim=False),
        SentenceCheck("Open Concur [2]", "Open Concur", [2], True, 0.9, 2, "x", lead="-"),
        SentenceCheck("Book it [2]", "Book it", [2], True, 0.9, 2, "x", lead="-"),
    ]
    assert render_answer(Verification(checks, 1.0)) == "Steps:\n\n- Open Concur [2]\n- Book it [2]"
    with pytest.raises(ValueError, match="mode"):
        render_answer(Verification(checks, 1.0), mode="hide")


def test_highlight_escapes_and_marks_evidence():
    text = "Intro with *stars* and [a](http://x). The rate is $5 [see 2]. Last # line."
    md = highlight(text, "The rate is $5 [see 2].")
    # a word joiner before the URL keeps it from becoming a link
    assert md.startswith("Intro with \\*stars\\* and \\[a\\]\\(\u2060http\\://x\\)\\. ")
    assert ":orange-background[The rate is \\$5 &#91;see 2&#93;\\.]" in md
    assert md.endswith(r" Last \# line\.")
    assert md.count(":orange-background[") == 1


def test_highlight_across_line_breaks_and_missing_evidence():
    md = highlight("First line\ncontinues here. Other.", "First line continues here.")
    assert md.startswith(":orange-background[First line continues here\\.]")
    assert "orange" not in highlight("Nothing to mark.", "Absent sentence.")


def test_highlight_drops_the_documents_own_markup():
    md = highlight("## Annual leave\n\nYou get **25 days** a year.", "You get **25 days** a year.")
    assert "**" not in md and "\\#" not in md
    assert ":orange-background[You get 25 days a year\\.]" in md


def test_names_and_periods_in_the_document_context_count_as_stated(minilm):
    body = "Research and development expenses were $1,875 million in the quarter."
    passage = Passage("c1", "d1", "q.pdf", 2, "", body, context="Initech Corporation · Q1 2024")
    answer = "Research and development expenses were $1,875 million in Q1 2024 [1]."
    check = verify_answer(answer, [passage], minilm.encode)
    assert check.sentences[0].supported
    bare = Passage("c1", "d1", "q.pdf", 2, "", body)
    assert not verify_answer(answer, [bare], minilm.encode).sentences[0].supported


# --- meaning: contradictions caught, legitimate rewording accepted ---------------------------

FILING = passage(
    "CONSOLIDATED STATEMENTS OF INCOME (in millions)\n\n"
    "Net sales | Year ended 2022: 14,215 | Year ended 2021: 12,242\n\n"
    "Operating expenses decreased 4% compared with the prior year, and research and development "
    "spending is not capitalized.",
    1,
    source="acme-10k.pdf",
)


def test_reversed_polarity_and_negation_are_flagged_with_a_reason(encode):
    v = verify_answer("Operating expenses increased 4% compared with the prior year. [1]",
                      [FILING], encode)  # fmt: skip
    [s] = v.sentences
    assert not s.supported and "reverses" in s.reason
    v = verify_answer("Research and development spending is capitalized. [1]", [FILING], encode)
    assert not v.sentences[0].supported and "negation" in v.sentences[0].reason


def test_an_analysts_rewording_and_a_computed_change_pass(encode):
    v = verify_answer(
        "Net sales rose to $14.2 billion in 2022 from $12.2 billion a year earlier. [1] "
        "That is an increase of about 16.1%. [1]",
        [FILING],
        encode,
    )
    first, second = v.sentences
    assert first.supported, first.reason
    assert second.supported and second.reason.startswith("computed from [1]")
    assert "*(computed from [1])*" in render_answer(v)


def test_a_figure_moved_to_the_other_year_is_flagged(encode):
    v = verify_answer("Net sales were $12.2 billion in 2022. [1]", [FILING], encode)
    assert not v.sentences[0].supported and "2021" in v.sentences[0].reason


def test_a_name_from_elsewhere_in_the_passage_is_flagged(encode):
    tools = passage(
        "Tock is the TTS tool that tracks billable project hours. Staff log their hours in it "
        "every week. Supervisors review the entries on Mondays. Leave is requested in HR Links, "
        "the GSA-level system.",
        1,
    )
    right = verify_answer("Tock tracks billable project hours at TTS. [1]", [tools], encode)
    assert right.sentences[0].supported, right.sentences[0].reason
    swapped = verify_answer("HR Links tracks billable project hours at TTS. [1]", [tools], encode)
    assert not swapped.sentences[0].supported and "HR Links" in swapped.sentences[0].reason


def test_code_identifiers_are_facts():
    facts = {(f.text, f.kind) for f in extract_facts("Set R_LIBS_USER, then call read.table().")}
    assert ("R_LIBS_USER", "code") in facts and ("read.table()", "code") in facts
    assert not any(f.text == "e.g" for f in extract_facts("Use a tool, e.g. a script."))
