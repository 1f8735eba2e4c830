"""The Robust datasets page: the convergence chart and table, and the sample pairs, on the shipped study, the
smoke study, a study that trained its robust models before the engine measured them, and one with none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from test_app import SHIPPED, open_app, study_environment  # noqa: F401 (autouse: each test starts without $ATLAS_RESULTS)

from engine.reporting.robust_datasets import robust_dataset_summary
from engine.results import read_table, write_part

PAGE = "app_pages/robust_datasets.py"


def _captions(at) -> list[str]:
    return [caption for image in at.main.get("image") for caption in image.captions]


def _number(at, label_start: str):
    return next(box for box in at.main.number_input if box.label.startswith(label_start))


def test_the_shipped_robust_datasets_converged_and_show_their_samples() -> None:
    at = open_app(page=PAGE)
    assert not at.exception and at.title[0].value == "Robust datasets"
    rows = read_table(SHIPPED, "robust_datasets")
    assert {"robust_l2", "robust_linf", "resnet_robust_l2"} <= set(rows.model_id)
    shown = at.main.dataframe[0].value
    assert len(shown) >= 1 and set(shown.model_id) <= set(rows.model_id)
    summary = robust_dataset_summary(rows).set_index("model_id")
    assert (summary.median_relative < 0.1).all()  # the searches converged, from about 1
    assert (summary.median_start_relative > 0.5).all()
    captions = _captions(at)
    assert len(captions) == 16  # the default pairs, each with its label and distance
    assert all(caption.split("; ")[0] in ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                           "Sneaker", "Bag", "Ankle boot") for caption in captions)
    _number(at, "Pairs shown").set_value(4).run()
    assert not at.exception and len(_captions(at)) == 4


def test_the_smoke_study_page(smoke_study: Path) -> None:
    at = open_app(smoke_study, PAGE)
    assert not at.exception
    assert list(at.main.dataframe[0].value.model_id) == ["lenet5_robust_dataset"]
    assert len(_captions(at)) == 16


def test_a_study_measured_before_the_table_existed_says_how_to_measure(smoke_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "old"
    shutil.copytree(smoke_study, study)
    shutil.rmtree(study / "robust_datasets")
    at = open_app(study, PAGE)
    assert not at.exception
    assert "lenet5_robust_dataset" in at.info[0].value and "python -m engine run" in at.info[0].value


def test_a_study_without_robust_models_says_so(smoke_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "plain"
    shutil.copytree(smoke_study, study)
    shutil.rmtree(study / "robust_datasets")
    models = read_table(study, "models")
    for path in (study / "models").glob("*.parquet"):
        path.unlink()
    kept = models[models.training_mode != "robust_dataset"]
    write_part(study, "models", "all", pd.DataFrame(kept), "test")
    at = open_app(study, PAGE)
    assert not at.exception and "trains no model on a robust dataset" in at.info[0].value


def test_a_damaged_sample_file_is_named_with_the_repair(smoke_study: Path, tmp_path: Path) -> None:
    study = tmp_path / "damaged"
    shutil.copytree(smoke_study, study)
    preview = study / "robust_sets" / "lenet5_robust_dataset.original.safetensors"
    preview.write_bytes(b"not a safetensors file")
    at = open_app(study, PAGE)
    assert not at.exception and at.dataframe  # the chart and table above still drawn
    message = at.error[0].value
    assert preview.name in message and "python -m engine run" in message
