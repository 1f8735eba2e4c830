"""What the figure builders share: the accuracy axis, the figure drawn instead of an empty one, and heights."""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

ACCURACY_RANGE = (0.0, 1.0)
FACETS_PER_ROW = 3  # panels per row of the figures with one panel per sweep or per model


@dataclass(frozen=True)
class Height:
    """A figure's height in pixels: ``fixed`` (title, axes, legend, margins) plus ``per_row`` for each row of
    heatmap cells, bars or facet panels, so that rows keep their size however many there are."""

    fixed: int
    per_row: int

    def __call__(self, rows: int) -> int:
        return self.fixed + self.per_row * rows


def facet_rows(panels: int) -> int:
    """Rows of a facet grid of ``panels`` panels wrapped at ``FACETS_PER_ROW``."""
    return math.ceil(panels / FACETS_PER_ROW)


def empty_figure(message: str) -> go.Figure:
    """A blank figure showing ``message`` in its middle (for empty selections or missing results)."""
    figure = go.Figure()
    figure.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font={"size": 16})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure
