"""Layout facts a person would check, on the shipped 28-model study in Debian's chromium (issue 15).

Every page is drawn with its default model selection and then with all 28 models (the "Quick pick"); each time
it is screenshot (to the test's tmp dir, or $ATLAS_SCREENSHOTS) and every chart is checked: it is drawn, a model
legend lists each model drawn once, no axis title overlaps a tick label or a legend, and a model has one colour on
every page and with any selection. A view's link, opened in a fresh browser, shows the same view.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import PAGE_TIMEOUT_MS, assert_no_error, open_page, screenshot, served_app

from benchmarks.browser import IDLE
from ui.pages import PAGES

playwright = pytest.importorskip("playwright.sync_api")

MODELS = 28  # in the shipped study
ALL_DRAWN = {"norms", "compare"}  # pages whose model-legend charts have data for every chosen model
FEWER = {"robust_datasets": 3}  # pages whose table holds only some models: the shipped robust_dataset models
TITLES = "g[class^='g-x'][class$='title'] text, g[class^='g-y'][class$='title'] text"
BLOCKERS = "g[class$='tick'] text, g.legend, g.legend2"  # tick labels and legends
# Per chart, in one call: the model legend's entries (title "model") and, from the figure's data, the models drawn
# (legend groups of traces kept out of the legend) and each entry's colour; the boxes of its axis titles and of
# what they must not overlap.
CHART_FACTS = f"""el => {{
  const legend = el.querySelector('g.legend');
  const title = legend && legend.querySelector('.legendtitletext');
  const entries = el.data.filter(t => t.showlegend !== false && (t.legend || 'legend') === 'legend');
  const drawn = new Set(el.data.filter(t => t.showlegend === false && t.legendgroup).map(t => t.legendgroup));
  const boxes = selector => Array.from(el.querySelectorAll(selector)).map(node => {{
    const box = node.getBoundingClientRect();
    return {{text: node.textContent, x: box.x, y: box.y, width: box.width, height: box.height}};
  }});
  const scrolled = Array.from(el.querySelectorAll('.scrollbar')).some(bar => bar.getBoundingClientRect().height > 0);
  return {{height: el.querySelector('.plot-container').offsetHeight, scrolled: scrolled,
          modelLegend: !!title && title.textContent === 'model',
          shown: legend ? legend.querySelectorAll('.traces').length : 0, drawn: drawn.size,
          colours: Object.fromEntries(entries.map(t => [t.name, (t.line || {{}}).color || (t.marker || {{}}).color])),
          titles: boxes("{TITLES}"), blockers: boxes("{BLOCKERS}")}};
}}"""


@pytest.fixture(scope="module")
def shipped_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app serving the shipped study (no study variable set)."""
    with served_app(tmp_path_factory.mktemp("server") / "streamlit.log", {}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def colours() -> dict[str, str]:
    """Each model's legend colour as first seen, on any page and selection."""
    return {}


def _overlap(first: dict, second: dict) -> bool:
    """Whether two bounding boxes share more than a pixel each way."""
    if min(first["width"], first["height"], second["width"], second["height"]) <= 0:
        return False
    return (min(first["x"] + first["width"], second["x"] + second["width"]) - max(first["x"], second["x"]) > 1
            and min(first["y"] + first["height"], second["y"] + second["height"]) - max(first["y"], second["y"]) > 1)


def _check_charts(page, name: str, chosen: int, colours: dict[str, str]) -> None:
    """The layout facts of every chart of the page shown, ``chosen`` models selected."""
    for facts in page.locator(".js-plotly-plot").evaluate_all(f"charts => charts.map({CHART_FACTS})"):
        assert facts["height"] > 0, name  # plotly drew it (a figure it cannot lay out stays 0 px high)
        assert not facts["scrolled"], name  # every legend shows all its entries, none hides some behind a scrollbar
        if facts["modelLegend"]:
            assert facts["shown"] == facts["drawn"] == len(facts["colours"]), (name, facts)
            assert facts["shown"] == chosen or name not in ALL_DRAWN, (name, chosen, facts["shown"])
            for model, colour in facts["colours"].items():
                assert colours.setdefault(model, colour) == colour, (name, model)
        for title in facts["titles"]:
            hits = [other["text"][:40] for other in facts["blockers"] if _overlap(title, other)]
            assert not hits, (name, title["text"], hits)


def _chosen_models(page) -> int:
    """The number of models the page's model selection holds (in the URL)."""
    models = dict(part.split("=", 1) for part in page.url.partition("?")[2].split("&") if "=" in part).get("models")
    return len(models.split("%2C")) if models else 0


def _pick_all(page) -> None:
    """Choose "all" in the page's (first) quick pick of models, by typing it, and wait for the rerun."""
    pick = page.get_by_role("combobox", name="Quick pick").first
    pick.click()
    pick.press_sequentially("all")
    page.get_by_role("option", name="all", exact=True).click()
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)


