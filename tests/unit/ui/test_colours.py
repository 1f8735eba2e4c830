"""One colour per model, app-wide: distinct within a study, by training-mode family, independent of the selection."""

from __future__ import annotations

import colorsys

import pandas as pd
from helpers import REPO

from engine.results import read_table
from ui.charts import export_name
from ui.figures.accuracy import robustness_curves
from ui.figures.colours import FAMILY_HUES, label_colours, model_colours
from ui.figures.labels import ModelLabels

SHIPPED = REPO / "precomputed" / "fashion_mnist"


def _hls(colour: str) -> tuple[float, float, float]:
    red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(red, green, blue)


def test_every_model_of_the_shipped_study_has_its_own_colour_near_its_family_hue() -> None:
    models = read_table(SHIPPED, "models")
    colours = model_colours(models)
    assert set(colours) == set(models.model_id) and len(set(colours.values())) == len(models)
    for row in models.itertuples():
        hue, lightness, _ = _hls(colours[row.model_id])
        distance = abs((hue * 360 - FAMILY_HUES[row.training_mode] + 180) % 360 - 180)
        assert distance <= 36, (row.model_id, hue * 360)
        assert 0.35 <= lightness <= 0.62  # readable on a light and on a dark background


def test_unknown_and_missing_training_modes_get_other_hues() -> None:
    models = pd.DataFrame({"model_id": ["a", "b", "c", "d"], "training_mode": ["standard", "trades", "mart", None]})
    colours = model_colours(models)
    assert len(set(colours.values())) == 4


def test_a_model_keeps_its_colour_whichever_models_a_chart_shows() -> None:
    """The robustness curves colour each model as the study's table says, with two models or with all."""
    models = read_table(SHIPPED, "models")
    accuracy = read_table(SHIPPED, "robust_accuracy")
    expected = label_colours(models)
    labels = ModelLabels(models)
    for shown in (["standard", "pgd_linf"], ["standard", "pgd_linf", "pgd_l2", "robust_l2"], list(models.model_id)):
        figure = robustness_curves(accuracy[accuracy.model_id.isin(shown)], models)
        drawn = {trace.name: trace.line.color for trace in figure.data if trace.legend in (None, "legend")}
        assert drawn == {labels(model_id): expected[labels(model_id)] for model_id in shown}


def test_export_names_say_study_and_chart_in_safe_characters() -> None:
    assert export_name("fashion_mnist", "curves") == "fashion_mnist_curves"
    assert export_name("my study/../x", "losses_pgd l2") == "my-study-..-x_losses_pgd-l2"
