"""Quoted table rows shown as a table: escaping, the highlight call site, extractive picks."""

from __future__ import annotations

import re

import pytest

from rag.answer.render import highlight, quoted_rows, table_markdown
from rag.ingest.table_rows import format_row
from rag.types import Passage

Y24, Y23 = "Years ended March 31, 2024", "Years ended March 31, 2023"
REVENUE = format_row("Revenue: Subscription", [(Y24, "$5,210"), (Y23, "$4,480")])
COST = format_row("Cost of revenue: Subscription", [(Y24, "610"), (Y23, "575")])
PASSAGE = f"Operating results\n\n{REVENUE}\n\n{COST}\n\nSubscription revenue grew."


def test_rows_become_a_table_with_the_column_labels_as_header():
    assert table_markdown([REVENUE, COST]) == (
        "|   | Years ended March 31, 2024 | Years ended March 31, 2023 |\n"
        "| --- | ---: | ---: |\n"
        "| Revenue\\: Subscription | \\$5,210 | \\$4,480 |\n"
        "| Cost of revenue\\: Subscription | 610 | 575 |"
    )


def test_rows_with_different_columns_share_one_header():
    rows = [
        format_row("Cash", [("2024", "10"), ("2023", "9")]),
        format_row("Debt", [("2023", "4")]),
    ]
    assert table_markdown(rows).splitlines()[2:] == ["| Cash | 10 | 9 |", "| Debt |   | 4 |"]


@pytest.mark.parametrize(
    "hostile",
    [
        "![tracker](https://evil.example/p.png)",
        "[click](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        ":red[alarm] $x^2$ **bold**",
        "a|b",
    ],
)
def test_every_cell_is_escaped(hostile):
    md = table_markdown([f"{hostile} | {hostile}: 5 | 2023: 6"])
    body = md.replace("\\|", "")
    assert body.count("|") == 3 * 4  # header, rule and row: exactly the table's own pipes
    for row in md.splitlines():
        cells = [c for c in re.split(r"(?<!\\)\|", row) if c.strip() and "---" not in c]
        for cell in cells:  # no Markdown, HTML, directive or LaTeX character left unescaped
            assert not re.search(r"(?<!\\)[\[\]()!<>*$:`_]", cell), cell


def test_what_is_not_a_labelled_row_is_not_a_table():
    assert table_markdown(["Subscription revenue grew."]) == ""
    assert table_markdown([]) == ""
    assert table_markdown(["City | Rate"]) == ""


def test_highlight_shows_a_quoted_row_as_a_table_above_the_passage():
    md = highlight(PASSAGE, COST)
    table, _, body = md.partition("\n\n")
    assert table == "\n".join(table_markdown([COST]).splitlines())
    assert ":orange-background[Cost of revenue\\: Subscription" in body
    assert "Operating results" in body


def test_highlight_of_prose_has_no_table():
    md = highlight(PASSAGE, "Subscription revenue grew.")
    assert "| --- |" not in md
    assert md.endswith(":orange-background[Subscription revenue grew\\.]")


def test_a_sentence_pair_of_two_rows_quotes_both():
    assert quoted_rows(PASSAGE, f"{REVENUE} {COST}") == [REVENUE, COST]
    assert quoted_rows(PASSAGE, f"{REVENUE} And more words.") == []


def test_extractive_answer_keeps_rows_that_differ_only_in_their_values(encode):
    from rag.answer.evidence import extractive_answer

    passage = Passage(chunk_id="c1", doc_id="d", source="10-k.pdf", page=62, section="",
                      text=PASSAGE)  # fmt: skip
    picks = extractive_answer(
        "What were subscription revenue and subscription cost of revenue in the year ended "
        "March 31, 2024?",
        [passage],
        encode,
    )
    quoted = [sentence for sentence, _ in picks]
    assert REVENUE in quoted and COST in quoted  # one table's rows share their header words
