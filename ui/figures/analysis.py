"""Figures of the analysis tables (``per_sample``, ``a_distance``, ``pca``, ``svcca``, ``norm_ratios``,
``boundary``) and of ``training_curves``: tidy DataFrames in, ``go.Figure`` out.

Like ``ui.figures.accuracy``, every builder is a pure function and empty input gives a figure that says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.analysis.losses import loss_kde
from ui.figures.colours import label_colours
from ui.figures.labels import ModelLabels, model_order
from ui.figures.layout import (
    ACCURACY_RANGE,
    CHAR_WIDTH,
    FACETS_PER_ROW,
    PANEL_ROW,
    PANEL_TOP,
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

LOSS_FLOOR = 1e-8  # losses below this are drawn at it on the log scale
KDE_POINTS = 200
BINS = 50  # histogram bins over the range of all shown losses, the same for every input set
LATENT_HEIGHT = Height(fixed=90, per_row=360)  # a row of FACETS_PER_ROW models' scatter plots
LATENT_GAP = 95  # pixels between rows of scatter plots (the axis title, a two-line panel title)
INPUT_MARKERS = ({"symbol": "circle", "size": 5, "opacity": 0.35},  # clean: faint dots under the rest
                 {"symbol": "x", "size": 6, "opacity": 0.85}, {"symbol": "diamond", "size": 6, "opacity": 0.85})
TRAINING_HEIGHT = Height(fixed=120, per_row=330)  # a row of FACETS_PER_ROW panels (models)


def input_label(attack: str, norm: str | None, eps: float) -> str:
    """"clean", or "pgd Linf eps=0.1" for an adversarial input set."""
    return "clean" if attack == "clean" else f"{attack} {norm} eps={eps:g}"


def _loss_values(losses: pd.Series, log_scale: bool) -> np.ndarray:
    values = losses.to_numpy(dtype=np.float64)
    return np.log10(np.maximum(values, LOSS_FLOOR)) if log_scale else values


def loss_distributions(per_sample: pd.DataFrame, a_distance: pd.DataFrame, log_scale: bool = True) -> go.Figure:
    """Histogram (probability density) and Gaussian KDE of the per-sample loss of one model, one colour
    per input set (clean first); each adversarial set's legend entry carries its A-distance to clean.

    ``per_sample`` holds the rows of one model; ``a_distance`` that model's rows of the table.
    """
    if per_sample.empty:
        return empty_figure("No per-sample losses to show (empty table or selection)")
    shift = {(row.sweep, row.eps): row.a_distance for row in a_distance.itertuples()}
    figure = go.Figure()
    groups = per_sample.groupby(["sweep", "eps"], sort=False)
    ordered = sorted(groups, key=lambda item: (item[0][0] != "clean", item[0][1]))
    colours = px.colors.qualitative.Plotly
    every = _loss_values(per_sample["loss"], log_scale)
    bins = {"start": float(every.min()), "end": float(every.max()), "size": max(float(np.ptp(every)), 1e-6) / BINS}
    for index, ((sweep, eps), rows) in enumerate(ordered):
        first = rows.iloc[0]
        name = input_label(first.attack, first.norm, eps)
        if (sweep, eps) in shift:
            name += f" (A-distance {shift[(sweep, eps)]:.2f})"
        colour = colours[index % len(colours)]
        values = _loss_values(rows["loss"], log_scale)
        figure.add_histogram(x=values, histnorm="probability density", name=name, opacity=0.45, xbins=bins,
                             marker_color=colour, legendgroup=name)
        _add_kde(figure, values, name, colour)
    title = "log10 cross-entropy loss" if log_scale else "cross-entropy loss"
    figure.update_layout(barmode="overlay", xaxis_title=title, yaxis_title="density", height=460,
                         legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                         margin={"t": 90, "l": 10, "r": 10})
    return figure


def _add_kde(figure: go.Figure, values: np.ndarray, name: str, colour: str) -> None:
    grid = np.linspace(values.min(), values.max(), KDE_POINTS)
    try:
        density = loss_kde(values, grid)
    except (ValueError, np.linalg.LinAlgError):  # fewer than two distinct losses: the histogram says it all
        return
    figure.add_scatter(x=grid, y=density, mode="lines", line={"color": colour, "width": 2}, name=f"{name} KDE",
                       legendgroup=name, showlegend=False)


def latent_scatter(pca: pd.DataFrame, models: pd.DataFrame, classes: tuple[str, ...]) -> go.Figure:
    """PCA scatter of penultimate features: one panel per model (``models`` order, FACETS_PER_ROW a row), its
    input sets overlaid on the plane of its clean features: clean as faint dots, adversarial as crosses, so an
    attack's pull across the class clusters shows in place. Colour = true class.

    One WebGL trace per model and input set (``meta`` = the input set) with per-point colours: 28 models draw
    28,000 points, which an SVG scatter takes seconds to lay out. The legends are keys without data (SVG
    traces): the classes' colours, and the input sets' markers.
    """
    if pca.empty:
        return empty_figure("No latent-space projections to show (empty table or selection)")
    frame = pca.assign(cls=pca.label.map(lambda label: classes[label] if 0 <= label < len(classes) else str(label)),
                       input_set=[input_label(i, n, e) for i, n, e in zip(pca.input, pca.norm, pca.eps, strict=True)],
                       correct=pca.pred == pca.label)
    palette = _class_colours(list(classes) + sorted(set(frame.cls) - set(classes)))
    labels = ModelLabels(models)
    order = model_order(pca.model_id, models)
    inputs = sorted(frame.input_set.unique(), key=lambda name: name != "clean")
    rows, columns = facet_rows(len(order)), min(len(order), FACETS_PER_ROW)
    titles = [labels(model_id).replace(" (", "<br>(", 1) for model_id in order]  # two lines: 3 long labels a row fit
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles,
                           horizontal_spacing=0.06, vertical_spacing=LATENT_GAP / LATENT_HEIGHT.per_row / rows)
    traces, places = [], []
    for panel, model_id in enumerate(order):
        points = frame[frame.model_id == model_id]
        where = {"row": panel // columns + 1, "col": panel % columns + 1}
        for index, input_set in enumerate(inputs):
            shown = points[points.input_set == input_set]
            marker = INPUT_MARKERS[index % len(INPUT_MARKERS)]
            traces.append(dict(  # numpy, not pandas: plotly converts pandas objects slowly
                type="scattergl", x=shown.pc1.to_numpy(), y=shown.pc2.to_numpy(), mode="markers", name=input_set,
                meta=input_set, showlegend=False, marker={**marker, "color": shown.cls.map(palette).to_numpy()},
                customdata=shown[["cls", "sample", "pred", "correct"]].to_numpy(),
                hovertemplate=f"{input_set}<br>class %{{customdata[0]}}, sample %{{customdata[1]}}"
                              "<br>predicted %{customdata[2]} (correct: %{customdata[3]})<extra></extra>"))
            places.append(where)
        figure.update_xaxes(range=_padded(points.pc1), **where)
        figure.update_yaxes(range=_padded(points.pc2), **where)
    add_panel_traces(figure, traces, places)
    for cls, colour in palette.items():  # the class key: colours, no data
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=cls, hoverinfo="skip",
                                      marker={"color": colour, "size": 9}))
    for index, input_set in enumerate(inputs):  # the input key: markers, no data
        marker = INPUT_MARKERS[index % len(INPUT_MARKERS)] | {"color": "grey"}
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=input_set, legend="legend2",
                                      hoverinfo="skip", marker=marker))
    figure.update_xaxes(title_text="pc1", title_standoff=8)  # clear of the tick labels
    figure.update_yaxes(title_text="pc2", title_standoff=8)
    return figure.update_layout(
        height=LATENT_HEIGHT(rows), margin={"t": 50, "b": 40},
        legend={"title": {"text": "class"}, "x": 1.01, "y": 1, "yanchor": "top", "itemclick": False,
                "itemdoubleclick": False},
        legend2={"title": {"text": "input"}, "x": 1.01, "y": 0.35, "yanchor": "top", "itemclick": False,
                 "itemdoubleclick": False})


def _class_colours(names: list[str]) -> dict[str, str]:
    """A colour per class name, in order: plotly's 10 qualitative colours, then Alphabet's 26."""
    colours = px.colors.qualitative.Plotly + px.colors.qualitative.Alphabet
    return {name: colours[index % len(colours)] for index, name in enumerate(names)}


def _padded(values: pd.Series) -> list[float]:
    low, high = float(values.min()), float(values.max())
    margin = 0.05 * (high - low) or 1.0
    return [low - margin, high + margin]


def _plain_facet_titles(figure: go.Figure, column: str) -> None:
    """Facet titles "value" instead of plotly's "column=value"."""
    figure.for_each_annotation(lambda note: note.update(text=note.text.replace(f"{column}=", "")))


