"""Reading meaning: polarity, negation, units, periods and directions against the evidence."""

from __future__ import annotations

from rag.answer.meaning import (
    contradiction,
    direction_conflict,
    period_conflict,
    polarity,
    unit_conflict,
)

ROW = "Net sales | Year ended 2022: 14,215 | Year ended 2021: 12,242"


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


def test_same_number_with_another_unit_or_frequency():
    assert "13 hour" in unit_conflict("You get 13 hours a year.", "You get 13 days a year.")
    assert unit_conflict("ASan reserves 16-20GB.", "ASan reserves 16-20TB of memory.")
    assert unit_conflict("You get 13 days.", "You get 13 days of leave.") is None
    assert unit_conflict("Guilds get 4 hours each month.", "Guilds get 4 hours weekly.")


def test_a_figure_moved_to_another_period_is_caught():
    assert "2021" in period_conflict("Net sales were $12.2 billion in 2022.", ROW)
    assert period_conflict("Net sales were $14.2 billion in 2022.", ROW) is None
    claim = "Net sales rose to $14.2 billion in 2022 from $12.2 billion a year earlier."
    assert period_conflict(claim, ROW) is None  # "a year earlier" ties 12.2 to 2021


def test_a_reversed_direction_against_a_table_row():
    assert direction_conflict("Net sales fell to $14.2 billion in 2022.", ROW)
    assert direction_conflict("Net sales grew to $14.2 billion in 2022.", ROW) is None
