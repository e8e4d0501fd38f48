"""The refusal gate: collection-relative signals, the logistic fit and the chain's use of it."""

from __future__ import annotations

import math

import pytest

from rag.answer.refusal import (
    FEATURES,
    Gate,
    fit,
    names_found,
    period_match,
    question_names,
    term_coverage,
)


def test_coverage_weighs_rare_terms_and_leaves_out_terms_the_collection_lacks():
    idf = {"leave": 0.5, "chicago": 6.0, "rate": 1.0, "zoning": 4.0}
    terms = ["leave", "chicago", "rate", "zoning"]
    coverage = term_coverage(terms, idf, 6.0, {"leave", "rate"})
    assert coverage == pytest.approx(1.5 / 5.5, abs=1e-3)  # "chicago" is in no passage at all
    assert term_coverage(["leave"], idf, 6.0, {"leave"}) == 1.0
    assert term_coverage(["chicago"], idf, 6.0, set()) == 0.0


def test_question_names_skip_sentence_case_and_keep_years_and_acronyms():
    names = question_names("What was Target Corporation's revenue in fiscal 2022 per GSA?")
    assert names == ["Target", "Corporation", "2022", "GSA"]
    assert names_found(["Adobe", "2015"], "ADOBE SYSTEMS · fiscal 2015") == 1.0
    assert names_found(["Target"], "Walmart Inc. annual report") == 0.0
    assert names_found([], "anything") == 1.0


def _row(strength: float, names: float) -> dict[str, float]:
    return dict.fromkeys(FEATURES, 0.5) | {"strength": strength, "names_found": names}


def test_fit_separates_the_groups_and_balances_them():
    rows = [(_row(0.8, 1.0), True)] * 30 + [(_row(0.3, 0.0), False)] * 5
    gate = fit(rows)
    assert not gate.refuses(_row(0.8, 1.0)) and gate.refuses(_row(0.3, 0.0))
    assert gate.probability(_row(0.9, 1.0)) > gate.probability(_row(0.9, 0.6))
    with pytest.raises(ValueError):
        fit([(_row(0.8, 1.0), True)])


def test_gate_probability_is_a_logistic_of_the_weighted_features():
    gate = Gate(weights=tuple(1.0 if f == "names_found" else 0.0 for f in FEATURES), bias=-0.5)
    assert gate.probability(_row(0.9, 0.5)) == pytest.approx(0.5)
    assert gate.probability(_row(0.9, 1.5)) == pytest.approx(1 / (1 + math.exp(-1)))


def test_the_shipped_gate_refuses_a_question_naming_what_the_passages_do_not():
    from rag.answer.refusal import DEFAULT_GATE

    named = dict.fromkeys(FEATURES, 1.0) | {"coverage": 0.7, "strength": 0.7}
    assert not DEFAULT_GATE.refuses(named)
    assert DEFAULT_GATE.refuses(named | {"names_found": 0.0})
    assert DEFAULT_GATE.refuses(named | {"strength": 0.3})


def test_period_match_reads_the_documents_stated_periods():
    contexts = ["Adobe 10-K · fiscal year ended December 1, 2017 (FY2017, fiscal 2017)"]
    assert period_match("What was Adobe's FY2016 revenue?", contexts) == 1.0  # a comparative
    assert period_match("What was Adobe's 2019 revenue?", contexts) == 0.0  # after the report
    assert period_match("What was Adobe's revenue?", contexts) == 1.0  # no year asked
    assert period_match("Leave in 2024?", ["Leave policy"]) == 1.0  # documents name no period


def test_names_skip_counts_and_match_spelled_out_abbreviations():
    assert question_names("What is the 3 year D&A margin in Q2 of the 1st filing?") == ["D&A"]
    assert names_found(["D&A"], "depreciation and amortization 1,234") == 1.0
    assert names_found(["Block"], "BLOCK_2020_10K.pdf") == 1.0


def test_question_focus_drops_the_instructions_around_the_question():
    from rag.answer.refusal import question_focus

    wrapped = (
        "You are an investment banker and your only resource is the balance sheet. Here's the "
        "question: what is the FY2015 operating cash flow ratio for Adobe? Round your answer "
        "to two decimal places."
    )
    assert question_focus(wrapped) == "what is the FY2015 operating cash flow ratio for Adobe?"
    assert question_focus("Tell me the leave policy") == "Tell me the leave policy"