def svcca_coefficients(svcca: pd.DataFrame) -> go.Figure:
    """Sorted canonical correlations (index 0 = largest) of one model, sweep and layer: one line per eps."""
    if svcca.empty:
        return empty_figure("No SVCCA coefficients to show (empty table or selection)")
    frame = svcca.assign(eps_label=svcca.eps.map("eps={:g}".format)).sort_values(["eps", "index"])
    figure = px.line(frame, x="index", y="coefficient", color="eps_label", range_y=(0, 1.02),
                     hover_data=["mean"], labels={"index": "coefficient rank", "coefficient": "canonical correlation",
                                                   "eps_label": "eps"})
    return figure.update_layout(height=400)


def svcca_means(svcca: pd.DataFrame, models: pd.DataFrame, sweeps: Sequence[str] = ()) -> go.Figure:
    """Mean SVCCA (clean vs adversarial) against eps, one line per model, one panel per sweep (``sweeps``
    first, in that order); the model legend below the panels."""
    if svcca.empty:
        return empty_figure("No SVCCA results to show (empty table or selection)")
    means = svcca.groupby(["model_id", "sweep", "eps"], as_index=False)["mean"].first()
    figure, names = _model_lines(means, models, {"mean": {}}, sweeps)
    figure.update_yaxes(range=(0, 1.02))
    figure.update_yaxes(title_text="mean SVCCA", col=1)
    return legends_below(figure, PANEL_ROW * facet_rows(means.sweep.nunique()), PANEL_TOP,
                         [Legend("legend", "model", names)])


