"""The attack playground's figure and table: class probabilities before and after an attack, and a row per
model attacked."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.evaluation.playground import PlaygroundResult
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


def summary_table(results: Mapping[str, PlaygroundResult], label: Callable[[str], str], classes: tuple[str, ...],
                  norm: str) -> pd.DataFrame:
    """A row per model of ``results`` (model id -> result), in its order: the model's ``label``, its predictions
    and their probabilities on the original and the adversarial image, the verdict, ||x_adv - x|| in ``norm``
    and the attack's time in ms."""
    rows = [{"model": label(model_id),
             "clean prediction": classes[result.clean_pred],
             "adversarial prediction": classes[result.adv_pred],
             "verdict": str(result.verdict),
             f"perturbation ({norm})": result.perturbation,
             "clean confidence": float(result.clean_probs[result.clean_pred]),
             "adversarial confidence": float(result.adv_probs[result.adv_pred]),
             "ms": result.seconds * 1000}
            for model_id, result in results.items()]
    return pd.DataFrame(rows)
