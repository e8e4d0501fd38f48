"""Tables in PDFs: rows read with their labels and column headers, written into the page text."""

from __future__ import annotations

import pytest
from ingest_samples import (
    STATEMENT_PROSE,
    make_pdf,
    statement_pdf,
    turned_pdf,
    word_count,
)

from rag.ingest import chunk_document
from rag.ingest.layout import Cell, Line
from rag.ingest.pdf import LayoutReport, load_pdf
from rag.ingest.table_rows import SEPARATOR, Row, Table, format_row, merge_rows, parse_row
from rag.ingest.tables import find_tables

YEARS = [
    "Fiscal years ended December 31, 2023",
    "Fiscal years ended December 31, 2022",
    "Fiscal years ended January 1, 2021",
]


def _row(label: str, *values: str) -> str:
    return format_row(label, list(zip(YEARS, values, strict=True)))


@pytest.fixture(scope="module")
def statement(tmp_path_factory):
    from rag.config import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    report = LayoutReport()
    doc = load_pdf("statement.pdf", statement_pdf(), settings, report=report)
    plain = load_pdf("statement.pdf", statement_pdf(), settings, tables=False)
    return doc, plain, report


def test_statement_rows_carry_their_labels_and_column_headers(statement):
    doc, _, report = statement
    lines = doc.pages[0].text.split("\n")
    assert _row("Revenue", "$5,000", "$4,200", "$3,900") in lines
    assert _row("Operating expenses: Research and development", "1,875", "1,618", "1,402") in lines
    assert _row("Operating expenses: Sales and marketing", "2,100", "(15)", "1,950") in lines
    assert _row("Net income", "$1,025", "$2,597", "$548") in lines  # the section has ended
    assert (report.tables, report.rows_placed, report.rows_appended) == (1, 5, 0)


def test_rows_replace_the_run_of_numbers_and_prose_is_untouched(statement):
    doc, plain, _ = statement
    text = doc.pages[0].text
    assert "Research and development 1,875 1,618 1,402" in plain.pages[0].text
    assert "1,875 1,618" not in text  # the bare run of numbers is gone...
    assert text.count("1,875") == 1  # ...not duplicated
    assert " ".join(STATEMENT_PROSE.split()) in " ".join(text.split())
    assert text.startswith("CONSOLIDATED STATEMENTS OF OPERATIONS\n(In millions)")
    assert doc.pages[1].text == plain.pages[1].text  # a page without a table: exactly as before
    assert not doc.warnings


def test_each_row_stands_alone_for_sentences_and_chunks(statement):
    from rag.text.sentences import split_sentences

    doc, _, _ = statement
    row = _row("Operating expenses: Sales and marketing", "2,100", "(15)", "1,950")
    assert row in split_sentences(doc.pages[0].text)
    chunks = chunk_document(doc, word_count, max_tokens=40)  # about one row per chunk
    for chunk in chunks:
        assert doc.pages[chunk.page - 1].text[chunk.start : chunk.end] == chunk.text
        for line in chunk.text.split("\n"):
            if SEPARATOR in line:
                assert line in doc.pages[0].text.split("\n")  # whole rows only
    assert any(row in c.text for c in chunks)


def test_a_page_stored_sideways_reads_as_it_is_shown(settings):
    doc = load_pdf("landscape.pdf", turned_pdf(statement_pdf()), settings)
    lines = doc.pages[0].text.split("\n")
    assert _row("Operating expenses: Research and development", "1,875", "1,618", "1,402") in lines


def test_pages_without_tables_keep_exactly_todays_text(settings):
    pages = ["Alpha page text.", "Prices rose 3% in 2023 and 4% in 2024, the board said."]
    report = LayoutReport()
    doc = load_pdf("memo.pdf", make_pdf(pages), settings, report=report)
    assert [p.text for p in doc.pages] == pages
    assert report.tables == 0 and not doc.warnings


def test_a_page_too_big_to_search_keeps_its_text_with_a_warning(settings, monkeypatch):
    monkeypatch.setattr("rag.ingest.layout.MAX_LINES", 5)
    doc = load_pdf("big.pdf", statement_pdf(), settings)
    plain = load_pdf("big.pdf", statement_pdf(), settings, tables=False)
    assert doc.pages[0].text == plain.pages[0].text
    assert "too much text to search for tables" in doc.warnings[0]


@pytest.mark.parametrize(
    "error",
    [
        pytest.param("pdfium", id="pdfium-error"),
        pytest.param(IndexError("a heuristic bug"), id="unexpected-error"),
    ],
)
def test_a_layout_failure_degrades_to_the_plain_text_with_a_warning(error, settings, monkeypatch):
    import pypdfium2 as pdfium

    exc = pdfium.PdfiumError("Failed to load text page.") if error == "pdfium" else error

    def fail(textpage):
        raise exc

    monkeypatch.setattr("rag.ingest.pdf.read_lines", fail)
    doc = load_pdf("s.pdf", statement_pdf(), settings)
    plain = load_pdf("s.pdf", statement_pdf(), settings, tables=False)
    assert [p.text for p in doc.pages] == [p.text for p in plain.pages]
    assert "page(s) 1: the layout could not be read" in doc.warnings[0]


# --- geometry without a PDF ------------------------------------------------------------------


def _line(top: float, *cells: tuple[float, float, str]) -> Line:
    return Line(top, top - 9, [Cell(x0, x1, text) for x0, x1, text in cells])


def test_a_table_beside_a_column_of_prose_takes_only_its_own_cells():
    lines = [
        _line(700, (40, 300, "Results were strong this quarter"), (420, 450, "2024"),
              (480, 510, "2023")),
        _line(688, (40, 300, "as clients traded more, the bank"), (330, 400, "Net revenues"),
              (420, 450, "$6,815"), (480, 510, "$5,669")),
        _line(676, (40, 300, "said, and fees rose with markets."), (330, 380, "Advisory"),
              (425, 450, "$546"), (485, 510, "$449")),
    ]  # fmt: skip
    [table] = find_tables(lines)
    assert table.headers == ["2024", "2023"]
    assert table.lines() == [
        "Net revenues | 2024: $6,815 | 2023: $5,669",
        "Advisory | 2024: $546 | 2023: $449",
    ]
    assert table.rows[0].source == "Net revenues $6,815 $5,669"  # the prose stays in the text


def test_a_label_printed_over_two_lines_beside_its_values_is_joined():
    lines = [
        _line(700, (40, 120, "Net revenues"), (420, 450, "1,455"), (480, 510, "1,336")),
        _line(690, (40, 140, "Asset management and")),
        _line(683, (420, 450, "1,384"), (480, 510, "1,312")),
        _line(676, (40, 100, "related fees")),
    ]
    [table] = find_tables(lines)
    assert [r.label for r in table.rows] == ["Net revenues", "Asset management and related fees"]


def test_headers_centred_over_narrow_numbers_and_a_page_title_above_them():
    lines = [
        _line(760, (240, 370, "Consolidated Statements of Stores")),  # a title, not a header
        _line(740, (388, 401, "U.S."), (454, 497, "U.S. Best Buy")),
        _line(731, (380, 409, "Best Buy"), (445, 508, "Mobile Stand-Alone"),
              (536, 575, "Pacific Sales")),
        _line(722, (386, 405, "Stores"), (467, 486, "Stores"), (546, 566, "Stores")),
        _line(708, (19, 46, "Alabama"), (420, 427, "15"), (505, 508, "3"), (580, 588, "-")),
        _line(694, (19, 39, "Alaska"), (424, 427, "2"), (501, 508, "-"), (580, 588, "1")),
    ]  # fmt: skip
    [table] = find_tables(lines)
    assert table.headers == [
        "U.S. Best Buy Stores",
        "U.S. Best Buy Mobile Stand-Alone Stores",
        "Pacific Sales Stores",
    ]


def test_a_header_centred_over_all_columns_heads_each_of_them():
    lines = [
        _line(700, (430, 480, "Years Ended")),
        _line(690, (360, 400, "2016"), (430, 475, "2015"), (505, 550, "2014")),
        _line(676, (52, 120, "Gross profit"), (372, 412, "5,034"), (445, 484, "4,051"),
              (518, 557, "3,524")),
        _line(662, (52, 120, "Net income"), (372, 412, "1,168"), (445, 484, "629"),
              (518, 557, "268")),
    ]  # fmt: skip
    [table] = find_tables(lines)
    assert table.headers == ["Years Ended 2016", "Years Ended 2015", "Years Ended 2014"]


