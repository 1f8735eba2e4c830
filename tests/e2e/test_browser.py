"""The real app served by `streamlit run` (tests/e2e/serving.py) and opened in Debian's chromium through Playwright.

The server shows the smoke study (``smoke_study`` in tests/conftest.py) through $ATLAS_RESULTS. Screenshots of
every page go to the test's tmp dir.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import PAGE_TIMEOUT_MS, assert_no_error, open_page, screenshot, served_app

from benchmarks.browser import IDLE, resident_bytes
from ui.pages import PAGES as APP_PAGES

playwright = pytest.importorskip("playwright.sync_api")


PAGES = {page.name: page.url_path for page in APP_PAGES}  # name: path in the URL
CHART_PAGES = {"compare", "losses", "latent", "svcca", "norms", "training"}
MEMORY_LIMIT = 2 * 2**30  # the server's resident memory after every page and a playground run per model


@pytest.fixture(scope="module")
def app_server(smoke_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(base URL, process id) of the app serving the smoke study, stopped after the module's tests."""
    with served_app(tmp_path_factory.mktemp("server") / "streamlit.log", {"ATLAS_RESULTS": str(smoke_study)}) as app:
        yield app


@pytest.fixture(scope="module")
def app_url(app_server: tuple[str, int]) -> str:
    return app_server[0]


def key_element(page, name: str):
    """What shows that page ``name`` has drawn its results."""
    if name == "accuracy":
        return page.locator(".js-plotly-plot .heatmaplayer")
    if name in CHART_PAGES:
        return page.locator(".js-plotly-plot")
    if name == "playground":
        return page.get_by_role("button", name="Attack")
    return page.locator("[data-testid=stDataFrame] >> visible=true")  # not one in a collapsed expander


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
