"""Document context: title, subject and period derived the same way for every format."""

from __future__ import annotations

import pytest

from rag.ingest import DocumentContext, derive_context, file_words, pdf_cues
from rag.ingest.context import find_period, find_subject, meaningful_title
from rag.types import LoadedDocument, PageText
from tests.conftest import make_pdf

FILING_COVER = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549
FORM 10-Q
QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d)
For the quarterly period ended June 25, 2022
Commission File Number: 001-36743
Acme Widgets, Inc.
(Exact name of registrant as specified in its charter)
Delaware 94-0000000"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("For the quarterly period ended June 25, 2022", "Q2 2022"),
        ("For the fiscal year ended November 27, 2015", "FY2015"),
        ("Statement Period: 03/01/2024 - 03/31/2024", "statement period"),
        ("Date of Report (Date of earliest event reported): July 1, 2022", "report dated July 1"),
        ("This policy is effective January 1, 2025 for all staff.", "effective January 1, 2025"),
        ("Chapter 1. Introduction to the handbook", ""),
    ],
)
def test_period_is_found_and_named_as_people_ask(text, expected):
    period = find_period([text])
    assert (expected in period) if expected else period == ""


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([FILING_COVER], "Acme Widgets, Inc"),
        (["Annual report of Globex Holdings plc.\nGlobex Holdings plc operates in 40 markets."],
         "Globex Holdings plc"),
        (["UNITED STATES DISTRICT COURT\nJANE ROE v. CITY OF SPRINGFIELD, et al.\nORDER"],
         "JANE ROE v. CITY OF SPRINGFIELD"),
        (["Leave policy\nStaff accrue 25 days of leave per year."], ""),
    ],
)  # fmt: skip
def test_subject_names_the_organisation_or_parties(texts, expected):
    subject = find_subject(texts)
    assert subject.startswith(expected) if expected else subject == ""


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("Quarterly Report Q2 2022", True),
        ("0001018724-20-000004", False),  # a filing accession number
        ("Document", False),
        ("Microsoft Word - F20_10K_VFinal_07.01.2020", False),
        ("report.pdf", False),
        ("SECURITIES AND EXCHANGE COMMISSION", False),
        ("Table of Contents", False),
    ],
)
def test_metadata_titles_that_name_nothing_are_ignored(raw, ok):
    assert (meaningful_title(raw) is not None) is ok


def test_file_words_split_names_people_wrote():
    assert file_words("ACME_2023Q2_10Q.pdf") == "ACME 2023 Q2 10Q"
    assert file_words("leave-policy.v2.md") == "leave policy v2"


def test_filing_cover_gives_subject_and_period_and_a_fallback_title():
    doc = LoadedDocument("ACME_2022Q2_10Q.pdf", "pdf", [PageText(1, FILING_COVER)], {})
    context = derive_context(doc)
    assert context.subject == "Acme Widgets, Inc"
    assert "June 25, 2022" in context.period and "Q2 2022" in context.period
    # No metadata title: the first line that is not page furniture ("UNITED STATES", ...)
    assert context.title == "QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d)"
    assert context.label().count("Acme Widgets") == 1


def test_a_cover_of_furniture_only_falls_back_to_the_file_name():
    cover = "UNITED STATES\nTable of Contents\nFORM 10-K\n(Mark One)"
    doc = LoadedDocument("ACME_2022Q2_10Q.pdf", "pdf", [PageText(1, cover)], {})
    assert derive_context(doc).title == "ACME 2022 Q2 10Q"


def test_markdown_title_and_user_corrections_win():
    doc = LoadedDocument(
        "leave.md", "markdown", [PageText(1, "# Leave policy\n\nText.")], {"title": "Leave policy"}
    )
    assert derive_context(doc).title == "Leave policy"
    fixed = derive_context(doc, {"title": "Leave policy 2026", "subject": "Acme HR"})
    assert (fixed.title, fixed.subject) == ("Leave policy 2026", "Acme HR")


def test_context_round_trips_and_clips_hostile_lengths():
    context = DocumentContext.from_dict({"title": "x" * 5000, "subject": "Acme"}, "fallback")
    assert len(context.title) <= 120 and context.subject == "Acme"
    assert DocumentContext.from_dict(context.to_dict()) == context
    assert DocumentContext.from_dict(None, "file name").title == "file name"


def test_pdf_cues_read_metadata_and_the_largest_font_line():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("0001234567-22-000001")
    pdf.set_subject("Form 10-Q filed on 2022-08-01 for the period ending 2022-06-25")
    pdf.add_page()
    pdf.set_font("Helvetica", size=24)
    pdf.cell(0, 12, "Initech Corporation", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, "Quarterly report on the state of the business.")
    cues = pdf_cues(bytes(pdf.output()))
    assert cues["prominent"] == "Initech Corporation"
    assert cues["subject"].startswith("Form 10-Q")
    doc = LoadedDocument("q.pdf", "pdf", [PageText(1, "Quarterly report on the business.")], cues)
    context = derive_context(doc)
    assert context.title == "Initech Corporation"  # the accession-number title is skipped
    assert context.subject == "Initech Corporation"
    assert "2022-06-25" in context.period


def test_pdf_cues_survive_a_broken_file():
    assert pdf_cues(b"%PDF-1.4 not really") == {}
    assert "prominent" not in pdf_cues(make_pdf(["   "]))
