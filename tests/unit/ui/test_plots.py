"""Figure builders on small synthetic result tables."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from engine.results.schema import TABLES
from ui.figures.accuracy import accuracy_heatmap, accuracy_heatmaps, accuracy_matrix, robustness_curves
from ui.figures.labels import model_label


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows completed with nulls for the schema's other columns, in schema column order."""
    columns = TABLES[name].names
    return pd.DataFrame([{column: row.get(column) for column in columns} for row in rows], columns=columns)


@pytest.fixture
def models() -> pd.DataFrame:
    return _table("models", [
        {"model_id": "std", "training_mode": "standard", "train_eps": 0.0},
        {"model_id": "adv", "training_mode": "pgd", "train_norm": "Linf", "train_eps": 0.1},
    ])


def curve_traces(figure: go.Figure) -> list:
    """The robustness-curve traces of a figure: those with data (legend entries have none), attack in ``meta``."""
    return [trace for trace in figure.data if trace.meta is not None]


def _result(model_id: str, attack: str, norm: str, eps: float, accuracy: float, steps: int = 1,
            source: str | None = None) -> dict:
    return {"model_id": model_id, "attack": attack, "norm": norm, "eps": eps, "accuracy": accuracy,
            "steps": steps, "n": 100, "source_model_id": source}


@pytest.fixture
def results() -> pd.DataFrame:
    """Two models × (pgd Linf at two eps, fgsm Linf at one eps), rows deliberately unsorted."""
    return _table("robust_accuracy", [
        _result("std", "pgd", "Linf", 0.1, 0.05, steps=10),
        _result("adv", "fgsm", "Linf", 0.1, 0.70),
        _result("std", "fgsm", "Linf", 0.1, 0.20),
        _result("adv", "pgd", "Linf", 0.0, 0.80, steps=10),
        _result("std", "pgd", "Linf", 0.0, 0.90, steps=10),
        _result("adv", "pgd", "Linf", 0.1, 0.60, steps=10),
    ])


def test_model_label_names_the_training() -> None:
    assert model_label("adv", "pgd", "L2", 0.5) == "adv (pgd L2 0.5)"
    assert model_label("std", "standard", None, 0.0) == "std (standard)"
    assert model_label("pre", "pregenerated", float("nan"), 0.0, "fgsm+cw") == "pre (pregenerated fgsm+cw)"
    assert model_label("orphan") == "orphan"


def test_matrix_rows_follow_models_and_columns_attack_norm_eps(results, models) -> None:
    matrix = accuracy_matrix(results, models)
    assert list(matrix.index) == ["std (standard)", "adv (pgd Linf 0.1)"]
    assert list(matrix.columns) == ["fgsm Linf eps=0.1", "pgd Linf eps=0", "pgd Linf eps=0.1"]
    assert matrix.loc["std (standard)"].tolist() == [0.20, 0.90, 0.05]
    assert matrix.loc["adv (pgd Linf 0.1)"].tolist() == [0.70, 0.80, 0.60]


def test_heatmap_shows_the_matrix_on_a_fixed_scale(results, models) -> None:
    figure = accuracy_heatmap(results, models)
    heatmap = figure.data[0]
    assert isinstance(heatmap, go.Heatmap)
    assert [list(row) for row in heatmap.z] == [[0.20, 0.90, 0.05], [0.70, 0.80, 0.60]]
    assert list(heatmap.y) == ["std (standard)", "adv (pgd Linf 0.1)"]
    assert list(heatmap.x) == ["fgsm Linf eps=0.1", "pgd Linf eps=0", "pgd Linf eps=0.1"]
    assert heatmap.texttemplate == "%{z:.2f}"
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (0, 1)


def test_one_heatmap_per_norm(results, models) -> None:
    both = pd.concat([results, _table("robust_accuracy", [_result("adv", "pgd", "L2", 1.0, 0.4, steps=10)])])
    l2, linf = accuracy_heatmaps(both, models)
    assert (l2.layout.title.text, linf.layout.title.text) == ("norm: L2", "norm: Linf")
    assert list(l2.data[0].x) == ["pgd eps=1"]  # the title names the norm
    assert [list(row) for row in linf.data[0].z] == [[0.20, 0.90, 0.05], [0.70, 0.80, 0.60]]


def test_heatmap_and_curves_show_each_accuracys_interval_on_hover(results, models) -> None:
    heatmap = accuracy_heatmap(results, models)
    cells = {(row, column): text for row, line in zip(heatmap.data[0].y, heatmap.data[0].customdata, strict=True)
             for column, text in zip(heatmap.data[0].x, line, strict=True)}
    assert cells["std (standard)", "pgd Linf eps=0.1"] == "[0.022, 0.112]"  # 5 % of 100 images
    assert "95% CI %{customdata}" in heatmap.data[0].hovertemplate
    curve = next(trace for trace in curve_traces(robustness_curves(results, models)) if trace.meta == "pgd")
    assert [row[2] for row in curve.customdata][-1] == "[0.022, 0.112]"


def test_heatmap_rows_halve_past_ten_models(results) -> None:
    """28 models at full row height would make a 1,900 px heatmap per norm; past DENSE_ROWS rows are 30 px."""
    many = _table("models", [{"model_id": f"m{i}", "training_mode": "standard"} for i in range(28)])
    rows = _table("robust_accuracy", [_result(f"m{i}", "pgd", "Linf", 0.1, 0.5, steps=10) for i in range(28)])
    few = accuracy_heatmap(rows[rows.model_id.isin(["m0", "m1"])], many)
    assert accuracy_heatmap(rows, many).layout.height - few.layout.height == 28 * 30 - 2 * 60


