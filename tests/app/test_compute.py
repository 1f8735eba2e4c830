"""Computing what the study lacks from the Robust accuracy page: a cell the config skips and a new eps, each
equal to what `engine run` writes for the same sweep; a cancelled computation leaves no part behind."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.attacks.registry import sweep_key
from engine.results import read_table
from engine.results.io import part_path
from engine.study.cells import Cell
from engine.study.integrity import audit, manifest_study
from engine.study.runner import run_study
from ui.compute import CANCELLED, DONE, RUNNING, ComputeQueue

pytestmark = pytest.mark.real_data
TIMING = ["seconds", "images_per_second"]  # the only columns a rerun may change
MISSING_MODEL = "lenet5_pregenerated"  # the smoke study's PGD-L2 sweep attacks two other models only


@pytest.fixture
def study(smoke_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the smoke study, served as the app's study."""
    copy = tmp_path / "smoke"
    shutil.copytree(smoke_study, copy)
    monkeypatch.delenv("ATLAS_STUDY_ROOTS", raising=False)
    monkeypatch.setenv("ATLAS_RESULTS", str(copy))
    return copy


def _open(study: Path) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/accuracy.py").run()
    assert not at.exception
    return at


def _compute(at: AppTest, model: str, sweep: str, eps: float) -> AppTest:
    """Ask for one cell in the panel and rerun the page until the computation has ended."""
    at.selectbox(key="compute_model").set_value(model).run()
    at.selectbox(key="compute_sweep").set_value(sweep).run()
    at.number_input(key=f"compute_eps_{sweep}_{model}").set_value(eps).run()
    at.button(key="compute_go").click().run()
    what = f"{sweep} at eps {eps:g} on {model}"
    deadline = time.monotonic() + 180
    while not any(what in box.value for box in [*at.success, *at.error]):
        assert time.monotonic() < deadline, "the computation did not end"
        time.sleep(0.5)
        at.run()
    return at.run()  # AppTest does not follow the rerun the panel asks for once the cell is in


def _charts(at: AppTest) -> str:
    """The plotly specs (JSON) of the page's charts: the heatmaps label their columns by attack and eps."""
    return "\n".join(chart.proto.spec for chart in at.get("plotly_chart"))


def _rows(table: pd.DataFrame, model: str, sweep: str, eps: float) -> pd.DataFrame:
    chosen = table[(table.model_id == model) & (table.sweep == sweep) & (table.eps == eps)]
    return chosen.drop(columns=TIMING).reset_index(drop=True)


def test_a_skipped_model_and_a_new_eps_equal_what_engine_run_writes(study: Path, tmp_path: Path) -> None:
    at = _open(study)
    assert "0.075" not in _charts(at)
    at = _compute(at, MISSING_MODEL, "pgd-L2-5steps-rs", 0.5)
    assert not at.exception and any("computed in" in box.value for box in at.success)
    at = _compute(at, "lenet5_standard", "fgsm-Linf-1steps", 0.075)
    assert not at.exception
    ours = read_table(study, "robust_accuracy")
    assert len(_rows(ours, MISSING_MODEL, "pgd-L2-5steps-rs", 0.5)) == 1
    assert len(_rows(ours, "lenet5_standard", "fgsm-Linf-1steps", 0.075)) == 1
    assert "0.075" in _charts(at)  # the heatmaps were redrawn with the new eps, which the page now selects
    assert 0.075 in at.multiselect(key=next(k for k in at.session_state if k.startswith("widget:eps_Linf:"))).value
    manifest = json.loads((study / "manifest.json").read_text())
    assert [(c["model_id"], c["eps"], c["by"]) for c in manifest["computed"]] == [
        (MISSING_MODEL, 0.5, "app"), ("lenet5_standard", 0.075, "app")]
    assert audit(study) == []  # engine check sees the cells, current and readable

    # engine run of the config with that model and that eps added writes the same rows
    config, _ = manifest_study(study)
    attacks = tuple(replace(s, models=(*s.models, MISSING_MODEL)) if sweep_key(s) == "pgd-L2-5steps-rs" else
                    replace(s, eps=(*s.eps, 0.075)) if sweep_key(s) == "fgsm-Linf-1steps" else s
                    for s in config.attacks)
    rerun = tmp_path / "rerun"
    shutil.copytree(study, rerun)
    run_study(replace(config, attacks=attacks), rerun, progress=False)
    theirs = read_table(rerun, "robust_accuracy")
    for model, sweep, eps in ((MISSING_MODEL, "pgd-L2-5steps-rs", 0.5), ("lenet5_standard", "fgsm-Linf-1steps", 0.075)):
        pd.testing.assert_frame_equal(_rows(ours, model, sweep, eps), _rows(theirs, model, sweep, eps))
    # the run covers both cells now: their parts and records are gone, no row is doubled
    assert json.loads((rerun / "manifest.json").read_text())["computed"] == []
    assert not part_path(rerun, "robust_accuracy", "lenet5_standard__fgsm-Linf-1steps__eps0.075").exists()
    assert not theirs.duplicated(["model_id", "sweep", "eps"]).any()


