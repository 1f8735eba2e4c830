"""Figures of the ``robust_accuracy`` table (see ``engine.results.schema``): heatmaps, curves and transfer.

Every builder is a pure function of its DataFrames. Rows are labelled by model
("model_id (training_mode[ norm eps][ attacks])") and by attack ("attack norm eps=..."); an attack that
appears with several step counts gets them in its name, and a transfer attack is marked "from
SOURCE". Rows that the table still cannot tell apart (the same attack with and without random
start, say) are merged into their worst case, the usual convention for robust accuracy. Empty
input gives a figure that says so instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.evaluation.intervals import wilson_interval
from ui.figures.colours import label_colours
from ui.figures.labels import ModelLabels, model_order, number_label
from ui.figures.layout import (
    ACCURACY_RANGE,
    PANEL_ROW,
    PANEL_TOP,
    PLANNED_WIDTH,
    Height,
    Legend,
    add_key_entries,
    add_model_entries,
    add_panel_traces,
    empty_figure,
    facet_rows,
    legends_below,
    panel_grid,
    panel_position,
)

HEATMAP_HEIGHT = Height(fixed=220, per_row=60)  # a row per model
DENSE_ROWS = 10  # models past which heatmap rows shrink
DENSE_HEATMAP_HEIGHT = Height(fixed=220, per_row=30)
DASHES = ("solid", "dot", "dash", "longdash", "dashdot", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down", "pentagon")
TRANSFER_HEIGHT = Height(fixed=200, per_row=50)  # a row per attacked model


def attack_names(robust_accuracy: pd.DataFrame) -> pd.Series:
    """Per row, the attack's name, with " N steps" when the attack and norm occur with several step
    counts in the table."""
    names = robust_accuracy["attack"].astype(str)
    step_counts = robust_accuracy.groupby(["attack", "norm"])["steps"].transform("nunique")
    return names.where(step_counts <= 1, names + " " + robust_accuracy["steps"].astype(str) + " steps")


def origins(robust_accuracy: pd.DataFrame) -> pd.Series:
    """Per row, "" for a white-box attack, "from SOURCE" for a transfer attack crafted on SOURCE."""
    source = robust_accuracy["source_model_id"]
    return ("from " + source.astype(str)).where(source.notna(), "")


def _labelled(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """One row per model, attack name, origin, norm and eps (worst case of indistinguishable rows),
    with label columns ``model`` and ``attack_label`` and the accuracy's 95 % Wilson interval as text
    (``interval``) added, sorted for display."""
    labels = ModelLabels(models)
    order = {model_id: index for index, model_id in enumerate(labels.by_id)}
    frame = robust_accuracy.assign(
        model=robust_accuracy["model_id"].map(labels),
        model_order=robust_accuracy["model_id"].map(lambda model_id: order.get(model_id, len(order))),
        attack_name=attack_names(robust_accuracy), origin=origins(robust_accuracy))
    keys = ["model_order", "model_id", "model", "attack_name", "origin", "norm", "eps"]
    frame = frame.groupby(keys, as_index=False, sort=True).agg(
        accuracy=("accuracy", "min"), steps=("steps", "first"), n=("n", "first"))
    frame["attack_label"] = (frame["attack_name"] + " " + frame["origin"]).str.strip()
    low, high = wilson_interval(frame["accuracy"], frame["n"])
    frame["interval"] = [f"[{a:.3f}, {b:.3f}]" if a == a else "unknown" for a, b in zip(low, high, strict=True)]
    return frame


def accuracy_matrix(robust_accuracy: pd.DataFrame, models: pd.DataFrame, with_norm: bool = True) -> pd.DataFrame:
    """Accuracy as a models × attacks matrix.

    Rows are model labels in the order of ``models`` (models absent from it last, by id); columns
    are "attack norm eps=E[ from SOURCE]" ("attack eps=E[ from SOURCE]" without ``with_norm``, for a
    matrix of one norm) ordered by attack, origin, norm, then eps. A missing combination is NaN.
    """
    return _matrix(_labelled(robust_accuracy, models), with_norm, "accuracy")


def _matrix(frame: pd.DataFrame, with_norm: bool, values: str) -> pd.DataFrame:
    """Column ``values`` of a ``_labelled`` frame as the models × attacks matrix of ``accuracy_matrix``."""
    norm = frame["norm"] + " " if with_norm else ""
    frame = frame.assign(column=(frame["attack_name"] + " " + norm + "eps=" + frame["eps"].map(number_label)
                                 + " " + frame["origin"]).str.strip())
    rows = list(dict.fromkeys(frame["model"]))
    by_attack = frame.sort_values(["attack_name", "origin", "norm", "eps"], kind="stable")
    matrix = frame.pivot(index="model", columns="column", values=values)
    return matrix.reindex(index=rows, columns=list(dict.fromkeys(by_attack["column"])))


def accuracy_heatmap(robust_accuracy: pd.DataFrame, models: pd.DataFrame, with_norm: bool = True) -> go.Figure:
    """Heatmap of robust accuracy: one row per model, one column per attack, norm (``with_norm``) and eps.

    ``robust_accuracy`` and ``models`` follow the ``robust_accuracy`` and ``models`` schemas.
    Cells show the accuracy with two decimals on a fixed 0-1 colour scale; rows are half as tall past
    DENSE_ROWS models, so a 28-model study stays on a screen or two.
    """
    if robust_accuracy.empty:
        return empty_figure("No robust-accuracy results to show (empty table or selection)")
    frame = _labelled(robust_accuracy, models)
    matrix = _matrix(frame, with_norm, "accuracy")
    figure = px.imshow(matrix, text_auto=".2f", zmin=ACCURACY_RANGE[0], zmax=ACCURACY_RANGE[1],
                       aspect="auto", color_continuous_scale="Viridis",
                       labels={"x": "attack", "y": "model", "color": "accuracy"})
    intervals = _matrix(frame, with_norm, "interval").fillna("")
    figure.update_traces(customdata=intervals.to_numpy(),
                         hovertemplate="%{y}<br>%{x}<br>accuracy %{z:.3f}, 95% CI %{customdata}<extra></extra>")
    figure.update_xaxes(side="bottom", tickangle=-45, title=None, automargin=True, showgrid=False)
    figure.update_yaxes(title=None, automargin=True, showgrid=False)
    height = HEATMAP_HEIGHT if len(matrix.index) <= DENSE_ROWS else DENSE_HEATMAP_HEIGHT
    figure.update_layout(height=height(len(matrix.index)), margin={"t": 30, "l": 10})
    return figure


def accuracy_heatmaps(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> list[go.Figure]:
    """One ``accuracy_heatmap`` per norm (titled "norm: N"), in norm order; a single explanatory
    figure when there are no results.

    A full study has dozens of attack × eps columns; splitting by norm keeps cells wide enough to
    read, and eps radii of different norms are not comparable anyway.
    """
    if robust_accuracy.empty:
        return [accuracy_heatmap(robust_accuracy, models)]
    return [accuracy_heatmap(results, models, with_norm=False).update_layout(title=f"norm: {norm}", margin={"t": 50})
            for norm, results in robust_accuracy.groupby("norm", sort=True)]


def attack_styles(attack_labels: Iterable[str]) -> dict[str, tuple[str, str]]:
    """A (dash, marker symbol) per attack label, in the given order; dash and symbol cycle at different
    lengths, so the first len(DASHES) * len(SYMBOLS) attacks all differ."""
    return {label: (DASHES[index % len(DASHES)], SYMBOLS[index % len(SYMBOLS)])
            for index, label in enumerate(dict.fromkeys(attack_labels))}


def robustness_curves(robust_accuracy: pd.DataFrame, models: pd.DataFrame, width: int = PLANNED_WIDTH) -> go.Figure:
    """Robust accuracy against eps: one line per model and attack, one panel per norm (FACETS_PER_ROW a row).

    Colour tells the model (``label_colours``: the same on every page), dash and marker the attack. Two
    legends below the panels, in columns planned for a chart ``width`` pixels wide: the models (a click hides
    every line of that model) and a key of the attacks; their entries are traces without data. Each curve
    trace is named after its model, is in its model's legend group and carries its attack label in ``meta``.
    Each panel has its own eps axis: radii of different norms are not comparable.
    """
    if robust_accuracy.empty:
        return empty_figure("No robust-accuracy results to show (empty table or selection)")
    frame = _labelled(robust_accuracy, models)
    norms = sorted(frame["norm"].unique())
    figure = panel_grid([f"norm: {norm}" for norm in norms])
    colours = label_colours(models)
    styles = attack_styles(frame.sort_values(["origin", "attack_name"])["attack_label"])
    traces, where = [], []
    for (_, model, attack, norm), curve in frame.groupby(["model_order", "model", "attack_label", "norm"], sort=True):
        dash, symbol = styles[attack]
        traces.append(dict(  # numpy, not pandas: plotly converts pandas objects slowly
            type="scatter", x=curve["eps"].to_numpy(), y=curve["accuracy"].to_numpy(), mode="lines+markers", name=model,
            legendgroup=model, meta=attack, showlegend=False,
            line={"color": colours.get(model), "dash": dash, "width": 1.6},
            marker={"symbol": symbol, "size": 6}, customdata=curve[["steps", "n", "interval"]].to_numpy(),
            hovertemplate=f"{model}<br>{attack}<br>eps %{{x:g}}: accuracy %{{y:.3f}}, 95% CI %{{customdata[2]}}"
                          "<br>%{customdata[0]} steps, %{customdata[1]} images<extra></extra>"))
        where.append(panel_position(norms.index(norm), len(norms)))
    add_panel_traces(figure, traces, where)
    names = list(dict.fromkeys(frame.sort_values("model_order")["model"]))
    add_model_entries(figure, names, colours)
    add_key_entries(figure, {attack: {"mode": "lines+markers", "line": {"dash": dash},
                                      "marker": {"symbol": symbol, "size": 6}}
                             for attack, (dash, symbol) in styles.items()})
    figure.update_xaxes(title_text="eps", title_standoff=4)
    figure.update_yaxes(range=[ACCURACY_RANGE[0] - 0.02, ACCURACY_RANGE[1] + 0.02])
    figure.update_yaxes(title_text="robust accuracy", col=1)
    return legends_below(figure, PANEL_ROW * facet_rows(len(norms)), PANEL_TOP,
                         [Legend("legend", "model", names, width), Legend("legend2", "attack", list(styles), width)])


def transfer_matrix(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Park & So's trained-with x attacked-with view of one attack, norm and eps: rows are the attacked
    models (in ``models`` order), columns "white-box" and "from SOURCE" for each source model."""
    labels = ModelLabels(models)
    frame = robust_accuracy.assign(origin=origins(robust_accuracy).replace("", "white-box"))
    matrix = frame.groupby(["model_id", "origin"]).accuracy.min().unstack("origin")
    rows = model_order(matrix.index, models)
    columns = ["white-box"] * ("white-box" in matrix.columns) + sorted(set(matrix.columns) - {"white-box"})
    matrix = matrix.reindex(index=rows, columns=columns)
    matrix.index = [labels(model_id) for model_id in rows]
    return matrix


def transfer_heatmap(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """``transfer_matrix`` as a heatmap with values (rows of one attack, norm and eps)."""
    if robust_accuracy.empty:
        return empty_figure("No results for this attack, norm and eps")
    matrix = transfer_matrix(robust_accuracy, models)
    figure = px.imshow(matrix, text_auto=".3f", zmin=ACCURACY_RANGE[0], zmax=ACCURACY_RANGE[1], aspect="auto",
                       color_continuous_scale="Viridis", labels={"x": "attack crafted on", "y": "model attacked",
                                                                 "color": "accuracy"})
    figure.update_xaxes(side="bottom", automargin=True, showgrid=False)
    figure.update_yaxes(automargin=True, showgrid=False, title=None)
    return figure.update_layout(height=TRANSFER_HEIGHT(len(matrix.index)), margin={"t": 30, "l": 10})
