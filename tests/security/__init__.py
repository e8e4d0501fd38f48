"""Security properties of Groundwork, tested end to end with real components."""
