"""The Streamlit app driven headless by AppTest: each page on the shipped, a smoke and broken studies.

``smoke_study`` (tests/conftest.py) is the smoke study run once per session into a temporary
directory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.results import read_table, write_part
from engine.results.io import read_json

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
PAGES = ["app_pages/overview.py", "app_pages/accuracy.py"]  # relative to app.py, as switch_page wants
SHIPPED = REPO / "precomputed" / "fashion_mnist"
TIMEOUT = 60


def open_app(results_dir: Path | str | None = None, page: str | None = None) -> AppTest:
    """The app after its first run, pointed at ``results_dir`` (default: its own) and on ``page``."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page)
    if results_dir is not None:
        at.sidebar.text_input[0].set_value(str(results_dir))
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]


def configured_models(study: Path) -> list[str]:
    """The model ids of the study's config, in config order."""
    return [spec["id"] for spec in read_json(study / "manifest.json")["config"]["models"]]


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.fixture
def study_copy(smoke_study: Path, tmp_path: Path) -> Path:
    """A private copy of the smoke study that a test may damage."""
    return Path(shutil.copytree(smoke_study, tmp_path / "study"))


def test_opens_on_the_shipped_study(monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_RESULTS", raising=False)
    at = open_app()
    assert_clean(at)
    assert at.title[0].value == read_json(SHIPPED / "manifest.json")["study"]
    assert at.sidebar.text_input[0].value == "precomputed/fashion_mnist"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_shipped_study(page: str) -> None:
    at = open_app(page=page)
    assert_clean(at)
    if page.endswith("accuracy.py"):
        results = read_table(SHIPPED, "robust_accuracy")
        assert len(plotly_specs(at)) == (0 if results.empty else results["norm"].nunique() + 1)
    else:
        models = read_table(SHIPPED, "models")
        shown = [frame.value for frame in at.dataframe if "model_id" in frame.value.columns]
        assert [len(frame) for frame in shown] == ([] if models.empty else [len(models)])


def test_overview_shows_models_and_provenance(smoke_study: Path) -> None:
    at = open_app(smoke_study)
    assert_clean(at)
    assert not at.warning
    assert at.title[0].value == "smoke"
    models, provenance = at.dataframe[0].value, at.dataframe[1].value
    assert list(models.columns) == ["model_id", "arch", "training_mode", "train_norm", "train_eps", "train_attacks",
                                    "augment", "epochs", "clean_accuracy", "parameters", "train_seconds"]
    assert list(models["model_id"]) == configured_models(smoke_study)
    fields = dict(zip(provenance["field"], provenance["value"], strict=True))
    assert fields["status"] == "finished"
    assert fields["device"] == "cpu"
    assert "torch" in set(at.dataframe[2].value["library"])
    assert at.download_button[0].label == "Download models CSV"


def test_accuracy_page_shows_heatmaps_curves_and_table(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    assert_clean(at)
    results = read_table(smoke_study, "robust_accuracy")
    norms = sorted(results["norm"].unique())
    *heatmaps, curves = plotly_specs(at)
    assert [heatmap["layout"]["title"]["text"] for heatmap in heatmaps] == [f"norm: {norm}" for norm in norms]
    for heatmap, norm in zip(heatmaps, norms, strict=True):
        assert heatmap["data"][0]["type"] == "heatmap"
        assert len(heatmap["data"][0]["y"]) == results.loc[results["norm"] == norm, "model_id"].nunique()
        by_norm = results[results["norm"] == norm]
        assert len(heatmap["data"][0]["x"]) == len(by_norm.drop_duplicates(["attack", "eps", "source_model_id"]))
    attacks = results.groupby(["attack", "norm", "source_model_id"], dropna=False)
    assert len(curves["data"]) == sum(frame["model_id"].nunique() for _, frame in attacks)  # model x attack
    assert [select.label for select in at.multiselect] == ["Models", "Attacks", "Norms", "Eps values"]
    assert len(at.dataframe[0].value) == len(results)
    assert at.download_button[0].label == "Download robust accuracy CSV"


def test_filters_narrow_the_table_and_the_heatmap(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    at.multiselect[1].set_value(["fgsm"]).run()
    at.multiselect[0].set_value(["lenet5_standard"]).run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert set(table["attack"]) == {"fgsm"} and set(table["model_id"]) == {"lenet5_standard"}
    results = read_table(smoke_study, "robust_accuracy")
    fgsm_eps = sorted(results.loc[(results["attack"] == "fgsm") & (results["norm"] == "Linf"), "eps"].unique())
    heatmap, curves = plotly_specs(at)  # the smoke study runs FGSM in Linf only
    assert heatmap["data"][0]["y"] == ["lenet5_standard (standard)"]
    assert heatmap["data"][0]["x"] == [f"fgsm Linf eps={eps:g}" for eps in fgsm_eps]
    assert [trace["name"] for trace in curves["data"]] == ["lenet5_standard (standard), fgsm"]


def test_empty_selection_shows_explanatory_figures(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    at.multiselect[2].set_value([]).run()
    assert_clean(at)
    specs = plotly_specs(at)
    assert len(specs) == 2  # one heatmap and the curves, both explaining there is nothing to show
    for spec in specs:
        assert "No robust-accuracy results" in spec["layout"]["annotations"][0]["text"]
    assert at.dataframe[0].value.empty


def test_results_directory_persists_across_pages(smoke_study: Path) -> None:
    at = open_app(smoke_study)
    at.switch_page("app_pages/accuracy.py").run()
    assert_clean(at)
    assert at.sidebar.text_input[0].value == str(smoke_study)
    assert plotly_specs(at)[0]["data"][0]["type"] == "heatmap"


def test_results_directory_defaults_to_the_environment(smoke_study: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_RESULTS", str(smoke_study))
    at = open_app()
    assert_clean(at)
    assert at.title[0].value == "smoke"


@pytest.mark.parametrize("page", PAGES)
def test_missing_directory_is_explained(page: str, tmp_path: Path) -> None:
    at = open_app(tmp_path / "nowhere", page)
    assert not at.exception
    assert "does not exist" in at.error[0].value
    assert "python -m engine run" in at.error[0].value


def test_directory_without_manifest_is_explained(tmp_path: Path) -> None:
    at = open_app(tmp_path)
    assert not at.exception
    assert "no `manifest.json`" in at.error[0].value


def test_schema_mismatch_is_explained(study_copy: Path) -> None:
    shutil.rmtree(study_copy / "models")
    (study_copy / "models").mkdir()
    pd.DataFrame({"model_id": ["m"], "epochs": ["three"]}).to_parquet(study_copy / "models" / "m.parquet")
    at = open_app(study_copy)
    assert not at.exception
    assert "does not match this engine's results schema" in at.error[0].value


def test_partial_study_warns_and_shows_what_exists(study_copy: Path) -> None:
    manifest = read_json(study_copy / "manifest.json")
    (study_copy / "manifest.json").write_text(json.dumps({**manifest, "finished": False}))
    planned = len(configured_models(study_copy))
    shutil.rmtree(study_copy / "robust_accuracy")
    models = read_table(study_copy, "models")
    shutil.rmtree(study_copy / "models")
    write_part(study_copy, "models", "lenet5_standard", models[models["model_id"] == "lenet5_standard"])

    at = open_app(study_copy)
    assert_clean(at)
    assert "still running or was interrupted" in at.warning[0].value
    assert f"1 of {planned} models trained" in at.warning[0].value
    assert list(at.dataframe[0].value["model_id"]) == ["lenet5_standard"]
    at.switch_page("app_pages/accuracy.py").run()
    assert_clean(at)
    assert "No attack has finished yet" in at.info[0].value
    assert not plotly_specs(at)