@pytest.mark.parametrize("entry", PAGES, ids=lambda entry: entry.name)
def test_every_page_is_readable_with_the_default_selection_and_all_28_models(
        entry, shipped_url: str, page, colours: dict[str, str], tmp_path: Path) -> None:
    open_page(page, f"{shipped_url}/{entry.url_path}")
    page.wait_for_timeout(1000)  # the charts' drawing after the script run
    screenshot(page, tmp_path, f"{entry.name}_default")
    _check_charts(page, entry.name, _chosen_models(page), colours)
    if page.get_by_role("combobox", name="Quick pick").count():
        _pick_all(page)
        page.wait_for_timeout(1000)
        screenshot(page, tmp_path, f"{entry.name}_all")
        everyone = FEWER.get(entry.name, MODELS)
        assert _chosen_models(page) == everyone
        _check_charts(page, entry.name, everyone, colours)
    assert_no_error(page)


def test_a_views_link_opens_the_same_view_and_its_charts_export_svg(shipped_url: str, browser, page) -> None:
    """The sidebar's link to the norms page with all models, opened in a fresh browser context, draws the same
    selection; the camera button then saves an SVG named after the study, page, chart and selection."""
    open_page(page, f"{shipped_url}/norms")
    _pick_all(page)
    link = page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()
    assert link.startswith(f"{shipped_url}/norms?") and "models=" in link
    fresh = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True).new_page()
    try:
        open_page(fresh, link)
        assert _chosen_models(fresh) == MODELS
        chart = fresh.locator(".js-plotly-plot").first
        playwright.expect(chart.locator("g.legend .traces")).to_have_count(MODELS, timeout=PAGE_TIMEOUT_MS)
        fresh.get_by_test_id("stSidebar").get_by_text("SVG", exact=True).click()
        fresh.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)
        chart = fresh.locator(".js-plotly-plot").first
        chart.hover()
        with fresh.expect_download() as download:
            chart.locator(".modebar-btn[data-title='Download plot']").click()
        name = download.value.suggested_filename
        assert name.startswith("fashion_mnist_norms_norm_ratios_28-models_") and name.endswith(".svg"), name
        assert Path(download.value.path()).read_text().startswith("<svg")
    finally:
        fresh.context.close()


def _link(page) -> str:
    return page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()


def test_a_fragment_rerun_keeps_the_views_other_parameters_and_refreshes_its_link(shipped_url: str, page) -> None:
    """The SVCCA page's sorted-coefficients part reruns alone (``page_fragment``) when its sweep changes: the URL
    keeps the page's other selections, and the sidebar's link follows the new view."""
    open_page(page, f"{shipped_url}/svcca")
    before = _link(page)
    assert "svcca_sweep=pgd-Linf-20steps-rs" in before
    page.get_by_role("combobox", name="Sweep", exact=True).last.click()  # the sorted coefficients' sweep
    page.get_by_role("option", name="pgd-L2-20steps-rs", exact=True).click()
    playwright.expect(page.get_by_test_id("stSidebar").get_by_test_id("stCode")).to_contain_text(
        "svcca_sweep=pgd-L2-20steps-rs", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)
    after = _link(page)
    assert after == before.replace("svcca_sweep=pgd-Linf-20steps-rs", "svcca_sweep=pgd-L2-20steps-rs")
    assert after.removeprefix(f"{shipped_url}/svcca?") == page.url.partition("?")[2].replace("%2C", ",")
    assert_no_error(page)