BOUND_STYLES = {"c2": {"dash": "solid"}, "c1": {"dash": "dot"}}  # the line of each bound


def norm_ratio_chart(norm_ratios: pd.DataFrame, models: pd.DataFrame, sweeps: Sequence[str] = ()) -> go.Figure:
    """C1 (dotted) and C2 (solid) of ||d||_2 / ||d||_inf against eps, one panel per sweep (``sweeps`` first, in
    that order), one colour per model, with the bounds 1 and sqrt(d) as horizontal lines; the model legend and
    the C1/C2 key below."""
    found = norm_ratios.dropna(subset=["c1"])
    if found.empty:
        return empty_figure("No successful perturbations to measure (empty table or selection)")
    figure, names = _model_lines(found, models, BOUND_STYLES, sweeps)
    sqrt_d = float(found.sqrt_d.max())
    for value, text in ((1.0, "1"), (sqrt_d, f"sqrt(d) = {sqrt_d:.1f}")):
        figure.add_hline(y=value, line_dash="dash", line_color="grey", annotation_text=text)
    key = {f"{column.upper()}: the {meaning} ratio": {"line": BOUND_STYLES[column]}
           for column, meaning in (("c2", "largest"), ("c1", "smallest"))}
    add_key_entries(figure, key)
    figure.update_yaxes(title_text="||d||_2 / ||d||_inf", col=1)
    return legends_below(figure, PANEL_ROW * facet_rows(found.sweep.nunique()), PANEL_TOP,
                         [Legend("legend", "model", names), Legend("legend2", "bound", list(key))])


def _model_lines(frame: pd.DataFrame, models: pd.DataFrame, styles: Mapping[str, Mapping[str, str]],
                 order: Sequence[str]) -> tuple[go.Figure, list[str]]:
    """Columns ``styles`` of ``frame`` (columns model_id, sweep, eps) against eps: a panel per sweep (those of
    ``order`` first, the others in order of appearance), per model a line of its colour in each style (a dash;
    ``meta`` = the column), and the model legend's entries; with the entries' names, in ``models`` order."""
    labels, colours = ModelLabels(models), label_colours(models)
    present = set(frame.sweep)
    sweeps = list(dict.fromkeys([sweep for sweep in order if sweep in present] + list(frame.sweep)))
    figure = panel_grid(sweeps)
    traces, where = [], []
    for (model_id, sweep), rows in frame.sort_values("eps").groupby(["model_id", "sweep"], sort=False):
        name = labels(model_id)
        for column, line in styles.items():
            hover = f"{name}<br>{sweep}<br>{column} at eps %{{x:g}}: %{{y:.3f}}<extra></extra>"
            traces.append(dict(type="scatter", x=rows.eps.to_numpy(), y=rows[column].to_numpy(), mode="lines+markers",
                               name=name, legendgroup=name, meta=column, showlegend=False,
                               line={"color": colours.get(name), **line}, hovertemplate=hover))
            where.append(panel_position(sweeps.index(sweep), len(sweeps)))
    add_panel_traces(figure, traces, where)
    names = [labels(model_id) for model_id in model_order(frame.model_id, models)]
    add_model_entries(figure, names, colours)
    figure.update_xaxes(title_text="eps", title_standoff=4)
    return figure, names


