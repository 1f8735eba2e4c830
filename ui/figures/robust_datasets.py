"""The figure of the ``robust_datasets`` table: how close each re-drawn training image came to its target's
features, next to where its search started. Like the other builders: a tidy DataFrame in, ``go.Figure`` out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.figures.colours import label_colours
from ui.figures.labels import ModelLabels, model_order
from ui.figures.layout import (
    CHAR_WIDTH,
    PANEL_TOP,
    Legend,
    add_key_entries,
    add_model_entries,
    empty_figure,
    legends_below,
)

MODEL_ROW = 64  # pixels per model: its two boxes
START_COLOUR = "#9e9e9e"  # the starting points' boxes, the same for every model
KEY = {"search start": START_COLOUR, "re-drawn image (the model's colour)": "#555555"}
DISTANCE_FLOOR = 1e-4  # relative distances below this are drawn at it on the log axis
DISTANCE_TICKS = (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0)
DISTANCE_TITLE = "feature distance left, ||g(x_r) - g(x)|| / ||g(x)|| (log)"


def feature_distance_boxes(rows: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """Per robust_dataset model (a row each), a box of the relative feature distance its re-drawn images
    ended at (the model's colour) above a grey box of where their searches started."""
    if rows.empty:
        return empty_figure("No robust datasets to show (empty table or selection)")
    labels, colours = ModelLabels(models), label_colours(models)
    order = model_order(rows.model_id, models)
    names = [labels(model_id) for model_id in order]
    figure = go.Figure()
    for model_id, name in zip(order, names, strict=True):
        of_model = rows[rows.model_id == model_id]
        for column, colour, what in (("start_relative_distance", START_COLOUR, "start"),
                                     ("relative_distance", colours.get(name), "re-drawn")):
            figure.add_box(x=of_model[column].clip(lower=DISTANCE_FLOOR).to_numpy(),
                           y=[name] * len(of_model), name=name if what == "re-drawn" else f"{name} (start)",
                           legendgroup=name, showlegend=False, marker_color=colour, boxpoints="outliers",
                           offsetgroup=what, orientation="h")
    add_model_entries(figure, names, colours)
    add_key_entries(figure, {key: {"mode": "markers", "marker": {"color": colour, "symbol": "square", "size": 12}}
                             for key, colour in KEY.items()})
    figure.update_layout(boxmode="group")
    figure.update_xaxes(type="log", title_text=DISTANCE_TITLE, title_standoff=4, tickvals=DISTANCE_TICKS,
                        ticktext=[f"{tick:g}" for tick in DISTANCE_TICKS])
    figure.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed", automargin=True)
    figure.update_layout(margin={"l": round(CHAR_WIDTH * max(map(len, names)))})
    return legends_below(figure, MODEL_ROW * len(order), PANEL_TOP,
                         [Legend("legend", "model", names), Legend("legend2", "box", list(KEY))])
