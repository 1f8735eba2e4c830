"""The real app served by `streamlit run` and opened in Debian's chromium through Playwright.

The server listens on loopback only and shows the smoke study (``smoke_study`` in
tests/conftest.py) through $ATLAS_RESULTS. Screenshots of every page go to the test's tmp dir.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
HOST = "127.0.0.1"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 90_000
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
PAGES = {"overview": "", "accuracy": "accuracy"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers "ok"; fail with the server log otherwise."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(smoke_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app served in a subprocess, stopped after the module's tests."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", HOST, "--server.port", str(port), "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "ATLAS_RESULTS": str(smoke_study)}
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://{HOST}:{port}"
        wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium package (make system-deps)")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    # Tall: Streamlit scrolls inside the page, so a full-page screenshot shows one viewport only.
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    yield context.new_page()
    context.close()


def open_page(page, url: str) -> None:
    """Load ``url`` and wait until the app's script run has finished."""
    page.goto(url, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_exception(name: str, app_url: str, page, smoke_study: Path, tmp_path: Path) -> None:
    open_page(page, f"{app_url}/{PAGES[name]}")
    key_element = page.locator(".js-plotly-plot .heatmaplayer") if name == "accuracy" else (
        page.get_by_test_id("stDataFrame"))
    playwright.expect(key_element.first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the other charts and tables finish drawing
    page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    sidebar_input = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Results directory")
    playwright.expect(sidebar_input).to_have_value(str(smoke_study))
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0
