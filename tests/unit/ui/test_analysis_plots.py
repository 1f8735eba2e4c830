"""Figure builders of the analysis tables, and the comparison table, on small synthetic tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.reporting.compare import comparison
from engine.results.schema import TABLES
from ui.figures.analysis import (
    boundary_histogram,
    latent_scatter,
    loss_distributions,
    norm_ratio_chart,
    svcca_coefficients,
    svcca_means,
    training_curves,
    window_statistics,
)


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    columns = TABLES[name].names
    return pd.DataFrame([{column: row.get(column) for column in columns} for row in rows], columns=columns)


MODELS = _table("models", [{"model_id": "std", "training_mode": "standard", "clean_accuracy": 0.9},
                           {"model_id": "adv", "training_mode": "pgd", "train_norm": "L2", "train_eps": 1.0,
                            "clean_accuracy": 0.8}])


def _losses(model_id: str = "std") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"model_id": model_id, "attack": "clean", "sweep": "clean", "eps": 0.0, "loss": value}
            for value in rng.gamma(1.0, 0.1, 300)]
    rows += [{"model_id": model_id, "attack": "pgd", "sweep": "pgd-L2", "norm": "L2", "eps": 1.0, "loss": value}
             for value in rng.gamma(2.0, 1.0, 300)]
    return _table("per_sample", rows)


def test_loss_distributions_share_bins_and_name_the_a_distance() -> None:
    shift = _table("a_distance", [{"model_id": "std", "sweep": "pgd-L2", "eps": 1.0, "a_distance": 1.5}])
    figure = loss_distributions(_losses(), shift)
    histograms = [trace for trace in figure.data if trace.type == "histogram"]
    assert [trace.name for trace in histograms] == ["clean", "pgd L2 eps=1 (A-distance 1.50)"]
    assert histograms[0].xbins == histograms[1].xbins  # one bin width: the densities are comparable
    assert len([trace for trace in figure.data if trace.type == "scatter"]) == 2  # a KDE each
    assert figure.layout.xaxis.title.text.startswith("log10")


def test_a_constant_loss_gets_a_histogram_without_kde() -> None:
    constant = _table("per_sample", [{"model_id": "std", "attack": "clean", "sweep": "clean", "eps": 0.0,
                                      "loss": 0.5}] * 5)
    figure = loss_distributions(constant, _table("a_distance", []), log_scale=False)
    assert [trace.type for trace in figure.data] == ["histogram"]


def _pca_rows(model_ids: list[str]) -> pd.DataFrame:
    """Six points per model of ``model_ids``, clean and under PGD-L2 at eps 1."""
    return _table("pca", [{"model_id": model_id, "input": name, "sweep": name, "eps": 0.0 if name == "clean" else 1.0,
                           "norm": None if name == "clean" else "L2", "sample": i, "label": i % 3, "pred": i % 3,
                           "pc1": float(i), "pc2": float(-i)} for model_id in model_ids for name in ("pgd", "clean")
                          for i in range(6)])


def test_latent_scatter_overlays_the_input_sets_in_one_panel_per_model() -> None:
    figure = latent_scatter(_pca_rows(["adv", "std"]), MODELS, ("a", "b", "c"))
    assert [note.text for note in figure.layout.annotations] == ["std<br>(standard)", "adv<br>(pgd L2 1)"]
    data = [trace for trace in figure.data if trace.meta is not None]
    assert [(trace.meta, trace.xaxis) for trace in data] == [("clean", "x"), ("pgd L2 eps=1", "x"),
                                                            ("clean", "x2"), ("pgd L2 eps=1", "x2")]
    assert data[0].marker.symbol == "circle" and data[1].marker.symbol == "x"
    assert {trace.type for trace in data} == {"scattergl"}  # WebGL: a 28-model view draws 28,000 points
    assert len(set(data[0].marker.color)) == 3  # coloured by true class
    keys = [trace for trace in figure.data if trace.meta is None]
    assert [trace.name for trace in keys if trace.legend != "legend2"] == ["a", "b", "c"]
    assert [trace.name for trace in keys if trace.legend == "legend2"] == ["clean", "pgd L2 eps=1"]


def test_latent_scatter_wraps_28_models_three_a_row() -> None:
    ids = [f"m{i}" for i in range(28)]
    models = _table("models", [{"model_id": model_id, "training_mode": "standard"} for model_id in ids])
    figure = latent_scatter(_pca_rows(ids), models, ("a", "b", "c"))
    panels = {trace.xaxis for trace in figure.data if trace.meta is not None}
    assert len(panels) == 28 and figure.layout.height == 90 + 360 * 10


def test_svcca_and_norm_ratio_charts() -> None:
    svcca = _table("svcca", [{"model_id": "std", "sweep": "pgd-L2", "norm": "L2", "eps": eps, "layer": "fc1",
                              "index": index, "coefficient": 1 - 0.1 * index * eps, "mean": 1 - 0.2 * eps}
                             for eps in (0.5, 1.0) for index in range(4)])
    assert len(svcca_coefficients(svcca).data) == 2  # one line per eps
    means, entry = svcca_means(svcca, MODELS).data
    assert list(means.y) == [0.9, 0.8] and means.legendgroup == entry.legendgroup == entry.name == "std (standard)"
    ratios = _table("norm_ratios", [{"model_id": "std", "sweep": "pgd-L2", "eps": 1.0, "c1": 2.0, "c2": 9.0,
                                     "sqrt_d": 28.0}])
    figure = norm_ratio_chart(ratios, MODELS)
    lines = {trace.meta: (trace.name, trace.line.dash, list(trace.y)) for trace in figure.data if trace.meta}
    assert lines == {"c1": ("std (standard)", "dot", [2.0]), "c2": ("std (standard)", "solid", [9.0])}
    assert sorted(shape.y0 for shape in figure.layout.shapes) == [1.0, 28.0]


def _entries(figure, legend: str = "legend") -> list[str]:
    """The names listed in ``legend`` (the model legend by default) of a figure."""
    return [trace.name for trace in figure.data
            if trace.showlegend is not False and (trace.legend or "legend") == legend]


def test_many_models_get_one_entry_each_below_the_panels_and_a_taller_figure() -> None:
    """Issue 15: at 28 models the legend lists each model once, below the panels, and the figure grows to hold it
    (the panels keep their size)."""
    many = _table("models", [{"model_id": f"m{index:02d}", "training_mode": "pgd", "train_norm": "Linf",
                              "train_eps": 0.1} for index in range(28)])
    rows = [{"model_id": model_id, "sweep": "pgd-L2", "eps": eps, "c1": 2.0, "c2": 9.0, "sqrt_d": 28.0}
            for model_id in many.model_id for eps in (0.5, 1.0)]
    few, all_ = (norm_ratio_chart(_table("norm_ratios", rows[:count]), many) for count in (4, len(rows)))
    assert len(_entries(all_)) == 28
    assert _entries(all_, "legend2") == ["C2: the largest ratio", "C1: the smallest ratio"]
    assert all_.layout.legend.orientation == "h" and all_.layout.legend.yref == "container"
    assert all_.layout.height > few.layout.height
    assert all_.layout.height - all_.layout.margin.b == few.layout.height - few.layout.margin.b  # same panels
    boundary = _table("boundary", [{"model_id": model_id, "sample": sample, "distance_l2": 0.1 * sample, "steps": 3,
                                    "success": True} for model_id in many.model_id for sample in range(1, 4)])
    figure = boundary_histogram(boundary, many)
    assert len(_entries(figure)) == 28 and len([trace for trace in figure.data if trace.type == "box"]) == 28


def test_empty_inputs_give_explanatory_figures() -> None:
    for figure in (loss_distributions(_table("per_sample", []), _table("a_distance", [])),
                   boundary_histogram(_table("boundary", []), MODELS),
                   training_curves(_table("training_curves", []), MODELS)):
        assert figure.layout.annotations[0].text.startswith("No ")


def test_window_statistics_are_max_and_median_over_the_window() -> None:
    accuracies = enumerate([0.5, 0.7, 0.6, 0.9], start=1)
    curves = _table("training_curves", [{"model_id": "std", "epoch": epoch, "test_set": "clean", "accuracy": accuracy}
                                        for epoch, accuracy in accuracies])
    stats = window_statistics(curves, 2, 3).iloc[0]
    assert (stats["max"], stats["median"], stats["epochs"]) == (0.7, pytest.approx(0.65), 2)


def test_comparison_lines_up_every_figure_per_model() -> None:
    tables = {
        "models": MODELS,
        "robust_accuracy": _table("robust_accuracy", [{"model_id": m, "sweep": "pgd-L2", "eps": 1.0, "accuracy": a,
                                                       "n": 100} for m, a in (("std", 0.1), ("adv", 0.6))]),
        "a_distance": _table("a_distance", [{"model_id": "std", "sweep": "pgd-L2", "eps": 1.0, "a_distance": 1.2}]),
        "svcca": _table("svcca", [{"model_id": "adv", "sweep": "pgd-L2", "eps": 1.0, "layer": "penultimate",
                                   "index": 0, "mean": 0.97}]),
        "norm_ratios": _table("norm_ratios", []),
        "boundary": _table("boundary", [{"model_id": "adv", "distance_l2": 2.0, "steps": 3, "success": True}]),
    }
    table = comparison(tables, ["adv", "std"], "pgd-L2", 1.0).set_index("model_id")
    assert table.loc["adv", "robust accuracy"] == 0.6 and table.loc["std", "A-distance"] == 1.2
    assert table.loc["adv", "mean SVCCA (penultimate)"] == 0.97 and table.loc["adv", "boundary distance"] == 2.0
    assert np.isnan(table.loc["std", "boundary distance"]) and list(table.training) == ["pgd", "standard"]
    assert 0.49 < table.loc["adv", "95% CI low"] < 0.6 < table.loc["adv", "95% CI high"] < 0.7  # Wilson, n = 100