def test_extending_a_curve_computes_eps_until_the_attack_succeeds_and_selects_them(study: Path) -> None:
    at = _open(study)
    at.selectbox(key="compute_model").set_value("lenet5_pgd_linf").run()
    at.selectbox(key="compute_sweep").set_value("fgsm-Linf-1steps").run()
    at.number_input(key="compute_level").set_value(5.0).run()
    at.button(key="compute_extend").click().run()
    deadline = time.monotonic() + 300
    while not any("extended until accuracy <= 5%" in box.value for box in [*at.success, *at.error]):
        assert time.monotonic() < deadline, "the extension did not end"
        time.sleep(0.5)
        at.run()
    at.run()
    assert not at.exception and not at.error, [box.value for box in at.error]
    rows = read_table(study, "robust_accuracy")
    curve = rows[(rows.model_id == "lenet5_pgd_linf") & (rows.sweep == "fgsm-Linf-1steps")].sort_values("eps")
    new = curve[~curve.eps.isin([0.0, 0.05, 0.1])]
    assert len(new) >= 1 and new.eps.min() > 0.1  # doubling from the sweep's largest eps
    manifest = json.loads((study / "manifest.json").read_text())
    assert sorted(c["eps"] for c in manifest["computed"]) == sorted(new.eps)
    selected = at.multiselect(key=next(k for k in at.session_state if k.startswith("widget:eps_Linf:"))).value
    assert set(new.eps) <= set(selected)
    # either the attack reached the level (then the bracket is tight) or FGSM stalled below it up to eps 1
    reached = curve[curve.accuracy <= 0.05]
    assert reached.empty and curve.eps.max() == 1.0 or not reached.empty


@pytest.mark.parametrize("page", ["losses", "latent", "norms"])
def test_every_analysis_page_offers_to_analyse_a_new_eps(study: Path, page: str) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception and at.button(key="analyse_go") is not None
    assert "Analyse a missing cell or a new eps" in [block.label for block in at.main.get("expander")]


def test_the_svcca_page_analyses_a_new_eps(study: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/svcca.py").run()
    assert not at.exception
    at.selectbox(key="analyse_model").set_value("lenet5_standard").run()
    at.selectbox(key="analyse_sweep").set_value("fgsm-Linf-1steps").run()
    at.number_input(key="analyse_eps_fgsm-Linf-1steps_lenet5_standard").set_value(0.075).run()
    at.button(key="analyse_go").click().run()
    what = "the analyses of fgsm-Linf-1steps at eps 0.075 on lenet5_standard"
    deadline = time.monotonic() + 300
    while not any(what in box.value for box in [*at.success, *at.error]):
        assert time.monotonic() < deadline, "the analysis did not end"
        time.sleep(0.5)
        at.run()
    assert not at.exception and any("computed in" in box.value for box in at.success)
    for table in ("svcca", "a_distance", "pca", "per_sample", "norm_ratios"):
        rows = read_table(study, table)
        assert ((rows.model_id == "lenet5_standard") & (rows.eps == 0.075)).any(), table


def test_a_cell_the_study_has_or_the_attack_refuses_is_refused_before_any_work(study: Path) -> None:
    at = _open(study)
    at.selectbox(key="compute_model").set_value("lenet5_standard").run()
    at.selectbox(key="compute_sweep").set_value("fgsm-Linf-1steps").run()
    for eps, message in ((0.05, "the study's own run computes"), (1.5, "Linf eps is in pixel units")):
        at.number_input(key="compute_eps_fgsm-Linf-1steps_lenet5_standard").set_value(eps).run()
        at.button(key="compute_go").click().run()
        assert any(message in box.value for box in at.error)
    assert not list((study / "robust_accuracy").glob("*__eps*"))


def test_a_cancelled_computation_leaves_no_part_and_one_request_serves_two_sessions(study: Path) -> None:
    queue = ComputeQueue()
    cell = Cell("lenet5_standard", "deepfool-L2-50steps", 0.5)
    request = queue.submit(study, cell, 10.0)
    assert queue.submit(study, cell, 10.0) is request  # a second session asking joins the first request
    deadline = time.monotonic() + 60
    while request.state != RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # the child process is under way
    queue.cancel(request)
    while request.finished == 0.0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert request.state == CANCELLED and request.process is not None and request.process.returncode != 0
    time.sleep(1.0)  # the worker tidies up after the process ended
    assert not [p for p in (study / "robust_accuracy").iterdir() if "__eps" in p.name]
    assert "computed" not in json.loads((study / "manifest.json").read_text()) or \
        json.loads((study / "manifest.json").read_text())["computed"] == []
    again = queue.submit(study, cell, 10.0)  # a new request after the cancelled one runs to the end
    while again.state != DONE:
        assert time.monotonic() < deadline + 120 and again.state != "failed", again.message
        time.sleep(0.2)
    assert part_path(study, "robust_accuracy", "lenet5_standard__deepfool-L2-50steps__eps0.5").is_file()