def test_missing_combination_is_an_empty_cell(results, models) -> None:
    partial = pd.concat([results, _table("robust_accuracy", [_result("adv", "fgsm", "L2", 1.0, 0.3)])])
    matrix = accuracy_matrix(partial, models)
    assert list(matrix.columns)[:2] == ["fgsm L2 eps=1", "fgsm Linf eps=0.1"]
    assert matrix.loc["adv (pgd Linf 0.1)", "fgsm L2 eps=1"] == 0.3
    assert math.isnan(matrix.loc["std (standard)", "fgsm L2 eps=1"])


def test_models_missing_from_the_models_table_are_labelled_by_id(results, models) -> None:
    matrix = accuracy_matrix(results, models[models["model_id"] == "adv"])
    assert list(matrix.index) == ["adv (pgd Linf 0.1)", "std"]


def test_step_counts_and_transfer_sources_get_their_own_columns(models) -> None:
    results = _table("robust_accuracy", [
        _result("std", "pgd", "Linf", 0.1, 0.30, steps=10),
        _result("std", "pgd", "Linf", 0.1, 0.10, steps=50),
        _result("std", "pgd", "Linf", 0.1, 0.50, steps=10, source="adv"),
    ])
    row = accuracy_matrix(results, models).loc["std (standard)"]
    assert row.to_dict() == {"pgd 10 steps Linf eps=0.1": 0.30, "pgd 10 steps Linf eps=0.1 from adv": 0.50,
                             "pgd 50 steps Linf eps=0.1": 0.10}
    assert {(trace.name, trace.meta) for trace in curve_traces(robustness_curves(results, models))} == {
        ("std (standard)", "pgd 10 steps"), ("std (standard)", "pgd 10 steps from adv"),
        ("std (standard)", "pgd 50 steps")}


def test_indistinguishable_rows_merge_into_the_worst_case(models) -> None:
    results = _table("robust_accuracy", [_result("std", "pgd", "Linf", 0.1, 0.30, steps=10),
                                         _result("std", "pgd", "Linf", 0.1, 0.20, steps=10)])
    assert accuracy_matrix(results, models).to_numpy().tolist() == [[0.20]]


def test_curves_have_one_line_per_model_and_attack(results, models) -> None:
    figure = robustness_curves(results, models)
    lines = {(trace.name, trace.meta): (list(trace.x), list(trace.y)) for trace in curve_traces(figure)}
    assert len(lines) == 4
    assert lines[("std (standard)", "pgd")] == ([0.0, 0.1], [0.90, 0.05])
    assert lines[("adv (pgd Linf 0.1)", "fgsm")] == ([0.1], [0.70])


def test_curves_have_one_legend_entry_per_model_and_a_key_entry_per_attack(results, models) -> None:
    """Colour is the model and dash with marker the attack: the model legend lists each model once (a click hides
    all its lines), the attack key each attack once, in its own legend, with the style its lines have."""
    figure = robustness_curves(results, models)
    entries = [trace for trace in figure.data if trace.showlegend is not False and trace.meta is None]
    model_entries = [trace.name for trace in entries if trace.legend in (None, "legend")]
    key = {trace.name: (trace.line.dash, trace.marker.symbol) for trace in entries if trace.legend == "legend2"}
    assert sorted(model_entries) == ["adv (pgd Linf 0.1)", "std (standard)"]
    assert set(key) == {trace.meta for trace in curve_traces(figure)} and len(set(key.values())) == len(key)
    for trace in curve_traces(figure):
        assert (trace.line.dash, trace.marker.symbol) == key[trace.meta] and trace.legendgroup == trace.name
    assert figure.layout.legend.groupclick == "togglegroup"


def test_curves_have_one_facet_per_norm(results, models) -> None:
    both = pd.concat([results, _table("robust_accuracy", [_result("adv", "pgd", "L2", 1.0, 0.4, steps=10)])])
    figure = robustness_curves(both, models)
    facets = {annotation.text for annotation in figure.layout.annotations}
    assert facets == {"norm: L2", "norm: Linf"}
    assert len(curve_traces(figure)) == 5
    assert {trace.xaxis for trace in curve_traces(figure)} == {"x", "x2"}


def test_curves_wrap_their_norm_panels_and_grow_with_them(models) -> None:
    """Four norms: three panels in the first row, one in the second, and a taller figure than for one norm."""
    rows = [_result("std", "pgd", norm, eps, 0.5, steps=10) for norm, eps in
            (("L0", 10.0), ("L1", 10.0), ("L2", 1.0), ("Linf", 0.1))]
    four = robustness_curves(_table("robust_accuracy", rows), models)
    one = robustness_curves(_table("robust_accuracy", rows[-1:]), models)
    y_axes = {trace.yaxis.replace("y", "yaxis") for trace in curve_traces(four)}  # "y2" -> "yaxis2"
    assert len(y_axes) == 4 and len({four.layout[axis].domain for axis in y_axes}) == 2
    assert four.layout.height > one.layout.height


@pytest.mark.parametrize("builder", [accuracy_heatmap, lambda *tables: accuracy_heatmaps(*tables)[0],
                                     robustness_curves])
def test_empty_results_give_an_explanatory_figure(builder, models) -> None:
    figure = builder(_table("robust_accuracy", []), models)
    assert figure.data == ()
    assert "No robust-accuracy results" in figure.layout.annotations[0].text
