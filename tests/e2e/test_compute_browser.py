"""In Debian's chromium, on a copy of the smoke study: the Robust accuracy page computes a cell a sweep skips
and a new eps, and redraws its heatmaps with them (tests/app/test_compute.py checks the rows against
`engine run`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from serving import PAGE_TIMEOUT_MS, assert_no_error, open_page, screenshot, served_app

from benchmarks.browser import compute_in_page
from engine.results import read_table

pytestmark = pytest.mark.real_data


def test_compute_fills_a_skipped_cell_and_a_new_eps_and_the_heatmap_shows_them(page, smoke_study: Path,
                                                                                tmp_path: Path) -> None:
    study = tmp_path / "smoke"
    shutil.copytree(smoke_study, study)
    with served_app(tmp_path / "server.log", {"ATLAS_RESULTS": str(study)}) as (url, _):
        open_page(page, f"{url}/accuracy")
        heatmaps = page.locator(".js-plotly-plot")
        assert heatmaps.filter(has_text="0.075").count() == 0
        compute_in_page(page, "lenet5_pregenerated", "pgd-L2-5steps-rs", 0.5, PAGE_TIMEOUT_MS)
        compute_in_page(page, "lenet5_standard", "fgsm-Linf-1steps", 0.075, PAGE_TIMEOUT_MS)
        assert_no_error(page)
        heatmaps.filter(has_text="0.075").first.wait_for(timeout=PAGE_TIMEOUT_MS)  # the new eps has a column
        screenshot(page, tmp_path, "accuracy_after_compute")
    rows = read_table(study, "robust_accuracy")
    skipped = (rows.model_id == "lenet5_pregenerated") & (rows.sweep == "pgd-L2-5steps-rs") & (rows.eps == 0.5)
    assert skipped.sum() == 1
    assert ((rows.model_id == "lenet5_standard") & (rows.eps == 0.075)).sum() == 1
