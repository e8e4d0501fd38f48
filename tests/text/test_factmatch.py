"""Facts written another way: scales, precision, computed values and abbreviations."""

from __future__ import annotations

from rag.text.factmatch import expands, normalize_periods
from rag.text.facts import FactIndex, extract_facts

TABLE = (
    "CONSOLIDATED BALANCE SHEETS (in millions)\n"
    "Goodwill | November 27, 2015: 5,366 | November 28, 2014: 4,724\n"
    "Operating income | 2016: 1,493.6 | 2015: 903.1\n"
)


def _number(claim: str):
    return next(f for f in extract_facts(claim) if f.kind == "number" and len(f.key) < 12)


def test_a_rounded_amount_in_another_scale_matches_the_table():
    index = FactIndex.of(TABLE)
    assert index.has(_number("Goodwill was about $5.37 billion."))
    assert index.has(_number("Goodwill was $4,724 million."))
    assert not index.has(_number("Goodwill was about $5.47 billion."))


def test_a_declared_scale_rules_out_the_others():
    index = FactIndex.of(TABLE)  # "in millions": 5,366 cannot be 5,366 thousand
    assert not index.has(_number("Goodwill was $5,366 thousand."))


def test_a_computed_percentage_change_is_derived_and_a_wrong_one_is_not():
    index = FactIndex.of(TABLE)
    claim = "Operating income grew about 65.4% in 2016."
    fact = next(f for f in extract_facts(claim) if f.text.startswith("65"))
    assert "percentage change" in index.derive(fact, claim, {"operating", "income"})
    wrong = "Operating income grew about 56.4% in 2016."
    fact = next(f for f in extract_facts(wrong) if f.text.startswith("56"))
    assert index.derive(fact, wrong, {"operating", "income"}) == ""


def test_abbreviations_match_their_expansions():
    assert expands("CAPEX", ["capital", "expenditures"])
    assert expands("SG&A", ["selling", "general", "and", "administrative"])
    assert expands("YoY", ["year", "over", "year"])
    assert not expands("EPS", ["earnings", "before", "taxes"])
    index = FactIndex.of("Overtime depends on your FLSA status.")
    [name] = [f for f in extract_facts("It depends on your Fair Labor Standards Act status.")
              if f.kind == "name"]  # fmt: skip
    assert index.has(name)


def test_period_shorthand_is_spelled_out():
    assert normalize_periods("FY2015 and FY22, 1Q21") == "fiscal 2015 and fiscal 2022, Q1 2021"
