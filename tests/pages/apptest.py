"""Running one page under Streamlit's AppTest, as every page test starts."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[2] / "pages"


def run_page_file(name: str, timeout: float) -> AppTest:
    """Run ``pages/<name>.py`` once and fail on any exception it raised."""
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    return at
