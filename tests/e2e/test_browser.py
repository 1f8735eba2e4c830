"""The real app served by `streamlit run` and opened in Debian's chromium through Playwright.

The server listens on loopback only and shows the smoke study (``smoke_study`` in
tests/conftest.py) through $ATLAS_RESULTS. Screenshots of every page go to the test's tmp dir. The
browser settings are the latency benchmark's (benchmarks/browser.py; imported from the repository root,
which ``python -m pytest`` puts on the path).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, resident_bytes
from ui.pages import PAGES as APP_PAGES

playwright = pytest.importorskip("playwright.sync_api")


HOST = "127.0.0.1"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 90_000
PAGES = {page.name: page.url_path for page in APP_PAGES}  # name: path in the URL
CHART_PAGES = {"compare", "losses", "latent", "svcca", "norms", "training"}
MEMORY_LIMIT = 2 * 2**30  # the server's resident memory after every page and a playground run per model
SCREENSHOTS = "ATLAS_SCREENSHOTS"  # set to a directory to keep the screenshots


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
def app_server(smoke_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(base URL, process id) of the app served in a subprocess, stopped after the module's tests."""
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
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def app_url(app_server: tuple[str, int]) -> str:
    return app_server[0]


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


def screenshot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get(SCREENSHOTS) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def key_element(page, name: str):
    """What shows that page ``name`` has drawn its results."""
    if name == "accuracy":
        return page.locator(".js-plotly-plot .heatmaplayer")
    if name in CHART_PAGES:
        return page.locator(".js-plotly-plot")
    if name == "playground":
        return page.get_by_role("button", name="Attack")
    return page.locator("[data-testid=stDataFrame] >> visible=true")  # not one in a collapsed expander


def assert_no_error(page) -> None:
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_exception(name: str, app_url: str, page, smoke_study: Path, tmp_path: Path) -> None:
    open_page(page, f"{app_url}/{PAGES[name]}")
    playwright.expect(key_element(page, name).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the other charts and tables finish drawing
    screenshot(page, tmp_path, name)
    study_box = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Study")
    playwright.expect(study_box).to_have_value(str(smoke_study))  # $ATLAS_RESULTS, selected by default
    assert_no_error(page)


def test_a_link_to_a_directory_not_offered_is_refused(app_url: str, page, smoke_study: Path) -> None:
    """Issue 15, item 13: the server's own query parsing, then the refusal and the default study, in a browser."""
    open_page(page, f"{app_url}/?results=..%2F..%2Fetc%00")
    playwright.expect(page.get_by_text("is not a study this server offers")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    playwright.expect(page.get_by_test_id("stAlertContentWarning").first).to_contain_text("../../etc\\x00")
    study_box = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Study")
    playwright.expect(study_box).to_have_value(str(smoke_study))
    playwright.expect(page).not_to_have_url(re.compile("results="))
    assert_no_error(page)


def dark_shoe_png(path: Path) -> Path:
    """A photo-like PNG: a dark shape on a light background, as a user would upload."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 90), (235, 235, 230))
    ImageDraw.Draw(image).polygon([(15, 60), (70, 25), (105, 45), (105, 70), (15, 70)], fill=(40, 30, 30))
    image.save(path)
    return path


def attack_and_wait(page) -> None:
    page.get_by_role("button", name="Attack").click()
    playwright.expect(page.get_by_test_id("stExpander").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)  # a model's
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)  # details, under the summary table
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)


def test_playground_attacks_an_uploaded_png(app_url: str, page, tmp_path: Path) -> None:
    open_page(page, f"{app_url}/playground")
    page.get_by_text("Upload an image").click()
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)
    page.locator("input[type=file]").set_input_files(dark_shoe_png(tmp_path / "shoe.png"))
    playwright.expect(page.get_by_text("Model input (1 x 28 x 28)")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)
    attack_and_wait(page)
    page.wait_for_timeout(1000)
    screenshot(page, tmp_path, "playground_upload")
    assert page.get_by_text("attack took").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 1  # class probabilities before and after
    assert_no_error(page)


def test_server_memory_stays_bounded(app_server: tuple[str, int], page) -> None:
    url, pid = app_server
    for path in PAGES.values():
        open_page(page, f"{url}/{path}")
    open_page(page, f"{url}/playground")
    attack_and_wait(page)  # a test image attacked on every model of the study
    assert resident_bytes(pid) < MEMORY_LIMIT