def test_a_statement_keeps_its_dates_and_its_one_value_rows():
    lines = [
        _line(331, (48, 64, "Date"), (155, 201, "Description"), (283, 312, "Money"),
              (329, 357, "Money")),
        _line(326, (289, 303, "out"), (338, 346, "In"), (369, 397, "Balance")),
        _line(306, (83, 171, "Balance brought forward"), (368, 396, "40,000.00")),
        _line(294, (38, 73, "1 February"), (84, 188, "Card payment - Petrol Station"),
              (286, 302, "24.50"), (368, 395, "39,975.50")),
        _line(283, (84, 189, "Direct debit - Phone Bill"), (285, 301, "20.00"),
              (369, 398, "39,955.50")),
        _line(270, (37, 73, "3 February"), (85, 196, "Salary"), (330, 355, "2,575.00"),
              (369, 399, "42,530.50")),
    ]  # fmt: skip
    [table] = find_tables(lines)
    assert table.lines() == [
        "Balance brought forward | Balance: 40,000.00",
        "1 February Card payment - Petrol Station | Money out: 24.50 | Balance: 39,975.50",
        "Direct debit - Phone Bill | Money out: 20.00 | Balance: 39,955.50",
        "3 February Salary | Money In: 2,575.00 | Balance: 42,530.50",
    ]


def test_prose_with_numbers_is_not_a_table():
    lines = [
        _line(700, (40, 560, "Revenue rose 12% to $5.0 billion in 2023 from $4.5 billion")),
        _line(688, (40, 560, "in 2022; margins were 41.2% and 39.8% respectively.")),
    ]
    assert find_tables(lines) == []


@pytest.mark.parametrize(
    ("cell", "is_value"),
    [
        ("1,875", True), ("(1,508)", True), ("$2.35", True), ("$ 4,584,833", True),
        ("12%", True), ("(11.5)%", True), ("—", True), ("400 W", True), ("2023-2051", True),
        ("0.60%-2.45%", True), ("N/A", True), ("10:30", True),
        ("Revenue", False), ("3Q 2024", False), ("$5.0 billion", False), ("Note 5 and 6", False),
    ],
)  # fmt: skip
def test_value_cells(cell, is_value):
    assert Cell(0, 1, cell).is_value is is_value


# --- rows as text ------------------------------------------------------------------------------


def test_format_and_parse_round_trip():
    line = format_row("Cash | equivalents", [("2024", "$1,200"), ("", "900"), ("2022", "")])
    assert line == "Cash / equivalents | 2024: $1,200 | 900"  # a pipe in the text becomes "/"
    assert parse_row(line) == ("Cash / equivalents", [("2024", "$1,200"), ("", "900")])
    assert parse_row("Dec. 31, 2023: 5 | Dec. 31, 2022: 6") == (
        "",
        [("Dec. 31, 2023", "5"), ("Dec. 31, 2022", "6")],
    )


@pytest.mark.parametrize(
    "line",
    ["Plain prose, no cells.", "City | Rate", "Label | 2024: five", "one | two | three"],
)
def test_parse_row_rejects_what_is_not_a_labelled_row(line):
    assert parse_row(line) is None


def _table(*rows: tuple[str, str, str, str]) -> Table:
    table = Table(["2024", "2023"])
    for label, a, b, source in rows:
        table.rows.append(Row(label, [a, b], source))
    return table


def test_merge_finds_rows_spread_over_lines_and_appends_the_rest():
    text = "Summary\nRevenue\n$\n211,915\n\n$\n198,270\nGross margin 146,052 135,620\nEnd."
    table = _table(
        ("Revenue", "$211,915", "$198,270", "Revenue $211,915 $198,270"),
        ("Gross margin", "146,052", "135,620", "Gross margin 146,052 135,620"),
        ("Net income", "72,361", "72,738", "Net income 72,361 72,738"),  # not in the text
    )
    merged, placed, appended = merge_rows(text, [table])
    assert (placed, appended) == (2, 1)
    assert merged == (
        "Summary\n\nRevenue | 2024: $211,915 | 2023: $198,270\n\n"
        "Gross margin | 2024: 146,052 | 2023: 135,620\n\nEnd.\n\n"
        "Net income | 2024: 72,361 | 2023: 72,738"
    )


def test_merge_without_tables_changes_nothing():
    text = "Line one\n\nLine  two "
    assert merge_rows(text, []) == (text, 0, 0)