BOUNDARY_PANEL = 300  # pixels of the histogram panel
BOX_ROW = 22  # pixels per model of the box-plot panel below it
BOUNDARY_GAP = 30  # pixels between the two panels
BOUNDARY_BINS = 80


def boundary_histogram(boundary: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """Distribution of DeepFool's L2 distance to the decision boundary per model (correctly classified
    samples only: the others are on the wrong side already): overlaid density histograms, and below them one
    box per model (a row each, so the panel grows with the models); the model legend below both."""
    reached = boundary[(boundary.steps > 0) & boundary.success]
    if reached.empty:
        return empty_figure("No boundary distances to show (empty table or selection)")
    labels, colours = ModelLabels(models), label_colours(models)
    order = model_order(reached.model_id, models)
    names = [labels(model_id) for model_id in order]
    boxes = BOX_ROW * len(order)
    panels = BOUNDARY_PANEL + BOUNDARY_GAP + boxes
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[BOUNDARY_PANEL, boxes],
                           vertical_spacing=BOUNDARY_GAP / panels)
    low, high = float(reached.distance_l2.min()), float(reached.distance_l2.max())
    bins = {"start": low, "end": high, "size": max(high - low, 1e-6) / BOUNDARY_BINS}
    for model_id, name in zip(order, names, strict=True):
        distances = reached.distance_l2[reached.model_id == model_id]
        style = {"name": name, "legendgroup": name, "showlegend": False, "marker_color": colours.get(name)}
        figure.add_histogram(x=distances, histnorm="probability density", xbins=bins, opacity=0.5, row=1, col=1,
                             **style)
        figure.add_box(x=distances, boxpoints="outliers", row=2, col=1, **style)
    add_model_entries(figure, names, colours)
    figure.update_layout(barmode="overlay")
    figure.update_yaxes(title_text="probability density", row=1, col=1)
    figure.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed", automargin=True,
                        row=2, col=1)
    figure.update_layout(margin={"l": round(CHAR_WIDTH * max(map(len, names)))})  # the box labels, unclipped
    figure.update_xaxes(title_text="L2 distance to the boundary", title_standoff=4, row=2, col=1)
    return legends_below(figure, panels, PANEL_TOP, [Legend("legend", "model", names)])


def training_curves(curves: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """Accuracy per epoch, one panel per model, one line per test set (clean, train, per-epoch attacks). Each
    panel has its own epoch axis, so a 3-epoch run is not squashed beside a 10-epoch one."""
    if curves.empty:
        return empty_figure("No training curves to show (empty table or selection)")
    labels = ModelLabels(models)
    frame = curves.assign(model=curves.model_id.map(labels))
    order = [labels(model_id) for model_id in dict.fromkeys(curves.model_id)]
    figure = px.line(frame.sort_values("epoch"), x="epoch", y="accuracy", color="test_set", facet_col="model",
                     facet_col_wrap=FACETS_PER_ROW, markers=True, range_y=ACCURACY_RANGE,
                     category_orders={"model": order}, labels={"test_set": "test set"})
    figure.update_xaxes(matches=None, showticklabels=True, dtick=max(1, math.ceil(curves.epoch.max() / 10)))
    _plain_facet_titles(figure, "model")
    return figure.update_layout(height=TRAINING_HEIGHT(facet_rows(len(order))))


def window_statistics(curves: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Park & So's table: max and median accuracy per model and test set over epochs first..last
    (inclusive); columns model_id, test_set, max, median, epochs."""
    window = curves[(curves.epoch >= first) & (curves.epoch <= last)]
    stats = window.groupby(["model_id", "test_set"], sort=False).accuracy.agg(["max", "median", "count"])
    return stats.rename(columns={"count": "epochs"}).reset_index()
