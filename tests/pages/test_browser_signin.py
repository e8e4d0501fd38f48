"""Signing in for real: Streamlit's OIDC login against a loopback identity provider, in
Chromium. Who gets in, which pages each role sees, and a private collection's passages reaching
only its readers through the running app.

The app runs as in production (``streamlit run app.py`` with an ``[auth]`` section in a secrets
file); the provider is :class:`tests.servers.oidc.FakeIdentityProvider`, which signs in the user
the test names next.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import run_cli
from tests.pages.test_browser import (
    CHROMIUM_ARGS,
    _free_port,
    _idle,
    _screenshot,
    _wait_healthy,
    chromium,  # noqa: F401 - the fixture
)
from tests.servers.oidc import FakeIdentityProvider

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CANTEEN = "# Canteen\n\nThe canteen opens at eight and serves lunch until two.\n"
SALARIES = (
    "# Salary bands\n\nThe salary band for grade seven is 61,000 to 74,000 euros. Salary bands "
    "are reviewed each March by the remuneration committee.\n"
)
QUESTION = "What is the salary band for grade seven?"


@pytest.fixture
def signed_in_app(tmp_path):
    """The app behind sign-in, with a public note and an HR-only document; yields (url, idp)."""
    data = tmp_path / "data"
    (tmp_path / "canteen.md").write_text(CANTEEN)
    (tmp_path / "salaries.md").write_text(SALARIES)
    assert run_cli("ingest", str(tmp_path / "canteen.md"), data_dir=data).returncode == 0
    hr = run_cli("ingest", str(tmp_path / "salaries.md"), "--collection", "hr", data_dir=data)
    assert hr.returncode == 0, hr.stderr
    assert run_cli("collections", "--set", "hr", "--readers", "hr", data_dir=data).returncode == 0
    with FakeIdentityProvider() as idp:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{url}/oauth2callback"\n'
            'cookie_secret = "a-long-random-cookie-secret-for-this-test"\n'
            f'client_id = "{idp.client_id}"\n'
            f'client_secret = "{idp.client_secret}"\n'
            f'server_metadata_url = "{idp.metadata_url}"\n'
        )
        env = dict(
            os.environ,
            GROUNDWORK_DATA_DIR=str(data),
            GROUNDWORK_BACKEND="embedded",
            GROUNDWORK_ALLOWED_USERS="@example.org",
            GROUNDWORK_ADMINS="boss@example.org",
            PYTHONUNBUFFERED="1",
        )
        log = tmp_path / "streamlit.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                 "--server.port", str(port), "--server.address", "127.0.0.1",
                 "--server.headless", "true", "--browser.gatherUsageStats", "false",
                 "--secrets.files", str(secrets)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_healthy(url, server, log)
            yield url, idp, log
        finally:
            server.terminate()
            server.wait(timeout=15)


def sign_in(browser, url: str, idp: FakeIdentityProvider, user: dict):
    """A fresh browser session signed in as ``user``; returns its page."""
    idp.next_user = user
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url, timeout=120_000)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    _idle(page, 120_000)
    return page


def ask(page, question: str) -> str:
    page.get_by_test_id("stChatInputTextArea").fill(question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=stChatMessage]').length >= 2", timeout=300_000
    )
    _idle(page, 300_000)
    return page.locator("body").inner_text()


def test_sign_in_roles_and_a_private_collection_in_the_browser(chromium, signed_in_app, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, idp, log = signed_in_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            ana = sign_in(browser, url, idp, {"email": "ana@example.org", "groups": ["sales"]})
            ana.get_by_role("heading", name="Ask your documents").wait_for()
            sidebar = ana.get_by_test_id("stSidebar").inner_text()
            assert "ana@example.org · reader" in sidebar
            assert "Documents" not in sidebar and "Feedback review" not in sidebar
            seen = ask(ana, QUESTION)
            assert "74,000" not in seen and "salaries.md" not in seen
            _screenshot(ana, tmp_path / "ana.png")

            hal = sign_in(browser, url, idp, {"email": "hal@example.org", "groups": ["hr"]})
            assert "74,000" in ask(hal, QUESTION)

            boss = sign_in(browser, url, idp, {"email": "boss@example.org"})
            nav = boss.get_by_test_id("stSidebarNav").inner_text()
            assert all(p in nav for p in ("Documents", "Collections", "Feedback review"))

            eve = sign_in(browser, url, idp, {"email": "eve@gmail.com"})
            eve.get_by_text("is not allowed to use Groundwork").wait_for()
            assert "Ask your documents" not in eve.locator("body").inner_text()
        finally:
            browser.close()
