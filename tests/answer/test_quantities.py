"""Figures against the passage: units and frequencies, periods and directions of change."""

from __future__ import annotations

from rag.answer.quantities import direction_conflict, period_conflict, unit_conflict

ROW = "Net sales | Year ended 2022: 14,215 | Year ended 2021: 12,242"


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
