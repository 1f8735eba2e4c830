"""What the figure builders share: the accuracy axis, the figure drawn instead of an empty one, heights, and
legends below the panels that the figure grows to hold."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

ACCURACY_RANGE = (0.0, 1.0)
FACETS_PER_ROW = 3  # panels per row of the figures with one panel per sweep or per model
PANEL_ROW = 330  # pixels per row of line-chart panels (``panel_grid``), the gap between rows included
PANEL_GAP = 90  # pixels between rows of panels: the eps axis title, the next panel's title
PANEL_TOP = 60  # pixels above the panels: the first row's titles, clear of the toolbar


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


LEGEND_ROW = 20  # pixels per row of entries of a legend below the panels
LEGEND_TITLE = 24  # its title, on a line of its own
LEGEND_GAP = 10  # pixels between two legends below the panels
AXIS_SPACE = 50  # below the panels, above the legends: the tick labels and the x axis title
PLANNED_WIDTH = 860  # pixels of plot width a legend's columns are planned for (a wide page's full-width chart)
CHAR_WIDTH = 7.0  # a generous mean width of a legend character (12 px font)
SAMPLE_WIDTH = 52  # an entry's line sample, the gap after it and the gap to the next entry


def legend_columns(names: Sequence[str], width: int = PLANNED_WIDTH) -> int:
    """Columns of a legend of ``names`` below a plot ``width`` pixels wide: as many as its longest entry
    allows, at least one, at most one per entry."""
    longest = max((len(name) for name in names), default=0) * CHAR_WIDTH + SAMPLE_WIDTH
    return max(1, min(len(names), int(width // longest)))


@dataclass(frozen=True)
class Legend:
    """A legend below the panels: its layout id ("legend", "legend2"), title and entries, in columns planned
    for a plot ``width`` pixels wide, so that its height is known before the browser draws it."""

    id: str
    title: str
    names: Sequence[str]
    width: int = PLANNED_WIDTH

    @property
    def columns(self) -> int:
        """Entries per row."""
        return legend_columns(self.names, self.width)

    @property
    def height(self) -> int:
        """Pixels: the title and every row of entries."""
        return LEGEND_TITLE + LEGEND_ROW * math.ceil(len(self.names) / self.columns)

    def layout(self, bottom: float, figure_height: int) -> dict:
        """The plotly layout of this legend with its lower edge ``bottom`` pixels above the figure's. The model
        legend ("legend") hides or shows a model's every trace on a click; the others are keys, not clickable.
        Anchored by its lower edge: anchored by its upper one, plotly pushes the bottom margin by the legend's
        height once more and fails to scale the axes of a narrow chart with a long legend."""
        clicks = {"groupclick": "togglegroup"} if self.id == "legend" else {"itemclick": False,
                                                                             "itemdoubleclick": False}
        return {"title": {"text": self.title, "side": "top"}, "orientation": "h", "traceorder": "normal",
                "x": 0, "xanchor": "left", "y": bottom / figure_height, "yanchor": "bottom", "yref": "container",
                "entrywidth": 1 / self.columns, "entrywidthmode": "fraction",
                "maxheight": 1, **clicks}  # up to the whole figure: a horizontal legend stops at half by default


def legends_below(figure: go.Figure, panels: int, top: int, legends: Sequence[Legend]) -> go.Figure:
    """Size ``figure`` to ``panels`` pixels of panels under a ``top`` margin, with ``legends`` (the first
    highest) in a bottom margin below the axis titles: the figure grows with the legends, never the legends
    into the panels, however many models they list."""
    heights = [legend.height for legend in legends]
    bottom = AXIS_SPACE + sum(heights) + LEGEND_GAP * len(legends)
    height = top + panels + bottom
    placed, below = {}, 0.0
    for legend, legend_height in zip(reversed(legends), reversed(heights), strict=True):
        placed[legend.id] = legend.layout(below, height)
        below += legend_height + LEGEND_GAP
    return figure.update_layout(height=height, margin={"t": top, "b": bottom}, **placed)


def panel_grid(titles: Sequence[str]) -> go.Figure:
    """Empty panels titled ``titles``, FACETS_PER_ROW a row, PANEL_GAP pixels between rows."""
    rows = facet_rows(len(titles))
    return make_subplots(rows=rows, cols=min(len(titles), FACETS_PER_ROW), subplot_titles=list(titles),
                         horizontal_spacing=0.07, vertical_spacing=PANEL_GAP / PANEL_ROW / rows)


def panel_position(index: int, panels: int) -> dict[str, int]:
    """The ``row`` and ``col`` of panel ``index`` of ``panels`` in a ``panel_grid``."""
    columns = min(panels, FACETS_PER_ROW)
    return {"row": index // columns + 1, "col": index % columns + 1}


def add_panel_traces(figure: go.Figure, traces: Sequence[Mapping], where: Sequence[Mapping[str, int]]) -> None:
    """Add ``traces`` (plotly trace properties with their ``type``) to the panels of ``figure`` at ``where`` (each
    a ``row`` and ``col``) in one call: plotly validates each trace once and lays out the figure once, not once
    per trace (a 28-model chart adds hundreds)."""
    if traces:
        figure.add_traces(list(traces), rows=[place["row"] for place in where], cols=[place["col"] for place in where])


def add_model_entries(figure: go.Figure, names: Sequence[str], colours: Mapping[str, str]) -> None:
    """The model legend: per name a plain line of its colour without data, in the name's legend group, so that
    a click hides every trace of that model (its traces are in the group, with ``showlegend=False``)."""
    for name in names:
        figure.add_scatter(x=[None], y=[None], mode="lines", name=name, legendgroup=name, hoverinfo="skip",
                           line={"color": colours.get(name), "width": 3})


def add_key_entries(figure: go.Figure, styles: Mapping[str, Mapping]) -> None:
    """A key of line styles in legend2: per name a grey trace without data drawn with ``styles[name]`` (the
    scatter properties ``mode``, ``line``, ``marker``)."""
    for name, style in styles.items():
        line = {"color": "grey", "width": 1.6} | dict(style.get("line", {}))
        figure.add_scatter(x=[None], y=[None], name=name, legend="legend2", hoverinfo="skip",
                           mode=style.get("mode", "lines"), line=line, marker=style.get("marker", {}))
