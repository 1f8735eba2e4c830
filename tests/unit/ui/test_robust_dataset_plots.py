"""The robust-dataset figure and summary on a small synthetic ``robust_datasets`` table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.reporting.robust_datasets import SUMMARY_COLUMNS, robust_dataset_summary
from engine.results.schema import TABLES
from ui.figures.colours import label_colours
from ui.figures.labels import ModelLabels
from ui.figures.robust_datasets import DISTANCE_FLOOR, START_COLOUR, feature_distance_boxes

MODELS = pd.DataFrame({"model_id": ["pgd_l2", "robust_l2", "robust_linf"],
                       "training_mode": ["pgd", "robust_dataset", "robust_dataset"],
                       "train_norm": ["L2", None, None], "train_eps": [1.0, None, None], "train_attacks": None,
                       "augment": False})


def _rows(model_id: str, relative: list[float], start: list[float], preds: list[int]) -> pd.DataFrame:
    n = len(relative)
    return pd.DataFrame({"model_id": model_id, "source_model_id": "pgd_l2", "sample": range(n),
                         "label": [0] * n, "feature_distance": np.array(relative) * 2,
                         "relative_distance": relative, "start_relative_distance": start,
                         "source_pred": preds})[list(TABLES["robust_datasets"].names)]


ROWS = pd.concat([_rows("robust_l2", [0.01, 0.02, 0.03, 0.0], [0.9, 1.0, 1.1, 0.0], [0, 0, 1, 0]),
                  _rows("robust_linf", [0.5, 0.6], [0.9, 1.0], [3, 0])], ignore_index=True)


def test_summary_per_model() -> None:
    summary = robust_dataset_summary(ROWS).set_index("model_id")
    assert list(summary.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert summary.loc["robust_l2", "images"] == 4 and summary.loc["robust_linf", "images"] == 2
    assert summary.loc["robust_l2", "median_relative"] == pytest.approx(0.015)
    assert summary.loc["robust_l2", "p90_relative"] == pytest.approx(0.027)
    assert summary.loc["robust_l2", "median_start_relative"] == pytest.approx(0.95)
    assert summary.loc["robust_l2", "source_agrees"] == pytest.approx(0.75)
    assert summary.loc["robust_linf", "source_agrees"] == pytest.approx(0.5)
    assert robust_dataset_summary(ROWS.iloc[:0]).empty


def test_boxes_per_model_start_and_redrawn_on_a_log_axis() -> None:
    figure = feature_distance_boxes(ROWS, MODELS)
    boxes = [trace for trace in figure.data if trace.type == "box"]
    labels, colours = ModelLabels(MODELS), label_colours(MODELS)
    assert len(boxes) == 4  # two models, a start box and a re-drawn box each
    starts = [box for box in boxes if box.offsetgroup == "start"]
    assert all(box.marker.color == START_COLOUR for box in starts)
    redrawn = {box.y[0]: box for box in boxes if box.offsetgroup == "re-drawn"}
    assert redrawn[labels("robust_l2")].marker.color == colours[labels("robust_l2")]
    assert min(redrawn[labels("robust_l2")].x) == DISTANCE_FLOOR  # a distance of 0 drawn at the floor
    assert figure.layout.xaxis.type == "log"
    model_entries = [trace.name for trace in figure.data
                     if trace.type == "scatter" and trace.legend in (None, "legend")]
    assert model_entries == [labels("robust_l2"), labels("robust_linf")]
    assert figure.layout.height > 2 * 64  # grows with the models


def test_an_empty_selection_says_so() -> None:
    figure = feature_distance_boxes(ROWS.iloc[:0], MODELS)
    assert "No robust datasets" in figure.layout.annotations[0].text
