"""Quoted answers: escaped list items, and table rows shown as a table."""

from __future__ import annotations

from rag.answer.render import render_quotes
from rag.evaluation.metrics import key_fact_recall

ROWS = [
    "Operating expenses: Research and development | Years Ended December 2, 2016: 975,987 | "
    "Years Ended November 27, 2015: 862,730",
    "Operating expenses: Sales and marketing | Years Ended December 2, 2016: 1,910,197 | "
    "Years Ended November 27, 2015: 1,683,242",
]


def test_runs_of_rows_from_one_passage_become_a_table():
    md = render_quotes([("Revenue grew on subscriptions.", 1), (ROWS[0], 2), (ROWS[1], 2)])
    lines = md.splitlines()
    assert lines[0] == "- Revenue grew on subscriptions\\. [1]"
    header = next(line for line in lines if "Years Ended December 2" in line)
    assert header.startswith("| ") and "862,730" not in header  # labels above, values below
    assert "| --- | ---: | ---: |" in lines  # a Markdown table, not a run of numbers
    assert "| Operating expenses\\: Research and development | 975,987 | 862,730 |" in lines
    assert md.rstrip().endswith("[2]")


def test_quotes_cannot_carry_live_images_or_links():
    md = render_quotes([("See ![x](http://evil.example/p.png?q=1) and [here](http://e.x).", 1)])
    assert "![x](" not in md and "](http" not in md
    assert "\\!\\[x\\]" in md


def test_key_facts_are_found_through_escapes_and_tables():
    md = render_quotes([("The fee is $25.50 (non-refundable).", 1), (ROWS[0], 2)])
    assert key_fact_recall(md, ["$25.50", "975,987"]) == 1.0
