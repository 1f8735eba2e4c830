"""The attack playground's figure: class probabilities before and after an attack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.figures.layout import Height

BARS_HEIGHT = Height(fixed=140, per_row=26)  # a row per class
CLEAN_COLOUR, ADVERSARIAL_COLOUR = "#1f77b4", "#d62728"


def probability_bars(classes: tuple[str, ...], clean: np.ndarray, adversarial: np.ndarray) -> go.Figure:
    """Class probabilities [K] before and after an attack, as grouped horizontal bars."""
    frame = pd.DataFrame({"class": list(classes) * 2, "probability": np.concatenate([clean, adversarial]),
                          "input": ["clean"] * len(classes) + ["adversarial"] * len(classes)})
    figure = px.bar(frame, x="probability", y="class", color="input", barmode="group", orientation="h",
                    range_x=(0, 1), color_discrete_sequence=[CLEAN_COLOUR, ADVERSARIAL_COLOUR],
                    category_orders={"class": list(classes)})
    figure.update_yaxes(automargin=True, title=None)
    return figure.update_layout(height=BARS_HEIGHT(len(classes)), margin={"t": 30, "r": 10},
                                legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None})
