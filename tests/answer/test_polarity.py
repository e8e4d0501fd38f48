"""Polarity and negation: a claim that says the opposite of its evidence sentence."""

from __future__ import annotations

from rag.answer.polarity import contradiction, polarity


def test_reversed_direction_is_a_contradiction():
    evidence = "Operating expenses decreased 4% compared with the prior year."
    assert contradiction("Operating expenses increased 4% compared with the prior year.", evidence)
    assert contradiction("Operating expenses fell 4% from the prior year.", evidence) is None


def test_gain_and_loss_and_inclusion_are_opposites():
    assert contradiction(
        "The company recorded a gain on the sale.", "It recorded a loss on the sale."
    )
    assert contradiction("Wireless devices are included.", "Wireless devices are excluded.")


def test_a_negation_folds_into_the_word_it_governs():
    evidence = "An IDP is not required for conference requests."
    assert contradiction("An IDP is optional for conference requests.", evidence) is None
    assert "obligation" in contradiction("An IDP is required for conference requests.", evidence)
    # "no more than" is a bound, not a negation
    assert (
        contradiction("You may carry at most 240 hours.", "You can carry no more than 240 hours.")
        is None
    )


def test_a_dropped_or_added_negation_is_caught():
    evidence = "Comp time that you have not used is not paid out when you leave."
    assert "negat" in contradiction("Unused comp time is paid out when you leave.", evidence)
    assert contradiction("Environments are copied when passed.", "Environments are not copied.")


def test_affixal_opposites():
    assert "unpaid" in contradiction("Lunch breaks are paid.", "Lunch breaks are unpaid.")
    assert contradiction("Reviews are direct costs.", "Reviews are indirect costs.")
    assert contradiction("Lunch breaks are unpaid.", "Lunch breaks are unpaid.") is None


def test_polarity_reads_axes_and_leftover_negation():
    poles, negated, _ = polarity("Revenue did not increase")
    assert poles == {"change": {1}} and not negated  # folded: "did not increase" is a fall
    assert polarity("We never do that")[1]
