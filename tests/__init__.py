"""Groundwork tests (a package, so `tests.servers` imports however pytest is started)."""
