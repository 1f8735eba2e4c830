"""The Streamlit app driven headless by AppTest: each page on the shipped, a smoke and broken studies.

``smoke_study`` (tests/conftest.py) is the smoke study run once per session into a temporary
directory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.core.fs import read_json
from engine.results import read_table, write_part
from ui import pages

APP = str(REPO / "app.py")
PAGES = [page.script for page in pages.PAGES]  # relative to app.py, as switch_page wants
ANALYSIS_PAGES = PAGES[2:8]
SHIPPED = REPO / "precomputed" / "fashion_mnist"
TIMEOUT = 60


STUDY_ENV = ("ATLAS_RESULTS", "ATLAS_STUDY_ROOTS")  # which studies the app offers (ui/studies.py)


@pytest.fixture(autouse=True)
def study_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the shell's ATLAS_RESULTS and ATLAS_STUDY_ROOTS; monkeypatch puts them back
    after it, also when ``open_app`` has set ATLAS_RESULTS."""
    for name in STUDY_ENV:
        monkeypatch.setenv(name, "")  # records the shell's value (or its absence) for the undo
        monkeypatch.delenv(name)


def open_app(results_dir: Path | str | None = None, page: str | None = None) -> AppTest:
    """The app after its first run, pointed at ``results_dir`` (default: its own) and on ``page``.

    The sidebar offers only the server's studies, so ``results_dir`` is served as the server's own study,
    ``$ATLAS_RESULTS`` (restored after the test by ``study_environment``).
    """
    if results_dir is not None:
        os.environ["ATLAS_RESULTS"] = str(results_dir)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page)
    return at.run()


def selectbox(at: AppTest, label: str):
    """The page's selectbox labelled ``label`` (pages also draw a "Quick pick" of models)."""
    return next(box for box in at.main.selectbox if box.label == label)


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
    assert at.sidebar.selectbox[0].label == "Study"
    assert at.sidebar.selectbox[0].value == "precomputed/fashion_mnist"
    assert "results" not in at.query_params  # the default study is not written into the URL


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_shipped_study(page: str) -> None:
    at = open_app(page=page)
    assert_clean(at)
    if page.endswith("accuracy.py"):
        results = read_table(SHIPPED, "robust_accuracy")
        transfer = int(results.source_model_id.notna().any())
        assert len(plotly_specs(at)) == (0 if results.empty else results["norm"].nunique() + 1 + transfer)
    elif page in ANALYSIS_PAGES:
        assert plotly_specs(at) and all(spec["data"] for spec in plotly_specs(at))
    elif page.endswith("playground.py"):
        assert at.button[0].label == "Attack"
    elif page.endswith("papers.py"):  # tests/app/test_papers_page.py tests it in depth
        assert at.expander and at.dataframe
    elif page.endswith("robust_datasets.py"):  # tests/app/test_robust_datasets_page.py tests it in depth
        assert plotly_specs(at) and all(spec["data"] for spec in plotly_specs(at)) and at.dataframe
    else:
        models = read_table(SHIPPED, "models")
        shown = [frame.value for frame in at.dataframe if "clean_accuracy" in frame.value.columns]  # the models
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
    assert not at.expander  # the smoke study has none of the papers' models
    assert at.download_button[0].label == "Download models CSV"


def test_overview_compares_the_shipped_study_with_the_papers() -> None:
    at = open_app()
    assert_clean(at)
    papers = next(box for box in at.expander if box.label.startswith("Findings compared with the papers"))
    text = "\n".join(block.value for block in papers.markdown)
    assert "Garaev et al. 2024" in text and "Park & So 2020" in text and "agrees" in text


