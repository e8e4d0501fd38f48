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


# An [auth] section as a deployment configures it: sign-in is on (no provider is contacted).
AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-some-length",
    "client_id": "groundwork",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