def test_accuracy_page_shows_heatmaps_curves_and_table(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    assert_clean(at)
    results = read_table(smoke_study, "robust_accuracy")
    norms = sorted(results["norm"].unique())
    *heatmaps, curves, transfer = plotly_specs(at)
    assert transfer["data"][0]["x"] == ["white-box", "from lenet5_standard"]
    assert [heatmap["layout"]["title"]["text"] for heatmap in heatmaps] == [f"norm: {norm}" for norm in norms]
    for heatmap, norm in zip(heatmaps, norms, strict=True):
        assert heatmap["data"][0]["type"] == "heatmap"
        assert len(heatmap["data"][0]["y"]) == results.loc[results["norm"] == norm, "model_id"].nunique()
        by_norm = results[results["norm"] == norm]
        assert len(heatmap["data"][0]["x"]) == len(by_norm.drop_duplicates(["attack", "eps", "source_model_id"]))
    attacks = results.groupby(["attack", "norm", "source_model_id"], dropna=False)
    lines = [trace for trace in curves["data"] if trace.get("meta")]  # the others are legend keys without data
    assert len(lines) == sum(frame["model_id"].nunique() for _, frame in attacks)  # model x attack
    assert [select.label for select in at.multiselect] == ["Models", "Attacks", "Norms", *(f"Eps ({n})" for n in norms)]
    # the quick pick, the Compute panel, then the transfer view
    assert [select.label for select in at.main.selectbox] == ["Quick pick", "Model", "Attack sweep", "Attack", "Eps"]
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
    heatmap, curves, _transfer = plotly_specs(at)  # the smoke study runs FGSM in Linf only
    assert heatmap["data"][0]["y"] == ["lenet5_standard (standard)"]
    assert heatmap["data"][0]["x"] == [f"fgsm eps={eps:g}" for eps in fgsm_eps]  # the title names the norm
    assert [(trace["name"], trace["meta"]) for trace in curves["data"] if trace.get("meta")] == [
        ("lenet5_standard (standard)", "fgsm")]


def test_empty_selection_shows_explanatory_figures(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    at.multiselect[2].set_value([]).run()
    assert_clean(at)
    *specs, _transfer = plotly_specs(at)  # the transfer view has its own selection
    assert len(specs) == 2  # one heatmap and the curves, both explaining there is nothing to show
    for spec in specs:
        assert "No robust-accuracy results" in spec["layout"]["annotations"][0]["text"]
    assert at.dataframe[0].value.empty


def test_results_directory_persists_across_pages(smoke_study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The study chosen in the sidebar stays chosen, and in the URL, on the next page."""
    monkeypatch.setenv("ATLAS_STUDY_ROOTS", os.pathsep.join(["precomputed", str(smoke_study)]))
    label = str(smoke_study.resolve())
    at = open_app()
    assert at.sidebar.selectbox[0].options == ["precomputed/fashion_mnist", label]
    at.sidebar.selectbox[0].set_value(label).run()
    at.switch_page("app_pages/accuracy.py").run()
    assert_clean(at)
    assert at.sidebar.selectbox[0].value == label
    assert at.query_params["results"] == label
    heatmap = plotly_specs(at)[0]["data"][0]
    assert heatmap["type"] == "heatmap" and "lenet5_standard (standard)" in heatmap["y"]  # the smoke study's


def test_results_directory_defaults_to_the_environment(smoke_study: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_RESULTS", str(smoke_study))
    at = open_app()
    assert_clean(at)
    assert at.title[0].value == "smoke"
    assert at.sidebar.selectbox[0].value == str(smoke_study)  # selected, outside the study roots
    assert "results" not in at.query_params


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


def test_compare_page_puts_models_side_by_side(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/compare.py")
    assert_clean(at)
    at.multiselect[0].set_value(["lenet5_standard", "lenet5_pgd_linf"]).run()
    selectbox(at, "Attack sweep").set_value("pgd-L2-5steps-rs").run()
    selectbox(at, "Eps").set_value(1.0).run()
    assert_clean(at)
    table = at.dataframe[0].value.set_index("model_id")
    assert list(table.index) == ["lenet5_standard", "lenet5_pgd_linf"]
    accuracy = read_table(smoke_study, "robust_accuracy").query("sweep == 'pgd-L2-5steps-rs' and eps == 1.0")
    assert table["robust accuracy"].to_dict() == accuracy.set_index("model_id").accuracy[table.index].to_dict()
    assert table["A-distance"].notna().all() and table["C2"].le(28).all()
    at.multiselect[0].set_value(["lenet5_standard"]).run()
    assert "at least two models" in at.warning[0].value


def test_loss_page_draws_one_figure_per_model_with_a_distance(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/losses.py")
    assert_clean(at)
    specs = plotly_specs(at)
    assert len(specs) == len(configured_models(smoke_study))
    names = [trace["name"] for trace in specs[0]["data"] if trace["type"] == "histogram"]
    assert names[0] == "clean" and all("A-distance" in name for name in names[1:]) and len(names) > 1
    assert at.toggle[0].value  # log scale
    assert len(at.dataframe[0].value) == len(configured_models(smoke_study))


def test_latent_page_shows_clean_and_adversarial_points(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/latent.py")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    titles = {note["text"].split("<br>")[0] for note in spec["layout"]["annotations"]}  # one panel per model
    assert set(configured_models(smoke_study)) <= titles
    inputs = {trace["meta"] for trace in spec["data"] if trace.get("meta")}  # overlaid in each panel
    assert "clean" in inputs and any(name.startswith("pgd L2 eps=") for name in inputs)  # first PGD sweep in config
    at.radio[0].set_value("clean only").run()
    assert {trace["meta"] for trace in plotly_specs(at)[0]["data"] if trace.get("meta")} == {"clean"}


def test_svcca_and_norm_pages_filter_by_layer_and_sweep(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/svcca.py")
    assert_clean(at)
    selectbox(at, "Layer").set_value("conv1").run()
    assert_clean(at)
    assert set(at.dataframe[0].value.layer) == {"conv1"}
    at.switch_page("app_pages/norms.py").run()
    assert_clean(at)
    ratios, boundary = at.dataframe[0].value, at.dataframe[1].value
    assert (ratios.c1 <= ratios.c2).all() and (boundary.found >= 0.99).all()


def test_selections_persist_across_pages_and_in_the_url(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/accuracy.py")
    at.multiselect[0].set_value(["lenet5_pgd_linf"]).run()
    assert at.query_params["models"] == "lenet5_pgd_linf"
    at.switch_page("app_pages/losses.py").run()
    assert_clean(at)
    assert at.multiselect[0].value == ["lenet5_pgd_linf"] and len(plotly_specs(at)) == 1
    assert at.query_params["models"] == "lenet5_pgd_linf"


def test_training_page_shows_curves_and_window_statistics(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/training.py")
    assert_clean(at)
    stats = at.dataframe[0].value
    curves = read_table(smoke_study, "training_curves")
    assert set(stats.test_set) == set(curves.test_set) and (stats["max"] >= stats["median"]).all()


def _attack(at: AppTest) -> AppTest:
    at.button[0].click().run()
    assert_clean(at)
    return at


def test_playground_attacks_a_test_image_on_every_model(smoke_study: Path) -> None:
    at = open_app(smoke_study, "app_pages/playground.py")
    assert_clean(at)
    selectbox(at, "Attack").set_value("fgsm").run()  # Linf eps 0.1 by default
    _attack(at)
    models = configured_models(smoke_study)
    assert len(plotly_specs(at)) == len(models)  # class probabilities before and after, per model
    assert len(at.get("image")) == 3 * len(models) + 1  # the test image, then three per model
    captions = [caption.value for caption in at.caption if "attack took" in caption.value]
    assert len(captions) == len(models) and all("||d||_inf = 0.1" in caption for caption in captions)


def _png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_playground_attacks_an_upload(smoke_study: Path) -> None:
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (90, 60), "white")
    ImageDraw.Draw(photo).rectangle((30, 10, 60, 50), fill="black")  # a dark object on white
    at = open_app(smoke_study, "app_pages/playground.py")
    at.radio[0].set_value("Upload an image").run()
    at.file_uploader[0].set_value(("shoe.png", _png(photo), "image/png")).run()
    assert_clean(at)
    assert at.checkbox[0].label.startswith("Invert") and at.checkbox[0].value  # light background: inverted
    at.multiselect[0].set_value(["lenet5_standard"]).run()
    _attack(at)
    assert len(plotly_specs(at)) == 1 and any("attack took" in caption.value for caption in at.caption)


@pytest.mark.parametrize(("name", "payload", "message"), [
    ("empty.png", b"", "empty"),
    ("notes.png", b"hello, this is text", "not a supported image"),
    ("cut.png", None, "truncated or damaged"),
])
def test_playground_explains_bad_uploads(smoke_study: Path, name: str, payload: bytes | None, message: str) -> None:
    from PIL import Image

    if payload is None:
        payload = _png(Image.effect_noise((64, 64), 60))[:300]
    at = open_app(smoke_study, "app_pages/playground.py")
    at.radio[0].set_value("Upload an image").run()
    at.file_uploader[0].set_value((name, payload, "image/png")).run()
    assert not at.exception
    assert message in at.error[0].value


def test_older_schema_version_is_explained(study_copy: Path) -> None:
    manifest = read_json(study_copy / "manifest.json")
    (study_copy / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 1}))
    at = open_app(study_copy, "app_pages/losses.py")
    assert not at.exception
    assert "schema version 1" in at.error[0].value and "python -m engine run" in at.error[0].value


def test_study_without_analyses_says_how_to_add_them(study_copy: Path) -> None:
    for table in ("per_sample", "pca", "svcca"):
        shutil.rmtree(study_copy / table)
    for page in ("app_pages/losses.py", "app_pages/latent.py", "app_pages/svcca.py"):
        at = open_app(study_copy, page)
        assert_clean(at)
        assert "[analysis]" in at.info[0].value
